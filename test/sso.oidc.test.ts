/**
 * OpenID Connect sign-in (issue #15, items 1 to 3) against a real OpenID provider (`oidc-provider`,
 * in process on 127.0.0.1), on every dialect: account rules (sign-up, merge by verified email only,
 * domains), roles (refused, admin, demotion ends sessions), groups (created, synced, removed, marked as
 * managed, model access following them at once), the protocol's refusals (tampered state or nonce,
 * expired or replayed code, no flow cookie), ENABLE_LOGIN_FORM and its break-glass, and the public and
 * admin configuration routes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { preset, uniqueEmail } from './support/factories.js'
import { createHarness, PASSWORD, TEST_SECRET, type Harness, type TestAccount } from './support/harness.js'
import { FlowCookie } from '../src/sso/flow-cookie.js'
import type { FlowSecrets } from '../src/sso/oidc-client.js'
import { M } from './support/models.js'
import { callback, oidcEnv, outcomeOf, ssoSignIn, startOidcProvider, toCallback, type TestProvider } from './support/oidc-provider.js'

const REDIRECT = 'http://127.0.0.1:8080/oauth/oidc/callback'
const SCIM_TOKEN = 'scim-token-for-the-sso-tests-0123456789'
const SESSION = '/api/v1/auths/'

let seq = 0
const sub = (tag: string) => `${tag}-${++seq}-${Math.random().toString(36).slice(2, 8)}`

/** The account a token stands for (GET /auths/), or the refusal's status. */
async function whoIs(h: Harness, token: string) {
  return h.request({ method: 'GET', url: SESSION, headers: { authorization: `Bearer ${token}` } })
}

function asAccount(token: string, body: { id: string; email: string; name: string; role: TestAccount['role'] }): TestAccount {
  return { ...body, token, auth: { authorization: `Bearer ${token}` } }
}

async function signedIn(h: Harness, provider: TestProvider, who: string): Promise<TestAccount> {
  const { token, error, reply } = await ssoSignIn(h, provider, who)
  expect(error, String(reply.headers.location)).toBeNull()
  expect(token).not.toBeNull()
  const session = await whoIs(h, token ?? '')
  expect(session.statusCode, session.body).toBe(200)
  return asAccount(token ?? '', session.json())
}

async function groupsOf(h: Harness, userId: string): Promise<{ id: string; name: string; managed_by: string | null }[]> {
  const res = await h.send(h.admin, { method: 'GET', url: `/api/v1/users/${userId}/groups` })
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

async function auditActions(h: Harness, filter: Record<string, string>): Promise<{ action: string; after: Record<string, unknown> | null }[]> {
  const res = await h.send(h.admin, { method: 'GET', url: '/api/v1/audit', query: filter })
  expect(res.statusCode, res.body).toBe(200)
  return res.json<{ items: { action: string; after: Record<string, unknown> | null }[] }>().items
}

describe.each(DIALECTS)('OpenID Connect sign-in (%s)', (dialect) => {
  let provider: TestProvider
  let h: Harness

  beforeAll(async () => {
    provider = await startOidcProvider({ redirectUri: REDIRECT })
    h = await createHarness(
      dialect,
      oidcEnv(provider, REDIRECT, {
        OAUTH_MERGE_ACCOUNTS_BY_EMAIL: 'true',
        OAUTH_ALLOWED_DOMAINS: 'example.com, corp.example',
        ENABLE_OAUTH_ROLE_MANAGEMENT: 'true',
        OAUTH_ROLES_CLAIM: 'realm_access.roles',
        OAUTH_ALLOWED_ROLES: 'staff',
        OAUTH_ADMIN_ROLES: 'platform-admin',
        ENABLE_OAUTH_GROUP_MANAGEMENT: 'true',
        ENABLE_OAUTH_GROUP_CREATION: 'true',
        OAUTH_BLOCKED_GROUPS: '["everyone"]',
        OAUTH_UPDATE_NAME_ON_LOGIN: 'true',
        DEFAULT_USER_ROLE: 'pending',
        ENABLE_SCIM: 'true',
        SCIM_TOKEN: SCIM_TOKEN,
      }),
    )
    await h.shareBase('base-llm')
  })
  afterAll(async () => {
    await h.close()
    await provider.close()
  })

  it('the login route sends the browser to the provider with PKCE (S256), state and nonce, and a flow cookie scoped to /oauth/oidc', async () => {
    const res = await h.request({ method: 'GET', url: '/oauth/oidc/login' })
    expect(res.statusCode).toBe(302)
    const location = new URL(String(res.headers.location))
    expect(location.origin).toBe(provider.issuer)
    expect(location.searchParams.get('client_id')).toBe('modelgate-test')
    expect(location.searchParams.get('redirect_uri')).toBe(REDIRECT)
    expect(location.searchParams.get('code_challenge_method')).toBe('S256')
    for (const p of ['state', 'nonce', 'code_challenge']) expect(location.searchParams.get(p)?.length ?? 0).toBeGreaterThan(20)
    const cookie = String(res.headers['set-cookie'])
    expect(cookie).toMatch(/^oidc_flow=[^;]+; Path=\/oauth\/oidc; HttpOnly; SameSite=Lax; Max-Age=600/)
    // The cookie carries no secret in clear: it is a signed token, not the verifier itself.
    expect(cookie).not.toContain(location.searchParams.get('code_challenge') ?? '-')
  })

  it('signs up a new account at its first sign-in, with the token cookie and the session of a password sign-in', async () => {
    const who = sub('new')
    const email = uniqueEmail('new')
    provider.account({ sub: who, email, email_verified: true, name: 'New Person', realm_access: { roles: ['staff'] }, groups: [] })
    const { reply, token } = await ssoSignIn(h, provider, who)
    expect(reply.statusCode).toBe(302)
    expect(String(reply.headers.location)).toMatch(/^\/signin#token=/)
    const cookies = ([] as string[]).concat(reply.headers['set-cookie'] ?? [])
    expect(cookies.some((c) => c.startsWith(`token=${encodeURIComponent(token ?? '')}; Path=/; HttpOnly; SameSite=Lax`))).toBe(true)
    expect(cookies.some((c) => c.startsWith('oidc_flow=;') && c.includes('Max-Age=0'))).toBe(true)
    // The handoff cookie (readable by the page, no credential) carries the value the fragment names.
    const handoff = /&handoff=([0-9a-f]{32})$/.exec(String(reply.headers.location))?.[1]
    expect(cookies.some((c) => c.startsWith(`token_handoff=${handoff}; Path=/; SameSite=Lax; Max-Age=120`))).toBe(true)
    const session = await whoIs(h, token ?? '')
    expect(session.statusCode).toBe(200)
    expect(session.json()).toMatchObject({ email, name: 'New Person', role: 'user' })
    // The same subject signs in again: the same account, not a second one.
    const again = await signedIn(h, provider, who)
    expect(again.id).toBe(session.json().id)
    const actions = (await auditActions(h, { target_id: again.id })).map((e) => e.action)
    expect(actions).toContain('auth.signup')
    expect(actions.filter((a) => a === 'auth.signin').length).toBe(2)
  })

  it('joins an existing account by a verified email, and never by an unverified one', async () => {
    const existing = await h.createUser('user')
    const unverified = sub('unverified')
    provider.account({ sub: unverified, email: existing.email, email_verified: false, name: 'Spoof', realm_access: { roles: ['staff'] } })
    const refused = await ssoSignIn(h, provider, unverified)
    expect(refused.error).toBe('email_not_verified')
    expect(refused.token).toBeNull()
    expect(([] as string[]).concat(refused.reply.headers['set-cookie'] ?? []).some((c) => c.startsWith('token='))).toBe(false)

    const verified = sub('verified')
    provider.account({ sub: verified, email: existing.email.toUpperCase(), email_verified: true, name: existing.name, realm_access: { roles: ['staff'] } })
    const merged = await signedIn(h, provider, verified)
    expect(merged.id).toBe(existing.id)
    // Now linked: another subject claiming the same verified email cannot take it over.
    const other = sub('other')
    provider.account({ sub: other, email: existing.email, email_verified: true, realm_access: { roles: ['staff'] } })
    expect((await ssoSignIn(h, provider, other)).error).toBe('email_taken')
    // The password keeps working for the merged account.
    const password = await h.request({ method: 'POST', url: '/api/v1/auths/signin', payload: { email: existing.email, password: PASSWORD } })
    expect(password.statusCode).toBe(200)
  })

  it('an account provisioned by SCIM is the same account at its first OpenID sign-in (verified email), and stays it', async () => {
    const email = uniqueEmail('scim')
    const provisioned = await h.request({
      method: 'POST',
      url: '/api/v1/scim/v2/Users',
      headers: { authorization: `Bearer ${SCIM_TOKEN}`, 'content-type': 'application/scim+json' },
      payload: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: email, displayName: 'Sam Scim', active: true }),
    })
    expect(provisioned.statusCode, provisioned.body).toBe(201)
    const id = provisioned.json<{ id: string }>().id
    const who = sub('scim')
    provider.account({ sub: who, email, email_verified: true, name: 'Sam Scim', realm_access: { roles: ['staff'] } })
    expect((await signedIn(h, provider, who)).id).toBe(id)
    // The subject is linked now: found by it even after the provider changes the email.
    provider.account({ sub: who, email: uniqueEmail('renamed'), email_verified: true, name: 'Sam Scim', realm_access: { roles: ['staff'] } })
    expect((await signedIn(h, provider, who)).id).toBe(id)
  })

  it('refuses an email domain that is not allowed, and an account without roles the server allows', async () => {
    const outsider = sub('outsider')
    provider.account({ sub: outsider, email: `x-${outsider}@evil.example`, email_verified: true, realm_access: { roles: ['staff'] } })
    const domain = await ssoSignIn(h, provider, outsider)
    expect(domain.error).toBe('domain_not_allowed')
    expect(domain.token).toBeNull()

    const guest = sub('guest')
    provider.account({ sub: guest, email: uniqueEmail('guest'), email_verified: true, realm_access: { roles: ['guest'] } })
    expect((await ssoSignIn(h, provider, guest)).error).toBe('role_not_allowed')
    const refusals = await auditActions(h, { action: 'auth.signin_failed' })
    expect(refusals.map((e) => e.after?.['reason'])).toEqual(expect.arrayContaining(['domain_not_allowed', 'role_not_allowed', 'email_not_verified']))
    const count = await h.services.database.db.selectFrom('users').select('email').where('email', 'like', `x-${outsider}%`).execute()
    expect(count).toEqual([])
  })

  it('gives the admin role from OAUTH_ADMIN_ROLES, and a demotion by the provider ends every older session and the API key', async () => {
    const boss = sub('boss')
    provider.account({ sub: boss, email: uniqueEmail('boss'), email_verified: true, realm_access: { roles: ['staff', 'platform-admin'] } })
    const first = await signedIn(h, provider, boss)
    expect(first.role).toBe('admin')
    const key = await h.send(first, { method: 'POST', url: '/api/v1/auths/api_key' })
    expect(key.statusCode, key.body).toBe(200)
    const apiKey = key.json().api_key as string
    expect((await h.request({ method: 'GET', url: SESSION, headers: { authorization: `Bearer ${apiKey}` } })).statusCode).toBe(200)

    provider.account({ sub: boss, email: first.email, email_verified: true, realm_access: { roles: ['staff'] } })
    const demoted = await signedIn(h, provider, boss)
    expect(demoted.role).toBe('user')
    expect((await whoIs(h, first.token)).statusCode).toBe(401)
    expect((await h.request({ method: 'GET', url: SESSION, headers: { authorization: `Bearer ${apiKey}` } })).statusCode).toBe(401)
    expect((await whoIs(h, demoted.token)).statusCode).toBe(200)
    // Admin routes refuse the new session.
    expect((await h.send(demoted, { method: 'GET', url: '/api/v1/users/' })).statusCode).toBe(403)

    // Roles withdrawn altogether: the sign-in is refused and the session it still had ends too.
    provider.account({ sub: boss, email: first.email, email_verified: true, realm_access: { roles: [] } })
    expect((await ssoSignIn(h, provider, boss)).error).toBe('role_not_allowed')
    expect((await whoIs(h, demoted.token)).statusCode).toBe(401)
  })

  it('creates and syncs groups from the claim: added, then removed at the next sign-in, one change per membership in the audit', async () => {
    const who = sub('member')
    const email = uniqueEmail('member')
    const sales = `sales-${who}`
    const eng = `eng-${who}`
    // A group of a claimed name that exists already is reused, not duplicated.
    const existing = await h.send(h.admin, { method: 'POST', url: '/api/v1/groups/create', payload: { name: sales } })
    expect(existing.statusCode).toBe(200)
    provider.account({ sub: who, email, email_verified: true, realm_access: { roles: ['staff'] }, groups: [eng, sales, 'everyone'] })
    const member = await signedIn(h, provider, who)
    const joined = await groupsOf(h, member.id)
    expect(joined.map((g) => g.name).sort()).toEqual([eng, sales].sort())
    expect(joined.every((g) => g.managed_by === 'oidc')).toBe(true)
    expect(joined.find((g) => g.name === sales)?.id).toBe(existing.json().id)
    // The blocked group was neither created nor joined.
    const all = (await h.send(h.admin, { method: 'GET', url: '/api/v1/groups/' })).json<{ name: string }[]>()
    expect(all.filter((g) => g.name === 'everyone')).toEqual([])
    expect(all.filter((g) => g.name === sales)).toHaveLength(1)

    provider.account({ sub: who, email, email_verified: true, realm_access: { roles: ['staff'] }, groups: [sales] })
    await signedIn(h, provider, who)
    expect((await groupsOf(h, member.id)).map((g) => g.name)).toEqual([sales])
    const entries = await auditActions(h, { actor_id: member.id })
    const kinds = entries.map((e) => e.action)
    expect(kinds.filter((a) => a === 'group.members_add')).toHaveLength(2)
    expect(kinds.filter((a) => a === 'group.members_remove')).toHaveLength(1)
    expect(kinds.filter((a) => a === 'group.create')).toHaveLength(1)
    expect(entries.filter((e) => e.action.startsWith('group.')).every((e) => e.after?.['source'] === 'oidc')).toBe(true)
  })

  it('model access follows the synced group at once (no stale cached list)', async () => {
    const who = sub('reader')
    const email = uniqueEmail('reader')
    const team = `team-${who}`
    provider.account({ sub: who, email, email_verified: true, realm_access: { roles: ['staff'] }, groups: [team] })
    let reader = await signedIn(h, provider, who)
    const [group] = await groupsOf(h, reader.id)
    const modelId = `team-model-${who}`
    const created = await h.send(h.admin, {
      method: 'POST',
      url: `${M}/create`,
      payload: preset(modelId, { access_grants: [{ principal_type: 'group', principal_id: group?.id, permission: 'read' }] }),
    })
    expect(created.statusCode, created.body).toBe(200)
    const visible = async (account: TestAccount) => {
      const list = await h.send(account, { method: 'GET', url: `${M}/list` })
      const runtime = await h.send(account, { method: 'GET', url: '/api/models' })
      expect(list.statusCode).toBe(200)
      expect(runtime.statusCode).toBe(200)
      const inList = (list.json().items as { id: string }[]).some((m) => m.id === modelId)
      const inRuntime = (runtime.json().data as { id: string }[]).some((m) => m.id === modelId)
      expect(inRuntime).toBe(inList)
      return inList
    }
    expect(await visible(reader)).toBe(true)
    // The provider drops the group: the next sign-in removes it, and the model is gone from both lists.
    provider.account({ sub: who, email, email_verified: true, realm_access: { roles: ['staff'] }, groups: [] })
    reader = await signedIn(h, provider, who)
    expect(await groupsOf(h, reader.id)).toEqual([])
    expect(await visible(reader)).toBe(false)
    expect((await h.send(reader, { method: 'GET', url: `${M}/model`, query: { id: modelId } })).statusCode).toBe(404)
  })

  it('refuses member and name changes of a managed group by hand (409), and keeps its permissions editable', async () => {
    const who = sub('managed')
    const name = `managed-${who}`
    provider.account({ sub: who, email: uniqueEmail('managed'), email_verified: true, realm_access: { roles: ['staff'] }, groups: [name] })
    const member = await signedIn(h, provider, who)
    const [group] = await groupsOf(h, member.id)
    const other = await h.createUser('user')
    const id = group?.id ?? ''
    for (const [url, payload] of [
      [`/api/v1/groups/id/${id}/users/add`, { user_ids: [other.id] }],
      [`/api/v1/groups/id/${id}/users/remove`, { user_ids: [member.id] }],
      [`/api/v1/groups/id/${id}/update`, { user_ids: [] }],
      [`/api/v1/groups/id/${id}/update`, { name: 'renamed' }],
    ] as const) {
      const res = await h.send(h.admin, { method: 'POST', url, payload })
      expect(res.statusCode, url).toBe(409)
      expect(res.json()).toMatchObject({ code: 'CONFLICT' })
      expect(res.json().detail).toMatch(/identity provider/)
    }
    const perms = await h.send(h.admin, { method: 'POST', url: `/api/v1/groups/id/${id}/update`, payload: { permissions: { workspace: { models: true } } } })
    expect(perms.statusCode, perms.body).toBe(200)
    expect(perms.json().user_ids).toEqual([member.id])
    // A non-admin cannot touch it at all.
    expect((await h.send(member, { method: 'POST', url: `/api/v1/groups/id/${id}/users/add`, payload: { user_ids: [other.id] } })).statusCode).toBe(403)
  })

  it('refuses a tampered state, a tampered nonce, a callback without its flow cookie and an expired or replayed code', async () => {
    const who = sub('proto')
    provider.account({ sub: who, email: uniqueEmail('proto'), email_verified: true, realm_access: { roles: ['staff'] } })

    const tampered = await toCallback(h, provider, who)
    const badState = tampered.callbackPath.replace(/state=[^&]+/, 'state=forged-state-value')
    expect(outcomeOf(await callback(h, { ...tampered, callbackPath: badState })).error).toBe('invalid_state')

    // The nonce lives in the signed flow cookie: a cookie of another attempt carries another nonce (and
    // state), and a cookie edited by hand does not verify.
    const mine = await toCallback(h, provider, who)
    const forged = `${mine.flowCookie.slice(0, -4)}AAAA`
    expect(outcomeOf(await callback(h, mine, forged)).error).toBe('invalid_state')
    expect(outcomeOf(await callback(h, mine, '')).error).toBe('invalid_state')

    // A tampered nonce: the attempt's own cookie, re-sealed with the server's key (the test knows it)
    // with everything right but the nonce. The ID token's nonce no longer matches, and the sign-in is refused.
    const nonceRun = await toCallback(h, provider, who)
    const flow = new FlowCookie(TEST_SECRET)
    const secrets = flow.open(nonceRun.flowCookie.slice('oidc_flow='.length))
    expect(secrets).not.toBeNull()
    const resealed = `oidc_flow=${flow.seal({ ...(secrets as FlowSecrets), nonce: 'tampered-nonce-value-0123456789' })}`
    const nonceOutcome = outcomeOf(await callback(h, nonceRun, resealed))
    expect(nonceOutcome.error).toBe('invalid_nonce')
    expect(nonceOutcome.token).toBeNull()

    const replayed = await toCallback(h, provider, who)
    expect(outcomeOf(await callback(h, replayed)).token).not.toBeNull()
    const second = outcomeOf(await callback(h, replayed))
    expect(second.token).toBeNull()
    expect(second.error).toBe('invalid_code')

    const expired = await toCallback(h, provider, who)
    provider.expireCodes = true
    try {
      expect(outcomeOf(await callback(h, expired)).error).toBe('invalid_code')
    } finally {
      provider.expireCodes = false
    }

    const denied = await callback(h, {
      callbackPath: '/oauth/oidc/callback?error=access_denied&state=x',
      flowCookie: (await toCallback(h, provider, who)).flowCookie,
    })
    expect(outcomeOf(denied).error).toBe('provider_error')
  })

  it('answers the public config the sign-in page reads, and the admin the effective configuration with the secret masked', async () => {
    const pub = await h.request({ method: 'GET', url: '/api/config' })
    expect(pub.statusCode).toBe(200)
    expect(pub.json()).toMatchObject({ oauth: { providers: { oidc: 'Test IdP' } }, features: { enable_login_form: true, enable_oauth_signup: true } })
    const admin = await h.send(h.admin, { method: 'GET', url: '/api/v1/sso/config' })
    expect(admin.statusCode).toBe(200)
    expect(admin.body).not.toContain('modelgate-test-client-secret')
    const vars = Object.fromEntries((admin.json().variables as { name: string; value: string | null }[]).map((v) => [v.name, v.value]))
    expect(vars['OAUTH_CLIENT_SECRET']).toMatch(/set/)
    expect(vars['OAUTH_ROLES_CLAIM']).toBe('realm_access.roles')
    expect(vars['OAUTH_BLOCKED_GROUPS']).toBe('["everyone"]')
    const user = await h.createUser('user')
    expect((await h.send(user, { method: 'GET', url: '/api/v1/sso/config' })).statusCode).toBe(403)
    expect((await h.request({ method: 'GET', url: '/api/v1/sso/config' })).statusCode).toBe(401)
  })
})

describe.each(DIALECTS)('OpenID Connect: sign-up off, form off, client secret by form (%s)', (dialect) => {
  let provider: TestProvider
  let h: Harness

  beforeAll(async () => {
    provider = await startOidcProvider({ redirectUri: REDIRECT, authMethod: 'client_secret_post' })
    h = await createHarness(
      dialect,
      oidcEnv(provider, REDIRECT, { ENABLE_OAUTH_SIGNUP: 'false', ENABLE_LOGIN_FORM: 'false', OPENID_PROVIDER_URL: provider.issuer }),
    )
  })
  afterAll(async () => {
    await h.close()
    await provider.close()
  })

  it('uses client_secret_post when the provider advertises only that, and refuses an unknown account when sign-up is off', async () => {
    const stranger = sub('stranger')
    provider.account({ sub: stranger, email: uniqueEmail('stranger'), email_verified: true })
    // The code exchange succeeded (the provider accepts only the form), then the account rule refused.
    expect((await ssoSignIn(h, provider, stranger)).error).toBe('signup_disabled')
  })

  it('ENABLE_LOGIN_FORM=false refuses password sign-in and sign-up, except the break-glass for admins', async () => {
    const user = await h.services.auth.addUser(
      { name: 'Local', email: uniqueEmail('local'), password: PASSWORD, role: 'user' },
      { id: h.admin.id, role: 'admin' },
    )
    const refused = await h.request({ method: 'POST', url: '/api/v1/auths/signin', payload: { email: user.email, password: PASSWORD } })
    expect(refused.statusCode).toBe(403)
    expect(refused.json().detail).toMatch(/ENABLE_LOGIN_FORM/)
    // A wrong password still answers 401: the refusal reveals nothing to whoever lacks the password.
    expect((await h.request({ method: 'POST', url: '/api/v1/auths/signin', payload: { email: user.email, password: 'wrong-password' } })).statusCode).toBe(401)
    const admin = await h.request({ method: 'POST', url: '/api/v1/auths/signin', payload: { email: h.admin.email, password: PASSWORD } })
    expect(admin.statusCode).toBe(200)
    const signup = await h.request({ method: 'POST', url: '/api/v1/auths/signup', payload: { name: 'N', email: uniqueEmail('n'), password: PASSWORD } })
    expect(signup.statusCode).toBe(403)
    const pub = (await h.request({ method: 'GET', url: '/api/config' })).json()
    expect(pub.features).toMatchObject({ enable_login_form: false, enable_signup: false, enable_oauth_signup: false })
  })
})

describe('OpenID Connect not configured', () => {
  let h: Harness
  beforeAll(async () => {
    h = await createHarness(DIALECTS[0] ?? 'sqlite')
  })
  afterAll(async () => h.close())

  it('answers 404 on its routes and offers no provider', async () => {
    expect((await h.request({ method: 'GET', url: '/oauth/oidc/login' })).statusCode).toBe(404)
    expect((await h.request({ method: 'GET', url: '/oauth/oidc/callback?code=x&state=y' })).statusCode).toBe(404)
    expect((await h.request({ method: 'GET', url: '/api/config' })).json().oauth).toEqual({ providers: {} })
  })
})
