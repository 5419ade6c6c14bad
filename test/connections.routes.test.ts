/**
 * Route tests of `/api/v1/connections` (issue #4, item 1) on every dialect, against real HTTP fake
 * providers on 127.0.0.1: the auth ladder of every route; create, list, update, delete, test, refresh
 * and models; keys stored encrypted and never returned; connections from the environment (read-only);
 * URL validation; id prefixes; Ollama connections.
 */
import type { Connection, ConnectionTest } from '@modelgate/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { startFakeProvider, type FakeProvider } from './support/fake-provider.js'
import { createHarness, type Harness, type InjectOptions, type TestAccount } from './support/harness.js'
import { bearer } from './support/requests.js'
import { freePort } from './support/timing.js'

const C = '/api/v1/connections'
const UPSTREAM_KEY = 'sk-upstream-secret-9876'
const LIST_TIMEOUT_MS = 1_000
/** Short list timeout (failures come quickly) and a long TTL (listings are served from the cache). */
const ENV = { PROVIDER_LIST_TIMEOUT_MS: String(LIST_TIMEOUT_MS), MODELS_CACHE_TTL: '3600' }

type ConnectionOut = Connection
type TestOut = ConnectionTest

describe.each(DIALECTS)('connections routes on %s', (dialect) => {
  let h: Harness
  let user: TestAccount
  let pending: TestAccount
  /** OpenAI-compatible, wants UPSTREAM_KEY. */
  let keyed: FakeProvider
  let ollama: FakeProvider
  /** Its behaviour is switched by the tests of POST /test. */
  let shifty: FakeProvider
  const providers: FakeProvider[] = []

  const start = async (...args: Parameters<typeof startFakeProvider>) => {
    const provider = await startFakeProvider(...args)
    providers.push(provider)
    return provider
  }

  const admin = (options: Omit<InjectOptions, 'headers'>) => h.send(h.admin, options)

  async function create(payload: Record<string, unknown>): Promise<ConnectionOut> {
    const res = await admin({ method: 'POST', url: `${C}/create`, payload })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<ConnectionOut>()
  }

  async function list(): Promise<ConnectionOut[]> {
    const res = await admin({ method: 'GET', url: `${C}/` })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<ConnectionOut[]>()
  }

  async function test(id: string): Promise<TestOut> {
    const res = await admin({ method: 'POST', url: `${C}/id/${id}/test` })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<TestOut>()
  }

  async function modelsOf(id: string): Promise<string[]> {
    const res = await admin({ method: 'GET', url: `${C}/id/${id}/models` })
    expect(res.statusCode, res.body).toBe(200)
    return res
      .json<{ id: string }[]>()
      .map((m) => m.id)
      .sort()
  }

  async function baseModels(): Promise<{ id: string; upstream_id: string; connection_id: string }[]> {
    const res = await admin({ method: 'GET', url: '/api/models/base' })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ data: { id: string; upstream_id: string; connection_id: string }[] }>().data
  }

  async function rawRow(id: string) {
    return h.database.db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirst()
  }

  beforeAll(async () => {
    keyed = await start({ models: ['m-1', 'm-2'], apiKey: UPSTREAM_KEY })
    ollama = await start({ kind: 'ollama', models: ['llama3:8b', 'qwen2:1.5b'] })
    shifty = await start({ models: ['s-1'] })
    h = await createHarness(dialect, ENV)
    user = await h.createUser('user')
    pending = await h.createUser('pending')
  })

  afterAll(async () => {
    await h?.close()
    await Promise.all(providers.map((p) => p.close()))
  })

  // ─── auth ladder ──────────────────────────────────────────────────────────────────────────────

  describe('auth ladder', () => {
    type Route = { name: string; request: (id: string) => Omit<InjectOptions, 'headers'> }
    const routes: Route[] = [
      { name: 'GET /', request: () => ({ method: 'GET', url: `${C}/` }) },
      { name: 'POST /create', request: () => ({ method: 'POST', url: `${C}/create`, payload: { base_url: 'http://127.0.0.1:9/v1', enabled: false } }) },
      { name: 'POST /id/:id/update', request: (id) => ({ method: 'POST', url: `${C}/id/${id}/update`, payload: { name: 'renamed by ladder' } }) },
      { name: 'POST /id/:id/test', request: (id) => ({ method: 'POST', url: `${C}/id/${id}/test` }) },
      { name: 'GET /id/:id/models', request: (id) => ({ method: 'GET', url: `${C}/id/${id}/models` }) },
      { name: 'POST /refresh', request: () => ({ method: 'POST', url: `${C}/refresh` }) },
      { name: 'DELETE /id/:id/delete', request: (id) => ({ method: 'DELETE', url: `${C}/id/${id}/delete` }) },
    ]

    it.each(routes)('$name: 401 without or with a bad token, 403 for pending and users, 200 for admins', async (route) => {
      const target = await create({ name: 'ladder', base_url: keyed.baseUrl, api_key: UPSTREAM_KEY })
      const request = route.request(target.id)
      const countBefore = (await list()).length

      const none = await h.request(request)
      expect(none.statusCode).toBe(401)
      expect(none.json()).toMatchObject({ code: 'UNAUTHORIZED' })
      const bad = await h.request({ ...request, headers: bearer('not-a-token') })
      expect(bad.statusCode).toBe(401)
      expect(bad.json()).toMatchObject({ code: 'UNAUTHORIZED' })
      for (const account of [pending, user]) {
        const denied = await h.request({ ...request, headers: account.auth })
        expect(denied.statusCode, `${account.role}: ${denied.body}`).toBe(403)
        expect(denied.json()).toMatchObject({ code: 'ACCESS_PROHIBITED' })
        expect(denied.body).not.toContain(UPSTREAM_KEY)
      }
      // The refused requests changed nothing.
      const afterRefusals = await list()
      expect(afterRefusals).toHaveLength(countBefore)
      expect(afterRefusals.find((c) => c.id === target.id)?.name).toBe('ladder')

      const allowed = await h.request({ ...request, headers: h.admin.auth })
      expect(allowed.statusCode, allowed.body).toBe(200)
      expect(allowed.body).not.toContain(UPSTREAM_KEY)
    })
  })

  // ─── create, list, keys ───────────────────────────────────────────────────────────────────────

  describe('create and list', () => {
    it('creates a connection, never returning its key', async () => {
      const before = Math.floor(Date.now() / 1000)
      const res = await admin({ method: 'POST', url: `${C}/create`, payload: { base_url: `${keyed.baseUrl}//`, api_key: UPSTREAM_KEY } })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.body).not.toContain(UPSTREAM_KEY)
      expect(res.body).not.toContain('api_key')
      const created = res.json<ConnectionOut>()
      expect(created).toMatchObject({
        name: new URL(keyed.url).host, // defaults to the host
        kind: 'openai',
        base_url: keyed.baseUrl, // trailing slashes removed
        prefix_id: null,
        enabled: true,
        source: 'api',
        key_hint: 'sk-u…9876',
        status: { ok: null, model_count: 0, error: null, fetched_at: null },
      })
      expect(created.id).toMatch(/^[0-9a-f-]{36}$/)
      expect(created.created_at).toBeGreaterThanOrEqual(before - 1)
      expect(created.updated_at).toBe(created.created_at)

      const listed = await list()
      expect(listed.find((c) => c.id === created.id)).toMatchObject({ key_hint: 'sk-u…9876', source: 'api' })
      expect(JSON.stringify(listed)).not.toContain(UPSTREAM_KEY)
    })

    it('stores the key as ciphertext, and sends it to the provider as a bearer token', async () => {
      const created = await create({ name: 'keyed', base_url: keyed.baseUrl, api_key: UPSTREAM_KEY })
      const row = await rawRow(created.id)
      expect(row?.api_key_enc).toEqual(expect.any(String))
      expect(row?.api_key_enc).not.toContain(UPSTREAM_KEY)
      expect(row?.api_key_enc).not.toContain(Buffer.from(UPSTREAM_KEY).toString('base64'))
      expect(row?.api_key_enc).not.toContain(Buffer.from(UPSTREAM_KEY).toString('base64url'))
      expect(row?.api_key_enc?.startsWith('v1:')).toBe(true)
      expect(row?.key_hint).toBe('sk-u…9876')
      // Every stored column, not only api_key_enc, is free of the key.
      expect(JSON.stringify(row)).not.toContain(UPSTREAM_KEY)

      const before = keyed.requests.length
      const result = await test(created.id)
      expect(result).toMatchObject({ ok: true, model_count: 2, models: ['m-1', 'm-2'], error: null })
      expect(result.latency_ms).toBeGreaterThanOrEqual(0)
      expect(keyed.requests.slice(before).map((r) => r.headers.authorization)).toEqual([`Bearer ${UPSTREAM_KEY}`])
    })

    it('two connections with the same key get different ciphertexts', async () => {
      const a = await create({ base_url: keyed.baseUrl, api_key: UPSTREAM_KEY, enabled: false })
      const b = await create({ base_url: keyed.baseUrl, api_key: UPSTREAM_KEY, enabled: false })
      expect((await rawRow(a.id))?.api_key_enc).not.toBe((await rawRow(b.id))?.api_key_enc)
    })

    it('a connection without a key sends no authorization header', async () => {
      const created = await create({ name: 'open', base_url: shifty.baseUrl })
      expect(created.key_hint).toBeNull()
      expect((await rawRow(created.id))?.api_key_enc).toBeNull()
      const before = shifty.requests.length
      expect((await test(created.id)).ok).toBe(true)
      expect(shifty.requests.slice(before).map((r) => r.headers.authorization)).toEqual([undefined])
    })

    it('hints a short key without revealing it', async () => {
      const created = await create({ base_url: shifty.baseUrl, api_key: 'sk-1234', enabled: false })
      expect(created.key_hint).toBe('…')
      expect(JSON.stringify(created)).not.toContain('sk-1234')
    })

    it('reports the cache status of each connection in the list', async () => {
      const created = await create({ name: 'status', base_url: keyed.baseUrl, api_key: UPSTREAM_KEY })
      expect(await modelsOf(created.id)).toEqual(['m-1', 'm-2'])
      const status = (await list()).find((c) => c.id === created.id)?.status
      expect(status).toMatchObject({ ok: true, stale: false, model_count: 2, error: null })
      expect(status?.fetched_at).toEqual(expect.any(Number))
    })

    it.each([
      ['ftp://127.0.0.1/v1', 'another scheme'],
      ['not a url', 'not a URL'],
      ['http://user:secret@127.0.0.1:8000/v1', 'credentials in the URL'],
      ['http://:secret@127.0.0.1:8000/v1', 'a password in the URL'],
      ['', 'empty'],
      ['javascript:alert(1)', 'javascript:'],
    ])('refuses base_url %j (%s) with 400', async (baseUrl) => {
      const countBefore = (await list()).length
      const res = await admin({ method: 'POST', url: `${C}/create`, payload: { base_url: baseUrl } })
      expect(res.statusCode, res.body).toBe(400)
      expect(res.json()).toMatchObject({ code: 'VALIDATION_ERROR' })
      expect(res.json().detail).toContain('base_url')
      expect(res.body).not.toContain('secret')
      expect(await list()).toHaveLength(countBefore)
    })

    it.each([
      [{ kind: 'azure' }, 'kind'],
      [{ prefix_id: 'has.dot' }, 'prefix_id'],
      [{ prefix_id: 'x'.repeat(33) }, 'prefix_id'],
      [{ api_key: '' }, 'api_key'],
      [{ enabled: 'yes' }, 'enabled'],
    ])('refuses %j with 400 naming %s', async (extra, field) => {
      const res = await admin({ method: 'POST', url: `${C}/create`, payload: { base_url: keyed.baseUrl, ...extra } })
      expect(res.statusCode, res.body).toBe(400)
      expect(res.json().detail).toContain(field)
    })

    it('refuses a missing body field base_url', async () => {
      const res = await admin({ method: 'POST', url: `${C}/create`, payload: { name: 'no url' } })
      expect(res.statusCode).toBe(400)
      expect(res.json().detail).toContain('base_url')
    })
  })

  // ─── update and delete ────────────────────────────────────────────────────────────────────────

  describe('update', () => {
    it('changes name, base URL, prefix and enabled, and refetches the models', async () => {
      const created = await create({ name: 'before', base_url: shifty.baseUrl })
      expect(await modelsOf(created.id)).toEqual(['s-1'])
      const res = await admin({
        method: 'POST',
        url: `${C}/id/${created.id}/update`,
        payload: { name: 'after', base_url: keyed.baseUrl, api_key: UPSTREAM_KEY, prefix_id: 'kx' },
      })
      expect(res.statusCode, res.body).toBe(200)
      const updated = res.json<ConnectionOut>()
      expect(updated).toMatchObject({ id: created.id, name: 'after', base_url: keyed.baseUrl, prefix_id: 'kx', key_hint: 'sk-u…9876', enabled: true })
      expect(updated.updated_at).toBeGreaterThanOrEqual(created.updated_at)
      expect(await modelsOf(created.id)).toEqual(['kx.m-1', 'kx.m-2'])

      const disabled = await admin({ method: 'POST', url: `${C}/id/${created.id}/update`, payload: { enabled: false } })
      expect(disabled.json()).toMatchObject({ enabled: false, name: 'after', prefix_id: 'kx', key_hint: 'sk-u…9876' })
      expect(await modelsOf(created.id)).toEqual([])
      expect((await baseModels()).filter((m) => m.connection_id === created.id)).toEqual([])

      const cleared = await admin({ method: 'POST', url: `${C}/id/${created.id}/update`, payload: { prefix_id: null, enabled: true } })
      expect(cleared.json()).toMatchObject({ enabled: true, prefix_id: null })
      expect(await modelsOf(created.id)).toEqual(['m-1', 'm-2'])
    })

    it('keeps the key when api_key is absent, replaces it when given, and clears it with null', async () => {
      const created = await create({ base_url: keyed.baseUrl, api_key: UPSTREAM_KEY })
      const url = `${C}/id/${created.id}/update`

      const kept = await admin({ method: 'POST', url, payload: { name: 'kept key' } })
      expect(kept.json()).toMatchObject({ key_hint: 'sk-u…9876' })
      expect((await test(created.id)).ok).toBe(true)

      const replaced = await admin({ method: 'POST', url, payload: { api_key: 'sk-wrong-key-0000' } })
      expect(replaced.statusCode).toBe(200)
      expect(replaced.body).not.toContain('sk-wrong-key-0000')
      expect(replaced.json()).toMatchObject({ key_hint: 'sk-w…0000' })
      expect((await rawRow(created.id))?.api_key_enc).not.toContain('sk-wrong-key-0000')
      const refused = await test(created.id)
      expect(refused.ok).toBe(false)
      expect(refused.error).toContain('HTTP 401')

      const cleared = await admin({ method: 'POST', url, payload: { api_key: null } })
      expect(cleared.statusCode).toBe(200)
      expect(cleared.json()).toMatchObject({ key_hint: null })
      const row = await rawRow(created.id)
      expect(row?.api_key_enc).toBeNull()
      expect(row?.key_hint).toBeNull()
      const before = keyed.requests.length
      expect((await test(created.id)).ok).toBe(false)
      expect(keyed.requests.slice(before).map((r) => r.headers.authorization)).toEqual([undefined])
    })

    it('refuses an invalid base_url or prefix on update and changes nothing', async () => {
      const created = await create({ name: 'stays', base_url: keyed.baseUrl, enabled: false })
      for (const payload of [{ base_url: 'ftp://127.0.0.1/' }, { base_url: 'http://u:p@127.0.0.1/' }, { base_url: 'nope' }, { prefix_id: 'a b' }]) {
        const res = await admin({ method: 'POST', url: `${C}/id/${created.id}/update`, payload })
        expect(res.statusCode, JSON.stringify(payload)).toBe(400)
      }
      expect((await list()).find((c) => c.id === created.id)).toMatchObject({ name: 'stays', base_url: keyed.baseUrl, prefix_id: null })
    })

    it('answers 404 for an unknown connection', async () => {
      const updated = await admin({ method: 'POST', url: `${C}/id/no-such-connection/update`, payload: { name: 'x' } })
      expect(updated.statusCode).toBe(404)
      expect(updated.json()).toMatchObject({ code: 'NOT_FOUND' })
      const deleted = await admin({ method: 'DELETE', url: `${C}/id/no-such-connection/delete` })
      expect(deleted.statusCode).toBe(404)
      const tested = await admin({ method: 'POST', url: `${C}/id/no-such-connection/test` })
      expect(tested.statusCode).toBe(404)
      const models = await admin({ method: 'GET', url: `${C}/id/no-such-connection/models` })
      expect(models.statusCode).toBe(404)
      // An id shaped like an environment one that the environment does not give is simply unknown.
      const envLike = await admin({ method: 'POST', url: `${C}/id/env-openai-99/update`, payload: { name: 'x' } })
      expect(envLike.statusCode).toBe(404)
    })
  })

  describe('delete', () => {
    it('removes the connection and its models', async () => {
      const created = await create({ base_url: keyed.baseUrl, api_key: UPSTREAM_KEY, prefix_id: 'gone' })
      expect((await baseModels()).map((m) => m.id)).toContain('gone.m-1')
      const res = await admin({ method: 'DELETE', url: `${C}/id/${created.id}/delete` })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toBe(true)
      expect((await list()).map((c) => c.id)).not.toContain(created.id)
      expect(await rawRow(created.id)).toBeUndefined()
      expect((await baseModels()).map((m) => m.id)).not.toContain('gone.m-1')
      expect((await admin({ method: 'DELETE', url: `${C}/id/${created.id}/delete` })).statusCode).toBe(404)
    })
  })

  // ─── test, refresh, models ────────────────────────────────────────────────────────────────────

  describe('test', () => {
    it('reports each provider fault clearly, naming the provider, within the list timeout', async () => {
      const target = await create({ name: 'Shifty Inc', base_url: shifty.baseUrl })
      const cases = [
        ['error500', 'answered HTTP 500'],
        ['notJson', 'not JSON'],
        ['wrongShape', 'wrong shape'],
        ['hang', `did not answer within ${LIST_TIMEOUT_MS} ms`],
      ] as const
      try {
        for (const [behavior, message] of cases) {
          shifty.setBehavior(behavior)
          const started = performance.now()
          const result = await test(target.id)
          expect(performance.now() - started).toBeLessThan(LIST_TIMEOUT_MS + 5_000)
          expect(result, behavior).toMatchObject({ ok: false, model_count: 0, models: [] })
          expect(result.error).toContain(message)
          expect(result.error).toContain('"Shifty Inc"')
          expect(result.error).toContain(shifty.baseUrl)
        }
      } finally {
        shifty.setBehavior('ok')
      }
      expect(await test(target.id)).toMatchObject({ ok: true, models: ['s-1'] })
    })

    it('reports an unreachable provider (a closed port)', async () => {
      const url = `http://127.0.0.1:${await freePort()}/v1`
      const target = await create({ name: 'Nobody home', base_url: url })
      const result = await test(target.id)
      expect(result.ok).toBe(false)
      expect(result.error).toContain('"Nobody home"')
      expect(result.error).toContain(url)
      expect(result.error).toContain('unreachable')
      // Its model list is empty, marked failed, and other connections are still listed.
      expect(await modelsOf(target.id)).toEqual([])
      expect((await list()).find((c) => c.id === target.id)?.status).toMatchObject({ ok: false, stale: true, model_count: 0 })
      expect((await baseModels()).map((m) => m.id)).toContain('s-1')
    })

    it('bypasses the cache', async () => {
      const target = await create({ base_url: shifty.baseUrl })
      expect(await modelsOf(target.id)).toEqual(['s-1'])
      shifty.setModels(['s-1', 's-new'])
      try {
        expect(await modelsOf(target.id)).toEqual(['s-1']) // cached (MODELS_CACHE_TTL=3600)
        expect((await test(target.id)).models).toEqual(['s-1', 's-new'])
      } finally {
        shifty.setModels(['s-1'])
      }
    })
  })

  describe('refresh', () => {
    it('fetches every model list now and answers the connections with their status', async () => {
      const target = await create({ name: 'refreshed', base_url: shifty.baseUrl, prefix_id: 'rf' })
      expect(await modelsOf(target.id)).toEqual(['rf.s-1'])
      shifty.setModels(['s-1', 's-2'])
      try {
        expect(await modelsOf(target.id)).toEqual(['rf.s-1'])
        const res = await admin({ method: 'POST', url: `${C}/refresh` })
        expect(res.statusCode).toBe(200)
        const connections = res.json<ConnectionOut[]>()
        expect(connections.find((c) => c.id === target.id)?.status).toMatchObject({ ok: true, stale: false, model_count: 2 })
        expect(await modelsOf(target.id)).toEqual(['rf.s-1', 'rf.s-2'])
      } finally {
        shifty.setModels(['s-1'])
      }
    })

    it('keeps the last good list of a provider that fails, marked stale', async () => {
      const flaky = await start({ models: ['f-1', 'f-2'] })
      const target = await create({ name: 'Flaky', base_url: flaky.baseUrl, prefix_id: 'fl' })
      expect(await modelsOf(target.id)).toEqual(['fl.f-1', 'fl.f-2'])
      for (const fault of ['error500', 'down'] as const) {
        if (fault === 'down') await flaky.close()
        else flaky.setBehavior(fault)
        const res = await admin({ method: 'POST', url: `${C}/refresh` })
        expect(res.statusCode).toBe(200)
        const status = res.json<ConnectionOut[]>().find((c) => c.id === target.id)?.status
        expect(status, fault).toMatchObject({ ok: false, stale: true, model_count: 2 })
        expect(status?.error).toContain('"Flaky"')
        expect(await modelsOf(target.id)).toEqual(['fl.f-1', 'fl.f-2'])
        expect((await baseModels()).map((m) => m.id)).toEqual(expect.arrayContaining(['fl.f-1', 'fl.f-2']))
      }
    })
  })

  describe('models and prefixes', () => {
    it("lists a connection's models with name and owner", async () => {
      const target = await create({ base_url: keyed.baseUrl, api_key: UPSTREAM_KEY, prefix_id: 'own' })
      const res = await admin({ method: 'GET', url: `${C}/id/${target.id}/models` })
      expect(res.json()).toEqual([
        { id: 'own.m-1', name: 'm-1', owned_by: 'fake' },
        { id: 'own.m-2', name: 'm-2', owned_by: 'fake' },
      ])
    })

    it('prefixes model ids as <prefix>.<id> and strips the prefix when calling the provider', async () => {
      await create({ base_url: keyed.baseUrl, api_key: UPSTREAM_KEY, prefix_id: 'team_a' })
      const base = await baseModels()
      expect(base.find((m) => m.id === 'team_a.m-2')).toMatchObject({ upstream_id: 'm-2' })

      const before = keyed.requests.length
      const res = await admin({
        method: 'POST',
        url: '/api/chat/completions',
        payload: { model: 'team_a.m-2', messages: [{ role: 'user', content: 'hello prefix' }] },
      })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json().choices[0].message.content).toBe('echo: hello prefix')
      const sent = keyed.requests.slice(before).find((r) => r.path === '/v1/chat/completions')
      expect(sent?.body).toMatchObject({ model: 'm-2' })
      expect(sent?.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`)
    })
  })

  describe('Ollama', () => {
    it('discovers models through /api/tags and chats through its /v1', async () => {
      const created = await create({ name: 'Local Ollama', kind: 'ollama', base_url: `${ollama.url}/` })
      expect(created).toMatchObject({ kind: 'ollama', base_url: ollama.url })
      expect(await modelsOf(created.id)).toEqual(['llama3:8b', 'qwen2:1.5b'])
      expect(ollama.requests.some((r) => r.method === 'GET' && r.path === '/api/tags')).toBe(true)
      expect(ollama.requests.some((r) => r.path === '/v1/models' || r.path === '/models')).toBe(false)
      const listed = await admin({ method: 'GET', url: `${C}/id/${created.id}/models` })
      expect(listed.json<{ owned_by: string }[]>().every((m) => m.owned_by === 'ollama')).toBe(true)

      const before = ollama.requests.length
      const res = await admin({
        method: 'POST',
        url: '/v1/chat/completions',
        payload: { model: 'llama3:8b', messages: [{ role: 'user', content: 'hi ollama' }] },
      })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json().choices[0].message.content).toBe('echo: hi ollama')
      const sent = ollama.requests.slice(before)
      expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v1/chat/completions'])
      expect(sent[0]?.body).toMatchObject({ model: 'llama3:8b' })

      expect(await test(created.id)).toMatchObject({ ok: true, models: ['llama3:8b', 'qwen2:1.5b'] })
    })
  })
})

describe.each(DIALECTS)('connections from the environment on %s', (dialect) => {
  const FIRST_KEY = 'sk-env-first-1111'
  let h: Harness
  let first: FakeProvider
  let second: FakeProvider
  let ollama: FakeProvider

  beforeAll(async () => {
    first = await startFakeProvider({ models: ['env-a'], apiKey: FIRST_KEY })
    second = await startFakeProvider({ models: ['env-b'] })
    ollama = await startFakeProvider({ kind: 'ollama', models: ['env-llama'] })
    h = await createHarness(dialect, {
      ...ENV,
      OPENAI_API_BASE_URLS: `${first.baseUrl}/ ; ${second.baseUrl}`,
      OPENAI_API_KEYS: `${FIRST_KEY};`,
      OLLAMA_BASE_URLS: ollama.url,
    })
  })

  afterAll(async () => {
    await h?.close()
    await Promise.all([first, second, ollama].map((p) => p?.close()))
  })

  const admin = (options: Omit<InjectOptions, 'headers'>) => h.send(h.admin, options)

  it('lists them first, with source "env", keys paired by position and never shown', async () => {
    await admin({ method: 'POST', url: `${C}/create`, payload: { name: 'stored', base_url: second.baseUrl } })
    const res = await admin({ method: 'GET', url: `${C}/` })
    expect(res.statusCode).toBe(200)
    expect(res.body).not.toContain(FIRST_KEY)
    const connections = res.json<ConnectionOut[]>()
    expect(connections.map((c) => [c.id, c.kind, c.source, c.base_url, c.key_hint])).toEqual([
      ['env-openai-0', 'openai', 'env', first.baseUrl, 'sk-e…1111'],
      ['env-openai-1', 'openai', 'env', second.baseUrl, null],
      ['env-ollama-2', 'ollama', 'env', ollama.url, null],
      [expect.any(String), 'openai', 'api', second.baseUrl, null],
    ])
    expect(await h.database.db.selectFrom('connections').select('id').execute()).toHaveLength(1)
  })

  it('serves their models and sends the paired key only to its provider', async () => {
    const res = await admin({ method: 'GET', url: '/api/models/base' })
    expect(res.statusCode).toBe(200)
    const data = res.json<{ data: { id: string; connection_id: string }[] }>().data
    expect(data.map((m) => [m.id, m.connection_id])).toEqual(
      expect.arrayContaining([
        ['env-a', 'env-openai-0'],
        ['env-b', 'env-openai-1'],
        ['env-llama', 'env-ollama-2'],
      ]),
    )
    expect(first.requests.filter((r) => r.path === '/v1/models').map((r) => r.headers.authorization)).toContain(`Bearer ${FIRST_KEY}`)
    expect(second.requests.map((r) => r.headers.authorization)).not.toContain(`Bearer ${FIRST_KEY}`)
    expect(second.requests.every((r) => r.headers.authorization === undefined)).toBe(true)
    expect(ollama.requests.some((r) => r.path === '/api/tags')).toBe(true)

    const tested = await admin({ method: 'POST', url: `${C}/id/env-openai-0/test` })
    expect(tested.json()).toMatchObject({ ok: true, models: ['env-a'] })
    const models = await admin({ method: 'GET', url: `${C}/id/env-ollama-2/models` })
    expect(models.json()).toEqual([{ id: 'env-llama', name: 'env-llama', owned_by: 'ollama' }])
  })

  it('refuses to update or delete them (409)', async () => {
    for (const id of ['env-openai-0', 'env-openai-1', 'env-ollama-2']) {
      const updated = await admin({ method: 'POST', url: `${C}/id/${id}/update`, payload: { name: 'renamed', api_key: null } })
      expect(updated.statusCode, updated.body).toBe(409)
      expect(updated.json()).toMatchObject({ code: 'CONFLICT' })
      expect(updated.json().detail).toContain('environment')
      const deleted = await admin({ method: 'DELETE', url: `${C}/id/${id}/delete` })
      expect(deleted.statusCode).toBe(409)
      expect(deleted.json()).toMatchObject({ code: 'CONFLICT' })
    }
    const after = (await admin({ method: 'GET', url: `${C}/` })).json<ConnectionOut[]>()
    expect(after.find((c) => c.id === 'env-openai-0')).toMatchObject({ key_hint: 'sk-e…1111', name: expect.not.stringContaining('renamed') })
    expect((await admin({ method: 'POST', url: `${C}/id/env-openai-0/test` })).json()).toMatchObject({ ok: true })
  })
})
