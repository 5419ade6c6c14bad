/**
 * The audit log: an append-only record of security-relevant events (issue #12). Writers call `record`
 * with the executor of the transaction that makes the change, so an entry exists exactly when the
 * change does; events without a transaction (a failed sign-in) pass the database.
 *
 * Entries never hold secrets: `before` and `after` go through `redact` (keys named like passwords,
 * tokens and keys are dropped, credentials in URLs masked).
 */
import { randomBytes } from 'node:crypto'
import type { QueryCreator } from 'kysely'
import type { DB } from '../db/types.js'
import type { Executor } from '../db/executor.js'
import { insertMany } from '../db/insert-many.js'
import { PreparedQuery } from '../db/prepared.js'
import type { RequestOrigin } from '../access/actor.js'
import { redact } from './redact.js'

/** Who an entry names as actor, and the request it acted through (an access Actor is one). */
export interface AuditActor {
  id: string
  origin?: RequestOrigin | undefined
}

/** Target kinds of audit entries. */
export type AuditTargetType = 'model' | 'user' | 'group' | 'connection' | 'api_key' | 'config' | 'permissions' | 'session' | 'template'

export interface AuditEvent {
  /** `<area>.<event>`, e.g. `model.update`, `auth.signin_failed`. */
  action: string
  actorId: string | null
  targetType?: AuditTargetType | undefined
  targetId?: string | undefined
  before?: unknown
  after?: unknown
}

/** The values of one entry in `AuditRow` order, as a PreparedQuery passes them (placeholders). */
type AuditSlots = [string, number, string | null, string, AuditTargetType | null, string | null, string | null, string | null, string | null, string | null]

/**
 * The one-entry INSERT, built on `qc` from placeholders: alone (`insertOne`) or after a model write's
 * version in one statement (model-versions.ts on PostgreSQL).
 */
export function buildAuditInsert(
  qc: QueryCreator<DB>,
  id: string,
  at: string,
  actorId: string,
  action: string,
  targetType: string,
  targetId: string,
  ip: string,
  requestId: string,
  before: string,
  after: string,
) {
  return qc.insertInto('audit_log').values({
    id,
    at: at as unknown as number,
    actor_id: actorId,
    action,
    target_type: targetType as AuditTargetType,
    target_id: targetId,
    ip,
    request_id: requestId,
    before,
    after,
  })
}

/** The one-entry insert of nearly every write, compiled once (Kysely's builder costs more than SQLite's insert). */
const insertOne = new PreparedQuery<AuditSlots, never>(10, (db, id, at, actor, action, type, target, ip, request, before, after) =>
  buildAuditInsert(db, id, at, actor, action, type, target, ip, request, before, after),
)

/** An entry's values in the order of `buildAuditInsert`'s placeholders. */
export const auditSlots = (row: AuditRow): AuditSlots => [
  row.id,
  row.at,
  row.actor_id,
  row.action,
  row.target_type,
  row.target_id,
  row.ip,
  row.request_id,
  row.before,
  row.after,
]

/**
 * Ids sort by time: 13 digits of milliseconds, a per-process counter, and this process's random tag
 * (instances sharing a database never collide: within a process the millisecond and counter are unique,
 * across processes the tag differs). The id is also the cursor of the log's pages. Within a process ids
 * only grow: past 9999 ids in one millisecond (a delete_all of many models), or when the clock steps
 * back, the millisecond part runs ahead of the clock, so it is never less than the entry's `at`.
 * The tag is drawn once: random bytes per id cost ~16 µs of every write in the server (profiled).
 */
const PROCESS_TAG = randomBytes(4).toString('hex')
let lastMs = 0
let counter = 0
export function auditId(now = Date.now()): string {
  if (now > lastMs) {
    lastMs = now
    counter = 0
  } else if (++counter > 9999) {
    lastMs += 1
    counter = 0
  }
  return `${String(lastMs).padStart(13, '0')}-${String(counter).padStart(4, '0')}-${PROCESS_TAG}`
}

/**
 * The row `recordAudit` inserts for `event` (id drawn, secrets redacted), for a writer that inserts it
 * in a statement of its own (a model write on PostgreSQL: with its version, one round trip).
 */
export function auditRow(event: AuditEvent, origin: RequestOrigin | undefined, at = Date.now()) {
  return {
    id: auditId(at),
    at,
    actor_id: event.actorId,
    action: event.action,
    target_type: event.targetType ?? null,
    target_id: event.targetId ?? null,
    ip: origin?.ip ?? null,
    request_id: origin?.requestId ?? null,
    before: json(event.before),
    after: json(event.after),
  }
}

export type AuditRow = ReturnType<typeof auditRow>

const json = (value: unknown): string | null => (value === undefined || value === null ? null : JSON.stringify(redact(value)))

/**
 * Appends entries (one multi-row statement per 500) through `db`: a transaction's executor or the
 * database. `origin`: the request that made them (the actor's `origin`); undefined outside a request.
 */
export async function recordAudit(db: Executor, events: readonly AuditEvent[], origin: RequestOrigin | undefined): Promise<void> {
  if (events.length === 0) return
  const at = Date.now()
  await insertAuditRows(
    db,
    events.map((event) => auditRow(event, origin, at)),
  )
}

/** Inserts rows made by `auditRow` (one compiled INSERT for one row, else src/db/insert-many.ts). */
export async function insertAuditRows(db: Executor, rows: readonly AuditRow[]): Promise<void> {
  const [only] = rows
  if (rows.length === 1 && only) {
    await insertOne.execute(db, ...auditSlots(only))
    return
  }
  await insertMany(db, 'audit_log', rows)
}
