/**
 * Create and edit a configuration template (`/workspace/templates/create`, `/workspace/templates/edit?id=`):
 * name, description, base model (the model editor's picker), parameters with a "locked" toggle per key,
 * meta (description, tags, capabilities), the access it applies to models and its own sharing (both with
 * the model editor's access dialog). The form validates with the server's own schema and shows the
 * server's refusals at the fields they name (template-form.ts). A reader sees the template read-only
 * (the server's `write_access`) and may still apply it. Tabs: Edit | Models (the linked models, drift).
 */
import { useContext, useId, useRef, useState, type KeyboardEvent } from 'react'
import { createPortal } from 'react-dom'
import { FormProvider, useController, useForm, useFormContext, useFormState, useWatch, type FieldErrors } from 'react-hook-form'
import { describeError, type GrantInput, type Template } from '../../api/client'
import { ChipsInput } from '../../components/ChipsInput'
import { ConfirmDialog } from '../../components/Dialog'
import { ErrorState, Loading } from '../../components/States'
import { describeAccess } from '../../lib/access'
import { slugify } from '../../lib/format'
import { notify } from '../../lib/notify'
import { useDeleteTemplate, useSaveTemplate, useTemplate } from '../../lib/queries'
import { Link, navigate, useLocation } from '../../lib/router'
import { useUser } from '../../lib/session'
import { AccessDialog } from '../AccessDialog'
import { BaseModelSection } from '../model-editor/BaseModelSection'
import { FieldMessage, IdPrefix } from '../model-editor/fields'
import { CAPABILITIES, PARAMS } from '../model-editor/form'
import { ApplyTemplateDialog } from './ApplyTemplateDialog'
import {
  TEMPLATE_UNPLACED,
  emptyTemplate,
  initialFromTemplate,
  ownerLabel,
  placeTemplateError,
  templateResolver,
  toTemplateBody,
  type TemplateField,
  type TemplateGrants,
  type TemplateInitial,
  type TemplateValues,
} from './template-form'
import { TemplateModelsPanel } from './TemplateModelsPanel'

export function TemplateEditorPage({ mode }: { mode: 'create' | 'edit' }) {
  const { search } = useLocation()
  const id = search.get('id') ?? ''
  if (mode === 'create') return <TemplateEditor mode="create" initial={emptyTemplate()} />
  return <EditTemplate key={id} id={id} initialTab={search.get('tab') === 'models' ? 'models' : 'edit'} />
}

type Tab = 'edit' | 'models'

function EditTemplate({ id, initialTab }: { id: string; initialTab: Tab }) {
  const template = useTemplate(id)
  const [tab, setTab] = useState<Tab>(initialTab)
  // A new generation rebuilds the form from the template as stored now (after a save).
  const [generation, setGeneration] = useState(0)
  if (template.error) {
    return (
      <section className="page">
        <h1 tabIndex={-1}>Edit template</h1>
        <ErrorState error={template.error} title="This template could not be loaded" onRetry={() => void template.refetch()} />
        <Link to="/workspace/templates">Back to the templates</Link>
      </section>
    )
  }
  if (!template.data) {
    return (
      <section className="page">
        <h1 tabIndex={-1}>Edit template</h1>
        <Loading label="Loading the template…" />
      </section>
    )
  }
  return (
    <TemplateEditor
      key={generation}
      mode="edit"
      initial={initialFromTemplate(template.data)}
      template={template.data}
      tab={tab}
      onTab={setTab}
      onSaved={async () => {
        await template.refetch()
        setGeneration((next) => next + 1)
      }}
    />
  )
}

interface Banner {
  fields: boolean
  lines: string[]
}

interface EditorProps {
  mode: 'create' | 'edit'
  initial: TemplateInitial
  template?: Template
  tab?: Tab
  onTab?: (tab: Tab) => void
  onSaved?: () => Promise<void>
}

function TemplateEditor({ mode, initial: given, template, tab = 'edit', onTab, onSaved }: EditorProps) {
  const isCreate = mode === 'create'
  const [initial] = useState(given)
  const readOnly = template !== undefined && !template.write_access
  const user = useUser()
  const [access, setAccess] = useState<GrantInput[] | null>(initial.access)
  const [sharing, setSharing] = useState<GrantInput[]>(initial.sharing)
  const [resolver] = useState(() => templateResolver(mode, initial.loaded))
  // The grants of the two access dialogs reach the resolver as the form's context.
  const form = useForm<TemplateValues, TemplateGrants>({ defaultValues: initial.values, resolver, context: { access, sharing }, shouldFocusError: false })
  const { errors } = form.formState
  const [banner, setBanner] = useState<Banner>({ fields: false, lines: [] })
  const [applying, setApplying] = useState(false)
  const formRef = useRef<HTMLFormElement>(null)
  const prefix = useId()
  const save = useSaveTemplate()

  const focusFirstError = () => window.requestAnimationFrame(() => formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus())

  const onValid = async (values: TemplateValues) => {
    setBanner({ fields: false, lines: [] })
    const body = toTemplateBody(values, initial.loaded, access, sharing)
    try {
      if (isCreate) {
        const created = await save.mutateAsync({ create: body })
        notify(`Created ${created.name}.`, 'success')
        navigate(`/workspace/templates/edit?id=${encodeURIComponent(created.id)}`)
      } else {
        const saved = await save.mutateAsync({ update: body })
        notify(`Saved ${saved.name}.`, 'success')
        await onSaved?.()
      }
    } catch (error) {
      const { fields, rest } = placeTemplateError(error, isCreate)
      const messages = new Map<TemplateField, string>()
      for (const [field, message] of fields) messages.set(field, messages.has(field) ? `${messages.get(field)}; ${message}` : message)
      for (const [field, message] of messages) form.setError(field, { type: 'server', message })
      const { code, detail } = describeError(error)
      setBanner(
        messages.size > 0
          ? { fields: rest.length === 0, lines: [`The server refused the template (${code}): see the highlighted fields.`, ...rest] }
          : { fields: false, lines: [`The server refused the template (${code}): ${rest.join('; ') || detail}`] },
      )
      focusFirstError()
    }
  }

  const onInvalid = (invalid: FieldErrors<TemplateValues>) => {
    const unplaced = invalid.root?.[TEMPLATE_UNPLACED]?.message
    const placed = Object.keys(invalid).some((key) => key !== 'root')
    setBanner({ fields: placed && !unplaced, lines: ['Some fields need your attention.', ...(unplaced ? [unplaced] : [])] })
    focusFirstError()
  }

  const hasFieldErrors = Object.keys(errors).some((key) => key !== 'root')
  const saving = save.isPending || form.formState.isSubmitting
  return (
    <IdPrefix.Provider value={prefix}>
      {/* The model editor's base-model picker reads the same field names (id, base_model_id) from this form. */}
      <FormProvider {...form}>
        <section className="page page-narrow">
          <p className="breadcrumb">
            <Link to="/workspace/templates">‹ Templates</Link>
          </p>
          <div className="page-header">
            <h1 tabIndex={-1}>{isCreate ? 'New template' : `${readOnly ? '' : 'Edit '}${initial.values.name}`}</h1>
            {template ? (
              <div className="page-actions">
                <button type="button" className="button button-primary" onClick={() => setApplying(true)}>
                  Apply to models…
                </button>
              </div>
            ) : null}
          </div>
          {template ? (
            <p className="hint editor-version">
              <code>{template.id}</code> · <span data-testid="template-owner">Owner: {ownerLabel(template, user.id)}</span>
              {readOnly ? (
                <>
                  {' '}
                  · <span className="badge badge-readonly">Read only</span> You may use and apply this template, not change it.
                </>
              ) : null}
            </p>
          ) : null}
          {template && onTab ? <Tabs tab={tab} onTab={onTab} prefix={prefix} /> : null}

          <div
            role={onTab ? 'tabpanel' : undefined}
            id={`${prefix}-panel-edit`}
            aria-labelledby={onTab ? `${prefix}-tab-edit` : undefined}
            hidden={tab !== 'edit'}
          >
            <form ref={formRef} className="form editor" noValidate onSubmit={(event) => void form.handleSubmit(onValid, onInvalid)(event)}>
              {banner.lines.length > 0 && (!banner.fields || hasFieldErrors) ? (
                <div className="form-errors" role="alert">
                  {banner.lines.map((line) => (
                    <p key={line}>{line}</p>
                  ))}
                </div>
              ) : null}
              <fieldset className="plain-fieldset" disabled={readOnly}>
                <IdentityFields isCreate={isCreate} />
                <BaseModelSection />
                <ParamsFields />
                <MetaFields />
                <AccessFields access={access} onAccess={setAccess} sharing={sharing} onSharing={setSharing} readOnly={readOnly} />
              </fieldset>
              {readOnly ? (
                <div className="form-actions">
                  <Link to="/workspace/templates" className="button">
                    Back
                  </Link>
                </div>
              ) : (
                <div className="form-actions">
                  <Link to="/workspace/templates" className="button">
                    Cancel
                  </Link>
                  <button type="submit" className="button button-primary" disabled={saving}>
                    {saving ? 'Saving…' : isCreate ? 'Create template' : 'Save changes'}
                  </button>
                </div>
              )}
            </form>
            {template && !readOnly ? <DeleteTemplate template={template} /> : null}
          </div>

          {template && onTab ? (
            <div role="tabpanel" id={`${prefix}-panel-models`} aria-labelledby={`${prefix}-tab-models`} hidden={tab !== 'models'}>
              {tab === 'models' ? <TemplateModelsPanel template={template} /> : null}
            </div>
          ) : null}
          {applying && template ? <ApplyTemplateDialog template={template} onClose={() => setApplying(false)} /> : null}
        </section>
      </FormProvider>
    </IdPrefix.Provider>
  )
}

const TABS: { key: Tab; label: string }[] = [
  { key: 'edit', label: 'Template' },
  { key: 'models', label: 'Models' },
]

function Tabs({ tab, onTab, prefix }: { tab: Tab; onTab: (tab: Tab) => void; prefix: string }) {
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft' && event.key !== 'Home' && event.key !== 'End') return
    event.preventDefault()
    const index = TABS.findIndex((item) => item.key === tab)
    const next = event.key === 'Home' ? 0 : event.key === 'End' ? TABS.length - 1 : (index + (event.key === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length
    const target = TABS[next]
    if (!target) return
    onTab(target.key)
    document.getElementById(`${prefix}-tab-${target.key}`)?.focus()
  }
  return (
    <div className="tabs" role="tablist" aria-label="Template" onKeyDown={onKeyDown}>
      {TABS.map((item) => (
        <button
          key={item.key}
          type="button"
          role="tab"
          id={`${prefix}-tab-${item.key}`}
          aria-selected={tab === item.key}
          aria-controls={`${prefix}-panel-${item.key}`}
          tabIndex={tab === item.key ? 0 : -1}
          className="tab"
          onClick={() => onTab(item.key)}
        >
          {item.label}
        </button>
      ))}
    </div>
  )
}

// ─── Fields ────────────────────────────────────────────────────────────────────────────────────────

function useTemplateForm() {
  return useFormContext<TemplateValues>()
}

/** Ids, error and aria attributes of one field (as the model editor's `useField`). */
function useTField(name: TemplateField) {
  const prefix = useContext(IdPrefix)
  const { getFieldState } = useTemplateForm()
  const { error } = getFieldState(name, useFormState<TemplateValues>({ name }))
  const message = typeof error?.message === 'string' && error.message !== '' ? error.message : undefined
  const id = `${prefix}-${name.replace(/\W/g, '-')}`
  return {
    id,
    hintId: `${id}-hint`,
    errorId: `${id}-error`,
    message,
    aria: {
      'aria-invalid': message ? (true as const) : undefined,
      'aria-describedby': [message ? `${id}-error` : '', `${id}-hint`].filter(Boolean).join(' '),
    },
  }
}

function IdentityFields({ isCreate }: { isCreate: boolean }) {
  const { register, setValue } = useTemplateForm()
  const [idTouched, setIdTouched] = useState(!isCreate)
  const name = useTField('name')
  const id = useTField('id')
  const description = useTField('description')
  return (
    <>
      <div className="field">
        <label htmlFor={name.id}>Name</label>
        <input
          id={name.id}
          maxLength={512}
          required
          {...name.aria}
          {...register('name', {
            onChange: (event: { target: { value: string } }) => {
              if (isCreate && !idTouched) setValue('id', slugify(event.target.value))
            },
          })}
        />
        <FieldMessage field={name} />
      </div>
      <div className="field">
        <label htmlFor={id.id}>Template id</label>
        <input
          id={id.id}
          readOnly={!isCreate}
          maxLength={256}
          spellCheck={false}
          className="mono"
          {...id.aria}
          {...register('id', { onChange: () => setIdTouched(true) })}
        />
        <p className="hint" id={id.hintId}>
          {isCreate ? 'Made from the name; you may change it until the template is created.' : 'The id cannot change after creation.'}
        </p>
        <FieldMessage field={id} />
      </div>
      <div className="field">
        <label htmlFor={description.id}>About this template</label>
        <textarea id={description.id} rows={2} {...description.aria} {...register('description')} />
        <p className="hint" id={description.hintId}>
          What the template is for (not applied to models).
        </p>
        <FieldMessage field={description} />
      </div>
    </>
  )
}

function LockToggle({ name, label }: { name: string; label: string }) {
  const { register } = useTemplateForm()
  return (
    <label className="checkbox lock-toggle">
      <input type="checkbox" {...register(`locked.${name}`)} aria-label={`Lock ${label}`} />
      Locked
    </label>
  )
}

function ParamsFields() {
  const { register, control } = useTemplateForm()
  const system = useTField('params.system')
  const locked = useTField('locked_params')
  const stop = useTField('params.stop')
  const { field: stopInput } = useController({ control, name: 'params.stop' })
  return (
    <fieldset className="fieldset">
      <legend>Parameters</legend>
      <p className="hint" id={locked.hintId}>
        Empty fields are not part of the template. A locked key is always set to the template&apos;s value when it is applied, and only administrators may
        change it on the template&apos;s models.
      </p>
      <div className="field">
        <div className="row row-between">
          <label htmlFor={system.id}>System prompt</label>
          <LockToggle name="system" label="System prompt" />
        </div>
        <textarea id={system.id} rows={5} {...system.aria} {...register('params.system')} placeholder="You are the support bot…" />
        <FieldMessage field={system} />
      </div>
      <div className="param-grid">
        {PARAMS.map((spec) => (
          <ParamField key={spec.key} name={spec.key} label={spec.label} hint={spec.hint} inputMode={spec.inputMode} placeholder={spec.placeholder} />
        ))}
        <div className="field param-wide">
          <div className="row row-between">
            <label htmlFor={stop.id}>Stop sequences</label>
            <LockToggle name="stop" label="Stop sequences" />
          </div>
          <ChipsInput
            id={stop.id}
            noun="stop sequence"
            splitOnComma={false}
            values={stopInput.value}
            onChange={stopInput.onChange}
            placeholder="Type a sequence, then Enter"
            describedBy={stop.aria['aria-describedby']}
            invalid={Boolean(stop.message)}
          />
          <FieldMessage field={stop} />
        </div>
      </div>
      <FieldMessage field={locked} />
    </fieldset>
  )
}

function ParamField({
  name,
  label,
  hint,
  inputMode,
  placeholder,
}: {
  name: (typeof PARAMS)[number]['key']
  label: string
  hint: string
  inputMode: 'decimal' | 'numeric' | 'text'
  placeholder?: string | undefined
}) {
  const { register } = useTemplateForm()
  const field = useTField(`params.${name}`)
  return (
    <div className="field">
      <label htmlFor={field.id}>{label}</label>
      <input id={field.id} inputMode={inputMode} autoComplete="off" placeholder={placeholder} {...field.aria} {...register(`params.${name}`)} />
      <p className="hint" id={field.hintId}>
        {hint}
      </p>
      <LockToggle name={name} label={label} />
      <FieldMessage field={field} />
    </div>
  )
}

function MetaFields() {
  const { register, control } = useTemplateForm()
  const description = useTField('meta.description')
  const tags = useTField('meta.tags')
  const capabilities = useTField('meta.capabilities')
  const { field: tagsInput } = useController({ control, name: 'meta.tags' })
  const setCapabilities = useWatch({ control, name: 'meta.set_capabilities' })
  return (
    <fieldset className="fieldset">
      <legend>Meta</legend>
      <div className="field">
        <label htmlFor={description.id}>Model description</label>
        <textarea id={description.id} rows={2} {...description.aria} {...register('meta.description')} />
        <p className="hint" id={description.hintId}>
          Given to the models (shown on their cards). Empty: models keep theirs.
        </p>
        <FieldMessage field={description} />
      </div>
      <div className="field">
        <label htmlFor={tags.id}>Tags</label>
        <ChipsInput
          id={tags.id}
          noun="tag"
          values={tagsInput.value}
          onChange={tagsInput.onChange}
          placeholder="Type a tag, then Enter"
          describedBy={tags.hintId}
          invalid={Boolean(tags.message)}
        />
        <p className="hint" id={tags.hintId}>
          Merged into the models&apos; tags (replace mode: replaces their meta).
        </p>
        <FieldMessage field={tags} />
      </div>
      <label className="checkbox">
        <input type="checkbox" {...register('meta.set_capabilities')} />
        Set capabilities
      </label>
      {setCapabilities ? (
        <div className="checkbox-grid">
          {CAPABILITIES.map((cap) => (
            <label key={cap.key} className="checkbox">
              <input type="checkbox" {...register(`meta.capabilities.${cap.key}`)} />
              {cap.label}
            </label>
          ))}
        </div>
      ) : null}
      <FieldMessage field={capabilities} />
    </fieldset>
  )
}

function AccessFields({
  access,
  onAccess,
  sharing,
  onSharing,
  readOnly,
}: {
  access: GrantInput[] | null
  onAccess: (grants: GrantInput[] | null) => void
  sharing: GrantInput[]
  onSharing: (grants: GrantInput[]) => void
  readOnly: boolean
}) {
  const { control } = useTemplateForm()
  const name = useWatch({ control, name: 'name' })
  const accessField = useTField('access_grants')
  const sharingField = useTField('template_access_grants')
  const [open, setOpen] = useState<'access' | 'sharing' | null>(null)
  const radio = useId()
  return (
    <>
      <fieldset className="fieldset" aria-describedby={accessField.aria['aria-describedby']}>
        <legend>Access it applies to models</legend>
        <label className="radio">
          <input type="radio" name={radio} checked={access === null} onChange={() => onAccess(null)} />
          <span>Leave the models&apos; access as it is</span>
        </label>
        <label className="radio">
          <input type="radio" name={radio} checked={access !== null} onChange={() => onAccess(access ?? [])} />
          <span>Apply this access</span>
        </label>
        {access !== null ? (
          <div className="row row-between">
            <p className="access-summary" data-testid="template-access-summary" id={accessField.hintId}>
              {describeAccess(access)}
            </p>
            {!readOnly ? (
              <button type="button" className="button" onClick={() => setOpen('access')}>
                Access…
              </button>
            ) : null}
          </div>
        ) : (
          <p className="hint" id={accessField.hintId}>
            Applying the template does not change who may use the models.
          </p>
        )}
        <FieldMessage field={accessField} />
      </fieldset>
      <fieldset className="fieldset">
        <legend>Who may use this template</legend>
        <div className="row row-between">
          <p className="access-summary" data-testid="template-sharing-summary" id={sharingField.hintId}>
            {describeAccess(sharing)}
            <span className="hint"> · read: see and apply it; write: change it</span>
          </p>
          {!readOnly ? (
            <button type="button" className="button" onClick={() => setOpen('sharing')}>
              Share…
            </button>
          ) : null}
        </div>
        <FieldMessage field={sharingField} />
      </fieldset>
      {/* Outside the <form> in the DOM: Enter in the dialog's inputs must not submit the template. */}
      {open
        ? createPortal(
            <AccessDialog
              grants={open === 'access' ? (access ?? []) : sharing}
              modelName={name}
              title={open === 'access' ? `Access ${name || 'the template'} applies` : `Who may use ${name || 'this template'}`}
              description={
                open === 'access'
                  ? 'Given to the models the template is applied to (merge adds these grants, replace sets them). Saved with the template.'
                  : 'Readers may see and apply the template; writers may also change it. Saved with the template.'
              }
              onApply={(grants) => (open === 'access' ? onAccess(grants) : onSharing(grants))}
              onClose={() => setOpen(null)}
            />,
            document.body,
          )
        : null}
    </>
  )
}

function DeleteTemplate({ template }: { template: Template }) {
  const remove = useDeleteTemplate()
  const [confirm, setConfirm] = useState(false)
  const onDelete = async () => {
    try {
      await remove.mutateAsync(template.id)
      notify(`Deleted ${template.name}.`, 'success')
      navigate('/workspace/templates')
    } catch (error) {
      setConfirm(false)
      notify(`Could not delete ${template.name}: ${describeError(error).detail}`, 'error')
    }
  }
  return (
    <section className="fieldset danger-zone" aria-labelledby="template-danger-title">
      <h2 id="template-danger-title" className="label-like">
        Danger zone
      </h2>
      <div className="row row-between">
        <p className="hint">Deleting the template keeps its models as they are; they are no longer linked to it.</p>
        <button type="button" className="button button-small button-danger-outline" onClick={() => setConfirm(true)}>
          Delete template…
        </button>
      </div>
      {confirm ? (
        <ConfirmDialog title="Delete this template?" confirmLabel="Delete" busy={remove.isPending} onConfirm={onDelete} onCancel={() => setConfirm(false)}>
          <p>
            <strong>{template.name}</strong> (<code>{template.id}</code>) will be deleted. Its models keep their settings. This cannot be undone.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  )
}
