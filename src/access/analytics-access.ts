/**
 * Who may read which usage (issue #17 item 7; docs/analytics.md): admins every account's, alone or by
 * group; others their own only, on the same routes. Asking for anyone else's, by user or by group (a
 * group's totals would tell its members' usage), is refused rather than quietly narrowed, so a client
 * never mistakes its own numbers for what it asked.
 */
import { AppError } from '../errors/app-error.js'
import type { Actor } from './actor.js'

/** The usage a request reads: one account's (userId), a group's members' (groupId), or all (both null). */
export interface UsageScope {
  userId: string | null
  groupId: string | null
  /** Admin-only facts (the recorder's dropped count) are shown. */
  admin: boolean
}

export function usageScope(actor: Actor, asked: { user_id?: string | undefined; group_id?: string | undefined }): UsageScope {
  if (actor.role === 'admin') return { userId: asked.user_id ?? null, groupId: asked.group_id ?? null, admin: true }
  if (asked.group_id !== undefined) throw new AppError('ACCESS_PROHIBITED', "Only administrators may read a group's usage.")
  if (asked.user_id !== undefined && asked.user_id !== actor.id) throw new AppError('ACCESS_PROHIBITED', 'You may read only your own usage.')
  return { userId: actor.id, groupId: null, admin: false }
}
