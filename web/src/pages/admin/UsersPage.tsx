/** Admin › Users: search and page through accounts, change roles (approve pending ones), add, delete. */
import { useState } from 'react'
import { useForm } from 'react-hook-form'
import { zodResolver } from '@hookform/resolvers/zod'
import type { z } from 'zod'
import { describeError, type Role, type User } from '../../api/client'
import { ConfirmDialog, FormDialog } from '../../components/Dialog'
import { Pagination } from '../../components/Pagination'
import { Empty, ErrorState, InlineError, Loading } from '../../components/States'
import { formatDate } from '../../lib/format'
import { placeServerErrors } from '../../lib/forms'
import { useDebounced } from '../../lib/hooks'
import { notify } from '../../lib/notify'
import { useAddUser, useDeleteUser, useUpdateUser, useUserList } from '../../lib/queries'
import { AddUserSchema } from '../../lib/schemas'
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
  const users = useUserList({ query, role: roleFilter || undefined, page, limit: PAGE_SIZE })
  const update = useUpdateUser()
  const removeUser = useDeleteUser()
  const [adding, setAdding] = useState(false)
  const [confirm, setConfirm] = useState<User | null>(null)
  const busyId = update.isPending ? update.variables.id : null

  const changeRole = async (user: User, role: Role) => {
    try {
      await update.mutateAsync({ id: user.id, patch: { role } })
      notify(`${user.name} is now ${role}.`, 'success')
      if (user.id === me.id) await refresh()
    } catch (error) {
      notify(`Could not change the role of ${user.name}: ${describeError(error).detail}`, 'error')
    }
  }

  const remove = async () => {
    if (!confirm) return
    try {
      await removeUser.mutateAsync(confirm.id)
      notify(`Deleted ${confirm.name}. Their models now belong to you.`, 'success')
      setConfirm(null)
    } catch (error) {
      notify(`Could not delete ${confirm.name}: ${describeError(error).detail}`, 'error')
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
        <ErrorState error={users.error} title="The users could not be loaded" onRetry={() => void users.refetch()} />
      ) : !data ? (
        <Loading label="Loading users…" />
      ) : data.users.length === 0 ? (
        <Empty title={query || roleFilter ? 'No account matches' : 'No accounts'} />
      ) : (
        <div aria-busy={users.isFetching}>
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
          }}
        />
      ) : null}
      {confirm ? (
        <ConfirmDialog
          title="Delete this account?"
          confirmLabel="Delete account"
          busy={removeUser.isPending}
          onConfirm={remove}
          onCancel={() => setConfirm(null)}
        >
          <p>
            <strong>{confirm.name}</strong> ({confirm.email}) will be deleted and will no longer be able to sign in. The models they own will belong to you;
            their group memberships and grants are removed.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  )
}

type AddUserValues = z.input<typeof AddUserSchema>

function AddUserDialog({ onClose, onAdded }: { onClose: () => void; onAdded: (user: User) => void }) {
  const add = useAddUser()
  const [error, setError] = useState<string | null>(null)
  const form = useForm<AddUserValues, unknown, z.output<typeof AddUserSchema>>({
    defaultValues: { name: '', email: '', password: '', role: 'user' },
    resolver: zodResolver(AddUserSchema),
  })
  const { errors } = form.formState

  const submit = async (input: z.output<typeof AddUserSchema>) => {
    setError(null)
    try {
      onAdded(await add.mutateAsync(input))
    } catch (failure) {
      if (!placeServerErrors(failure, form.setError, ['name', 'email', 'password', 'role'])) setError(describeError(failure).detail)
    }
  }

  const invalid = (name: keyof AddUserValues) => (errors[name] ? { 'aria-invalid': true as const, 'aria-describedby': `add-user-${name}-error` } : {})
  return (
    <FormDialog
      title="Add user"
      onClose={onClose}
      onSubmit={(event) => void form.handleSubmit(submit)(event)}
      submitLabel="Add user"
      busyLabel="Adding…"
      busy={add.isPending}
    >
      <div className="field">
        <label htmlFor="add-user-name">Name</label>
        <input id="add-user-name" required {...invalid('name')} {...form.register('name')} data-autofocus />
        <InlineError id="add-user-name-error">{errors.name?.message}</InlineError>
      </div>
      <div className="field">
        <label htmlFor="add-user-email">Email</label>
        <input id="add-user-email" type="email" required {...invalid('email')} {...form.register('email')} />
        <InlineError id="add-user-email-error">{errors.email?.message}</InlineError>
      </div>
      <div className="field">
        <label htmlFor="add-user-password">Password</label>
        <input
          id="add-user-password"
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          aria-describedby="add-user-password-hint"
          {...invalid('password')}
          {...form.register('password')}
        />
        <p className="hint" id="add-user-password-hint">
          At least 8 characters. Tell the person; they sign in with it.
        </p>
        <InlineError id="add-user-password-error">{errors.password?.message}</InlineError>
      </div>
      <div className="field">
        <label htmlFor="add-user-role">Role</label>
        <select id="add-user-role" {...form.register('role')}>
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
