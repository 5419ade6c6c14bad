/**
 * How the server's access reasons read on screen (issue #13): short phrases, and which ones are missing
 * pieces rather than grants. Pure (tested in Node: governance.test.ts); the rule itself is the server's.
 */
import type { AccessReason } from '../../api/client'

/** One reason as a short phrase: "Owner", "Group Support (write)", "No grant gives read", … */
export function reasonPhrase(reason: AccessReason): string {
  switch (reason.kind) {
    case 'owner':
      return 'Owner'
    case 'admin_bypass':
      return 'Admin (bypass)'
    case 'user_grant':
      return `Shared with them (${reason.permission})`
    case 'group_grant':
      return `Group ${reason.group_name ?? reason.group_id} (${reason.permission})`
    case 'public':
      return `Public (${reason.permission})`
    case 'pending_account':
      return 'Account awaiting approval'
    case 'no_grant':
      return `No grant gives ${reason.needs}`
    case 'feature_permission':
      return reason.granted ? `Has “${reason.permission}”` : `Lacks “${reason.permission}”`
  }
}

/** A reason that explains a refusal (what is missing), not a grant. */
export function isMissing(reason: AccessReason): boolean {
  return reason.kind === 'pending_account' || reason.kind === 'no_grant' || (reason.kind === 'feature_permission' && !reason.granted)
}

export interface ReasonLine {
  key: string
  text: string
  missing: boolean
}

/**
 * The reasons of one decision as lines: a source that gives both read and write reads once ("Group
 * Support (read, write)"), in the server's order; nothing is dropped.
 */
export function reasonLines(reasons: readonly AccessReason[]): ReasonLine[] {
  const lines: (ReasonLine & { permissions: string[]; label: string })[] = []
  for (const reason of reasons) {
    const source =
      reason.kind === 'group_grant'
        ? { key: `group:${reason.group_id}`, label: `Group ${reason.group_name ?? reason.group_id}`, permission: reason.permission }
        : reason.kind === 'user_grant'
          ? { key: 'user', label: 'Shared with them', permission: reason.permission }
          : reason.kind === 'public'
            ? { key: 'public', label: 'Public', permission: reason.permission }
            : null
    if (!source) {
      const text = reasonPhrase(reason)
      if (!lines.some((line) => line.key === text)) lines.push({ key: text, text, missing: isMissing(reason), permissions: [], label: text })
      continue
    }
    const existing = lines.find((line) => line.key === source.key)
    if (existing) {
      if (!existing.permissions.includes(source.permission)) existing.permissions.push(source.permission)
    } else {
      lines.push({ key: source.key, label: source.label, permissions: [source.permission], text: '', missing: false })
    }
  }
  return lines.map(({ key, label, permissions, text, missing }) => ({
    key,
    missing,
    text: permissions.length > 0 ? `${label} (${[...permissions].sort().join(', ')})` : text,
  }))
}
