/**
 * OpenID Connect sign-in at Open WebUI's paths (`GET /oauth/oidc/login`, `GET /oauth/oidc/callback`), the
 * public configuration the sign-in page reads (`GET /api/config`, Open WebUI's route) and the admin's view
 * of the effective single sign-on configuration. Login, callback and config are public on purpose: they
 * are how an anonymous browser signs in.
 *
 * The callback ends like a password sign-in: the `token` cookie is set, and the browser is sent to
 * `/signin#token=…&handoff=…`, where the web app keeps the token (a fragment never reaches a server, a log
 * or a Referer) when `handoff` matches the `token_handoff` cookie set with it, and removes both. A refusal sends it to `/signin?sso_error=<code>` with no token.
 */
import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import type { AccountSettings } from '../auth/account-settings.js'
import type { Config } from '../config/env.js'
import { AppError } from '../errors/app-error.js'
import { BEARER, originOf, setSessionCookie, type App, type Guards } from '../http/route-kit.js'
import { cookieValue, FLOW_COOKIE, FLOW_COOKIE_PATH, FLOW_LIFETIME_S } from './flow-cookie.js'
import { ssoConfigView } from './sso-config-view.js'
import type { Sso } from './sso.feature.js'
import { PublicConfigSchema, SsoConfigSchema } from './sso.schema.js'
import { SsoRefusal, type SsoRefusalCode } from './sso.service.js'

const Redirect = z.null().describe('A redirect (Location).')

/** Read by the web app (so not HttpOnly), holds no credential: it only vouches that this browser finished the sign-in. */
const HANDOFF_COOKIE = 'token_handoff'

export function registerSsoRoutes(
  app: App,
  deps: {
    sso: Sso | null
    config: Pick<Config, 'oidc' | 'enableLoginForm'>
    settings: AccountSettings
    version: string
    guards: Guards
    /** Whether any account exists (the answer's `onboarding` is its negation). */
    hasAccounts: () => Promise<boolean>
  },
): void {
  const { sso, config, settings, guards } = deps
  const tags = ['sso']

  app.get('/api/config', {
    schema: {
      tags,
      summary: "What the sign-in page needs (Open WebUI's route): the sign-in providers (oauth.providers) and which sign-in features are on.",
      response: { 200: PublicConfigSchema },
    },
    handler: async () => {
      const policy = await settings.policy()
      const providers: Record<string, string> = config.oidc ? { oidc: config.oidc.providerName } : {}
      return {
        status: true as const,
        name: 'modelgate',
        version: deps.version,
        onboarding: !(await deps.hasAccounts()),
        oauth: { providers },
        features: {
          auth: true as const,
          enable_signup: policy.enableSignup && config.enableLoginForm,
          enable_login_form: config.enableLoginForm,
          enable_api_key: policy.enableApiKeys,
          enable_oauth_signup: config.oidc?.enableSignup ?? false,
        },
      }
    },
  })

  app.get('/api/v1/sso/config', {
    onRequest: guards.admin,
    schema: {
      tags,
      summary: 'Admin: the effective single sign-on configuration, variable by variable (secrets masked).',
      security: BEARER,
      response: { 200: SsoConfigSchema },
    },
    handler: () => ssoConfigView(config),
  })

  app.get('/oauth/oidc/login', {
    schema: {
      tags,
      summary: 'Starts an OpenID Connect sign-in: redirects to the provider (code flow, PKCE, state and nonce). 404 when it is not configured.',
      response: { 302: Redirect },
    },
    handler: async (request, reply) => {
      if (!sso) throw new AppError('NOT_FOUND', 'Single sign-on is not configured on this server (OPENID_PROVIDER_URL).')
      const redirectUri = sso.service.config.redirectUri ?? `${request.protocol}://${request.host}/oauth/oidc/callback`
      let started: Awaited<ReturnType<Sso['client']['start']>>
      try {
        started = await sso.client.start(redirectUri)
      } catch (error) {
        request.log.warn({ err: error }, 'OpenID provider discovery failed')
        refusalRedirect(reply, 'provider_unavailable')
        return
      }
      const secure = request.protocol === 'https' ? '; Secure' : ''
      reply.header(
        'set-cookie',
        `${FLOW_COOKIE}=${sso.flow.seal(started.secrets)}; Path=${FLOW_COOKIE_PATH}; HttpOnly; SameSite=Lax; Max-Age=${FLOW_LIFETIME_S}${secure}`,
      )
      reply.header('cache-control', 'no-store')
      void reply.redirect(started.url, 302)
    },
  })

  app.get('/oauth/oidc/callback', {
    schema: {
      tags,
      summary:
        'The provider sends the browser back here. Success: sets the token cookie and redirects to /signin#token=…; a refusal redirects to /signin?sso_error=<code> (docs/sso.md).',
      response: { 302: Redirect },
    },
    handler: async (request, reply) => {
      if (!sso) throw new AppError('NOT_FOUND', 'Single sign-on is not configured on this server (OPENID_PROVIDER_URL).')
      const secure = request.protocol === 'https' ? '; Secure' : ''
      // The attempt's secrets are used once: cleared whatever happens next.
      reply.header('set-cookie', `${FLOW_COOKIE}=; Path=${FLOW_COOKIE_PATH}; HttpOnly; SameSite=Lax; Max-Age=0${secure}`)
      reply.header('cache-control', 'no-store')
      const origin = originOf(request)
      const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : ''
      try {
        const secrets = sso.flow.open(cookieValue(request.headers.cookie, FLOW_COOKIE))
        if (!secrets) {
          await sso.service.refuse('invalid_state', 'The sign-in attempt is unknown or has expired. Start again.', null, origin)
          return
        }
        const params = new URLSearchParams(query)
        const providerError = params.get('error')
        if (providerError) {
          await sso.service.refuse('provider_error', 'The identity provider refused the sign-in.', null, origin, {
            error: providerError.slice(0, 100),
          })
          return
        }
        const callbackUrl = new URL(secrets.redirectUri)
        callbackUrl.search = query
        let claims: Record<string, unknown>
        try {
          claims = await sso.client.finish(callbackUrl, secrets)
        } catch (error) {
          const code = classify(error)
          request.log.warn({ err: error }, `OpenID Connect callback refused (${code})`)
          await sso.service.refuse(code, 'The sign-in could not be completed.', null, origin, { error: errorName(error) })
          return
        }
        const session = await sso.service.signIn(claims, origin)
        setSessionCookie(reply, request, session.token, session.expires_at)
        // The web app takes the fragment's token only with this cookie's value beside it: a link someone
        // else made (`/signin#token=<theirs>`) cannot sign the browser into their account (login CSRF).
        const handoff = randomBytes(16).toString('hex')
        reply.header('set-cookie', `${HANDOFF_COOKIE}=${handoff}; Path=/; SameSite=Lax; Max-Age=120${secure}`)
        void reply.redirect(`/signin#token=${encodeURIComponent(session.token)}&handoff=${handoff}`, 302)
      } catch (error) {
        if (!(error instanceof SsoRefusal)) throw error
        refusalRedirect(reply, error.code)
      }
    },
  })
}

function refusalRedirect(reply: { redirect(url: string, code: number): unknown }, code: SsoRefusalCode | 'provider_unavailable'): void {
  void reply.redirect(`/signin?sso_error=${code}`, 302)
}

/** Which check of the relying party failed: state, nonce, or the code (expired, used, not this client's). */
function classify(error: unknown): SsoRefusalCode {
  const text = describe(error)
  if (/"state"/.test(text)) return 'invalid_state'
  if (/"nonce"/.test(text)) return 'invalid_nonce'
  if (/invalid_grant/i.test(text)) return 'invalid_code'
  return 'provider_error'
}

/** The messages of an error and its causes (openid-client wraps the check that failed in its cause). */
function describe(error: unknown, depth = 0): string {
  if (depth > 4 || error === undefined || error === null) return ''
  // Messages only: a cause may carry the claims, whose values are the provider's user's, not a check's name.
  if (!(error instanceof Error)) return ''
  const body = (error as { error?: unknown }).error
  return [error.message, typeof body === 'string' ? body : '', describe((error as { cause?: unknown }).cause, depth + 1)].join(' ')
}

function errorName(error: unknown): string {
  if (!(error instanceof Error)) return 'error'
  const body = (error as { error?: unknown }).error
  return typeof body === 'string'
    ? body.slice(0, 100)
    : (error as { code?: unknown }).code
      ? String((error as { code?: unknown }).code).slice(0, 100)
      : error.name
}
