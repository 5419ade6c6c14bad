/**
 * Restoring a model version (issue #12): the version's content becomes the model again, as a new
 * version (action `restore`). It is an update carrying that content, with the update's checks (write
 * access, If-Match, conflicting ids, locked template parameters, base kind and base reference, grant
 * change); or, for a deleted model, a create of that content on its id (the last owner and admins; the
 * id must be free). One transaction: the registry's, which bumps the registry version so cached pages
 * rebuild.
 */
import { modelNotFound } from '../access/access.service.js'
import type { Actor } from '../access/actor.js'
import type { Grant, ModelCaller } from '../access/model-grants.js'
import { recordAudit } from '../audit/audit-log.js'
import { epochSeconds } from '../db/executor.js'
import { fieldError, preconditionFailed } from '../errors/app-error.js'
import { versionMatches, type ExpectedVersion } from '../models/if-match.js'
import type { ModelSnapshot } from '../models/model-versions.js'
import type { ModelRow } from '../models/models.repo.js'
import type { ModelWriteResponse } from '../models/models.schema.js'
import { tagNames, toGrant, type Registry, type RegistryTx } from '../models/registry.js'
import { HistoryRepo, parseSnapshot, versionNotFound, type VersionRow } from './history.repo.js'
import type { RestoreBody } from './history.schema.js'

export class ModelRestore {
  constructor(private readonly registry: Registry) {}

  async restore(actor: Actor, body: RestoreBody, expected: ExpectedVersion): Promise<ModelWriteResponse> {
    const { registry } = this
    const caller = await registry.access.modelCaller(actor)
    // Asked before the transaction: on SQLite the catalog's own queries would wait for it forever.
    const served = await registry.served.servedIds()
    return registry.inTransaction(async (tx) => {
      const history = new HistoryRepo(tx.executor)
      // Locked first, as every model write: restores and other writes of one model take turns.
      const live = await tx.models.findByIdForUpdate(body.id, registry.database.dialect)
      if (live) {
        const grants = ((await tx.grants.grantsOf([body.id])).get(body.id) ?? []).map(toGrant)
        const readable = tx.access.modelPermissions(caller, live, grants).read
        if (!readable || body.version === undefined) {
          // Not this model: a restore of a deleted model whose id was taken meanwhile (409, as a create).
          await this.refuseTakenDeletedId(actor, caller, tx, history, body.id, served)
          if (!readable) throw modelNotFound(body.id)
          throw fieldError('VALIDATION_ERROR', 'body.version', 'required to restore a model that exists')
        }
        const { allLives } = tx.access.historyAccess(actor, caller, body.id, { live, grants })
        return this.restoreLive(actor, caller, tx, history, body.id, body.version, allLives, expected, served)
      }
      return this.restoreDeleted(actor, caller, tx, history, body, expected, served)
    })
  }

  /** An existing model gets a version's content back (owner and id stay). */
  private async restoreLive(
    actor: Actor,
    caller: ModelCaller,
    tx: RegistryTx,
    history: HistoryRepo,
    id: string,
    version: number,
    allLives: boolean,
    expected: ExpectedVersion,
    served: ReadonlyMap<string, string>,
  ): Promise<ModelWriteResponse> {
    const { registry } = this
    const { row, grants } = await registry.writable(caller, id, tx, expected)
    await registry.refuseConflict(row, tx.models, served)
    const source = await this.visibleVersion(history, id, version, allLives)
    const snapshot = parseSnapshot(source)
    // A model made from a template keeps its locked parameters against a restore as against an update
    // (non-admins: 409 PARAM_LOCKED naming the key; docs/templates.md).
    await registry.checkLockedParams(actor, row, snapshot.params, tx)
    await tx.versions.baseline([id])
    if (snapshot.base_model_id !== row.base_model_id) {
      registry.checkBaseModel(actor, id, row.base_model_id, snapshot.base_model_id)
      if (snapshot.base_model_id !== null) await registry.checkBaseReference(actor, caller, snapshot.base_model_id, tx, served)
    }
    const wanted = await this.restorableGrants(tx, snapshot)
    await tx.access.checkGrantChange(actor, grants, wanted)
    const now = epochSeconds()
    await tx.models.update(id, {
      name: snapshot.name,
      base_model_id: snapshot.base_model_id,
      params: JSON.stringify(snapshot.params),
      meta: JSON.stringify(snapshot.meta),
      is_active: snapshot.is_active ? 1 : 0,
      updated_at: now,
    })
    await tx.models.setTags(id, tagNames(snapshot.meta))
    await tx.grants.replace(id, wanted, now)
    await this.recorded(tx, actor, id, version, Number(row.version))
    return this.answer(caller, tx, id, served)
  }

  /** A deleted model comes back on its id with a version's content and grants (the last owner, or admins). */
  private async restoreDeleted(
    actor: Actor,
    caller: ModelCaller,
    tx: RegistryTx,
    history: HistoryRepo,
    body: RestoreBody,
    expected: ExpectedVersion,
    served: ReadonlyMap<string, string>,
  ): Promise<ModelWriteResponse> {
    const { registry } = this
    const id = body.id
    const last = await history.latest(id)
    // No history, or history whose last entry is no deletion (cannot be without a live row): nothing to restore.
    const lastOwner = last?.action === 'delete' ? parseSnapshot(last).user_id : null
    // 404 unless the caller is the last owner or an admin (the same answer as an id that never existed).
    const { allLives } = tx.access.historyAccess(actor, caller, id, { live: null, deletedOwnerId: lastOwner })
    if (!last || lastOwner === null) {
      // A last entry that is no deletion: the id came back (a racing restore or create) between the locked
      // read that found no row and this one — answered as if it had been there first (409 when taken).
      if (last) await this.refuseTakenDeletedId(actor, caller, tx, history, id, served)
      throw modelNotFound(id)
    }
    // Bringing a model back is a create on its id: it needs what a create needs (review of #12).
    await tx.access.requireFeature(actor, 'workspace.models')
    // The deletion is the version a client read from the trash: If-Match names it. `*` means "while it
    // exists" (RFC 9110), and a deleted model does not.
    if (expected === 'any' || !versionMatches(expected, Number(last.version))) throw preconditionFailed(Number(last.version))
    const source = body.version === undefined ? last : await this.visibleVersion(history, id, body.version, allLives)
    const snapshot = parseSnapshot(source)
    // The id first, then the base: the order of a create's checks.
    await registry.checkIdFree(actor, caller, id, tx, served)
    registry.checkBaseModel(actor, id, undefined, snapshot.base_model_id)
    if (snapshot.base_model_id !== null) await registry.checkBaseReference(actor, caller, snapshot.base_model_id, tx, served)
    const wanted = await this.restorableGrants(tx, snapshot)
    await tx.access.checkGrantChange(actor, [], wanted)
    // The last owner gets the model back; an owner whose account is gone is replaced by the restoring admin.
    const ownerExists = (await tx.access.unknownPrincipals([{ principal_type: 'user', principal_id: lastOwner, permission: 'read' }])).length === 0
    const now = epochSeconds()
    await tx.models.insert({
      id,
      user_id: ownerExists ? lastOwner : actor.id,
      base_model_id: snapshot.base_model_id,
      name: snapshot.name,
      params: JSON.stringify(snapshot.params),
      meta: JSON.stringify(snapshot.meta),
      is_active: snapshot.is_active ? 1 : 0,
      created_at: now,
      updated_at: now,
    })
    await tx.grants.replace(id, wanted, now)
    await tx.models.setTags(id, tagNames(snapshot.meta))
    await this.recorded(tx, actor, id, Number(source.version), null)
    return this.answer(caller, tx, id, served)
  }

  /**
   * A restore from the trash of an id that is live again: 409 as a create of that id would get (the
   * caller may restore the deletion), nothing when the caller could not have restored it (the caller's
   * answer is then 404, decided by the caller of this).
   */
  private async refuseTakenDeletedId(
    actor: Actor,
    caller: ModelCaller,
    tx: RegistryTx,
    history: HistoryRepo,
    id: string,
    served: ReadonlyMap<string, string>,
  ): Promise<void> {
    const deleted = await history.latestWithAction(id, 'delete')
    if (deleted && tx.access.mayRestoreDeleted(actor, parseSnapshot(deleted).user_id)) await this.registry.checkIdFree(actor, caller, id, tx, served)
  }

  /** A version the caller may restore: non-admins only versions since the id's latest `create`. */
  private async visibleVersion(history: HistoryRepo, id: string, version: number, allLives: boolean): Promise<VersionRow> {
    const from = allLives ? 1 : Math.max(1, await history.lifeStart(id))
    const row = version >= from ? await history.get(id, version) : undefined
    if (!row) throw versionNotFound(id, version)
    return row
  }

  /**
   * The snapshot's grants, less those naming an account or group deleted since (a grant to nobody
   * grants nothing; the deletion already removed it from the live model). The rest goes through the
   * update's grant-change check.
   */
  private async restorableGrants(tx: RegistryTx, snapshot: ModelSnapshot): Promise<Grant[]> {
    const unknown = new Set((await tx.access.unknownPrincipals(snapshot.access_grants)).map((g) => `${g.principal_type}:${g.principal_id}`))
    return snapshot.access_grants.filter((g) => !unknown.has(`${g.principal_type}:${g.principal_id}`))
  }

  private async recorded(tx: RegistryTx, actor: Actor, id: string, restoredFrom: number, previous: number | null): Promise<void> {
    const version = (await tx.versions.recordIds([id], { action: 'restore', source: 'route', actorId: actor.id })).get(id) ?? 0
    await recordAudit(
      tx.executor,
      [
        {
          action: 'model.restore',
          actorId: actor.id,
          targetType: 'model',
          targetId: id,
          ...(previous !== null && { before: { version: previous } }),
          after: { version, restored_from: restoredFrom },
        },
      ],
      actor.origin,
    )
  }

  /** The model as update answers it: with the caller's abilities, read through the transaction. */
  private async answer(caller: ModelCaller, tx: RegistryTx, id: string, served: ReadonlyMap<string, string>): Promise<ModelWriteResponse> {
    const row: ModelRow | undefined = await tx.models.findById(id)
    if (!row) throw modelNotFound(id)
    const grants = (await tx.grants.grantsOf([id])).get(id) ?? []
    return this.registry.writeAnswer(caller, tx, row, grants, served)
  }
}
