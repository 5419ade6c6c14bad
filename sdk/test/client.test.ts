/**
 * The sdk against a real modelgate listening on 127.0.0.1 (in-memory SQLite) and real fake providers:
 * auth, CRUD, paging, every typed exception, chat answers and streams (error events, abort).
 */
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeProvider, type FakeProvider } from '../../test/support/fake-provider.js'
import { createHarness, PASSWORD, type Harness } from '../../test/support/harness.js'
import { freePort } from '../../test/support/timing.js'
import {
  ApiError,
  ConflictError,
  ForbiddenError,
  NetworkError,
  NotFoundError,
  ProviderError,
  RateLimitedError,
  UnauthorizedError,
  ValidationError,
  createModelgate,
  type ChatCompletionChunk,
  type Modelgate,
} from '../src/index.js'

const ENV = { PROVIDER_CHAT_TIMEOUT_MS: '5000', PROVIDER_LIST_TIMEOUT_MS: '2000', MODELS_CACHE_TTL: '3600' }
const PUBLIC_READ = [{ principal_type: 'user' as const, principal_id: '*', permission: 'read' as const }]

async function listen(h: Harness): Promise<string> {
  await h.app.listen({ port: 0, host: '127.0.0.1' })
  return `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`
}

/** The error a promise rejects with (fails when it resolves). */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a failure, got an answer')
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = []
  for await (const item of iterable) items.push(item)
  return items
}

const text = (chunks: ChatCompletionChunk[]) => chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')

describe('@modelgate/sdk against a real server', () => {
  let h: Harness
  let baseUrl: string
  let admin: Modelgate
  let ok: FakeProvider
  let failing: FakeProvider
  let erroring: FakeProvider
  let slow: FakeProvider

  beforeAll(async () => {
    ok = await startFakeProvider({ models: ['fake-model'] })
    failing = await startFakeProvider({ models: ['fail-model'] })
    erroring = await startFakeProvider({ models: ['event-model'], behavior: 'errorEvent' })
    slow = await startFakeProvider({ models: ['slow-model'], behavior: 'slowStream', chunks: 50, chunkDelayMs: 100 })
    h = await createHarness('sqlite', ENV)
    baseUrl = await listen(h)
    admin = createModelgate({ baseUrl })
    await admin.auth.signIn({ email: h.admin.email, password: PASSWORD })
    for (const [name, provider] of [
      ['Ok', ok],
      ['Failing', failing],
      ['Erroring', erroring],
      ['Slow', slow],
    ] as const) {
      await admin.connections.create({ name, kind: 'openai', base_url: provider.baseUrl })
    }
    // Fetches every provider's list once (cached for the file); then one provider starts failing.
    const runtime = await admin.models.runtime()
    expect(runtime.data.map((model) => model.id).sort()).toEqual(['event-model', 'fail-model', 'fake-model', 'slow-model'])
    failing.setBehavior('error500')
  })

  afterAll(async () => {
    // Node's fetch opens a spare connection after a cancelled body; the server counts a connection that
    // never sent a request as busy until headersTimeout, which would hold close() for a minute.
    h?.app.server.closeAllConnections()
    await h?.close()
    await Promise.all([ok, failing, erroring, slow].map((provider) => provider?.close()))
  })

  describe('auth', () => {
    it('signs in, keeps the token, reads the session user and signs out', async () => {
      const client = createModelgate({ baseUrl })
      expect(client.token).toBeNull()
      const session = await client.auth.signIn({ email: h.admin.email, password: PASSWORD })
      expect(session.token_type).toBe('Bearer')
      expect(client.token).toBe(session.token)
      const me = await client.auth.me()
      expect(me).toMatchObject({ id: h.admin.id, role: 'admin' })
      expect(me.permissions.workspace.models).toBe(true)
      await client.auth.signOut()
      expect(client.token).toBeNull()
      expect(await failure(client.auth.me())).toBeInstanceOf(UnauthorizedError)
    })

    it('signs up a new account (pending when the admin exists) and keeps its token', async () => {
      const client = createModelgate({ baseUrl })
      const session = await client.auth.signUp({ name: 'Newcomer', email: `new-${Date.now()}@example.com`, password: PASSWORD })
      expect(client.token).toBe(session.token)
      expect((await client.auth.me()).role).toBe(session.role)
    })

    it('uses a token given at creation, setToken and an API key', async () => {
      const user = await h.createUser('user')
      const withToken = createModelgate({ baseUrl, token: user.token })
      expect((await withToken.auth.me()).id).toBe(user.id)

      const { api_key } = await withToken.auth.createApiKey()
      expect(api_key).toMatch(/^sk-/)
      const withKey = createModelgate({ baseUrl, apiKey: api_key })
      expect((await withKey.models.list()).total).toBeGreaterThanOrEqual(0)
      expect((await withKey.auth.getApiKey()).key_hint).toBeTruthy()

      // A session token takes precedence over the key; forgetting it falls back to the key.
      withKey.setToken('not-a-token')
      expect(await failure(withKey.models.list())).toBeInstanceOf(UnauthorizedError)
      withKey.setToken(null)
      expect((await withKey.models.list()).total).toBeGreaterThanOrEqual(0)
    })

    it('reads and writes the token through a store, and reports 401 to onUnauthorized', async () => {
      let stored: string | null = null
      const refused: UnauthorizedError[] = []
      const client = createModelgate({
        baseUrl,
        token: { get: () => stored, set: (token) => (stored = token) },
        onUnauthorized: (error) => refused.push(error),
      })
      await client.auth.signIn({ email: h.admin.email, password: PASSWORD })
      expect(stored).toMatch(/\./)
      stored = 'expired.token.here'
      const error = await failure(client.auth.me())
      expect(error).toBeInstanceOf(UnauthorizedError)
      expect(refused).toEqual([error])
      // Without credentials, a 401 is no session ending.
      stored = null
      await failure(client.auth.me())
      expect(refused).toHaveLength(1)
    })
  })

  describe('models', () => {
    it('creates, reads, updates, toggles, shares and deletes a model', async () => {
      const created = await admin.models.create({
        id: 'sdk-crud',
        base_model_id: 'fake-model',
        name: 'Crud',
        meta: { tags: [{ name: 'sdk' }] },
        params: { temperature: 0.5 },
      })
      expect(created).toMatchObject({ id: 'sdk-crud', name: 'Crud', is_active: true })

      const read = await admin.models.get('sdk-crud')
      expect(read).toMatchObject({ id: 'sdk-crud', write_access: true, user: { id: h.admin.id } })
      expect(read.params).toMatchObject({ temperature: 0.5 })

      expect((await admin.models.update({ id: 'sdk-crud', name: 'Crud 2' })).name).toBe('Crud 2')
      expect((await admin.models.toggle('sdk-crud')).is_active).toBe(false)
      const shared = await admin.models.updateAccess('sdk-crud', PUBLIC_READ)
      expect(shared.access_grants).toEqual([expect.objectContaining({ principal_type: 'user', principal_id: '*', permission: 'read' })])
      expect(await admin.models.tags()).toContain('sdk')

      const exported = await admin.models.export()
      expect(exported.map((item) => (item as { id: string }).id)).toContain('sdk-crud')
      const blob = await admin.models.exportBlob()
      expect(JSON.parse(await blob.text())).toEqual(exported)

      expect(await admin.models.delete('sdk-crud')).toBe(true)
      expect(await failure(admin.models.get('sdk-crud'))).toBeInstanceOf(NotFoundError)
    })

    it('imports a file and syncs (dry run)', async () => {
      const report = await admin.models.import([{ id: 'sdk-imported', base_model_id: 'fake-model', name: 'Imported', meta: {}, params: {} }])
      expect(report.created).toEqual(['sdk-imported'])
      const plan = await admin.models.sync({
        models: [{ id: 'sdk-imported', base_model_id: 'fake-model', name: 'Imported', meta: {}, params: {} }],
        dry_run: true,
      })
      expect(plan.dry_run).toBe(true)
      expect(plan.unchanged.concat(plan.update)).toContain('sdk-imported')
      await admin.models.delete('sdk-imported')
    })

    it('listAll pages through every model of a listing', async () => {
      const ids = Array.from({ length: 7 }, (_, i) => `sdk-page-${i}`)
      for (const id of ids) await admin.models.create({ id, base_model_id: 'fake-model', name: id })
      const pages: string[] = []
      const counting = createModelgate({
        baseUrl,
        token: admin.token,
        fetch: (request) => {
          if (request.url.includes('/models/list')) pages.push(new URL(request.url).searchParams.get('page') ?? '')
          return fetch(request)
        },
      })
      const seen: string[] = []
      for await (const model of counting.models.listAll({ query: 'sdk-page-', order_by: 'name', direction: 'asc' }, 3)) seen.push(model.id)
      expect(seen).toEqual(ids)
      expect(pages).toEqual(['1', '2', '3'])
      const page = await admin.models.list({ query: 'sdk-page-', limit: 2, page: 2, order_by: 'name', direction: 'asc' })
      expect(page.total).toBe(7)
      expect(page.items.map((model) => model.id)).toEqual(['sdk-page-2', 'sdk-page-3'])
      // Empty filters do not travel: '' is no filter.
      expect((await admin.models.list({ query: '', tag: '', view_option: '' })).total).toBeGreaterThanOrEqual(7)
    })
  })

  describe('users, groups and connections', () => {
    it('administers accounts and groups', async () => {
      const added = await admin.auth.addUser({ name: 'Added', email: `added-${Date.now()}@example.com`, password: PASSWORD, role: 'user' })
      expect((await admin.users.get(added.id)).name).toBe('Added')
      expect((await admin.users.list({ query: 'Added' })).users.map((user) => user.id)).toContain(added.id)
      expect((await admin.users.update(added.id, { name: 'Renamed' })).name).toBe('Renamed')

      const group = await admin.groups.create({ name: 'SDK group', description: 'from the sdk' })
      expect((await admin.groups.addMembers(group.id, [added.id])).user_ids).toEqual([added.id])
      expect((await admin.groups.get(group.id)).member_count).toBe(1)
      expect((await admin.groups.removeMembers(group.id, [added.id])).user_ids).toEqual([])
      expect((await admin.groups.update(group.id, { name: 'SDK group 2' })).name).toBe('SDK group 2')
      expect((await admin.groups.list()).map((g) => g.id)).toContain(group.id)
      expect(await admin.groups.delete(group.id)).toBe(true)
      expect(await admin.users.delete(added.id)).toBe(true)
    })

    it('lists, tests and reads the models of a connection', async () => {
      const connections = await admin.connections.list()
      const okConnection = connections.find((connection) => connection.name === 'Ok')
      expect(okConnection).toBeDefined()
      const id = okConnection?.id ?? ''
      expect((await admin.connections.test(id)).ok).toBe(true)
      expect((await admin.connections.models(id)).map((model) => model.id)).toEqual(['fake-model'])
      expect((await admin.models.runtime()).data.map((model) => model.id)).toContain('fake-model')
    })
  })

  describe('typed exceptions', () => {
    it('400: ValidationError with the detail (and the field errors when the server sends them)', async () => {
      const error = await failure(admin.models.create({ id: 'sdk-bad', name: 'Bad', params: { temperature: 99 } }))
      expect(error).toBeInstanceOf(ValidationError)
      expect(error).toBeInstanceOf(ApiError)
      const validation = error as ValidationError
      expect(validation.status).toBe(400)
      expect(validation.code).toBe('INVALID_PARAMS')
      expect(validation.detail).toContain('temperature')
      expect(validation.errors).toEqual([{ path: 'body.params.temperature', message: expect.any(String), code: 'INVALID_PARAMS' }])

      const signUp = await failure(createModelgate({ baseUrl }).auth.signUp({ name: 'X', email: 'not-an-email', password: PASSWORD }))
      expect(signUp).toBeInstanceOf(ValidationError)
      expect(signUp).toMatchObject({
        status: 400,
        code: 'VALIDATION_ERROR',
        errors: [{ path: 'body.email', message: expect.any(String), code: 'VALIDATION_ERROR' }],
      })
      expect((signUp as ValidationError).detail).toContain('body.email')
    })

    it('401: UnauthorizedError for a wrong password', async () => {
      const error = await failure(createModelgate({ baseUrl }).auth.signIn({ email: h.admin.email, password: 'wrong-password' }))
      expect(error).toBeInstanceOf(UnauthorizedError)
      expect(error).toMatchObject({ status: 401, code: 'UNAUTHORIZED' })
    })

    it('403: ForbiddenError for a user on an admin route', async () => {
      const user = createModelgate({ baseUrl, token: (await h.createUser('user')).token })
      const error = await failure(user.users.list())
      expect(error).toBeInstanceOf(ForbiddenError)
      expect(error).toMatchObject({ status: 403, code: 'ACCESS_PROHIBITED' })
    })

    it('404: NotFoundError for an unknown model', async () => {
      expect(await failure(admin.models.get('sdk-no-such-model'))).toMatchObject({ status: 404, code: 'MODEL_NOT_FOUND', name: 'NotFoundError' })
    })

    it('409: ConflictError for a taken id', async () => {
      await admin.models.create({ id: 'sdk-taken', base_model_id: 'fake-model', name: 'Taken' })
      const error = await failure(admin.models.create({ id: 'sdk-taken', base_model_id: 'fake-model', name: 'Again' }))
      expect(error).toBeInstanceOf(ConflictError)
      expect(error).toMatchObject({ status: 409, code: 'MODEL_ID_TAKEN' })
    })

    it('502: ProviderError with a request id, from the OpenAI-style body of /v1', async () => {
      const error = await failure(admin.chat.completions({ model: 'fail-model', messages: [{ role: 'user', content: 'hi' }] }))
      expect(error).toBeInstanceOf(ProviderError)
      expect(error).toMatchObject({ status: 502, code: 'PROVIDER_ERROR' })
      expect((error as ProviderError).requestId).toBeTruthy()
      expect((error as ProviderError).detail).toContain('Failing')
    })

    it('network failures: NetworkError with status 0', async () => {
      const error = await failure(createModelgate({ baseUrl: `http://127.0.0.1:${await freePort()}` }).models.list())
      expect(error).toBeInstanceOf(NetworkError)
      expect(error).toMatchObject({ status: 0, code: 'NETWORK_ERROR' })
    })

    it('429: RateLimitedError with Retry-After', async () => {
      const limited = await createHarness('sqlite', { SIGNIN_MAX_ATTEMPTS: '2', SIGNIN_WINDOW_SECONDS: '60' })
      try {
        const client = createModelgate({ baseUrl: await listen(limited) })
        const attempt = () => failure(client.auth.signIn({ email: limited.admin.email, password: 'wrong-password' }))
        let error: unknown
        for (let i = 0; i < 5 && !(error instanceof RateLimitedError); i++) error = await attempt()
        expect(error).toBeInstanceOf(RateLimitedError)
        expect(error).toMatchObject({ status: 429, code: 'RATE_LIMITED' })
        expect((error as RateLimitedError).retryAfter).toBeGreaterThan(0)
      } finally {
        await limited.close()
      }
    })
  })

  describe('chat', () => {
    const messages = [{ role: 'user', content: 'What is a JOIN?' }]

    it('answers a completion through a preset', async () => {
      await admin.models.create({ id: 'sdk-tutor', base_model_id: 'fake-model', name: 'Tutor', params: { system: 'You teach SQL.' } })
      const answer = await admin.chat.completions({ model: 'sdk-tutor', messages })
      expect(answer.choices[0]?.message.content).toBe('echo: What is a JOIN?')
      expect(ok.requests.at(-1)?.body).toMatchObject({ model: 'fake-model', stream: false })
    })

    it('streams the chunks in order and ends at [DONE]', async () => {
      const chunks = await collect(admin.chat.stream({ model: 'fake-model', messages }))
      expect(text(chunks)).toBe('echo: What is a JOIN? tok0 tok1 tok2')
      expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop')
    })

    it('throws a ProviderError for an error event in the middle of a stream', async () => {
      const chunks: ChatCompletionChunk[] = []
      const error = await failure(
        (async () => {
          for await (const chunk of admin.chat.stream({ model: 'event-model', messages })) chunks.push(chunk)
        })(),
      )
      expect(chunks).toHaveLength(2)
      expect(error).toBeInstanceOf(ProviderError)
      expect(error).toMatchObject({ code: 'PROVIDER_ERROR' })
      expect((error as ProviderError).detail).toContain('Erroring')
    })

    it('throws typed errors before the first chunk (unknown model)', async () => {
      expect(await failure(collect(admin.chat.stream({ model: 'sdk-no-such-model', messages })))).toBeInstanceOf(ApiError)
    })

    it('aborts a stream through an AbortSignal and the provider sees the cancellation', async () => {
      const controller = new AbortController()
      const before = slow.abortedStreams
      const chunks: ChatCompletionChunk[] = []
      const error = await failure(
        (async () => {
          for await (const chunk of admin.chat.stream({ model: 'slow-model', messages }, { signal: controller.signal })) {
            chunks.push(chunk)
            if (chunks.length === 2) controller.abort()
          }
        })(),
      )
      expect((error as Error).name).toBe('AbortError')
      expect(chunks).toHaveLength(2)
      await expect.poll(() => slow.abortedStreams, { timeout: 5_000 }).toBe(before + 1)
    })

    it('stops the stream when the loop breaks', async () => {
      const before = slow.abortedStreams
      for await (const chunk of admin.chat.stream({ model: 'slow-model', messages })) {
        expect(chunk.choices[0]?.delta.content).toContain('tok0')
        break
      }
      await expect.poll(() => slow.abortedStreams, { timeout: 5_000 }).toBe(before + 1)
    })
  })
})
