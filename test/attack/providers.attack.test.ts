/**
 * Attacks on the provider side of modelgate (issue #10), on every dialect, through HTTP against real
 * fake providers on 127.0.0.1:
 * - hole 7: provider URLs carrying keys (query string, userinfo) and providers' raw error texts must not
 *   reach non-admins, nor any log line; admins get redacted detail; every fault answer has a request id
 *   that is in the log too;
 * - hole 9: the profile-image route is no open redirect;
 * - hole 11: without Redis, a connection change on one instance reaches another one sharing the database
 *   within SETTINGS_CHECK_INTERVAL_MS.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase, type DialectName } from '../../src/db/database.js'
import { profileImageOf } from '../../src/models/profile-image.js'
import { DIALECTS, openTestDatabase, type TestDatabase } from '../support/databases.js'
import { startFakeProvider, type FakeProvider } from '../support/fake-provider.js'
import { createHarness, type Harness, type TestAccount } from '../support/harness.js'

const C = '/api/v1/connections'
const M = '/api/v1/models'
const MESSAGES = [{ role: 'user', content: 'hello' }]
const QUERY_SECRET = 'SECRET-query-4711'
const PASSWORD_SECRET = 'SECRET-password-0815'
const KEY_SECRET = 'SECRET-key-2342'
/** What a provider says when it fails: it echoes its URL and the credentials it was sent, and internals. */
const RAW_ERROR = `upstream exploded: key ${KEY_SECRET} refused at http://10.0.0.7/v1?api-key=${QUERY_SECRET} (trace /srv/internal/handler.py)`
const RAW_ERROR_ENV = `upstream exploded: user svc:${PASSWORD_SECRET} refused at http://svc:${PASSWORD_SECRET}@10.0.0.7/v1?api-key=${QUERY_SECRET} (trace /srv/internal/handler.py)`

describe.each(DIALECTS)('providers under attack on %s', (dialect) => {
  describe('hole 7: provider secrets and internals', () => {
    let h: Harness
    let user: TestAccount
    let viaApi: FakeProvider
    let viaEnv: FakeProvider
    const lines: string[] = []

    beforeAll(async () => {
      viaApi = await startFakeProvider({ models: ['api-leaky-m'], errorMessage: RAW_ERROR })
      viaEnv = await startFakeProvider({ models: ['env-leaky-m'], errorMessage: RAW_ERROR_ENV })
      const envUrl = viaEnv.baseUrl.replace('http://', `http://svc:${PASSWORD_SECRET}@`) + `?api-key=${QUERY_SECRET}`
      h = await createHarness(
        dialect,
        {
          LOG_LEVEL: 'info',
          MODELS_CACHE_TTL: '3600',
          PROVIDER_LIST_TIMEOUT_MS: '1000',
          PROVIDER_CHAT_TIMEOUT_MS: '1000',
          BYPASS_MODEL_ACCESS_CONTROL: 'true',
          OPENAI_API_BASE_URLS: envUrl,
        },
        { logStream: { write: (line) => void lines.push(line) } },
      )
      user = await h.createUser('user')
      const created = await h.request({
        method: 'POST',
        url: `${C}/create`,
        headers: h.admin.auth,
        payload: { name: 'Leaky', base_url: `${viaApi.baseUrl}?api-key=${QUERY_SECRET}`, api_key: KEY_SECRET },
      })
      expect(created.statusCode, created.body).toBe(200)
      // Both lists are fetched (through URLs with a query string and credentials) and kept for the TTL.
      const base = await h.request({ method: 'GET', url: '/api/models/base', headers: h.admin.auth })
      expect(
        base
          .json<{ data: { id: string }[] }>()
          .data.map((m) => m.id)
          .sort(),
      ).toEqual(['api-leaky-m', 'env-leaky-m'])
      // The credentials of the URL were sent as a Basic authorization, the query string kept.
      expect(viaEnv.requests.at(-1)?.headers.authorization).toBe(`Basic ${Buffer.from(`svc:${PASSWORD_SECRET}`).toString('base64')}`)
      expect(viaApi.requests.at(-1)?.headers.authorization).toBe(`Bearer ${KEY_SECRET}`)
    })

    afterAll(async () => {
      await h.close()
      await viaApi.close()
      await viaEnv.close()
    })

    const chat = (who: TestAccount, model: string, stream = false) =>
      h.request({ method: 'POST', url: '/v1/chat/completions', headers: who.auth, payload: { model, stream, messages: MESSAGES } })

    function expectNothingSecret(text: string, provider: FakeProvider): void {
      expect(text).not.toContain('SECRET')
      expect(text).not.toContain('svc:')
      expect(text).not.toContain(provider.url)
      expect(text).not.toContain('api-key')
      expect(text).not.toContain('exploded')
      expect(text).not.toContain('/srv/internal')
    }

    const logText = () => lines.join('\n')

    it("hole 7: a non-admin's 502 names the connection, the status and a request id; nothing of the URL or the raw body", async () => {
      viaApi.setBehavior('error500')
      viaEnv.setBehavior('error500')
      try {
        for (const [model, provider, name] of [
          ['api-leaky-m', viaApi, '"Leaky"'],
          ['env-leaky-m', viaEnv, `"OpenAI 127.0.0.1:${new URL(viaEnv.url).port}"`],
        ] as const) {
          for (const stream of [false, true]) {
            const res = await chat(user, model, stream)
            expect(res.statusCode, res.body).toBe(502)
            expectNothingSecret(res.body, provider)
            const body = res.json()
            expect(body.code).toBe('PROVIDER_ERROR')
            expect(body.detail).toContain(name)
            expect(body.detail).toContain('HTTP 500')
            expect(body.request_id).toEqual(expect.any(String))
            expect(body.detail).toContain(body.request_id)
            expect(body.error.message).toBe(body.detail)
            // The log line of this request carries the same id, and the admin detail, redacted.
            const logged = lines.map((l) => JSON.parse(l) as Record<string, any>).find((l) => l['reqId'] === body.request_id && l['err'])
            expect(logged?.['err']?.adminDetail).toContain('exploded')
          }
        }
      } finally {
        viaApi.setBehavior('ok')
        viaEnv.setBehavior('ok')
      }
      expect(logText()).not.toContain('SECRET')
    })

    it("hole 7: an admin's 502 has the provider's detail with the URL and its secrets redacted", async () => {
      viaApi.setBehavior('error500')
      viaEnv.setBehavior('error500')
      try {
        for (const model of ['api-leaky-m', 'env-leaky-m']) {
          const res = await chat(h.admin, model)
          expect(res.statusCode, res.body).toBe(502)
          const body = res.json()
          expect(body.detail).toContain('exploded') // the detail…
          expect(body.detail).toContain('?***') // …with the URL redacted
          expect(body.detail).toContain(body.request_id)
          expect(res.body).not.toContain('SECRET')
        }
      } finally {
        viaApi.setBehavior('ok')
        viaEnv.setBehavior('ok')
      }
      expect(logText()).not.toContain('SECRET')
    })

    it('hole 7: timeouts, unreachable providers and streams cut mid-way say no more to non-admins', async () => {
      viaApi.setBehavior('hang')
      try {
        const res = await chat(user, 'api-leaky-m')
        expect(res.statusCode, res.body).toBe(504)
        expectNothingSecret(res.body, viaApi)
        expect(res.json()).toMatchObject({ code: 'PROVIDER_TIMEOUT', request_id: expect.any(String) })
        expect(res.json().detail).toContain('"Leaky"')
      } finally {
        viaApi.setBehavior('ok')
      }

      viaApi.setBehavior('cutStream')
      try {
        const res = await chat(user, 'api-leaky-m', true)
        expect(res.statusCode).toBe(200)
        const event = res.body.split('\n').find((l) => l.startsWith('data: {"error"'))
        expect(event, res.body).toBeDefined()
        const error = JSON.parse(event?.slice('data: '.length) ?? '{}').error
        expect(error).toMatchObject({ code: 'PROVIDER_ERROR', request_id: expect.any(String) })
        expect(error.message).toContain('"Leaky"')
        expectNothingSecret(res.body, viaApi)
        await expect.poll(() => lines.some((l) => l.includes(error.request_id) && l.includes('provider stream failed'))).toBe(true)
      } finally {
        viaApi.setBehavior('ok')
      }

      const port = new URL(viaEnv.url).port
      await viaEnv.close()
      const down = await chat(user, 'env-leaky-m')
      expect(down.statusCode, down.body).toBe(502)
      expectNothingSecret(down.body, viaEnv)
      expect(down.json().detail).toContain('unreachable')
      const forAdmin = await chat(h.admin, 'env-leaky-m')
      expect(forAdmin.json().detail).toContain(`http://***@127.0.0.1:${port}/v1?***`)
      expect(forAdmin.body).not.toContain('SECRET')
      expect(logText()).not.toContain('SECRET')
    })

    it("hole 7: a provider's own error event mid-stream reaches a non-admin as ours; an admin reads it redacted", async () => {
      viaApi.setBehavior('errorEvent')
      try {
        const res = await chat(user, 'api-leaky-m', true)
        expect(res.statusCode).toBe(200)
        expectNothingSecret(res.body, viaApi)
        expect(res.body).toContain(' tok1') // the chunks before the error pass through as they came
        const event = res.body.split('\n').find((l) => l.startsWith('data: {"error"'))
        const error = JSON.parse(event?.slice('data: '.length) ?? '{}').error
        expect(error).toMatchObject({ code: 'PROVIDER_ERROR', request_id: expect.any(String) })
        expect(error.message).toContain('"Leaky" reported an error mid-stream (overloaded)')
        expect(res.body.trimEnd().endsWith('data: [DONE]')).toBe(true)
        const forAdmin = await chat(h.admin, 'api-leaky-m', true)
        expect(forAdmin.body).toContain('exploded') // admins read the provider's message…
        expect(forAdmin.body).not.toContain('SECRET') // …with the secrets it echoes redacted
        expect(logText()).not.toContain('SECRET')
      } finally {
        viaApi.setBehavior('ok')
      }
    })

    it("hole 7: a provider's 400 that echoes its key at the cut-off point does not leak a piece of it", async () => {
      // Admins read a 4xx provider message, cut at 500 characters; a key across the cut must not leave a piece.
      const echoed = `${'x'.repeat(488)} key ${KEY_SECRET}`
      const server = createServer((req, res) => {
        res.writeHead(req.url?.endsWith('/models') ? 200 : 400, { 'content-type': 'application/json' })
        res.end(
          JSON.stringify(req.url?.endsWith('/models') ? { data: [{ id: 'echo-400-m' }] } : { error: { message: echoed, code: 'context_length_exceeded' } }),
        )
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
        const created = await h.request({
          method: 'POST',
          url: `${C}/create`,
          headers: h.admin.auth,
          payload: { name: 'Echo', base_url: url, api_key: KEY_SECRET },
        })
        expect(created.statusCode, created.body).toBe(200)
        await h.request({ method: 'POST', url: `${C}/refresh`, headers: h.admin.auth })
        for (const who of [user, h.admin]) {
          const res = await chat(who, 'echo-400-m')
          expect(res.statusCode, res.body).toBe(400)
          expect(res.body).not.toContain('SECRET')
          expect(res.json()).toMatchObject({ request_id: expect.any(String) })
        }
        // A non-admin reads the provider's name, status, machine code and a request id, never its text.
        const forUser = (await chat(user, 'echo-400-m')).json()
        expect(forUser.detail).toContain('"Echo" refused the request (HTTP 400, context_length_exceeded)')
        expect(forUser.detail).not.toContain('xxxxxxxx')
        expect((await chat(h.admin, 'echo-400-m')).json().detail).toContain('xxxxxxxx')
        await h.request({ method: 'DELETE', url: `${C}/id/${created.json().id as string}/delete`, headers: h.admin.auth })
      } finally {
        server.close()
      }
    })

    it('hole 7: connection answers (list, status, test) show URLs redacted, and an unchanged redacted URL keeps the stored one', async () => {
      viaApi.setBehavior('error500')
      let id: string
      try {
        const refreshed = await h.request({ method: 'POST', url: `${C}/refresh`, headers: h.admin.auth })
        expect(refreshed.statusCode, refreshed.body).toBe(200)
        const leaky = refreshed.json<{ id: string; name: string; base_url: string; status: { error: string } }[]>().find((c) => c.name === 'Leaky')
        if (!leaky) throw new Error('no connection "Leaky"')
        id = leaky.id
        expect(leaky.base_url).toBe(`${viaApi.baseUrl}?***`)
        expect(leaky.status.error).toContain('HTTP 500')
        const tested = await h.request({ method: 'POST', url: `${C}/id/${id}/test`, headers: h.admin.auth })
        expect(tested.json()).toMatchObject({ ok: false })
        expect(tested.json().error).toContain('"Leaky"')
        const all = await h.request({ method: 'GET', url: `${C}/`, headers: h.admin.auth })
        for (const text of [refreshed.body, tested.body, all.body]) expect(text).not.toContain('SECRET')
      } finally {
        viaApi.setBehavior('ok')
      }
      // The web form sends the URL back as shown: the stored one (with its key) is kept.
      const updated = await h.request({
        method: 'POST',
        url: `${C}/id/${id}/update`,
        headers: h.admin.auth,
        payload: { name: 'Leaky', base_url: `${viaApi.baseUrl}?***` },
      })
      expect(updated.statusCode, updated.body).toBe(200)
      const before = viaApi.requests.length
      const tested = await h.request({ method: 'POST', url: `${C}/id/${id}/test`, headers: h.admin.auth })
      expect(tested.json()).toMatchObject({ ok: true, models: ['api-leaky-m'] })
      expect(viaApi.requests.slice(before).some((r) => r.path === '/v1/models')).toBe(true)
      expect(logText()).not.toContain('SECRET')
    })
  })

  describe('hole 9: the profile image route is no open redirect', () => {
    let h: Harness
    let provider: FakeProvider
    let n = 0

    beforeAll(async () => {
      provider = await startFakeProvider({ models: ['pic-base'] })
      h = await createHarness(dialect, { PROFILE_IMAGE_HOSTS: 'img.example.com, CDN.Example.org', MODELS_CACHE_TTL: '3600' })
      const created = await h.request({ method: 'POST', url: `${C}/create`, headers: h.admin.auth, payload: { name: 'Pics', base_url: provider.baseUrl } })
      expect(created.statusCode, created.body).toBe(200)
    })

    afterAll(async () => {
      await h.close()
      await provider.close()
    })

    async function pictureOf(url: string) {
      const id = `pic-${++n}`
      const created = await h.request({
        method: 'POST',
        url: `${M}/create`,
        headers: h.admin.auth,
        payload: { id, base_model_id: 'pic-base', name: id, meta: { profile_image_url: url }, params: {} },
      })
      expect(created.statusCode, created.body).toBe(200)
      return h.request({ method: 'GET', url: `${M}/model/profile/image`, query: { id }, headers: h.admin.auth })
    }

    const defaultImage = profileImageOf('')

    it('hole 9: other hosts, protocol-relative and backslash paths, javascript: and other tricks → the default image, no redirect', async () => {
      const refused = [
        'https://evil.example/x.png',
        'http://evil.example/x.png',
        '//evil.example/x.png',
        '/\\evil.example/x.png',
        '/\\/evil.example/x.png',
        'javascript:alert(document.cookie)',
        'JavaScript:alert(1)',
        'https://img.example.com.evil.example/x.png',
        'https://img.example.com@evil.example/x.png',
        'https://user:pw@img.example.com/x.png',
        'https:\\\\evil.example/x.png',
        'ftp://img.example.com/x.png',
        'data:text/html,<script>alert(1)</script>',
        'static/x.png',
      ]
      const problems: string[] = []
      for (const url of refused) {
        const res = await pictureOf(url)
        const etag = defaultImage.kind === 'inline' ? defaultImage.etag : ''
        if (res.statusCode !== 200 || res.headers.location !== undefined || res.headers.etag !== etag) {
          problems.push(`${url}: ${res.statusCode} ${String(res.headers.location)}`)
        }
      }
      expect(problems).toEqual([])
    })

    it('hole 9: redirects only to allowed hosts (exact, any case) and to same-origin paths', async () => {
      for (const [url, location] of [
        ['https://img.example.com/a.png', 'https://img.example.com/a.png'],
        ['https://IMG.Example.COM/a.png?s=64', 'https://img.example.com/a.png?s=64'],
        ['http://cdn.example.org/b.webp', 'http://cdn.example.org/b.webp'],
        ['/static/favicon.png', '/static/favicon.png'],
      ]) {
        const res = await pictureOf(url as string)
        expect(res.statusCode, url).toBe(302)
        expect(res.headers.location).toBe(location)
      }
      // Nothing is allowed by default.
      expect(profileImageOf('https://img.example.com/a.png')).toMatchObject({ kind: 'inline', contentType: 'image/svg+xml' })
    })

    it('hole 9: stored images are served inline; SVG only under a sandboxing CSP and nosniff', async () => {
      const png = await pictureOf('data:image/png;base64,iVBORw0KGgo=')
      expect(png.statusCode).toBe(200)
      expect(png.headers['content-type']).toBe('image/png')
      const svg = await pictureOf('data:image/svg+xml,<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>')
      expect(svg.statusCode).toBe(200)
      expect(svg.headers['content-security-policy']).toContain('sandbox')
      expect(svg.headers['content-security-policy']).toContain("default-src 'none'")
      expect(svg.headers['x-content-type-options']).toBe('nosniff')
    })
  })

  describe('hole 11: two instances on one database, without Redis', () => {
    const CHECK_MS = 1000
    let a: Harness
    let b: Harness
    let first: FakeProvider
    let second: FakeProvider
    const closers: (() => Promise<void>)[] = []

    beforeAll(async () => {
      first = await startFakeProvider({ models: ['first-m'] })
      second = await startFakeProvider({ models: ['second-m'] })
      const [dbA, dbB] = await sharedDatabases(dialect, closers)
      // A long cache TTL: only the version check can explain that B sees A's changes.
      const env = { MODELS_CACHE_TTL: '3600', SETTINGS_CHECK_INTERVAL_MS: String(CHECK_MS), PROVIDER_LIST_TIMEOUT_MS: '1000' }
      a = await createHarness(dialect, env, { database: dbA })
      b = await createHarness(dialect, env, { database: dbB })
    })

    afterAll(async () => {
      await a.close()
      await b.close()
      for (const close of closers.reverse()) await close()
      await first.close()
      await second.close()
    })

    /** B's raw provider list, asked as A's admin (same secret, same database). */
    const baseOnB = async () => {
      const res = await b.request({ method: 'GET', url: '/api/models/base', headers: a.admin.auth })
      expect(res.statusCode, res.body).toBe(200)
      return res
        .json<{ data: { id: string }[] }>()
        .data.map((m) => m.id)
        .sort()
    }

    /** Polls B until `expected`, returns how long it took after the change. */
    async function propagation(changedAt: number, expected: string[]): Promise<number> {
      const deadline = changedAt + CHECK_MS + 4000
      for (;;) {
        const seen = await baseOnB()
        if (JSON.stringify(seen) === JSON.stringify(expected)) return performance.now() - changedAt
        if (performance.now() > deadline) throw new Error(`B still lists ${JSON.stringify(seen)}, expected ${JSON.stringify(expected)}`)
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
    }

    it('hole 11: a connection created, changed, disabled and deleted on A is seen on B within SETTINGS_CHECK_INTERVAL_MS', async () => {
      expect(await baseOnB()).toEqual([]) // B has cached "no connections"
      const admin = (payload: unknown, url: string) => a.request({ method: 'POST', url, headers: a.admin.auth, payload })
      const times: Record<string, number> = {}

      let changedAt = performance.now()
      const created = await admin({ name: 'First', base_url: first.baseUrl }, `${C}/create`)
      expect(created.statusCode, created.body).toBe(200)
      const id = created.json().id as string
      times['create'] = await propagation(changedAt, ['first-m'])

      changedAt = performance.now()
      expect((await admin({ base_url: second.baseUrl }, `${C}/id/${id}/update`)).statusCode).toBe(200)
      times['update'] = await propagation(changedAt, ['second-m'])

      changedAt = performance.now()
      expect((await admin({ enabled: false }, `${C}/id/${id}/update`)).statusCode).toBe(200)
      times['disable'] = await propagation(changedAt, [])

      changedAt = performance.now()
      expect((await admin({ enabled: true, prefix_id: 'p' }, `${C}/id/${id}/update`)).statusCode).toBe(200)
      times['enable'] = await propagation(changedAt, ['p.second-m'])

      changedAt = performance.now()
      const deleted = await a.request({ method: 'DELETE', url: `${C}/id/${id}/delete`, headers: a.admin.auth })
      expect(deleted.statusCode, deleted.body).toBe(200)
      times['delete'] = await propagation(changedAt, [])

      for (const ms of Object.values(times)) expect(ms).toBeLessThan(CHECK_MS + 1500)
      console.info(
        `hole 11 (${dialect}): propagation without Redis, ms: ${JSON.stringify(Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Math.round(v)])))}`,
      )
    })
  })
})

/** Two handles on one database, as two instances would have: a shared SQLite file, or one PostgreSQL schema. */
async function sharedDatabases(dialect: DialectName, closers: (() => Promise<void>)[]): Promise<[TestDatabase, TestDatabase]> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-two-'))
    const path = join(dir, 'shared.db')
    const one: TestDatabase = { ...createDatabase({ dialect: 'sqlite', path }), engine: 'sqlite' }
    const two: TestDatabase = { ...createDatabase({ dialect: 'sqlite', path }), engine: 'sqlite' }
    closers.push(async () => {
      await one.close()
      await two.close()
      rmSync(dir, { recursive: true, force: true })
    })
    return [one, two]
  }
  const one = await openTestDatabase(dialect)
  closers.push(() => one.close())
  const url = process.env['TEST_POSTGRES_URL']
  if (one.engine !== 'postgres-server' || !url) return [one, one] // PGlite: one in-process database, shared
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(one.db)
  const target = new URL(url)
  target.searchParams.set('options', `-c search_path=${rows[0]?.schema ?? 'public'}`)
  const two: TestDatabase = { ...createDatabase({ dialect: 'postgres', url: target.toString() }, { pgPoolSize: 3 }), engine: 'postgres-server' }
  closers.push(() => two.close())
  return [one, two]
}
