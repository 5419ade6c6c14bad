/**
 * The template editor's form, apart from React (tested in Node: templates.test.ts): its values (named
 * like the request body, so a path the server names is the field that shows it), the body built from
 * them (a section the form leaves empty is "not held": null), validation with the server's own schema
 * (`TemplateCreateSchema` / `TemplateUpdateSchema`), where a refusal belongs, what a template gives a
 * new model in the model editor (fields the user already edited win), and how a template's sections read.
 */
import type { FieldError as HookFieldError, FieldErrors, FieldPath, Resolver } from 'react-hook-form'
import { ApiError, describeError, type GrantInput, type Template, type TemplateCreate, type TemplateUpdate } from '../../api/client'
import { bodyResolver } from '../../lib/forms'
import { TemplateCreateSchema, TemplateUpdateSchema } from '../../lib/schemas'
import { CAPABILITIES, PARAMS, leaves, setPath, type EditorValues, type ParamKey } from '../model-editor/form'

/** The parameter keys the form shows, each with its "locked" toggle: the model editor's, plus system and stop. */
export const LOCKABLE_KEYS: readonly string[] = ['system', ...PARAMS.map((spec) => spec.key), 'stop']

export interface TemplateValues {
  id: string
  name: string
  description: string
  base_model_id: string
  params: Record<ParamKey, string> & { system: string; stop: string[] }
  /** Per shown parameter key: the template enforces it. */
  locked: Record<string, boolean>
  meta: {
    description: string
    tags: string[]
    /** Whether the template sets capabilities at all (else it leaves the model's). */
    set_capabilities: boolean
    capabilities: Record<string, boolean>
  }
  /** Placeholders that only carry errors the server names (`body.locked_params`, the two grant lists). */
  locked_params: null
  access_grants: null
  template_access_grants: null
}

/** The template as loaded: keys the form does not show survive a save. */
export interface TemplateLoaded {
  params: Record<string, unknown>
  meta: Record<string, unknown>
  locked: string[]
}

export interface TemplateInitial {
  values: TemplateValues
  loaded: TemplateLoaded
  /** The access the template applies: null when it holds no access section. */
  access: GrantInput[] | null
  /** The template's own sharing. */
  sharing: GrantInput[]
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

const emptyParams = (): TemplateValues['params'] => ({
  ...(Object.fromEntries(PARAMS.map((spec) => [spec.key, ''])) as Record<ParamKey, string>),
  system: '',
  stop: [],
})

export function emptyTemplate(): TemplateInitial {
  return {
    values: {
      id: '',
      name: '',
      description: '',
      base_model_id: '',
      params: emptyParams(),
      locked: Object.fromEntries(LOCKABLE_KEYS.map((key) => [key, false])),
      meta: {
        description: '',
        tags: [],
        set_capabilities: false,
        capabilities: Object.fromEntries(CAPABILITIES.map((cap) => [cap.key, cap.byDefault])),
      },
      locked_params: null,
      access_grants: null,
      template_access_grants: null,
    },
    loaded: { params: {}, meta: {}, locked: [] },
    access: null,
    sharing: [],
  }
}

/** Tag names from meta.tags (`[{name}]` or plain strings). */
export function tagNames(tags: unknown): string[] {
  if (!Array.isArray(tags)) return []
  return tags
    .map((tag: unknown) => (typeof tag === 'string' ? tag : isRecord(tag) && typeof tag['name'] === 'string' ? tag['name'] : ''))
    .filter((name) => name.length > 0)
}

/** A stored parameter as the form's text (numbers as typed; anything else as JSON, which the schema then judges). */
const asText = (value: unknown): string => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : JSON.stringify(value))

const plainGrants = (grants: readonly GrantInput[]): GrantInput[] =>
  grants.map(({ principal_type, principal_id, permission }) => ({ principal_type, principal_id, permission }))

/** The form of a stored template. */
export function initialFromTemplate(template: Template): TemplateInitial {
  const empty = emptyTemplate()
  const params = template.params ?? {}
  const meta = template.meta ?? {}
  const locked = template.locked_params ?? []
  const capabilities = isRecord(meta['capabilities']) ? meta['capabilities'] : null
  const stop = params['stop']
  return {
    values: {
      ...empty.values,
      id: template.id,
      name: template.name,
      description: template.description,
      base_model_id: template.base_model_id ?? '',
      params: {
        ...empty.values.params,
        ...Object.fromEntries(PARAMS.filter((p) => params[p.key] !== undefined && params[p.key] !== null).map((p) => [p.key, asText(params[p.key])])),
        system: typeof params['system'] === 'string' ? params['system'] : '',
        stop: typeof stop === 'string' ? [stop] : Array.isArray(stop) ? stop.filter((s): s is string => typeof s === 'string') : [],
      },
      locked: Object.fromEntries(LOCKABLE_KEYS.map((key) => [key, locked.includes(key)])),
      meta: {
        description: typeof meta['description'] === 'string' ? meta['description'] : '',
        tags: tagNames(meta['tags']),
        set_capabilities: capabilities !== null,
        capabilities: Object.fromEntries(
          CAPABILITIES.map((cap) => [cap.key, typeof capabilities?.[cap.key] === 'boolean' ? (capabilities[cap.key] as boolean) : cap.byDefault]),
        ),
      },
    },
    loaded: { params, meta, locked },
    access: template.access_grants ? plainGrants(template.access_grants) : null,
    sharing: plainGrants(template.template_access_grants),
  }
}

/** The params section: null when the template would hold no parameter. */
export function paramsOf(values: TemplateValues, loaded: TemplateLoaded): Record<string, unknown> | null {
  const params: Record<string, unknown> = { ...loaded.params }
  for (const spec of PARAMS) {
    delete params[spec.key]
    const typed = values.params[spec.key].trim().replace(/^−/, '-')
    if (typed === '') continue
    const value = Number(typed)
    // Text that is not a number goes as typed: the server's schema refuses it in its own words.
    params[spec.key] = Number.isFinite(value) ? value : typed
  }
  delete params['system']
  if (values.params.system.trim() !== '') params['system'] = values.params.system
  delete params['stop']
  if (values.params.stop.length > 0) params['stop'] = values.params.stop
  return Object.keys(params).length > 0 ? params : null
}

/** The locked keys: the toggles the form shows, plus locked keys it does not show (kept as loaded). */
export function lockedOf(values: TemplateValues, loaded: TemplateLoaded): string[] | null {
  const keys = [...LOCKABLE_KEYS.filter((key) => values.locked[key] === true), ...loaded.locked.filter((key) => !LOCKABLE_KEYS.includes(key))]
  return keys.length > 0 ? keys : null
}

/** The meta section: null when the template would set nothing (description, tags, capabilities, other keys). */
export function metaOf(values: TemplateValues, loaded: TemplateLoaded): Record<string, unknown> | null {
  const meta: Record<string, unknown> = { ...loaded.meta }
  delete meta['description']
  delete meta['tags']
  delete meta['capabilities']
  if (values.meta.description.trim() !== '') meta['description'] = values.meta.description
  if (values.meta.tags.length > 0) meta['tags'] = values.meta.tags.map((name) => ({ name }))
  if (values.meta.set_capabilities) {
    const kept = isRecord(loaded.meta['capabilities']) ? loaded.meta['capabilities'] : {}
    meta['capabilities'] = { ...kept, ...values.meta.capabilities }
  }
  return Object.keys(meta).length > 0 ? meta : null
}

/** The request body: every section sent, null when not held (on update null removes it). */
export function toTemplateBody(values: TemplateValues, loaded: TemplateLoaded, access: GrantInput[] | null, sharing: GrantInput[]): TemplateCreate {
  return {
    id: values.id.trim(),
    name: values.name,
    description: values.description,
    base_model_id: values.base_model_id.trim() === '' ? null : values.base_model_id.trim(),
    params: paramsOf(values, loaded),
    locked_params: lockedOf(values, loaded),
    meta: metaOf(values, loaded),
    access_grants: access,
    template_access_grants: sharing,
  }
}

export const toUpdateBody = (body: TemplateCreate): TemplateUpdate => body

export type TemplateField = FieldPath<TemplateValues>

const META_FIELDS = new Set(['description', 'tags', 'capabilities'])
const PARAM_FIELDS = new Set(LOCKABLE_KEYS)

/**
 * The field that shows a problem at `path` of the body (`params.temperature`, `meta.tags.3`,
 * `locked_params.1`, `access_grants.0.principal_id`), or undefined for what the form has no field for.
 */
export function templateFieldFor(path: readonly (string | number)[]): TemplateField | undefined {
  const [head, key] = path.map(String)
  if (head === 'params') return key !== undefined && PARAM_FIELDS.has(key) ? (`params.${key}` as TemplateField) : undefined
  if (head === 'meta') return key !== undefined && META_FIELDS.has(key) ? (`meta.${key}` as TemplateField) : undefined
  if (head === 'id' || head === 'name' || head === 'description' || head === 'base_model_id') return head
  if (head === 'locked_params' || head === 'access_grants' || head === 'template_access_grants') return head
  if (head === 'access_control') return 'access_grants'
  return undefined
}

/** The grants of the two access dialogs, given to the resolver as react-hook-form's `context`. */
export interface TemplateGrants {
  access: GrantInput[] | null
  sharing: GrantInput[]
}

/** Root error key for problems the form has no field for (shown in the banner). */
export const TEMPLATE_UNPLACED = 'unplaced'

/**
 * zodResolver over the body built from the values with the server's schema for this mode; each issue
 * goes to the field that shows it, the rest to the banner. The grants come from the access dialogs.
 */
export function templateResolver(mode: 'create' | 'edit', loaded: TemplateLoaded): Resolver<TemplateValues, TemplateGrants> {
  const schema = mode === 'create' ? TemplateCreateSchema : TemplateUpdateSchema
  return async (values, context, options) => {
    const { access, sharing } = context ?? { access: null, sharing: [] }
    const resolve = bodyResolver<TemplateValues>(schema, (typed) => toTemplateBody(typed, loaded, access, sharing))
    const result = await resolve(values, undefined, options)
    const found = leaves(result.errors)
    if (found.length === 0) return result
    const errors: Record<string, HookFieldError> = {}
    const unplaced: string[] = []
    for (const { path, message } of found) {
      const field = templateFieldFor(path)
      if (!field) unplaced.push(`${path.join('.')}: ${message}`)
      else errors[field] = { type: 'schema', message: errors[field] ? `${errors[field].message ?? ''}; ${message}` : message }
    }
    const nested: FieldErrors<TemplateValues> = {}
    for (const [field, error] of Object.entries(errors)) setPath(nested, field.split('.'), error)
    if (unplaced.length > 0) nested.root = { [TEMPLATE_UNPLACED]: { type: 'schema', message: unplaced.join('; ') } }
    return { values: {}, errors: nested }
  }
}

/** Ids the server refuses outside schema validation (taken) belong to the id field. */
const ID_CODES = new Set(['CONFLICT', 'MODEL_ID_TAKEN', 'INVALID_MODEL_ID'])

/** Where a refusal belongs: `errors[]` entries at their fields, a taken id at the id field, the rest in the banner. */
export function placeTemplateError(error: unknown, isCreate: boolean): { fields: [TemplateField, string][]; rest: string[] } {
  const fields: [TemplateField, string][] = []
  const rest: string[] = []
  if (error instanceof ApiError && error.errors && error.errors.length > 0) {
    for (const issue of error.errors) {
      const [part, ...path] = issue.path.split('.')
      const field = part === 'body' ? templateFieldFor(path) : undefined
      if (field) fields.push([field, issue.message])
      else rest.push(`${issue.path}: ${issue.message}`)
    }
  } else if (error instanceof ApiError && isCreate && ID_CODES.has(error.code)) {
    fields.push(['id', error.detail])
  } else if (error instanceof ApiError && error.code === 'BASE_MODEL_UNAVAILABLE') {
    fields.push(['base_model_id', error.detail])
  } else {
    rest.push(describeError(error).detail)
  }
  return { fields, rest }
}

/** The owner as the list and the editor show it: the name the server sends ("(you)" for the caller's own), the id when the account is gone. */
export function ownerLabel(template: Pick<Template, 'user_id' | 'user'>, selfId: string): string {
  const name = template.user?.name ?? template.user_id
  return template.user_id === selfId ? `${name} (you)` : name
}

/** "Parameters (2, 1 locked)", "Meta", "Base model", "Access": what a template holds, for the list. */
export function sectionsOf(template: Pick<Template, 'base_model_id' | 'params' | 'locked_params' | 'meta' | 'access_grants'>): string[] {
  const sections: string[] = []
  if (template.base_model_id) sections.push('Base model')
  if (template.params) {
    const count = Object.keys(template.params).length
    const locked = template.locked_params?.length ?? 0
    sections.push(`Parameters (${count}${locked > 0 ? `, ${locked} locked` : ''})`)
  }
  if (template.meta) sections.push(`Meta (${Object.keys(template.meta).join(', ')})`)
  if (template.access_grants) sections.push('Access')
  return sections
}

/** Which editor fields the user has changed (react-hook-form's dirtyFields, flattened to dotted names). */
export type Dirty = ReadonlySet<string>

export function dirtyNames(dirtyFields: unknown, prefix = ''): Set<string> {
  const names = new Set<string>()
  if (dirtyFields === true) names.add(prefix)
  else if (isRecord(dirtyFields) || Array.isArray(dirtyFields)) {
    const anyDirty = Object.values(dirtyFields).some((value) => value !== false && value !== undefined)
    if (anyDirty && prefix) names.add(prefix)
    for (const [key, value] of Object.entries(dirtyFields)) for (const name of dirtyNames(value, prefix ? `${prefix}.${key}` : key)) names.add(name)
  }
  return names
}

/**
 * The model editor's values once a template is chosen: each section the template holds fills its
 * fields, except the fields the user already edited (`dirty`): explicit edits win. Tags are united.
 */
export function fillFromTemplate(current: EditorValues, dirty: Dirty, template: Template): EditorValues {
  const next: EditorValues = {
    ...current,
    meta: { ...current.meta, capabilities: { ...current.meta.capabilities } },
    params: { ...current.params },
  }
  const free = (name: string) => !dirty.has(name)
  if (template.base_model_id && free('base_model_id')) next.base_model_id = template.base_model_id
  const params = template.params ?? {}
  for (const spec of PARAMS) {
    const value = params[spec.key]
    if (value !== undefined && value !== null && free(`params.${spec.key}`)) next.params[spec.key] = asText(value)
  }
  if (typeof params['system'] === 'string' && free('params.system')) next.params.system = params['system']
  const stop = params['stop']
  if (stop !== undefined && free('params.stop')) next.params.stop = typeof stop === 'string' ? [stop] : tagNames(stop)
  const meta = template.meta ?? {}
  if (typeof meta['description'] === 'string' && free('meta.description')) next.meta.description = meta['description']
  const tags = tagNames(meta['tags'])
  if (tags.length > 0) next.meta.tags = [...current.meta.tags, ...tags.filter((tag) => !current.meta.tags.some((t) => t.toLowerCase() === tag.toLowerCase()))]
  const capabilities = isRecord(meta['capabilities']) ? meta['capabilities'] : {}
  for (const cap of CAPABILITIES) {
    const value = capabilities[cap.key]
    if (typeof value === 'boolean' && free(`meta.capabilities.${cap.key}`)) next.meta.capabilities[cap.key] = value
  }
  return next
}
