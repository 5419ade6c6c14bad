/**
 * The difference between two grant sets as change entries (`access_grants.<principal_type>:<principal_id>:<permission>`,
 * op `added` or `removed`: a grant has no other state), removals first, each sorted by key. One copy for
 * the history diff (src/history/model-diff.ts) and the bulk access report: it lives here because history
 * imports models, never the other way round. Pure: no I/O.
 */
import type { Grant } from '../access/model-grants.js'

export interface GrantChange {
  path: string
  op: 'added' | 'removed'
  old: Grant | null
  new: Grant | null
}

export const grantChangeKey = (g: Grant) => `${g.principal_type}:${g.principal_id}:${g.permission}`

const byKey = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0)

const plain = (g: Grant): Grant => ({ principal_type: g.principal_type, principal_id: g.principal_id, permission: g.permission })

export function grantChanges(from: readonly Grant[], to: readonly Grant[]): GrantChange[] {
  const before = new Map(from.map((g) => [grantChangeKey(g), plain(g)]))
  const after = new Map(to.map((g) => [grantChangeKey(g), plain(g)]))
  const changes: GrantChange[] = []
  for (const [key, grant] of [...before].filter(([k]) => !after.has(k)).sort(byKey)) {
    changes.push({ path: `access_grants.${key}`, op: 'removed', old: grant, new: null })
  }
  for (const [key, grant] of [...after].filter(([k]) => !before.has(k)).sort(byKey)) {
    changes.push({ path: `access_grants.${key}`, op: 'added', old: null, new: grant })
  }
  return changes
}

/**
 * What changes from `before` to `after` on each model, as the rows to remove and to add (the argument of
 * ModelGrantsRepo.changeMany): grants in both are left alone.
 */
export function grantDelta(entries: readonly { modelId: string; before: readonly Grant[]; after: readonly Grant[] }[]): {
  removed: { modelId: string; grant: Grant }[]
  added: { modelId: string; grant: Grant }[]
} {
  const removed: { modelId: string; grant: Grant }[] = []
  const added: { modelId: string; grant: Grant }[] = []
  for (const { modelId, before, after } of entries) {
    const had = new Set(before.map(grantChangeKey))
    const wanted = new Set(after.map(grantChangeKey))
    for (const grant of before) if (!wanted.has(grantChangeKey(grant))) removed.push({ modelId, grant: plain(grant) })
    for (const grant of after) if (!had.has(grantChangeKey(grant))) added.push({ modelId, grant: plain(grant) })
  }
  return { removed, added }
}
