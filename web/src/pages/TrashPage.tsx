/**
 * Deleted models that can come back (`GET /api/v1/models/trash`): administrators see every one, others
 * the ones they owned. Restore puts a model back with its last content and access, as a new version
 * (refused with 409 when its id has been taken since).
 */
import { useState } from 'react'
import { describeError, type TrashItem } from '../api/client'
import { ConfirmDialog } from '../components/Dialog'
import { Pagination } from '../components/Pagination'
import { Empty, ErrorState, Loading } from '../components/States'
import { formatDate } from '../lib/format'
import { notify } from '../lib/notify'
import { useRestoreVersion, useTrash, useUserNames } from '../lib/queries'
import { Link } from '../lib/router'
import { useUser } from '../lib/session'

const PAGE_SIZE = 30

export function TrashPage() {
  const me = useUser()
  const isAdmin = me.role === 'admin'
  const [page, setPage] = useState(1)
  const trash = useTrash(page, PAGE_SIZE)
  const restore = useRestoreVersion()
  const [confirm, setConfirm] = useState<TrashItem | null>(null)
  const [restored, setRestored] = useState<{ id: string; name: string } | null>(null)

  // Admins may read accounts: names instead of ids for owners and deleters.
  const data = trash.data
  const ids = [...new Set((data?.items ?? []).flatMap((item) => [item.user_id, item.deleted_by ?? '']).filter(Boolean))]
  const found = useUserNames(ids, isAdmin)
  const nameOf = (id: string | null) => {
    if (!id) return <span className="muted">system</span>
    if (id === me.id) return 'you'
    const known = found[ids.indexOf(id)]?.data
    return known ? known.name : <code>{id}</code>
  }

  const doRestore = async () => {
    if (!confirm) return
    try {
      const model = await restore.mutateAsync({ id: confirm.id })
      notify(`Restored ${model.name}.`, 'success')
      setRestored({ id: model.id, name: model.name })
    } catch (error) {
      notify(`Could not restore ${confirm.name}: ${describeError(error).detail}`, 'error')
    } finally {
      setConfirm(null)
    }
  }

  return (
    <section className="page">
      <div className="page-header">
        <h1 tabIndex={-1}>Trash {data ? <span className="count">{data.total}</span> : null}</h1>
      </div>
      <p className="hint">
        {isAdmin ? 'Every deleted model whose history is kept.' : 'The models you owned that were deleted.'} Restoring brings back its last content and access.
      </p>
      {restored ? (
        <p className="success-text" role="status">
          {restored.name} is back. <Link to={`/workspace/models/edit?id=${encodeURIComponent(restored.id)}`}>Open it</Link>
        </p>
      ) : null}

      {trash.error && !data ? (
        <ErrorState error={trash.error} title="The trash could not be loaded" onRetry={() => void trash.refetch()} />
      ) : !data ? (
        <Loading label="Loading the trash…" />
      ) : data.items.length === 0 ? (
        <Empty title="The trash is empty" />
      ) : (
        <div aria-busy={trash.isFetching}>
          <table className="table">
            <caption className="visually-hidden">Deleted models</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Id</th>
                {isAdmin ? <th scope="col">Owner</th> : null}
                <th scope="col">Deleted</th>
                <th scope="col">Deleted by</th>
                <th scope="col">
                  <span className="visually-hidden">Restore</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((item) => (
                <tr key={item.id} data-trash-id={item.id}>
                  <td data-label="Name">{item.name}</td>
                  <td data-label="Id" className="break">
                    <code>{item.id}</code>
                  </td>
                  {isAdmin ? <td data-label="Owner">{nameOf(item.user_id)}</td> : null}
                  <td data-label="Deleted">{formatDate(item.deleted_at)}</td>
                  <td data-label="Deleted by">{nameOf(item.deleted_by)}</td>
                  <td className="actions">
                    <button type="button" className="button button-small" aria-label={`Restore ${item.name}`} onClick={() => setConfirm(item)}>
                      Restore
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pagination page={page} pageSize={PAGE_SIZE} total={data.total} onPage={setPage} label="Trash pages" />
        </div>
      )}

      {confirm ? (
        <ConfirmDialog
          title="Restore this model?"
          confirmLabel="Restore"
          danger={false}
          busy={restore.isPending}
          onConfirm={doRestore}
          onCancel={() => setConfirm(null)}
        >
          <p>
            <strong>{confirm.name}</strong> (<code>{confirm.id}</code>) comes back as it was when it was deleted ({formatDate(confirm.deleted_at)}), with its
            access.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  )
}
