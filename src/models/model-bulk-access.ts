/**
 * Bulk access changes (issue #13 part 2, docs/access-control.md "Bulk access changes"): add and remove
 * grants on many models at once, chosen by ids or by a listing filter, under the rules of a single
 * access update for every model (write access, sharing permissions, conflicting rows), and the models
 * that grant a group something.
 *
 * Decisions:
 * - A real run is ONE transaction (all or nothing): a failure half-way leaves no model changed, and the
 *   report is exactly what was written. Rows are locked in id order first (as deleteAll does), so a
 *   concurrent single update of one of them waits or is waited for, never interleaves. Reads and writes
 *   go in chunks of 500 inside it.
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
import { conflictingIds } from './conflicts.js'
import { grantChangeKey, grantChanges } from './grant-diff.js'
import { chunks, type ModelRow } from './models.repo.js'
import { BULK_MAX_MATCHES, type BulkAccessBody, type BulkAccessReport, type GroupModelsResponse } from './models.schema.js'
import { toGrant, type Registry, type RegistryTx } from './registry.js'

type Refusal = BulkAccessReport['refused'][number]

/** A computed change: the report, and each changed model's grants before and after (for the write). */
interface Planned {
  report: BulkAccessReport
  before: Map<string, Grant[]>
  after: Map<string, Grant[]>
}

export class ModelBulkAccess {
  constructor(private readonly registry: Registry) {}

  async change(actor: Actor, body: BulkAccessBody): Promise<BulkAccessReport> {
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
    const select = (tx: RegistryTx) => (body.model_ids ? Promise.resolve([...new Set(body.model_ids)]) : this.matching(who, body.filter ?? {}, tx))
    if (body.dry_run) {
      const root = this.registry.root
      return (await this.plan(actor, who, await select(root), add, remove, served, root, false)).report
    }
    return this.registry.inTransaction(async (tx) => {
      await requireKnownPrincipals(tx.access, add)
      const planned = await this.plan(actor, who, await select(tx), add, remove, served, tx, true)
      await this.apply(actor, tx, planned, add, remove, body)
      return planned.report
    })
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

  /** The ids a filter selects: presets the caller may read (the listing's rules) and write. */
  private async matching(who: Principals, filter: NonNullable<BulkAccessBody['filter']>, { models }: RegistryTx): Promise<string[]> {
    const filters = { who, query: filter.query, tag: filter.tag, baseModelId: filter.base_model_id, ownerId: filter.user_id, permission: 'write' as const }
    const ids = await models.matchingIds(filters, await models.planFor(who), BULK_MAX_MATCHES + 1)
    if (ids.length > BULK_MAX_MATCHES) {
      throw fieldError(
        'VALIDATION_ERROR',
        'body.filter',
        `matches more than ${BULK_MAX_MATCHES} models`,
        `The filter matches more than ${BULK_MAX_MATCHES} models; narrow it (tag, base_model_id, user_id, query) or change them in several requests.`,
      )
    }
    return ids
  }

  /**
   * What the change does to each model, read through `tx` (locked rows in a real run). Every refusal is
   * the answer a single access update would give for that model.
   */
  private async plan(
    actor: Actor,
    who: Principals,
    ids: readonly string[],
    add: readonly Grant[],
    remove: readonly Grant[],
    served: ReadonlyMap<string, string>,
    tx: RegistryTx,
    lock: boolean,
  ): Promise<Planned> {
    const sharing = tx.access.sharingRefusal(actor)
    const removed = new Set(remove.map(grantChangeKey))
    const report: BulkAccessReport = { dry_run: !lock, changed: [], unchanged: [], refused: [] }
    const planned: Planned = { report, before: new Map(), after: new Map() }
    const refuse = (id: string, error: AppError) => report.refused.push({ id, reason: error.message, code: error.code as Refusal['code'] })
    for (const chunk of chunks([...ids].sort())) {
      const rows: ModelRow[] = lock ? await tx.models.findByIdsForUpdate(chunk, this.registry.database.dialect) : await tx.models.findByIds(chunk)
      const byId = new Map(rows.map((row) => [row.id, row]))
      const grants = await tx.grants.grantsOf(rows.map((row) => row.id))
      const conflicts = await conflictingIds(tx.models, tx.access, rows, served)
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
            refuse(id, error)
            continue
          }
          throw error
        }
        const after = dedupeGrants([...before.filter((g) => !removed.has(grantChangeKey(g))), ...add])
        const changes = grantChanges(before, after)
        if (changes.length === 0) {
          report.unchanged.push(id)
          continue
        }
        const refusal = await sharing(before, after)
        if (refusal) {
          refuse(id, refusal)
          continue
        }
        report.changed.push({ id, changes, version: null })
        planned.before.set(id, before)
        planned.after.set(id, after)
      }
    }
    return planned
  }

  /** Writes the planned changes: grants, one version and one audit entry per model, one summary entry. */
  private async apply(
    actor: Actor,
    tx: RegistryTx,
    { report, before, after }: Planned,
    add: readonly Grant[],
    remove: readonly Grant[],
    body: BulkAccessBody,
  ): Promise<void> {
    const ids = report.changed.map((entry) => entry.id)
    const now = epochSeconds()
    if (ids.length > 0) {
      await tx.versions.baseline(ids)
      await tx.grants.replaceMany(
        ids.map((id) => ({ modelId: id, grants: after.get(id) ?? [] })),
        now,
      )
      await tx.models.touchMany(ids, now)
      const versions = await tx.versions.recordIds(ids, { action: 'access_update', source: 'bulk', actorId: actor.id })
      for (const entry of report.changed) entry.version = versions.get(entry.id) ?? null
    }
    const events: AuditEvent[] = report.changed.map((entry) => ({
      action: 'model.access_update',
      actorId: actor.id,
      targetType: 'model',
      targetId: entry.id,
      before: { access_grants: before.get(entry.id) ?? [] },
      after: { version: entry.version, bulk: true },
    }))
    events.push({
      action: 'model.bulk_access',
      actorId: actor.id,
      targetType: 'model',
      after: {
        add,
        remove,
        selection: body.model_ids ? { model_ids: body.model_ids.length } : { filter: body.filter },
        changed: report.changed.length,
        unchanged: report.unchanged.length,
        refused: report.refused.length,
      },
    })
    await recordAudit(tx.executor, events, actor.origin)
  }
}

async function requireKnownPrincipals(access: AccessService, grants: readonly Grant[]): Promise<void> {
  const unknown = await access.unknownPrincipals(grants)
  if (unknown.length > 0) {
    throw new AppError('INVALID_ACCESS_CONTROL', `add: ${unknown.map((g) => `no ${g.principal_type} with id "${g.principal_id}"`).join('; ')}`)
  }
}

const plainGrant = (g: Grant): Grant => ({ principal_type: g.principal_type, principal_id: g.principal_id, permission: g.permission })
