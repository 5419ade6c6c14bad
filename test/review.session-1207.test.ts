/**
 * Review of the 2026-12-07 changes (fresh eyes): the response serializer (fast-json-stringify compiled
 * from the zod schemas), the chat body's field-by-field check, the stream relay rewritten as a Readable
 * with CallerGone, the registry version bumped after the commit (CoalescedBump), and audit ids with a
 * per-process tag. Each test states what must hold; a failing test is a hole.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import { ChatRequestSchema, fieldwiseCheck } from '../src/gateway/gateway.schema.js'
import type * as AuditLog from '../src/audit/audit-log.js'
import { serializerCompiler } from '../src/http/serializer.js'
import { createDatabase } from '../src/db/database.js'
import { DIALECTS, freshPostgresSchema } from './support/databases.js'
import { startFakeProvider, type FakeProvider } from './support/fake-provider.js'
import { createHarness, type Harness } from './support/harness.js'

const AUDIT_LOG_MODULE = '../src/audit/audit-log.js'
const MESSAGES = [{ role: 'user', content: 'hi' }]
const EVERYONE = [{ principal_type: 'user', principal_id: '*', permission: 'read' }]

/** The serializer Fastify would compile for a route answering `schema`. */
const serializerFor = (schema: z.ZodType) => serializerCompiler({ schema, method: 'GET', url: '/x', httpStatus: '200' })

/**
 * A provider whose chat stream is what the test needs: `flood` writes chunks as fast as the gateway
 * reads them (it stops when its socket closes, which it records); `fault` sends one chunk and half a
 * line, then drops the connection.
 */
async function startStreamProvider(): Promise<{ baseUrl: string; closedStreams: () => number; close: () => Promise<void> }> {
  let closed = 0
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = ''
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()))
    req.on('end', () => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' })
        const data = ['flood-m', 'fault-m'].map((id) => ({ id, object: 'model', created: 1, owned_by: 'x' }))
        return void res.end(JSON.stringify({ object: 'list', data }))
      }
      const model = (JSON.parse(raw) as { model: string }).model
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      const chunk = (i: number) =>
        `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta: { content: `tok${i} ${'x'.repeat(2000)}` } }] })}\n\n`
      if (model === 'fault-m') {
        res.write(chunk(0))
        res.write('data: {"id":"c","choi')
        setImmediate(() => res.socket?.destroy())
        return
      }
      let i = 0
      let over = false
      res.on('close', () => {
        if (!res.writableFinished) closed++
        over = true
      })
      const pump = () => {
        while (!over && i < 1_000_000) if (!res.write(chunk(i++))) return void res.once('drain', pump)
        if (!over) res.end('data: [DONE]\n\n')
      }
      pump()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    closedStreams: () => closed,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

describe('review 1207: response serializer (fast-json-stringify) keeps what zod encoding gave', () => {
  it('a nullable nested object with keys the schema does not declare is answered without them, not refused', () => {
    const stringify = serializerFor(z.object({ id: z.string(), owner: z.object({ id: z.string(), name: z.string() }).nullable() }))
    const row = { id: 'm', owner: { id: 'u', name: 'U', password_hash: '$argon2id$secret', email: 'other@example.com' }, key_hash: 'k' }
    // zod's encode strips both; the compiled serializer must neither leak them nor throw (a 500).
    expect(JSON.parse(stringify(row))).toEqual({ id: 'm', owner: { id: 'u', name: 'U' } })
  })

  it('a union (and a discriminated union) of objects strips undeclared keys instead of throwing', () => {
    const union = serializerFor(
      z.object({ reason: z.union([z.object({ kind: z.literal('a'), id: z.string() }), z.object({ kind: z.literal('b'), n: z.number() })]) }),
    )
    expect(JSON.parse(union({ reason: { kind: 'b', n: 1, key_hash: 'secret' } }))).toEqual({ reason: { kind: 'b', n: 1 } })
    const discriminated = serializerFor(
      z.array(z.discriminatedUnion('kind', [z.object({ kind: z.literal('a'), id: z.string() }), z.object({ kind: z.literal('b'), n: z.number() })])),
    )
    expect(JSON.parse(discriminated([{ kind: 'a', id: 'x', url: 'http://key@provider' }]))).toEqual([{ kind: 'a', id: 'x' }])
  })

  it('a top-level object still leaves undeclared keys out, a loose one keeps them (as zod did)', () => {
    expect(JSON.parse(serializerFor(z.object({ id: z.string() }))({ id: 'x', password_hash: 'h' }))).toEqual({ id: 'x' })
    expect(JSON.parse(serializerFor(z.looseObject({ id: z.string() }))({ id: 'x', color: 'red' }))).toEqual({ id: 'x', color: 'red' })
  })
})

describe('review 1207: fieldwiseCheck against zod on hostile bodies', () => {
  const check = fieldwiseCheck(ChatRequestSchema)
  const base = { model: 'm', messages: MESSAGES }
  const bodies: [string, unknown][] = [
    ['constructor / toString keys', { ...base, constructor: 'x', toString: 1, hasOwnProperty: null }],
    ['an own __proto__ key (JSON.parse makes one)', JSON.parse('{"model":"m","messages":[{"role":"user","content":"hi"}],"__proto__":{"stream":"yes"}}')],
    ['a huge number', JSON.parse('{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":1e400}')],
    ['a huge max_tokens', { ...base, max_tokens: 1e300 }],
    ['messages as an object', { model: 'm', messages: { 0: { role: 'user', content: 'x' }, length: 1 } }],
    ['a message that is an array', { model: 'm', messages: [[]] }],
    ['a class instance as body', Object.assign(Object.create({ model: 'm', messages: MESSAGES }) as object, {})],
    ['-0 and a numeric string', { ...base, temperature: -0, top_p: '0.5' }],
  ]
  for (const [name, body] of bodies) {
    it(`${name}: passes only when zod passes, with zod's output`, () => {
      const full = ChatRequestSchema.safeParse(body)
      const fast = check(body)
      if (!full.success) expect(fast).toBeUndefined()
      else if (fast) {
        expect(JSON.stringify(fast.value)).toBe(JSON.stringify(full.data))
        // Nothing inherited that zod's output lacks (a `__proto__` key must not become a prototype).
        expect(Object.getPrototypeOf(fast.value)).toBe(Object.getPrototypeOf(full.data))
        expect((fast.value as { stream?: unknown }).stream).toBe((full.data as { stream?: unknown }).stream)
      }
    })
  }
})

describe.each(DIALECTS)('review 1207 (%s)', (dialect) => {
  let h: Harness
  let provider: FakeProvider
  let streams: Awaited<ReturnType<typeof startStreamProvider>>
  let port = 0
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)

  const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` })
  const chat = (credential: string, model: string, extra: Record<string, unknown> = {}) =>
    h.request({ method: 'POST', url: '/v1/chat/completions', headers: bearer(credential), payload: { model, messages: MESSAGES, ...extra } })
  const admin = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) =>
    h.request({ method, url, headers: h.admin.auth, ...(payload !== undefined && { payload }) })
  const createModel = async (id: string, base = 'm-1', grants: unknown[] = EVERYONE) => {
    const res = await admin('POST', '/api/v1/models/create', { id, name: id, base_model_id: base, meta: {}, params: {}, access_grants: grants })
    expect(res.statusCode, res.body).toBe(200)
  }
  const rawChat = (body: string) =>
    h.request({ method: 'POST', url: '/v1/chat/completions', headers: { ...h.admin.auth, 'content-type': 'application/json' }, payload: body })

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled)
    h = await createHarness(dialect, { MODELS_CACHE_TTL: '3600', SETTINGS_CHECK_INTERVAL_MS: '3600000' })
    provider = await startFakeProvider({ models: ['m-1'] })
    streams = await startStreamProvider()
    expect((await admin('POST', '/api/v1/connections/create', { name: 'Main', base_url: provider.baseUrl })).statusCode).toBe(200)
    expect((await admin('POST', '/api/v1/connections/create', { name: 'Streams', base_url: streams.baseUrl })).statusCode).toBe(200)
    expect((await admin('GET', '/api/models/base')).statusCode).toBe(200)
    await createModel('shared')
    await h.app.listen({ port: 0, host: '127.0.0.1' })
    port = (h.app.server.address() as AddressInfo).port
  })
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled)
    await h?.close()
    await provider?.close()
    await streams?.close()
  })

  describe('serializer over HTTP', () => {
    it("a model's owner is answered with id, name, email and role only; no answer carries a secret column", async () => {
      const user = await h.createUser('user')
      const res = await admin('GET', '/api/v1/models/model?id=shared')
      expect(res.statusCode, res.body).toBe(200)
      const owner = res.json<{ user: Record<string, unknown> | null }>().user
      expect(owner === null ? [] : Object.keys(owner).sort()).toEqual(owner === null ? [] : ['email', 'id', 'name', 'role'])
      for (const url of [
        '/api/v1/models/model?id=shared',
        '/api/models/base',
        '/api/v1/users/',
        `/api/v1/users/${user.id}`,
        '/api/v1/auths/',
        '/api/v1/models/',
      ]) {
        const answer = await admin('GET', url)
        expect(answer.statusCode, `${url}: ${answer.body}`).toBeLessThan(500)
        expect(answer.body).not.toMatch(/password|key_hash|token_hash|\$argon2|\$2[aby]\$/i)
      }
    })
  })

  describe('chat body: the fast check never lets through what the full validator refuses', () => {
    it('bodies zod refuses are 400 {detail, code} and never reach the provider', async () => {
      const deep = `{"model":"shared","messages":[{"role":"user","content":"hi"}],"x":${'['.repeat(5000)}${']'.repeat(5000)}}`
      const cases = [
        '{"model":"shared","messages":[{"role":"user","content":"hi"}],"__proto__":{"stream":true}}',
        '{"model":"shared","messages":[{"role":"user","content":"hi"}],"constructor":{"prototype":{"stream":true}}}',
        '{"model":"shared","messages":[{"role":"user","content":"hi"}],"temperature":1e400}',
        '{"model":"shared","messages":{"0":{"role":"user","content":"hi"}}}',
        '{"model":"shared","messages":[[]]}',
        '{"model":"shared","messages":[{"role":"user","content":"hi"}],"user":"a\\u0000b"}',
        '{"model":"shared","messages":[{"role":"user","content":"\\ud800"}]}',
        '{"model":"shared","messages":[{"role":"user","content":"hi"}],"extra":{"k\\u0000":1}}',
        deep,
      ]
      const before = provider.requests.length
      for (const body of cases) {
        const res = await rawChat(body)
        expect(res.statusCode, `${body.slice(0, 90)} → ${res.body}`).toBeGreaterThanOrEqual(400)
        expect(res.statusCode, body.slice(0, 90)).toBeLessThan(500)
        expect(res.json()).toMatchObject({ detail: expect.any(String), code: expect.any(String) })
      }
      expect(provider.requests.length).toBe(before)
    })

    it('a body that passes reaches the provider with exactly its keys (a duplicate key: the last one, as JSON.parse)', async () => {
      const before = provider.requests.length
      const res = await rawChat('{"model":"shared","messages":[{"role":"user","content":"hi"}],"seed":1,"seed":2,"constructor":"c","vendor_x":{"a":[1]}}')
      expect(res.statusCode, res.body).toBe(200)
      const sent = provider.requests.slice(before).find((r) => r.path === '/v1/chat/completions')?.body
      expect(sent).toMatchObject({ model: 'm-1', seed: 2, constructor: 'c', vendor_x: { a: [1] } })
      expect(Object.keys(sent ?? {})).not.toContain('__proto__')
    })
  })

  describe('stream relay', () => {
    it('a caller that stops reading, then hangs up, cancels the provider stream (back-pressure, no leak, no crash)', async () => {
      const before = streams.closedStreams()
      await createModel('flood', 'flood-m')
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions', headers: { ...h.admin.auth, 'content-type': 'application/json' } },
          (res) => {
            expect(res.statusCode).toBe(200)
            res.once('data', () => {
              // Stop reading: the gateway's buffers fill and it must pause the provider, not buffer it all.
              res.pause()
              setTimeout(() => {
                req.destroy()
                resolve()
              }, 300)
            })
          },
        )
        req.on('error', (error) => (error.message.includes('socket hang up') ? undefined : reject(error)))
        req.end(JSON.stringify({ model: 'flood', stream: true, messages: MESSAGES }))
      })
      await vi.waitFor(() => expect(streams.closedStreams()).toBe(before + 1), { timeout: 10_000, interval: 25 })
      // The gateway still answers, and nothing went unhandled.
      expect((await chat(h.admin.token, 'shared')).statusCode).toBe(200)
      expect(unhandled).toEqual([])
    })

    it('a provider that drops the connection mid-line ends the stream with one error event (200 stream, no 500, no crash)', async () => {
      await createModel('fault', 'fault-m')
      const res = await chat(h.admin.token, 'fault', { stream: true })
      expect(res.statusCode).toBe(200)
      const events = res.body.split('\n\n').filter((e) => e.startsWith('data: '))
      expect(events[0]).toContain('tok0')
      const errors = events.filter((e) => e.includes('"error"'))
      expect(errors).toHaveLength(1)
      expect(events.at(-1)).toContain('"error"')
      expect(res.body).not.toContain('"choi\n')
      expect(unhandled).toEqual([])
    })
  })

  describe('registry version bumped after the commit', () => {
    it('a revoked grant is refused to the next warm request even when the bump after the commit failed once', async () => {
      await createModel('bump-fail')
      const user = await h.createUser('user')
      expect((await chat(user.token, 'bump-fail')).statusCode).toBe(200)
      expect((await chat(user.token, 'bump-fail')).statusCode).toBe(200) // warm: resolved from the versioned caches
      const registry = (h.services as unknown as { models: { registry: { models: { bumpVersion: () => Promise<void> } } } }).models.registry
      const repo = registry.models
      const original = repo.bumpVersion
      repo.bumpVersion = () => {
        repo.bumpVersion = original
        return Promise.reject(new Error('connection lost after the commit'))
      }
      try {
        const revoked = await admin('POST', '/api/v1/models/model/access/update', { id: 'bump-fail', access_grants: [] })
        // Whatever the answer, the write committed: the grant is gone in the database...
        // (a lost bump is retried: the write's answer is its success)
        expect(revoked.statusCode, revoked.body).toBe(200)
      } finally {
        repo.bumpVersion = original
      }
      // ...so no cache may still serve it.
      expect((await chat(user.token, 'bump-fail')).statusCode).toBe(404)
    })

    it('concurrent writes: every answer is followed by reads at a version that shows it (revoke, switch off, delete)', async () => {
      const ids = ['cw-1', 'cw-2', 'cw-3', 'cw-4']
      for (const id of ids) await createModel(id)
      const user = await h.createUser('user')
      for (const id of ids) expect((await chat(user.token, id)).statusCode).toBe(200)
      await Promise.all([
        admin('POST', '/api/v1/models/model/access/update', { id: 'cw-1', access_grants: [] }).then((res) => {
          expect(res.statusCode, res.body).toBe(200)
        }),
        admin('POST', '/api/v1/models/model/toggle?id=cw-2').then((res) => expect(res.statusCode, res.body).toBe(200)),
        admin('DELETE', '/api/v1/models/model/delete?id=cw-3').then((res) => expect(res.statusCode, res.body).toBeLessThan(300)),
        admin('POST', '/api/v1/models/model/access/update', { id: 'cw-4', access_grants: EVERYONE }).then((res) => expect(res.statusCode, res.body).toBe(200)),
      ])
      for (const id of ['cw-1', 'cw-2', 'cw-3']) expect((await chat(user.token, id)).statusCode, id).toBe(404)
      expect((await chat(user.token, 'cw-4')).statusCode).toBe(200)
    })
  })

  // Two instances for real: two pools on one PostgreSQL schema, each with its own write watch and the
  // NOTIFY bus between them (SQLite in one process has no second instance to hear).
  if (dialect === 'postgres' && process.env['TEST_POSTGRES_URL']) {
    it('another instance refuses a revoked grant once it hears the write, and never serves the old state again', async () => {
      const schema = await freshPostgresSchema('rv1207')
      const dbA = createDatabase({ dialect: 'postgres', url: schema.url }, { pgPoolSize: 3 })
      const dbB = createDatabase({ dialect: 'postgres', url: schema.url }, { pgPoolSize: 3 })
      const env = { DATABASE_URL: schema.url, MODELS_CACHE_TTL: '3600', SETTINGS_CHECK_INTERVAL_MS: '3600000' }
      const a = await createHarness('postgres', env, { database: { ...dbA, engine: 'postgres-server' } })
      const b = await createHarness('postgres', env, { database: { ...dbB, engine: 'postgres-server' } })
      try {
        const asA = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
          a.request({ method, url, headers: a.admin.auth, ...(payload !== undefined && { payload }) })
        expect((await asA('POST', '/api/v1/connections/create', { name: 'Main', base_url: provider.baseUrl })).statusCode).toBe(200)
        expect((await asA('GET', '/api/models/base')).statusCode).toBe(200)
        const created = await asA('POST', '/api/v1/models/create', {
          id: 'x-inst',
          name: 'x',
          base_model_id: 'm-1',
          meta: {},
          params: {},
          access_grants: EVERYONE,
        })
        expect(created.statusCode, created.body).toBe(200)
        const user = await a.createUser('user')
        const onB = () =>
          b.request({ method: 'POST', url: '/v1/chat/completions', headers: bearer(user.token), payload: { model: 'x-inst', messages: MESSAGES } })
        await vi.waitFor(async () => expect((await onB()).statusCode).toBe(200), { timeout: 10_000, interval: 25 })
        expect((await onB()).statusCode).toBe(200) // warm on B
        expect((await asA('POST', '/api/v1/models/model/access/update', { id: 'x-inst', access_grants: [] })).statusCode).toBe(200)
        await vi.waitFor(async () => expect((await onB()).statusCode).toBe(404), { timeout: 10_000, interval: 10 })
        for (let i = 0; i < 20; i++) expect((await onB()).statusCode).toBe(404)
      } finally {
        await b.close()
        await a.close()
        await dbB.close()
        await dbA.close()
        await schema.drop()
      }
    })
  }

  describe('audit ids', () => {
    it('two instances (two module copies: two counters, two tags) never collide in one millisecond', async () => {
      // A query makes the module loader evaluate the file anew: what a second process would hold.
      const copy = async (tag: string) => (await import(/* @vite-ignore */ `${AUDIT_LOG_MODULE}?instance=${tag}`)) as typeof AuditLog
      const [one, two] = [await copy('one'), await copy('two')]
      const now = Date.now() + 10_000
      // Two copies indeed: each starts its own counter in this millisecond (so without the tag they would collide).
      const [first, second] = [one.auditId(now), two.auditId(now)]
      expect(first.split('-')[1]).toBe('0000')
      expect(second.split('-')[1]).toBe('0000')
      const ids = new Set<string>([first, second])
      for (let i = 0; i < 499; i++) {
        ids.add(one.auditId(now))
        ids.add(two.auditId(now))
      }
      expect(ids.size).toBe(1000)
    })

    it('two app instances on one database write audit entries in the same moment without a key conflict', async () => {
      const peer = await createHarness(dialect, {}, { database: h.database })
      try {
        const writes = Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? h : peer).request({
            method: 'POST',
            url: '/api/v1/models/create',
            headers: h.admin.auth,
            payload: { id: `au-${dialect}-${i}`, name: 'a', base_model_id: 'm-1', meta: {}, params: {}, access_grants: [] },
          }),
        )
        for (const res of await Promise.all(writes)) expect(res.statusCode, res.body).toBe(200)
      } finally {
        await peer.close()
      }
    })
  })
})
