/**
 * Who may use and edit a model. Private or public, plus groups and users with read or write. Admins
 * pick groups and users from the server's lists; other accounts cannot list them, so they see the ids
 * already granted (and may add one by id when they may share). In the editor of an existing model the
 * dialog saves at once and says what the server answered; while creating, it fills the form.
 */
import { useId, useState } from 'react'
import { currentVersionOf, describeError, type GrantInput, type Group, type ModelAbilities, type PrincipalType, type User } from '../api/client'
import { Dialog } from '../components/Dialog'
import { InlineError, Loading } from '../components/States'
import { describeAccess, draftFromGrants, grantsFromDraft, isPublic, type AccessDraft, type AccessEntry, type PublicLevel } from '../lib/access'
import { useDebounced } from '../lib/hooks'
import { useGroups, useUpdateModelAccess, useUserList, useUserNames } from '../lib/queries'
import { can as hasFeature, useUser } from '../lib/session'

interface AccessDialogProps {
  grants: GrantInput[]
  /** Set when editing an existing model: changes are saved right away. */
  modelId?: string
  /** The server's abilities on the model being edited (`can`); absent while creating. */
  can?: ModelAbilities
  modelName: string
  onApply: (grants: GrantInput[]) => void
  onClose: () => void
  /** The model version the editor loaded: sent as If-Match when saving (412 if it changed since). */
  version?: number | undefined
  /** The version the save answered (the next If-Match). */
  onVersion?: ((version: number) => void) | undefined
  /** A save refused with 412: the editor shows what changed and may call `again` with the current version. */
  onConflict?: ((current: number, again: (ifMatch: number) => Promise<void>) => void) | undefined
  /** Another title and line under it (the template editor edits access that is not a model's). */
  title?: string | undefined
  description?: string | undefined
}

export function AccessDialog({ grants, modelId, can, modelName, onApply, onClose, version, onVersion, onConflict, title, description }: AccessDialogProps) {
  const user = useUser()
  // Only admins may list groups and users (admin routes): this picks the picker, it grants nothing.
  const isAdmin = user.role === 'admin'
  const [draft, setDraft] = useState<AccessDraft>(() => draftFromGrants(grants))
  const [error, setError] = useState<string | null>(null)
  const [saved, setSaved] = useState<string | null>(null)
  const saveAccess = useUpdateModelAccess()
  // Whether the caller may change who has access at all is the server's answer (`can.share`). While
  // creating there is no model to ask yet: the caller will own it, so the sharing permissions decide.
  // `can.share` does not say WHICH sharing (groups and users: sharing.models; everyone:
  // sharing.public_models), so that split still reads the session's permissions.
  const mayShare = can ? can.share : hasFeature(user, 'sharing.models') || hasFeature(user, 'sharing.public_models')
  const wasPublic = isPublic(grants)
  const canPublic = (mayShare && hasFeature(user, 'sharing.public_models')) || wasPublic
  const canShare = mayShare && hasFeature(user, 'sharing.models')
  const visibilityName = useId()

  const groups = useGroups(isAdmin)
  const [userNames, setUserNames] = useState<Record<string, string>>({})

  // Admins see names instead of ids for the users already granted.
  const userIds = draft.entries.filter((entry) => entry.principal_type === 'user').map((entry) => entry.principal_id)
  const found = useUserNames(userIds, isAdmin)
  const nameOf = (id: string, index: number) => {
    const known = found[index]?.data
    return userNames[id] ?? (known ? `${known.name} (${known.email})` : id)
  }

  const change = (next: AccessDraft) => {
    setDraft(next)
    setSaved(null)
    setError(null)
  }
  const setPublic = (publicLevel: PublicLevel) => change({ ...draft, publicLevel })
  const setEntry = (target: AccessEntry, permission: AccessEntry['permission']) =>
    change({ ...draft, entries: draft.entries.map((entry) => (entry === target ? { ...entry, permission } : entry)) })
  const removeEntry = (target: AccessEntry) => change({ ...draft, entries: draft.entries.filter((entry) => entry !== target) })
  const addEntry = (principal_type: PrincipalType, principal_id: string, label?: string) => {
    if (draft.entries.some((entry) => entry.principal_type === principal_type && entry.principal_id === principal_id)) return
    if (label && principal_type === 'user') setUserNames((names) => ({ ...names, [principal_id]: label }))
    change({ ...draft, entries: [...draft.entries, { principal_type, principal_id, permission: 'read' }] })
  }

  const groupName = (id: string) => groups.data?.find((group) => group.id === id)?.name ?? id
  const groupEntries = draft.entries.filter((entry) => entry.principal_type === 'group')
  const userEntries = draft.entries.filter((entry) => entry.principal_type === 'user')

  const save = async () => {
    const next = grantsFromDraft(draft)
    if (!modelId) {
      onApply(next)
      onClose()
      return
    }
    setError(null)
    setSaved(null)
    const send = async (ifMatch: number | undefined) => {
      const model = await saveAccess.mutateAsync({ id: modelId, grants: next, ifMatch })
      onApply(model.access_grants)
      onVersion?.(model.version)
      setDraft(draftFromGrants(model.access_grants))
      const summary = describeAccess(model.access_grants)
      setSaved(`Access saved. ${modelName} is now: ${summary}.`)
    }
    try {
      await send(version)
    } catch (failure) {
      const current = currentVersionOf(failure)
      if (current !== undefined && onConflict) {
        setError(`Not saved: the model changed since you opened it (now version ${current}).`)
        onConflict(current, async (ifMatch) => {
          setError(null)
          await send(ifMatch)
        })
        return
      }
      const { detail, code } = describeError(failure)
      setError(`${detail} (${code})`)
    }
  }
  const busy = saveAccess.isPending

  return (
    <Dialog
      title={title ?? `Access to ${modelName || 'this model'}`}
      size="large"
      onClose={onClose}
      description={description ?? (modelId ? 'Changes are saved when you press Save access.' : 'Access is saved with the model when you create it.')}
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            {saved ? 'Done' : 'Cancel'}
          </button>
          <button type="button" className="button button-primary" disabled={busy} onClick={() => void save()}>
            {busy ? 'Saving…' : modelId ? 'Save access' : 'Apply'}
          </button>
        </>
      }
    >
      <div className="access">
        <fieldset className="fieldset">
          <legend>Visibility</legend>
          <label className="radio">
            <input type="radio" name={visibilityName} checked={draft.publicLevel === 'none'} onChange={() => setPublic('none')} />
            <span>
              <strong>Private</strong>
              <span className="hint">Only you, administrators and the groups and users below.</span>
            </span>
          </label>
          {canPublic ? (
            <label className="radio">
              <input type="radio" name={visibilityName} checked={draft.publicLevel !== 'none'} onChange={() => setPublic('read')} />
              <span>
                <strong>Public</strong>
                <span className="hint">Every signed-in user can use it.</span>
              </span>
            </label>
          ) : (
            <p className="hint">Making a model public needs the “sharing.public_models” permission.</p>
          )}
          {canPublic && draft.publicLevel !== 'none' ? (
            <label className="checkbox indent">
              <input type="checkbox" checked={draft.publicLevel === 'write'} onChange={(event) => setPublic(event.target.checked ? 'write' : 'read')} />
              Everyone may also edit it (public write)
            </label>
          ) : null}
        </fieldset>

        {!canShare ? <p className="hint">Adding groups or users needs the “sharing.models” permission; you may still remove grants.</p> : null}

        <section className="access-section" aria-labelledby="access-groups">
          <h3 id="access-groups">Groups</h3>
          {groupEntries.length === 0 ? <p className="muted">No group has access.</p> : null}
          <ul className="grant-list">
            {groupEntries.map((entry) => (
              <GrantRow
                key={`g:${entry.principal_id}`}
                entry={entry}
                label={isAdmin ? groupName(entry.principal_id) : entry.principal_id}
                kind="group"
                onPermission={(p) => setEntry(entry, p)}
                onRemove={() => removeEntry(entry)}
              />
            ))}
          </ul>
          {canShare ? (
            isAdmin ? (
              groups.isPending ? (
                <Loading label="Loading groups…" />
              ) : groups.error ? (
                <InlineError>Groups could not be loaded: {describeError(groups.error).detail}</InlineError>
              ) : (
                <GroupPicker
                  groups={(groups.data ?? []).filter((group) => !groupEntries.some((entry) => entry.principal_id === group.id))}
                  onAdd={(id) => addEntry('group', id)}
                />
              )
            ) : (
              <AddById kind="group" onAdd={(id) => addEntry('group', id)} />
            )
          ) : null}
        </section>

        <section className="access-section" aria-labelledby="access-users">
          <h3 id="access-users">Users</h3>
          {userEntries.length === 0 ? <p className="muted">No individual user has access.</p> : null}
          <ul className="grant-list">
            {userEntries.map((entry, index) => (
              <GrantRow
                key={`u:${entry.principal_id}`}
                entry={entry}
                label={nameOf(entry.principal_id, index)}
                kind="user"
                onPermission={(p) => setEntry(entry, p)}
                onRemove={() => removeEntry(entry)}
              />
            ))}
          </ul>
          {canShare ? (
            isAdmin ? (
              <UserPicker
                exclude={userEntries.map((entry) => entry.principal_id)}
                onAdd={(found) => addEntry('user', found.id, `${found.name} (${found.email})`)}
              />
            ) : (
              <AddById kind="user" onAdd={(id) => addEntry('user', id)} />
            )
          ) : null}
        </section>

        <InlineError>{error}</InlineError>
        <p role="status" className={saved ? 'success-text' : 'visually-hidden'}>
          {saved ?? ''}
        </p>
      </div>
    </Dialog>
  )
}

function GrantRow({
  entry,
  label,
  kind,
  onPermission,
  onRemove,
}: {
  entry: AccessEntry
  label: string
  kind: 'group' | 'user'
  onPermission: (p: AccessEntry['permission']) => void
  onRemove: () => void
}) {
  return (
    <li className="grant-row">
      <span className="grant-name" title={entry.principal_id}>
        {label}
      </span>
      <select
        aria-label={`Permission for ${kind} ${label}`}
        value={entry.permission}
        onChange={(event) => onPermission(event.target.value as AccessEntry['permission'])}
      >
        <option value="read">Can use (read)</option>
        <option value="write">Can edit (write)</option>
      </select>
      <button type="button" className="button button-small" aria-label={`Remove ${kind} ${label}`} onClick={onRemove}>
        Remove
      </button>
    </li>
  )
}

function GroupPicker({ groups, onAdd }: { groups: Group[]; onAdd: (id: string) => void }) {
  const [selected, setSelected] = useState('')
  const id = useId()
  if (groups.length === 0) return <p className="hint">Every group is already listed, or none exists yet (Admin › Groups).</p>
  return (
    <div className="inline-form">
      <label htmlFor={id}>Add a group</label>
      <select id={id} value={selected} onChange={(event) => setSelected(event.target.value)}>
        <option value="">Choose a group…</option>
        {groups.map((group) => (
          <option key={group.id} value={group.id}>
            {group.name} ({group.member_count} member{group.member_count === 1 ? '' : 's'})
          </option>
        ))}
      </select>
      <button
        type="button"
        className="button"
        disabled={!selected}
        onClick={() => {
          onAdd(selected)
          setSelected('')
        }}
      >
        Add group
      </button>
    </div>
  )
}

/** Admins: search users by name or email and pick one (`verb` names the button: Add, Check, …). */
export function UserPicker({
  exclude,
  onAdd,
  label = 'Add a user',
  verb = 'Add',
}: {
  exclude: string[]
  onAdd: (user: User) => void
  label?: string
  verb?: string
}) {
  const [text, setText] = useState('')
  const query = useDebounced(text.trim(), 300)
  const id = useId()
  const results = useUserList({ query, limit: 8 }, query !== '')
  const found = (results.data?.users ?? []).filter((candidate) => !exclude.includes(candidate.id))
  return (
    <div className="user-picker">
      <label htmlFor={id}>{label}</label>
      <input id={id} type="search" placeholder="Search by name or email" value={text} onChange={(event) => setText(event.target.value)} />
      {query ? (
        results.isPending || results.isPlaceholderData ? (
          <Loading label="Searching…" />
        ) : results.error ? (
          <InlineError>{describeError(results.error).detail}</InlineError>
        ) : found.length === 0 ? (
          <p className="muted">No other user matches “{query}”.</p>
        ) : (
          <ul className="pick-list" aria-label="Matching users">
            {found.map((candidate) => (
              <li key={candidate.id}>
                <span>
                  {candidate.name} <span className="muted">{candidate.email}</span>
                </span>
                <button type="button" className="button button-small" aria-label={`${verb} user ${candidate.name}`} onClick={() => onAdd(candidate)}>
                  {verb}
                </button>
              </li>
            ))}
          </ul>
        )
      ) : null}
    </div>
  )
}

function AddById({ kind, onAdd }: { kind: 'group' | 'user'; onAdd: (id: string) => void }) {
  const [value, setValue] = useState('')
  const id = useId()
  return (
    <div className="inline-form">
      <label htmlFor={id}>Add a {kind} by id</label>
      <input id={id} value={value} onChange={(event) => setValue(event.target.value)} placeholder={`${kind} id`} />
      <button
        type="button"
        className="button"
        disabled={!value.trim()}
        onClick={() => {
          onAdd(value.trim())
          setValue('')
        }}
      >
        Add {kind}
      </button>
    </div>
  )
}
