/**
 * Admin › Connections: the providers (OpenAI-compatible endpoints, Ollama) whose models presets are
 * built on. Add, edit, enable, test, refresh and delete them, and see the base models each serves.
 * Connections set by environment variables are shown but changed where they are set.
 */
import { useState, type FormEvent } from 'react'
import {
  createConnection,
  deleteConnection,
  describeError,
  listConnectionModels,
  listConnections,
  refreshConnections,
  testConnection,
  updateConnection,
  type Connection,
  type ConnectionKind,
  type ConnectionTest,
} from '../../api/client'
import { ConfirmDialog, FormDialog } from '../../components/Dialog'
import { Empty, ErrorState, InlineError, Loading } from '../../components/States'
import { Switch } from '../../components/Switch'
import { timeAgo } from '../../lib/format'
import { useResource } from '../../lib/hooks'
import { notify } from '../../lib/notify'

export function ConnectionsPage() {
  const connections = useResource(() => listConnections(), [])
  const [refreshing, setRefreshing] = useState(false)
  const [editing, setEditing] = useState<Connection | 'new' | null>(null)
  const [confirm, setConfirm] = useState<Connection | null>(null)
  const [deleting, setDeleting] = useState(false)

  const replace = (connection: Connection) => connections.setData((current) => current?.map((c) => (c.id === connection.id ? connection : c)))

  const refreshAll = async () => {
    setRefreshing(true)
    try {
      const fresh = await refreshConnections()
      connections.setData(() => fresh)
      notify('Model lists refreshed.', 'success')
    } catch (error) {
      notify(`Refresh failed: ${describeError(error).detail}`, 'error')
      connections.reload()
    } finally {
      setRefreshing(false)
    }
  }

  const toggle = async (connection: Connection, enabled: boolean) => {
    try {
      replace(await updateConnection(connection.id, { enabled }))
      notify(`${connection.name} ${enabled ? 'enabled' : 'disabled'}.`, 'success')
    } catch (error) {
      notify(`Could not change ${connection.name}: ${describeError(error).detail}`, 'error')
    }
  }

  const remove = async () => {
    if (!confirm) return
    setDeleting(true)
    try {
      await deleteConnection(confirm.id)
      notify(`Deleted ${confirm.name}.`, 'success')
      connections.setData((current) => current?.filter((c) => c.id !== confirm.id))
      setConfirm(null)
    } catch (error) {
      notify(`Could not delete ${confirm.name}: ${describeError(error).detail}`, 'error')
    } finally {
      setDeleting(false)
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
        <ErrorState error={connections.error} title="The connections could not be loaded" onRetry={connections.reload}>
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
              onTested={connections.reload}
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
            if (editing === 'new') connections.setData((current) => [...(current ?? []), saved])
            else replace(saved)
            notify(`Saved ${saved.name}.`, 'success')
          }}
        />
      ) : null}
      {confirm ? (
        <ConfirmDialog title="Delete this connection?" confirmLabel="Delete connection" busy={deleting} onConfirm={remove} onCancel={() => setConfirm(null)}>
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
  onTested,
}: {
  connection: Connection
  onToggle: (enabled: boolean) => void
  onEdit: () => void
  onDelete: () => void
  onTested: () => void
}) {
  const [test, setTest] = useState<ConnectionTest | null>(null)
  const [testError, setTestError] = useState<string | null>(null)
  const [testing, setTesting] = useState(false)
  const [showModels, setShowModels] = useState(false)
  const fromEnv = connection.source === 'env'
  const { status } = connection

  const runTest = async () => {
    setTesting(true)
    setTest(null)
    setTestError(null)
    try {
      setTest(await testConnection(connection.id))
    } catch (error) {
      setTestError(describeError(error).detail)
    } finally {
      setTesting(false)
      // The status line (models, last check) may have changed with the test.
      onTested()
    }
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
          <button type="button" className="button button-small" disabled={testing} onClick={() => void runTest()}>
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
      {showModels ? <ConnectionModels id={connection.id} onLoaded={onTested} /> : null}
    </li>
  )
}

function ConnectionModels({ id, onLoaded }: { id: string; onLoaded: () => void }) {
  // Listing the models fetches them: the connection's status line is then worth reloading.
  const models = useResource(() => listConnectionModels(id).finally(onLoaded), [id])
  if (models.error) return <ErrorState error={models.error} title="The models could not be loaded" onRetry={models.reload} />
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

function ConnectionDialog({ connection, onClose, onSaved }: { connection: Connection | null; onClose: () => void; onSaved: (connection: Connection) => void }) {
  const isNew = connection === null
  const [name, setName] = useState(connection?.name ?? '')
  const [kind, setKind] = useState<ConnectionKind>(connection?.kind ?? 'openai')
  const [baseUrl, setBaseUrl] = useState(connection?.base_url ?? '')
  const [apiKey, setApiKey] = useState('')
  const [clearKey, setClearKey] = useState(false)
  const [prefix, setPrefix] = useState(connection?.prefix_id ?? '')
  const [enabled, setEnabled] = useState(connection?.enabled ?? true)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setBusy(true)
    setError(null)
    try {
      const prefixId = prefix.trim() === '' ? null : prefix.trim()
      const saved = isNew
        ? await createConnection({ name: name.trim() || undefined, kind, base_url: baseUrl.trim(), api_key: apiKey || undefined, prefix_id: prefixId, enabled })
        : await updateConnection(connection.id, {
            name: name.trim(),
            base_url: baseUrl.trim(),
            prefix_id: prefixId,
            enabled,
            ...(clearKey ? { api_key: null } : apiKey ? { api_key: apiKey } : {}),
          })
      onSaved(saved)
    } catch (failure) {
      const { detail, code } = describeError(failure)
      setError(`${detail} (${code})`)
      setBusy(false)
    }
  }

  return (
    <FormDialog
      title={isNew ? 'Add connection' : `Edit ${connection.name}`}
      onClose={onClose}
      onSubmit={(event) => void submit(event)}
      submitLabel={isNew ? 'Add connection' : 'Save'}
      busyLabel="Saving…"
      busy={busy}
    >
      <div className="field">
        <label htmlFor="connection-kind">Kind</label>
        <select id="connection-kind" value={kind} disabled={!isNew} onChange={(event) => setKind(event.target.value as ConnectionKind)} data-autofocus>
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
          value={baseUrl}
          onChange={(event) => setBaseUrl(event.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor="connection-name">Name</label>
        <input id="connection-name" value={name} placeholder="Defaults to the host name" onChange={(event) => setName(event.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="connection-key">API key</label>
        <input
          id="connection-key"
          type="password"
          autoComplete="off"
          value={apiKey}
          disabled={clearKey}
          placeholder={connection?.key_hint ? `Stored: ${connection.key_hint} (leave empty to keep)` : 'Optional'}
          onChange={(event) => setApiKey(event.target.value)}
          aria-describedby="connection-key-hint"
        />
        <p className="hint" id="connection-key-hint">
          Stored on the server and never shown again; only a hint of it is.
        </p>
        {!isNew && connection.key_hint ? (
          <label className="checkbox">
            <input type="checkbox" checked={clearKey} onChange={(event) => setClearKey(event.target.checked)} />
            Remove the stored key
          </label>
        ) : null}
      </div>
      <div className="field">
        <label htmlFor="connection-prefix">Prefix</label>
        <input
          id="connection-prefix"
          className="mono"
          value={prefix}
          placeholder="Optional, e.g. openai"
          onChange={(event) => setPrefix(event.target.value)}
          aria-describedby="connection-prefix-hint"
        />
        <p className="hint" id="connection-prefix-hint">
          Prepended to this connection's model ids (prefix.model) to tell providers apart.
        </p>
      </div>
      <label className="checkbox">
        <input type="checkbox" checked={enabled} onChange={(event) => setEnabled(event.target.checked)} />
        Enabled
      </label>
      <InlineError>{error}</InlineError>
    </FormDialog>
  )
}
