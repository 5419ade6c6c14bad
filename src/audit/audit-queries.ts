/**
 * Reading the audit log (admin pages and export). Every filter narrows on an indexed column, and pages
 * walk the time-sortable id (the primary key), so the log's size does not matter to a page: the newest
 * first for the pages (`id < cursor`), the oldest first for the export (`id > last`, 500 at a time).
 */
import { sql } from 'kysely'
import type { Database } from '../db/database.js'
import type { AuditEntry, AuditFilters, AuditPage } from './audit.schema.js'

/** Rows per query of the export: enough to keep round trips few, little enough to hold in memory. */
export const EXPORT_PAGE_SIZE = 500

/** The id prefix of a time: ids start with 13 digits of epoch milliseconds, never less than `at` (audit-log.ts). */
const idAt = (ms: number) => String(ms).padStart(13, '0')

export class AuditQueries {
  constructor(readonly database: Database) {}

  /** One page, newest first; `next_cursor` is null on the last page. */
  async page(filters: AuditFilters, cursor: string | undefined, limit: number): Promise<AuditPage> {
    let query = this.select(filters, await this.seekPrefix(filters))
    if (cursor !== undefined) query = query.where('audit_log.id', '<', cursor)
    const rows = await query
      .orderBy('audit_log.id', 'desc')
      .limit(limit + 1)
      .execute()
    const items = rows.slice(0, limit).map(toEntry)
    return { items, next_cursor: rows.length > limit ? (items[items.length - 1]?.id ?? null) : null }
  }

  /**
   * Every matching entry, oldest first, read `pageSize` at a time: the export streams as it reads and
   * never holds more than one page. Entries written while it runs are included if they sort after the
   * last page read (they are newer), so an export started at a time ends with the log of that moment or later.
   */
  async *export(filters: AuditFilters, pageSize = EXPORT_PAGE_SIZE): AsyncGenerator<AuditEntry> {
    let after: string | undefined
    const seek = await this.seekPrefix(filters)
    for (;;) {
      let query = this.select(filters, seek)
      if (after !== undefined) query = query.where('audit_log.id', '>', after)
      const rows = await query.orderBy('audit_log.id', 'asc').limit(pageSize).execute()
      for (const row of rows) yield toEntry(row)
      if (rows.length < pageSize) return
      after = rows[rows.length - 1]?.id
    }
  }

  /**
   * Whether an action prefix filter (`auth.*`) should seek the (action, id) index rather than walk the
   * log newest first. SQLite compares text byte by byte, so the prefix is a range of that index ('/'
   * follows '.'), but the range's rows then need sorting by id: right for a rare prefix (a seek instead
   * of a scan), wrong for a common one (`model.*`: sorting most of the log for one page). A count that
   * stops at SEEK_MAX_MATCHES decides, as the model listing's plans are chosen. PostgreSQL's text order
   * depends on the database's collation, so there LIKE alone decides.
   */
  private async seekPrefix(filters: AuditFilters): Promise<boolean> {
    if (this.database.dialect !== 'sqlite' || !filters.action?.endsWith('.*')) return false
    const [low, high] = prefixRange(filters.action)
    const row = await this.database.db
      .selectFrom((eb) =>
        eb
          .selectFrom('audit_log')
          .select('id')
          .where('action', '>=', low)
          .where('action', '<', high)
          .limit(SEEK_MAX_MATCHES + 1)
          .as('matching'),
      )
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirst()
    return Number(row?.count ?? 0) <= SEEK_MAX_MATCHES
  }

  private select(filters: AuditFilters, seek: boolean) {
    let query = this.database.db
      .selectFrom('audit_log')
      .leftJoin('users', 'users.id', 'audit_log.actor_id')
      .select([
        'audit_log.id',
        'audit_log.at',
        'audit_log.actor_id',
        'audit_log.action',
        'audit_log.target_type',
        'audit_log.target_id',
        'audit_log.ip',
        'audit_log.request_id',
        'audit_log.before',
        'audit_log.after',
        'users.name as actor_name',
      ])
    if (filters.actor_id !== undefined) query = query.where('audit_log.actor_id', '=', filters.actor_id)
    if (filters.target_id !== undefined) query = query.where('audit_log.target_id', '=', filters.target_id)
    if (filters.action !== undefined) {
      if (filters.action.endsWith('.*')) {
        // The schema allows only [a-z0-9_.] before `.*`; `_` is a LIKE wildcard, so it is escaped.
        const prefix = filters.action.slice(0, -1)
        const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
        query = query.where(sql<boolean>`${sql.ref('audit_log.action')} like ${pattern} escape '\\'`)
        if (seek) {
          const [low, high] = prefixRange(filters.action)
          query = query.where('audit_log.action', '>=', low).where('audit_log.action', '<', high)
        }
      } else {
        query = query.where('audit_log.action', '=', filters.action)
      }
    }
    // An id's first 13 characters are never less than its `at` (audit-log.ts), so `since` also bounds
    // the id: the primary key's order serves it.
    if (filters.since !== undefined) query = query.where('audit_log.at', '>=', filters.since).where('audit_log.id', '>=', idAt(filters.since))
    if (filters.until !== undefined) query = query.where('audit_log.at', '<', filters.until)
    return query
  }
}

interface AuditRowWithActor {
  id: string
  at: number | string
  actor_id: string | null
  action: string
  target_type: string | null
  target_id: string | null
  ip: string | null
  request_id: string | null
  before: string | null
  after: string | null
  actor_name: string | null
}

function toEntry(row: AuditRowWithActor): AuditEntry {
  return {
    id: row.id,
    at: Number(row.at),
    actor_id: row.actor_id,
    actor: row.actor_id !== null && row.actor_name !== null ? { id: row.actor_id, name: row.actor_name } : null,
    action: row.action,
    target_type: row.target_type,
    target_id: row.target_id,
    ip: row.ip,
    request_id: row.request_id,
    before: parseJson(row.before),
    after: parseJson(row.after),
  }
}

const parseJson = (text: string | null): unknown => (text === null ? null : (JSON.parse(text) as unknown))

/** Up to this many entries under a prefix, a page seeks them through the (action, id) index (see seekPrefix). */
const SEEK_MAX_MATCHES = 2000

/** The index range of an action prefix filter `area.*`: [`area.`, `area/`). */
function prefixRange(filter: string): [string, string] {
  const prefix = filter.slice(0, -1)
  return [prefix, `${prefix.slice(0, -1)}/`]
}
