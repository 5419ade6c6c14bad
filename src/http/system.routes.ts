/** Liveness, readiness and the OpenAPI document: public on purpose (no account needed). */
import { sql } from 'kysely'
import { z } from 'zod'
import type { Database } from '../db/database.js'
import { AppError } from '../errors/app-error.js'
import { toJsonText, type JsonText } from '../schema/json-text.js'
import { sendJsonText, type App } from './route-kit.js'

export function registerSystemRoutes(app: App, deps: { database: Database; benchRoutes: boolean }): void {
  const tags = ['system']

  app.get('/health', {
    schema: { tags, summary: 'The process is alive.', response: { 200: z.object({ status: z.literal(true) }) } },
    handler: () => ({ status: true as const }),
  })

  app.get('/ready', {
    schema: {
      tags,
      summary: 'The database answers (503 SERVICE_UNAVAILABLE otherwise).',
      response: { 200: z.object({ status: z.literal(true), database: z.enum(['sqlite', 'postgres']) }) },
    },
    handler: async (request) => {
      try {
        await sql`select 1`.execute(deps.database.db)
      } catch (error) {
        request.log.warn({ err: error }, 'readiness check failed')
        throw new AppError('SERVICE_UNAVAILABLE', 'The database is not reachable.')
      }
      return { status: true as const, database: deps.database.dialect }
    },
  })

  app.get('/openapi.json', {
    schema: { hide: true, response: { 200: z.looseObject({ openapi: z.string(), paths: z.record(z.string(), z.unknown()) }) } },
    handler: () => app.swagger() as { openapi: string; paths: Record<string, unknown> },
  })

  if (deps.benchRoutes) {
    // The benchmark's ceiling: the cheapest answer this server can give of a given size (an in-memory
    // JSON body, no database, no auth), measured in the same run as the real routes.
    const CeilingSchema = z.object({ items: z.array(z.never()), total: z.number(), pad: z.string() })
    const bodies = new Map<number, JsonText<z.infer<typeof CeilingSchema>>>()
    app.get('/bench/ceiling', {
      schema: {
        hide: true,
        querystring: z.object({ bytes: z.coerce.number().int().min(16).max(10_000_000) }),
        response: { 200: CeilingSchema },
      },
      handler: (request, reply) => {
        const { bytes } = request.query
        let body = bodies.get(bytes)
        if (body === undefined) {
          body = toJsonText({ items: [], total: 0, pad: 'x'.repeat(Math.max(0, bytes - 33)) })
          bodies.set(bytes, body)
        }
        sendJsonText(reply, body)
      },
    })
  }
}
