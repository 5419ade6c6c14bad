/**
 * A real OpenID provider for the single sign-on tests: `oidc-provider` (the certified implementation)
 * on 127.0.0.1, with one confidential client and accounts whose claims the test sets and changes (email,
 * email_verified, name, roles, realm_access.roles, groups). The login screen is replaced by an
 * interaction handler that signs in whichever account the test chose (`as`), and consent is implied.
 * Its storage is an in-memory adapter of its own, so a test can make every authorization code expired.
 */
import { createServer, type Server } from 'node:http'
import Provider, { type Adapter, type AdapterPayload, type ClientMetadata } from 'oidc-provider'
import type { Harness, Reply } from './harness.js'

export const OIDC_CLIENT_ID = 'modelgate-test'
export const OIDC_CLIENT_SECRET = 'modelgate-test-client-secret-0123456789'

export interface OidcAccount {
  sub: string
  email?: string
  email_verified?: boolean
  name?: string
  picture?: string
  roles?: string[]
  realm_access?: { roles: string[] }
  groups?: string[]
}

export interface TestProvider {
  issuer: string
  /** Adds or replaces an account (its claims are read at every sign-in). */
  account(claims: OidcAccount): void
  /** Which account the next login interaction signs in. */
  as(sub: string): void
  /** While true, every stored authorization code reads as expired. */
  expireCodes: boolean
  close(): Promise<void>
}

/** The memory adapter: a Map per model; `expired()` ages authorization codes on read. */
function adapterFactory(expired: () => boolean) {
  const stores = new Map<string, Map<string, AdapterPayload>>()
  const storeOf = (name: string) => {
    let store = stores.get(name)
    if (!store) stores.set(name, (store = new Map()))
    return store
  }
  return (name: string): Adapter => {
    const store = storeOf(name)
    return {
      upsert: (id, payload) => {
        store.set(id, { ...payload })
        return Promise.resolve()
      },
      find: (id) => {
        const payload = store.get(id)
        if (payload && name === 'AuthorizationCode' && expired()) return Promise.resolve({ ...payload, exp: Math.floor(Date.now() / 1000) - 60 })
        return Promise.resolve(payload)
      },
      findByUserCode: () => Promise.resolve(undefined),
      findByUid: (uid) => Promise.resolve([...store.values()].find((payload) => payload.uid === uid)),
      consume: (id) => {
        const payload = store.get(id)
        if (payload) payload.consumed = Math.floor(Date.now() / 1000)
        return Promise.resolve()
      },
      destroy: (id) => {
        store.delete(id)
        return Promise.resolve()
      },
      revokeByGrantId: (grantId) => {
        for (const s of stores.values()) for (const [id, payload] of s) if (payload.grantId === grantId) s.delete(id)
        return Promise.resolve()
      },
    }
  }
}

/**
 * Starts the provider. `authMethod`: how the client authenticates at the token endpoint, and the only
 * method the provider advertises (modelgate must pick it from discovery). `redirectUri`: the client's one.
 */
export async function startOidcProvider(
  options: { redirectUri: string; authMethod?: 'client_secret_basic' | 'client_secret_post'; port?: number } = {
    redirectUri: 'http://127.0.0.1/oauth/oidc/callback',
  },
): Promise<TestProvider> {
  const accounts = new Map<string, OidcAccount>()
  let current = ''
  const state = { expireCodes: false }
  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  const issuer = `http://127.0.0.1:${port}`
  const authMethod = options.authMethod ?? 'client_secret_basic'
  const client: ClientMetadata = {
    client_id: OIDC_CLIENT_ID,
    client_secret: OIDC_CLIENT_SECRET,
    redirect_uris: [options.redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: authMethod,
  }
  const provider = new Provider(issuer, {
    clients: [client],
    adapter: adapterFactory(() => state.expireCodes),
    clientAuthMethods: [authMethod],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'picture'],
      groups: ['groups'],
      roles: ['roles', 'realm_access'],
    },
    scopes: ['openid', 'email', 'profile', 'groups', 'roles'],
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // Consent is implied: every requested scope and claim is granted to the test client.
    loadExistingGrant: async (ctx) => {
      const accountId = ctx.oidc.session?.accountId
      if (!accountId || !ctx.oidc.client) return undefined
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId })
      grant.addOIDCScope('openid email profile groups roles')
      await grant.save()
      return grant
    },
    findAccount: (_ctx, sub) => {
      const account = accounts.get(sub)
      if (!account) return undefined
      return { accountId: sub, claims: () => ({ ...structuredClone(account), sub }) }
    },
    cookies: { keys: ['test-provider-cookie-key-0123456789'] },
  })
  provider.proxy = false
  // A provider-side failure is the test's problem to read, not a page that says "oops".
  provider.on('server_error', (_ctx: unknown, error: Error) => console.error('oidc-provider server_error:', error))
  const handle = provider.callback()
  server.on('request', (req, res) => {
    if (req.url?.startsWith('/interaction/')) {
      // The login screen: the test's chosen account signs in at once.
      void provider.interactionFinished(req, res, { login: { accountId: current } }, { mergeWithLastSubmission: false }).catch((error: unknown) => {
        res.statusCode = 500
        res.end(String(error))
      })
      return
    }
    void handle(req, res)
  })
  return {
    issuer,
    account: (claims) => void accounts.set(claims.sub, claims),
    as: (sub) => {
      current = sub
    },
    get expireCodes() {
      return state.expireCodes
    },
    set expireCodes(value: boolean) {
      state.expireCodes = value
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** The environment that points modelgate at the test provider. */
export function oidcEnv(provider: TestProvider, redirectUri: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    OPENID_PROVIDER_URL: `${provider.issuer}/.well-known/openid-configuration`,
    OAUTH_CLIENT_ID: OIDC_CLIENT_ID,
    OAUTH_CLIENT_SECRET: OIDC_CLIENT_SECRET,
    OAUTH_SCOPES: 'openid email profile groups roles',
    OPENID_REDIRECT_URI: redirectUri,
    OAUTH_PROVIDER_NAME: 'Test IdP',
    ENABLE_OAUTH_SIGNUP: 'true',
    ...extra,
  }
}

/** A cookie jar for the browser side of the provider (its session and interaction cookies). */
class Jar {
  private readonly cookies = new Map<string, string>()
  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const [name = '', ...value] = pair.split('=')
      this.cookies.set(name.trim(), value.join('='))
    }
  }
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }
}

export interface BrowserRun {
  /** The login route's answer (302 to the provider, with the flow cookie). */
  login: Reply
  /** The flow cookie the login set (`oidc_flow=…`). */
  flowCookie: string
  /** The callback URL the provider sent the browser to (path and query). */
  callbackPath: string
}

/**
 * Walks a browser through login → provider → back, without calling the callback: the test decides how
 * the callback is made (as is, tampered, replayed).
 */
export async function toCallback(h: Harness, provider: TestProvider, sub: string): Promise<BrowserRun> {
  provider.as(sub)
  const login = await h.request({ method: 'GET', url: '/oauth/oidc/login' })
  if (login.statusCode !== 302) throw new Error(`login answered ${login.statusCode}: ${login.body}`)
  const setCookie = ([] as string[]).concat(login.headers['set-cookie'] ?? [])
  const flowCookie = (setCookie.find((c) => c.startsWith('oidc_flow=')) ?? '').split(';')[0] ?? ''
  const jar = new Jar()
  let url = String(login.headers.location)
  for (let hop = 0; hop < 10; hop++) {
    if (!url.startsWith(provider.issuer)) break
    const response = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header() } })
    jar.take(response)
    const location = response.headers.get('location')
    if (!location) throw new Error(`the provider answered ${response.status} without a redirect: ${await response.text()}`)
    url = new URL(location, url).href
  }
  const back = new URL(url)
  return { login, flowCookie, callbackPath: `${back.pathname}${back.search}` }
}

/** The callback as the browser makes it (with the flow cookie), or with another cookie header. */
export function callback(h: Harness, run: Pick<BrowserRun, 'callbackPath' | 'flowCookie'>, cookie: string = run.flowCookie): Promise<Reply> {
  return h.request({ method: 'GET', url: run.callbackPath, headers: cookie ? { cookie } : {} })
}

/** A whole sign-in: login, provider, callback. Answers the callback's redirect and the token it carried (if any). */
export async function ssoSignIn(h: Harness, provider: TestProvider, sub: string): Promise<{ reply: Reply; token: string | null; error: string | null }> {
  const run = await toCallback(h, provider, sub)
  const reply = await callback(h, run)
  return { reply, ...outcomeOf(reply) }
}

/** What a callback's redirect says: `/signin#token=…&handoff=…` or `/signin?sso_error=…`. */
export function outcomeOf(reply: Reply): { token: string | null; error: string | null } {
  const location = String(reply.headers.location ?? '')
  const token = /#token=([^&]+)&handoff=[0-9a-f]{32}$/.exec(location)?.[1]
  const error = /[?&]sso_error=([a-z_]+)/.exec(location)?.[1]
  return { token: token ? decodeURIComponent(token) : null, error: error ?? null }
}
