/**
 * The difference between two snapshots of a model (issue #12): name, base_model_id, is_active, then
 * params.* and meta.* as dotted paths (recursing into objects; arrays are compared whole, a reorder is a
 * change), then the grants as `access_grants.<principal_type>:<principal_id>:<permission>` (added or
 * removed: a grant has no other state). Pure: no I/O.
 */
import { grantChanges } from '../models/grant-diff.js'
import type { ModelSnapshot } from '../models/model-versions.js'
import type { DiffChange } from './history.schema.js'

type Json = unknown

const isObject = (value: Json): value is Record<string, Json> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** Deep equality of JSON values (key order does not matter; array order does). */
export function sameJson(a: Json, b: Json): boolean {
  if (a === b) return true
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameJson(item, b[i]))
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a)
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && sameJson(a[key], b[key]))
  }
  return false
}

function diffValues(path: string, from: Json, to: Json, out: DiffChange[]): void {
  if (isObject(from) && isObject(to)) {
    // Keys in the order they first appear: the older side's, then the ones only the newer side has.
    const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])]
    for (const key of keys) {
      const child = `${path}.${key}`
      const inFrom = Object.hasOwn(from, key)
      const inTo = Object.hasOwn(to, key)
      if (!inTo) out.push({ path: child, op: 'removed', old: from[key], new: null })
      else if (!inFrom) out.push({ path: child, op: 'added', old: null, new: to[key] })
      else diffValues(child, from[key], to[key], out)
    }
    return
  }
  if (!sameJson(from, to)) out.push({ path, op: 'changed', old: from ?? null, new: to ?? null })
}

/** The changes from `from` to `to`; `withGrants` false leaves the grants out (readers may not see them). */
export function diffSnapshots(from: ModelSnapshot, to: ModelSnapshot, withGrants: boolean): DiffChange[] {
  const changes: DiffChange[] = []
  for (const field of ['name', 'base_model_id', 'is_active'] as const) {
    if (!sameJson(from[field], to[field])) changes.push({ path: field, op: 'changed', old: from[field], new: to[field] })
  }
  diffValues('params', from.params, to.params, changes)
  diffValues('meta', from.meta, to.meta, changes)
  // One copy of the grant diff, shared with the bulk access report (src/models/grant-diff.ts).
  if (withGrants) changes.push(...grantChanges(from.access_grants, to.access_grants))
  return changes
}
