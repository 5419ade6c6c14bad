/**
 * What writes, import and sync share (one copy): the transaction that bumps the registry version,
 * readable and writable lookups, and the id and base checks of issue #10 (holes 1, 2 and 13). The
 * decisions are the access service's; this only gathers the rows they need and turns answers into errors.
 */
import { modelNotFound, templateNotFound, type AccessService, type IdStatus } from '../access/access.service.js'
import type { Actor } from '../access/actor.js'
import { ModelGrantsRepo, type GrantRow } from '../access/model-grants.repo.js'
import type { Grant, ModelCaller, Principals } from '../access/model-grants.js'
import type { Database } from '../db/database.js'
import { CoalescedBump } from '../cache/coalesced-bump.js'
import { TopicCache } from '../cache/topic-cache.js'
import type { Executor } from '../db/executor.js'
import { AppError, fieldError, preconditionFailed } from '../errors/app-error.js'
import { versionMatches, type ExpectedVersion } from './if-match.js'
import { conflictingIds } from './conflicts.js'
import { presentModel } from './models.presenter.js'
import { ModelVersions } from './model-versions.js'
import { ModelsRepo, type ModelRow } from './models.repo.js'
import type { ModelForm, ModelResponse, ModelWriteResponse } from './models.schema.js'
import { modelStatuses, STATUS_OK } from './model-status.js'

/**
 * What the providers serve now (the model catalog, wired in services.ts): model id → connection id.
 * The registry needs it for hole 1 of issue #10 (a provider's id is not free for everybody).
 */
export interface ServedModels {
  servedIds(): Promise<ReadonlyMap<string, string>>
  /** The provider models and enabled connections, for the admin's base-model list (GET /base/list). */
  catalog(): Promise<ServedCatalog>
}

/** What the admin's base-model list shows of the providers (connections in their order, then each one's models). */
export interface ServedCatalog {
  models: readonly { id: string; name: string; owned_by: string; connection_id: string }[]
  connections: readonly { id: string; name: string }[]
}

/**
 * What the registry asks of configuration templates (docs/templates.md), wired in services.ts through
 * `Registry.useTemplates`: the templates feature builds on the registry, so the registry does not import it.
 */
export interface ModelTemplates {
  /** A create naming `template_id`: the form with the template's sections filled in (404 when the caller may not read it). */
  fillForm(actor: Actor, form: ModelForm): Promise<ModelForm>
  /** The locked parameter keys of each template among `templateIds` that has some, read through `tx`. */
  lockedParams(templateIds: readonly string[], tx: RegistryTx): Promise<Map<string, string[]>>
  /**
   * A write is about to link models to the template (`models.template_id`): the template is read inside
   * the write's transaction and held against deletion until it ends (404 NOT_FOUND when it was deleted
   * meanwhile), so a model never keeps the id of a deleted template.
   */
  holdForLink(templateId: string, tx: RegistryTx): Promise<void>
}

/** Before templates are wired (and in tools that build a registry alone): no template exists. */
const NO_TEMPLATES: ModelTemplates = {
  fillForm: (_actor, form) => Promise.reject(templateNotFound(form.template_id ?? '')),
  lockedParams: () => Promise.resolve(new Map()),
  holdForLink: (templateId) => Promise.reject(templateNotFound(templateId)),
}

/** The repositories and access service of one transaction (or of the root handle, for dry runs). */
export interface RegistryTx {
  models: ModelsRepo
  grants: ModelGrantsRepo
  access: AccessService
  /** Versions written in this transaction (see model-versions.ts). */
  versions: ModelVersions
  /** The transaction itself (the root handle for dry runs), for writers outside the registry (the audit log). */
  executor: Executor
}

/** Where a base model id points, as the write-time rule of hole 2 sees it. */
export type BaseKind = 'readable row' | 'unreadable row' | 'no row'

/** How often a registry version bump after a commit is tried before the write's answer fails. */
const BUMP_ATTEMPTS = 3

export class Registry {
  readonly models: ModelsRepo
  readonly grants: ModelGrantsRepo
  private templateHooks: ModelTemplates = NO_TEMPLATES
  /** The registry version as every list and chat request reads it: kept until a registry write (write watch, bus). */
  private readonly versionCache: TopicCache<number>
  /** The registry version's bump after a write commits, shared by the writes committed meanwhile. */
  private readonly versionBump = new CoalescedBump(() => this.sendBump())

  constructor(
    readonly database: Database,
    readonly access: AccessService,
    readonly served: ServedModels,
    readonly bypassModelAccessControl: boolean,
    readonly historyMaxVersions: number | null = null,
  ) {
    this.models = new ModelsRepo(database.db)
    this.grants = new ModelGrantsRepo(database.db)
    this.versionCache = new TopicCache(database.watch, 'registry', 1)
  }

  /** The registry version now (cached answers are valid at it): read from memory while no registry write was seen. */
  version(): Promise<number> {
    return this.versionCache.get('', () => this.models.version())
  }

  /** Wires the templates feature (services.ts). */
  useTemplates(templates: ModelTemplates): void {
    this.templateHooks = templates
  }

  get templates(): ModelTemplates {
    return this.templateHooks
  }

  /**
   * A non-admin change of a locked parameter of a model made from a template: 409 PARAM_LOCKED naming
   * the key (`after`: the params the write stores). Nothing to check for a model without template.
   */
  async checkLockedParams(actor: Actor, row: ModelRow, after: Record<string, unknown>, tx: RegistryTx): Promise<void> {
    if (!row.template_id || actor.role === 'admin') return
    const locked = (await this.templateHooks.lockedParams([row.template_id], tx)).get(row.template_id) ?? []
    const refusal = this.access.lockedParamRefusal(actor, locked, JSON.parse(row.params) as Record<string, unknown>, after)
    if (refusal) throw refusal
  }

  /** The root handle's repositories, for reads outside a transaction. */
  get root(): RegistryTx {
    return {
      models: this.models,
      grants: this.grants,
      access: this.access,
      versions: new ModelVersions(this.database.db, this.models, this.grants, this.historyMaxVersions),
      executor: this.database.db,
    }
  }

  /**
   * Runs registry writes in one transaction, then bumps the registry version. Every query of the work,
   * access checks included, must go through the repositories and access service it is given.
   *
   * The bump runs after the COMMIT, not in the transaction: in it, every writer held the one version row
   * locked until its COMMIT (a round trip to Node and a WAL flush later), so all writes of the registry
   * took turns (docs/performance.md, "PostgreSQL writes and deep pages"). After it, a bump started after
   * the commit is shared by every write committed meanwhile (CoalescedBump). The answer waits for it, so
   * a read after the answer is at a newer version than any answer cached before the write. A reader
   * between the commit and the bump may cache the new state under the old version: that entry is retired
   * by the bump like the others (a page newer than its version, never older).
   */
  async inTransaction<T>(work: (tx: RegistryTx) => Promise<T>): Promise<T> {
    const result = await this.database.db.transaction().execute(async (trx) => {
      const models = new ModelsRepo(trx)
      const grants = new ModelGrantsRepo(trx)
      const versions = new ModelVersions(trx, models, grants, this.historyMaxVersions)
      return work({ models, grants, access: this.access.on(trx), versions, executor: trx })
    })
    await this.versionBump.bump()
    return result
  }

  /**
   * The bump, tried up to BUMP_ATTEMPTS times: its write has committed, and until the version moves every
   * versioned cache (runtime lists, resolutions) keeps serving the state before it (a revoked grant still
   * resolving: review 2026-12-07). A bump that still fails fails the write's answer.
   */
  private async sendBump(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.models.bumpVersion()
      } catch (error) {
        if (attempt >= BUMP_ATTEMPTS) throw error
        await new Promise((resolve) => setTimeout(resolve, 20 * attempt))
      }
    }
  }

  /** The row and grants of a model the caller may read (404 otherwise). */
  async readable(who: Principals, id: string): Promise<{ row: ModelRow; grants: GrantRow[] }> {
    const row = await this.models.findById(id)
    if (!row) throw modelNotFound(id)
    const grants = (await this.grants.grantsOf([id])).get(id) ?? []
    this.access.requireModelRead(who, row, grants)
    return { row, grants }
  }

  /**
   * The row (locked) and grants of a model the caller may write (404 or 403 otherwise), at the version
   * the caller expects (If-Match; 412 with the current version otherwise). The precondition is checked
   * after access, so a caller who may not write the model learns nothing from its version.
   */
  async writable(who: Principals, id: string, tx: RegistryTx, expected?: ExpectedVersion): Promise<{ row: ModelRow; grants: Grant[]; grantRows: GrantRow[] }> {
    // Locked first: writers of one model (and its grants) take turns; after a delete there is no row.
    const row = await tx.models.findByIdForUpdate(id, this.database.dialect)
    if (!row) throw modelNotFound(id)
    const grantRows = (await tx.grants.grantsOf([id])).get(id) ?? []
    const grants = grantRows.map(toGrant)
    this.access.requireModelWrite(who, row, grants)
    if (!versionMatches(expected, Number(row.version))) throw preconditionFailed(Number(row.version))
    return { row, grants, grantRows }
  }

  /**
   * Base-model overrides (rows without base_model_id) rename, hide or restrict a provider's model for
   * everyone, so only admins may create them or change a model between override and preset
   * (`before`: the current base, undefined on create); and no model may be its own base.
   */
  checkBaseModel(actor: Actor, id: string, before: string | null | undefined, baseModelId: string | null): void {
    if (baseModelId === id) throw fieldError('VALIDATION_ERROR', 'body.base_model_id', 'a model cannot be its own base model.')
    if (!this.access.maySetBaseModel(actor, before, baseModelId)) {
      throw new AppError(
        'ACCESS_PROHIBITED',
        'Only administrators may create base-model overrides (base_model_id null) or change a model between override and preset.',
      )
    }
  }

  /**
   * Hole 1 and 13 on create (the caller may create models): an id the caller can read is taken
   * (MODEL_ID_TAKEN); one held by a model they cannot read, or served by a provider while they may not
   * override provider models, is unavailable (MODEL_ID_UNAVAILABLE, one text for both).
   */
  async checkIdFree(actor: Actor, who: Principals, id: string, tx: RegistryTx, served: ReadonlyMap<string, string>): Promise<void> {
    const row = await tx.models.findById(id)
    const grants = row ? ((await tx.grants.grantsOf([id])).get(id) ?? []) : []
    this.refuseTakenId(actor, who, id, served, row && { row, grants })
  }

  /** checkIdFree's decision, on the row of the id already read (undefined: none) with its grants. */
  private refuseTakenId(
    actor: Actor,
    who: Principals,
    id: string,
    served: ReadonlyMap<string, string>,
    existing: { row: ModelRow; grants: GrantRow[] } | undefined,
  ): void {
    const status = this.access.idStatus(actor, who, { mayCreate: true, served: served.has(id), existing: existing && { ...existing, conflicting: false } })
    if (status !== 'free') throw idTakenError(status, id)
  }

  /**
   * A create's checks (checkIdFree, then checkBaseReference, in that order) on one read of both rows and
   * one of their grants: on PostgreSQL each read is a round trip (docs/performance.md, "Model writes,
   * round trips"). Answers the base's row as read (null: no row), which the answer's status starts from.
   */
  async checkNewModel(
    actor: Actor,
    who: Principals,
    id: string,
    baseModelId: string | null,
    tx: RegistryTx,
    served: ReadonlyMap<string, string>,
  ): Promise<ReadonlyMap<string, ModelRow | null>> {
    const ids = baseModelId === null || baseModelId === id ? [id] : [id, baseModelId]
    const found = await tx.models.findByIds(ids)
    const row = found.find((candidate) => candidate.id === id)
    const base = baseModelId === null ? undefined : found.find((candidate) => candidate.id === baseModelId)
    // A conflicting base counts as no row (baseKinds): its grants are not needed.
    const baseConflicts = base ? await conflictingIds(tx.models, this.access, [base], served) : new Set<string>()
    const withGrants = found.filter((candidate) => candidate === row || !baseConflicts.has(candidate.id))
    const grants = withGrants.length > 0 ? await tx.grants.grantsOf(withGrants.map((candidate) => candidate.id)) : new Map<string, GrantRow[]>()
    this.refuseTakenId(actor, who, id, served, row && { row, grants: grants.get(id) ?? [] })
    if (baseModelId !== null) {
      const kind = base && !baseConflicts.has(base.id) ? this.baseKindOf(who, base, grants.get(base.id) ?? []) : 'no row'
      this.refuseBaseReference(actor, kind, tx)
    }
    return new Map(baseModelId === null ? [] : [[baseModelId, base ?? null]])
  }

  /** A conflicting row (hole 1) can be read and deleted, not changed: 409 MODEL_ID_UNAVAILABLE. */
  async refuseConflict(row: ModelRow, models: ModelsRepo, served: ReadonlyMap<string, string>): Promise<void> {
    if ((await conflictingIds(models, this.access, [row], served)).has(row.id)) {
      throw new AppError('MODEL_ID_UNAVAILABLE', 'This model id is not available any more: the model can be deleted, not changed.')
    }
  }

  /** Where each base id points for the caller; a conflicting row counts as no row (hole 1). */
  async baseKinds(who: Principals, ids: readonly string[], tx: RegistryTx, served: ReadonlyMap<string, string>): Promise<Map<string, BaseKind>> {
    const result = new Map<string, BaseKind>(ids.map((id) => [id, 'no row']))
    const found = await tx.models.findByIds([...new Set(ids)])
    const conflicts = await conflictingIds(tx.models, this.access, found, served)
    const rows = found.filter((row) => !conflicts.has(row.id))
    const grants = await tx.grants.grantsOf(rows.map((row) => row.id))
    for (const row of rows) result.set(row.id, this.baseKindOf(who, row, grants.get(row.id) ?? []))
    return result
  }

  /** What a base row that does not conflict is to the caller. */
  private baseKindOf(who: Principals, row: ModelRow, grants: readonly GrantRow[]): BaseKind {
    return this.access.modelPermissions(who, row, grants).read ? 'readable row' : 'unreadable row'
  }

  /** Hole 2 at write time: 400 BASE_MODEL_UNAVAILABLE (one text for every refused case). */
  async checkBaseReference(actor: Actor, who: Principals, baseModelId: string, tx: RegistryTx, served: ReadonlyMap<string, string>): Promise<void> {
    this.refuseBaseReference(actor, (await this.baseKinds(who, [baseModelId], tx, served)).get(baseModelId) ?? 'no row', tx)
  }

  private refuseBaseReference(actor: Actor, kind: BaseKind, tx: RegistryTx): void {
    if (!tx.access.mayReferenceBaseModel(actor, kind, this.bypassModelAccessControl)) throw baseModelUnavailable()
  }

  /**
   * One model as a write answers it (create, update, toggle, access update, restore), read through `tx`:
   * with the caller's abilities and its `status` (model-status.ts). `served`: the catalog the write
   * checked against; whether the row conflicts is still asked, not assumed.
   */
  async writeAnswer(
    caller: ModelCaller,
    tx: RegistryTx,
    row: ModelRow,
    grants: readonly GrantRow[],
    served: ReadonlyMap<string, string>,
    /** Rows of its base chain the write has already read (null: no row), not read again for the status. */
    known?: ReadonlyMap<string, ModelRow | null>,
  ): Promise<ModelWriteResponse> {
    // One after the other: inside a transaction every query goes through its one connection.
    const conflicting = await conflictingIds(tx.models, tx.access, [row], served)
    const status = (await modelStatuses(tx, caller, this.bypassModelAccessControl, [row], served, known)).get(row.id) ?? STATUS_OK
    return { ...presentModel(row, grants), can: tx.access.abilitiesOn(caller, row, grants, conflicting.has(row.id)), status }
  }

  /** Rows as the API gives them, grants included (one query per 500 rows). */
  async present(rows: readonly ModelRow[], grantsRepo: ModelGrantsRepo = this.grants): Promise<ModelResponse[]> {
    const grants = await grantsRepo.grantsOf(rows.map((row) => row.id))
    return rows.map((row) => presentModel(row, grants.get(row.id) ?? []))
  }
}

/** The answer to a create whose id is not free (see AccessService.idStatus). */
export function idTakenError(status: Exclude<IdStatus, 'free'>, id: string): AppError {
  return status === 'unavailable' || status === 'create-refused' ? modelIdUnavailable() : modelIdTaken(id)
}

const modelIdTaken = (id: string) => new AppError('MODEL_ID_TAKEN', `The model id "${id}" is already registered. Choose another id.`)

/**
 * Hole 1 and 13: one answer for an id a provider serves and an id held by a model the caller cannot
 * read. The text does not even repeat the id, so the two answers are the same bytes.
 */
const modelIdUnavailable = () => new AppError('MODEL_ID_UNAVAILABLE', 'This model id is not available. Choose another id.')

/** Hole 2: one answer (same bytes) for an unknown id, a raw provider model and a model the caller cannot read. */
const baseModelUnavailable = () => new AppError('BASE_MODEL_UNAVAILABLE', 'base_model_id: this base model is not available to you.')

export const toGrant = (row: GrantRow): Grant => ({
  principal_type: row.principal_type,
  principal_id: row.principal_id,
  permission: row.permission,
})

export function tagNames(meta: { tags?: { name: string }[] | undefined }): string[] {
  return (meta.tags ?? []).map((tag) => tag.name)
}
