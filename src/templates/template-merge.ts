/**
 * What a template does to a model (docs/templates.md), pure: no I/O. One computation for apply (merge or
 * replace), the drift of a template's models, and a model created from a template.
 *
 * - merge: params and meta deep-merged, the template winning at leaves; arrays (tags, stop, …) united,
 *   the model's items first, then the template's new ones; grants united.
 * - replace: each section the template holds replaces the model's (base_model_id too).
 * - In both modes the template's base model, when it holds one, becomes the model's, and its locked keys
 *   take the template's value (they are keys of its params).
 * The result is validated with the models' own schemas (ranges, tags): a failure is the reason a model
 * is refused.
 */
import { dedupeGrants, type Grant } from '../access/model-grants.js'
import { sameJson } from '../history/model-diff.js'
import { describeIssues } from '../models/model-items.js'
import type { ModelSnapshot } from '../models/model-versions.js'
import { MetaSchema, ParamsSchema } from '../models/models.schema.js'

type Json = unknown
type JsonObject = Record<string, Json>

const isObject = (value: Json): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value)

/** The sections a template holds (null: it does not hold that one). */
export interface TemplateSections {
  id: string
  base_model_id: string | null
  params: JsonObject | null
  locked_params: string[] | null
  meta: JsonObject | null
  access_grants: Grant[] | null
}

/** `over` merged into `base`: `over` wins at leaves; arrays united (base's items, then over's new ones). */
export function deepMerge(base: Json, over: Json): Json {
  if (over === undefined) return base
  if (isObject(base) && isObject(over)) {
    const result: JsonObject = { ...base }
    for (const [key, value] of Object.entries(over)) {
      // defineProperty: a key named __proto__ stays a plain key (an assignment would set the prototype).
      Object.defineProperty(result, key, {
        value: Object.hasOwn(base, key) ? deepMerge(base[key], value) : value,
        enumerable: true,
        writable: true,
        configurable: true,
      })
    }
    return result
  }
  if (Array.isArray(base) && Array.isArray(over)) {
    const had: readonly Json[] = base
    const added: readonly Json[] = over
    return [...had, ...added.filter((item) => !had.some((old) => sameJson(old, item)))]
  }
  return over
}

export type ApplyMode = 'merge' | 'replace'

/** A model with the template applied: the snapshot after, or why the result is not a valid model. */
export type Applied = { after: ModelSnapshot; invalid: null } | { after: ModelSnapshot; invalid: string }

export function applyTemplate(before: ModelSnapshot, template: TemplateSections, mode: ApplyMode): Applied {
  const merge = mode === 'merge'
  const params = template.params ? (merge ? (deepMerge(before.params, template.params) as JsonObject) : { ...template.params }) : before.params
  const meta = template.meta ? (merge ? (deepMerge(before.meta, template.meta) as JsonObject) : { ...template.meta }) : before.meta
  const grants = template.access_grants
    ? merge
      ? dedupeGrants([...before.access_grants, ...template.access_grants])
      : dedupeGrants(template.access_grants)
    : before.access_grants
  const raw: ModelSnapshot = {
    ...before,
    base_model_id: template.base_model_id ?? before.base_model_id,
    params,
    meta,
    access_grants: grants.map((g) => ({ principal_type: g.principal_type, principal_id: g.principal_id, permission: g.permission })),
  }
  const checkedParams = ParamsSchema.safeParse(params)
  const checkedMeta = MetaSchema.safeParse(meta)
  const problems = [
    ...(checkedParams.success ? [] : checkedParams.error.issues.map((issue) => ({ ...issue, path: ['params', ...issue.path] }))),
    ...(checkedMeta.success ? [] : checkedMeta.error.issues.map((issue) => ({ ...issue, path: ['meta', ...issue.path] }))),
  ]
  if (problems.length > 0 || !checkedParams.success || !checkedMeta.success) {
    return { after: raw, invalid: `The result would not be a valid model: ${describeIssues(problems)}` }
  }
  return { after: { ...raw, params: checkedParams.data, meta: checkedMeta.data }, invalid: null }
}
