/**
 * Workspace › Models: the presets the account may read, searched, filtered, sorted and paged on the
 * server; per-model actions; import (with the server's per-item report) and complete export.
 */
import { useEffect, useRef, useState, type ChangeEvent, type ReactNode } from 'react'
import { useQueryClient } from '@tanstack/react-query'
import { describeError, exportModels, getModel, type ImportReport, type ModelOrderBy, type ModelWithAccess, type ViewOption } from '../api/client'
import { ConfirmDialog, Dialog } from '../components/Dialog'
import { Empty, ErrorState, Loading } from '../components/States'
import { Pagination } from '../components/Pagination'
import { ModelCard } from './ModelCard'
import { BulkAccessDialog } from './governance/BulkAccessDialog'
import { downloadBlob, downloadJson, fileSafe, timestampForFile } from '../lib/format'
import { useDebounced, useStoredChoice } from '../lib/hooks'
import {
  queryKeys,
  useDeleteModel,
  useImportModels,
  useModelConflicts,
  useModelList,
  useModelTags,
  useTemplateList,
  useTemplateModels,
  useToggleModel,
  useUpdateModel,
} from '../lib/queries'
import { notify } from '../lib/notify'
import { Link, navigate, useLocation } from '../lib/router'
import { can, useSession, useUser } from '../lib/session'
import { abilitiesOf } from '../lib/abilities'

export const PAGE_SIZE = 30
export const CLONE_KEY = 'modelgate.clone'

const VIEW_OPTIONS: readonly ViewOption[] = ['', 'created', 'shared']
const SORTS: { value: ModelOrderBy; label: string }[] = [
  { value: 'updated_at', label: 'Last updated' },
  { value: 'created_at', label: 'Created' },
  { value: 'name', label: 'Name' },
]

/** A model as a file: what the server's export holds (no `user`, no `write_access`, no `can`). */
function exportable(model: ModelWithAccess): Record<string, unknown> {
  const { user: _user, write_access: _write, can: _can, ...rest } = model
  return rest
}

async function copyText(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text)
    return
  }
  // Plain http on another host: the Clipboard API is not available there.
  const area = document.createElement('textarea')
  area.value = text
  area.setAttribute('readonly', '')
  area.style.position = 'fixed'
  area.style.opacity = '0'
  document.body.append(area)
  area.select()
  const ok = document.execCommand('copy')
  area.remove()
  if (!ok) throw new Error('The browser refused to copy.')
}

export function ModelsPage() {
  const user = useUser()
  const { refresh } = useSession()
  // Permissions may have changed since sign-in (an admin edited a group): re-read them on each visit.
  useEffect(() => {
    void refresh()
  }, [refresh])
  const [queryText, setQueryText] = useState('')
  const query = useDebounced(queryText.trim(), 300)
  const [tag, setTag] = useState('')
  // The models of one template (`?template=` when coming from a template's Models tab).
  const { search } = useLocation()
  const [template, setTemplate] = useState(() => search.get('template') ?? '')
  const mayUseTemplates = can(user, 'workspace.templates')
  const [view, setView] = useStoredChoice<ViewOption>('workspaceViewOption', '', VIEW_OPTIONS)
  const [orderBy, setOrderBy] = useState<ModelOrderBy>('updated_at')
  const [direction, setDirection] = useState<'asc' | 'desc'>('desc')
  // The page belongs to one set of filters: changing any filter goes back to page 1.
  const filterKey = JSON.stringify([query, tag, template, view, orderBy, direction])
  const [paging, setPaging] = useState({ key: filterKey, page: 1 })
  const page = paging.key === filterKey ? paging.page : 1
  const setPage = (next: number) => setPaging({ key: filterKey, page: next })

  const list = useModelList({ query, tag, template_id: template || undefined, view_option: view, order_by: orderBy, direction, page, limit: PAGE_SIZE })
  const templates = useTemplateList({ limit: 100 }, mayUseTemplates)
  // Drift is the server's answer for the template's models (its first 100, by name).
  const templateModels = useTemplateModels(template, 1, 100, mayUseTemplates && template !== '')
  const drifted = new Set((templateModels.data?.items ?? []).filter((item) => item.drifted).map((item) => item.id))
  const tags = useModelTags()
  // Admins see which models a provider's id makes ignored (issue #10, hole 1); the route is admin-only.
  const conflicts = useModelConflicts(user.role === 'admin')
  const conflictIds = new Set((conflicts.data?.items ?? []).map((item) => item.id))
  const queryClient = useQueryClient()
  const toggle = useToggleModel()
  const update = useUpdateModel()
  const remove = useDeleteModel()
  const importer = useImportModels()

  const [confirmDelete, setConfirmDelete] = useState<ModelWithAccess | null>(null)
  const [report, setReport] = useState<{ file: string; report: ImportReport } | null>(null)
  const [exporting, setExporting] = useState(false)
  // Multi-select for "Change access…": id → name, kept across pages and filters until cleared or applied.
  const [selected, setSelected] = useState<ReadonlyMap<string, string>>(new Map())
  // The dialog works on the selection as it was when opened (applying clears the page's selection).
  const [bulkModels, setBulkModels] = useState<ReadonlyMap<string, string> | null>(null)
  const fileInput = useRef<HTMLInputElement>(null)

  const canCreate = can(user, 'workspace.models')
  const canImport = can(user, 'workspace.models_import')
  const canExport = can(user, 'workspace.models_export')
  const filtered = query !== '' || tag !== '' || template !== '' || view !== ''

  // The full model (list items leave inline pictures out), fresh from the server, through the cache.
  const fullModel = (id: string) => queryClient.fetchQuery({ queryKey: queryKeys.models.detail(id), queryFn: () => getModel(id), staleTime: 0 })

  const onToggle = async (model: ModelWithAccess) => {
    try {
      const updated = await toggle.mutateAsync({ id: model.id })
      notify(`${model.name} is now ${updated.is_active ? 'active' : 'inactive'}.`, 'success')
    } catch (error) {
      notify(`Could not change ${model.name}: ${describeError(error).detail}`, 'error')
    }
  }

  const onClone = async (model: ModelWithAccess) => {
    try {
      const full = await fullModel(model.id)
      const { user: _user, write_access: _write, can: _can, access_grants: _grants, access_control: _control, ...rest } = full
      sessionStorage.setItem(CLONE_KEY, JSON.stringify({ ...rest, id: `${model.id}-clone`, name: `${model.name} (Clone)` }))
      navigate('/workspace/models/create?clone=1')
    } catch (error) {
      notify(`Could not clone ${model.name}: ${describeError(error).detail}`, 'error')
    }
  }

  const onExportOne = async (model: ModelWithAccess) => {
    try {
      const full = await fullModel(model.id)
      downloadJson([exportable(full)], `model-export-${fileSafe(model.id)}.json`)
    } catch (error) {
      notify(`Could not export ${model.name}: ${describeError(error).detail}`, 'error')
    }
  }

  const onCopyId = async (model: ModelWithAccess) => {
    try {
      await copyText(model.id)
      notify(`Copied “${model.id}”.`, 'success')
    } catch (error) {
      notify(`Could not copy: ${describeError(error).detail}`, 'error')
    }
  }

  const onHide = async (model: ModelWithAccess) => {
    try {
      // The list leaves inline pictures out of meta: start from the full model so nothing is lost.
      const full = await fullModel(model.id)
      const hidden = full.meta['hidden'] !== true
      await update.mutateAsync({ id: model.id, meta: { ...full.meta, hidden } })
      notify(hidden ? `${model.name} is hidden from model pickers.` : `${model.name} is shown in model pickers.`, 'success')
    } catch (error) {
      notify(`Could not change ${model.name}: ${describeError(error).detail}`, 'error')
    }
  }

  const onDelete = async () => {
    if (!confirmDelete) return
    try {
      await remove.mutateAsync({ id: confirmDelete.id })
      notify(`Deleted ${confirmDelete.name}.`, 'success')
      setConfirmDelete(null)
    } catch (error) {
      notify(`Could not delete ${confirmDelete.name}: ${describeError(error).detail}`, 'error')
    }
  }

  const onImportFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0]
    event.target.value = ''
    if (!file) return
    try {
      let content: unknown
      try {
        content = JSON.parse(await file.text())
      } catch (error) {
        throw new Error(`${file.name} is not a JSON file (${error instanceof Error ? error.message : 'parse error'}).`, { cause: error })
      }
      const result = await importer.mutateAsync(content)
      setReport({ file: file.name, report: result })
    } catch (error) {
      notify(`Import failed: ${describeError(error).detail}`, 'error')
    }
  }

  const onExportAll = async () => {
    setExporting(true)
    try {
      downloadBlob(await exportModels(), `models-export-${timestampForFile()}.json`)
    } catch (error) {
      notify(`Export failed: ${describeError(error).detail}`, 'error')
    } finally {
      setExporting(false)
    }
  }

  const select = (models: readonly ModelWithAccess[], on: boolean) =>
    setSelected((current) => {
      const next = new Map(current)
      for (const model of models) {
        if (on) next.set(model.id, model.name)
        else next.delete(model.id)
      }
      return next
    })

  const data = list.data
  // Only models the caller may write are selectable (the server's `can.write`); the server still decides
  // each one (sharing permissions, public) and the preview says which it refuses and why.
  const selectable = (data?.items ?? []).filter((model) => abilitiesOf(model).write)
  const pageSelected = selectable.length > 0 && selectable.every((model) => selected.has(model.id))
  return (
    <section className="page">
      <div className="page-header">
        <h1 tabIndex={-1}>
          Models{' '}
          {data ? (
            <span className="count" aria-label={`${data.total} in total`}>
              {data.total}
            </span>
          ) : null}
        </h1>
        <div className="page-actions">
          {canImport ? (
            <>
              <input
                ref={fileInput}
                type="file"
                accept="application/json,.json"
                className="visually-hidden"
                aria-label="Import models from a file"
                tabIndex={-1}
                onChange={(event) => void onImportFile(event)}
                data-testid="import-file"
              />
              <button type="button" className="button" disabled={importer.isPending} onClick={() => fileInput.current?.click()}>
                {importer.isPending ? 'Importing…' : 'Import'}
              </button>
            </>
          ) : null}
          {canExport ? (
            <button type="button" className="button" disabled={exporting} onClick={() => void onExportAll()}>
              {exporting ? 'Exporting…' : 'Export all'}
            </button>
          ) : null}
          {canCreate ? (
            <Link to="/workspace/models/create" className="button button-primary">
              New model
            </Link>
          ) : null}
        </div>
      </div>

      {conflictIds.size > 0 ? (
        <div className="conflict-banner" role="status" data-testid="conflict-banner">
          <strong>{conflictIds.size === 1 ? '1 model is' : `${conflictIds.size} models are`} in conflict with a provider model.</strong> A provider serves{' '}
          {conflictIds.size === 1 ? 'its id' : 'their ids'}, and only an administrator&apos;s model may use a provider&apos;s id, so{' '}
          {conflictIds.size === 1 ? 'it is' : 'they are'} ignored: calls reach the provider&apos;s model. Delete {conflictIds.size === 1 ? 'it' : 'them'} or
          recreate under another id:{' '}
          {[...conflictIds].slice(0, 5).map((id, index) => (
            <span key={id}>
              {index > 0 ? ', ' : ''}
              <code>{id}</code>
            </span>
          ))}
          {conflictIds.size > 5 ? ', …' : ''}
        </div>
      ) : null}

      <div className="filters" role="search" aria-label="Filter models">
        <div className="field field-grow">
          <label htmlFor="models-search">Search</label>
          <input
            id="models-search"
            type="search"
            placeholder="Name, id, base model or owner"
            maxLength={500}
            value={queryText}
            onChange={(event) => setQueryText(event.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="models-tag">Tag</label>
          <select id="models-tag" value={tag} onChange={(event) => setTag(event.target.value)}>
            <option value="">All tags</option>
            {(tags.data ?? []).map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
            {tag !== '' && !(tags.data ?? []).includes(tag) ? <option value={tag}>{tag}</option> : null}
          </select>
        </div>
        {mayUseTemplates ? (
          <div className="field">
            <label htmlFor="models-template">Template</label>
            <select id="models-template" value={template} onChange={(event) => setTemplate(event.target.value)}>
              <option value="">Any template</option>
              {(templates.data?.items ?? []).map((item) => (
                <option key={item.id} value={item.id}>
                  {item.name}
                </option>
              ))}
              {template !== '' && !(templates.data?.items ?? []).some((item) => item.id === template) ? <option value={template}>{template}</option> : null}
            </select>
          </div>
        ) : null}
        <div className="field">
          <label htmlFor="models-view">Show</label>
          <select id="models-view" value={view} onChange={(event) => setView(event.target.value as ViewOption)}>
            <option value="">All models</option>
            <option value="created">Created by me</option>
            <option value="shared">Shared with me</option>
          </select>
        </div>
        <div className="field field-sort">
          <label htmlFor="models-sort">Sort by</label>
          <div className="input-group">
            <select id="models-sort" value={orderBy} onChange={(event) => setOrderBy(event.target.value as ModelOrderBy)}>
              {SORTS.map((sort) => (
                <option key={sort.value} value={sort.value}>
                  {sort.label}
                </option>
              ))}
            </select>
            <button
              type="button"
              className="button"
              aria-label={direction === 'asc' ? 'Ascending order; switch to descending' : 'Descending order; switch to ascending'}
              title={direction === 'asc' ? 'Ascending' : 'Descending'}
              onClick={() => setDirection(direction === 'asc' ? 'desc' : 'asc')}
            >
              {direction === 'asc' ? '↑ Asc' : '↓ Desc'}
            </button>
          </div>
        </div>
      </div>

      {list.error && !data ? (
        <ErrorState error={list.error} title="The models could not be loaded" onRetry={() => void list.refetch()} />
      ) : !data ? (
        <Loading label="Loading models…" />
      ) : (
        <div aria-busy={list.isFetching}>
          {list.error ? <ErrorState error={list.error} title="The list could not be refreshed" onRetry={() => void list.refetch()} /> : null}
          {data.items.length === 0 ? (
            filtered ? (
              <Empty title="No models match these filters">
                <p>Try another search, tag or view.</p>
              </Empty>
            ) : (
              <Empty title="No models yet">
                <p>A model preset is a base model with its own parameters, system prompt and description.</p>
                {canCreate ? (
                  <Link to="/workspace/models/create" className="button button-primary">
                    Create your first model
                  </Link>
                ) : (
                  <p className="muted">Models shared with you will appear here.</p>
                )}
              </Empty>
            )
          ) : (
            <>
              {selectable.length > 0 || selected.size > 0 ? (
                <div className="selection-bar" role="group" aria-label="Selection">
                  <label className="checkbox">
                    <input
                      type="checkbox"
                      checked={pageSelected}
                      disabled={selectable.length === 0}
                      onChange={(event) => select(selectable, event.target.checked)}
                    />
                    Select all on this page
                  </label>
                  <span className="selection-count" aria-live="polite">
                    {selected.size === 0 ? 'None selected' : `${selected.size} selected`}
                  </span>
                  {selected.size > 0 ? (
                    <>
                      <button type="button" className="button button-small" onClick={() => setSelected(new Map())}>
                        Clear selection
                      </button>
                      <button type="button" className="button button-primary button-small" onClick={() => setBulkModels(new Map(selected))}>
                        Change access…
                      </button>
                    </>
                  ) : null}
                </div>
              ) : null}
              <ul className="model-grid" aria-label="Models">
                {data.items.map((model) => (
                  <ModelCard
                    key={model.id}
                    model={model}
                    isMine={model.user_id === user.id}
                    conflict={conflictIds.has(model.id)}
                    drifted={template !== '' && drifted.has(model.id)}
                    canClone={canCreate}
                    canExport={canExport}
                    onToggle={() => void onToggle(model)}
                    onEdit={() => navigate(`/workspace/models/edit?id=${encodeURIComponent(model.id)}`)}
                    onClone={() => void onClone(model)}
                    onExport={() => void onExportOne(model)}
                    onCopyId={() => void onCopyId(model)}
                    onHide={() => void onHide(model)}
                    onDelete={() => setConfirmDelete(model)}
                    {...(abilitiesOf(model).write && { selected: selected.has(model.id), onSelect: (on: boolean) => select([model], on) })}
                  />
                ))}
              </ul>
            </>
          )}
          <Pagination page={page} pageSize={PAGE_SIZE} total={data.total} onPage={setPage} label="Model pages" />
        </div>
      )}

      {confirmDelete ? (
        <ConfirmDialog title="Delete this model?" confirmLabel="Delete" busy={remove.isPending} onConfirm={onDelete} onCancel={() => setConfirmDelete(null)}>
          <p>
            <strong>{confirmDelete.name}</strong> (<code>{confirmDelete.id}</code>) and who may use it will be deleted. This cannot be undone.
          </p>
        </ConfirmDialog>
      ) : null}

      {bulkModels ? <BulkAccessDialog models={bulkModels} onClose={() => setBulkModels(null)} onApplied={() => setSelected(new Map())} /> : null}

      {report ? <ImportReportDialog file={report.file} report={report.report} onClose={() => setReport(null)} /> : null}
    </section>
  )
}

function ImportReportDialog({ file, report, onClose }: { file: string; report: ImportReport; onClose: () => void }) {
  const { created, updated, skipped, warnings } = report
  return (
    <Dialog
      title="Import report"
      onClose={onClose}
      size="large"
      description={`${file}: ${created.length} created, ${updated.length} updated, ${skipped.length} skipped, ${warnings.length} warnings.`}
    >
      <div className="report" data-testid="import-report">
        <ReportSection title="Created" count={created.length} empty="Nothing was created.">
          {created.map((id) => (
            <li key={id}>
              <code>{id}</code>
            </li>
          ))}
        </ReportSection>
        <ReportSection title="Updated" count={updated.length} empty="Nothing was updated.">
          {updated.map((id) => (
            <li key={id}>
              <code>{id}</code>
            </li>
          ))}
        </ReportSection>
        <ReportSection title="Skipped" count={skipped.length} empty="Nothing was skipped." tone="error">
          {skipped.map((item, index) => (
            <li key={`${item.id}-${index}`}>
              <code>{item.id}</code>: {item.reason}
            </li>
          ))}
        </ReportSection>
        <ReportSection title="Warnings" count={warnings.length} empty="No warnings." tone="warning">
          {warnings.map((item, index) => (
            <li key={`${item.id}-${index}`}>
              <code>{item.id}</code>: {item.message}
            </li>
          ))}
        </ReportSection>
      </div>
    </Dialog>
  )
}

function ReportSection({
  title,
  count,
  empty,
  tone,
  children,
}: {
  title: string
  count: number
  empty: string
  tone?: 'error' | 'warning'
  children: ReactNode
}) {
  return (
    <section className={`report-section${tone && count > 0 ? ` report-${tone}` : ''}`}>
      <h3>
        {title} <span className="count">{count}</span>
      </h3>
      {count > 0 ? <ul>{children}</ul> : <p className="muted">{empty}</p>}
    </section>
  )
}
