/**
 * Admin › Connections: the providers (OpenAI-compatible endpoints, Ollama) whose models presets are
 * built on. Add, edit, enable, test, refresh and delete them, and see the base models each serves.
 * Connections set by environment variables are shown but changed where they are set.
 */
import { useState } from 'react'
import { useForm, useWatch } from 'react-hook-form'
import { describeError, type Connection, type ConnectionCreate, type ConnectionKind, type ConnectionUpdate } from '../../api/client'
import { ConfirmDialog, FormDialog } from '../../components/Dialog'
import { Empty, ErrorState, InlineError, Loading } from '../../components/States'
import { Switch } from '../../components/Switch'
import { timeAgo } from '../../lib/format'
import { bodyResolver, placeServerErrors } from '../../lib/forms'
import { notify } from '../../lib/notify'
import { useConnectionModels, useConnections, useDeleteConnection, useRefreshConnections, useSaveConnection, useTestConnection } from '../../lib/queries'
import { ConnectionCreateSchema, ConnectionUpdateSchema } from '../../lib/schemas'

export function ConnectionsPage() {
  const connections = useConnections()
  const refresh = useRefreshConnections()
  const save = useSaveConnection()
  const removeConnection = useDeleteConnection()
  const refreshing = refresh.isPending
  const [editing, setEditing] = useState<Connection | 'new' | null>(null)
  const [confirm, setConfirm] = useState<Connection | null>(null)

  const refreshAll = async () => {
    try {
      await refresh.mutateAsync()
      notify('Model lists refreshed.', 'success')
    } catch (error) {
      notify(`Refresh failed: ${describeError(error).detail}`, 'error')
    }
  }

  const toggle = async (connection: Connection, enabled: boolean) => {
    try {
      await save.mutateAsync({ id: connection.id, patch: { enabled } })
      notify(`${connection.name} ${enabled ? 'enabled' : 'disabled'}.`, 'success')
    } catch (error) {
      notify(`Could not change ${connection.name}: ${describeError(error).detail}`, 'error')
    }
  }

  const remove = async () => {
    if (!confirm) return
    try {
      await removeConnection.mutateAsync(confirm.id)
      notify(`Deleted ${confirm.name}.`, 'success')
      setConfirm(null)
    } catch (error) {
      notify(`Could not delete ${confirm.name}: ${describeError(error).detail}`, 'error')
    }
  }

  const list = connections.data
  return (
    <section className="page">
      <div className="page-header">
        <h1 tabIndex={-1}>Connections {list ? <span className="count">{list.length}</span> : null}</h1>
        {list ? (
          <div className="page-actions">
            <button type="button" className="button" disabled={refreshing || list.length === 0} onClick={() => void refreshAll()}>
              {refreshing ? 'Refreshing…' : 'Refresh all'}
            </button>
            <button type="button" className="button button-primary" onClick={() => setEditing('new')}>
              Add connection
            </button>
          </div>
        ) : null}
      </div>
      <p className="muted">
        Providers that serve base models: OpenAI-compatible endpoints (OpenAI, vLLM, llama.cpp server…) and Ollama. Their model lists are cached and served
        stale while refreshing.
      </p>

      {connections.error && !list ? (
        <ErrorState error={connections.error} title="The connections could not be loaded" onRetry={() => void connections.refetch()}>
          {describeError(connections.error).code === 'NOT_FOUND' ? (
            <p>
              This server does not offer the connections API (/api/v1/connections) yet. Update modelgate, or configure providers with OPENAI_API_BASE_URLS and
              OLLAMA_BASE_URLS.
            </p>
          ) : null}
        </ErrorState>
      ) : !list ? (
        <Loading label="Loading connections…" />
      ) : list.length === 0 ? (
        <Empty title="No connections yet">
          <p>Add a provider to offer its models as base models.</p>
        </Empty>
      ) : (
        <ul className="connection-list" aria-label="Connections" aria-busy={refreshing}>
          {list.map((connection) => (
            <ConnectionCard
              key={connection.id}
              connection={connection}
              onToggle={(enabled) => void toggle(connection, enabled)}
              onEdit={() => setEditing(connection)}
              onDelete={() => setConfirm(connection)}
            />
          ))}
        </ul>
      )}

      {editing ? (
        <ConnectionDialog
          connection={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={(saved) => {
            setEditing(null)
            notify(`Saved ${saved.name}.`, 'success')
          }}
        />
      ) : null}
      {confirm ? (
        <ConfirmDialog
          title="Delete this connection?"
          confirmLabel="Delete connection"
          busy={removeConnection.isPending}
          onConfirm={remove}
          onCancel={() => setConfirm(null)}
        >
          <p>
            <strong>{confirm.name}</strong> ({confirm.base_url}) will be removed. Presets built on its models stay, but cannot run until another connection
            serves those models.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  )
}

function StatusBadge({ connection }: { connection: Connection }) {
  const { status } = connection
  if (!connection.enabled) return <span className="badge">Disabled</span>
  if (status.ok === null) return <span className="badge">Not checked yet</span>
  if (!status.ok) return <span className="badge badge-danger">{status.model_count > 0 ? 'Error (last list kept)' : 'Error'}</span>
  return <span className="badge badge-success">OK</span>
}

function ConnectionCard({
  connection,
  onToggle,
  onEdit,
  onDelete,
}: {
  connection: Connection
  onToggle: (enabled: boolean) => void
  onEdit: () => void
  onDelete: () => void
}) {
  // One test per card: its answer (or failure) is shown until the next one starts.
  const tester = useTestConnection()
  const test = tester.data ?? null
  const testError = tester.error ? describeError(tester.error).detail : null
  const testing = tester.isPending
  const [showModels, setShowModels] = useState(false)
  const fromEnv = connection.source === 'env'
  const { status } = connection

  const runTest = () => {
    tester.reset()
    tester.mutate(connection.id)
  }

  return (
    <li className="panel connection" aria-labelledby={`connection-${connection.id}`}>
      <div className="connection-head">
        <div>
          <h2 id={`connection-${connection.id}`} className="connection-name">
            {connection.name}
          </h2>
          <p className="mono break">{connection.base_url}</p>
        </div>
        <div className="badges">
          <span className="badge badge-accent">{connection.kind === 'ollama' ? 'Ollama' : 'OpenAI-compatible'}</span>
          {fromEnv ? <span className="badge">From environment</span> : null}
          <StatusBadge connection={connection} />
        </div>
      </div>
      <dl className="facts">
        <div>
          <dt>Models</dt>
          <dd>{status.model_count}</dd>
        </div>
        <div>
          <dt>Checked</dt>
          <dd title={status.stale ? 'The cached list has expired (MODELS_CACHE_TTL); it is fetched again on next use.' : undefined}>
            {timeAgo(status.fetched_at)}
            {status.stale && status.fetched_at ? <span className="muted"> (refreshed on next use)</span> : null}
          </dd>
        </div>
        <div>
          <dt>Prefix</dt>
          <dd>{connection.prefix_id ? <code>{connection.prefix_id}</code> : 'none'}</dd>
        </div>
        <div>
          <dt>API key</dt>
          <dd>{connection.key_hint ? <code>{connection.key_hint}</code> : 'none'}</dd>
        </div>
      </dl>
      {status.error ? <p className="field-error">Last error: {status.error}</p> : null}
      <div className="row connection-actions">
        {fromEnv ? (
          <span className="hint">Set by environment variables; change it there.</span>
        ) : (
          <span className="row">
            <Switch checked={connection.enabled} label={`Enabled: ${connection.name}`} onChange={onToggle} />
            <span aria-hidden="true">{connection.enabled ? 'Enabled' : 'Disabled'}</span>
          </span>
        )}
        <span className="row">
          <button type="button" className="button button-small" disabled={testing} onClick={runTest}>
            {testing ? 'Testing…' : 'Test'}
          </button>
          <button type="button" className="button button-small" aria-expanded={showModels} onClick={() => setShowModels(!showModels)}>
            {showModels ? 'Hide models' : 'Models'}
          </button>
          {fromEnv ? null : (
            <>
              <button type="button" className="button button-small" onClick={onEdit}>
                Edit
              </button>
              <button type="button" className="button button-small button-danger-outline" onClick={onDelete}>
                Delete
              </button>
            </>
          )}
        </span>
      </div>
      <div aria-live="polite">
        {test ? (
          <p className={test.ok ? 'success-text' : 'field-error'}>
            {test.ok
              ? `Reachable in ${Math.round(test.latency_ms)} ms: ${test.model_count} model${test.model_count === 1 ? '' : 's'}`
              : `Failed after ${Math.round(test.latency_ms)} ms: ${test.error ?? 'unknown error'}`}
            {test.ok && test.models.length > 0 ? ` (${test.models.slice(0, 5).join(', ')}${test.models.length > 5 ? ', …' : ''})` : ''}
          </p>
        ) : null}
        {testError ? <p className="field-error">Test failed: {testError}</p> : null}
      </div>
      {showModels ? <ConnectionModels id={connection.id} /> : null}
    </li>
  )
}

function ConnectionModels({ id }: { id: string }) {
  const models = useConnectionModels(id)
  if (models.error) return <ErrorState error={models.error} title="The models could not be loaded" onRetry={() => void models.refetch()} />
  if (!models.data) return <Loading label="Loading models…" />
  if (models.data.length === 0) return <p className="muted">This connection serves no model right now.</p>
  return (
    <table className="table table-compact">
      <caption className="visually-hidden">Models served</caption>
      <thead>
        <tr>
          <th scope="col">Id</th>
          <th scope="col">Name</th>
          <th scope="col">Owned by</th>
        </tr>
      </thead>
      <tbody>
        {models.data.map((model) => (
          <tr key={model.id}>
            <td data-label="Id" className="mono break">
              {model.id}
            </td>
            <td data-label="Name">{model.name}</td>
            <td data-label="Owned by">{model.owned_by}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

/** The dialog's fields, named like the request body's keys (plus the "remove the stored key" box). */
interface ConnectionValues {
  kind: ConnectionKind
  base_url: string
  name: string
  api_key: string
  clear_key: boolean
  prefix_id: string
  enabled: boolean
}

const FIELDS = ['kind', 'base_url', 'name', 'api_key', 'prefix_id', 'enabled'] as const

function createBody(values: ConnectionValues): ConnectionCreate {
  const prefix = values.prefix_id.trim()
  return {
    name: values.name.trim() || undefined,
    kind: values.kind,
    base_url: values.base_url.trim(),
    api_key: values.api_key || undefined,
    prefix_id: prefix === '' ? null : prefix,
    enabled: values.enabled,
  }
}

function updateBody(values: ConnectionValues): ConnectionUpdate {
  const prefix = values.prefix_id.trim()
  return {
    name: values.name.trim(),
    base_url: values.base_url.trim(),
    prefix_id: prefix === '' ? null : prefix,
    enabled: values.enabled,
    ...(values.clear_key ? { api_key: null } : values.api_key ? { api_key: values.api_key } : {}),
  }
}

function ConnectionDialog({ connection, onClose, onSaved }: { connection: Connection | null; onClose: () => void; onSaved: (connection: Connection) => void }) {
  const isNew = connection === null
  const save = useSaveConnection()
  const [error, setError] = useState<string | null>(null)
  const [resolver] = useState(() => (isNew ? bodyResolver(ConnectionCreateSchema, createBody) : bodyResolver(ConnectionUpdateSchema, updateBody)))
  const form = useForm<ConnectionValues>({
    defaultValues: {
      kind: connection?.kind ?? 'openai',
      base_url: connection?.base_url ?? '',
      name: connection?.name ?? '',
      api_key: '',
      clear_key: false,
      prefix_id: connection?.prefix_id ?? '',
      enabled: connection?.enabled ?? true,
    },
    resolver,
  })
  const { errors } = form.formState
  const kind = useWatch({ control: form.control, name: 'kind' })
  const clearKey = useWatch({ control: form.control, name: 'clear_key' })

  const submit = async (values: ConnectionValues) => {
    setError(null)
    try {
      onSaved(await save.mutateAsync(isNew ? { create: createBody(values) } : { id: connection.id, patch: updateBody(values) }))
    } catch (failure) {
      if (!placeServerErrors(failure, form.setError, FIELDS)) {
        const { detail, code } = describeError(failure)
        setError(`${detail} (${code})`)
      }
    }
  }

  const describedBy = (name: (typeof FIELDS)[number], hint?: string) => ({
    'aria-invalid': errors[name] ? (true as const) : undefined,
    'aria-describedby': [errors[name] ? `connection-${name}-error` : '', hint ?? ''].filter(Boolean).join(' ') || undefined,
  })
  const fieldError = (name: (typeof FIELDS)[number]) => <InlineError id={`connection-${name}-error`}>{errors[name]?.message}</InlineError>

  return (
    <FormDialog
      title={isNew ? 'Add connection' : `Edit ${connection.name}`}
      onClose={onClose}
      onSubmit={(event) => void form.handleSubmit(submit)(event)}
      submitLabel={isNew ? 'Add connection' : 'Save'}
      busyLabel="Saving…"
      busy={save.isPending}
    >
      <div className="field">
        <label htmlFor="connection-kind">Kind</label>
        <select id="connection-kind" disabled={!isNew} {...form.register('kind')} data-autofocus>
          <option value="openai">OpenAI-compatible (OpenAI, vLLM, llama.cpp…)</option>
          <option value="ollama">Ollama</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor="connection-url">Base URL</label>
        <input
          id="connection-url"
          type="url"
          required
          className="mono"
          placeholder={kind === 'ollama' ? 'http://127.0.0.1:11434' : 'https://api.openai.com/v1'}
          {...describedBy('base_url')}
          {...form.register('base_url')}
        />
        {fieldError('base_url')}
      </div>
      <div className="field">
        <label htmlFor="connection-name">Name</label>
        <input id="connection-name" placeholder="Defaults to the host name" {...describedBy('name')} {...form.register('name')} />
        {fieldError('name')}
      </div>
      <div className="field">
        <label htmlFor="connection-key">API key</label>
        <input
          id="connection-key"
          type="password"
          autoComplete="off"
          disabled={clearKey}
          placeholder={connection?.key_hint ? `Stored: ${connection.key_hint} (leave empty to keep)` : 'Optional'}
          {...describedBy('api_key', 'connection-key-hint')}
          {...form.register('api_key')}
        />
        <p className="hint" id="connection-key-hint">
          Stored on the server and never shown again; only a hint of it is.
        </p>
        {fieldError('api_key')}
        {!isNew && connection.key_hint ? (
          <label className="checkbox">
            <input type="checkbox" {...form.register('clear_key')} />
            Remove the stored key
          </label>
        ) : null}
      </div>
      <div className="field">
        <label htmlFor="connection-prefix">Prefix</label>
        <input
          id="connection-prefix"
          className="mono"
          placeholder="Optional, e.g. openai"
          {...describedBy('prefix_id', 'connection-prefix-hint')}
          {...form.register('prefix_id')}
        />
        <p className="hint" id="connection-prefix-hint">
          Prepended to this connection's model ids (prefix.model) to tell providers apart.
        </p>
        {fieldError('prefix_id')}
      </div>
      <label className="checkbox">
        <input type="checkbox" {...form.register('enabled')} />
        Enabled
      </label>
      <InlineError>{error}</InlineError>
    </FormDialog>
  )
}
