/**
 * What changed between two versions of a model, side by side: one row per changed path with the old
 * value and the new one (added, removed and changed rows styled apart). Values are shown as JSON so
 * that `"1"`, `1` and `[1]` never look alike; a grant path (`access_grants.group:<id>:read`) has no value.
 */
import type { VersionChange } from '../../api/client'

const OP_LABEL: Record<VersionChange['op'], string> = { added: 'added', removed: 'removed', changed: 'changed' }

export function showValue(value: unknown): string {
  if (value === undefined) return ''
  if (typeof value === 'string') return JSON.stringify(value)
  return JSON.stringify(value, null, 1).replace(/\n\s*/g, ' ')
}

/** A name for a grant's principal that the caller may see, or undefined (the id is shown then). */
export type PrincipalNamer = (type: 'user' | 'group', id: string) => string | undefined

/** The grant a diff path names (`access_grants.group:g1:read`), or null for any other path. */
export function grantOfPath(path: string): { type: 'user' | 'group'; id: string; permission: string } | null {
  const grant = /^access_grants\.(user|group):(.*):(read|write)$/.exec(path)
  if (!grant) return null
  const [, type, id = '', permission = ''] = grant
  return { type: type === 'group' ? 'group' : 'user', id, permission }
}

/** `access_grants.group:g1:read` → `Access: group g1 may read` (the group's name when `nameOf` knows it); other paths as they are. */
export function describePath(path: string, nameOf?: PrincipalNamer): string {
  const grant = grantOfPath(path)
  if (!grant) return path
  const { type, id, permission } = grant
  return id === '*' ? `Access: everyone may ${permission}` : `Access: ${type} ${nameOf?.(type, id) ?? id} may ${permission}`
}

export function DiffTable({
  changes,
  fromLabel,
  toLabel,
  caption,
  nameOf,
}: {
  changes: VersionChange[]
  fromLabel: string
  toLabel: string
  caption: string
  nameOf?: PrincipalNamer | undefined
}) {
  if (changes.length === 0) return <p className="muted">No differences: both versions hold the same content and access.</p>
  return (
    <div className="table-scroll">
      <table className="table table-compact diff-table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">{fromLabel}</th>
            <th scope="col">{toLabel}</th>
          </tr>
        </thead>
        <tbody>
          {changes.map((change) => (
            <tr key={change.path} className={`diff-${change.op}`} data-path={change.path}>
              <th scope="row" data-label="Field" className="diff-path">
                <code title={nameOf ? change.path : undefined}>{describePath(change.path, nameOf)}</code>{' '}
                <span className={`badge diff-badge diff-badge-${change.op}`}>{OP_LABEL[change.op]}</span>
              </th>
              <td data-label={fromLabel} className="diff-old">
                {change.op === 'added' ? <span className="muted">—</span> : <code>{showValue(change.old) || '(none)'}</code>}
              </td>
              <td data-label={toLabel} className="diff-new">
                {change.op === 'removed' ? <span className="muted">—</span> : <code>{showValue(change.new) || '(none)'}</code>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
