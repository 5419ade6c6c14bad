/** The audit log's API (issue #12, docs/audit.md): filters, one entry, a page. */
import { z } from 'zod'
import { idText, text } from '../schema/common.js'

/**
 * A cursor is the id of the last entry of the previous page (ids sort by time: src/audit/audit-log.ts),
 * so a page never skips or repeats an entry written while the pages are being read.
 */
export const AUDIT_ID_PATTERN = /^\d{13}-\d{4}-[0-9a-f]{8}$/

/** Epoch milliseconds as a query string value. */
const epochMsQuery = (what: string) =>
  z.coerce
    .number({ error: 'must be an integer (epoch milliseconds)' })
    .int('must be an integer (epoch milliseconds)')
    .min(0, 'must be at least 0')
    .max(9_999_999_999_999, 'must be at most 9999999999999')
    .optional()
    .describe(what)

/** What both the pages and the export filter on. */
export const AuditFiltersSchema = z.object({
  actor_id: idText(256).optional().describe('Only entries of this account.'),
  action: text()
    .regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?$/, 'must be an action name (model.update) or a prefix ending in .* (model.*)')
    .max(100, 'must be at most 100 characters')
    .optional()
    .describe('An action name (exact), or a prefix with `.*`: `model.*` is every model.… action.'),
  target_id: idText(256).optional().describe('Only entries about this target (model, user, group, connection, api key id).'),
  since: epochMsQuery('Entries at or after this time, epoch milliseconds.'),
  until: epochMsQuery('Entries before this time (exclusive), epoch milliseconds.'),
})
export type AuditFilters = z.infer<typeof AuditFiltersSchema>

export const AuditListQuerySchema = AuditFiltersSchema.extend({
  cursor: text()
    .regex(AUDIT_ID_PATTERN, 'must be the next_cursor of a previous page')
    .optional()
    .describe('The `next_cursor` of the previous page; absent: the newest entries.'),
  limit: z.coerce
    .number({ error: 'must be an integer' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(200, 'must be at most 200')
    .default(50)
    .describe('Page size, 1..200.'),
})
export type AuditListQuery = z.infer<typeof AuditListQuerySchema>

export const AuditEntrySchema = z
  .object({
    id: z.string().describe('Sorts by time; the cursor of the pages.'),
    at: z.number().int().describe('When, epoch milliseconds.'),
    actor_id: z.string().nullable().describe('Who did it; null for anonymous events (a failed sign-in) and work without a request.'),
    actor: z
      .object({ id: z.string(), name: z.string() })
      .nullable()
      .describe('The actor as the account is now; null when anonymous or the account is deleted.'),
    action: z.string().describe('`<area>.<event>`, e.g. `model.update`, `auth.signin_failed` (docs/audit.md lists them).'),
    target_type: z.string().nullable().describe('model, user, group, connection, api_key, permissions, config or session.'),
    target_id: z.string().nullable(),
    ip: z.string().nullable().describe('The client address of the request (TRUST_PROXY applies).'),
    request_id: z.string().nullable().describe('The request id: the reqId of its log lines.'),
    before: z.unknown().describe('What the change replaced (JSON, never a secret), or null.'),
    after: z.unknown().describe('What the change made (JSON, never a secret), or null.'),
  })
  .meta({ id: 'AuditEntry' })
export type AuditEntry = z.infer<typeof AuditEntrySchema>

export const AuditPageSchema = z
  .object({
    items: z.array(AuditEntrySchema).describe('Newest first.'),
    next_cursor: z.string().nullable().describe('Pass as `cursor` for the next (older) page; null on the last page.'),
  })
  .meta({ id: 'AuditPage' })
export type AuditPage = z.infer<typeof AuditPageSchema>
