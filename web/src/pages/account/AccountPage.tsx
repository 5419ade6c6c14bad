/**
 * `/account` (issue #16 item 1), for every approved account: name and picture, password, theme, and the
 * API key. The server's rules are shown as they are: one API key per account (creating one replaces the
 * old, as in Open WebUI), shown once; a password change signs out the account's other sessions.
 */
import { useId, useRef, useState, type FormEvent } from 'react'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import {
  changeOwnPassword,
  createOwnApiKey,
  deleteOwnApiKey,
  describeError,
  getOwnApiKey,
  tokenStore,
  updateOwnProfile,
  type ApiKeyCreated,
} from '../../api/client'
import { Avatar } from '../../components/Avatar'
import { ConfirmDialog } from '../../components/Dialog'
import { InlineError } from '../../components/States'
import { formatDate, resizeImage } from '../../lib/format'
import { notify } from '../../lib/notify'
import { queryKeys } from '../../lib/queries'
import { useSession, useUser } from '../../lib/session'
import { saveTheme, storedTheme, type Theme } from '../../lib/theme'
import { passwordProblem } from './account'

export const apiKeyQueryKey = ['account', 'api-key'] as const

export function AccountPage() {
  return (
    <section className="page page-narrow account-page">
      <h1 tabIndex={-1}>Your account</h1>
      <ProfileSection />
      <PasswordSection />
      <ThemeSection />
      <ApiKeySection />
    </section>
  )
}

function ProfileSection() {
  const user = useUser()
  const { refresh } = useSession()
  const id = useId()
  const [name, setName] = useState(user.name)
  const [picture, setPicture] = useState(user.profile_image_url)
  const [error, setError] = useState<string | null>(null)
  const file = useRef<HTMLInputElement>(null)
  const save = useMutation({
    mutationFn: () => updateOwnProfile({ name: name.trim(), profile_image_url: picture }),
    onSuccess: async () => {
      await refresh()
      notify('Profile saved.', 'success')
    },
    onError: (failure) => setError(describeError(failure).detail),
  })
  const onSubmit = (event: FormEvent) => {
    event.preventDefault()
    setError(null)
    if (!name.trim()) return setError('Your name must not be empty.')
    save.mutate()
  }
  const changed = name.trim() !== user.name || picture !== user.profile_image_url
  return (
    <form className="panel" onSubmit={onSubmit} aria-labelledby={`${id}-title`} noValidate>
      <h2 id={`${id}-title`}>Profile</h2>
      <div className="account-profile">
        <Avatar src={picture} size={72} alt={`Your picture`} className="avatar-large" />
        <div className="row">
          <input
            ref={file}
            type="file"
            accept="image/*"
            className="visually-hidden"
            tabIndex={-1}
            aria-label="Picture file"
            onChange={(event) => {
              const chosen = event.target.files?.[0]
              event.target.value = ''
              if (!chosen) return
              resizeImage(chosen, 128).then(setPicture, (failure: unknown) => setError(describeError(failure).detail))
            }}
          />
          <button type="button" className="button button-small" onClick={() => file.current?.click()}>
            Change picture
          </button>
          {picture ? (
            <button type="button" className="button button-small" onClick={() => setPicture('')}>
              Use the default picture
            </button>
          ) : null}
        </div>
      </div>
      <div className="field">
        <label htmlFor={`${id}-name`}>Name</label>
        <input id={`${id}-name`} value={name} maxLength={255} autoComplete="name" onChange={(event) => setName(event.target.value)} />
      </div>
      <div className="field">
        <span className="label-like">Email</span>
        <p className="muted">{user.email}</p>
      </div>
      <InlineError>{error}</InlineError>
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={!changed || save.isPending}>
          {save.isPending ? 'Saving…' : 'Save profile'}
        </button>
      </div>
    </form>
  )
}

function PasswordSection() {
  const id = useId()
  const client = useQueryClient()
  const [current, setCurrent] = useState('')
  const [next, setNext] = useState('')
  const [again, setAgain] = useState('')
  const [error, setError] = useState<string | null>(null)
  const change = useMutation({
    mutationFn: () => changeOwnPassword(current, next),
    onSuccess: (session) => {
      // The server revoked every other session and answers a fresh token for this one.
      tokenStore.set(session.token)
      const { token: _token, token_type: _type, expires_at: _expires, ...user } = session
      client.setQueryData(queryKeys.session, (before: object | undefined) => ({ ...before, ...user }))
      setCurrent('')
      setNext('')
      setAgain('')
      notify('Password changed. Your other sessions were signed out.', 'success')
    },
    onError: (failure) => setError(describeError(failure).detail),
  })
  const onSubmit = (event: FormEvent) => {
    event.preventDefault()
    setError(null)
    const problem = passwordProblem(current, next, again)
    if (problem) return setError(problem)
    change.mutate()
  }
  return (
    <form className="panel" onSubmit={onSubmit} aria-labelledby={`${id}-title`} noValidate>
      <h2 id={`${id}-title`}>Password</h2>
      <p className="hint">Changing it signs you out everywhere else; this browser stays signed in. Your API key keeps working.</p>
      <div className="field">
        <label htmlFor={`${id}-current`}>Current password</label>
        <input id={`${id}-current`} type="password" autoComplete="current-password" value={current} onChange={(event) => setCurrent(event.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-new`}>New password</label>
        <input id={`${id}-new`} type="password" autoComplete="new-password" value={next} onChange={(event) => setNext(event.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-again`}>New password again</label>
        <input id={`${id}-again`} type="password" autoComplete="new-password" value={again} onChange={(event) => setAgain(event.target.value)} />
      </div>
      <InlineError>{error}</InlineError>
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={change.isPending}>
          {change.isPending ? 'Changing…' : 'Change password'}
        </button>
      </div>
    </form>
  )
}

const THEMES: { value: Theme; label: string }[] = [
  { value: 'system', label: 'System' },
  { value: 'light', label: 'Light' },
  { value: 'dark', label: 'Dark' },
]

function ThemeSection() {
  const id = useId()
  const [theme, setTheme] = useState<Theme>(storedTheme)
  return (
    <fieldset className="panel">
      <legend className="visually-hidden">Theme</legend>
      <h2 id={`${id}-title`} aria-hidden="true">
        Theme
      </h2>
      <div className="segmented" role="radiogroup" aria-labelledby={`${id}-title`}>
        {THEMES.map((option) => (
          <label key={option.value} className="checkbox">
            <input
              type="radio"
              name={`${id}-theme`}
              value={option.value}
              checked={theme === option.value}
              onChange={() => {
                setTheme(option.value)
                saveTheme(option.value)
              }}
            />{' '}
            {option.label}
          </label>
        ))}
      </div>
      <p className="hint">Kept in this browser (modelgate stores no per-account settings).</p>
    </fieldset>
  )
}

function ApiKeySection() {
  const id = useId()
  const client = useQueryClient()
  const key = useQuery({ queryKey: apiKeyQueryKey, queryFn: getOwnApiKey })
  const [created, setCreated] = useState<ApiKeyCreated | null>(null)
  const [confirm, setConfirm] = useState<'replace' | 'revoke' | null>(null)
  const [error, setError] = useState<string | null>(null)
  const create = useMutation({
    mutationFn: createOwnApiKey,
    onSuccess: (answer) => {
      setCreated(answer)
      setConfirm(null)
      void client.invalidateQueries({ queryKey: apiKeyQueryKey })
    },
    onError: (failure) => {
      setConfirm(null)
      setError(describeError(failure).detail)
    },
  })
  const revoke = useMutation({
    mutationFn: deleteOwnApiKey,
    onSuccess: () => {
      setCreated(null)
      setConfirm(null)
      notify('API key revoked.', 'success')
      void client.invalidateQueries({ queryKey: apiKeyQueryKey })
    },
    onError: (failure) => {
      setConfirm(null)
      setError(describeError(failure).detail)
    },
  })
  const copy = async () => {
    if (!created) return
    try {
      await navigator.clipboard.writeText(created.api_key)
      notify('API key copied.', 'success')
    } catch {
      notify('Copying failed: select the key and copy it by hand.', 'error')
    }
  }
  const info = key.data
  return (
    <section className="panel" aria-labelledby={`${id}-title`} data-testid="api-key">
      <h2 id={`${id}-title`}>API key</h2>
      <p className="hint">
        Use it as <code>Authorization: Bearer sk-…</code> with any OpenAI client (<code>{`${window.location.origin}/v1`}</code>). One key per account: creating
        a new one replaces the old one.
      </p>
      {created ? (
        <div className="api-key-created" role="status">
          <label htmlFor={`${id}-key`}>Your new key, shown this once: copy it now.</label>
          <div className="row">
            <input id={`${id}-key`} className="mono" readOnly value={created.api_key} onFocus={(event) => event.target.select()} data-testid="api-key-value" />
            <button type="button" className="button" onClick={() => void copy()}>
              Copy
            </button>
          </div>
        </div>
      ) : null}
      {key.isPending ? <p className="muted">Loading…</p> : null}
      {key.error ? <InlineError>{describeError(key.error).detail}</InlineError> : null}
      {key.isSuccess && info === null ? <p>You have no API key.</p> : null}
      {info ? (
        <dl className="model-facts" data-testid="api-key-info">
          <div>
            <dt>Key</dt>
            <dd>
              <code>{info.key_hint}</code>
            </dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>{formatDate(info.created_at)}</dd>
          </div>
          <div>
            <dt>Last used</dt>
            <dd data-testid="api-key-last-used">{info.last_used_at === null ? 'Never' : formatDate(info.last_used_at)}</dd>
          </div>
        </dl>
      ) : null}
      <InlineError>{error}</InlineError>
      <div className="form-actions">
        <button
          type="button"
          className="button button-primary"
          disabled={create.isPending || key.isPending}
          onClick={() => {
            setError(null)
            if (info) setConfirm('replace')
            else create.mutate()
          }}
        >
          {info ? 'Replace key…' : 'Create API key'}
        </button>
        {info ? (
          <button type="button" className="button button-danger" onClick={() => setConfirm('revoke')}>
            Revoke…
          </button>
        ) : null}
      </div>
      {confirm === 'replace' ? (
        <ConfirmDialog
          title="Replace your API key?"
          confirmLabel="Replace key"
          busy={create.isPending}
          onConfirm={() => create.mutate()}
          onCancel={() => setConfirm(null)}
        >
          <p>
            The key <code>{info?.key_hint}</code> stops working at once; programs using it need the new one.
          </p>
        </ConfirmDialog>
      ) : null}
      {confirm === 'revoke' ? (
        <ConfirmDialog
          title="Revoke your API key?"
          confirmLabel="Revoke key"
          busy={revoke.isPending}
          onConfirm={() => revoke.mutate()}
          onCancel={() => setConfirm(null)}
        >
          <p>
            The key <code>{info?.key_hint}</code> stops working at once.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  )
}
