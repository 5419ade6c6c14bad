/**
 * The History tab of the model editor: the model's versions (newest first: number, who, when, action,
 * source), any two of them compared side by side, and Restore of a version after a confirmation. A
 * restore is a new version made by the server with the same checks as an update; the editor then shows
 * the restored content.
 */
import { useState } from 'react'
import { currentVersionOf, describeError, type HistoryItem, type Model } from '../../api/client'
import { ConfirmDialog } from '../../components/Dialog'
import { Pagination } from '../../components/Pagination'
import { Empty, ErrorState, Loading } from '../../components/States'
import { formatDate } from '../../lib/format'
import { notify } from '../../lib/notify'
import { useModelHistory, useRestoreVersion, useVersionDiff } from '../../lib/queries'
import { DiffTable } from './DiffTable'
import { actionLabel, nextPicks } from './versions'

const PAGE_SIZE = 20

export function HistoryPanel({ modelId, modelName, onRestored }: { modelId: string; modelName: string; onRestored: (model: Model, from: number) => void }) {
  const [page, setPage] = useState(1)
  const history = useModelHistory(modelId, page, PAGE_SIZE)
  // The newest version is on page 1 (the same query when page 1 is shown): restoring names it in If-Match.
  const first = useModelHistory(modelId, 1, PAGE_SIZE)
  const latest = first.data?.items[0]?.version
  const [picked, setPicked] = useState<number[] | null>(null)
  const [confirm, setConfirm] = useState<HistoryItem | null>(null)
  const restore = useRestoreVersion()

  // Until two versions are picked, the two newest are compared.
  const newest = first.data?.items.slice(0, 2).map((item) => item.version) ?? []
  const compared = picked ?? (newest.length === 2 ? newest : [])
  const from = compared.length === 2 ? Math.min(...compared) : undefined
  const to = compared.length === 2 ? Math.max(...compared) : undefined
  const diff = useVersionDiff(modelId, from, to)

  const togglePick = (version: number) => setPicked(nextPicks(picked ?? compared, version))

  const doRestore = async () => {
    if (!confirm) return
    try {
      const model = await restore.mutateAsync({ id: modelId, version: confirm.version, ifMatch: latest })
      notify(`Restored version ${confirm.version} of ${modelName} as version ${model.version}.`, 'success')
      setConfirm(null)
      setPicked(null)
      onRestored(model, confirm.version)
    } catch (error) {
      setConfirm(null)
      if (currentVersionOf(error) !== undefined) {
        notify('The model changed while you were looking: the list shows its versions now. Try again.', 'error')
        void first.refetch()
        void history.refetch()
      } else {
        notify(`Could not restore version ${confirm.version}: ${describeError(error).detail}`, 'error')
      }
    }
  }

  const data = history.data
  if (history.error && !data) return <ErrorState error={history.error} title="The history could not be loaded" onRetry={() => void history.refetch()} />
  if (!data) return <Loading label="Loading the history…" />
  if (data.total === 0) return <Empty title="No versions recorded yet">Every change from now on is recorded here.</Empty>

  return (
    <div className="history">
      <p className="hint">Tick two versions to compare them. Restoring a version makes its content and access the current ones, as a new version.</p>
      <div className="table-scroll" aria-busy={history.isFetching}>
        <table className="table table-flow history-table">
          <caption className="visually-hidden">Versions of {modelName}</caption>
          <thead>
            <tr>
              <th scope="col">
                <span className="visually-hidden">Compare</span>
              </th>
              <th scope="col">Version</th>
              <th scope="col">Who</th>
              <th scope="col">When</th>
              <th scope="col">Action</th>
              <th scope="col">Source</th>
              <th scope="col">
                <span className="visually-hidden">Restore</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.items.map((item) => (
              <tr key={item.version} data-version={item.version} className={compared.includes(item.version) ? 'is-picked' : undefined}>
                <td className="history-pick">
                  <label className="checkbox">
                    <input type="checkbox" checked={compared.includes(item.version)} onChange={() => togglePick(item.version)} />
                    <span className="visually-hidden">Compare version {item.version}</span>
                  </label>
                </td>
                <td data-label="Version">
                  <strong>{item.version}</strong>
                  {item.version === latest ? <span className="badge badge-success">current</span> : null}
                </td>
                <td data-label="Who">{item.user?.name ?? (item.user_id ? <code>{item.user_id}</code> : <span className="muted">system</span>)}</td>
                <td data-label="When">{formatDate(item.created_at)}</td>
                <td data-label="Action">{actionLabel(item.action)}</td>
                <td data-label="Source">{item.source}</td>
                <td className="actions">
                  {item.version !== latest && item.action !== 'delete' ? (
                    <button type="button" className="button button-small" aria-label={`Restore version ${item.version}`} onClick={() => setConfirm(item)}>
                      Restore
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pagination page={page} pageSize={PAGE_SIZE} total={data.total} onPage={setPage} label="Version pages" />

      <section className="history-diff" aria-labelledby="history-diff-title">
        <h2 id="history-diff-title">{from !== undefined && to !== undefined ? `Changes from version ${from} to version ${to}` : 'Compare versions'}</h2>
        {from === undefined || to === undefined ? (
          <p className="muted">Tick two versions to see what changed between them.</p>
        ) : diff.error ? (
          <ErrorState error={diff.error} title="The versions could not be compared" />
        ) : !diff.data ? (
          <Loading label="Comparing…" />
        ) : (
          <DiffTable
            changes={diff.data.changes}
            fromLabel={`Version ${from}`}
            toLabel={`Version ${to}`}
            caption={`Changes from version ${from} to version ${to}`}
          />
        )}
      </section>

      {confirm ? (
        <ConfirmDialog
          title={`Restore version ${confirm.version}?`}
          confirmLabel="Restore"
          danger={false}
          busy={restore.isPending}
          onConfirm={doRestore}
          onCancel={() => setConfirm(null)}
        >
          <p>
            <strong>{modelName}</strong> gets the content and access of version {confirm.version} ({formatDate(confirm.created_at)}), recorded as a new version.
            Unsaved edits in the editor are discarded.
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  )
}
