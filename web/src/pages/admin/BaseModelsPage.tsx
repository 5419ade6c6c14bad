/**
 * Admin › Base models (Open WebUI's Admin › Models, issue #16 item 4): every model the providers serve,
 * with its connection, an on/off switch, who may use it, its name and tags, and whether an override row
 * exists (`GET /api/v1/models/base/list`); filters by connection and text. Every change goes through the
 * ordinary model routes, so history, audit and If-Match hold: a model without an override row gets one
 * (create, or the access update that creates it), one with a row is updated, toggled or re-shared.
 * Sharing a raw model here is how users may use it without a preset wrapped around it.
 */
import { useState, type FormEvent } from 'react'
import { describeError, type BaseModel } from '../../api/client'
import { ChipsInput } from '../../components/ChipsInput'
import { FormDialog } from '../../components/Dialog'
import { Pagination } from '../../components/Pagination'
import { Empty, ErrorState, InlineError, Loading } from '../../components/States'
import { Switch } from '../../components/Switch'
import { describeAccess } from '../../lib/access'
import { useDebounced } from '../../lib/hooks'
import { notify } from '../../lib/notify'
import { useBaseModels, useCreateModel, useToggleModel, useUpdateModel } from '../../lib/queries'
import { AccessDialog } from '../AccessDialog'

const PAGE_SIZE = 30

const ROW_BADGES: Record<NonNullable<BaseModel['row']>, { label: string; title: string; className: string }> = {
  override: { label: 'Override', title: 'An override row renames, switches off or shares this provider model.', className: 'badge' },
  preset: {
    label: 'Taken by a preset',
    title: "An administrator's preset has this id: calls to it reach the preset, and the provider model is not listed on its own.",
    className: 'badge badge-warning badge-wrap',
  },
  conflict: {
    label: 'Conflict',
    title: "A user's model has this id; it is ignored (see the conflicts on the Models page).",
    className: 'badge badge-danger',
  },
}

export function BaseModelsPage() {
  const [text, setText] = useState('')
  const [connection, setConnection] = useState('')
  const [page, setPage] = useState(1)
  const query = useDebounced(text.trim(), 300)
  const base = useBaseModels({ page, limit: PAGE_SIZE, ...(query && { query }), ...(connection && { connection_id: connection }) })
  const toggle = useToggleModel()
  const create = useCreateModel()
  const [editing, setEditing] = useState<BaseModel | null>(null)
  const [sharing, setSharing] = useState<BaseModel | null>(null)
  const data = base.data

  const setFilter = (apply: () => void) => {
    apply()
    setPage(1)
  }

  const switchModel = async (item: BaseModel, on: boolean) => {
    try {
      if (item.override) await toggle.mutateAsync({ id: item.id, ifMatch: item.override.version })
      // No row yet: switching off creates the override row (private, as a provider model without one is for admins).
      else await create.mutateAsync({ id: item.id, base_model_id: null, name: item.provider_name ?? item.id, is_active: on, meta: {}, params: {} })
      notify(`${item.name} is ${on ? 'on' : 'off'}.`, 'success')
    } catch (error) {
      notify(`Could not switch ${item.name}: ${describeError(error).detail}`, 'error')
    }
  }

  return (
    <section className="page">
      <div className="page-header">
        <h1 tabIndex={-1}>Base models {data ? <span className="count">{data.total}</span> : null}</h1>
      </div>
      <p className="hint">
        What the providers serve. A model without an override row is for administrators only; share it here to let others use it as it is, or rename, tag and
        switch it off. Changes are recorded like any model change.
      </p>
      <div className="filters" role="search" aria-label="Filter base models">
        <div className="field field-grow">
          <label htmlFor="base-search">Search</label>
          <input id="base-search" type="search" placeholder="Id or name" value={text} onChange={(event) => setFilter(() => setText(event.target.value))} />
        </div>
        <div className="field">
          <label htmlFor="base-connection">Connection</label>
          <select id="base-connection" value={connection} onChange={(event) => setFilter(() => setConnection(event.target.value))}>
            <option value="">All connections</option>
            {(data?.connections ?? []).map((c) => (
              <option key={c.id} value={c.id}>
                {c.name} ({c.count})
              </option>
            ))}
          </select>
        </div>
      </div>

      {base.error && !data ? (
        <ErrorState error={base.error} title="The base models could not be loaded" onRetry={() => void base.refetch()} />
      ) : !data ? (
        <Loading label="Loading the base models…" />
      ) : data.items.length === 0 ? (
        <Empty title={query || connection ? 'No model matches' : 'No provider serves a model'}>
          {query || connection ? null : <p>Add a connection on the Connections page.</p>}
        </Empty>
      ) : (
        <div aria-busy={base.isFetching}>
          <table className="table base-models">
            <caption className="visually-hidden">Base models</caption>
            <thead>
              <tr>
                <th scope="col">On</th>
                <th scope="col">Model</th>
                <th scope="col">Connection</th>
                <th scope="col">Access</th>
                <th scope="col">Tags</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((item) => {
                const badge = item.row ? ROW_BADGES[item.row] : null
                const editable = item.row === null || item.row === 'override'
                return (
                  <tr key={item.id} data-base-id={item.id}>
                    <td data-label="On">
                      <Switch
                        checked={item.is_active}
                        label={`On: ${item.name}`}
                        disabled={!editable || toggle.isPending || create.isPending}
                        onChange={(on) => void switchModel(item, on)}
                      />
                    </td>
                    <td data-label="Model" className="break">
                      <strong>{item.name}</strong>
                      <br />
                      <code>{item.id}</code>
                      {item.provider_name && item.provider_name !== item.name ? <span className="muted"> · provider name {item.provider_name}</span> : null}
                      <div className="badges">
                        {badge ? (
                          <span className={badge.className} title={badge.title}>
                            {badge.label}
                          </span>
                        ) : (
                          <span className="badge" title="No override row: the provider model as it is, for administrators only.">
                            No override
                          </span>
                        )}
                        {!item.served ? <span className="badge badge-warning">Not served</span> : null}
                      </div>
                      {!item.status.ok ? (
                        <p className="status-warning" role="note" data-testid="status-warning">
                          ⚠ {item.status.reason}
                        </p>
                      ) : null}
                    </td>
                    <td data-label="Connection">{item.connection_name ?? <span className="muted">none</span>}</td>
                    <td data-label="Access">{item.override ? describeAccess(item.override.access_grants) : <span className="muted">Admins only</span>}</td>
                    <td data-label="Tags">
                      {item.tags.length > 0 ? (
                        item.tags.map((tag) => (
                          <span key={tag} className="badge badge-tag">
                            {tag}
                          </span>
                        ))
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                    <td className="actions">
                      {editable ? (
                        <>
                          <button type="button" className="button button-small" aria-label={`Edit ${item.name}`} onClick={() => setEditing(item)}>
                            Edit
                          </button>{' '}
                          <button type="button" className="button button-small" aria-label={`Access to ${item.name}`} onClick={() => setSharing(item)}>
                            Access
                          </button>
                        </>
                      ) : null}
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
          <Pagination page={page} pageSize={PAGE_SIZE} total={data.total} onPage={setPage} label="Base model pages" />
        </div>
      )}

      {editing ? <EditBaseDialog item={editing} onClose={() => setEditing(null)} /> : null}
      {sharing ? (
        <AccessDialog
          grants={sharing.override?.access_grants ?? []}
          modelId={sharing.id}
          can={sharing.override?.can}
          modelName={sharing.name}
          version={sharing.override?.version}
          description={
            sharing.override
              ? 'Who may use this provider model. Changes are saved when you press Save access.'
              : 'Saving creates the override row that holds who may use this provider model (today: administrators only).'
          }
          onApply={() => undefined}
          onClose={() => setSharing(null)}
        />
      ) : null}
    </section>
  )
}

/** Rename and tag a base model: an update of its override row, or a new override row. */
function EditBaseDialog({ item, onClose }: { item: BaseModel; onClose: () => void }) {
  const [name, setName] = useState(item.name)
  const [tags, setTags] = useState<string[]>(item.tags)
  const [error, setError] = useState<string | null>(null)
  const create = useCreateModel()
  const update = useUpdateModel()
  const busy = create.isPending || update.isPending

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    setError(null)
    const trimmed = name.trim()
    if (!trimmed) return setError('The name must not be empty.')
    try {
      if (item.override) {
        await update.mutateAsync({
          id: item.id,
          name: trimmed,
          meta: { ...item.override.meta, tags: tags.map((t) => ({ name: t })) },
          ifMatch: item.override.version,
        })
      } else {
        await create.mutateAsync({
          id: item.id,
          base_model_id: null,
          name: trimmed,
          meta: { tags: tags.map((t) => ({ name: t })) },
          params: {},
          is_active: true,
        })
      }
      notify(`Saved ${trimmed}.`, 'success')
      onClose()
    } catch (failure) {
      const { detail, code } = describeError(failure)
      setError(`${detail} (${code})`)
    }
  }

  return (
    <FormDialog title={`Edit ${item.id}`} onClose={onClose} onSubmit={(event) => void submit(event)} submitLabel="Save" busyLabel="Saving…" busy={busy}>
      {!item.override ? (
        <p className="hint">Saving creates an override row for this provider model (it stays for administrators only until you share it).</p>
      ) : null}
      <div className="field">
        <label htmlFor="base-edit-name">Name</label>
        <input id="base-edit-name" value={name} onChange={(event) => setName(event.target.value)} />
        {item.provider_name ? <p className="hint">The provider calls it {item.provider_name}.</p> : null}
      </div>
      <div className="field">
        <label htmlFor="base-edit-tags">Tags</label>
        <ChipsInput id="base-edit-tags" values={tags} onChange={setTags} noun="tag" placeholder="Add a tag and press Enter" />
      </div>
      {error ? <InlineError>{error}</InlineError> : null}
    </FormDialog>
  )
}
