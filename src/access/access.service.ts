/**
 * Every access decision of modelgate goes through here: route handlers and other services ask, they
 * never decide themselves.
 */
import type { PermissionDefaults, UserRole } from '../config/env.js'
import { AppError } from '../errors/app-error.js'
import type { TopicCache } from '../cache/topic-cache.js'
import type { Executor } from '../db/executor.js'
import { AccessRepo, PrincipalsRepo } from './access.repo.js'
import type { Actor } from './actor.js'
import type { RuntimeView } from './base-chain.js'
import { hasFeaturePermission, resolveFeaturePermissions, type FeaturePermission, type ResolvedPermissions } from './feature-permissions.js'
import {
  addedGrants,
  EVERYONE,
  explainModelAccess,
  modelAbilities,
  modelPermissions,
  permissionForNewGrant,
  principalKey,
  type AccessExplanation,
  type AccessReason,
  type Grant,
  type ModelAbilities,
  type ModelCaller,
  type ModelPermissions,
  type Principals,
} from './model-grants.js'

/**
 * What an id is to a caller who wants to create it, or (import) create or overwrite it (issue #10,
 * holes 1 and 13): `create-refused` (no workspace.models; said before anything about the id),
 * `unavailable` (held by a model the caller cannot read, a conflicting row, or a provider's id the
 * caller may not override: one answer for all), `read-only`, `writable`, `free`.
 */
export type IdStatus = 'create-refused' | 'unavailable' | 'read-only' | 'writable' | 'free'

/** A reason behind the share ability: the write reasons, and the sharing permissions the account has or lacks. */
export type ShareReason = AccessReason | { kind: 'feature_permission'; permission: 'sharing.models' | 'sharing.public_models'; granted: boolean }

/** An imported item's grants: kept ones and warnings, or the reason the item is refused. */
export type ImportedGrants = { grants: Grant[]; warnings: string[] } | { refused: string }

/**
 * Where the default feature permissions come from: the environment's (a fixed value), or the settings an
 * admin saves (`POST /users/default/permissions`), read at every decision so a change applies at once.
 */
export type PermissionDefaultsSource = PermissionDefaults | { permissionDefaults(executor: Executor): Promise<PermissionDefaults> }

export class AccessService {
  constructor(
    private readonly repo: AccessRepo,
    private readonly principalsRepo: PrincipalsRepo,
    private readonly defaults: PermissionDefaultsSource,
    private readonly bypassAdminAccessControl: boolean,
    /**
     * The groups (and their permission trees) of each user, as every request asks them: invalidated by
     * every write of an account table (docs/performance.md, "Gateway caches"). Never used inside a
     * transaction (`on`), which must read its own writes.
     */
    private readonly memberships?: TopicCache<{ id: string; permissions: unknown }[]>,
  ) {}

  /** The user's groups with their permission trees: cached on the root service, read through a transaction's. */
  private groupsOf(userId: string): Promise<{ id: string; permissions: unknown }[]> {
    return this.memberships ? this.memberships.get(userId, () => this.repo.groupsOf(userId)) : this.repo.groupsOf(userId)
  }

  private async groupIdsOf(userId: string): Promise<string[]> {
    return this.memberships ? (await this.groupsOf(userId)).map((group) => group.id) : this.repo.groupIdsOf(userId)
  }

  private async permissionTreesOf(userId: string): Promise<unknown[]> {
    return this.memberships ? (await this.groupsOf(userId)).map((group) => group.permissions) : this.repo.permissionTreesOf(userId)
  }

  /**
   * The same service reading through `executor` (an open transaction). Checks made inside a transaction
   * must use it: on SQLite the transaction holds the only connection, so a query through the root
   * handle would wait for the transaction forever.
   */
  on(executor: Executor): AccessService {
    return new AccessService(new AccessRepo(executor), new PrincipalsRepo(executor), this.defaults, this.bypassAdminAccessControl)
  }

  /** The caller's principals for model decisions (one query for the group ids). */
  async principalsOf(actor: Actor): Promise<Principals> {
    return this.principalsWith(actor, actor.role === 'pending' ? [] : await this.groupIdsOf(actor.id))
  }

  /**
   * The caller with what abilities depend on, in one query (groups and their permission trees); answers
   * built for it are cached under `callerKey`, so a permission change gives a new key.
   */
  async modelCaller(actor: Actor): Promise<ModelCaller> {
    if (actor.role !== 'user') return { ...(await this.principalsOf(actor)), mayShare: actor.role === 'admin' }
    const [groups, defaults] = await Promise.all([this.groupsOf(actor.id), this.permissionDefaults()])
    const trees = groups.map((group) => group.permissions)
    const has = (path: FeaturePermission) => hasFeaturePermission(actor, path, trees, defaults)
    return {
      userId: actor.id,
      role: actor.role,
      groupIds: groups.map((group) => group.id),
      bypass: false,
      mayShare: has('sharing.models') || has('sharing.public_models'),
    }
  }

  modelPermissions(who: Principals, model: { user_id: string }, grants: readonly Grant[]): ModelPermissions {
    return modelPermissions(who, model, grants)
  }

  // ─── Explanations (issue #13: "why can this user see this model?") ─────────────────────────────

  /** An account's principals, its groups given (an explanation's subject; `principalsOf`, `runtimeView`). */
  principalsWith(account: Actor, groupIds: readonly string[]): Principals {
    return {
      userId: account.id,
      role: account.role,
      groupIds: account.role === 'pending' ? [] : groupIds,
      bypass: account.role === 'admin' && this.bypassAdminAccessControl,
    }
  }

  /** Why `who` may or may not read and write a model: the reasons of the one rule (model-grants.ts). */
  explainModelAccess(who: Principals, model: { user_id: string }, grants: readonly Grant[]): AccessExplanation {
    return explainModelAccess(who, model, grants)
  }

  /**
   * Why `account` may or may not change who else uses a model (the `share` ability): write access plus
   * sharing.models or sharing.public_models, as `modelCaller` and `modelAbilities` decide it.
   */
  async explainSharing(account: Actor, write: AccessExplanation['write']): Promise<{ allowed: boolean; reasons: ShareReason[] }> {
    const features = await Promise.all(
      (['sharing.models', 'sharing.public_models'] as const).map(async (permission) => ({ permission, granted: await this.hasFeature(account, permission) })),
    )
    const reasons: ShareReason[] = [...write.reasons, ...features.map((f) => ({ kind: 'feature_permission' as const, ...f }))]
    return { allowed: write.allowed && features.some((f) => f.granted), reasons }
  }

  /**
   * Who may ask why others can use a model: admins (governance is theirs even where
   * BYPASS_ADMIN_ACCESS_CONTROL is off) and whoever may change the model; others 404/403 as a write.
   */
  requireAccessExplain(actor: Actor, who: Principals, model: { id: string; user_id: string }, grants: readonly Grant[]): void {
    if (actor.role === 'admin') return
    this.requireModelWrite(who, model, grants)
  }

  /**
   * The caller's abilities on one model (`can` in answers; `write_access` is its write). `conflicting`:
   * the row is a conflict (`conflictingIds`), which can be read and deleted but not changed.
   */
  abilitiesOn(caller: ModelCaller, model: { user_id: string }, grants: readonly Grant[], conflicting: boolean): ModelAbilities {
    return modelAbilities(caller, model, grants, conflicting)
  }

  /** May the caller create models (workspace.models)? */
  mayCreateModels(actor: Actor): Promise<boolean> {
    return this.hasFeature(actor, 'workspace.models')
  }

  /**
   * Holes 1 and 13 for one id (see IdStatus). `existing`: the row holding the id, its grants, and whether
   * it is a conflict (`conflictingIds`); `served`: whether a provider serves the id; `mayCreate`: the
   * answer of mayCreateModels (create asks it first and refuses, so it passes true).
   */
  idStatus(
    actor: Actor,
    who: Principals,
    target: { mayCreate: boolean; served: boolean; existing?: { row: { user_id: string }; grants: readonly Grant[]; conflicting: boolean } | undefined },
  ): IdStatus {
    const { existing } = target
    if (existing) {
      const permissions = modelPermissions(who, existing.row, existing.grants)
      // A model the caller cannot read is not said to exist: the answer of a provider's id, or, for a
      // caller who may not create models, the one of a free id.
      if (!permissions.read) return target.mayCreate ? 'unavailable' : 'create-refused'
      if (!permissions.write) return 'read-only'
      return existing.conflicting ? 'unavailable' : 'writable'
    }
    if (!target.mayCreate) return 'create-refused'
    return target.served && !this.mayOverrideProviderModel(actor.role) ? 'unavailable' : 'free'
  }

  /**
   * Base-model override rows (no base_model_id) rename, hide or restrict a provider's model for
   * everyone, so only admins may create them (through create, import or an access update).
   */
  mayManageOverrides(actor: Actor): boolean {
    return actor.role === 'admin'
  }

  /**
   * May `actor` give a model this base (`before`: its current base_model_id, undefined for a new model)?
   * An override row (base null) decides what a provider id means for everyone, so creating one, or
   * turning an override into a preset or a preset into an override, is an admin's call (issue #10,
   * hole 1: otherwise a write-grantee of an admin's override could repoint the provider id). Editing a
   * model without changing its kind needs only write access.
   */
  maySetBaseModel(actor: Actor, before: string | null | undefined, after: string | null): boolean {
    if (before === undefined) return after !== null || this.mayManageOverrides(actor)
    return (before === null) === (after === null) || this.mayManageOverrides(actor)
  }

  /**
   * A provider model without an override row: admins only, unless BYPASS_MODEL_ACCESS_CONTROL opens
   * every model to everyone (Open WebUI's rule). `bypassModelAccessControl` comes from the config.
   * Also asked of a preset's owner (only the role counts): see `mayUseRawBase`.
   */
  mayUseUnregisteredModel(actor: Pick<Actor, 'role'>, bypassModelAccessControl: boolean): boolean {
    return bypassModelAccessControl || actor.role === 'admin'
  }

  /**
   * Id squatting (issue #10, hole 1): a row whose id a provider serves is that model's override for
   * everybody, so it counts only when its owner is an admin now (`ownerRole`: the owner's current role,
   * undefined when the account is gone). Anyone else's row with such an id is a conflict: refused on
   * create, import and update, and ignored at run time (it never shadows the provider model).
   */
  mayOverrideProviderModel(ownerRole: UserRole | undefined): boolean {
    return ownerRole === 'admin'
  }

  /**
   * Write time of hole 2: may `actor` make a model reference `base` as its base model? A registered
   * row only when the actor may read it; an id without a row (served or not, and a row that does not
   * count because of `mayOverrideProviderModel`) only when the actor may use unregistered models.
   */
  mayReferenceBaseModel(actor: Actor, base: 'readable row' | 'unreadable row' | 'no row', bypassModelAccessControl: boolean): boolean {
    if (base === 'no row') return this.mayUseUnregisteredModel(actor, bypassModelAccessControl)
    return base === 'readable row'
  }

  /**
   * Call time of hole 2: the raw provider model at the end of a preset's base chain is usable when the
   * caller may use unregistered models, or when the owner (current role) of the preset that references
   * it may: an admin's preset exposes its raw base to the preset's readers, a user's preset does not.
   */
  mayUseRawBase(caller: Pick<Actor, 'role'>, referencingOwnerRole: UserRole | undefined, bypassModelAccessControl: boolean): boolean {
    return (
      this.mayUseUnregisteredModel(caller, bypassModelAccessControl) ||
      (referencingOwnerRole !== undefined && this.mayUseUnregisteredModel({ role: referencingOwnerRole }, bypassModelAccessControl))
    )
  }

  /**
   * What `actor` may see and use at run time (the runtime list and chat resolution follow base chains
   * with it, base-chain.ts). An admin bypassing access control, and everybody under
   * BYPASS_MODEL_ACCESS_CONTROL, reads every model without grants being consulted.
   */
  async runtimeView(actor: Actor, bypassModelAccessControl: boolean): Promise<RuntimeView> {
    if (!this.memberships || actor.role === 'pending') return this.runtimeViewOf(await this.principalsOf(actor), bypassModelAccessControl)
    // Asked on every chat request: the view is kept with the cached memberships it was built from (a
    // membership change replaces them, and with them the view), per account id, role and flag.
    const groups = await this.groupsOf(actor.id)
    let views = this.runtimeViews.get(groups)
    if (!views) this.runtimeViews.set(groups, (views = new Map<string, RuntimeView>()))
    const key = `${actor.id}\u0000${actor.role}\u0000${bypassModelAccessControl}`
    let view = views.get(key)
    if (!view) {
      views.set(
        key,
        (view = this.runtimeViewOf(
          this.principalsWith(
            actor,
            groups.map((group) => group.id),
          ),
          bypassModelAccessControl,
        )),
      )
    }
    return view
  }

  private readonly runtimeViews = new WeakMap<object, Map<string, RuntimeView>>()

  /**
   * `runtimeView` for principals already loaded (as `principalsOf` decides them; a `ModelCaller` is
   * one): the registry's answers (`status`, docs/models.md) follow base chains as chat would for the caller.
   */
  runtimeViewOf(who: Principals, bypassModelAccessControl: boolean): RuntimeView {
    const actor = { role: who.role }
    const readsAll = bypassModelAccessControl || who.bypass
    return {
      who,
      key: principalKey(who),
      reader: readsAll ? { ...who, bypass: true } : who,
      needsGrants: !readsAll,
      mayRead: (row, grants) => readsAll || modelPermissions(who, row, grants).read,
      mayUseRawBase: (role) => this.mayUseRawBase(actor, role, bypassModelAccessControl),
      mayOverrideProviderModel: (role) => this.mayOverrideProviderModel(role),
    }
  }

  /** Forcing every provider to be asked again is an admin's call (others' `refresh=true` is ignored). */
  mayRefreshProviders(actor: Actor): boolean {
    return actor.role === 'admin'
  }

  /** Read access or 404 MODEL_NOT_FOUND: a model you may not read is not said to exist. */
  requireModelRead(who: Principals, model: { id: string; user_id: string }, grants: readonly Grant[]): ModelPermissions {
    const permissions = modelPermissions(who, model, grants)
    if (!permissions.read) throw modelNotFound(model.id)
    return permissions
  }

  /** Write access: 404 when the model cannot even be read, 403 when it can be read but not written. */
  requireModelWrite(who: Principals, model: { id: string; user_id: string }, grants: readonly Grant[]): void {
    const permissions = this.requireModelRead(who, model, grants)
    if (!permissions.write) {
      throw new AppError('ACCESS_PROHIBITED', `You may read model "${model.id}" but not change it.`)
    }
  }

  /**
   * Checks a change of a model's grants from `before` to `after` by a caller who may write the model:
   * a new public grant needs `sharing.public_models`, a new user or group grant `sharing.models`
   * (admins have both), and every principal must exist. Grants kept as they were need nothing, so a
   * write-grantee can edit a public model without being allowed to make models public.
   */
  async checkGrantChange(actor: Actor, before: readonly Grant[], after: readonly Grant[]): Promise<void> {
    const added = addedGrants(before, after)
    const refusal = await this.sharingRefusal(actor)(before, after)
    if (refusal) throw refusal
    const unknown = await this.unknownPrincipals(added)
    if (unknown.length > 0) {
      throw new AppError('INVALID_ACCESS_CONTROL', `access_grants: ${unknown.map((g) => `no ${g.principal_type} with id "${g.principal_id}"`).join('; ')}`)
    }
  }

  /**
   * The sharing part of checkGrantChange, for many models by one caller (bulk access changes): answers
   * the refusal of a change from `before` to `after`, or null. The caller's sharing permissions are
   * read once, when a change first needs them.
   */
  sharingRefusal(actor: Actor): (before: readonly Grant[], after: readonly Grant[]) => Promise<AppError | null> {
    const has = new Map<FeaturePermission, Promise<boolean>>()
    const hasOnce = (path: FeaturePermission) => {
      let answer = has.get(path)
      if (!answer) has.set(path, (answer = this.hasFeature(actor, path)))
      return answer
    }
    return async (before, after) => {
      const needs = new Set(addedGrants(before, after).map(permissionForNewGrant))
      if (needs.has('sharing.public_models') && !(await hasOnce('sharing.public_models'))) {
        return new AppError('ACCESS_PROHIBITED', 'Making a model public needs the "sharing.public_models" permission. Ask an administrator.')
      }
      if (needs.has('sharing.models') && !(await hasOnce('sharing.models'))) {
        return new AppError('ACCESS_PROHIBITED', 'Sharing a model with users or groups needs the "sharing.models" permission.')
      }
      return null
    }
  }

  /**
   * The grant-change rule of checkGrantChange for import (hole 4 of issue #10), with import's outcome:
   * grants naming a user or group unknown here are dropped with a warning (export files travel between
   * instances); a new grant the importer may not add refuses the item. Prepared once for a whole file
   * (`requested`: every grant it asks for; a few queries), then applied to each item in memory.
   */
  async importedGrantsChecker(
    actor: Actor,
    requested: readonly Grant[],
  ): Promise<(item: { before: readonly Grant[]; requested: readonly Grant[] }) => ImportedGrants> {
    const unknown = new Set((await this.unknownPrincipals(requested)).map((g) => `${g.principal_type}:${g.principal_id}`))
    const has = {
      'sharing.public_models': requested.length > 0 && (await this.hasFeature(actor, 'sharing.public_models')),
      'sharing.models': requested.length > 0 && (await this.hasFeature(actor, 'sharing.models')),
    }
    return ({ before, requested: wanted }) => {
      const grants: Grant[] = []
      const warnings: string[] = []
      for (const grant of wanted) {
        const principal = `${grant.principal_type}:${grant.principal_id}`
        const isNew = addedGrants(before, [grant]).length > 0
        const needs = permissionForNewGrant(grant)
        if (unknown.has(principal)) {
          warnings.push(`grant to unknown ${grant.principal_type} "${grant.principal_id}" dropped`)
        } else if (isNew && !has[needs]) {
          return {
            refused:
              needs === 'sharing.public_models'
                ? 'access: making a model public needs the "sharing.public_models" permission; nothing of this item was imported'
                : `access: a grant to ${principal} needs the "sharing.models" permission; nothing of this item was imported`,
          }
        } else {
          grants.push(grant)
        }
      }
      return { grants, warnings }
    }
  }

  /** The grants among `grants` that name an account or group that does not exist. */
  async unknownPrincipals(grants: readonly Grant[]): Promise<Grant[]> {
    const userIds = grants.filter((g) => g.principal_type === 'user' && g.principal_id !== EVERYONE).map((g) => g.principal_id)
    const groupIds = grants.filter((g) => g.principal_type === 'group').map((g) => g.principal_id)
    const [users, groups] = await Promise.all([
      this.principalsRepo.existingUserIds([...new Set(userIds)]),
      this.principalsRepo.existingGroupIds([...new Set(groupIds)]),
    ])
    return grants.filter((g) => (g.principal_type === 'group' ? !groups.has(g.principal_id) : g.principal_id !== EVERYONE && !users.has(g.principal_id)))
  }

  async featurePermissions(actor: Actor): Promise<ResolvedPermissions> {
    const trees = actor.role === 'user' ? await this.permissionTreesOf(actor.id) : []
    return resolveFeaturePermissions(actor, trees, await this.permissionDefaults())
  }

  /** The default feature permissions now (every user has them before groups). */
  permissionDefaults(): Promise<PermissionDefaults> {
    const source = this.defaults
    // Read through this service's executor: inside a transaction (`on(trx)`) the root handle may wait for it.
    return 'permissionDefaults' in source ? source.permissionDefaults(this.repo.executor) : Promise.resolve(source)
  }

  async hasFeature(actor: Actor, path: FeaturePermission): Promise<boolean> {
    if (actor.role !== 'user') return actor.role === 'admin'
    const [trees, defaults] = await Promise.all([this.permissionTreesOf(actor.id), this.permissionDefaults()])
    return hasFeaturePermission(actor, path, trees, defaults)
  }

  /** Throws 403 ACCESS_PROHIBITED naming the missing permission. */
  async requireFeature(actor: Actor, path: FeaturePermission): Promise<void> {
    if (!(await this.hasFeature(actor, path))) {
      throw new AppError('ACCESS_PROHIBITED', `You need the "${path}" permission to do this. Ask an administrator.`)
    }
  }

  /** Pending accounts may only use the auth endpoints; everything else answers 403. */
  requireVerified(actor: Actor): void {
    if (actor.role === 'pending') {
      throw new AppError('ACCESS_PROHIBITED', 'Your account is pending approval by an administrator.')
    }
  }

  requireAdmin(actor: Actor): void {
    this.requireVerified(actor)
    if (actor.role !== 'admin') throw new AppError('ACCESS_PROHIBITED', 'This action needs an administrator.')
  }

  // ─── Model history (issue #12, docs/history.md) ────────────────────────────────────────────────

  /**
   * Who sees a model's history, and how much. A live model's history follows read access (404
   * MODEL_NOT_FOUND otherwise, as the model routes answer); a deleted model's (no live row) is its last
   * owner's and the admins' (the trash's rule), 404 for everybody else: the answer of an id that never
   * existed. Writers and admins see everything; readers see no grants and no author but the owner and
   * themselves. Only admins see the versions of earlier models on the id (before its latest `create`):
   * a new owner of a re-used id does not read the old model's life.
   */
  historyAccess(actor: Actor, who: Principals, id: string, model: HistoryTarget): HistoryAccess {
    const allLives = actor.role === 'admin'
    if (model.live) {
      const permissions = modelPermissions(who, model.live, model.grants)
      if (!permissions.read) throw modelNotFound(id)
      return { level: permissions.write || actor.role === 'admin' ? 'full' : 'redacted', allLives }
    }
    if (model.deletedOwnerId === null || !this.mayRestoreDeleted(actor, model.deletedOwnerId)) throw modelNotFound(id)
    return { level: 'full', allLives }
  }

  /** A deleted model is listed in the trash of, and can be brought back by, its last owner and admins. */
  mayRestoreDeleted(actor: Actor, lastOwnerId: string): boolean {
    return actor.role === 'admin' || actor.id === lastOwnerId
  }

  /** Readers see who made a version only when it was the owner or themselves (other authors stay private). */
  historyAuthorVisible(actor: Actor, access: HistoryAccess, authorId: string | null, ownerId: string | null): boolean {
    return authorId !== null && (access.level === 'full' || authorId === actor.id || authorId === ownerId)
  }

  /** The trash an account sees: admins every deleted model, others the ones they owned. */
  trashScope(actor: Actor): 'all' | 'own' {
    return actor.role === 'admin' ? 'all' : 'own'
  }

  // ─── Configuration templates (issue #13 part 1, docs/templates.md) ────────────────────────────

  /**
   * Who may read and change a template: the models' rule (owner, a read or write grant of the template's
   * own, a bypassing admin), on the template's own grants.
   */
  templatePermissions(who: Principals, template: { user_id: string }, grants: readonly Grant[]): ModelPermissions {
    return modelPermissions(who, template, grants)
  }

  /** Read access to a template or 404 NOT_FOUND: a template you may not read is not said to exist. */
  requireTemplateRead(who: Principals, template: { id: string; user_id: string }, grants: readonly Grant[]): ModelPermissions {
    const permissions = modelPermissions(who, template, grants)
    if (!permissions.read) throw templateNotFound(template.id)
    return permissions
  }

  /** Write access to a template: 404 when it cannot even be read, 403 when it can be read but not changed. */
  requireTemplateWrite(who: Principals, template: { id: string; user_id: string }, grants: readonly Grant[]): void {
    if (!this.requireTemplateRead(who, template, grants).write) {
      throw new AppError('ACCESS_PROHIBITED', `You may read template "${template.id}" but not change it.`)
    }
  }

  /**
   * Locked parameters: a model made from (or last applied from) a template keeps the template's locked
   * keys; a non-admin change of one (its value before and after differ, removal included) answers 409
   * PARAM_LOCKED naming the key. Admins may change them.
   */
  lockedParamRefusal(actor: Actor, locked: readonly string[], before: Record<string, unknown>, after: Record<string, unknown>): AppError | null {
    if (actor.role === 'admin') return null
    for (const key of locked) {
      const had = Object.hasOwn(before, key)
      const has = Object.hasOwn(after, key)
      if (had !== has || (had && JSON.stringify(canonical(before[key])) !== JSON.stringify(canonical(after[key])))) {
        return new AppError('PARAM_LOCKED', `params.${key} is locked by the model's template; only an administrator may change it.`)
      }
    }
    return null
  }

  /**
   * Applying a template to a model (non-admins; admins may always): locks must hold on this path too.
   * - A model that follows another template with locked keys keeps following it: re-linking it would
   *   drop those locks (and a changed locked value is refused as on update) — PARAM_LOCKED.
   * - A template that locks keys binds the model's owner, so only the owner may put it on their model: a
   *   writer who is not the owner could otherwise lock the owner out of their own model — ACCESS_PROHIBITED.
   */
  templateApplyRefusal(
    actor: Actor,
    model: { user_id: string; template_id: string | null },
    template: { id: string; locked_params: readonly string[] | null },
    currentLocks: readonly string[],
  ): AppError | null {
    if (actor.role === 'admin') return null
    if (model.template_id !== null && model.template_id !== template.id && currentLocks.length > 0) {
      return new AppError(
        'PARAM_LOCKED',
        `This model follows template "${model.template_id}", which locks parameters; only an administrator may apply another template to it.`,
      )
    }
    if ((template.locked_params?.length ?? 0) > 0 && model.user_id !== actor.id) {
      return new AppError('ACCESS_PROHIBITED', "Only the model's owner or an administrator may apply a template that locks parameters.")
    }
    return null
  }

  /** Pruning history destroys what restores and audits need: an admin's call. */
  requireHistoryPrune(actor: Actor): void {
    this.requireAdmin(actor)
  }
}

export const modelNotFound = (id: string) => new AppError('MODEL_NOT_FOUND', `Model "${id}" was not found.`)

/** A template that does not exist, or that the caller may not read (existence is not revealed). */
export const templateNotFound = (id: string) => new AppError('NOT_FOUND', `Template "${id}" was not found.`)

// ─── Model history (issue #12, docs/history.md) ──────────────────────────────────────────────────

/**
 * What a caller sees of one model's history: `full` (writers and admins: grants and every author),
 * `redacted` (readers: no grants, no author but the owner and themselves); `allLives`: also the versions
 * of earlier models on the id (before its latest `create`), admins only.
 */
export interface HistoryAccess {
  level: 'full' | 'redacted'
  allLives: boolean
}

/** The model whose history is asked for: live (row and grants), or deleted (the owner its deletion recorded). */
export type HistoryTarget = { live: { user_id: string }; grants: readonly Grant[] } | { live: null; deletedOwnerId: string | null }

/** A JSON value with object keys sorted (equality of values whatever their key order). */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    )
  }
  return value
}
