/**
 * The runtime model list and the OpenAI-compatible gateway (issue #4, items 3–5) on every dialect,
 * over real HTTP: modelgate listens on 127.0.0.1, fake providers too, and the official openai client
 * is the caller. Covers override rows, access rules (listing and call time), presets and their base
 * chains, streaming (order, abort, cut, stall) and every provider fault the issue names, each a clear
 * error naming the provider and never a hang.
 *
 * Timing assertions are generous upper bounds ("answers within seconds when the timeout is 1 s") and
 * lower bounds that timers guarantee; nothing depends on the machine being fast.
 */
import { createServer as createHttpServer } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { RuntimeModel } from '@modelgate/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { startFakeProvider, type FakeProvider, type FakeProviderOptions } from './support/fake-provider.js'
import { userGrant } from './support/factories.js'
import { createHarness, type Harness, type InjectOptions, type TestAccount } from './support/harness.js'
import { bearer } from './support/requests.js'
import { freePort } from './support/timing.js'

const CHAT_TIMEOUT_MS = 1_000
const ENV = {
  PROVIDER_CHAT_TIMEOUT_MS: String(CHAT_TIMEOUT_MS),
  PROVIDER_LIST_TIMEOUT_MS: '1000',
  // Lists stay cached for the whole file unless a test refreshes them: no background refresh races.
  MODELS_CACHE_TTL: '3600',
}
const MAIN_KEY = 'sk-main-upstream-4242'
const SLASH_ID = 'meta-llama/Llama-3.1-8B'
const PUBLIC_READ = [{ principal_type: 'user', principal_id: '*', permission: 'read' }]
const USER_MSG = [{ role: 'user' as const, content: 'What is a JOIN?' }]

type RuntimeModelOut = RuntimeModel

type ApiError = InstanceType<typeof OpenAI.APIError>

/**
 * A provider whose streams break off in the middle: the status line and two chunks go out, then the
 * connection is destroyed.
 */
async function startMidStreamCutter(): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const chunk = (content: string) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-cut', object: 'chat.completion.chunk', created: 1, model: 'midcut-m', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`
  const server = createHttpServer((req, res) => {
    if (req.method === 'GET' && req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'midcut-m', object: 'model', created: 1, owned_by: 'cutter' }] }))
      return
    }
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(chunk('part one'))
      setTimeout(() => res.write(chunk(' part two')), 50)
      setTimeout(() => res.socket?.destroy(), 150)
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: () => {
      for (const socket of sockets) socket.destroy()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** Runs `work` and resolves to what it threw (failing the test if it did not throw). */
async function thrown(work: () => Promise<unknown>): Promise<ApiError> {
  try {
    await work()
  } catch (error) {
    expect(error).toBeInstanceOf(OpenAI.APIError)
    return error as ApiError
  }
  throw new Error('expected the call to fail')
}

async function timedThrown(work: () => Promise<unknown>): Promise<{ error: ApiError; ms: number }> {
  const started = performance.now()
  const error = await thrown(work)
  return { error, ms: performance.now() - started }
}

describe.each(DIALECTS)('gateway on %s', (dialect) => {
  let h: Harness
  let baseURL: string
  let member: TestAccount
  let memberKey: string
  let outsider: TestAccount
  let pending: TestAccount
  const providers: FakeProvider[] = []
  /** Serves base-a, base-b, the slash id and the models that get override rows. */
  let main: FakeProvider
  let slow: FakeProvider
  let staller: FakeProvider
  let hanger: FakeProvider
  let failer: FakeProvider
  let garbler: FakeProvider
  let cutter: FakeProvider
  let downer: FakeProvider
  let midcut: Awaited<ReturnType<typeof startMidStreamCutter>>

  const start = async (options: FakeProviderOptions) => {
    const provider = await startFakeProvider(options)
    providers.push(provider)
    return provider
  }
  const admin = (options: Omit<InjectOptions, 'headers'>) => h.send(h.admin, options)
  /** The openai client as `credential` (session token or API key); no retries, so faults show at once. */
  const client = (credential: string) => new OpenAI({ apiKey: credential, baseURL, maxRetries: 0, timeout: 20_000 })

  async function connect(name: string, provider: { baseUrl: string }, apiKey?: string): Promise<string> {
    const res = await admin({
      method: 'POST',
      url: '/api/v1/connections/create',
      payload: { name, base_url: provider.baseUrl, ...(apiKey && { api_key: apiKey }) },
    })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ id: string }>().id
  }

  async function createModel(payload: Record<string, unknown>, as: TestAccount | null = null) {
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/models/create',
      headers: (as ?? h.admin).auth,
      payload: { meta: {}, params: {}, ...payload },
    })
    return res
  }

  async function createModelOk(payload: Record<string, unknown>): Promise<void> {
    const res = await createModel(payload)
    expect(res.statusCode, res.body).toBe(200)
  }

  async function setGrants(id: string, grants: unknown[]): Promise<void> {
    const res = await admin({ method: 'POST', url: '/api/v1/models/model/access/update', payload: { id, access_grants: grants } })
    expect(res.statusCode, res.body).toBe(200)
  }

  async function runtimeList(account: TestAccount, url = '/api/models'): Promise<RuntimeModelOut[]> {
    const res = await h.request({ method: 'GET', url, headers: account.auth })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ data: RuntimeModelOut[] }>().data
  }
  const idsOf = (models: { id: string }[]) => models.map((m) => m.id).sort()
  const chatRequests = (provider: FakeProvider) => provider.requests.filter((r) => r.path === '/v1/chat/completions')

  beforeAll(async () => {
    main = await start({ models: ['base-a', 'base-b', SLASH_ID, 'renamed-m', 'hidden-m', 'restricted-m'], apiKey: MAIN_KEY })
    slow = await start({ models: ['slow-m'], behavior: 'slowStream', chunks: 6, chunkDelayMs: 150 })
    // Pauses longer than the chat timeout between two chunks.
    staller = await start({ models: ['stall-m'], behavior: 'slowStream', chunks: 3, chunkDelayMs: CHAT_TIMEOUT_MS * 3 })
    hanger = await start({ models: ['hang-m'] })
    failer = await start({ models: ['fail-m'] })
    garbler = await start({ models: ['garble-m'] })
    cutter = await start({ models: ['cut-m'], behavior: 'drop' })
    downer = await start({ models: ['down-m'] })
    midcut = await startMidStreamCutter()

    h = await createHarness(dialect, ENV)
    await h.app.listen({ port: 0, host: '127.0.0.1' })
    baseURL = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}/v1`
    member = await h.createUser('user', 'Member')
    outsider = await h.createUser('user', 'Outsider')
    pending = await h.createUser('pending', 'Pending')
    const key = await h.request({ method: 'POST', url: '/api/v1/auths/api_key', headers: member.auth })
    expect(key.statusCode, key.body).toBe(200)
    memberKey = key.json<{ api_key: string }>().api_key

    await connect('Main', main, MAIN_KEY)
    await connect('Slowpoke', slow)
    await connect('Staller', staller)
    await connect('Hanger', hanger)
    await connect('Failer', failer)
    await connect('Garbler', garbler)
    await connect('Cutter', cutter)
    await connect('Downer', downer)
    await connect('Midcut', midcut)
    // One listing fetches every model list (then cached for the file).
    const base = await admin({ method: 'GET', url: '/api/models/base' })
    expect(idsOf(base.json<{ data: { id: string }[] }>().data)).toEqual(
      [
        'base-a',
        'base-b',
        'cut-m',
        'down-m',
        'fail-m',
        'garble-m',
        'hang-m',
        'hidden-m',
        SLASH_ID,
        'midcut-m',
        'renamed-m',
        'restricted-m',
        'slow-m',
        'stall-m',
      ].sort(),
    )
    // Now that their lists are known, these providers start misbehaving.
    hanger.setBehavior('hang')
    failer.setBehavior('error500')
    garbler.setBehavior('notJson')

    const group = await admin({ method: 'POST', url: '/api/v1/groups/create', payload: { name: 'Readers', user_ids: [member.id] } })
    expect(group.statusCode, group.body).toBe(200)
    const groupId = group.json<{ id: string }>().id

    // Override rows of provider models.
    await createModelOk({
      id: 'renamed-m',
      base_model_id: null,
      name: 'Pretty Name',
      meta: { description: 'An overridden model', tags: ['fast'], profile_image_url: 'data:image/png;base64,AAAA' },
      access_grants: PUBLIC_READ,
    })
    await createModelOk({ id: 'hidden-m', base_model_id: null, name: 'Hidden', is_active: false, access_grants: PUBLIC_READ })
    await createModelOk({ id: 'restricted-m', base_model_id: null, name: 'Restricted', access_grants: [userGrant(member.id)] })
    // Presets.
    await createModelOk({
      id: 'tutor',
      base_model_id: 'base-a',
      name: 'SQL tutor',
      params: { system: 'You teach SQL.', temperature: 0.2, max_tokens: 64, locked: ['temperature'], custom_params: { seed: '42' } },
      access_grants: [{ principal_type: 'group', principal_id: groupId, permission: 'read' }],
    })
    await createModelOk({ id: 'inner-private', base_model_id: 'base-b', name: 'Inner', params: { temperature: 0.1, max_tokens: 10, top_p: 0.9 } })
    await createModelOk({
      id: 'outer',
      base_model_id: 'inner-private',
      name: 'Outer',
      params: { temperature: 0.7, system: 'Outer system.' },
      access_grants: PUBLIC_READ,
    })
    await createModelOk({ id: 'on-restricted', base_model_id: 'restricted-m', name: 'On restricted', access_grants: PUBLIC_READ })
    await createModelOk({ id: 'orphan', base_model_id: 'not-served-anywhere', name: 'Orphan', access_grants: PUBLIC_READ })
    await createModelOk({ id: 'inactive-preset', base_model_id: 'base-a', name: 'Off', is_active: false, access_grants: PUBLIC_READ })
    await createModelOk({ id: 'admin-private', base_model_id: 'base-a', name: 'Admin private' })
  })

  afterAll(async () => {
    await h?.close()
    await Promise.all([...providers.map((p) => p.close()), midcut?.close()])
  })

  // ─── GET /api/models ──────────────────────────────────────────────────────────────────────────

  describe('GET /api/models', () => {
    it('answers 401 without credentials and 403 to pending accounts', async () => {
      for (const url of ['/api/models', '/api/v1/models', '/v1/models']) {
        expect((await h.request({ method: 'GET', url })).statusCode).toBe(401)
        expect((await h.request({ method: 'GET', url, headers: bearer('garbage') })).statusCode).toBe(401)
        expect((await h.request({ method: 'GET', url, headers: pending.auth })).statusCode).toBe(403)
      }
    })

    it('guards model retrieve and chat the same way: 401, 403 for pending, 404 for an unknown model', async () => {
      const chat = { model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }
      const calls = [
        { method: 'GET' as const, url: '/v1/models/no-such-model' },
        { method: 'POST' as const, url: '/v1/chat/completions', payload: chat },
      ]
      for (const call of calls) {
        expect((await h.request(call)).statusCode).toBe(401)
        expect((await h.request({ ...call, headers: bearer('garbage') })).statusCode).toBe(401)
        expect((await h.request({ ...call, headers: pending.auth })).statusCode).toBe(403)
        const missing = await h.request({ ...call, headers: member.auth })
        expect(missing.statusCode).toBe(404)
        expect(missing.json().code).toBe('MODEL_NOT_FOUND')
      }
    })

    it('gives admins the raw provider models and every active preset', async () => {
      const models = await runtimeList(h.admin)
      const ids = idsOf(models)
      expect(ids).toEqual(expect.arrayContaining(['base-a', 'base-b', SLASH_ID, 'slow-m', 'renamed-m', 'restricted-m', 'tutor', 'outer', 'admin-private']))
      // Hidden by its override row, for admins too; an inactive preset is not listed.
      expect(ids).not.toContain('hidden-m')
      expect(ids).not.toContain('inactive-preset')
      const raw = models.find((m) => m.id === 'base-a')
      expect(raw).toMatchObject({
        name: 'base-a',
        object: 'model',
        // Open WebUI's owner ("openai" for every OpenAI connection); /v1/models keeps the provider's word.
        owned_by: 'openai',
        connection_type: 'external',
        urlIdx: 0,
        actions: [],
        filters: [],
        preset: false,
        base_model_id: null,
        base_model_missing: false,
        info: null,
      })
      expect(raw?.connection_id).toEqual(expect.any(String))
    })

    it('shows a user only the models they may read: override rows with grants, readable presets', async () => {
      const ids = idsOf(await runtimeList(member))
      // outer is public, but its base is not readable by member: listed like a preset whose base is
      // missing (issue #10, hole 13), and not callable.
      expect(ids).toEqual(['on-restricted', 'orphan', 'outer', 'renamed-m', 'restricted-m', 'tutor'])
      // No raw provider model without an override row; nothing private to others.
      const outsiderIds = idsOf(await runtimeList(outsider))
      expect(outsiderIds).toEqual(['on-restricted', 'orphan', 'outer', 'renamed-m'])
      const usable = (await client(outsider.token).models.list()).data.map((m) => m.id).sort()
      expect(usable).toEqual(['renamed-m'])
    })

    it('applies the override row: its name, its meta, its tags', async () => {
      const renamed = (await runtimeList(member)).find((m) => m.id === 'renamed-m')
      expect(renamed).toMatchObject({ name: 'Pretty Name', owned_by: 'openai', preset: false, base_model_missing: false, tags: [{ name: 'fast' }] })
      expect(renamed?.info).toMatchObject({ id: 'renamed-m', name: 'Pretty Name', is_active: true, meta: { description: 'An overridden model' } })
      // Inline pictures stay out of the list.
      expect(renamed?.info?.meta).not.toHaveProperty('profile_image_url')
    })

    it('lists a preset with its base model and owner, and flags one whose base is not served', async () => {
      const models = await runtimeList(member)
      expect(models.find((m) => m.id === 'tutor')).toMatchObject({
        name: 'SQL tutor',
        preset: true,
        base_model_id: 'base-a',
        base_model_missing: false,
        owned_by: 'openai',
        connection_type: 'external',
      })
      // A preset carries its base's owner and connection type, never a urlIdx (as in Open WebUI).
      expect(models.find((m) => m.id === 'tutor')).not.toHaveProperty('urlIdx')
      expect(models.find((m) => m.id === 'orphan')).toMatchObject({
        preset: true,
        base_model_id: 'not-served-anywhere',
        base_model_missing: true,
        connection_id: null,
      })
    })

    it('needs read access on every registered hop of a base chain', async () => {
      // outer → inner-private (admin's, private) → base-b: outer is public but its hop is not. To member it
      // looks exactly like a preset whose base does not exist (issue #10, hole 13).
      const missingLike = (models: RuntimeModelOut[], id: string) => models.find((m) => m.id === id)?.base_model_missing === true
      const orphan = (await runtimeList(member)).find((m) => m.id === 'orphan')
      const outerSeen = (await runtimeList(member)).find((m) => m.id === 'outer')
      expect(outerSeen).toMatchObject({ base_model_missing: true, connection_id: null, owned_by: orphan?.owned_by })
      expect(missingLike(await runtimeList(h.admin), 'outer')).toBe(false)
      // on-restricted → restricted-m (override row readable by member only).
      expect(missingLike(await runtimeList(member), 'on-restricted')).toBe(false)
      expect(missingLike(await runtimeList(outsider), 'on-restricted')).toBe(true)

      await setGrants('inner-private', [userGrant(member.id)])
      try {
        const outer = (await runtimeList(member)).find((m) => m.id === 'outer')
        expect(outer).toMatchObject({ base_model_id: 'inner-private', base_model_missing: false, owned_by: 'openai' })
        expect(missingLike(await runtimeList(outsider), 'outer')).toBe(true)
      } finally {
        await setGrants('inner-private', [])
      }
      expect(missingLike(await runtimeList(member), 'outer')).toBe(true)
    })

    it('is the same list on /api/v1/models', async () => {
      expect(await runtimeList(member, '/api/v1/models')).toEqual(await runtimeList(member, '/api/models'))
      expect(idsOf(await runtimeList(h.admin, '/api/v1/models'))).toEqual(idsOf(await runtimeList(h.admin, '/api/models')))
    })

    it('lists presets whose base chain loops as missing, without hanging; refuses a preset based on itself', async () => {
      const self = await createModel({ id: 'selfish', base_model_id: 'selfish', name: 'Selfish', access_grants: PUBLIC_READ })
      expect(self.statusCode).toBe(400)
      expect(self.json().detail).toContain('base_model_id')

      await createModelOk({ id: 'loop-a', base_model_id: 'loop-b', name: 'Loop A', access_grants: PUBLIC_READ })
      await createModelOk({ id: 'loop-b', base_model_id: 'loop-a', name: 'Loop B', access_grants: PUBLIC_READ })
      const models = await runtimeList(member)
      expect(models.find((m) => m.id === 'loop-a')).toMatchObject({ base_model_missing: true })
      expect(models.find((m) => m.id === 'loop-b')).toMatchObject({ base_model_missing: true })
      const openAi = await client(member.token).models.list()
      expect(openAi.data.map((m) => m.id)).not.toContain('loop-a')

      // Calling it is a clear 409 naming the loop, not a hang and not a crash.
      const { error, ms } = await timedThrown(() => client(member.token).chat.completions.create({ model: 'loop-a', messages: USER_MSG }))
      expect(error.status).toBe(409)
      expect(error.code).toBe('CONFLICT')
      expect(error.message).toContain('loop')
      expect(error.message).toContain('loop-a')
      expect(error.message).toContain('loop-b')
      expect(ms).toBeLessThan(5_000)
    })

    it('refreshes the provider lists on ?refresh=true for admins only', async () => {
      const listRequests = () => main.requests.filter((r) => r.path === '/v1/models').length
      main.setModels(['base-a', 'base-b', SLASH_ID, 'renamed-m', 'hidden-m', 'restricted-m', 'fresh-m'])
      try {
        const before = listRequests()
        expect(idsOf(await runtimeList(h.admin))).not.toContain('fresh-m') // cached
        // A user asking for a refresh gets the cached list and causes no fetch.
        const userRes = await h.request({ method: 'GET', url: '/api/models?refresh=true', headers: member.auth })
        expect(userRes.statusCode).toBe(200)
        expect(listRequests()).toBe(before)

        const refreshed = await h.request({ method: 'GET', url: '/api/models?refresh=true', headers: h.admin.auth })
        expect(refreshed.statusCode).toBe(200)
        expect(idsOf(refreshed.json<{ data: RuntimeModelOut[] }>().data)).toContain('fresh-m')
        expect(listRequests()).toBe(before + 1)
        // Misbehaving providers kept their last good lists through the refresh.
        expect(idsOf(await runtimeList(h.admin))).toEqual(expect.arrayContaining(['hang-m', 'fail-m', 'garble-m']))
      } finally {
        main.setModels(['base-a', 'base-b', SLASH_ID, 'renamed-m', 'hidden-m', 'restricted-m'])
        await admin({ method: 'GET', url: '/api/models?refresh=true' })
      }
      expect(idsOf(await runtimeList(h.admin))).not.toContain('fresh-m')
    })

    it("answers the other providers' models without waiting for an unreachable connection", async () => {
      const id = await connect('Nobody home', { baseUrl: `http://127.0.0.1:${await freePort()}/v1` })
      try {
        const started = performance.now()
        const ids = idsOf(await runtimeList(h.admin))
        expect(performance.now() - started).toBeLessThan(5_000)
        expect(ids).toContain('base-a')
        const connections = await admin({ method: 'GET', url: '/api/v1/connections/' })
        const status = connections.json<{ id: string; status: { ok: boolean; error: string } }[]>().find((c) => c.id === id)?.status
        expect(status?.ok).toBe(false)
        expect(status?.error).toContain('"Nobody home"')
      } finally {
        await admin({ method: 'DELETE', url: `/api/v1/connections/id/${id}/delete` })
      }
    })
  })

  describe('GET /api/models/base', () => {
    it('is for admins: the raw provider list', async () => {
      expect((await h.request({ method: 'GET', url: '/api/models/base' })).statusCode).toBe(401)
      expect((await h.request({ method: 'GET', url: '/api/models/base', headers: bearer('garbage') })).statusCode).toBe(401)
      expect((await h.request({ method: 'GET', url: '/api/models/base', headers: pending.auth })).statusCode).toBe(403)
      const denied = await h.request({ method: 'GET', url: '/api/models/base', headers: member.auth })
      expect(denied.statusCode).toBe(403)
      expect(denied.json()).toMatchObject({ code: 'ACCESS_PROHIBITED' })

      const res = await admin({ method: 'GET', url: '/api/models/base' })
      expect(res.statusCode).toBe(200)
      const data = res.json<{ data: { id: string; name: string; upstream_id: string; owned_by: string }[] }>().data
      // Raw: the hidden model is there, the renamed one under its provider name, no presets.
      expect(data.find((m) => m.id === 'hidden-m')).toBeDefined()
      expect(data.find((m) => m.id === 'renamed-m')).toMatchObject({ name: 'renamed-m', upstream_id: 'renamed-m', owned_by: 'fake' })
      expect(data.map((m) => m.id)).not.toContain('tutor')
    })
  })

  // ─── the openai client ────────────────────────────────────────────────────────────────────────

  describe('openai client: models', () => {
    it('lists the models the caller may call, in the OpenAI shape with name and owned_by (API key and session token)', async () => {
      for (const credential of [memberKey, member.token]) {
        const page = await client(credential).models.list()
        const ids = page.data.map((m) => m.id).sort()
        // Listed presets with a missing base cannot be called, so they are not offered.
        expect(ids).toEqual(['on-restricted', 'renamed-m', 'restricted-m', 'tutor'])
        const tutor = page.data.find((m) => m.id === 'tutor') as unknown as Record<string, unknown>
        expect(tutor).toMatchObject({ id: 'tutor', object: 'model', owned_by: 'fake', name: 'SQL tutor' })
        expect(tutor['created']).toEqual(expect.any(Number))
      }
      const adminIds = (await client(h.admin.token).models.list()).data.map((m) => m.id)
      expect(adminIds).toEqual(expect.arrayContaining([SLASH_ID, 'base-a', 'tutor']))
    })

    it('retrieves one model, including an id with a slash', async () => {
      const tutor = await client(memberKey).models.retrieve('tutor')
      expect(tutor).toMatchObject({ id: 'tutor', object: 'model', owned_by: 'fake' })
      expect((tutor as unknown as { name: string }).name).toBe('SQL tutor')

      const slashed = await client(h.admin.token).models.retrieve(SLASH_ID)
      expect(slashed).toMatchObject({ id: SLASH_ID, object: 'model', owned_by: 'fake' })
      const raw = await admin({ method: 'GET', url: `/v1/models/${SLASH_ID}` })
      expect(raw.statusCode, raw.body).toBe(200)
      expect(raw.json()).toMatchObject({ id: SLASH_ID })
    })

    it('answers 404 MODEL_NOT_FOUND for an unknown model, one the caller may not read, and a preset whose base is missing', async () => {
      for (const [credential, id] of [
        [member.token, 'no-such-model'],
        [member.token, 'base-a'], // raw, admin-only
        [outsider.token, 'tutor'], // not in the group
        [member.token, 'orphan'], // listed with base_model_missing, not callable
        [member.token, 'hidden-m'],
      ] as const) {
        const error = await thrown(() => client(credential).models.retrieve(id))
        expect(error, id).toBeInstanceOf(OpenAI.NotFoundError)
        expect(error.code).toBe('MODEL_NOT_FOUND')
      }
    })
  })

  describe('openai client: chat', () => {
    it('chats through a preset without streaming, with the preset applied (API key)', async () => {
      const before = chatRequests(main).length
      const completion = await client(memberKey).chat.completions.create({ model: 'tutor', temperature: 1.5, max_tokens: 20, messages: USER_MSG })
      expect(completion.choices[0]?.message.content).toBe('echo: What is a JOIN?')
      expect(completion).toMatchObject({ id: 'chatcmpl-fake', object: 'chat.completion', usage: { total_tokens: 2 } })

      const sent = chatRequests(main).slice(before)
      expect(sent).toHaveLength(1)
      expect(sent[0]?.headers.authorization).toBe(`Bearer ${MAIN_KEY}`)
      expect(sent[0]?.body).toEqual({
        model: 'base-a',
        temperature: 0.2, // locked
        max_tokens: 20, // the request's own value beats the preset default
        seed: 42, // custom_params, JSON text parsed
        messages: [{ role: 'system', content: 'You teach SQL.' }, ...USER_MSG],
      })
    })

    it("streams through a preset (session token), the preset system prepended to the conversation's own", async () => {
      const before = chatRequests(main).length
      const stream = await client(member.token).chat.completions.create({
        model: 'tutor',
        stream: true,
        messages: [{ role: 'system', content: 'Be brief.' }, ...USER_MSG],
      })
      const deltas: string[] = []
      let finish: string | null | undefined
      for await (const chunk of stream) {
        deltas.push(chunk.choices[0]?.delta?.content ?? '')
        finish = chunk.choices[0]?.finish_reason ?? finish
      }
      expect(deltas.join('')).toBe('echo: What is a JOIN? tok0 tok1 tok2')
      expect(finish).toBe('stop')
      const sent = chatRequests(main).slice(before)[0]
      expect(sent?.body).toMatchObject({
        model: 'base-a',
        stream: true,
        temperature: 0.2,
        max_tokens: 64,
        messages: [{ role: 'system', content: 'You teach SQL.\n\nBe brief.' }, ...USER_MSG],
      })
    })

    it('answers on /api/chat/completions and /api/v1/chat/completions too', async () => {
      for (const url of ['/api/chat/completions', '/api/v1/chat/completions']) {
        const res = await h.request({ method: 'POST', url, headers: bearer(memberKey), payload: { model: 'tutor', messages: USER_MSG } })
        expect(res.statusCode, res.body).toBe(200)
        expect(res.json().choices[0].message.content).toBe('echo: What is a JOIN?')
      }
    })

    it('strips modelgate-only and Open WebUI-only keys before calling the provider', async () => {
      const before = chatRequests(main).length
      const res = await h.request({
        method: 'POST',
        url: '/api/chat/completions',
        headers: member.auth,
        payload: { model: 'tutor', messages: USER_MSG, chat_id: 'c-1', features: { web_search: true }, params: { top_p: 0.5 }, system: 'x', locked: ['top_p'] },
      })
      expect(res.statusCode, res.body).toBe(200)
      const body = chatRequests(main).slice(before)[0]?.body ?? {}
      for (const key of ['chat_id', 'features', 'params', 'system', 'locked', 'custom_params']) expect(body).not.toHaveProperty(key)
      expect(body['top_p']).toBe(0.5)
    })

    it('calls a provider model with a slash in its id (admin)', async () => {
      const before = chatRequests(main).length
      const completion = await client(h.admin.token).chat.completions.create({ model: SLASH_ID, messages: USER_MSG })
      expect(completion.choices[0]?.message.content).toBe('echo: What is a JOIN?')
      expect(chatRequests(main).slice(before)[0]?.body).toMatchObject({ model: SLASH_ID })
    })

    it('merges a base chain (outer over inner) once every hop is readable', async () => {
      const denied = await thrown(() => client(member.token).chat.completions.create({ model: 'outer', messages: USER_MSG }))
      expect(denied.status).toBe(404)
      expect(denied.code).toBe('MODEL_NOT_FOUND')

      await setGrants('inner-private', [userGrant(member.id)])
      try {
        const before = chatRequests(main).length
        await client(member.token).chat.completions.create({ model: 'outer', messages: USER_MSG })
        expect(chatRequests(main).slice(before)[0]?.body).toEqual({
          model: 'base-b',
          temperature: 0.7, // outer over inner
          max_tokens: 10, // from inner
          top_p: 0.9, // from inner
          messages: [{ role: 'system', content: 'Outer system.' }, ...USER_MSG],
        })
      } finally {
        await setGrants('inner-private', [])
      }
    })

    it('lets the override row decide: restricted to its readers, hidden for everyone', async () => {
      await client(member.token).chat.completions.create({ model: 'restricted-m', messages: USER_MSG })
      await client(member.token).chat.completions.create({ model: 'on-restricted', messages: USER_MSG })
      for (const [credential, model] of [
        [outsider.token, 'restricted-m'],
        [outsider.token, 'on-restricted'],
        [member.token, 'hidden-m'],
        [h.admin.token, 'hidden-m'],
        [member.token, 'inactive-preset'],
      ] as const) {
        const error = await thrown(() => client(credential).chat.completions.create({ model, messages: USER_MSG }))
        expect(error.status, model).toBe(404)
        expect(error.code).toBe('MODEL_NOT_FOUND')
      }
    })

    it('checks access at call time: denied is the same 404 as unknown, and a removed grant takes effect at once', async () => {
      const denied = await thrown(() => client(outsider.token).chat.completions.create({ model: 'tutor', messages: USER_MSG }))
      const unknown = await thrown(() => client(outsider.token).chat.completions.create({ model: 'no-such-model', messages: USER_MSG }))
      for (const error of [denied, unknown]) {
        expect(error).toBeInstanceOf(OpenAI.NotFoundError)
        expect(error.code).toBe('MODEL_NOT_FOUND')
      }
      expect(denied.message.replace('tutor', 'X')).toBe(unknown.message.replace('no-such-model', 'X'))
      const raw = await thrown(() => client(member.token).chat.completions.create({ model: 'base-a', messages: USER_MSG }))
      expect(raw.code).toBe('MODEL_NOT_FOUND')

      await createModelOk({ id: 'revocable', base_model_id: 'base-a', name: 'Revocable', access_grants: [userGrant(member.id)] })
      const memberClient = client(memberKey)
      expect((await memberClient.chat.completions.create({ model: 'revocable', messages: USER_MSG })).choices[0]?.message.content).toContain('echo')
      await setGrants('revocable', [])
      const revoked = await thrown(() => memberClient.chat.completions.create({ model: 'revocable', messages: USER_MSG }))
      expect(revoked.status).toBe(404)
      expect(revoked.code).toBe('MODEL_NOT_FOUND')
      expect(idsOf((await memberClient.models.list()).data)).not.toContain('revocable')
    })

    it('refuses callers without valid credentials (401) and pending accounts (403)', async () => {
      const none = await thrown(() => client('not-a-token').chat.completions.create({ model: 'tutor', messages: USER_MSG }))
      expect(none).toBeInstanceOf(OpenAI.AuthenticationError)
      const waiting = await thrown(() => client(pending.token).chat.completions.create({ model: 'tutor', messages: USER_MSG }))
      expect(waiting).toBeInstanceOf(OpenAI.PermissionDeniedError)
      const revokedKey = await h.request({ method: 'POST', url: '/api/v1/auths/api_key', headers: outsider.auth })
      const key = revokedKey.json<{ api_key: string }>().api_key
      await h.request({ method: 'DELETE', url: '/api/v1/auths/api_key', headers: outsider.auth })
      expect(await thrown(() => client(key).models.list())).toBeInstanceOf(OpenAI.AuthenticationError)
    })

    it.each([
      ['temperature', { temperature: 'hot' }],
      ['max_tokens', { max_tokens: -3 }],
      ['max_tokens', { max_tokens: 1.5 }],
      ['top_p', { top_p: 5 }],
      ['stop', { stop: 42 }],
    ])('refuses %s of the wrong type or range with 400 INVALID_PARAMS naming it, without calling the provider', async (key, extra) => {
      const before = chatRequests(main).length
      const error = await thrown(() => client(member.token).chat.completions.create({ model: 'tutor', messages: USER_MSG, ...(extra as object) }))
      expect(error).toBeInstanceOf(OpenAI.BadRequestError)
      expect(error.code).toBe('INVALID_PARAMS')
      expect(error.message).toContain(key)
      expect(chatRequests(main).length).toBe(before)
    })

    it('refuses a request without messages or model with 400 VALIDATION_ERROR', async () => {
      for (const payload of [{ model: 'tutor' }, { model: 'tutor', messages: [] }, { messages: USER_MSG }, { model: 'tutor', messages: 'hi' }]) {
        const res = await h.request({ method: 'POST', url: '/v1/chat/completions', headers: member.auth, payload })
        expect(res.statusCode, JSON.stringify(payload)).toBe(400)
        expect(res.json()).toMatchObject({ code: 'VALIDATION_ERROR', error: { code: 'VALIDATION_ERROR' } })
      }
    })
  })

  describe('openai client: streams and provider faults', () => {
    it('passes a slow stream through, every chunk in order', async () => {
      const stream = await client(h.admin.token).chat.completions.create({ model: 'slow-m', stream: true, messages: [{ role: 'user', content: 'slowly' }] })
      const deltas: string[] = []
      for await (const chunk of stream) {
        const content = chunk.choices[0]?.delta?.content
        if (content) deltas.push(content)
      }
      expect(deltas).toEqual(['echo: slowly tok0', ' tok1', ' tok2', ' tok3', ' tok4', ' tok5'])
    })

    it("cancels the provider's stream when the caller aborts", async () => {
      const abortedBefore = slow.abortedStreams
      const controller = new AbortController()
      const stream = await client(h.admin.token).chat.completions.create({ model: 'slow-m', stream: true, messages: USER_MSG }, { signal: controller.signal })
      const received: string[] = []
      try {
        for await (const chunk of stream) {
          received.push(chunk.choices[0]?.delta?.content ?? '')
          if (received.length === 1) controller.abort()
        }
      } catch (error) {
        // The openai client ends an aborted stream quietly or with APIUserAbortError, depending on timing.
        expect(error).toBeInstanceOf(OpenAI.APIUserAbortError)
      }
      // Not the whole stream (six chunks 150 ms apart, then the finish chunk).
      expect(received.length).toBeLessThan(3)
      await vi.waitFor(() => expect(slow.abortedStreams).toBe(abortedBefore + 1), { timeout: 5_000, interval: 25 })

      // The gateway is fine afterwards.
      const again = await client(h.admin.token).chat.completions.create({ model: 'slow-m', messages: USER_MSG })
      expect(again.choices[0]?.message.content).toContain('echo')
    })

    it('answers 504 PROVIDER_TIMEOUT naming a provider that hangs, after about PROVIDER_CHAT_TIMEOUT_MS', async () => {
      for (const stream of [false, true]) {
        const { error, ms } = await timedThrown(async () => {
          const answer = await client(h.admin.token).chat.completions.create({ model: 'hang-m', stream, messages: USER_MSG })
          if (stream) for await (const _chunk of answer as AsyncIterable<unknown>) void _chunk
        })
        expect(error.status, `stream ${stream}`).toBe(504)
        expect(error.code).toBe('PROVIDER_TIMEOUT')
        expect(error.message).toContain('"Hanger"')
        expect(error.message).toContain(hanger.baseUrl)
        expect(error.message).toContain(`${CHAT_TIMEOUT_MS} ms`)
        expect(ms).toBeGreaterThanOrEqual(CHAT_TIMEOUT_MS - 100)
        expect(ms).toBeLessThan(CHAT_TIMEOUT_MS + 5_000)
      }
    })

    it("ends a stream that stalls mid-way with a PROVIDER_TIMEOUT error event, and cancels the provider's stream", async () => {
      const abortedBefore = staller.abortedStreams
      const received: string[] = []
      const started = performance.now()
      const error = await thrown(async () => {
        const stream = await client(h.admin.token).chat.completions.create({ model: 'stall-m', stream: true, messages: USER_MSG })
        for await (const chunk of stream) received.push(chunk.choices[0]?.delta?.content ?? '')
      })
      expect(performance.now() - started).toBeLessThan(CHAT_TIMEOUT_MS + 5_000)
      expect(received).toEqual(['echo: What is a JOIN? tok0'])
      expect(error.code).toBe('PROVIDER_TIMEOUT')
      expect(error.message).toContain('"Staller"')
      await vi.waitFor(() => expect(staller.abortedStreams).toBe(abortedBefore + 1), { timeout: 5_000, interval: 25 })
    })

    it('answers 502 PROVIDER_ERROR naming a provider that answers 500, quoting it', async () => {
      for (const stream of [false, true]) {
        const error = await thrown(() => client(h.admin.token).chat.completions.create({ model: 'fail-m', stream, messages: USER_MSG }))
        expect(error.status).toBe(502)
        expect(error.code).toBe('PROVIDER_ERROR')
        expect(error.message).toContain('"Failer"')
        expect(error.message).toContain('HTTP 500')
        expect(error.message).toContain('the fake provider failed')
      }
    })

    it('answers 502 PROVIDER_ERROR naming a provider that answers something that is not JSON', async () => {
      for (const stream of [false, true]) {
        const error = await thrown(() => client(h.admin.token).chat.completions.create({ model: 'garble-m', stream, messages: USER_MSG }))
        expect(error.status).toBe(502)
        expect(error.code).toBe('PROVIDER_ERROR')
        expect(error.message).toContain('"Garbler"')
        expect(error.message).toContain('not JSON')
      }
    })

    it('answers 502 naming a provider that drops the connection before its answer is out', async () => {
      // The fake reads the request and hangs up without a byte: the connection closed without an answer.
      const { error, ms } = await timedThrown(async () => {
        const stream = await client(h.admin.token).chat.completions.create({ model: 'cut-m', stream: true, messages: USER_MSG })
        for await (const _chunk of stream) void _chunk
      })
      expect(ms).toBeLessThan(5_000)
      expect(error.status).toBe(502)
      expect(error.code).toBe('PROVIDER_ERROR')
      expect(error.message).toContain('"Cutter"')
    })

    it('delivers the partial content of a stream cut in the middle, then an error event naming the provider', async () => {
      const received: string[] = []
      const started = performance.now()
      const error = await thrown(async () => {
        const stream = await client(h.admin.token).chat.completions.create({ model: 'midcut-m', stream: true, messages: USER_MSG })
        for await (const chunk of stream) received.push(chunk.choices[0]?.delta?.content ?? '')
      })
      expect(performance.now() - started).toBeLessThan(5_000)
      expect(received).toEqual(['part one', ' part two'])
      expect(error.status).toBeUndefined() // an SSE error event after a 200, not an HTTP status
      expect(error.code).toBe('PROVIDER_ERROR')
      expect(error.message).toContain('"Midcut"')
      expect(error.message).toContain('broke off the stream')
    })

    it('answers 502 naming a provider that went down after a good answer (its port now closed)', async () => {
      const ok = await client(h.admin.token).chat.completions.create({ model: 'down-m', messages: USER_MSG })
      expect(ok.choices[0]?.message.content).toBe('echo: What is a JOIN?')
      await downer.close()

      for (const stream of [false, true]) {
        const { error, ms } = await timedThrown(() => client(h.admin.token).chat.completions.create({ model: 'down-m', stream, messages: USER_MSG }))
        expect(error.status).toBe(502)
        expect(error.code).toBe('PROVIDER_ERROR')
        expect(error.message).toContain('"Downer"')
        expect(error.message).toContain(downer.baseUrl)
        expect(error.message).toContain('unreachable')
        expect(ms).toBeLessThan(5_000)
      }
      // Its last good list is kept, marked stale after a refresh.
      await admin({ method: 'POST', url: '/api/v1/connections/refresh' })
      expect(idsOf(await runtimeList(h.admin))).toContain('down-m')
      const connections = (await admin({ method: 'GET', url: '/api/v1/connections/' })).json<
        { name: string; status: { ok: boolean; stale: boolean; error: string } }[]
      >()
      expect(connections.find((c) => c.name === 'Downer')?.status).toMatchObject({ ok: false, stale: true, model_count: 1 })
    })

    it('keeps serving after all these faults', async () => {
      const completion = await client(memberKey).chat.completions.create({ model: 'tutor', messages: USER_MSG })
      expect(completion.choices[0]?.message.content).toBe('echo: What is a JOIN?')
      expect((await h.request({ method: 'GET', url: '/health' })).statusCode).toBeLessThan(500)
    })
  })
})

describe.each(DIALECTS)('gateway with BYPASS_MODEL_ACCESS_CONTROL=true on %s', (dialect) => {
  let h: Harness
  let provider: FakeProvider
  let user: TestAccount

  beforeAll(async () => {
    provider = await startFakeProvider({ models: ['open-1', 'open-2', 'open-hidden'] })
    h = await createHarness(dialect, { ...ENV, BYPASS_MODEL_ACCESS_CONTROL: 'true' })
    user = await h.createUser('user')
    const created = await h.request({ method: 'POST', url: '/api/v1/connections/create', headers: h.admin.auth, payload: { base_url: provider.baseUrl } })
    expect(created.statusCode).toBe(200)
    for (const payload of [
      { id: 'open-hidden', base_model_id: null, name: 'Hidden', is_active: false },
      { id: 'private-preset', base_model_id: 'open-1', name: 'Private preset', params: { temperature: 0.3 } },
    ]) {
      const res = await h.request({ method: 'POST', url: '/api/v1/models/create', headers: h.admin.auth, payload: { meta: {}, params: {}, ...payload } })
      expect(res.statusCode, res.body).toBe(200)
    }
  })

  afterAll(async () => {
    await h?.close()
    await provider?.close()
  })

  it('lists raw provider models and every active preset to users', async () => {
    const res = await h.request({ method: 'GET', url: '/api/models', headers: user.auth })
    expect(res.statusCode).toBe(200)
    const ids = res
      .json<{ data: { id: string }[] }>()
      .data.map((m) => m.id)
      .sort()
    expect(ids).toEqual(['open-1', 'open-2', 'private-preset'])
  })

  it('lets users call raw provider models and presets, but not inactive ones', async () => {
    for (const model of ['open-2', 'private-preset']) {
      const res = await h.request({
        method: 'POST',
        url: '/v1/chat/completions',
        headers: user.auth,
        payload: { model, messages: [{ role: 'user', content: 'hi' }] },
      })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json().choices[0].message.content).toBe('echo: hi')
    }
    const hidden = await h.request({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: user.auth,
      payload: { model: 'open-hidden', messages: [{ role: 'user', content: 'hi' }] },
    })
    expect(hidden.statusCode).toBe(404)
    expect(hidden.json()).toMatchObject({ code: 'MODEL_NOT_FOUND' })
  })
})
