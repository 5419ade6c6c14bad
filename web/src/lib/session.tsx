/**
 * The signed-in account: loaded from the stored token at start, replaced at sign-in, cleared at
 * sign-out or when the server stops accepting the token (401).
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react'
import { getSessionUser, onUnauthorized, tokenStore, type SessionResponse, type SessionUser } from '../api/client'
import { notify } from './notify'

export type Feature = 'workspace.models' | 'workspace.models_import' | 'workspace.models_export' | 'sharing.models' | 'sharing.public_models'

interface SessionState {
  /** undefined while the stored token is being checked. */
  user: SessionUser | null | undefined
  loadError: unknown
  signIn: (session: SessionResponse) => void
  signOut: () => void
  refresh: () => Promise<void>
}

const SessionContext = createContext<SessionState | null>(null)

export function SessionProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<SessionUser | null | undefined>(() => (tokenStore.get() ? undefined : null))
  const [loadError, setLoadError] = useState<unknown>(undefined)

  const refresh = useCallback(async () => {
    if (!tokenStore.get()) {
      setUser(null)
      return
    }
    try {
      setUser(await getSessionUser())
      setLoadError(undefined)
    } catch (error) {
      setLoadError(error)
      setUser((current) => (current === undefined ? null : current))
    }
  }, [])

  useEffect(() => {
    tokenStore.syncCookie()
    void refresh()
  }, [refresh])

  useEffect(() => {
    onUnauthorized(() => {
      tokenStore.clear()
      setUser((current) => {
        if (current) notify('Your session has ended. Sign in again.', 'error')
        return null
      })
    })
    return () => onUnauthorized(null)
  }, [])

  const signIn = useCallback((session: SessionResponse) => {
    tokenStore.set(session.token)
    const { token: _token, token_type: _type, expires_at: _expires, ...sessionUser } = session
    setUser(sessionUser)
  }, [])

  const signOut = useCallback(() => {
    tokenStore.clear()
    setUser(null)
  }, [])

  const value = useMemo(() => ({ user, loadError, signIn, signOut, refresh }), [user, loadError, signIn, signOut, refresh])
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>
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
