/**
 * Admin: the audit log (`GET /api/v1/audit`): who did what, to what, when and from where. Filters by
 * actor, action (exact, or a prefix with `.*`), target id and a time window; pages follow the server's
 * cursor ("Load more"); each entry opens to its before and after; Export downloads everything the
 * filters select as NDJSON (oldest first, streamed by the server).
 */
import { useId, useState, type FormEvent } from 'react'
import { describeError, exportAudit, type AuditEntry, type AuditFilters } from '../../api/client'
import { Empty, ErrorState, Loading } from '../../components/States'
import { downloadBlob, timestampForFile } from '../../lib/format'
import { notify } from '../../lib/notify'
import { useAudit, useUserList } from '../../lib/queries'
import { Link } from '../../lib/router'

/** The action names the server records (docs/history.md), offered as suggestions; any text is allowed. */
const ACTIONS = [
  'model.*',
  'model.create',
  'model.update',
  'model.toggle',
  'model.access_update',
  'model.delete',
  'model.delete_all',
  'model.import',
  'model.sync',
  'model.restore',
  'model.history_prune',
  'auth.*',
  'auth.signin',
  'auth.signin_failed',
  'auth.signin_rate_limited',
  'auth.signup',
  'auth.signout',
  'user.*',
  'user.create',
  'user.update',
  'user.delete',
  'group.*',
  'group.create',
  'group.update',
  'group.delete',
  'group.members_add',
  'group.members_remove',
  'connection.*',
  'api_key.*',
  'permissions.update',
  'config.update',
]

interface Draft {
  actor_id: string
  action: string
  target_id: string
  since: string
  until: string
}

const EMPTY: Draft = { actor_id: '', action: '', target_id: '', since: '', until: '' }

/** `datetime-local` text (the browser's time zone) → epoch ms; empty or unreadable → undefined. */
function toMillis(local: string): number | undefined {
  if (!local) return undefined
  const ms = new Date(local).getTime()
  return Number.isFinite(ms) ? ms : undefined
}

function filtersOf(draft: Draft): AuditFilters {
  const filters: AuditFilters = {}
  if (draft.actor_id) filters.actor_id = draft.actor_id
  if (draft.action.trim()) filters.action = draft.action.trim()
  if (draft.target_id.trim()) filters.target_id = draft.target_id.trim()
  const since = toMillis(draft.since)
  const until = toMillis(draft.until)
  if (since !== undefined) filters.since = since
  if (until !== undefined) filters.until = until
  return filters
}

export function formatMillis(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' })
}

export function AuditPage() {
  const [draft, setDraft] = useState<Draft>(EMPTY)
  const [filters, setFilters] = useState<AuditFilters>({})
  const [open, setOpen] = useState<string | null>(null)
  const [exporting, setExporting] = useState(false)
  const audit = useAudit(filters)
  // Names for the actor filter (the first 100 accounts by name; entries carry their actor's name).
  const users = useUserList({ order_by: 'name', direction: 'asc', limit: 100 })
  const prefix = useId()

  const apply = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    setFilters(filtersOf(draft))
    setOpen(null)
  }
  const clear = () => {
    setDraft(EMPTY)
    setFilters({})
    setOpen(null)
  }
  const download = async () => {
    setExporting(true)
    try {
      downloadBlob(await exportAudit(filters), `audit-${timestampForFile()}.ndjson`)
    } catch (error) {
      notify(`Could not export the audit log: ${describeError(error).detail}`, 'error')
    } finally {
      setExporting(false)
    }
  }
  const set = (key: keyof Draft) => (event: { target: { value: string } }) => setDraft((current) => ({ ...current, [key]: event.target.value }))

  const entries = audit.data?.pages.flatMap((page) => page.items) ?? []
  const filtered = Object.keys(filters).length > 0
  return (
    <section className="page">
      <div className="page-header">
        <h1 tabIndex={-1}>Audit log</h1>
        <div className="page-actions">
          <button type="button" className="button" onClick={() => void download()} disabled={exporting}>
            {exporting ? 'Exporting…' : 'Export NDJSON'}
          </button>
        </div>
      </div>

      <form className="filters audit-filters" role="search" aria-label="Filter the audit log" onSubmit={apply}>
        <div className="field">
          <label htmlFor={`${prefix}-actor`}>Actor</label>
          <select id={`${prefix}-actor`} value={draft.actor_id} onChange={set('actor_id')}>
            <option value="">Anyone</option>
            {users.data?.users.map((user) => (
              <option key={user.id} value={user.id}>
                {user.name} ({user.email})
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${prefix}-action`}>Action</label>
          <input
            id={`${prefix}-action`}
            list={`${prefix}-actions`}
            value={draft.action}
            onChange={set('action')}
            placeholder="model.*"
            aria-describedby={`${prefix}-action-hint`}
            autoComplete="off"
          />
          <datalist id={`${prefix}-actions`}>
            {ACTIONS.map((action) => (
              <option key={action} value={action} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor={`${prefix}-target`}>Target id</label>
          <input id={`${prefix}-target`} value={draft.target_id} onChange={set('target_id')} autoComplete="off" />
        </div>
        <div className="field">
          <label htmlFor={`${prefix}-since`}>Since</label>
          <input id={`${prefix}-since`} type="datetime-local" step={1} value={draft.since} onChange={set('since')} />
        </div>
        <div className="field">
          <label htmlFor={`${prefix}-until`}>Until</label>
          <input id={`${prefix}-until`} type="datetime-local" step={1} value={draft.until} onChange={set('until')} />
        </div>
        <p className="hint audit-filters-hint" id={`${prefix}-action-hint`}>
          Action: a name (model.update), or a prefix with .* (model.*). Since and Until are your local time.
        </p>
        <div className="filters-buttons">
          <button type="submit" className="button button-primary">
            Apply filters
          </button>
          <button type="button" className="button" onClick={clear}>
            Clear
          </button>
        </div>
      </form>

      {audit.error && !audit.data ? (
        <ErrorState error={audit.error} title="The audit log could not be loaded" onRetry={() => void audit.refetch()} />
      ) : !audit.data ? (
        <Loading label="Loading the audit log…" />
      ) : entries.length === 0 ? (
        <Empty title={filtered ? 'No entry matches these filters' : 'No entries yet'} />
      ) : (
        <>
          <div className="table-scroll audit-scroll" aria-busy={audit.isFetching}>
            <table className="table table-compact table-flow audit-table">
              <caption className="visually-hidden">Audit entries, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">IP</th>
                  <th scope="col">
                    <span className="visually-hidden">Details</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {entries.map((entry) => (
                  <AuditRow key={entry.id} entry={entry} open={open === entry.id} onToggle={() => setOpen(open === entry.id ? null : entry.id)} />
                ))}
              </tbody>
            </table>
          </div>
          {audit.error ? <ErrorState error={audit.error} title="The next entries could not be loaded" /> : null}
          <div className="row audit-more">
            <span className="muted">
              {entries.length} {entries.length === 1 ? 'entry' : 'entries'} shown
            </span>
            {audit.hasNextPage ? (
              <button type="button" className="button" onClick={() => void audit.fetchNextPage()} disabled={audit.isFetchingNextPage}>
                {audit.isFetchingNextPage ? 'Loading…' : 'Load more'}
              </button>
            ) : (
              <span className="muted">End of the log</span>
            )}
          </div>
        </>
      )}
    </section>
  )
}

function AuditRow({ entry, open, onToggle }: { entry: AuditEntry; open: boolean; onToggle: () => void }) {
  const detailsId = `audit-${entry.id}`
  return (
    <>
      <tr data-audit-action={entry.action} className={open ? 'is-open' : undefined}>
        <td data-label="Time" className="nowrap">
          <time dateTime={new Date(entry.at).toISOString()}>{formatMillis(entry.at)}</time>
        </td>
        <td data-label="Actor">{entry.actor?.name ?? (entry.actor_id ? <code>{entry.actor_id}</code> : <span className="muted">anonymous</span>)}</td>
        <td data-label="Action">
          <code>{entry.action}</code>
        </td>
        <td data-label="Target" className="break">
          {entry.target_id ? (
            <>
              {entry.target_type ? <span className="muted">{entry.target_type} </span> : null}
              <code>{entry.target_id}</code>
            </>
          ) : (
            <span className="muted">—</span>
          )}
        </td>
        <td data-label="IP">{entry.ip ?? <span className="muted">—</span>}</td>
        <td className="actions">
          <button
            type="button"
            className="button button-small"
            aria-expanded={open}
            aria-controls={open ? detailsId : undefined}
            aria-label={`Details of ${entry.action} at ${formatMillis(entry.at)}`}
            onClick={onToggle}
          >
            {open ? 'Hide' : 'Details'}
          </button>
        </td>
      </tr>
      {open ? (
        <tr className="audit-details-row">
          <td colSpan={6} id={detailsId}>
            <div className="audit-details">
              <div>
                <h3>Before</h3>
                <pre tabIndex={0} aria-label="Before">
                  {entry.before === null || entry.before === undefined ? '—' : JSON.stringify(entry.before, null, 2)}
                </pre>
              </div>
              <div>
                <h3>After</h3>
                <pre tabIndex={0} aria-label="After">
                  {entry.after === null || entry.after === undefined ? '—' : JSON.stringify(entry.after, null, 2)}
                </pre>
              </div>
            </div>
            {entry.target_type === 'model' && entry.target_id ? (
              <p>
                <Link to={`/workspace/models/edit?id=${encodeURIComponent(entry.target_id)}&tab=history`}>History of {entry.target_id}</Link>
              </p>
            ) : null}
            <p className="hint">
              Entry <code>{entry.id}</code>
              {entry.request_id ? (
                <>
                  {' '}
                  · request <code>{entry.request_id}</code>
                </>
              ) : null}
            </p>
          </td>
        </tr>
      ) : null}
    </>
  )
}
