/**
 * The bulk "Change access…" dialog's pure parts (tested in Node: governance.test.ts): the grants a draft
 * sends, how a planned change reads, and the one-line summary of a report. The access rules are the
 * server's: it answers each model changed, unchanged or refused.
 */
import type { GrantInput, PrincipalType } from '../../api/client'

/** A principal the dialog adds (with read, or read and write) or removes (all access, or write only). */
export interface BulkEntry {
  principal_type: PrincipalType
  principal_id: string
  label: string
  level: 'read' | 'write'
}

export interface BulkDraft {
  add: BulkEntry[]
  remove: BulkEntry[]
  /** Everyone may use the models (a `user:*` read grant). */
  addPublic: boolean
  /** No longer public: removes `user:*` read and write. */
  removePublic: boolean
}

export const emptyBulkDraft = (): BulkDraft => ({ add: [], remove: [], addPublic: false, removePublic: false })

const grant = (principal_type: PrincipalType, principal_id: string, permission: 'read' | 'write'): GrantInput => ({ principal_type, principal_id, permission })

/** Adding write sends read and write, as the single access dialog does (Open WebUI's write alone gives no read). */
export function grantsToAdd(draft: BulkDraft): GrantInput[] {
  const grants: GrantInput[] = draft.addPublic ? [grant('user', '*', 'read')] : []
  for (const entry of draft.add) {
    grants.push(grant(entry.principal_type, entry.principal_id, 'read'))
    if (entry.level === 'write') grants.push(grant(entry.principal_type, entry.principal_id, 'write'))
  }
  return grants
}

/** Removing "read" takes all of the principal's access (read and write); "write" leaves read. */
export function grantsToRemove(draft: BulkDraft): GrantInput[] {
  const grants: GrantInput[] = draft.removePublic ? [grant('user', '*', 'read'), grant('user', '*', 'write')] : []
  for (const entry of draft.remove) {
    if (entry.level === 'read') grants.push(grant(entry.principal_type, entry.principal_id, 'read'))
    grants.push(grant(entry.principal_type, entry.principal_id, 'write'))
  }
  return grants
}

export const isEmptyDraft = (draft: BulkDraft) => !draft.addPublic && !draft.removePublic && draft.add.length === 0 && draft.remove.length === 0

/**
 * A change path in words: `access_grants.group:<id>:read` → "Group Support may read" (names from
 * `labels`, keyed `group:<id>` / `user:<id>`); other paths as they are.
 */
export function describeChange(path: string, labels: ReadonlyMap<string, string>): string {
  const match = /^access_grants\.(user|group):(.*):(read|write)$/.exec(path)
  if (!match) return path
  const [, type = '', id = '', permission = ''] = match
  if (type === 'user' && id === '*') return `Everyone may ${permission}`
  const name = labels.get(`${type}:${id}`)
  return `${type === 'group' ? 'Group' : 'User'} ${name ?? id} may ${permission}`
}

/** What a summary needs of a report. */
export interface ReportCounts {
  changed: readonly unknown[]
  unchanged: readonly unknown[]
  refused: readonly unknown[]
}

const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`

/** "2 models change, 1 unchanged, 1 refused". */
export function reportSummary(report: ReportCounts, done: boolean): string {
  return [
    plural(report.changed.length, done ? 'model changed' : 'model changes', done ? 'models changed' : 'models change'),
    `${report.unchanged.length} unchanged`,
    `${report.refused.length} refused`,
  ].join(', ')
}
