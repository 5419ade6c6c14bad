/**
 * Admin › Single sign-on: the effective configuration (`GET /api/v1/sso/config`), variable by variable, as
 * the server read it from its environment at start (secrets masked by the server: they never reach the
 * browser). Read-only: these are environment variables (docs/sso.md).
 */
import { ErrorState, Loading } from '../../components/States'
import { useSsoConfig } from '../../lib/queries'

export function SsoPage() {
  const config = useSsoConfig()
  return (
    <section className="page" aria-labelledby="sso-title">
      <div className="page-header">
        <h1 id="sso-title" tabIndex={-1}>
          Single sign-on
        </h1>
      </div>
      <p className="muted">
        The configuration in effect, from the server's environment (change it there and restart). Secrets are never shown. See docs/sso.md.
      </p>
      {config.isPending ? <Loading label="Loading the configuration…" /> : null}
      {config.isError ? <ErrorState error={config.error} onRetry={() => void config.refetch()} /> : null}
      {config.data ? (
        <>
          <div className="panel sso-summary">
            {config.data.oidc.enabled ? (
              <p>
                <span className="badge badge-success">On</span> OpenID Connect sign-in with <strong>{config.data.oidc.provider_name}</strong>: the sign-in page
                shows “Sign in with {config.data.oidc.provider_name}”. Callback:{' '}
                <code>{config.data.oidc.callback_url ?? `${window.location.origin}/oauth/oidc/callback`}</code>
              </p>
            ) : (
              <p>
                <span className="badge badge-warning">Off</span> OpenID Connect sign-in is not configured (set <code>OPENID_PROVIDER_URL</code>,{' '}
                <code>OAUTH_CLIENT_ID</code> and <code>OAUTH_CLIENT_SECRET</code>).
              </p>
            )}
          </div>
          <div className="sso-table-wrap">
            <table className="table sso-table">
              <caption className="visually-hidden">Single sign-on variables and their effective values</caption>
              <thead>
                <tr>
                  <th scope="col">Variable</th>
                  <th scope="col">Value</th>
                </tr>
              </thead>
              <tbody>
                {config.data.variables.map((variable) => (
                  <tr key={variable.name}>
                    <th scope="row">
                      <code>{variable.name}</code>
                    </th>
                    <td>{variable.value === null ? <span className="muted">not set</span> : <code className="sso-value">{variable.value}</code>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </section>
  )
}
