/**
 * Create and edit a model preset (`/workspace/models/create`, `/workspace/models/edit?id=`). The page
 * loads what it edits and composes one section per job; the form validates with the server's own schema
 * (form.ts) and shows the server's refusals at the fields they name. Keys the form does not show (other
 * meta and params keys) are kept as they were.
 */
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react'
import { FormProvider, useForm, useFormContext, type FieldErrors } from 'react-hook-form'
import { useQuery } from '@tanstack/react-query'
import { currentVersionOf, describeError, getModelDefaults, type GrantInput, type ModelAbilities, type ModelWithAccess, type Template } from '../../api/client'
import { ErrorState, Loading } from '../../components/States'
import { abilitiesOf } from '../../lib/abilities'
import { notify } from '../../lib/notify'
import { useCreateModel, useModel, useUpdateModel } from '../../lib/queries'
import { Link, navigate, useLocation } from '../../lib/router'
import { can as hasFeature, useUser } from '../../lib/session'
import { CLONE_KEY } from '../ModelsPage'
import { AccessSection } from './AccessSection'
import { ActionsSection, DangerZone, RequestPreview } from './ActionsSection'
import { BaseModelSection } from './BaseModelSection'
import { IdPrefix } from './fields'
import { editorResolver, emptyInitial, initialFrom, placeServerError, toBody, UNPLACED, type EditorValues, type Initial } from './form'
import { IdentitySection, PictureField } from './IdentitySection'
import { CapabilitiesSection, DescriptionSection } from './MetaSection'
import { PromptSection } from './PromptSection'
import { ConflictDialog } from '../history/ConflictDialog'
import { HistoryPanel } from '../history/HistoryPanel'
import { WhoCanSeePanel } from '../governance/WhoCanSeePanel'
import { TemplatePicker } from '../templates/TemplatePicker'
import { TryItPanel } from '../try-it/TryItPanel'
import { dirtyNames, fillFromTemplate } from '../templates/template-form'

export function ModelEditorPage({ mode }: { mode: 'create' | 'edit' }) {
  const { search } = useLocation()
  const id = search.get('id') ?? ''
  const user = useUser()

  if (mode === 'create') {
    // Creating has no model to ask `can` about: the feature permission is the server's rule for it.
    if (!hasFeature(user, 'workspace.models')) {
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
  const tab = search.get('tab')
  return <EditModel key={id} id={id} initialTab={tab === 'history' || tab === 'access' ? tab : 'edit'} />
}

function CreateModel({ fromClone }: { fromClone: boolean }) {
  // A new model starts from the admin's defaults of new presets (capabilities); a clone from its model.
  const defaults = useQuery({ queryKey: ['models', 'defaults'], queryFn: getModelDefaults, enabled: !fromClone, staleTime: 60_000 })
  if (!fromClone && defaults.isPending) {
    return (
      <section className="page">
        <h1 tabIndex={-1}>New model</h1>
        <Loading label="Loading the defaults…" />
      </section>
    )
  }
  return <CreateForm fromClone={fromClone} defaultMeta={defaults.data?.DEFAULT_MODEL_METADATA ?? {}} />
}

function CreateForm({ fromClone, defaultMeta }: { fromClone: boolean; defaultMeta: Record<string, unknown> }) {
  const [initial] = useState<Initial>(() => {
    if (!fromClone) return emptyInitial(defaultMeta)
    try {
      const stored = sessionStorage.getItem(CLONE_KEY)
      const parsed: unknown = stored ? JSON.parse(stored) : null
      if (
        typeof parsed === 'object' &&
        parsed !== null &&
        typeof (parsed as { id?: unknown }).id === 'string' &&
        typeof (parsed as { name?: unknown }).name === 'string'
      ) {
        return initialFrom(parsed as { id: string; name: string })
      }
    } catch {
      // A broken clone falls back to an empty form.
    }
    return emptyInitial(defaultMeta)
  })
  useEffect(() => sessionStorage.removeItem(CLONE_KEY), [])
  return <Editor mode="create" initial={initial} />
}

type EditorTab = 'edit' | 'history' | 'access'

function EditModel({ id, initialTab }: { id: string; initialTab: EditorTab }) {
  const model = useModel(id)
  const [tab, setTab] = useState<EditorTab>(initialTab)
  // A new generation re-creates the editor from the model as stored now (after Reload or a restore).
  const [generation, setGeneration] = useState(0)
  const reload = async () => {
    await model.refetch()
    setGeneration((next) => next + 1)
  }
  // The server says whether the caller may write this model (`can.write`); the page does not decide.
  const denied = model.data !== undefined && !abilitiesOf(model.data).write

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
        <ErrorState error={model.error} title="This model could not be loaded" onRetry={() => void model.refetch()} />
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
  return (
    <Editor
      key={generation}
      mode="edit"
      initial={initialFrom(model.data)}
      model={model.data}
      tab={tab}
      onTab={setTab}
      onReload={async () => {
        await reload()
        setTab('edit')
      }}
    />
  )
}

/** A write refused with 412: the version it met, and how to send it again over that version. */
interface Conflict {
  current: number
  action: string
  overwrite: (version: number) => Promise<void>
}

/** Lines for the banner above the form; `fields` lines go away once every highlighted field is fixed. */
interface Banner {
  fields: boolean
  lines: string[]
}

interface EditorProps {
  mode: 'create' | 'edit'
  initial: Initial
  model?: ModelWithAccess
  tab?: EditorTab
  onTab?: (tab: EditorTab) => void
  /** Drops the edits and shows the model as stored now. */
  onReload?: () => Promise<void>
}

function Editor({ mode, initial: given, model: givenModel, tab = 'edit', onTab, onReload }: EditorProps) {
  const isCreate = mode === 'create'
  // What was loaded stays what the form edits (and what If-Match names) until Reload: a background
  // refresh of the model must neither move the baseline nor hide someone else's change.
  const [initial] = useState(given)
  const [model] = useState(givenModel)
  const [version, setVersion] = useState(givenModel?.version)
  const [conflict, setConflict] = useState<Conflict | null>(null)
  const [overwriting, setOverwriting] = useState(false)
  const [grants, setGrants] = useState<GrantInput[]>(model?.access_grants ?? [])
  // Create only: the template the model starts from (sent as template_id) and whether access was set by hand.
  const [template, setTemplate] = useState<Template | null>(null)
  const [grantsEdited, setGrantsEdited] = useState(false)
  const [resolver] = useState(() => editorResolver(mode, initial.loaded))
  const form = useForm<EditorValues>({ defaultValues: initial.values, resolver, shouldFocusError: false })
  // dirtyFields read here so react-hook-form tracks them (a template fills only fields not edited).
  const { errors, dirtyFields } = form.formState
  const [banner, setBanner] = useState<Banner>({ fields: false, lines: [] })
  const formRef = useRef<HTMLFormElement>(null)
  const prefix = useId()
  const create = useCreateModel()
  const update = useUpdateModel()
  const can: ModelAbilities | undefined = model ? abilitiesOf(model) : undefined

  // After a refused save, put the keyboard on the first field that was named.
  const focusFirstError = () => window.requestAnimationFrame(() => formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus())

  const onValid = async (values: EditorValues) => {
    setBanner({ fields: false, lines: [] })
    const body = toBody(values, initial.loaded)
    const save = async (ifMatch: number | undefined) => {
      if (isCreate) {
        await create.mutateAsync({ ...body, access_grants: grants, ...(template && { template_id: template.id }) })
        notify(`Created ${body.name}.`, 'success')
      } else {
        await update.mutateAsync({ ...body, ifMatch })
        notify(`Saved ${body.name}.`, 'success')
      }
      navigate('/workspace/models')
    }
    try {
      await save(version)
    } catch (error) {
      const current = currentVersionOf(error)
      if (current !== undefined) setConflict({ current, action: 'save', overwrite: save })
      else showSaveError(error)
    }
  }

  /** Runs the refused write again over the version the 412 named; a new 412 updates the dialog. */
  const overwrite = async () => {
    if (!conflict) return
    setOverwriting(true)
    try {
      await conflict.overwrite(conflict.current)
      setVersion(conflict.current)
      setConflict(null)
    } catch (error) {
      const current = currentVersionOf(error)
      if (current !== undefined) {
        setConflict({ ...conflict, current })
      } else {
        setConflict(null)
        if (conflict.action === 'save') showSaveError(error)
        else notify(`Could not ${conflict.action}: ${describeError(error).detail}`, 'error')
      }
    } finally {
      setOverwriting(false)
    }
  }

  /** A write met a newer version: offer Reload or Overwrite (the dialog shows what changed). */
  const onConflict = (current: number, action: string, again: (ifMatch: number) => Promise<void>) => setConflict({ current, action, overwrite: again })

  const showSaveError = (error: unknown) => {
    const { fields, rest } = placeServerError(error)
    const messages = new Map<(typeof fields)[number][0], string>()
    for (const [field, message] of fields) messages.set(field, messages.has(field) ? `${messages.get(field)}; ${message}` : message)
    for (const [field, message] of messages) form.setError(field, { type: 'server', message })
    const { code, detail } = describeError(error)
    setBanner(
      messages.size > 0
        ? { fields: rest.length === 0, lines: [`The server refused the model (${code}): see the highlighted fields.`, ...rest] }
        : { fields: false, lines: [`The server refused the model (${code}): ${rest.join('; ') || detail}`] },
    )
    focusFirstError()
  }

  const onInvalid = (invalid: FieldErrors<EditorValues>) => {
    const unplaced = invalid.root?.[UNPLACED]?.message
    const placed = Object.keys(invalid).some((key) => key !== 'root')
    setBanner({ fields: placed && !unplaced, lines: ['Some fields need your attention.', ...(unplaced ? [unplaced] : [])] })
    focusFirstError()
  }

  /** A template's sections fill the fields not edited yet (explicit edits win), and its access unless set by hand. */
  const pickTemplate = (picked: Template | null) => {
    setTemplate(picked)
    if (!picked) return
    const next = fillFromTemplate(form.getValues(), dirtyNames(dirtyFields), picked)
    form.setValue('base_model_id', next.base_model_id)
    form.setValue('params', next.params)
    form.setValue('meta', next.meta)
    if (picked.access_grants && !grantsEdited) {
      setGrants(picked.access_grants.map(({ principal_type, principal_id, permission }) => ({ principal_type, principal_id, permission })))
    }
  }

  const hasFieldErrors = Object.keys(errors).some((key) => key !== 'root')
  const saving = create.isPending || update.isPending || form.formState.isSubmitting
  return (
    <IdPrefix.Provider value={prefix}>
      <FormProvider {...form}>
        <section className="page page-narrow">
          <p className="breadcrumb">
            <Link to="/workspace/models">‹ Models</Link>
          </p>
          <h1 tabIndex={-1}>{isCreate ? 'New model' : `Edit ${initial.values.name}`}</h1>
          {model && onTab ? (
            <>
              <p className="hint editor-version">
                Editing version {version} · <code>{model.id}</code>
              </p>
              <EditorTabs tab={tab} onTab={onTab} prefix={prefix} />
            </>
          ) : null}
          {model?.status && !model.status.ok ? (
            <p className="status-warning status-warning-block" role="note" data-testid="status-warning">
              ⚠ This model cannot be used now: {model.status.reason ?? 'its base model is not available.'}
              {model.base_model_id ? ' Choose another base model below.' : ''}
            </p>
          ) : null}

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

              {isCreate ? <TemplatePicker selected={template} onPick={pickTemplate} /> : null}
              <div className="editor-identity">
                <PictureField model={model} />
                <div className="editor-names">
                  <IdentitySection isCreate={isCreate} idTouched={initial.idTouched} />
                  <BaseModelSection />
                  <AccessSection
                    grants={grants}
                    onGrants={(next) => {
                      setGrants(next)
                      setGrantsEdited(true)
                    }}
                    modelId={model?.id}
                    can={can}
                    version={version}
                    onVersion={setVersion}
                    onConflict={(current, again) => onConflict(current, 'access change', again)}
                  />
                </div>
              </div>

              <DescriptionSection />
              <PromptSection />
              <CapabilitiesSection />
              <RequestPreview loaded={initial.loaded} grants={isCreate ? grants : undefined} />
              <ActionsSection isCreate={isCreate} saving={saving} />
            </form>

            <EditorTryIt modelId={model?.id} loaded={initial.loaded} />

            {model && can?.delete ? <DangerZone model={model} version={version} onConflict={(current, again) => onConflict(current, 'delete', again)} /> : null}
          </div>

          {model && onTab ? (
            <div role="tabpanel" id={`${prefix}-panel-history`} aria-labelledby={`${prefix}-tab-history`} hidden={tab !== 'history'}>
              {tab === 'history' ? <HistoryPanel modelId={model.id} modelName={initial.values.name} onRestored={() => void onReload?.()} /> : null}
            </div>
          ) : null}

          {model && onTab ? (
            <div role="tabpanel" id={`${prefix}-panel-access`} aria-labelledby={`${prefix}-tab-access`} hidden={tab !== 'access'}>
              {/* The editor is only shown with `can.write`, which is also what the server asks of these routes. */}
              {tab === 'access' ? <WhoCanSeePanel modelId={model.id} modelName={initial.values.name} /> : null}
            </div>
          ) : null}

          {conflict && model && version !== undefined ? (
            <ConflictDialog
              modelId={model.id}
              loadedVersion={version}
              currentVersion={conflict.current}
              action={conflict.action}
              busy={overwriting}
              onClose={() => setConflict(null)}
              onReload={() => {
                setConflict(null)
                void onReload?.()
              }}
              onOverwrite={() => void overwrite()}
            />
          ) : null}
        </section>
      </FormProvider>
    </IdPrefix.Provider>
  )
}

/**
 * *Try it* in the editor (issue #16 item 2): the saved model, or the form's unsaved edits as a draft (the
 * server lets writers only send one); a model not created yet is always tried as its draft.
 */
function EditorTryIt({ modelId, loaded }: { modelId: string | undefined; loaded: Initial['loaded'] }) {
  const { getValues, formState } = useFormContext<EditorValues>()
  const draft = () => {
    const body = toBody(getValues(), loaded)
    return { base_model_id: body.base_model_id ?? null, params: body.params }
  }
  return <TryItPanel modelId={modelId} draft={draft} dirty={formState.isDirty} />
}

const TABS: { key: EditorTab; label: string }[] = [
  { key: 'edit', label: 'Edit' },
  { key: 'history', label: 'History' },
  { key: 'access', label: 'Who can see this?' },
]

/** Edit and History as tabs (arrow keys move between them, as the ARIA tabs pattern has it). */
function EditorTabs({ tab, onTab, prefix }: { tab: EditorTab; onTab: (tab: EditorTab) => void; prefix: string }) {
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
    <div className="tabs" role="tablist" aria-label="Model editor" onKeyDown={onKeyDown}>
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
