/**
 * The signed-in account: the `session` query (GET /auths/) while a token is stored, replaced at sign-in,
 * cleared at sign-out or when the server stops accepting the token (401). Signing in or out empties the
 * whole query cache, so nothing read by one account is ever shown to the next.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react'
import { useQueryClient } from '@tanstack/react-query'
import { onUnauthorized, tokenStore, type SessionResponse, type SessionUser } from '../api/client'
import { clearNotices, notify } from './notify'
import { queryKeys, useSessionQuery } from './queries'

export type Feature =
  'workspace.models' | 'workspace.models_import' | 'workspace.models_export' | 'workspace.templates' | 'sharing.models' | 'sharing.public_models'

interface SessionState {
  /** undefined while the stored token is being checked. */
  user: SessionUser | null | undefined
  loadError: unknown
  signIn: (session: SessionResponse) => void
  signOut: () => void
  /** Reads the session again (permissions may have changed since sign-in). */
  refresh: () => Promise<void>
}

const SessionContext = createContext<SessionState | null>(null)

export function SessionProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient()
  const [token, setToken] = useState<string | null>(() => tokenFromSingleSignOn() ?? tokenStore.get())
  const session = useSessionQuery(token !== null)

  // A check that failed before any answer (server down) shows the sign-in page, as before TanStack.
  const user = token === null ? null : (session.data ?? (session.isError ? null : undefined))

  const refresh = useCallback(async () => {
    await client.refetchQueries({ queryKey: queryKeys.session })
  }, [client])

  useEffect(() => {
    tokenStore.syncCookie()
  }, [])

  useEffect(() => {
    onUnauthorized(() => {
      const wasSignedIn = client.getQueryData(queryKeys.session) !== undefined
      tokenStore.clear()
      setToken(null)
      client.clear()
      clearNotices()
      if (wasSignedIn) notify('Your session has ended. Sign in again.', 'error')
    })
    return () => onUnauthorized(null)
  }, [client])

  const signIn = useCallback(
    (answer: SessionResponse) => {
      client.clear()
      tokenStore.set(answer.token)
      const { token: _token, token_type: _type, expires_at: _expires, ...sessionUser } = answer
      client.setQueryData(queryKeys.session, sessionUser)
      setToken(answer.token)
    },
    [client],
  )

  const signOut = useCallback(() => {
    tokenStore.clear()
    setToken(null)
    client.clear()
    // Nothing said to the account that left stays on screen for the next one (issue #16 item 7).
    clearNotices()
  }, [client])

  const loadError = session.error ?? undefined
  const value = useMemo(() => ({ user, loadError, signIn, signOut, refresh }), [user, loadError, signIn, signOut, refresh])
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>
}

/**
 * After a single sign-on the server sends the browser to `/signin#token=…&handoff=…` with a
 * `token_handoff` cookie of the same value (docs/sso.md). The token is kept only when both match (a link
 * made by someone else cannot sign this browser into their account); the fragment and the cookie are
 * removed either way, so the token stays in neither the address bar nor the history.
 */
function tokenFromSingleSignOn(): string | null {
  const match = /^#token=([^&]+)&handoff=([0-9a-f]+)$/.exec(window.location.hash)
  if (!match?.[1] || !match[2]) return null
  window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search)
  const cookie = document.cookie.split(';').find((part) => part.trim().startsWith('token_handoff='))
  document.cookie = 'token_handoff=; path=/; max-age=0; SameSite=Lax'
  if (cookie?.trim() !== `token_handoff=${match[2]}`) return null
  let token: string
  try {
    token = decodeURIComponent(match[1])
  } catch {
    return null
  }
  tokenStore.set(token)
  return token
}

export function useSession(): SessionState {
  const state = useContext(SessionContext)
  if (!state) throw new Error('useSession outside SessionProvider')
  return state
}

/** The signed-in, approved account (pages behind the sign-in gate only). */
export function useUser(): SessionUser {
  const { user } = useSession()
  if (!user) throw new Error('useUser without a signed-in account')
  return user
}

/** Whether the account has a feature permission; admins have all of them. */
export function can(user: SessionUser, feature: Feature): boolean {
  if (user.role === 'admin') return true
  const [section, key] = feature.split('.') as [keyof SessionUser['permissions'], string]
  const tree = user.permissions[section] as Record<string, boolean>
  return tree[key] === true
}
