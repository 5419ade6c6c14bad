/** What a pending account sees: every page but this one is closed until an administrator approves it. */
import { useState } from 'react'
import { useSession, useUser } from '../lib/session'

export function PendingPage() {
  const { refresh, signOut } = useSession()
  const user = useUser()
  const [checking, setChecking] = useState(false)
  const [checked, setChecked] = useState(false)

  const check = async () => {
    setChecking(true)
    await refresh()
    setChecking(false)
    setChecked(true)
  }

  return (
    <main className="auth" id="main">
      <div className="auth-card">
        <p className="brand brand-large">
          <img src="/favicon.svg" alt="" width={32} height={32} />
          modelgate
        </p>
        <h1>Waiting for approval</h1>
        <p>
          Hello {user.name}. Your account ({user.email}) has been created, but <strong>an administrator must approve your account</strong> before you can use
          the workspace.
        </p>
        <p className="muted">Ask an administrator to change your role to “user”, then check again.</p>
        <p role="status" className="muted">
          {checked && !checking ? 'Still waiting for approval.' : ''}
        </p>
        <div className="row">
          <button type="button" className="button button-primary" disabled={checking} onClick={() => void check()}>
            {checking ? 'Checking…' : 'Check again'}
          </button>
          <button type="button" className="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </div>
    </main>
  )
}
