/** Sign in and sign up. The first account to sign up becomes the administrator. */
import { useState } from 'react'
import { useForm } from 'react-hook-form'
import { describeError, signin, signup } from '../api/client'
import { bodyResolver, placeServerErrors } from '../lib/forms'
import { Link } from '../lib/router'
import { SigninSchema, SignupSchema } from '../lib/schemas'
import { useSession } from '../lib/session'
import { InlineError } from '../components/States'

interface AuthValues {
  name: string
  email: string
  password: string
}

const FIELDS = ['name', 'email', 'password'] as const

export function AuthPage({ mode }: { mode: 'signin' | 'signup' }) {
  const { signIn } = useSession()
  const isSignup = mode === 'signup'
  // The server's own bodies and schemas: the name is only asked (and judged) when signing up.
  const body = (values: AuthValues) =>
    isSignup ? { name: values.name, email: values.email, password: values.password } : { email: values.email, password: values.password }
  const [resolver] = useState(() => bodyResolver<AuthValues>(isSignup ? SignupSchema : SigninSchema, body))
  const form = useForm<AuthValues>({ defaultValues: { name: '', email: '', password: '' }, resolver })
  const { errors, isSubmitting } = form.formState
  const [error, setError] = useState<string | null>(null)

  const submit = async (values: AuthValues) => {
    setError(null)
    try {
      signIn(
        isSignup
          ? await signup({ name: values.name, email: values.email, password: values.password })
          : await signin({ email: values.email, password: values.password }),
      )
    } catch (failure) {
      if (!placeServerErrors(failure, form.setError, FIELDS)) setError(describeError(failure).detail)
    }
  }

  const invalid = (name: (typeof FIELDS)[number], hint?: string) => ({
    'aria-invalid': errors[name] ? (true as const) : undefined,
    'aria-describedby': [errors[name] ? `auth-${name}-error` : '', hint ?? ''].filter(Boolean).join(' ') || undefined,
  })

  return (
    <main className="auth" id="main">
      <div className="auth-card">
        <p className="brand brand-large">
          <img src="/favicon.svg" alt="" width={32} height={32} />
          modelgate
        </p>
        <h1>{isSignup ? 'Create an account' : 'Sign in'}</h1>
        {isSignup ? <p className="muted">The first account becomes the administrator. Later accounts wait for an administrator's approval.</p> : null}
        <form onSubmit={(event) => void form.handleSubmit(submit)(event)} className="form" aria-describedby={error ? 'auth-error' : undefined}>
          {isSignup ? (
            <div className="field">
              <label htmlFor="auth-name">Name</label>
              <input id="auth-name" autoComplete="name" required {...invalid('name')} {...form.register('name')} />
              <InlineError id="auth-name-error">{errors.name?.message}</InlineError>
            </div>
          ) : null}
          <div className="field">
            <label htmlFor="auth-email">Email</label>
            <input id="auth-email" type="email" autoComplete="email" required {...invalid('email')} {...form.register('email')} />
            <InlineError id="auth-email-error">{errors.email?.message}</InlineError>
          </div>
          <div className="field">
            <label htmlFor="auth-password">Password</label>
            <input
              id="auth-password"
              type="password"
              autoComplete={isSignup ? 'new-password' : 'current-password'}
              required
              minLength={isSignup ? 8 : undefined}
              {...invalid('password', isSignup ? 'auth-password-hint' : undefined)}
              {...form.register('password')}
            />
            {isSignup ? (
              <p className="hint" id="auth-password-hint">
                At least 8 characters.
              </p>
            ) : null}
            <InlineError id="auth-password-error">{errors.password?.message}</InlineError>
          </div>
          <InlineError id="auth-error">{error}</InlineError>
          <button type="submit" className="button button-primary button-block" disabled={isSubmitting}>
            {isSubmitting ? 'Please wait…' : isSignup ? 'Create account' : 'Sign in'}
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
