/**
 * Grants on models: the two input forms (design.md §2.2), their normal form, and the rule that decides
 * read and write for one model. The SQL form of the same rule is in model-grants.repo.ts; a property
 * test checks that both agree with a plain reference.
 */
import type { UserRole } from '../config/env.js'

export type PrincipalType = 'user' | 'group'
export type GrantPermission = 'read' | 'write'

export interface Grant {
  principal_type: PrincipalType
  principal_id: string
  permission: GrantPermission
}

/** `principal_id` of the user grant that means "every verified user". */
export const EVERYONE = '*'

/** The seed's access form: null = public read, {} = private, {read, write} lists. */
export type AccessControl = {
  read?: { group_ids?: string[] | undefined; user_ids?: string[] | undefined } | undefined
  write?: { group_ids?: string[] | undefined; user_ids?: string[] | undefined } | undefined
} | null

/** The seed form as responses give it: lists always present. */
export type AccessControlOutput = {
  read?: { group_ids: string[]; user_ids: string[] }
  write?: { group_ids: string[]; user_ids: string[] }
} | null

/** Who is asking, with what they need for model decisions. */
export interface Principals {
  userId: string
  role: UserRole
  groupIds: readonly string[]
  /** Admin while BYPASS_ADMIN_ACCESS_CONTROL is on: reads and writes everything. */
  bypass: boolean
}

/** A cache key for what a caller may see: identity, role, bypass and groups. */
export const principalKey = (who: Principals): string => JSON.stringify([who.userId, who.role, who.bypass, [...who.groupIds].sort()])

export interface ModelPermissions {
  read: boolean
  write: boolean
}

/**
 * A caller as model answers need them: principals plus the feature permissions abilities depend on
 * (`mayShare`: sharing.models or sharing.public_models). Built by `AccessService.modelCaller`.
 */
export interface ModelCaller extends Principals {
  mayShare: boolean
}

/** A cache key for answers that carry abilities: everything `modelAbilities` reads of the caller. */
export const callerKey = (caller: ModelCaller): string => JSON.stringify([principalKey(caller), caller.mayShare])

/** What a caller may do with one model (the `can` of API answers). */
export interface ModelAbilities {
  read: boolean
  write: boolean
  share: boolean
  delete: boolean
}

/**
 * The abilities rule: read and write as `modelPermissions`; delete is write (whoever may change a model
 * may remove it, as Open WebUI does); share is write plus a sharing permission. Sharing a model that is
 * already shared keeps working without one (checkGrantChange asks only for grants that are new), but a
 * client offers the sharing dialog only where the caller can add grants.
 *
 * A `conflicting` row (a non-admin's row on an id a provider serves, issue #10 hole 1; found by
 * `conflictingIds`) can only be read and deleted: update, toggle and access update refuse it (409
 * MODEL_ID_UNAVAILABLE), so it answers no write and no share, and delete as the rule gives it.
 */
export function modelAbilities(caller: ModelCaller, model: { user_id: string }, grants: readonly Grant[], conflicting: boolean): ModelAbilities {
  const { read, write } = modelPermissions(caller, model, grants)
  if (conflicting) return { read, write: false, share: false, delete: write }
  return { read, write, share: write && caller.mayShare, delete: write }
}

/** The feature permission a new grant needs: public (`*`) ones sharing.public_models, others sharing.models. */
export function permissionForNewGrant(grant: Grant): 'sharing.public_models' | 'sharing.models' {
  return grant.principal_id === EVERYONE ? 'sharing.public_models' : 'sharing.models'
}

const grantKey = (g: Grant) => `${g.principal_type}\u0000${g.principal_id}\u0000${g.permission}`

/** Drops duplicates, keeping the first occurrence's order. */
export function dedupeGrants(grants: readonly Grant[]): Grant[] {
  const seen = new Set<string>()
  return grants.filter((g) => {
    const key = grantKey(g)
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/** Grants in `after` that are not in `before`. */
export function addedGrants(before: readonly Grant[], after: readonly Grant[]): Grant[] {
  const had = new Set(before.map(grantKey))
  return after.filter((g) => !had.has(grantKey(g)))
}

export function accessControlToGrants(accessControl: AccessControl): Grant[] {
  if (accessControl === null) return [{ principal_type: 'user', principal_id: EVERYONE, permission: 'read' }]
  const grants: Grant[] = []
  for (const permission of ['read', 'write'] as const) {
    const set = accessControl[permission]
    for (const id of set?.group_ids ?? []) grants.push({ principal_type: 'group', principal_id: id, permission })
    for (const id of set?.user_ids ?? []) grants.push({ principal_type: 'user', principal_id: id, permission })
  }
  return dedupeGrants(grants)
}

/**
 * The seed form of a grant list. Public (any `*` grant) is null; public write cannot be expressed in
 * this form, which is why access_grants wins when a body carries both.
 */
export function grantsToAccessControl(grants: readonly Grant[]): AccessControlOutput {
  if (grants.some((g) => g.principal_id === EVERYONE)) return null
  if (grants.length === 0) return {}
  const lists = (permission: GrantPermission, type: PrincipalType) =>
    grants.filter((g) => g.permission === permission && g.principal_type === type).map((g) => g.principal_id)
  return {
    read: { group_ids: lists('read', 'group'), user_ids: lists('read', 'user') },
    write: { group_ids: lists('write', 'group'), user_ids: lists('write', 'user') },
  }
}

/**
 * The grants a request body asks for: `access_grants` when given (it is the lossless form), else
 * `access_control` when the key is present (null included), else undefined ("not given").
 */
export function requestedGrants(body: {
  access_grants?: readonly Grant[] | null | undefined
  access_control?: AccessControl | undefined
}): Grant[] | undefined {
  if (body.access_grants) {
    return dedupeGrants(body.access_grants.map((g) => ({ principal_type: g.principal_type, principal_id: g.principal_id, permission: g.permission })))
  }
  if (body.access_control !== undefined) return accessControlToGrants(body.access_control)
  return undefined
}

/**
 * The grants an update asks for, given the stored ones (design.md §2.2). A client that sends back a
 * whole model object carries both forms, and changed only one: the form that differs from what the
 * client read wins. What it read of `access_control` is the stored grants as that form shows them
 * (public drops the other grants, public write does not exist), so an echoed form never counts as a
 * change. Both changed and different: `conflict` (the caller answers 400). One form only: that form.
 */
export function requestedGrantsOnUpdate(
  body: { access_grants?: readonly Grant[] | null | undefined; access_control?: AccessControl | undefined },
  stored: readonly Grant[],
): { grants: Grant[] | undefined } | { conflict: true } {
  if (!body.access_grants || body.access_control === undefined) return { grants: requestedGrants(body) }
  const fromGrants = requestedGrants({ access_grants: body.access_grants }) ?? []
  const fromControl = accessControlToGrants(body.access_control)
  if (sameGrantSet(fromGrants, fromControl)) return { grants: fromGrants }
  const grantsChanged = !sameGrantSet(fromGrants, stored)
  const controlChanged = !sameGrantSet(fromControl, accessControlToGrants(grantsToAccessControl(stored)))
  if (grantsChanged && controlChanged) return { conflict: true }
  return { grants: controlChanged ? fromControl : fromGrants }
}

function sameGrantSet(a: readonly Grant[], b: readonly Grant[]): boolean {
  const left = new Set(a.map(grantKey))
  const right = new Set(b.map(grantKey))
  return left.size === right.size && [...left].every((key) => right.has(key))
}

/** Does a grant name one of the caller's principals? */
export function grantAppliesTo(grant: Grant, who: Principals): boolean {
  if (grant.principal_type === 'user') return grant.principal_id === EVERYONE || grant.principal_id === who.userId
  return who.groupIds.includes(grant.principal_id)
}

/**
 * Why a caller may (or may not) read or write a model: the facts `modelPermissions` decides on. An
 * allowing reason names what grants the access; a refusing one the missing piece.
 */
export type AccessReason =
  | { kind: 'owner' }
  | { kind: 'admin_bypass' }
  | { kind: 'user_grant'; permission: GrantPermission }
  | { kind: 'group_grant'; group_id: string; permission: GrantPermission }
  | { kind: 'public'; permission: GrantPermission }
  | { kind: 'pending_account' }
  | { kind: 'no_grant'; needs: GrantPermission }

export interface AccessExplanation {
  read: { allowed: boolean; reasons: AccessReason[] }
  write: { allowed: boolean; reasons: AccessReason[] }
}

/**
 * The rule of design.md §2.2 for one model: pending accounts nothing; owner and bypassing admin
 * everything; otherwise a matching grant (write implies read).
 */
export function modelPermissions(who: Principals, model: { user_id: string }, grants: readonly Grant[]): ModelPermissions {
  return decideModelAccess(who, model, grants, null)
}

/** The same decision with every reason behind it (issue #13's explain): one rule, two outputs. */
export function explainModelAccess(who: Principals, model: { user_id: string }, grants: readonly Grant[]): AccessExplanation {
  const reasons = { read: [] as AccessReason[], write: [] as AccessReason[] }
  const { read, write } = decideModelAccess(who, model, grants, reasons)
  if (!read && reasons.read.length === 0) reasons.read.push({ kind: 'no_grant', needs: 'read' })
  if (!write && reasons.write.length === 0) reasons.write.push({ kind: 'no_grant', needs: 'write' })
  return { read: { allowed: read, reasons: reasons.read }, write: { allowed: write, reasons: reasons.write } }
}

/**
 * The rule itself. Without `out` it stops at the first deciding fact (the hot path: list filters and the
 * gateway); with `out` it gathers every fact that grants access, so the explanation names them all.
 */
function decideModelAccess(
  who: Principals,
  model: { user_id: string },
  grants: readonly Grant[],
  out: { read: AccessReason[]; write: AccessReason[] } | null,
): ModelPermissions {
  if (who.role === 'pending') {
    out?.read.push({ kind: 'pending_account' })
    out?.write.push({ kind: 'pending_account' })
    return { read: false, write: false }
  }
  const everything: AccessReason[] = []
  if (who.bypass) everything.push({ kind: 'admin_bypass' })
  if (model.user_id === who.userId) everything.push({ kind: 'owner' })
  if (everything.length > 0 && !out) return { read: true, write: true }
  let read = everything.length > 0
  let write = read
  for (const grant of grants) {
    if (!grantAppliesTo(grant, who)) continue
    read = true
    if (grant.permission === 'write') write = true
    if (out) {
      const reason = grantReason(grant)
      out.read.push(reason)
      if (grant.permission === 'write') out.write.push(reason)
    }
  }
  out?.read.unshift(...everything)
  out?.write.unshift(...everything)
  return { read, write }
}

function grantReason(grant: Grant): AccessReason {
  if (grant.principal_type === 'group') return { kind: 'group_grant', group_id: grant.principal_id, permission: grant.permission }
  if (grant.principal_id === EVERYONE) return { kind: 'public', permission: grant.permission }
  return { kind: 'user_grant', permission: grant.permission }
}
