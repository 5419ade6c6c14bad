/**
 * Bulk access changes (issue #13 part 2, docs/access-control.md "Bulk access changes"): add and remove
 * grants on many models at once, chosen by ids or by a listing filter, under the rules of a single
 * access update for every model (write access, sharing permissions, conflicting rows), and the models
 * that grant a group something.
 *
 * Decisions:
 * - A real run is ONE transaction (all or nothing): a failure half-way leaves no model changed, and the
 *   report is exactly what was written. It works chunk by chunk (500 ids in id order): a chunk's rows are
 *   locked and read, planned, and written in set-based statements before the next chunk is read, so a
 *   concurrent single update of one of them waits or is waited for, never interleaves, and memory holds
 *   one chunk's rows and grants; the answer is written chunk by chunk as JSON bytes (BulkReport).
 * - Dry run and real run share one computation; the real run computes afresh from the locked rows, so
 *   a dry run followed by a real run after models changed reports what the real run found and did.
 * - A refused model is reported, never touched; models the caller cannot read are refused exactly as
 *   unknown ids are (MODEL_NOT_FOUND, same text); the filter selects only models the caller may write.
 */
import { modelNotFound, type AccessService } from '../access/access.service.js'
import type { Actor } from '../access/actor.js'
import { dedupeGrants, type Grant, type Principals } from '../access/model-grants.js'
import { recordAudit, type AuditEvent } from '../audit/audit-log.js'
import { epochSeconds } from '../db/executor.js'
import { AppError, fieldError } from '../errors/app-error.js'
import type { JsonText } from '../schema/json-text.js'
import { conflictingIds } from './conflicts.js'
import { grantChangeKey, grantChanges, grantDelta } from './grant-diff.js'
import { chunks, type ModelRow } from './models.repo.js'
import { BULK_MAX_MATCHES, type BulkAccessBody, type BulkAccessReport, type GroupModelsResponse } from './models.schema.js'
import { toGrant, type Registry, type RegistryTx } from './registry.js'

/** A changed model of one chunk: its report entry, its row, its grants before and after. */
interface PlannedWrite {
  entry: BulkAccessReport['changed'][number]
  /** The row as read (locked in a real run). */
  row: ModelRow
  before: Grant[]
  after: Grant[]
}

/** What every chunk of one run shares. */
interface Run {
  actor: Actor
  who: Principals
  add: readonly Grant[]
  removed: ReadonlySet<string>
  served: ReadonlyMap<string, string>
  tx: RegistryTx
  /** A real run: rows are locked and each chunk is written before the next is read. */
  real: boolean
  report: BulkReport
  sharing: ReturnType<AccessService['sharingRefusal']>
  now: number
}

export class ModelBulkAccess {
  /** Ids per chunk (tests set fewer, to cross chunk boundaries with few models). */
  chunkSize = BULK_CHUNK_SIZE

  constructor(private readonly registry: Registry) {}

  /** The report as JSON text (sent as is: test/bulk-report.test.ts checks it is what the schema's serializer writes). */
  async change(actor: Actor, body: BulkAccessBody): Promise<JsonText<BulkAccessReport>> {
    const add = dedupeGrants(body.add.map(plainGrant))
    const remove = dedupeGrants(body.remove.map(plainGrant))
    const { access } = this.registry
    // Unknown principals are a bad request, before anything is read or changed (asked again inside the
    // real run's transaction, as a single update asks it there).
    await requireKnownPrincipals(access, add)
    const who = await access.principalsOf(actor)
    // Asked before the transaction: on SQLite the catalog's own queries would wait for it forever.
    const served = await this.registry.served.servedIds()
    // A filter is applied inside the real run's transaction, so the report reflects the state it changed.
    const select = (tx: RegistryTx) => (body.model_ids ? Promise.resolve([...new Set(body.model_ids)]) : matchingWritable(who, body.filter ?? {}, tx))
    if (body.dry_run) {
      const root = this.registry.root
      return (await this.run(actor, who, await select(root), add, remove, served, root, false, body)).toJson()
    }
    const report = await this.registry.inTransaction(async (tx) => {
      await requireKnownPrincipals(tx.access, add)
      return this.run(actor, who, await select(tx), add, remove, served, tx, true, body)
    })
    return report.toJson()
  }

  /** Admin: every model with a grant for the group, with the strongest permission a grant gives. */
  async groupModels(groupId: string, page: number, limit: number): Promise<GroupModelsResponse> {
    const { access, models } = this.registry
    if ((await access.unknownPrincipals([{ principal_type: 'group', principal_id: groupId, permission: 'read' }])).length > 0) {
      throw new AppError('NOT_FOUND', `No group with id "${groupId}".`)
    }
    const [rows, total] = await Promise.all([models.groupModelsPage(groupId, (page - 1) * limit, limit), models.countGroupModels(groupId)])
    return { items: rows.map((row) => ({ id: row.id, name: row.name, permission: row.permission === 'write' ? 'write' : 'read' })), total }
  }

  /**
   * One run, chunk by chunk (500 ids in id order): each chunk is read (locked in a real run), planned,
   * and in a real run written before the next one is read, then added to the report as JSON bytes, so
   * only one chunk's rows, grants and report entries are held at a time.
   */
  private async run(
    actor: Actor,
    who: Principals,
    ids: readonly string[],
    add: readonly Grant[],
    remove: readonly Grant[],
    served: ReadonlyMap<string, string>,
    tx: RegistryTx,
    real: boolean,
    body: BulkAccessBody,
  ): Promise<BulkReport> {
    const report = new BulkReport(!real)
    const removed = new Set(remove.map(grantChangeKey))
    const run: Run = { actor, who, add, removed, served, tx, real, report, sharing: tx.access.sharingRefusal(actor), now: epochSeconds() }
    for (const chunk of chunks([...ids].sort(), this.chunkSize)) {
      const writes = await this.planChunk(run, chunk)
      if (real && writes.length > 0) await this.writeChunk(run, writes)
      report.changed(writes.map(({ entry }) => entry))
    }
    if (real) {
      const summary: AuditEvent = {
        action: 'model.bulk_access',
        actorId: actor.id,
        targetType: 'model',
        after: {
          add,
          remove,
          selection: body.model_ids ? { model_ids: body.model_ids.length } : { filter: body.filter },
          changed: report.changedCount,
          unchanged: report.unchangedCount,
          refused: report.refusedCount,
        },
      }
      await recordAudit(tx.executor, [summary], actor.origin)
    }
    return report
  }

  /**
   * What the change does to each model of one chunk, read through the run's `tx` (locked rows in a real
   * run). Every refusal is the answer a single access update would give for that model.
   */
  private async planChunk(run: Run, chunk: readonly string[]): Promise<PlannedWrite[]> {
    const { who, tx, report } = run
    const rows: ModelRow[] = run.real ? await tx.models.findByIdsForUpdate(chunk, this.registry.database.dialect) : await tx.models.findByIds(chunk)
    const byId = new Map(rows.map((row) => [row.id, row]))
    const grants = await tx.grants.grantsOf(rows.map((row) => row.id))
    const conflicts = await conflictingIds(tx.models, tx.access, rows, run.served)
    const writes: PlannedWrite[] = []
    for (const id of chunk) {
      const row = byId.get(id)
      const before = (grants.get(id) ?? []).map(toGrant)
      try {
        // Unknown ids and unreadable models: the same MODEL_NOT_FOUND (the text of requireModelRead).
        if (!row) throw modelNotFound(id)
        tx.access.requireModelWrite(who, row, before)
        if (conflicts.has(id)) throw new AppError('MODEL_ID_UNAVAILABLE', 'This model id is not available any more: the model can be deleted, not changed.')
      } catch (error) {
        if (error instanceof AppError) {
          report.refuse(id, error)
          continue
        }
        throw error
      }
      const after = dedupeGrants([...before.filter((g) => !run.removed.has(grantChangeKey(g))), ...run.add])
      const changes = grantChanges(before, after)
      if (changes.length === 0) {
        report.unchanged(id)
        continue
      }
      const refusal = await run.sharing(before, after)
      if (refusal) {
        report.refuse(id, refusal)
        continue
      }
      const entry = { id, changes, version: null }
      writes.push({ entry, row, before, after })
    }
    return writes
  }

  /**
   * Writes one chunk's changes in set-based statements: a baseline for rows older than history, grants
   * (only the rows that change), updated_at and version (one UPDATE), the versions (one multi-row INSERT
   * of the states written, not read back), and one audit entry per model.
   */
  private async writeChunk({ actor, tx, now }: Run, writes: readonly PlannedWrite[]): Promise<void> {
    const current = await tx.versions.baselineRows(writes.map(({ row, before }) => ({ row, grants: before })))
    const { removed, added } = grantDelta(writes.map(({ entry, before, after }) => ({ modelId: entry.id, before, after })))
    await tx.grants.changeMany(removed, added, now)
    await tx.models.touchAndBumpMany(
      writes.map(({ entry }) => entry.id),
      now,
    )
    for (const write of writes) write.entry.version = (current.get(write.entry.id) ?? 0) + 1
    await tx.versions.recordKnownMany(
      writes.map(({ row, entry, after }) => ({ row: { ...row, updated_at: now, version: entry.version ?? 0 }, grants: after })),
      { action: 'access_update', source: 'bulk', actorId: actor.id },
    )
    const events: AuditEvent[] = writes.map(({ entry, before }) => ({
      action: 'model.access_update',
      actorId: actor.id,
      targetType: 'model',
      targetId: entry.id,
      before: { access_grants: before },
      after: { version: entry.version, bulk: true },
    }))
    await recordAudit(tx.executor, events, actor.origin)
  }
}

/** Ids per chunk of a bulk run (bulk access, template apply): 500 rows stay under every IN-list and insert limit. */
export const BULK_CHUNK_SIZE = 500

/** A changed model's entry in a bulk report: the same shape in bulk access and template apply. */
export interface BulkReportEntry {
  id: string
  changes: readonly { path: string; op: string; old: unknown; new: unknown }[]
  version: number | null
}

/**
 * The answer of a bulk run (`{dry_run, changed, unchanged, refused}`: BulkAccessReport and
 * TemplateApplyReport), written as JSON chunk by chunk. Each chunk's changed entries are encoded once
 * the chunk is written (their versions known) and kept as bytes, so the entries, their changes and the
 * states those name are released with the chunk; the answer is one Buffer sent as is. Before, the whole
 * report stayed an object until the route's serializer built one string of it: for 10k models that
 * string's pieces (~40 MB of heap, for a 6.6 MB answer) were the server's peak RSS (issue #17 item 5).
 * The bytes are those the route's schema serializer writes: keys in the schema's order, absent values
 * as null (test/bulk-report.test.ts compares the two).
 */
export class BulkReport {
  private readonly changedParts: Buffer[] = []
  private readonly unchangedIds: string[] = []
  private readonly refusals: string[] = []
  private changedTotal = 0

  constructor(private readonly dryRun: boolean) {}

  get changedCount(): number {
    return this.changedTotal
  }

  get unchangedCount(): number {
    return this.unchangedIds.length
  }

  get refusedCount(): number {
    return this.refusals.length
  }

  /** The changed entries of one chunk, in order (encoded now: change them no more). */
  changed(entries: readonly BulkReportEntry[]): void {
    if (entries.length === 0) return
    this.changedParts.push(Buffer.from(entries.map(encodeEntry).join(',')))
    this.changedTotal += entries.length
  }

  unchanged(id: string): void {
    this.unchangedIds.push(id)
  }

  /** A model left untouched, with the answer a single write would give (its code and text). */
  refuse(id: string, error: AppError): void {
    this.refusals.push(`{"id":${JSON.stringify(id)},"reason":${JSON.stringify(error.message)},"code":${JSON.stringify(error.code)}}`)
  }

  /** The whole answer (the parts are copied into it once). */
  toJson<T>(): JsonText<T> {
    const parts: Buffer[] = [Buffer.from(`{"dry_run":${this.dryRun},"changed":[`)]
    this.changedParts.forEach((part, i) => parts.push(...(i > 0 ? [COMMA, part] : [part])))
    parts.push(Buffer.from(`],"unchanged":${JSON.stringify(this.unchangedIds)},"refused":[${this.refusals.join(',')}]}`))
    return Buffer.concat(parts) as JsonText<T>
  }
}

const COMMA = Buffer.from(',')

const encodeChange = (change: BulkReportEntry['changes'][number]): string =>
  `{"path":${JSON.stringify(change.path)},"op":${JSON.stringify(change.op)},"old":${JSON.stringify(change.old ?? null)},"new":${JSON.stringify(change.new ?? null)}}`

const encodeEntry = (entry: BulkReportEntry): string =>
  `{"id":${JSON.stringify(entry.id)},"changes":[${entry.changes.map(encodeChange).join(',')}],"version":${entry.version === null ? 'null' : String(entry.version)}}`

/**
 * The ids (sorted) a bulk filter selects: presets the caller may read (the listing's rules) and write;
 * more than BULK_MAX_MATCHES is a 400 naming body.filter. Shared by bulk access and template apply.
 */
export async function matchingWritable(who: Principals, filter: NonNullable<BulkAccessBody['filter']>, { models }: RegistryTx): Promise<string[]> {
  const filters = {
    who,
    query: filter.query,
    tag: filter.tag,
    baseModelId: filter.base_model_id,
    ownerId: filter.user_id,
    templateId: filter.template_id,
    permission: 'write' as const,
  }
  const ids = await models.matchingIds(filters, await models.planFor(who), BULK_MAX_MATCHES + 1)
  if (ids.length > BULK_MAX_MATCHES) {
    throw fieldError(
      'VALIDATION_ERROR',
      'body.filter',
      `matches more than ${BULK_MAX_MATCHES} models`,
      `The filter matches more than ${BULK_MAX_MATCHES} models; narrow it (tag, base_model_id, user_id, template_id, query) or change them in several requests.`,
    )
  }
  return ids
}

async function requireKnownPrincipals(access: AccessService, grants: readonly Grant[]): Promise<void> {
  const unknown = await access.unknownPrincipals(grants)
  if (unknown.length > 0) {
    throw new AppError('INVALID_ACCESS_CONTROL', `add: ${unknown.map((g) => `no ${g.principal_type} with id "${g.principal_id}"`).join('; ')}`)
  }
}

const plainGrant = (g: Grant): Grant => ({ principal_type: g.principal_type, principal_id: g.principal_id, permission: g.permission })
