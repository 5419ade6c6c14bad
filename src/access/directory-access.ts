/**
 * Who may learn what about other accounts and groups (issue #14; docs/auth.md, "Users and groups"). A
 * non-admin never learns the members of a group, nor a group or an account's details that are not theirs.
 */
import { AppError } from '../errors/app-error.js'
import type { Actor } from './actor.js'

/**
 * What user search (`GET /users/search`) shows: admins every field, matching names and emails; others
 * only id, name and picture, matching names only (a search by email would tell them who has an address).
 */
export function userSearchView(actor: Actor): 'full' | 'public' {
  return actor.role === 'admin' ? 'full' : 'public'
}

/**
 * The order a user search may follow: admins any column; others only name and created_at, since a sort
 * by a field they may not read (email, role, updated_at) tells them its order (with accounts of chosen
 * emails, the email itself) — any other column asked for sorts by name.
 */
export function userSearchOrder<T extends string>(actor: Actor, requested: T): T | 'name' {
  if (actor.role === 'admin' || requested === 'name' || requested === 'created_at') return requested
  return 'name'
}

/**
 * An account's info and groups (`GET /users/{id}/info`, `/users/{id}/groups`): admins any account, others
 * their own only; another account answers 404, as an id that does not exist (its existence is not said).
 */
export function requireAccountRead(actor: Actor, userId: string): void {
  if (actor.role !== 'admin' && actor.id !== userId) throw new AppError('NOT_FOUND', `No user with id "${userId}".`)
}

/** Which groups the group list shows: admins every group, others the groups they are a member of. */
export function groupListScope(actor: Actor): 'all' | 'own' {
  return actor.role === 'admin' ? 'all' : 'own'
}

/** One group (`GET /groups/id/{id}/info`): admins any, others one they are a member of; else 404 as a missing id. */
export function requireGroupRead(actor: Actor, group: { id: string; isMember: boolean }): void {
  if (actor.role !== 'admin' && !group.isMember) throw new AppError('NOT_FOUND', `No group with id "${group.id}".`)
}

/** Member lists (`user_ids`) are for admins only, even of a non-admin's own groups (member_count is shown). */
export function seesGroupMembers(actor: Actor): boolean {
  return actor.role === 'admin'
}

/**
 * Whether a group is offered as a share target (`GET /groups/?share=true`), by its Open WebUI setting
 * `data.config.share`: `false` never, `true` always, `"members"` (the default, also for a missing or
 * unknown value) to its members. It decides what is offered, as in Open WebUI; a grant's own check
 * (sharing.models) is what is enforced when grants are saved.
 */
export function offeredForSharing(share: unknown, isMember: boolean): boolean {
  if (share === false) return false
  if (share === true) return true
  return isMember
}

/**
 * Whether a group's members and name may be changed by hand (the groups API): not when an identity
 * provider keeps them (`managed_by`: `oidc`, synced at each sign-in; `scim`, provisioned through SCIM);
 * 409 naming where to change them. Its description, permissions and grants stay the admin's.
 */
export function requireHandManagedGroup<T extends { name: string; managed_by: string | null }>(group: T): T {
  if (group.managed_by !== null) {
    const how = group.managed_by === 'scim' ? 'they are provisioned through SCIM' : 'they are synced at each sign-in'
    throw new AppError(
      'CONFLICT',
      `The members (and name) of group "${group.name}" come from the identity provider (${group.managed_by}): change them there; ${how}.`,
    )
  }
  return group
}
