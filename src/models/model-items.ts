/**
 * Items of model files as import and sync receive them (Open WebUI exports of every generation): the
 * unwrapping of Admin › Models items, the short text of a schema failure, the columns a form sets and
 * grant-set equality, shared by both.
 */
import type { Grant } from '../access/model-grants.js'
import type { ModelRow } from './models.repo.js'

/** An item as an object; Admin › Models exports wrap the row in `info`. */
export function unwrapItem(raw: unknown): Record<string, unknown> | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined
  const item = raw as Record<string, unknown>
  const info = item['info']
  if (typeof info === 'object' && info !== null && !Array.isArray(info) && typeof (info as { id?: unknown }).id === 'string') {
    return { ...(info as Record<string, unknown>) }
  }
  return item
}

/** The first few schema issues of an item, as one line. */
export function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => `${issue.path.map(String).join('.') || 'item'}: ${issue.message}`)
    .join('; ')
}

/** The columns a form sets (import and sync write them the same way). */
export function rowFields(form: {
  base_model_id?: string | null | undefined
  name: string
  params: Record<string, unknown>
  meta: Record<string, unknown>
  is_active: boolean
}): { base_model_id: string | null; name: string; params: string; meta: string; is_active: number } {
  return {
    base_model_id: form.base_model_id ?? null,
    name: form.name,
    params: JSON.stringify(form.params),
    meta: JSON.stringify(form.meta),
    is_active: form.is_active ? 1 : 0,
  }
}

/** Same set of (principal, permission), whatever the order. */
export function sameGrants(a: readonly Grant[], b: readonly Grant[]): boolean {
  const key = (g: Grant) => `${g.principal_type}:${g.principal_id}:${g.permission}`
  const left = new Set(a.map(key))
  const right = new Set(b.map(key))
  return left.size === right.size && [...left].every((k) => right.has(k))
}

/** Would writing `next` (fields and grants) change the stored row? (No version is recorded for no change.) */
export function sameModel(
  row: ModelRow,
  grants: readonly Grant[],
  next: { base_model_id: string | null; name: string; params: string; meta: string; is_active: number; user_id: string },
  nextGrants: readonly Grant[],
): boolean {
  return (
    row.base_model_id === next.base_model_id &&
    row.name === next.name &&
    row.params === next.params &&
    row.meta === next.meta &&
    Number(row.is_active) === next.is_active &&
    row.user_id === next.user_id &&
    sameGrants(grants, nextGrants)
  )
}
