/** Sign in and sign up. The first account to sign up becomes the administrator. */
import { useState } from 'react'
import { useForm } from 'react-hook-form'
import { describeError, signin, signup } from '../api/client'
import { bodyResolver, placeServerErrors } from '../lib/forms'
import { Link, useLocation } from '../lib/router'
import { usePublicConfig } from '../lib/queries'
import { SigninSchema, SignupSchema } from '../lib/schemas'
import { useSession } from '../lib/session'
import { InlineError } from '../components/States'

interface AuthValues {
  name: string
  email: string
  password: string
}

const FIELDS = ['name', 'email', 'password'] as const

/** Why a single sign-on was refused, by the code the server's callback puts in `?sso_error=` (docs/sso.md). */
const SSO_REFUSALS: Record<string, string> = {
  invalid_state: 'The sign-in attempt expired or was not started from this page. Please try again.',
  invalid_nonce: "The identity provider's answer did not match this sign-in attempt. Please try again.",
  invalid_code: 'The sign-in code had expired or was already used. Please try again.',
  provider_error: 'The identity provider did not complete the sign-in.',
  provider_unavailable: 'The identity provider cannot be reached right now. Please try again later.',
  missing_sub: 'The identity provider did not say who you are.',
  missing_email: 'The identity provider did not send a valid email address for your account.',
  domain_not_allowed: 'Accounts of your email domain may not sign in here.',
  email_not_verified:
    'An account with your email exists here, but your identity provider does not confirm that the email is verified, so the two were not joined. Ask an administrator.',
  email_taken: 'An account with your email already exists here. Ask an administrator to link it to single sign-on.',
  signup_disabled: 'You have no account here, and single sign-on does not create accounts. Ask an administrator.',
  role_not_allowed: 'Your roles at the identity provider do not allow you to use modelgate.',
}

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
  const { search } = useLocation()
  const config = usePublicConfig()
  const providerName = config.data?.oauth.providers['oidc']
  const refusal = search.get('sso_error')
  const refusalText = refusal === null ? null : (SSO_REFUSALS[refusal] ?? 'Single sign-on did not complete. Please try again.')
  // ENABLE_LOGIN_FORM=false hides the form; `?local=1` shows it to administrators (the break-glass of docs/sso.md).
  const formHidden = config.data?.features.enable_login_form === false && search.get('local') !== '1'

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
        <h1>{isSignup ? (config.data?.onboarding ? 'Create the administrator account' : 'Create an account') : 'Sign in'}</h1>
        {isSignup && config.data?.onboarding ? (
          <p className="muted" data-testid="first-run">
            No account exists yet: this first one administers modelgate (accounts, groups, connections).
          </p>
        ) : isSignup ? (
          <p className="muted">The first account becomes the administrator. Later accounts wait for an administrator's approval.</p>
        ) : null}
        {refusalText ? <InlineError id="sso-error">{refusalText}</InlineError> : null}
        {providerName && !isSignup ? (
          <>
            {/* A plain link: the server redirects to the provider and back (GET /oauth/oidc/login). */}
            <a className="button button-primary button-block" href="/oauth/oidc/login">
              Sign in with {providerName}
            </a>
            {formHidden ? null : <p className="auth-or">or with your email</p>}
          </>
        ) : null}
        {formHidden ? (
          <p className="muted auth-break-glass">
            Administrator without single sign-on? <a href="/signin?local=1">Sign in with a password</a>
          </p>
        ) : (
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
        )}
        {/* On a fresh instance there is no account to sign in to (issue #16 item 6). */}
        <p className="auth-switch" hidden={formHidden || (isSignup && config.data?.onboarding === true)}>
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
