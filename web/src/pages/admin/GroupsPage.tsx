/**
 * Admin › Groups: create, rename, describe, set the feature permissions a group grants, manage its
 * members, delete. Permission keys this page does not show (Open WebUI has many) are kept as they are.
 */
import { useState } from 'react'
import { useController, useForm, type Control } from 'react-hook-form'
import { zodResolver } from '@hookform/resolvers/zod'
import type { z } from 'zod'
import { describeError, type Group, type User } from '../../api/client'
import { ConfirmDialog, FormDialog } from '../../components/Dialog'
import { Empty, ErrorState, InlineError, Loading } from '../../components/States'
import { placeServerErrors } from '../../lib/forms'
import { useDebounced } from '../../lib/hooks'
import { notify } from '../../lib/notify'
import { useCreateGroup, useDeleteGroup, useGroupMembers, useGroups, useUpdateGroup, useUserList, useUserNames } from '../../lib/queries'
import { navigate, useLocation } from '../../lib/router'
import { GroupCreateSchema, GroupUpdateSchema } from '../../lib/schemas'
import type { Feature } from '../../lib/session'
import { managedText } from './groups'

const PERMISSIONS: { path: Feature; label: string; hint: string }[] = [
  { path: 'workspace.models', label: 'Create models', hint: 'workspace.models' },
  { path: 'workspace.models_import', label: 'Import models', hint: 'workspace.models_import' },
  { path: 'workspace.models_export', label: 'Export models', hint: 'workspace.models_export' },
  { path: 'sharing.models', label: 'Share models with groups and users', hint: 'sharing.models' },
  { path: 'sharing.public_models', label: 'Make models public', hint: 'sharing.public_models' },
]

const MEMBERS_SHOWN = 50

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

function permissionOf(tree: Record<string, unknown>, path: Feature): boolean {
  const [section, key] = path.split('.') as [string, string]
  const node = tree[section]
  return isRecord(node) && node[key] === true
}

function withPermission(tree: Record<string, unknown>, path: Feature, value: boolean): Record<string, unknown> {
  const [section, key] = path.split('.') as [string, string]
  const node = tree[section]
  return { ...tree, [section]: { ...(isRecord(node) ? node : {}), [key]: value } }
}

export function GroupsPage() {
  const { search } = useLocation()
  const selectedId = search.get('id')
  const groups = useGroups()
  const [creating, setCreating] = useState(false)
  const select = (id: string | null) => navigate(id ? `/admin/groups?id=${encodeURIComponent(id)}` : '/admin/groups', { replace: true })
  const selected = groups.data?.find((group) => group.id === selectedId) ?? null

  return (
    <section className="page">
      <div className="page-header">
        <h1 tabIndex={-1}>Groups {groups.data ? <span className="count">{groups.data.length}</span> : null}</h1>
        <div className="page-actions">
          <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
            New group
          </button>
        </div>
      </div>
      <p className="muted">
        Groups collect users. A model shared with a group is available to its members, and a group grants its members feature permissions.
      </p>

      {groups.error && !groups.data ? (
        <ErrorState error={groups.error} title="The groups could not be loaded" onRetry={() => void groups.refetch()} />
      ) : !groups.data ? (
        <Loading label="Loading groups…" />
      ) : groups.data.length === 0 ? (
        <Empty title="No groups yet">
          <p>Create a group, add users to it, and share models with it.</p>
        </Empty>
      ) : (
        <div className="split">
          <nav aria-label="Groups" className="split-list">
            <ul className="group-list">
              {groups.data.map((group) => (
                <li key={group.id}>
                  <button
                    type="button"
                    className={`group-item${group.id === selectedId ? ' is-selected' : ''}`}
                    aria-current={group.id === selectedId ? 'true' : undefined}
                    onClick={() => select(group.id)}
                  >
                    <span className="group-item-name">
                      {group.name}
                      <ManagedBadge by={group.managed_by} />
                    </span>
                    <span className="muted">
                      {group.member_count} member{group.member_count === 1 ? '' : 's'}
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          </nav>
          <div className="split-detail">
            {selected ? (
              <GroupDetail key={selected.id} group={selected} onDeleted={() => select(null)} />
            ) : selectedId ? (
              <Empty title="This group does not exist any more" />
            ) : (
              <Empty title="Choose a group">
                <p>Its details, permissions and members appear here.</p>
              </Empty>
            )}
          </div>
        </div>
      )}

      {creating ? (
        <CreateGroupDialog
          onClose={() => setCreating(false)}
          onCreated={(group) => {
            setCreating(false)
            notify(`Created group ${group.name}.`, 'success')
            select(group.id)
          }}
        />
      ) : null}
    </section>
  )
}

type GroupValues = z.input<typeof GroupUpdateSchema>
type GroupPatch = z.output<typeof GroupUpdateSchema>

function GroupDetail({ group, onDeleted }: { group: Group; onDeleted: () => void }) {
  const update = useUpdateGroup()
  const removeGroup = useDeleteGroup()
  const form = useForm<GroupValues, unknown, GroupPatch>({
    defaultValues: { name: group.name, description: group.description, permissions: group.permissions },
    resolver: zodResolver(GroupUpdateSchema),
  })
  const { errors, isDirty } = form.formState
  const [error, setError] = useState<string | null>(null)
  const [confirm, setConfirm] = useState(false)

  const save = async (patch: GroupPatch) => {
    setError(null)
    try {
      const updated = await update.mutateAsync({ id: group.id, patch })
      form.reset({ name: updated.name, description: updated.description, permissions: updated.permissions })
      notify(`Saved group ${updated.name}.`, 'success')
    } catch (failure) {
      if (!placeServerErrors(failure, form.setError, ['name', 'description', 'permissions'])) setError(describeError(failure).detail)
    }
  }

  const remove = async () => {
    try {
      await removeGroup.mutateAsync(group.id)
      notify(`Deleted group ${group.name}.`, 'success')
      setConfirm(false)
      onDeleted()
    } catch (failure) {
      notify(`Could not delete ${group.name}: ${describeError(failure).detail}`, 'error')
    }
  }

  return (
    <article className="panel" aria-labelledby="group-title">
      <div className="row row-between">
        <h2 id="group-title">
          {group.name} <ManagedBadge by={group.managed_by} />
        </h2>
        <button type="button" className="button button-small button-danger-outline" onClick={() => setConfirm(true)}>
          Delete group
        </button>
      </div>
      <form className="form" onSubmit={(event) => void form.handleSubmit(save)(event)}>
        <div className="field">
          <label htmlFor="group-name">Name</label>
          <input
            id="group-name"
            required
            readOnly={group.managed_by !== null}
            aria-invalid={errors.name ? true : undefined}
            aria-describedby={[errors.name ? 'group-name-error' : '', group.managed_by ? 'group-managed-hint' : ''].filter(Boolean).join(' ') || undefined}
            {...form.register('name')}
          />
          {group.managed_by ? (
            <p className="hint" id="group-managed-hint">
              {managedText(group.managed_by)?.nameHint}
            </p>
          ) : null}
          <InlineError id="group-name-error">{errors.name?.message}</InlineError>
        </div>
        <div className="field">
          <label htmlFor="group-description">Description</label>
          <textarea
            id="group-description"
            rows={2}
            aria-invalid={errors.description ? true : undefined}
            aria-describedby={errors.description ? 'group-description-error' : undefined}
            {...form.register('description')}
          />
          <InlineError id="group-description-error">{errors.description?.message}</InlineError>
        </div>
        <PermissionsField control={form.control} />
        <InlineError>{error}</InlineError>
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={update.isPending || !isDirty}>
            {update.isPending ? 'Saving…' : 'Save group'}
          </button>
        </div>
      </form>
      <Members group={group} />
      {confirm ? (
        <ConfirmDialog
          title="Delete this group?"
          confirmLabel="Delete group"
          busy={removeGroup.isPending}
          onConfirm={remove}
          onCancel={() => setConfirm(false)}
        >
          <p>
            <strong>{group.name}</strong> will be deleted with its {group.member_count} membership{group.member_count === 1 ? '' : 's'} and every model grant
            that names it. The accounts themselves stay.
          </p>
        </ConfirmDialog>
      ) : null}
    </article>
  )
}

/** The five permissions the page shows, edited inside the whole tree (keys it does not show are kept). */
function PermissionsField({ control }: { control: Control<GroupValues, unknown, GroupPatch> }) {
  const { field, fieldState } = useController({ control, name: 'permissions' })
  const tree: Record<string, unknown> = field.value ?? {}
  return (
    <fieldset className="fieldset">
      <legend>Permissions of the members</legend>
      {PERMISSIONS.map((permission) => (
        <label key={permission.path} className="checkbox">
          <input
            type="checkbox"
            checked={permissionOf(tree, permission.path)}
            onChange={(event) => field.onChange(withPermission(tree, permission.path, event.target.checked))}
          />
          <span>
            {permission.label} <code className="hint-code">{permission.hint}</code>
          </span>
        </label>
      ))}
      <p className="hint">A member has a permission when any of their groups grants it (or the server's default does).</p>
      <InlineError>{fieldState.error?.message}</InlineError>
    </fieldset>
  )
}

/** A group whose members an identity provider keeps (`managed_by`: SSO or SCIM): shown, never edited by hand here. */
function ManagedBadge({ by }: { by: Group['managed_by'] }) {
  const text = managedText(by)
  if (!text) return null
  return (
    <span className="badge badge-accent" title={text.title} data-managed-by={by}>
      {text.badge}
    </span>
  )
}

function Members({ group }: { group: Group }) {
  const [showAll, setShowAll] = useState(false)
  const members = useGroupMembers()
  const busy = members.isPending ? (members.variables.add?.[0] ?? members.variables.remove?.[0] ?? null) : null
  const shown = showAll ? group.user_ids : group.user_ids.slice(0, MEMBERS_SHOWN)
  const accounts = useUserNames(shown, true)
  // undefined while loading, null when the account cannot be read.
  const accountOf = (index: number): User | null | undefined => {
    const result = accounts[index]
    return result?.data ?? (result?.isError ? null : undefined)
  }

  const add = async (user: User) => {
    try {
      await members.mutateAsync({ id: group.id, add: [user.id] })
      notify(`Added ${user.name} to ${group.name}.`, 'success')
    } catch (failure) {
      notify(`Could not add ${user.name}: ${describeError(failure).detail}`, 'error')
    }
  }

  const remove = async (id: string, label: string) => {
    try {
      await members.mutateAsync({ id: group.id, remove: [id] })
      notify(`Removed ${label} from ${group.name}.`, 'success')
    } catch (failure) {
      notify(`Could not remove ${label}: ${describeError(failure).detail}`, 'error')
    }
  }

  return (
    <section className="members" aria-labelledby="members-title">
      <h3 id="members-title">
        Members <span className="count">{group.member_count}</span>
      </h3>
      {group.user_ids.length === 0 ? <p className="muted">No members yet.</p> : null}
      <ul className="member-list" aria-label={`Members of ${group.name}`}>
        {shown.map((id, index) => {
          const user = accountOf(index)
          const label = user ? user.name : user === null ? `Unknown account ${id}` : 'Loading…'
          return (
            <li key={id}>
              <span>
                {label} {user ? <span className="muted">{user.email}</span> : null}
              </span>
              {group.managed_by ? null : (
                <button
                  type="button"
                  className="button button-small"
                  disabled={busy === id}
                  aria-label={`Remove ${user?.name ?? id} from the group`}
                  onClick={() => void remove(id, user?.name ?? id)}
                >
                  Remove
                </button>
              )}
            </li>
          )
        })}
      </ul>
      {!showAll && group.user_ids.length > MEMBERS_SHOWN ? (
        <button type="button" className="button button-small" onClick={() => setShowAll(true)}>
          Show all {group.user_ids.length} members
        </button>
      ) : null}
      {group.managed_by ? (
        <p className="muted">{managedText(group.managed_by)?.membersHint}</p>
      ) : (
        <MemberPicker exclude={group.user_ids} busy={busy} onAdd={(user) => void add(user)} />
      )}
    </section>
  )
}

function MemberPicker({ exclude, busy, onAdd }: { exclude: string[]; busy: string | null; onAdd: (user: User) => void }) {
  const [text, setText] = useState('')
  const query = useDebounced(text.trim(), 300)
  const results = useUserList({ query, limit: 8 })
  const found = (results.data?.users ?? []).filter((user) => !exclude.includes(user.id))
  return (
    <div className="user-picker">
      <label htmlFor="member-search">Add members</label>
      <input id="member-search" type="search" placeholder="Search by name or email" value={text} onChange={(event) => setText(event.target.value)} />
      {results.isPending ? (
        <Loading label="Searching…" />
      ) : results.error ? (
        <InlineError>{describeError(results.error).detail}</InlineError>
      ) : found.length === 0 ? (
        <p className="muted">{query ? `No other account matches “${query}”.` : 'Every account is already a member.'}</p>
      ) : (
        <ul className="pick-list" aria-label="Accounts to add">
          {found.map((user) => (
            <li key={user.id}>
              <span>
                {user.name} <span className="muted">{user.email}</span>
                {user.role === 'pending' ? <span className="badge badge-warning">pending</span> : null}
              </span>
              <button
                type="button"
                className="button button-small"
                disabled={busy === user.id}
                aria-label={`Add ${user.name} to the group`}
                onClick={() => onAdd(user)}
              >
                Add
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}

function CreateGroupDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (group: Group) => void }) {
  const create = useCreateGroup()
  const [error, setError] = useState<string | null>(null)
  const form = useForm<z.input<typeof GroupCreateSchema>, unknown, z.output<typeof GroupCreateSchema>>({
    defaultValues: { name: '', description: '' },
    resolver: zodResolver(GroupCreateSchema),
  })
  const { errors } = form.formState

  const submit = async (input: z.output<typeof GroupCreateSchema>) => {
    setError(null)
    try {
      onCreated(await create.mutateAsync(input))
    } catch (failure) {
      if (!placeServerErrors(failure, form.setError, ['name', 'description'])) setError(describeError(failure).detail)
    }
  }

  return (
    <FormDialog
      title="New group"
      onClose={onClose}
      onSubmit={(event) => void form.handleSubmit(submit)(event)}
      submitLabel="Create group"
      busyLabel="Creating…"
      busy={create.isPending}
    >
      <div className="field">
        <label htmlFor="new-group-name">Name</label>
        <input
          id="new-group-name"
          required
          aria-invalid={errors.name ? true : undefined}
          aria-describedby={errors.name ? 'new-group-name-error' : undefined}
          {...form.register('name')}
          data-autofocus
        />
        <InlineError id="new-group-name-error">{errors.name?.message}</InlineError>
      </div>
      <div className="field">
        <label htmlFor="new-group-description">Description</label>
        <textarea
          id="new-group-description"
          rows={2}
          aria-invalid={errors.description ? true : undefined}
          aria-describedby={errors.description ? 'new-group-description-error' : undefined}
          {...form.register('description')}
        />
        <InlineError id="new-group-description-error">{errors.description?.message}</InlineError>
      </div>
      <p className="hint">Permissions and members are set after the group is created.</p>
      <InlineError>{error}</InlineError>
    </FormDialog>
  )
}
