/**
 * Create and edit a model preset (`/workspace/models/create`, `/workspace/models/edit?id=`). Keys the
 * form does not show (other meta and params keys) are kept as they were. The server judges every
 * value; its answer is shown next to the field it names.
 */
import { useEffect, useId, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react'
import {
  createModel,
  describeError,
  getModel,
  listRuntimeModels,
  modelImageUrl,
  updateModel,
  ApiError,
  type GrantInput,
  type ModelForm,
  type ModelWithAccess,
} from '../api/client'
import { ChipsInput } from '../components/ChipsInput'
import { ErrorState, InlineError, Loading } from '../components/States'
import { describeAccess } from '../lib/access'
import { resizeImage, slugify } from '../lib/format'
import { useResource } from '../lib/hooks'
import { notify } from '../lib/notify'
import { Link, navigate, useLocation } from '../lib/router'
import { can, useUser } from '../lib/session'
import { AccessDialog } from './AccessDialog'
import { CLONE_KEY } from './ModelsPage'

interface ParamSpec {
  key: string
  label: string
  hint: string
  /** Keyboard for phones: decimal has no minus sign on some of them. */
  inputMode: 'decimal' | 'numeric' | 'text'
  placeholder?: string
}

const PARAMS: ParamSpec[] = [
  { key: 'temperature', label: 'Temperature', hint: '0 to 2', inputMode: 'decimal', placeholder: '0.8' },
  { key: 'top_p', label: 'Top P', hint: '0 to 1', inputMode: 'decimal', placeholder: '0.9' },
  { key: 'top_k', label: 'Top K', hint: 'integer ≥ 0', inputMode: 'numeric', placeholder: '40' },
  { key: 'min_p', label: 'Min P', hint: '0 to 1', inputMode: 'decimal', placeholder: '0.05' },
  { key: 'max_tokens', label: 'Max tokens', hint: 'integer ≥ 1', inputMode: 'numeric', placeholder: '1024' },
  { key: 'num_ctx', label: 'Context length', hint: 'num_ctx, integer ≥ 1', inputMode: 'numeric', placeholder: '4096' },
  { key: 'frequency_penalty', label: 'Frequency penalty', hint: '−2 to 2', inputMode: 'text', placeholder: '0' },
  { key: 'presence_penalty', label: 'Presence penalty', hint: '−2 to 2', inputMode: 'text', placeholder: '0' },
  { key: 'repeat_penalty', label: 'Repeat penalty', hint: '≥ 0', inputMode: 'decimal', placeholder: '1.1' },
  { key: 'seed', label: 'Seed', hint: 'integer', inputMode: 'text', placeholder: 'random' },
]

const CAPABILITIES: { key: string; label: string; byDefault: boolean }[] = [
  { key: 'vision', label: 'Vision', byDefault: true },
  { key: 'file_upload', label: 'File upload', byDefault: true },
  { key: 'web_search', label: 'Web search', byDefault: true },
  { key: 'image_generation', label: 'Image generation', byDefault: true },
  { key: 'code_interpreter', label: 'Code interpreter', byDefault: true },
  { key: 'citations', label: 'Citations', byDefault: true },
  { key: 'usage', label: 'Usage statistics', byDefault: false },
]

interface Suggestion {
  content: string
  /** Other keys of an existing suggestion (Open WebUI has title), kept. */
  extra: Record<string, unknown>
}

interface Draft {
  id: string
  /** While creating, the id follows the name until someone edits it. */
  idTouched: boolean
  name: string
  baseModelId: string
  description: string
  tags: string[]
  system: string
  params: Record<string, string>
  stop: string[]
  capabilities: Record<string, boolean>
  suggestions: Suggestion[]
  image: string
  isActive: boolean
  /** The meta and params as loaded, so keys this form does not show survive a save. */
  baseMeta: Record<string, unknown>
  baseParams: Record<string, unknown>
}

function emptyDraft(): Draft {
  return {
    id: '',
    idTouched: false,
    name: '',
    baseModelId: '',
    description: '',
    tags: [],
    system: '',
    params: {},
    stop: [],
    capabilities: Object.fromEntries(CAPABILITIES.map((cap) => [cap.key, cap.byDefault])),
    suggestions: [],
    image: '',
    isActive: true,
    baseMeta: {},
    baseParams: {},
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** A draft from a stored model (edit) or a copy of one (clone). */
function draftFrom(model: { id: string; name: string; base_model_id?: string | null; meta?: unknown; params?: unknown; is_active?: boolean }): Draft {
  const meta = isRecord(model.meta) ? model.meta : {}
  const params = isRecord(model.params) ? model.params : {}
  const capabilities = isRecord(meta['capabilities']) ? meta['capabilities'] : {}
  const tags = Array.isArray(meta['tags']) ? meta['tags'] : []
  const stop = params['stop']
  return {
    ...emptyDraft(),
    id: model.id,
    idTouched: true,
    name: model.name,
    baseModelId: model.base_model_id ?? '',
    description: typeof meta['description'] === 'string' ? meta['description'] : '',
    tags: tags.map((tag: unknown) => (typeof tag === 'string' ? tag : isRecord(tag) && typeof tag['name'] === 'string' ? tag['name'] : '')).filter(Boolean),
    system: typeof params['system'] === 'string' ? params['system'] : '',
    params: Object.fromEntries(PARAMS.filter((p) => params[p.key] !== undefined && params[p.key] !== null).map((p) => [p.key, String(params[p.key])])),
    stop: typeof stop === 'string' ? [stop] : Array.isArray(stop) ? stop.filter((s): s is string => typeof s === 'string') : [],
    capabilities: Object.fromEntries(
      CAPABILITIES.map((cap) => [cap.key, typeof capabilities[cap.key] === 'boolean' ? (capabilities[cap.key] as boolean) : cap.byDefault]),
    ),
    suggestions: (Array.isArray(meta['suggestion_prompts']) ? meta['suggestion_prompts'] : []).map((item: unknown) =>
      typeof item === 'string'
        ? { content: item, extra: {} }
        : isRecord(item)
          ? { content: typeof item['content'] === 'string' ? item['content'] : '', extra: item }
          : { content: '', extra: {} },
    ),
    image: typeof meta['profile_image_url'] === 'string' ? meta['profile_image_url'] : '',
    isActive: model.is_active ?? true,
    baseMeta: meta,
    baseParams: params,
  }
}

/** The request body; a parameter left empty is not sent (unset), a value that is not a number is reported here. */
function buildForm(draft: Draft): { form: ModelForm; errors: Record<string, string> } {
  const errors: Record<string, string> = {}
  const params: Record<string, unknown> = { ...draft.baseParams }
  for (const spec of PARAMS) {
    delete params[spec.key]
    const text = (draft.params[spec.key] ?? '').trim().replace(/^−/, '-')
    if (text === '') continue
    const value = Number(text)
    if (!Number.isFinite(value)) errors[`params.${spec.key}`] = `must be a number (${spec.hint})`
    else params[spec.key] = value
  }
  delete params['system']
  if (draft.system.trim() !== '') params['system'] = draft.system
  delete params['stop']
  if (draft.stop.length > 0) params['stop'] = draft.stop

  const meta: Record<string, unknown> = {
    ...draft.baseMeta,
    description: draft.description.trim() === '' ? null : draft.description,
    tags: draft.tags.map((name) => ({ name })),
    capabilities: { ...(isRecord(draft.baseMeta['capabilities']) ? draft.baseMeta['capabilities'] : {}), ...draft.capabilities },
    suggestion_prompts: draft.suggestions.filter((s) => s.content.trim() !== '').map((s) => ({ ...s.extra, content: s.content })),
  }
  if (draft.image) meta['profile_image_url'] = draft.image
  else delete meta['profile_image_url']

  return {
    form: {
      id: draft.id.trim(),
      base_model_id: draft.baseModelId.trim() === '' ? null : draft.baseModelId.trim(),
      name: draft.name,
      meta,
      params,
      is_active: draft.isActive,
    },
    errors,
  }
}

/** Where a server error belongs: `body.params.temperature: must be …` → the temperature field. */
const FIELD_OF: [RegExp, string][] = [
  [/^meta\.description/, 'description'],
  [/^meta\.tags/, 'tags'],
  [/^meta\.profile_image_url/, 'image'],
  [/^meta\.suggestion_prompts/, 'suggestions'],
  [/^meta\.capabilities/, 'capabilities'],
  [/^name$/, 'name'],
  [/^id$/, 'id'],
  [/^base_model_id$/, 'base_model_id'],
]
const PARAM_FIELDS = new Set(['system', 'stop', ...PARAMS.map((spec) => spec.key)])

function fieldOf(path: string): string | undefined {
  const param = /^params\.(\w+)/.exec(path)?.[1]
  if (param) return PARAM_FIELDS.has(param) ? `params.${param}` : undefined
  return FIELD_OF.find(([pattern]) => pattern.test(path))?.[1]
}

/** Splits the server's detail (`body.a: …; body.b: …`) over the fields it names; the rest is for the whole form. */
function serverFieldErrors(error: unknown): { fields: Record<string, string>; rest: string[] } {
  const fields: Record<string, string> = {}
  const rest: string[] = []
  const { detail, code } = describeError(error)
  if (error instanceof ApiError && (code === 'MODEL_ID_TAKEN' || code === 'MODEL_ID_TOO_LONG' || code === 'INVALID_MODEL_ID') && !detail.startsWith('body.')) {
    fields['id'] = detail
    return { fields, rest }
  }
  for (const part of detail.split(/;\s+(?=body\.)/)) {
    const match = /^body\.([\w.]+):\s*(.*)$/s.exec(part)
    const key = match?.[1] ? fieldOf(match[1]) : undefined
    if (match && key) {
      const message = match[2] ?? part
      fields[key] = fields[key] ? `${fields[key]}; ${message}` : message
    } else {
      rest.push(part)
    }
  }
  return { fields, rest }
}

/** Shows a data: picture without pasting a whole base64 string into the preview. */
function previewOf(form: ModelForm & { access_grants?: GrantInput[] }): string {
  return JSON.stringify(
    form,
    (key, value: unknown) =>
      key === 'profile_image_url' && typeof value === 'string' && value.startsWith('data:')
        ? `${value.slice(0, 32)}… (${Math.round(value.length / 1024)} kB)`
        : value,
    2,
  )
}

export function ModelEditorPage({ mode }: { mode: 'create' | 'edit' }) {
  const { search } = useLocation()
  const id = search.get('id') ?? ''
  const user = useUser()

  if (mode === 'create') {
    if (!can(user, 'workspace.models')) {
      return (
        <section className="page">
          <h1 tabIndex={-1}>New model</h1>
          <ErrorState
            error={new Error('Creating models needs the “workspace.models” permission. Ask an administrator to grant it to one of your groups.')}
            title="You may not create models"
          />
          <Link to="/workspace/models">Back to the models</Link>
        </section>
      )
    }
    return <CreateModel fromClone={search.get('clone') === '1'} />
  }
  return <EditModel key={id} id={id} />
}

function CreateModel({ fromClone }: { fromClone: boolean }) {
  const [initial] = useState<Draft>(() => {
    if (!fromClone) return emptyDraft()
    try {
      const stored = sessionStorage.getItem(CLONE_KEY)
      const parsed: unknown = stored ? JSON.parse(stored) : null
      if (isRecord(parsed) && typeof parsed['id'] === 'string' && typeof parsed['name'] === 'string') {
        return draftFrom(parsed as { id: string; name: string })
      }
    } catch {
      // A broken clone falls back to an empty form.
    }
    return emptyDraft()
  })
  return <Editor mode="create" initial={initial} />
}

function EditModel({ id }: { id: string }) {
  const model = useResource(() => (id ? getModel(id) : Promise.reject(new Error('No model id in the address (?id=).'))), [id])
  const denied = model.data && !model.data.write_access

  useEffect(() => {
    if (denied) {
      notify('You do not have permission to edit this model', 'error')
      navigate('/workspace/models', { replace: true })
    }
  }, [denied])

  if (model.error) {
    return (
      <section className="page">
        <h1 tabIndex={-1}>Edit model</h1>
        <ErrorState error={model.error} title="This model could not be loaded" onRetry={model.reload} />
        <Link to="/workspace/models">Back to the models</Link>
      </section>
    )
  }
  if (!model.data || denied) {
    return (
      <section className="page">
        <h1 tabIndex={-1}>Edit model</h1>
        <Loading label="Loading the model…" />
      </section>
    )
  }
  return <Editor mode="edit" initial={draftFrom(model.data)} model={model.data} />
}

function Editor({ mode, initial, model }: { mode: 'create' | 'edit'; initial: Draft; model?: ModelWithAccess }) {
  const user = useUser()
  const [draft, setDraft] = useState<Draft>(initial)
  const [grants, setGrants] = useState<GrantInput[]>(model?.access_grants ?? [])
  const [accessOpen, setAccessOpen] = useState(false)
  const [errors, setErrors] = useState<Record<string, string>>({})
  /** Lines for the banner above the form; `fields` lines go away once every highlighted field is edited. */
  const [formError, setFormError] = useState<{ fields: boolean; lines: string[] }>({ fields: false, lines: [] })
  const [saving, setSaving] = useState(false)
  const [imageError, setImageError] = useState<string | null>(null)
  const formRef = useRef<HTMLFormElement>(null)
  const imageInput = useRef<HTMLInputElement>(null)
  const uid = useId()
  const fid = (name: string) => `${uid}-${name.replace(/\W/g, '-')}`

  const isCreate = mode === 'create'
  const update = (patch: Partial<Draft>) => setDraft((current) => ({ ...current, ...patch }))
  const clearError = (key: string) =>
    setErrors((current) => {
      if (!(key in current)) return current
      const { [key]: _removed, ...rest } = current
      return rest
    })

  const built = useMemo(() => buildForm(draft), [draft])
  const body = isCreate ? { ...built.form, access_grants: grants } : built.form

  useEffect(() => {
    if (isCreate) sessionStorage.removeItem(CLONE_KEY)
  }, [isCreate])

  // After a refused save, put the keyboard on the first field the server named.
  const focusFirstError = () => window.requestAnimationFrame(() => formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus())

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setFormError({ fields: false, lines: [] })
    const local: Record<string, string> = { ...built.errors }
    if (draft.name.trim() === '') local['name'] = 'must not be empty'
    if (draft.id.trim() === '') local['id'] = 'must not be empty'
    if (Object.keys(local).length > 0) {
      setErrors(local)
      setFormError({ fields: true, lines: ['Some fields need your attention.'] })
      focusFirstError()
      return
    }
    setSaving(true)
    setErrors({})
    try {
      if (isCreate) {
        await createModel({ ...built.form, access_grants: grants })
        notify(`Created ${built.form.name}.`, 'success')
      } else {
        await updateModel(built.form)
        notify(`Saved ${built.form.name}.`, 'success')
      }
      navigate('/workspace/models')
    } catch (error) {
      const { fields, rest } = serverFieldErrors(error)
      setErrors(fields)
      const { code } = describeError(error)
      setFormError(
        Object.keys(fields).length > 0
          ? { fields: rest.length === 0, lines: [`The server refused the model (${code}): see the highlighted fields.`, ...rest] }
          : { fields: false, lines: [`The server refused the model (${code}): ${rest.join('; ') || describeError(error).detail}`] },
      )
      setSaving(false)
      focusFirstError()
    }
  }

  const onImage = async (file: File | undefined) => {
    if (!file) return
    setImageError(null)
    try {
      update({ image: await resizeImage(file, 128) })
      clearError('image')
    } catch (error) {
      setImageError(describeError(error).detail)
    }
  }

  const field = (key: string) => ({
    'aria-invalid': errors[key] ? (true as const) : undefined,
    'aria-describedby': [errors[key] ? `${fid(key)}-error` : '', `${fid(key)}-hint`].filter(Boolean).join(' ') || undefined,
  })
  const errorOf = (key: string) => <InlineError id={`${fid(key)}-error`}>{errors[key]}</InlineError>

  const imageSrc = draft.image
    ? draft.image.startsWith('data:') || /^https?:/.test(draft.image)
      ? draft.image
      : model
        ? modelImageUrl(model.id, model.updated_at)
        : ''
    : ''

  return (
    <section className="page page-narrow">
      <p className="breadcrumb">
        <Link to="/workspace/models">‹ Models</Link>
      </p>
      <h1 tabIndex={-1}>{isCreate ? 'New model' : `Edit ${initial.name}`}</h1>

      <form ref={formRef} className="form editor" noValidate onSubmit={(event) => void submit(event)}>
        {formError.lines.length > 0 && (!formError.fields || Object.keys(errors).length > 0) ? (
          <div className="form-errors" role="alert">
            {formError.lines.map((line) => (
              <p key={line}>{line}</p>
            ))}
          </div>
        ) : null}

        <div className="editor-identity">
          <div className="image-field">
            {imageSrc ? (
              <img src={imageSrc} alt={`Picture of ${draft.name || 'the model'}`} width={96} height={96} className="image-preview" />
            ) : (
              <div className="image-placeholder" aria-hidden="true">
                {(draft.name.trim()[0] ?? '?').toUpperCase()}
              </div>
            )}
            <input
              ref={imageInput}
              type="file"
              accept="image/*"
              className="visually-hidden"
              tabIndex={-1}
              aria-label="Profile image file"
              onChange={(event) => {
                void onImage(event.target.files?.[0])
                event.target.value = ''
              }}
            />
            <div className="row">
              <button type="button" className="button button-small" onClick={() => imageInput.current?.click()}>
                {draft.image ? 'Change picture' : 'Choose picture'}
              </button>
              {draft.image ? (
                <button type="button" className="button button-small" onClick={() => update({ image: '' })}>
                  Remove picture
                </button>
              ) : null}
            </div>
            <p className="hint" id={`${fid('image')}-hint`}>
              Scaled to at most 128 × 128 pixels in your browser.
            </p>
            <InlineError>{imageError}</InlineError>
            {errorOf('image')}
          </div>

          <div className="editor-names">
            <div className="field">
              <label htmlFor={fid('name')}>Name</label>
              <input
                id={fid('name')}
                value={draft.name}
                maxLength={512}
                required
                {...field('name')}
                onChange={(event) => {
                  const name = event.target.value
                  update(isCreate && !draft.idTouched ? { name, id: slugify(name) } : { name })
                  clearError('name')
                }}
              />
              {errorOf('name')}
            </div>
            <div className="field">
              <label htmlFor={fid('id')}>Model id</label>
              <input
                id={fid('id')}
                value={draft.id}
                readOnly={!isCreate}
                maxLength={256}
                spellCheck={false}
                className="mono"
                {...field('id')}
                onChange={(event) => {
                  update({ id: event.target.value, idTouched: true })
                  clearError('id')
                }}
              />
              <p className="hint" id={`${fid('id')}-hint`}>
                {isCreate
                  ? 'Made from the name; you may change it until the model is created. Chat clients call the model by this id.'
                  : 'The id cannot change after creation.'}
              </p>
              {errorOf('id')}
            </div>
            <BaseModelField
              id={fid('base_model_id')}
              value={draft.baseModelId}
              selfId={draft.id}
              onChange={(value) => {
                update({ baseModelId: value })
                clearError('base_model_id')
              }}
              error={errors['base_model_id']}
            />
            <div className="row row-between">
              <div>
                <span className="label-like">Access</span>
                <p className="access-summary" data-testid="access-summary">
                  {describeAccess(grants)}
                </p>
              </div>
              <button type="button" className="button" onClick={() => setAccessOpen(true)}>
                Access…
              </button>
            </div>
          </div>
        </div>

        <div className="field">
          <label htmlFor={fid('description')}>Description</label>
          <textarea
            id={fid('description')}
            rows={2}
            value={draft.description}
            {...field('description')}
            onChange={(event) => {
              update({ description: event.target.value })
              clearError('description')
            }}
          />
          <p className="hint" id={`${fid('description')}-hint`}>
            What this model is for, shown on its card.
          </p>
          {errorOf('description')}
        </div>

        <div className="field">
          <label htmlFor={fid('tags')}>Tags</label>
          <ChipsInput
            id={fid('tags')}
            noun="tag"
            values={draft.tags}
            onChange={(tags) => {
              update({ tags })
              clearError('tags')
            }}
            placeholder="Type a tag, then Enter"
            describedBy={`${fid('tags')}-hint`}
            invalid={Boolean(errors['tags'])}
          />
          <p className="hint" id={`${fid('tags')}-hint`}>
            Enter or comma adds a tag; Backspace in the empty box removes the last one.
          </p>
          {errorOf('tags')}
        </div>

        <div className="field">
          <label htmlFor={fid('params.system')}>System prompt</label>
          <textarea
            id={fid('params.system')}
            rows={6}
            value={draft.system}
            {...field('params.system')}
            onChange={(event) => {
              update({ system: event.target.value })
              clearError('params.system')
            }}
            placeholder="You are a patient SQL teacher…"
          />
          <p className="hint" id={`${fid('params.system')}-hint`}>
            Sent as the system message of every chat with this model.
          </p>
          {errorOf('params.system')}
        </div>

        <fieldset className="fieldset">
          <legend>Parameters</legend>
          <p className="hint">Leave a field empty to use the base model's default.</p>
          <div className="param-grid">
            {PARAMS.map((spec) => {
              const key = `params.${spec.key}`
              return (
                <div className="field" key={spec.key}>
                  <label htmlFor={fid(key)}>{spec.label}</label>
                  <input
                    id={fid(key)}
                    inputMode={spec.inputMode}
                    autoComplete="off"
                    placeholder={spec.placeholder}
                    value={draft.params[spec.key] ?? ''}
                    {...field(key)}
                    onChange={(event) => {
                      update({ params: { ...draft.params, [spec.key]: event.target.value } })
                      clearError(key)
                    }}
                  />
                  <p className="hint" id={`${fid(key)}-hint`}>
                    {spec.hint}
                  </p>
                  {errorOf(key)}
                </div>
              )
            })}
            <div className="field param-wide">
              <label htmlFor={fid('params.stop')}>Stop sequences</label>
              <ChipsInput
                id={fid('params.stop')}
                noun="stop sequence"
                splitOnComma={false}
                values={draft.stop}
                onChange={(stop) => {
                  update({ stop })
                  clearError('params.stop')
                }}
                placeholder="Type a sequence, then Enter"
                describedBy={`${fid('params.stop')}-hint`}
                invalid={Boolean(errors['params.stop'])}
              />
              <p className="hint" id={`${fid('params.stop')}-hint`}>
                The model stops generating when it writes one of these.
              </p>
              {errorOf('params.stop')}
            </div>
          </div>
        </fieldset>

        <fieldset className="fieldset">
          <legend>Capabilities</legend>
          <div className="checkbox-grid">
            {CAPABILITIES.map((cap) => (
              <label key={cap.key} className="checkbox">
                <input
                  type="checkbox"
                  checked={draft.capabilities[cap.key] ?? false}
                  onChange={(event) => update({ capabilities: { ...draft.capabilities, [cap.key]: event.target.checked } })}
                />
                {cap.label}
              </label>
            ))}
          </div>
          {errorOf('capabilities')}
        </fieldset>

        <fieldset className="fieldset">
          <legend>Suggestion prompts</legend>
          <p className="hint">Shown as starters when a chat with this model begins.</p>
          {draft.suggestions.length === 0 ? <p className="muted">No suggestions.</p> : null}
          <ol className="suggestions">
            {draft.suggestions.map((suggestion, index) => (
              <li key={index} className="row">
                <label className="visually-hidden" htmlFor={fid(`suggestion-${index}`)}>
                  Suggestion {index + 1}
                </label>
                <input
                  id={fid(`suggestion-${index}`)}
                  className="grow"
                  value={suggestion.content}
                  onChange={(event) => update({ suggestions: draft.suggestions.map((s, i) => (i === index ? { ...s, content: event.target.value } : s)) })}
                />
                <button
                  type="button"
                  className="button button-small"
                  aria-label={`Remove suggestion ${index + 1}`}
                  onClick={() => update({ suggestions: draft.suggestions.filter((_s, i) => i !== index) })}
                >
                  Remove
                </button>
              </li>
            ))}
          </ol>
          <button type="button" className="button button-small" onClick={() => update({ suggestions: [...draft.suggestions, { content: '', extra: {} }] })}>
            Add suggestion
          </button>
          {errorOf('suggestions')}
        </fieldset>

        <label className="checkbox">
          <input type="checkbox" checked={draft.isActive} onChange={(event) => update({ isActive: event.target.checked })} />
          Active (offered to chat clients)
        </label>

        <details className="json-preview">
          <summary>JSON preview of the request</summary>
          <pre tabIndex={0} aria-label="Request body">
            {previewOf(body)}
          </pre>
        </details>

        <div className="form-actions">
          <Link to="/workspace/models" className="button">
            Cancel
          </Link>
          <button type="submit" className="button button-primary" disabled={saving}>
            {saving ? 'Saving…' : isCreate ? 'Create model' : 'Save changes'}
          </button>
        </div>
      </form>

      {accessOpen ? (
        <AccessDialog
          user={user}
          grants={grants}
          modelId={isCreate ? undefined : model?.id}
          modelName={draft.name}
          onApply={setGrants}
          onClose={() => setAccessOpen(false)}
        />
      ) : null}
    </section>
  )
}

const OTHER = '\u0000other'

/**
 * The base model: a list of what the providers serve (GET /api/models, presets left out) when the
 * server has it, with "Other…" for an id that is not listed; a plain text box when it does not.
 */
function BaseModelField({
  id,
  value,
  selfId,
  onChange,
  error,
}: {
  id: string
  value: string
  selfId: string
  onChange: (value: string) => void
  error?: string
}) {
  const runtime = useResource(() => listRuntimeModels(), [])
  const [other, setOther] = useState(false)
  const options = (runtime.data?.data ?? []).filter((entry) => !entry.preset && entry.id !== selfId)
  const listed = options.some((entry) => entry.id === value)
  const showSelect = options.length > 0
  const showText = !showSelect || other || (value !== '' && !listed)
  const errorId = `${id}-error`
  const hintId = `${id}-hint`
  let hint: ReactNode
  if (runtime.loading && !runtime.data) hint = 'Loading the models the providers serve…'
  else if (runtime.error) hint = `The list of served models is not available (${describeError(runtime.error).detail}). Type the id of the base model.`
  else if (!showSelect) hint = 'No provider serves a model yet. Type the id of the base model (for example llama3.1:8b).'
  else hint = 'The model this preset runs on, as a provider serves it.'

  return (
    <div className="field">
      {showSelect ? (
        <>
          <label htmlFor={id}>Base model</label>
          <select
            id={id}
            value={showText ? OTHER : value}
            aria-invalid={error ? true : undefined}
            aria-describedby={`${hintId}${error ? ` ${errorId}` : ''}`}
            onChange={(event) => {
              if (event.target.value === OTHER) {
                setOther(true)
              } else {
                setOther(false)
                onChange(event.target.value)
              }
            }}
          >
            <option value="">Choose a base model…</option>
            {options.map((entry) => (
              <option key={entry.id} value={entry.id}>
                {entry.name && entry.name !== entry.id ? `${entry.name} (${entry.id})` : entry.id}
              </option>
            ))}
            <option value={OTHER}>Other (type an id)…</option>
          </select>
        </>
      ) : null}
      {showText ? (
        <>
          <label htmlFor={showSelect ? `${id}-text` : id} className={showSelect ? 'sub-label' : undefined}>
            {showSelect ? 'Base model id' : 'Base model'}
          </label>
          <input
            id={showSelect ? `${id}-text` : id}
            className="mono"
            value={value}
            spellCheck={false}
            placeholder="llama3.1:8b"
            aria-invalid={error ? true : undefined}
            aria-describedby={`${hintId}${error ? ` ${errorId}` : ''}`}
            onChange={(event) => onChange(event.target.value)}
          />
        </>
      ) : null}
      <p className="hint" id={hintId}>
        {hint}
      </p>
      <InlineError id={errorId}>{error}</InlineError>
    </div>
  )
}
