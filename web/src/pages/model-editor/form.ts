/**
 * The model editor's form: its values (named like the request body, so a path the server names is the
 * field that shows it), the request body built from them, and validation with the server's own schema
 * (`ModelFormSchema` on create, `ModelUpdateSchema` on edit) through react-hook-form's zod resolver.
 */
import type { FieldError as HookFieldError, FieldErrors, FieldPath, Resolver } from 'react-hook-form'
import { ApiError, describeError, type ModelForm } from '../../api/client'
import { bodyResolver } from '../../lib/forms'
import { ModelFormSchema, ModelUpdateSchema } from '../../lib/schemas'

export type ParamKey =
  'temperature' | 'top_p' | 'top_k' | 'min_p' | 'max_tokens' | 'num_ctx' | 'frequency_penalty' | 'presence_penalty' | 'repeat_penalty' | 'seed'

export interface ParamSpec {
  key: ParamKey
  label: string
  hint: string
  /** Keyboard for phones: decimal has no minus sign on some of them. */
  inputMode: 'decimal' | 'numeric' | 'text'
  placeholder?: string
}

export const PARAMS: ParamSpec[] = [
  { key: 'temperature', label: 'Temperature', hint: '0 to 2', inputMode: 'decimal', placeholder: 'default' },
  { key: 'top_p', label: 'Top P', hint: '0 to 1', inputMode: 'decimal', placeholder: 'default' },
  { key: 'top_k', label: 'Top K', hint: '≥ 0', inputMode: 'decimal', placeholder: 'default' },
  { key: 'min_p', label: 'Min P', hint: '0 to 1', inputMode: 'decimal', placeholder: 'default' },
  { key: 'max_tokens', label: 'Max tokens', hint: 'integer ≥ 1; −1 no limit', inputMode: 'text', placeholder: 'default' },
  { key: 'num_ctx', label: 'Context length', hint: 'num_ctx, integer ≥ 1; −1 no limit', inputMode: 'text', placeholder: 'default' },
  { key: 'frequency_penalty', label: 'Frequency penalty', hint: '−2 to 2', inputMode: 'text', placeholder: 'default' },
  { key: 'presence_penalty', label: 'Presence penalty', hint: '−2 to 2', inputMode: 'text', placeholder: 'default' },
  { key: 'repeat_penalty', label: 'Repeat penalty', hint: '≥ −2', inputMode: 'text', placeholder: 'default' },
  { key: 'seed', label: 'Seed', hint: 'integer', inputMode: 'text', placeholder: 'random' },
]

export const CAPABILITIES: { key: string; label: string; byDefault: boolean }[] = [
  { key: 'vision', label: 'Vision', byDefault: true },
  { key: 'file_upload', label: 'File upload', byDefault: true },
  { key: 'web_search', label: 'Web search', byDefault: true },
  { key: 'image_generation', label: 'Image generation', byDefault: true },
  { key: 'code_interpreter', label: 'Code interpreter', byDefault: true },
  { key: 'citations', label: 'Citations', byDefault: true },
  { key: 'usage', label: 'Usage statistics', byDefault: false },
]

export interface Suggestion {
  content: string
  /** Other keys of an existing suggestion (Open WebUI has title), kept. */
  extra: Record<string, unknown>
}

/** What the form edits. Parameters are the text typed (a number or empty); the body makes numbers of them. */
export interface EditorValues {
  id: string
  name: string
  base_model_id: string
  meta: {
    description: string
    tags: string[]
    capabilities: Record<string, boolean>
    suggestion_prompts: Suggestion[]
    profile_image_url: string
  }
  params: Record<ParamKey, string> & { system: string; stop: string[] }
  is_active: boolean
}

/** The meta and params as loaded, so keys this form does not show survive a save. */
export interface Loaded {
  meta: Record<string, unknown>
  params: Record<string, unknown>
}

export interface Initial {
  values: EditorValues
  loaded: Loaded
  /** While creating, the id follows the name until someone edits it. */
  idTouched: boolean
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * The form of a new model. Its capabilities start from the admin's defaults of new presets
 * (`DEFAULT_MODEL_METADATA.capabilities` of GET /configs/models/defaults; issue #16 item 7): what they
 * tick is ticked, nothing else (not everything, as before).
 */
export function emptyInitial(defaultMeta: Record<string, unknown> = {}): Initial {
  const defaults = isRecord(defaultMeta['capabilities']) ? defaultMeta['capabilities'] : {}
  return {
    values: {
      id: '',
      name: '',
      base_model_id: '',
      meta: {
        description: '',
        tags: [],
        capabilities: Object.fromEntries(CAPABILITIES.map((cap) => [cap.key, defaults[cap.key] === true])),
        suggestion_prompts: [],
        profile_image_url: '',
      },
      params: { ...(Object.fromEntries(PARAMS.map((spec) => [spec.key, ''])) as Record<ParamKey, string>), system: '', stop: [] },
      is_active: true,
    },
    loaded: { meta: {}, params: {} },
    idTouched: false,
  }
}

/** The form of a stored model (edit) or of a copy of one (clone). */
export function initialFrom(model: {
  id: string
  name: string
  base_model_id?: string | null
  meta?: unknown
  params?: unknown
  is_active?: boolean
}): Initial {
  const meta = isRecord(model.meta) ? model.meta : {}
  const params = isRecord(model.params) ? model.params : {}
  const capabilities = isRecord(meta['capabilities']) ? meta['capabilities'] : {}
  const tags: unknown[] = Array.isArray(meta['tags']) ? meta['tags'] : []
  const suggestions: unknown[] = Array.isArray(meta['suggestion_prompts']) ? meta['suggestion_prompts'] : []
  const stop = params['stop']
  const empty = emptyInitial().values
  return {
    values: {
      id: model.id,
      name: model.name,
      base_model_id: model.base_model_id ?? '',
      meta: {
        description: typeof meta['description'] === 'string' ? meta['description'] : '',
        tags: tags.map((tag) => (typeof tag === 'string' ? tag : isRecord(tag) && typeof tag['name'] === 'string' ? tag['name'] : '')).filter(Boolean),
        capabilities: Object.fromEntries(
          CAPABILITIES.map((cap) => [cap.key, typeof capabilities[cap.key] === 'boolean' ? (capabilities[cap.key] as boolean) : cap.byDefault]),
        ),
        suggestion_prompts: suggestions.map((item) =>
          typeof item === 'string'
            ? { content: item, extra: {} }
            : isRecord(item)
              ? { content: typeof item['content'] === 'string' ? item['content'] : '', extra: item }
              : { content: '', extra: {} },
        ),
        profile_image_url: typeof meta['profile_image_url'] === 'string' ? meta['profile_image_url'] : '',
      },
      params: {
        ...empty.params,
        ...Object.fromEntries(PARAMS.filter((p) => params[p.key] !== undefined && params[p.key] !== null).map((p) => [p.key, String(params[p.key])])),
        system: typeof params['system'] === 'string' ? params['system'] : '',
        stop: typeof stop === 'string' ? [stop] : Array.isArray(stop) ? stop.filter((s): s is string => typeof s === 'string') : [],
      },
      is_active: model.is_active ?? true,
    },
    loaded: { meta, params },
    idTouched: true,
  }
}

/**
 * The request body. A parameter left empty is not sent (unset); text that is not a number is sent as
 * typed, so the server's schema refuses it with its own words (and the same schema does so here first).
 */
export function toBody(values: EditorValues, loaded: Loaded): ModelForm {
  const params: Record<string, unknown> = { ...loaded.params }
  for (const spec of PARAMS) {
    delete params[spec.key]
    const typed = values.params[spec.key].trim().replace(/^−/, '-')
    if (typed === '') continue
    const value = Number(typed)
    params[spec.key] = Number.isFinite(value) ? value : typed
  }
  delete params['system']
  if (values.params.system.trim() !== '') params['system'] = values.params.system
  delete params['stop']
  if (values.params.stop.length > 0) params['stop'] = values.params.stop

  const meta: Record<string, unknown> = {
    ...loaded.meta,
    description: values.meta.description.trim() === '' ? null : values.meta.description,
    tags: values.meta.tags.map((name) => ({ name })),
    capabilities: { ...(isRecord(loaded.meta['capabilities']) ? loaded.meta['capabilities'] : {}), ...values.meta.capabilities },
    suggestion_prompts: values.meta.suggestion_prompts.filter((s) => s.content.trim() !== '').map((s) => ({ ...s.extra, content: s.content })),
  }
  if (values.meta.profile_image_url) meta['profile_image_url'] = values.meta.profile_image_url
  else delete meta['profile_image_url']

  return {
    id: values.id.trim(),
    base_model_id: values.base_model_id.trim() === '' ? null : values.base_model_id.trim(),
    name: values.name,
    meta,
    params,
    is_active: values.is_active,
  }
}

export type EditorField = FieldPath<EditorValues>

const META_FIELDS = new Set(['description', 'tags', 'capabilities', 'suggestion_prompts', 'profile_image_url'])
const PARAM_FIELDS = new Set(['system', 'stop', ...PARAMS.map((spec) => spec.key)])

/**
 * The field that shows a problem at `path` of the body (`params.temperature`, `meta.tags.3`), or
 * undefined when the form has no field for it (keys it does not show, the access form): the banner.
 */
export function fieldFor(path: readonly (string | number)[]): EditorField | undefined {
  const [head, key] = path.map(String)
  if (head === 'params') return key !== undefined && PARAM_FIELDS.has(key) ? (`params.${key}` as EditorField) : undefined
  if (head === 'meta') return key !== undefined && META_FIELDS.has(key) ? (`meta.${key}` as EditorField) : undefined
  if (head === 'id' || head === 'name' || head === 'base_model_id') return head
  return undefined
}

const isFieldError = (node: unknown): node is HookFieldError => isRecord(node) && typeof node['type'] === 'string'

/** Every leaf error of a nested react-hook-form error tree, with its path. */
export function leaves(node: unknown, path: string[] = []): { path: string[]; message: string }[] {
  if (isFieldError(node)) return [{ path, message: typeof node.message === 'string' ? node.message : 'is not valid' }]
  if (!isRecord(node) && !Array.isArray(node)) return []
  return Object.entries(node).flatMap(([key, child]) => (key === 'ref' ? [] : leaves(child, [...path, key])))
}

/** Root error key for problems the form has no field for (shown in the banner). */
export const UNPLACED = 'unplaced'

/**
 * zodResolver over the body built from the values, with the server's schema for this mode; each issue
 * is moved to the field that shows it (`meta.tags.3` → the tags field), the rest to the banner.
 */
export function editorResolver(mode: 'create' | 'edit', loaded: Loaded): Resolver<EditorValues> {
  const schema = mode === 'create' ? ModelFormSchema : ModelUpdateSchema
  // The grants are the access dialog's (built from a draft, never typed): the server judges them.
  const resolve = bodyResolver<EditorValues>(schema, (values) => toBody(values, loaded))
  return async (values, context, options) => {
    const result = await resolve(values, context, options)
    const found = leaves(result.errors)
    if (found.length === 0) return result
    const errors: Record<string, HookFieldError> = {}
    const unplaced: string[] = []
    for (const { path, message } of found) {
      const field = fieldFor(path)
      if (!field) unplaced.push(`${path.join('.')}: ${message}`)
      else errors[field] = { type: 'schema', message: errors[field] ? `${errors[field].message ?? ''}; ${message}` : message }
    }
    const nested: FieldErrors<EditorValues> = {}
    for (const [field, error] of Object.entries(errors)) setPath(nested, field.split('.'), error)
    if (unplaced.length > 0) nested.root = { [UNPLACED]: { type: 'schema', message: unplaced.join('; ') } }
    return { values: {}, errors: nested }
  }
}

export function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target
  path.forEach((key, index) => {
    if (index === path.length - 1) node[key] = value
    else {
      const next = isRecord(node[key]) ? node[key] : {}
      node[key] = next
      node = next
    }
  })
}

/** The ids the server refuses outside schema validation (taken, too long) belong to the id field. */
const ID_CODES = new Set(['MODEL_ID_TAKEN', 'MODEL_ID_TOO_LONG', 'INVALID_MODEL_ID'])

/**
 * Where a refusal of the server belongs: its structured `errors` ({path: 'body.params.temperature',
 * message, code}) go to their fields; what names no field of the form goes to the banner.
 */
export function placeServerError(error: unknown): { fields: [EditorField, string][]; rest: string[] } {
  const fields: [EditorField, string][] = []
  const rest: string[] = []
  if (error instanceof ApiError && error.errors && error.errors.length > 0) {
    for (const issue of error.errors) {
      const [part, ...path] = issue.path.split('.')
      const field = part === 'body' ? fieldFor(path) : undefined
      if (field) fields.push([field, issue.message])
      else rest.push(`${issue.path}: ${issue.message}`)
    }
  } else if (error instanceof ApiError && ID_CODES.has(error.code)) {
    fields.push(['id', error.detail])
  } else {
    rest.push(describeError(error).detail)
  }
  return { fields, rest }
}

/** Shows a data: picture without pasting a whole base64 string into the preview. */
export function previewOf(body: ModelForm): string {
  return JSON.stringify(
    body,
    (key, value: unknown) =>
      key === 'profile_image_url' && typeof value === 'string' && value.startsWith('data:')
        ? `${value.slice(0, 32)}… (${Math.round(value.length / 1024)} kB)`
        : value,
    2,
  )
}
