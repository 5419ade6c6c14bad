/**
 * Grants as the access dialog edits them: one row per principal with its strongest permission (write
 * implies read here), and "public" as its own choice. On the way out a write is sent as read + write,
 * which is what Open WebUI (where write alone does not give read) expects of an exported file too.
 */
import type { GrantInput, GrantPermission, PrincipalType } from '../api/client'

export type PublicLevel = 'none' | 'read' | 'write'

export interface AccessEntry {
  principal_type: PrincipalType
  principal_id: string
  permission: GrantPermission
}

export interface AccessDraft {
  publicLevel: PublicLevel
  entries: AccessEntry[]
}

export function draftFromGrants(grants: readonly GrantInput[]): AccessDraft {
  let publicLevel: PublicLevel = 'none'
  const entries = new Map<string, AccessEntry>()
  for (const grant of grants) {
    if (grant.principal_type === 'user' && grant.principal_id === '*') {
      if (grant.permission === 'write') publicLevel = 'write'
      else if (publicLevel === 'none') publicLevel = 'read'
      continue
    }
    const key = `${grant.principal_type}:${grant.principal_id}`
    const existing = entries.get(key)
    if (!existing || grant.permission === 'write') {
      entries.set(key, { principal_type: grant.principal_type, principal_id: grant.principal_id, permission: grant.permission })
    }
  }
  return { publicLevel, entries: [...entries.values()] }
}

export function grantsFromDraft(draft: AccessDraft): GrantInput[] {
  const grants: GrantInput[] = []
  const push = (principal_type: PrincipalType, principal_id: string, permission: GrantPermission) => {
    grants.push({ principal_type, principal_id, permission: 'read' })
    if (permission === 'write') grants.push({ principal_type, principal_id, permission: 'write' })
  }
  if (draft.publicLevel !== 'none') push('user', '*', draft.publicLevel)
  for (const entry of draft.entries) push(entry.principal_type, entry.principal_id, entry.permission)
  return grants
}

export function isPublic(grants: readonly GrantInput[]): boolean {
  return grants.some((grant) => grant.principal_type === 'user' && grant.principal_id === '*')
}

/**
 * The one word for a model's access, wherever it is shown (issue #16 item 7: card and editor agree):
 * Public (every signed-in user), Shared (some groups or users), Private (the owner and administrators).
 */
export function accessWord(grants: readonly GrantInput[]): 'Public' | 'Shared' | 'Private' {
  return isPublic(grants) ? 'Public' : grants.length > 0 ? 'Shared' : 'Private'
}

/** "Private", "Public", "Shared · 1 group, 2 users", … for the editor's Access button (its first word is accessWord's). */
export function describeAccess(grants: readonly GrantInput[]): string {
  const draft = draftFromGrants(grants)
  const groups = draft.entries.filter((entry) => entry.principal_type === 'group').length
  const users = draft.entries.length - groups
  const base = draft.publicLevel === 'write' ? 'Public, everyone may edit' : accessWord(grants)
  const parts = [groups ? `${groups} group${groups === 1 ? '' : 's'}` : '', users ? `${users} user${users === 1 ? '' : 's'}` : ''].filter(Boolean)
  return parts.length ? `${base} · ${parts.join(', ')}` : base
}
