/**
 * Changing one model: create, update, toggle, access update, delete (and delete all), and what the
 * registry does when an account or a group goes. Every decision is asked of the access service; the
 * answers of create, update, toggle and access update carry the caller's abilities (`can`).
 */
import type { Transaction } from 'kysely'
import { modelNotFound } from '../access/access.service.js'
import type { Actor } from '../access/actor.js'
import { ModelGrantsRepo, type GrantRow } from '../access/model-grants.repo.js'
import { requestedGrants, requestedGrantsOnUpdate, type Grant, type ModelCaller } from '../access/model-grants.js'
import { auditRow, recordAudit, type AuditEvent } from '../audit/audit-log.js'
import { isUniqueViolation } from '../db/errors.js'
import { epochSeconds } from '../db/executor.js'
import type { DB } from '../db/types.js'
import { AppError, fieldError } from '../errors/app-error.js'
import { ModelsRepo, type ModelRow } from './models.repo.js'
import type { AccessUpdate, ModelForm, ModelUpdate, ModelWriteResponse } from './models.schema.js'
import type { ExpectedVersion } from './if-match.js'
import { ModelVersions, sameState } from './model-versions.js'
import { idTakenError, tagNames, type Registry, type RegistryTx } from './registry.js'
import type { ModelConfigStore } from './model-config.js'

/** A model's row as just written (at its new version) and its grants. */
type Known = { row: ModelRow; grants: GrantRow[] }

export class ModelWrites {
  constructor(
    private readonly registry: Registry,
    /** The model configuration (its default meta and params); absent in tools that build writes alone. */
    private readonly modelConfig?: ModelConfigStore,
  ) {}

  async create(actor: Actor, input: ModelForm): Promise<ModelWriteResponse> {
    const { access } = this.registry
    await access.requireFeature(actor, 'workspace.models')
    // From a template (docs/templates.md): its sections fill what the body does not give; then the
    // configured defaults fill what neither gives (body > template > defaults; docs/compat.md).
    const fromTemplate = input.template_id ? await this.registry.templates.fillForm(actor, input) : input
    const form = this.modelConfig ? await this.modelConfig.withDefaults(fromTemplate) : fromTemplate
    this.registry.checkBaseModel(actor, form.id, undefined, form.base_model_id ?? null)
    // A create that names no access form makes a private model (secure by default).
    const grants = requestedGrants(form) ?? []
    await access.checkGrantChange(actor, [], grants)
    const caller = await access.modelCaller(actor)
    // Asked before the transaction: on SQLite the catalog's own queries would wait for it forever.
    const served = await this.registry.served.servedIds()
    const now = epochSeconds()
    const row: Omit<ModelRow, 'version'> = {
      id: form.id,
      user_id: actor.id,
      base_model_id: form.base_model_id ?? null,
      name: form.name,
      params: JSON.stringify(form.params),
      meta: JSON.stringify(form.meta),
      is_active: form.is_active ? 1 : 0,
      created_at: now,
      updated_at: now,
      template_id: form.template_id ?? null,
    }
    let known: Known | undefined
    let hops: ReadonlyMap<string, ModelRow | null> | undefined
    try {
      await this.registry.inTransaction(async (tx) => {
        // The id first, then the base (one read of both): the order of checks never depends on which case applies.
        hops = await this.registry.checkNewModel(actor, caller, form.id, form.base_model_id ?? null, tx, served)
        // A template deleted since fillForm read it: 404, never a model naming a deleted template.
        if (row.template_id) await this.registry.templates.holdForLink(row.template_id, tx)
        // The id may have history (a model deleted before): the new row continues its numbering.
        const created = { ...row, version: await tx.models.insertAtNextVersion(row) }
        // A new row has no grants or tags yet (a deleted model's went with it): insert, nothing to replace.
        const grantRows = grants.length > 0 ? await tx.grants.replace(row.id, grants, now) : []
        await tx.models.insertTags(row.id, tagNames(form.meta))
        known = { row: created, grants: grantRows }
        await this.recorded(tx, actor, known, 'create')
      })
    } catch (error) {
      // Two creates of one id at once: the primary key decides, the loser gets 409 (TAKEN only when it
      // may read the winner's model: hole 13).
      if (isUniqueViolation(error)) {
        const winner = await this.registry.models.findById(form.id)
        const grants = winner ? ((await this.registry.grants.grantsOf([form.id])).get(form.id) ?? []) : []
        const status = access.idStatus(actor, caller, { mayCreate: true, served: false, existing: winner && { row: winner, grants, conflicting: false } })
        throw idTakenError(status === 'free' ? 'unavailable' : status, form.id)
      }
      throw error
    }
    // Answered from what it wrote and the base it read in the transaction (nothing read back).
    return this.answer(caller, this.registry.root, row.id, served, known, hops)
  }

  async update(actor: Actor, queryId: string | undefined, body: ModelUpdate, expected?: ExpectedVersion): Promise<ModelWriteResponse> {
    if (queryId !== undefined && body.id !== undefined && queryId !== body.id) {
      const detail = `The id in the query ("${queryId}") and in the body ("${body.id}") differ.`
      throw fieldError('VALIDATION_ERROR', 'body.id', `differs from the id in the query ("${queryId}")`, detail)
    }
    const id = body.id ?? queryId
    if (id === undefined) throw fieldError('VALIDATION_ERROR', 'body.id', 'required (or ?id= in the query)', 'body.id: required (or ?id= in the query)')
    const caller = await this.registry.access.modelCaller(actor)
    const served = await this.registry.served.servedIds()
    return this.registry.inTransaction(async (tx) => {
      const { row, grants, grantRows } = await this.registry.writable(caller, id, tx, expected)
      await this.registry.refuseConflict(row, tx.models, served)
      if (body.params !== undefined) await this.registry.checkLockedParams(actor, row, body.params, tx)
      const version = (await tx.versions.baselineKnown(row, grants)) + 1
      const baseModelId = body.base_model_id === undefined ? row.base_model_id : body.base_model_id
      if (baseModelId !== row.base_model_id) {
        this.registry.checkBaseModel(actor, id, row.base_model_id, baseModelId)
        if (baseModelId !== null) await this.registry.checkBaseReference(actor, caller, baseModelId, tx, served)
      }
      const now = epochSeconds()
      // Only the columns that change are set: SQLite rewrites every index on a column named in SET (and
      // re-checks partial indexes whose condition names it), even when the value stays the same: a rename
      // that also sent its base wrote two index pages more (bench/write-pages.ts).
      const meta = body.meta === undefined ? undefined : JSON.stringify(body.meta)
      const params = body.params === undefined ? undefined : JSON.stringify(body.params)
      const isActive = body.is_active === undefined ? undefined : body.is_active ? 1 : 0
      const patch = {
        ...(body.name !== undefined && body.name !== row.name && { name: body.name }),
        ...(baseModelId !== row.base_model_id && { base_model_id: baseModelId }),
        ...(meta !== undefined && meta !== row.meta && { meta }),
        ...(params !== undefined && params !== row.params && { params }),
        ...(isActive !== undefined && isActive !== Number(row.is_active) && { is_active: isActive }),
        updated_at: now,
        version,
      }
      // An update that names no access form keeps the grants.
      const requested = grantsOfUpdate(body, grants)
      if (requested) await tx.access.checkGrantChange(actor, grants, requested)
      // A save that changes nothing (a client sending back the model as it read it) writes nothing: no
      // version, no audit entry, no new updated_at (docs/history.md).
      if (sameState(row, grants, { ...row, ...patch }, requested ?? grants)) {
        return this.answer(caller, tx, id, served, { row: { ...row, version: version - 1 }, grants: grantRows })
      }
      await tx.models.update(id, patch)
      if (patch.meta !== undefined && body.meta !== undefined) await tx.models.setTags(id, tagNames(body.meta))
      const known = { row: { ...row, ...patch }, grants: requested ? await tx.grants.replace(id, requested, now) : grantRows }
      await this.recorded(tx, actor, known, 'update')
      return this.answer(caller, tx, id, served, known)
    })
  }

  async toggle(actor: Actor, id: string, expected?: ExpectedVersion): Promise<ModelWriteResponse> {
    const caller = await this.registry.access.modelCaller(actor)
    const served = await this.registry.served.servedIds()
    return this.registry.inTransaction(async (tx) => {
      const { row, grants, grantRows } = await this.registry.writable(caller, id, tx, expected)
      await this.registry.refuseConflict(row, tx.models, served)
      const version = (await tx.versions.baselineKnown(row, grants)) + 1
      const patch = { is_active: Number(row.is_active) === 1 ? 0 : 1, updated_at: epochSeconds(), version }
      await tx.models.update(id, patch)
      const known = { row: { ...row, ...patch }, grants: grantRows }
      await this.recorded(tx, actor, known, 'toggle')
      return this.answer(caller, tx, id, served, known)
    })
  }

  /**
   * Replaces a model's grants. An admin may name a provider model that has no row yet: a minimal
   * override row is created for it (owner: the admin), as Open WebUI does.
   */
  async updateAccess(actor: Actor, body: AccessUpdate, expected?: ExpectedVersion): Promise<ModelWriteResponse> {
    if (!requestedGrants(body)) throw new AppError('INVALID_ACCESS_CONTROL', 'Send access_grants or access_control.')
    const caller = await this.registry.access.modelCaller(actor)
    const served = await this.registry.served.servedIds()
    return this.registry.inTransaction(async (tx) => {
      const now = epochSeconds()
      const existed = Boolean(await tx.models.findByIdForUpdate(body.id, this.registry.database.dialect))
      // With If-Match the caller expects an existing model (RFC 9110: no current representation, no
      // match): a model deleted since it was read is not brought back as a fresh override (404 below).
      if (!existed && expected === undefined && tx.access.mayManageOverrides(actor)) {
        await tx.models.insert({
          id: body.id,
          user_id: actor.id,
          base_model_id: null,
          name: body.name ?? body.id,
          params: '{}',
          meta: '{}',
          is_active: 1,
          created_at: now,
          updated_at: now,
          version: await tx.versions.nextVersionOf(body.id),
        })
      }
      const { row, grants } = await this.registry.writable(caller, body.id, tx, expected)
      await this.registry.refuseConflict(row, tx.models, served)
      const requested = grantsOfUpdate(body, grants) ?? []
      await tx.access.checkGrantChange(actor, grants, requested)
      // A fresh override row holds its first version already; an existing row moves to the next one.
      const version = existed ? (await tx.versions.baselineKnown(row, grants)) + 1 : Number(row.version)
      const patch = { updated_at: now, version }
      await tx.models.update(body.id, patch)
      const known = { row: { ...row, ...patch }, grants: await tx.grants.replace(body.id, requested, now) }
      await this.recorded(tx, actor, known, existed ? 'access_update' : 'create', { grantsBefore: grants })
      return this.answer(caller, tx, body.id, served, known)
    })
  }

  async delete(actor: Actor, id: string, expected?: ExpectedVersion): Promise<true> {
    const who = await this.registry.access.principalsOf(actor)
    await this.registry.inTransaction(async (tx) => {
      await this.registry.writable(who, id, tx, expected)
      const versions = await tx.versions.recordDeletion([id], { source: 'route', actorId: actor.id })
      await tx.models.delete(id)
      await recordAudit(
        tx.executor,
        [{ action: 'model.delete', actorId: actor.id, targetType: 'model', targetId: id, after: { version: versions.get(id) } }],
        actor.origin,
      )
    })
    return true
  }

  /** Admin: removes every model and grant (each deletion is a version: the trash can bring them back). */
  async deleteAll(actor: Actor): Promise<true> {
    await this.registry.inTransaction(async (tx) => {
      // Locked first, as a single write locks its row: otherwise an update of one of them that holds its
      // row and waits for our version insert deadlocks with our DELETE (PostgreSQL). Only the rows
      // locked (and so versioned) are deleted: one created meanwhile is not gone without a version.
      const ids = (await tx.models.findByIdsForUpdate(await tx.models.allIds(), this.registry.database.dialect)).map((row) => row.id)
      const versions = await tx.versions.recordDeletion(ids, { source: 'route', actorId: actor.id })
      await tx.models.deleteMany(ids)
      await recordAudit(
        tx.executor,
        [{ action: 'model.delete_all', actorId: actor.id, targetType: 'model', after: { deleted: ids.length, versions: Object.fromEntries(versions) } }],
        actor.origin,
      )
    })
    return true
  }

  // ─── Hooks for other features (registered in services.ts) ──────────────────────────────────────

  /** An account changed (name, email, role): pages showing it as owner must be rebuilt. */
  async onUserUpdated(trx: Transaction<DB>): Promise<void> {
    await new ModelsRepo(trx).bumpVersion()
  }

  /**
   * An account is about to be deleted: its models pass to the deleting admin, grants naming it go. A
   * row of the account on an id a provider serves is ignored while a user owns it; handed to an admin
   * as it is, it would start overriding the provider's model for everyone (a squat revived by the
   * deletion), so it is handed over switched off for the admin to review. The catalog is read here,
   * before the deleting transaction opens.
   */
  async prepareUserDeletion(): Promise<(trx: Transaction<DB>, userId: string, adminId: string) => Promise<void>> {
    const served = await this.registry.served.servedIds()
    return async (trx, userId, adminId) => {
      const models = new ModelsRepo(trx)
      const grants = new ModelGrantsRepo(trx)
      const versions = new ModelVersions(trx, models, grants, this.registry.historyMaxVersions)
      const now = epochSeconds()
      // Every model whose owner or grants change is a new version (source `system`, by the deleting admin).
      const touched = [...new Set([...(await models.idsOwnedBy(userId)), ...(await grants.modelIdsNaming('user', userId))])]
      // Locked before their versions are written, as every model write does (no deadlock with an update).
      await models.findByIdsForUpdate(touched, this.registry.database.dialect)
      await versions.baseline(touched)
      await models.deactivateOwnedAmong(userId, [...served.keys()], now)
      await models.handOver(userId, adminId, now)
      await grants.deleteByPrincipal('user', userId)
      await versions.recordIds(touched, { action: 'update', source: 'system', actorId: adminId })
      await models.bumpVersion()
    }
  }

  /** A group is being deleted: grants naming it go. */
  async onGroupDeleted(trx: Transaction<DB>, groupId: string, actorId: string | null): Promise<void> {
    const models = new ModelsRepo(trx)
    const grants = new ModelGrantsRepo(trx)
    const versions = new ModelVersions(trx, models, grants, this.registry.historyMaxVersions)
    const touched = await grants.modelIdsNaming('group', groupId)
    await models.findByIdsForUpdate(touched, this.registry.database.dialect)
    await versions.baseline(touched)
    await grants.deleteByPrincipal('group', groupId)
    await versions.recordIds(touched, { action: 'access_update', source: 'system', actorId })
    await models.bumpVersion()
  }

  /**
   * Records the model's new version and the audit entry of the change (same transaction). `known`: the
   * row as written (its version column already set to the new version) and its grants.
   */
  private async recorded(
    tx: RegistryTx,
    actor: Actor,
    known: Known,
    action: 'create' | 'update' | 'toggle' | 'access_update',
    extra: { grantsBefore?: readonly Grant[] } = {},
  ): Promise<void> {
    const version = Number(known.row.version)
    const audit: AuditEvent = { action: `model.${action}`, actorId: actor.id, targetType: 'model', targetId: known.row.id, after: { version } }
    if (extra.grantsBefore) audit.before = { access_grants: extra.grantsBefore }
    // The version and the audit entry: one statement on PostgreSQL (model-versions.ts).
    await tx.versions.recordKnown(known.row, known.grants, { action, source: 'route', actorId: actor.id }, auditRow(audit, actor.origin))
  }

  /**
   * One model as a write answers it, with the caller's abilities, read through `tx` (inside the
   * transaction a delete right after cannot 404 it). `served`: the catalog the write checked against;
   * the writes refuse conflicting rows, but whether the row is one is still asked, not assumed.
   */
  private async answer(
    caller: ModelCaller,
    tx: RegistryTx,
    id: string,
    served: ReadonlyMap<string, string>,
    known?: Known,
    hops?: ReadonlyMap<string, ModelRow | null>,
  ): Promise<ModelWriteResponse> {
    const row = known?.row ?? (await tx.models.findById(id))
    if (!row) throw modelNotFound(id)
    // One after the other: inside a transaction both go through its one connection.
    const grants = known?.grants ?? (await tx.grants.grantsOf([id])).get(id) ?? []
    return this.registry.writeAnswer(caller, tx, row, grants, served, hops)
  }
}

/** The grants an update or access update asks for (design.md §2.2: with both forms, the one the client changed). */
function grantsOfUpdate(body: Parameters<typeof requestedGrantsOnUpdate>[0], stored: readonly Grant[]): Grant[] | undefined {
  const asked = requestedGrantsOnUpdate(body, stored)
  if ('conflict' in asked) {
    throw new AppError(
      'INVALID_ACCESS_CONTROL',
      'access_grants and access_control disagree, and both differ from the stored access: send only the form you changed.',
    )
  }
  return asked.grants
}
