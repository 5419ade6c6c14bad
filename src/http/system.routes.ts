/** Liveness, readiness and the OpenAPI document: public on purpose (no account needed). */
import { sql } from 'kysely'
import { z } from 'zod'
import type { Database } from '../db/database.js'
import { AppError } from '../errors/app-error.js'
import type { App } from './route-kit.js'

export function registerSystemRoutes(app: App, deps: { database: Database }): void {
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

  app.get('/openapi.json', { schema: { hide: true }, handler: () => app.swagger() })
}
