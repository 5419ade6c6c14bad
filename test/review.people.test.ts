/**
 * Attack-minded review of issue #15's SCIM endpoint and issue #16's workspace and gateway (Try it, the
 * Responses, embeddings and completions routes, `status`, `/api/config`, the access log, the base models
 * list), on every dialect: each test is an attack by the least-privileged caller that can try it (a
 * stranger with a guessed token, a deactivated account, a reader, a builder), stating what must hold.
 * The hole the review found (a SCIM filter on a name of Object.prototype taken for a known attribute) is
 * kept as a test next to its fix in src/scim/scim-filter.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TryEvent } from '../src/gateway/try-it.schema.js'
import { createGroup } from './support/accounts.js'
import { DIALECTS } from './support/databases.js'
import { startFakeProvider, type FakeProvider } from './support/fake-provider.js'
import { uniqueEmail, userGrant } from './support/factories.js'
import { createHarness, PASSWORD, type Harness, type TestAccount } from './support/harness.js'
import { M } from './support/models.js'
import { expectError } from './support/requests.js'

const SCIM = '/api/v1/scim/v2'
const SCIM_TOKEN = 'scim-review-token-0123456789abcdef'
const SCIM_JSON = 'application/scim+json'
const PATCH_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const ERROR_URN = 'urn:ietf:params:scim:api:messages:2.0:Error'
const TRY = `${M}/model/try`
const HELLO = [{ role: 'user', content: 'Hello there' }]

const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` })

function eventsOf(body: string): TryEvent[] {
  return body
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice('data: '.length)) as TryEvent)
}

async function apiKeyOf(h: Harness, who: TestAccount): Promise<string> {
  const created = await h.send(who, { method: 'POST', url: '/api/v1/auths/api_key' })
  expect(created.statusCode, created.body).toBe(200)
  return created.json().api_key as string
}

describe.each(DIALECTS)('review: SCIM attacks on %s', (dialect) => {
  let h: Harness
  const scim = (method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, payload?: unknown, headers: Record<string, string> = bearer(SCIM_TOKEN)) =>
    h.request({
      method,
      url: `${SCIM}${url}`,
      headers: { ...headers, ...(payload !== undefined && { 'content-type': SCIM_JSON }) },
      ...(payload !== undefined && { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
    })
  const patch = (id: string, Operations: unknown[]) => scim('PATCH', `/Users/${id}`, { schemas: [PATCH_URN], Operations })
  const roleOf = async (id: string) => (await h.services.database.db.selectFrom('users').select('role').where('id', '=', id).executeTakeFirstOrThrow()).role
  const expectScimError = (
    res: { statusCode: number; json: () => { schemas?: unknown; status?: unknown; scimType?: unknown } },
    status: number,
    scimType?: string,
  ) => {
    expect(res.statusCode).toBe(status)
    expect(res.json()).toMatchObject({ schemas: [ERROR_URN], status: String(status), ...(scimType && { scimType }) })
  }

  beforeAll(async () => {
    h = await createHarness(dialect, { ENABLE_SCIM: 'true', SCIM_TOKEN })
  })
  afterAll(async () => h?.close())

  it('only the exact SCIM token opens SCIM: near misses, a second token, Basic, a query string and every account credential are 401', async () => {
    const key = await apiKeyOf(h, h.admin)
    const attempts: Record<string, string>[] = [
      bearer(`${SCIM_TOKEN}x`),
      bearer(SCIM_TOKEN.slice(0, -1)),
      bearer(SCIM_TOKEN.toUpperCase()),
      { authorization: `Bearer ${SCIM_TOKEN} ${SCIM_TOKEN}` },
      { authorization: `Basic ${Buffer.from(`scim:${SCIM_TOKEN}`).toString('base64')}` },
      { authorization: SCIM_TOKEN },
      {},
      bearer(h.admin.token),
      bearer(key),
      { cookie: `token=${h.admin.token}` },
    ]
    for (const headers of attempts) {
      const res = await scim('GET', '/Users', undefined, headers)
      expectScimError(res, 401)
      expect(res.body).not.toContain(h.admin.email)
    }
    expectScimError(await h.request({ method: 'GET', url: `${SCIM}/Users?access_token=${SCIM_TOKEN}` }), 401)
    // Lower-case scheme is still the token: RFC 7235 schemes are case-insensitive.
    expect((await scim('GET', '/Users', undefined, { authorization: `bearer ${SCIM_TOKEN}` })).statusCode).toBe(200)
  })

  it('deactivation ends every session at once, the cookie’s included, and the API key; an admin too', async () => {
    for (const role of ['user', 'admin'] as const) {
      const victim = await h.createUser(role, `Deactivated ${role}`)
      const key = await apiKeyOf(h, victim)
      const cookie = { cookie: `token=${victim.token}` }
      expect((await h.request({ method: 'GET', url: '/api/v1/auths/', headers: cookie })).statusCode).toBe(200)
      const off = await patch(victim.id, [{ op: 'replace', path: 'active', value: 'False' }])
      expect(off.statusCode, off.body).toBe(200)
      expect(off.json().active).toBe(false)
      expect((await h.request({ method: 'GET', url: '/api/v1/auths/', headers: cookie })).statusCode).toBe(401)
      expect((await h.request({ method: 'GET', url: `${M}/model/profile/image?id=anything`, headers: cookie })).statusCode).toBe(401)
      expect((await h.send(victim, { method: 'GET', url: '/api/v1/auths/' })).statusCode).toBe(401)
      expect((await h.request({ method: 'GET', url: '/v1/models', headers: bearer(key) })).statusCode).toBe(401)
      expect(await roleOf(victim.id)).toBe('pending')
      // Signing in again by password gives a pending account that may use nothing.
      const again = await h.request({ method: 'POST', url: '/api/v1/auths/signin', payload: { email: victim.email, password: PASSWORD } })
      expect(again.statusCode).toBe(200)
      expectError(await h.request({ method: 'GET', url: '/api/models', headers: bearer(again.json().token) }), 403, 'ACCESS_PROHIBITED')
    }
  })

  it('PATCH cannot make anyone an admin, and cannot take another account’s userName or change an id', async () => {
    const target = await h.createUser('user', 'Target')
    const other = await h.createUser('user', 'Other')
    const attempts = [
      [{ op: 'add', path: 'roles', value: [{ value: 'admin', primary: true }] }],
      [{ op: 'replace', value: { role: 'admin', roles: [{ value: 'admin' }], userType: 'admin' } }],
      [{ op: 'replace', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department', value: 'admin' }],
      [{ op: 'replace', path: 'active', value: true }],
    ]
    for (const Operations of attempts) {
      const res = await patch(target.id, Operations)
      expect(res.statusCode, res.body).toBeLessThan(500)
      expect(await roleOf(target.id)).toBe('user')
    }
    expectScimError(await patch(target.id, [{ op: 'replace', path: 'userName', value: other.email.toUpperCase() }]), 409, 'uniqueness')
    expectScimError(await patch(target.id, [{ op: 'replace', path: 'id', value: other.id }]), 400, 'mutability')
    expectScimError(await patch(target.id, [{ op: 'replace', value: { id: other.id, displayName: 'Hijack' } }]), 400, 'mutability')
    const others = await scim('GET', `/Users/${other.id}`)
    expect(others.json()).toMatchObject({ userName: other.email, displayName: 'Other', active: true })
    expect((await scim('GET', `/Users/${target.id}`)).json()).toMatchObject({ userName: target.email, displayName: 'Target' })
  })

  it('a filter on an attribute this server does not know is refused, Object.prototype’s names included (hole: fixed in scim-filter.ts)', async () => {
    for (const resource of ['/Users', '/Groups']) {
      for (const attribute of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'password']) {
        const res = await h.request({ method: 'GET', url: `${SCIM}${resource}`, headers: bearer(SCIM_TOKEN), query: { filter: `${attribute} eq "x"` } })
        expectScimError(res, 400, 'invalidFilter')
      }
    }
    // Values are data, never SQL or filter syntax.
    const sneaky = await h.request({ method: 'GET', url: `${SCIM}/Users`, headers: bearer(SCIM_TOKEN), query: { filter: `userName eq "x' OR '1'='1"` } })
    expect(sneaky.statusCode, sneaky.body).toBe(200)
    expect(sneaky.json().totalResults).toBe(0)
    const injected = await h.request({
      method: 'GET',
      url: `${SCIM}/Users`,
      headers: bearer(SCIM_TOKEN),
      query: { filter: `userName eq "a" or userName pr` },
    })
    expectScimError(injected, 400, 'invalidFilter')
  })

  it('huge and deep requests are 4xx SCIM errors, never 5xx, and write nothing', async () => {
    const users = async () =>
      Number(
        (
          await h.services.database.db
            .selectFrom('users')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      )
    const before = await users()
    const id = (await h.createUser('user')).id
    const cases: { res: Awaited<ReturnType<typeof scim>>; status: number }[] = [
      { res: await scim('POST', '/Users', { schemas: [USER_URN], userName: `${'a'.repeat(400)}@example.com` }), status: 400 },
      { res: await scim('POST', '/Users', { schemas: [USER_URN], userName: uniqueEmail('big'), displayName: 'x'.repeat(600) }), status: 400 },
      { res: await scim('POST', '/Users', { schemas: [USER_URN], userName: uniqueEmail('huge'), displayName: 'x'.repeat(1536 * 1024) }), status: 413 },
      {
        res: await scim('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'Crowd', members: Array.from({ length: 10_001 }, () => ({ value: id })) }),
        status: 400,
      },
      {
        res: await patch(
          id,
          Array.from({ length: 1001 }, () => ({ op: 'replace', path: 'displayName', value: 'x' })),
        ),
        status: 400,
      },
      { res: await patch(id, [{ op: 'replace', path: 'displayName', value: JSON.parse(`${'['.repeat(200)}1${']'.repeat(200)}`) }]), status: 400 },
      { res: await scim('POST', '/Users', `{"schemas": ["${USER_URN}"], "userName": `), status: 400 },
      {
        res: await h.request({ method: 'GET', url: `${SCIM}/Users`, headers: bearer(SCIM_TOKEN), query: { filter: `userName eq "${'x'.repeat(3000)}"` } }),
        status: 400,
      },
    ]
    for (const { res, status } of cases) {
      expect(res.statusCode, res.body.slice(0, 300)).toBe(status)
      expect(res.json().schemas).toEqual([ERROR_URN])
    }
    expect(await users()).toBe(before + 1)
  })
})

describe.each(DIALECTS)('review: Try it, the gateway and what the workspace tells on %s', (dialect) => {
  let h: Harness
  let provider: FakeProvider
  let builder: TestAccount
  let sharer: TestAccount
  let reader: TestAccount
  let outsider: TestAccount
  const log: string[] = []

  const tryIt = (who: TestAccount, payload: unknown) => h.send(who, { method: 'POST', url: TRY, payload })
  const create = async (who: TestAccount, body: Record<string, unknown>) => {
    const res = await h.send(who, { method: 'POST', url: `${M}/create`, payload: { meta: {}, params: {}, ...body } })
    expect(res.statusCode, res.body).toBe(200)
  }

  beforeAll(async () => {
    provider = await startFakeProvider({ models: ['base-llm', 'secret-llm'], apiKey: 'sk-review-provider-key' })
    h = await createHarness(dialect, { MODELS_CACHE_TTL: '3600', LOG_LEVEL: 'debug' }, { logStream: { write: (line: string) => void log.push(line) } })
    const connection = await h.send(h.admin, {
      method: 'POST',
      url: '/api/v1/connections/create',
      payload: { name: 'Lab', base_url: provider.baseUrl, api_key: 'sk-review-provider-key' },
    })
    expect(connection.statusCode, connection.body).toBe(200)
    // base-llm is shared with everyone; secret-llm with nobody.
    await h.shareBase('base-llm')
    builder = await h.createUser('user', 'Builder')
    sharer = await h.createUser('user', 'Sharer')
    reader = await h.createUser('user', 'Reader')
    outsider = await h.createUser('user', 'Outsider')
    await createGroup(h, 'Builders', { workspace: { models: true }, sharing: { models: true } }, [builder.id, sharer.id])
    await create(builder, { id: 'rv-inner-private', name: 'Inner', base_model_id: 'base-llm', params: { system: 'Inner secret prompt' } })
    await create(builder, {
      id: 'rv-middle',
      name: 'Middle',
      base_model_id: 'rv-inner-private',
      access_grants: [userGrant(sharer.id, 'read')],
    })
    await create(sharer, { id: 'rv-outer', name: 'Outer', base_model_id: 'rv-middle', access_grants: [userGrant(reader.id, 'read')] })
    await create(builder, {
      id: 'rv-preset',
      name: 'Preset',
      base_model_id: 'base-llm',
      params: { system: 'Be brief.' },
      access_grants: [userGrant(reader.id, 'read')],
    })
  })
  afterAll(async () => {
    await h?.close()
    await provider?.close()
  })

  it('a draft cannot reach a base its author may not use: an unshared provider model or another user’s private preset', async () => {
    const calls = provider.requests.length
    for (const base of ['secret-llm', 'rv-inner-private']) {
      const draft = { base_model_id: base, params: { system: 'x' } }
      expectError(await tryIt(sharer, { draft, messages: HELLO }), 404, 'MODEL_NOT_FOUND')
      expectError(await tryIt(sharer, { id: 'rv-outer', draft, messages: HELLO }), 404, 'MODEL_NOT_FOUND')
    }
    // Saved, the chain follows the caller's rights too: the reader cannot read rv-middle.
    expectError(await tryIt(reader, { id: 'rv-outer', messages: HELLO }), 404, 'MODEL_NOT_FOUND')
    expect(provider.requests.length).toBe(calls)
  })

  it('draft fields cannot move the call: the model, the URL and the credential stay the connection’s', async () => {
    const before = provider.requests.length
    const draft = {
      base_model_id: 'base-llm',
      params: { custom_params: { model: 'secret-llm', base_url: 'http://169.254.169.254/latest/', api_key: 'sk-attacker', headers: { authorization: 'x' } } },
    }
    const res = await tryIt(builder, { id: 'rv-preset', draft, messages: HELLO })
    expect(res.statusCode, res.body).toBe(200)
    const sent = provider.requests.slice(before)
    expect(sent).toHaveLength(1)
    expect(sent[0]?.path).toBe('/v1/chat/completions')
    expect(sent[0]?.body?.['model']).toBe('base-llm')
    expect(sent[0]?.headers.authorization).toBe('Bearer sk-review-provider-key')
    expect(res.body).not.toContain('sk-review-provider-key')
  })

  it('a provider failing before or during the stream is an error in the answer, never a 500, and a reader never reads its words', async () => {
    try {
      provider.setBehavior('error500')
      const refused = await tryIt(reader, { id: 'rv-preset', messages: HELLO })
      expectError(refused, 502, 'PROVIDER_ERROR')
      expect(refused.body).not.toContain('the fake provider failed')
      for (const behavior of ['cutStream', 'errorEvent', 'notJson'] as const) {
        provider.setBehavior(behavior)
        const res = await tryIt(reader, { id: 'rv-preset', messages: HELLO })
        expect(res.statusCode, `${behavior}: ${res.body}`).toBe(200)
        const last = eventsOf(res.body).at(-1)
        expect(last?.type, behavior).toBe('error')
      }
    } finally {
      provider.setBehavior('ok')
    }
  })

  it('/v1/responses, /v1/embeddings and /v1/completions: an unshared provider model is 404 like an unknown id; a reader’s answers name the preset', async () => {
    const routes = [
      { url: '/v1/responses', payload: (model: string) => ({ model, input: 'hi' }) },
      { url: '/v1/embeddings', payload: (model: string) => ({ model, input: 'hi' }) },
      { url: '/v1/completions', payload: (model: string) => ({ model, prompt: 'hi' }) },
    ]
    const calls = provider.requests.length
    for (const route of routes) {
      const secret = await h.send(reader, { method: 'POST', url: route.url, payload: route.payload('secret-llm') })
      const unknown = await h.send(reader, { method: 'POST', url: route.url, payload: route.payload('no-such-llm') })
      for (const res of [secret, unknown]) expect(res.json()).toMatchObject({ code: 'MODEL_NOT_FOUND', error: { code: 'MODEL_NOT_FOUND' } })
      expect(secret.json<{ detail: string }>().detail).toBe(unknown.json<{ detail: string }>().detail.replace('no-such-llm', 'secret-llm'))
    }
    expect(provider.requests.length).toBe(calls)
    for (const route of routes) {
      const res = await h.send(reader, { method: 'POST', url: route.url, payload: route.payload('rv-preset') })
      expect(res.statusCode, `${route.url}: ${res.body}`).toBe(200)
      expect(res.json().model).toBe('rv-preset')
    }
  })

  it('a status names at most the first hop the caller cannot read, never a model further down', async () => {
    const res = await h.send(reader, { method: 'GET', url: `${M}/model`, query: { id: 'rv-outer' } })
    expect(res.statusCode, res.body).toBe(200)
    const status = res.json().status as { ok: boolean; reason?: string }
    expect(status.ok).toBe(false)
    expect(status.reason).toContain('rv-middle')
    expect(res.body).not.toContain('rv-inner-private')
    expect(res.body).not.toContain('Inner secret prompt')
    const list = await h.send(reader, { method: 'GET', url: `${M}/list` })
    expect(list.body).not.toContain('rv-inner-private')
    // The sharer, who reads rv-middle, is told no more about the private hop below it than its id there.
    const forSharer = await h.send(sharer, { method: 'GET', url: `${M}/model`, query: { id: 'rv-middle' } })
    expect(forSharer.body).not.toContain('Inner secret prompt')
  })

  it('/api/config tells an anonymous caller one boolean about accounts, and the base models list is for admins only', async () => {
    const config = await h.request({ method: 'GET', url: '/api/config' })
    expect(config.statusCode).toBe(200)
    expect(Object.keys(config.json()).sort()).toEqual(['features', 'name', 'oauth', 'onboarding', 'status', 'version'])
    expect(config.json().onboarding).toBe(false)
    for (const secret of [h.admin.email, h.admin.id, 'Lab', provider.baseUrl, 'base-llm']) expect(config.body).not.toContain(secret)

    const key = await apiKeyOf(h, builder)
    for (const url of ['/api/models/base', `${M}/base/list`]) {
      expectError(await h.send(builder, { method: 'GET', url }), 403, 'ACCESS_PROHIBITED')
      expectError(await h.request({ method: 'GET', url, headers: bearer(key) }), 403, 'ACCESS_PROHIBITED')
      expect((await h.request({ method: 'GET', url })).statusCode).toBe(401)
    }
  })

  it('the access log (debug) writes no query string, credential or password', async () => {
    const key = await apiKeyOf(h, outsider)
    const querySecret = 'q-secret-in-the-query-5151'
    expect((await h.request({ method: 'GET', url: `/v1/models?api_key=${querySecret}`, headers: bearer(key) })).statusCode).toBe(200)
    await h.request({ method: 'POST', url: '/api/v1/auths/signin', payload: { email: outsider.email, password: PASSWORD } })
    await h.request({ method: 'POST', url: '/api/v1/auths/signin', payload: { email: outsider.email, password: 'wrong-password-9191' } })
    await h.request({ method: 'GET', url: `/api/v1/auths/?token=${outsider.token}`, headers: { cookie: `token=${outsider.token}` } })
    const text = log.join('\n')
    expect(text).toContain('/v1/models')
    for (const secret of [querySecret, key, PASSWORD, 'wrong-password-9191', outsider.token, 'sk-review-provider-key']) expect(text).not.toContain(secret)
  })
})
