/** `/api/v1/audit` (admin): the audit log, page by page or exported whole (docs/audit.md). */
import { Readable } from 'node:stream'
import { BEARER, sendStream, type App, type Guards } from '../http/route-kit.js'
import type { AuditQueries } from './audit-queries.js'
import { AuditEntrySchema, AuditFiltersSchema, AuditListQuerySchema, AuditPageSchema, type AuditEntry } from './audit.schema.js'

/** One JSON entry per line; each page of the export is read only when the client takes the lines before it. */
function ndjsonStream(entries: AsyncIterable<AuditEntry>): Readable {
  return Readable.from(
    (async function* () {
      for await (const entry of entries) yield `${JSON.stringify(entry)}\n`
    })(),
  )
}

export function registerAuditRoutes(app: App, deps: { audit: AuditQueries; guards: Guards }): void {
  const { audit, guards } = deps
  const common = { tags: ['audit'], security: BEARER }

  app.get('/api/v1/audit', {
    onRequest: guards.admin,
    schema: {
      ...common,
      summary: 'Admin: the audit log, newest first; filter by actor, action (exact or `area.*`), target and time; follow `next_cursor`.',
      querystring: AuditListQuerySchema,
      response: { 200: AuditPageSchema },
    },
    handler: (request) => {
      const { cursor, limit, ...filters } = request.query
      return audit.page(filters, cursor, limit)
    },
  })

  app.get('/api/v1/audit/export', {
    onRequest: guards.admin,
    schema: {
      ...common,
      summary: 'Admin: every entry matching the filters, oldest first, as NDJSON (one entry per line), streamed.',
      querystring: AuditFiltersSchema,
      response: {
        200: {
          description: 'One AuditEntry per line (application/x-ndjson), oldest first.',
          content: { 'application/x-ndjson': { schema: AuditEntrySchema } },
        },
      },
    },
    handler: async (request, reply) => {
      const stamp = new Date().toISOString().replace(/[:.]/g, '-')
      reply.header('content-disposition', `attachment; filename="audit-${stamp}.ndjson"`).header('cache-control', 'no-store')
      return sendStream(reply, ndjsonStream(audit.export(request.query)), 'application/x-ndjson; charset=utf-8')
    },
  })
}
