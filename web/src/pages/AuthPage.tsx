/** Sign in and sign up. The first account to sign up becomes the administrator. */
import { useState, type FormEvent } from 'react'
import { describeError, signin, signup } from '../api/client'
import { Link } from '../lib/router'
import { useSession } from '../lib/session'
import { InlineError } from '../components/States'

export function AuthPage({ mode }: { mode: 'signin' | 'signup' }) {
  const { signIn } = useSession()
  const [name, setName] = useState('')
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const isSignup = mode === 'signup'

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setBusy(true)
    setError(null)
    try {
      const session = isSignup ? await signup({ name: name.trim(), email: email.trim(), password }) : await signin({ email: email.trim(), password })
      signIn(session)
    } catch (failure) {
      setError(describeError(failure).detail)
      setBusy(false)
    }
  }

  return (
    <main className="auth" id="main">
      <div className="auth-card">
        <p className="brand brand-large">
          <img src="/favicon.svg" alt="" width={32} height={32} />
          modelgate
        </p>
        <h1>{isSignup ? 'Create an account' : 'Sign in'}</h1>
        {isSignup ? <p className="muted">The first account becomes the administrator. Later accounts wait for an administrator's approval.</p> : null}
        <form onSubmit={(event) => void submit(event)} className="form" aria-describedby={error ? 'auth-error' : undefined}>
          {isSignup ? (
            <div className="field">
              <label htmlFor="auth-name">Name</label>
              <input id="auth-name" autoComplete="name" required value={name} onChange={(event) => setName(event.target.value)} />
            </div>
          ) : null}
          <div className="field">
            <label htmlFor="auth-email">Email</label>
            <input id="auth-email" type="email" autoComplete="email" required value={email} onChange={(event) => setEmail(event.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="auth-password">Password</label>
            <input
              id="auth-password"
              type="password"
              autoComplete={isSignup ? 'new-password' : 'current-password'}
              required
              minLength={isSignup ? 8 : undefined}
              value={password}
              onChange={(event) => setPassword(event.target.value)}
              aria-describedby={isSignup ? 'auth-password-hint' : undefined}
            />
            {isSignup ? (
              <p className="hint" id="auth-password-hint">
                At least 8 characters.
              </p>
            ) : null}
          </div>
          <InlineError id="auth-error">{error}</InlineError>
          <button type="submit" className="button button-primary button-block" disabled={busy}>
            {busy ? 'Please wait…' : isSignup ? 'Create account' : 'Sign in'}
          </button>
        </form>
        <p className="auth-switch">
          {isSignup ? (
            <>
              Already have an account? <Link to="/signin">Sign in</Link>
            </>
          ) : (
            <>
              No account yet? <Link to="/signup">Create one</Link>
            </>
          )}
        </p>
      </div>
    </main>
  )
}
