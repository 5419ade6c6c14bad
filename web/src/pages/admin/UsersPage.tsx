/** Admin › Users: search and page through accounts, change roles (approve pending ones), add, delete. */
import { useState, type FormEvent } from 'react'
import { addUser, deleteUser, describeError, listUsers, updateUser, type Role, type User } from '../../api/client'
import { ConfirmDialog, FormDialog } from '../../components/Dialog'
import { Pagination } from '../../components/Pagination'
import { Empty, ErrorState, InlineError, Loading } from '../../components/States'
import { formatDate } from '../../lib/format'
import { useDebounced, useResource } from '../../lib/hooks'
import { notify } from '../../lib/notify'
import { useSession, useUser } from '../../lib/session'

const PAGE_SIZE = 30
const ROLES: Role[] = ['pending', 'user', 'admin']

export function UsersPage() {
  const me = useUser()
  const { refresh } = useSession()
  const [text, setText] = useState('')
  const query = useDebounced(text.trim(), 300)
  const [roleFilter, setRoleFilter] = useState<Role | ''>('')
  const filterKey = `${query}\n${roleFilter}`
  const [paging, setPaging] = useState({ key: filterKey, page: 1 })
  const page = paging.key === filterKey ? paging.page : 1
  const users = useResource(() => listUsers({ query, role: roleFilter || undefined, page, limit: PAGE_SIZE }), [query, roleFilter, page])
  const [adding, setAdding] = useState(false)
  const [confirm, setConfirm] = useState<User | null>(null)
  const [deleting, setDeleting] = useState(false)
  const [busyId, setBusyId] = useState<string | null>(null)

  const changeRole = async (user: User, role: Role) => {
    setBusyId(user.id)
    try {
      const updated = await updateUser(user.id, { role })
      users.setData((current) => current && { ...current, users: current.users.map((u) => (u.id === user.id ? updated : u)) })
      notify(`${user.name} is now ${role}.`, 'success')
      if (user.id === me.id) await refresh()
    } catch (error) {
      notify(`Could not change the role of ${user.name}: ${describeError(error).detail}`, 'error')
    } finally {
      setBusyId(null)
    }
  }

  const remove = async () => {
    if (!confirm) return
    setDeleting(true)
    try {
      await deleteUser(confirm.id)
      notify(`Deleted ${confirm.name}. Their models now belong to you.`, 'success')
      setConfirm(null)
      users.reload()
    } catch (error) {
      notify(`Could not delete ${confirm.name}: ${describeError(error).detail}`, 'error')
    } finally {
      setDeleting(false)
    }
  }

  const data = users.data
  return (
    <section className="page">
      <div className="page-header">
        <h1 tabIndex={-1}>Users {data ? <span className="count">{data.total}</span> : null}</h1>
        <div className="page-actions">
          <button type="button" className="button button-primary" onClick={() => setAdding(true)}>
            Add user
          </button>
        </div>
      </div>
      <div className="filters" role="search" aria-label="Filter users">
        <div className="field field-grow">
          <label htmlFor="users-search">Search</label>
          <input id="users-search" type="search" placeholder="Name or email" value={text} onChange={(event) => setText(event.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="users-role">Role</label>
          <select id="users-role" value={roleFilter} onChange={(event) => setRoleFilter(event.target.value as Role | '')}>
            <option value="">All roles</option>
            {ROLES.map((role) => (
              <option key={role} value={role}>
                {role}
              </option>
            ))}
          </select>
        </div>
      </div>

      {users.error && !data ? (
        <ErrorState error={users.error} title="The users could not be loaded" onRetry={users.reload} />
      ) : !data ? (
        <Loading label="Loading users…" />
      ) : data.users.length === 0 ? (
        <Empty title={query || roleFilter ? 'No account matches' : 'No accounts'} />
      ) : (
        <div aria-busy={users.loading}>
          <table className="table">
            <caption className="visually-hidden">Accounts</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.users.map((user) => (
                <tr key={user.id} data-user-email={user.email}>
                  <td data-label="Name">
                    {user.name}
                    {user.id === me.id ? <span className="muted"> (you)</span> : null}
                  </td>
                  <td data-label="Email" className="break">
                    {user.email}
                  </td>
                  <td data-label="Role">
                    <select
                      aria-label={`Role of ${user.name}`}
                      value={user.role}
                      disabled={busyId === user.id}
                      onChange={(event) => void changeRole(user, event.target.value as Role)}
                    >
                      {ROLES.map((role) => (
                        <option key={role} value={role}>
                          {role}
                        </option>
                      ))}
                    </select>
                    {user.role === 'pending' ? <span className="badge badge-warning">waiting</span> : null}
                  </td>
                  <td data-label="Created">{formatDate(user.created_at)}</td>
                  <td className="actions">
                    <button
                      type="button"
                      className="button button-small button-danger-outline"
                      disabled={user.id === me.id}
                      title={user.id === me.id ? 'You cannot delete your own account' : undefined}
                      aria-label={`Delete ${user.name}`}
                      onClick={() => setConfirm(user)}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pagination page={page} pageSize={PAGE_SIZE} total={data.total} onPage={(next) => setPaging({ key: filterKey, page: next })} label="User pages" />
        </div>
      )}

      {adding ? (
        <AddUserDialog
          onClose={() => setAdding(false)}
          onAdded={(user) => {
            setAdding(false)
            notify(`Added ${user.name} (${user.role}).`, 'success')
            users.reload()
          }}
        />
      ) : null}
      {confirm ? (
        <ConfirmDialog title="Delete this account?" confirmLabel="Delete account" busy={deleting} onConfirm={remove} onCancel={() => setConfirm(null)}>
          <p>
            <strong>{confirm.name}</strong> ({confirm.email}) will be deleted and will no longer be able to sign in. The models they own will belong to you;
            their group memberships and grants are removed.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  )
}

function AddUserDialog({ onClose, onAdded }: { onClose: () => void; onAdded: (user: User) => void }) {
  const [name, setName] = useState('')
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [role, setRole] = useState<Role>('user')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setBusy(true)
    setError(null)
    try {
      onAdded(await addUser({ name: name.trim(), email: email.trim(), password, role }))
    } catch (failure) {
      setError(describeError(failure).detail)
      setBusy(false)
    }
  }

  return (
    <FormDialog title="Add user" onClose={onClose} onSubmit={(event) => void submit(event)} submitLabel="Add user" busyLabel="Adding…" busy={busy}>
      <div className="field">
        <label htmlFor="add-user-name">Name</label>
        <input id="add-user-name" required value={name} onChange={(event) => setName(event.target.value)} data-autofocus />
      </div>
      <div className="field">
        <label htmlFor="add-user-email">Email</label>
        <input id="add-user-email" type="email" required value={email} onChange={(event) => setEmail(event.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="add-user-password">Password</label>
        <input
          id="add-user-password"
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          aria-describedby="add-user-password-hint"
        />
        <p className="hint" id="add-user-password-hint">
          At least 8 characters. Tell the person; they sign in with it.
        </p>
      </div>
      <div className="field">
        <label htmlFor="add-user-role">Role</label>
        <select id="add-user-role" value={role} onChange={(event) => setRole(event.target.value as Role)}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </div>
      <InlineError>{error}</InlineError>
    </FormDialog>
  )
}
