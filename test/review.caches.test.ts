/**
 * H9: a review, as attacks with the fewest rights, of the gateway caches (write watch, topic caches),
 * GET /metrics and usage analytics. Each test warms the caches with a request that succeeds, does what
 * should revoke (through the API or straight in SQL, as the driver-level watch must notice either), and
 * tries again at once; metrics and analytics are read by callers who must not read them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writtenTopics } from '../src/db/write-watch.js'
import { DIALECTS } from './support/databases.js'
import { startFakeProvider, type FakeProvider } from './support/fake-provider.js'
import { createHarness, PASSWORD, type Harness, type TestAccount } from './support/harness.js'

const MESSAGES = [{ role: 'user', content: 'hi' }]
const EVERYONE = [{ principal_type: 'user', principal_id: '*', permission: 'read' }]
const SCIM_TOKEN = 'scim-review-token-0123456789abcdef'
const METRICS_TOKEN = 'metrics-review-token-0123456789abcdef'

/** A provider whose `usage` the test sets: what a broken or hostile provider may send. */
async function startUsageProvider(): Promise<{ baseUrl: string; setBody: (raw: string) => void; close: () => Promise<void> }> {
  let raw = '{}'
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume()
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' })
        return void res.end(JSON.stringify({ object: 'list', data: [{ id: 'evil-base', object: 'model', created: 1, owned_by: 'x' }] }))
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(raw)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    setBody: (body) => (raw = body),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

const completion = (usage: string) =>
  `{"id":"c","object":"chat.completion","created":1,"model":"evil-base","choices":[{"index":0,"message":{"role":"assistant","content":"x"},"finish_reason":"stop"}],"usage":${usage}}`

describe.each(DIALECTS)('review: caches, metrics, analytics (%s)', (dialect) => {
  let h: Harness
  let provider: FakeProvider
  let evil: Awaited<ReturnType<typeof startUsageProvider>>
  let groupId: string

  const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` })
  const chat = (credential: string, model = 'shared') =>
    h.request({ method: 'POST', url: '/v1/chat/completions', headers: bearer(credential), payload: { model, messages: MESSAGES } })
  const me = (credential: string) => h.request({ method: 'GET', url: '/api/v1/auths/', headers: bearer(credential) })
  const admin = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) =>
    h.request({ method, url, headers: h.admin.auth, ...(payload !== undefined && { payload }) })
  const apiKeyOf = async (account: TestAccount) => {
    const res = await h.request({ method: 'POST', url: '/api/v1/auths/api_key', headers: account.auth })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ api_key: string }>().api_key
  }
  /** A user with an API key whose token and key have both passed (so the caches hold them). */
  const warm = async (model = 'shared') => {
    const user = await h.createUser('user')
    const key = await apiKeyOf(user)
    expect((await chat(key, model)).statusCode).toBe(200)
    expect((await chat(user.token, model)).statusCode).toBe(200)
    return { user, key }
  }
  const createModel = async (id: string, grants: unknown[] = EVERYONE) => {
    const res = await admin('POST', '/api/v1/models/create', { id, name: id, base_model_id: 'm-1', meta: {}, params: {}, access_grants: grants })
    expect(res.statusCode, res.body).toBe(200)
  }

  beforeAll(async () => {
    h = await createHarness(dialect, {
      MODELS_CACHE_TTL: '3600',
      SETTINGS_CHECK_INTERVAL_MS: '3600000',
      ENABLE_SCIM: 'true',
      SCIM_TOKEN,
      METRICS_TOKEN,
    })
    provider = await startFakeProvider({ models: ['m-1'] })
    evil = await startUsageProvider()
    expect((await admin('POST', '/api/v1/connections/create', { name: 'Main', base_url: provider.baseUrl })).statusCode).toBe(200)
    expect((await admin('POST', '/api/v1/connections/create', { name: 'Evil', base_url: evil.baseUrl })).statusCode).toBe(200)
    expect((await admin('GET', '/api/models/base')).statusCode).toBe(200)
    await createModel('shared')
    const evilPreset = await admin('POST', '/api/v1/models/create', {
      id: 'evil',
      name: 'evil',
      base_model_id: 'evil-base',
      meta: {},
      params: {},
      access_grants: EVERYONE,
    })
    expect(evilPreset.statusCode, evilPreset.body).toBe(200)
    const group = await admin('POST', '/api/v1/groups/create', { name: 'Review' })
    groupId = group.json<{ id: string }>().id
  })
  afterAll(async () => {
    await h?.close()
    await provider?.close()
    await evil?.close()
  })

  describe('outliving a revoked credential', () => {
    it('own password change: the other sessions end at once, the caller keeps its token (and fresh one)', async () => {
      const { user, key } = await warm()
      const signin = await h.request({ method: 'POST', url: '/api/v1/auths/signin', payload: { email: user.email, password: PASSWORD } })
      const second = signin.json<{ token: string }>().token
      expect((await chat(second)).statusCode).toBe(200)
      const changed = await h.request({
        method: 'POST',
        url: '/api/v1/auths/update/password',
        headers: user.auth,
        payload: { password: PASSWORD, new_password: 'another-good-password' },
      })
      expect(changed.statusCode, changed.body).toBe(200)
      expect((await chat(second)).statusCode).toBe(401)
      expect((await chat(user.token)).statusCode).toBe(200)
      expect((await chat(changed.json<{ token: string }>().token)).statusCode).toBe(200)
      expect((await chat(key)).statusCode).toBe(200) // kept, as docs/auth.md says
    })

    it('SCIM deactivation refuses the warm token and key at once', async () => {
      const { user, key } = await warm()
      const res = await h.request({
        method: 'PATCH',
        url: `/api/v1/scim/v2/Users/${user.id}`,
        headers: { authorization: `Bearer ${SCIM_TOKEN}`, 'content-type': 'application/scim+json' },
        payload: JSON.stringify({
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'replace', path: 'active', value: false }],
        }),
      })
      expect(res.statusCode, res.body).toBe(200)
      expect((await chat(user.token)).statusCode).toBe(401)
      expect((await chat(key)).statusCode).toBe(401)
    })

    it('a model switched off, then deleted, is refused to the next warm request', async () => {
      await createModel('short-lived')
      const { key } = await warm('short-lived')
      const toggled = await admin('POST', '/api/v1/models/model/toggle?id=short-lived')
      expect(toggled.statusCode, toggled.body).toBe(200)
      expect((await chat(key, 'short-lived')).statusCode).toBe(404)
      expect((await admin('POST', '/api/v1/models/model/toggle?id=short-lived')).statusCode).toBe(200)
      expect((await chat(key, 'short-lived')).statusCode).toBe(200)
      expect((await admin('POST', '/api/v1/models/model/delete', { id: 'short-lived' })).statusCode).toBe(200)
      expect((await chat(key, 'short-lived')).statusCode).toBe(404)
    })

    it('a bulk access change that removes the grant refuses the next warm request', async () => {
      await createModel('bulk-target', [{ principal_type: 'group', principal_id: groupId, permission: 'read' }])
      const user = await h.createUser('user')
      expect((await admin('POST', `/api/v1/groups/id/${groupId}/users/add`, { user_ids: [user.id] })).statusCode).toBe(200)
      const key = await apiKeyOf(user)
      expect((await chat(key, 'bulk-target')).statusCode).toBe(200)
      const bulk = await admin('POST', '/api/v1/models/access/bulk', {
        model_ids: ['bulk-target'],
        remove: [{ principal_type: 'group', principal_id: groupId, permission: 'read' }],
      })
      expect(bulk.statusCode, bulk.body).toBe(200)
      expect((await chat(key, 'bulk-target')).statusCode).toBe(404)
    })

    it('a template applied in replace mode that takes the grant away refuses the next warm request', async () => {
      await createModel('tpl-target')
      const { key } = await warm('tpl-target')
      const template = await admin('POST', '/api/v1/templates/create', { id: 'tpl-private', name: 'Private', access_grants: [] })
      expect(template.statusCode, template.body).toBe(200)
      const applied = await admin('POST', '/api/v1/templates/template/apply', { id: 'tpl-private', model_ids: ['tpl-target'], mode: 'replace' })
      expect(applied.statusCode, applied.body).toBe(200)
      expect((await chat(key, 'tpl-target')).statusCode).toBe(404)
    })

    it('an admin demoted through SQL loses the admin routes at once; so does one with API key', async () => {
      const second = await h.createUser('admin')
      const key = await apiKeyOf(second)
      expect((await h.request({ method: 'GET', url: '/api/v1/users/', headers: bearer(key) })).statusCode).toBe(200)
      await sql`UPDATE users SET role = 'user' WHERE id = ${second.id}`.execute(h.database.db)
      expect((await h.request({ method: 'GET', url: '/api/v1/users/', headers: bearer(key) })).statusCode).toBe(403)
      expect((await h.request({ method: 'GET', url: '/api/v1/users/', headers: second.auth })).statusCode).toBe(403)
    })

    /** Writes in SQL text forms the watcher must recognise: each must refuse the warm credential. */
    const schemaOf = async () =>
      dialect === 'postgres' ? ((await sql<{ s: string }>`select current_schema() as s`.execute(h.database.db)).rows[0]?.s ?? 'public') : 'main'
    const sqlForms: [string, (id: string, schema: string) => ReturnType<typeof sql.raw>][] = [
      [
        'upsert (insert … on conflict do update)',
        (id) =>
          sql.raw(
            `insert into users (id, email, name, role, profile_image_url, created_at, updated_at) select id, email, name, role, profile_image_url, created_at, updated_at from users where id = '${id}' on conflict (id) do update set role = 'pending'`,
          ),
      ],
      [
        'with … update',
        (id) => sql.raw(`with target as (select id from users where id = '${id}') update users set role = 'pending' where id in (select id from target)`),
      ],
      ['quoted, schema-qualified', (id, schema) => sql.raw(`update "${schema}"."users" set "role" = 'pending' where "id" = '${id}'`)],
      ['UPPERCASE', (id) => sql.raw(`UPDATE USERS SET ROLE = 'pending' WHERE ID = '${id}'`)],
      ['a comment before', (id) => sql.raw(`/* revoke */ -- why\nupdate users set role = 'pending' where id = '${id}'`)],
      ['a comment between verb and table', (id) => sql.raw(`update /* x */ users set role = 'pending' where id = '${id}'`)],
      ['a line comment between verb and table', (id) => sql.raw(`update -- x\n users set role = 'pending' where id = '${id}'`)],
      ['no space before a quoted table', (id) => sql.raw(`update"users"set role = 'pending' where id = '${id}'`)],
      ['delete from "users"', (id) => sql.raw(`delete from "users" where "id" = '${id}'`)],
    ]
    it.each(sqlForms)('a write in SQL text form %s is seen (the next request is refused)', async (_name, statement) => {
      const { user, key } = await warm()
      await statement(user.id, await schemaOf()).execute(h.database.db)
      expect((await chat(key)).statusCode).not.toBe(200)
      expect((await chat(user.token)).statusCode).not.toBe(200)
    })

    it('writtenTopics sees comments and quotes glued to the verb', () => {
      expect(writtenTopics('delete /* c */ from "api_keys" where 1 = 1')).toEqual(['accounts'])
      expect(writtenTopics('delete from/**/"api_keys"')).toEqual(['accounts'])
      expect(writtenTopics('insert into"model_grants" values (1)')).toEqual(['registry'])
      expect(writtenTopics('update -- c\n"users" set role = 1')).toEqual(['accounts'])
      expect(writtenTopics('update`users`set role = 1')).toEqual(['accounts'])
      expect(writtenTopics('delete from [main].[api_keys]')).toEqual(['accounts'])
      expect(writtenTopics('insert /*a*/ or /*b*/ replace /*c*/ into /*d*/ "main" /*e*/ . /*f*/ "groups" values (1)')).toEqual(['accounts'])
      // Reads stay reads (the steady state runs no SQL because they invalidate nothing).
      expect(writtenTopics('select "updated_at", "deleted_from" from "users" where "id" = ?')).toEqual([])
    })

    it('a write that rolls back does not poison the cache either way', async () => {
      const { user, key } = await warm()
      await expect(
        h.database.db.transaction().execute(async (trx) => {
          await trx.deleteFrom('api_keys').where('user_id', '=', user.id).execute()
          await trx.updateTable('users').set({ role: 'pending' }).where('id', '=', user.id).execute()
          throw new Error('roll back')
        }),
      ).rejects.toThrow('roll back')
      expect((await chat(key)).statusCode).toBe(200)
      expect((await chat(user.token)).statusCode).toBe(200)

      // A promotion that rolls back grants nothing, before or after.
      const admins = () => h.request({ method: 'GET', url: '/api/v1/users/', headers: bearer(key) })
      expect((await admins()).statusCode).toBe(403)
      await expect(
        h.database.db.transaction().execute(async (trx) => {
          await trx.updateTable('users').set({ role: 'admin' }).where('id', '=', user.id).execute()
          // PostgreSQL: a reader on another connection meanwhile sees the committed row (SQLite would wait).
          if (dialect === 'postgres') expect((await admins()).statusCode).toBe(403)
          throw new Error('roll back')
        }),
      ).rejects.toThrow('roll back')
      expect((await admins()).statusCode).toBe(403)
    })

    it('readers between a revoking statement and its commit keep nothing stale', async () => {
      const { user, key } = await warm()
      let during: Promise<number[]> | undefined
      await h.database.db.transaction().execute(async (trx) => {
        await trx.deleteFrom('api_keys').where('user_id', '=', user.id).execute()
        // PostgreSQL: they read the committed row (the key still exists) and may pass; SQLite: they wait
        // for the one connection. Either way none may keep the key once the delete commits.
        during = Promise.all([chat(key), me(key), chat(key)].map(async (res) => (await res).statusCode))
        await new Promise((resolve) => setTimeout(resolve, 30))
      })
      await during
      expect((await chat(key)).statusCode).toBe(401)
      expect((await me(key)).statusCode).toBe(401)
    })

    it('a transaction opened in raw SQL (BEGIN … COMMIT on one connection) is invalidated at its COMMIT too', async () => {
      const { user, key } = await warm()
      let during: Promise<number[]> | undefined
      await h.database.db.connection().execute(async (connection) => {
        await sql`begin`.execute(connection)
        await sql`delete from api_keys where user_id = ${user.id}`.execute(connection)
        // A savepoint rolled back does not end the transaction: the delete must still count at COMMIT.
        await sql`savepoint s1`.execute(connection)
        await sql`rollback to savepoint s1`.execute(connection)
        during = Promise.all([chat(key), me(key), chat(key)].map(async (res) => (await res).statusCode))
        await new Promise((resolve) => setTimeout(resolve, 30))
        await sql`commit`.execute(connection)
      })
      await during
      expect((await chat(key)).statusCode).toBe(401)
      expect((await me(key)).statusCode).toBe(401)
    })

    it("a settings write landing between an admin's save and its cache refresh is not overwritten (ENABLE_API_KEYS)", async () => {
      expect((await admin('POST', '/api/v1/auths/admin/config', { ENABLE_API_KEYS: true, SHOW_ADMIN_DETAILS: true })).statusCode).toBe(200)
      const { key } = await warm()
      const stored = await h.database.db.selectFrom('app_settings').select('value').where('key', '=', 'auth.admin_config').executeTakeFirstOrThrow()
      // What another admin (or instance) commits right after this save: API keys off.
      const theirs = JSON.stringify({ ...(JSON.parse(stored.value) as object), SHOW_ADMIN_DETAILS: false, ENABLE_API_KEYS: false })
      let armed = true
      let write: Promise<unknown> | undefined
      const stop = h.database.watch.listen((topic, source) => {
        if (!armed || topic !== 'accounts' || source !== 'commit') return
        armed = false
        write = h.database.db.updateTable('app_settings').set({ value: theirs }).where('key', '=', 'auth.admin_config').execute()
      })
      try {
        expect((await admin('POST', '/api/v1/auths/admin/config', { SHOW_ADMIN_DETAILS: false })).statusCode).toBe(200)
        await write
      } finally {
        stop()
      }
      expect(write).toBeDefined()
      expect((await chat(key)).statusCode).toBe(403)
      expect((await admin('POST', '/api/v1/auths/admin/config', { ENABLE_API_KEYS: true })).statusCode).toBe(200)
      expect((await chat(key)).statusCode).toBe(200)
    })

    it('requests racing a demotion to pending never outlive it (20 rounds)', async () => {
      for (let round = 0; round < 20; round++) {
        const user = await h.createUser('user')
        const key = await apiKeyOf(user)
        expect((await chat(key)).statusCode).toBe(200)
        const racing = Array.from({ length: 4 }, (_, i) => (i % 2 ? me(key) : me(user.token)))
        const demoted = await admin('POST', `/api/v1/users/${user.id}/update`, { role: 'pending' })
        expect(demoted.statusCode, demoted.body).toBe(200)
        await Promise.all(racing)
        expect((await chat(key)).statusCode).toBe(401)
        expect((await chat(user.token)).statusCode).toBe(401)
      }
    })

    it('two API keys sharing their visible prefix stay apart: deleting one leaves the other, each is its owner', async () => {
      const a = await warm()
      const b = await warm()
      expect(a.key.slice(0, 3)).toBe(b.key.slice(0, 3))
      expect((await me(a.key)).json<{ id: string }>().id).toBe(a.user.id)
      expect((await me(b.key)).json<{ id: string }>().id).toBe(b.user.id)
      expect((await h.request({ method: 'DELETE', url: '/api/v1/auths/api_key', headers: a.user.auth })).statusCode).toBe(200)
      expect((await chat(a.key)).statusCode).toBe(401)
      expect((await chat(b.key)).statusCode).toBe(200)
      // A key that differs in its last character only is no key.
      const forged = b.key.slice(0, -1) + (b.key.endsWith('a') ? 'b' : 'a')
      expect((await chat(forged)).statusCode).toBe(401)
    })
  })

  describe('GET /metrics', () => {
    it('refuses a non-admin API key (403), a pending account (403), an admin cookie without the header (401)', async () => {
      const { key } = await warm()
      expect((await h.request({ method: 'GET', url: '/metrics', headers: bearer(key) })).statusCode).toBe(403)
      const pending = await h.createUser('pending')
      expect((await h.request({ method: 'GET', url: '/metrics', headers: pending.auth })).statusCode).toBe(403)
      const cookie = await h.request({ method: 'GET', url: '/metrics', headers: { cookie: `token=${h.admin.token}` } })
      expect(cookie.statusCode).toBe(401)
      expect(cookie.json<{ code: string }>().code).toBeTruthy()
      // The metrics token is not a credential anywhere else.
      expect((await h.request({ method: 'GET', url: '/api/v1/auths/', headers: bearer(METRICS_TOKEN) })).statusCode).toBe(401)
      expect((await h.request({ method: 'GET', url: '/metrics', headers: bearer(`${METRICS_TOKEN}x`) })).statusCode).toBe(401)
    })

    it('200 random paths and odd methods add no series beyond the one unmatched route; no secret in the text', async () => {
      const scrape = async () => {
        const res = await h.request({ method: 'GET', url: '/metrics', headers: bearer(METRICS_TOKEN) })
        expect(res.statusCode).toBe(200)
        return res.body
      }
      const routes = (text: string) => new Set([...text.matchAll(/route="([^"]*)"/g)].map((m) => m[1]))
      for (let i = 0; i < 5; i++) await h.request({ method: 'GET', url: `/warmup-${i}` })
      const before = routes(await scrape())
      for (let i = 0; i < 200; i++) {
        const method = (['GET', 'POST', 'DELETE', 'PUT', 'PATCH'] as const)[i % 5] ?? 'GET'
        await h.request({ method, url: `/r-${i}-${Math.random().toString(36).slice(2)}/x?sk-${i}=1` })
      }
      const text = await scrape()
      expect(routes(text)).toEqual(before)
      expect(text).not.toContain('sk-')
      expect(text).not.toContain(METRICS_TOKEN)
      expect(text).not.toContain(h.admin.token)
      expect(text).not.toContain(provider.baseUrl)
    })
  })

  describe('usage analytics', () => {
    const analytics = (who: TestAccount, route: string, query: string) => h.send(who, { method: 'GET', url: `/api/v1/analytics/${route}?${query}` })
    const recorder = () => {
      const found = h.services.analytics.recorder
      if (!found) throw new Error('recording is off')
      return found
    }

    it("a user reads no one else's usage through any parameter combination", async () => {
      const { user } = await warm()
      const other = await warm()
      expect((await admin('POST', `/api/v1/groups/id/${groupId}/users/add`, { user_ids: [user.id, other.user.id] })).statusCode).toBe(200)
      await recorder().flush()
      const own = `user_id=${user.id}`
      const asks = [
        `user_id=${other.user.id}`,
        `group_id=${groupId}`,
        `${own}&group_id=${groupId}`,
        `${own}&user_id=${other.user.id}`,
        `user_id=${other.user.id}&${own}`,
        `user_id=*`,
        `user_id=`,
        `group_id=`,
      ]
      for (const route of ['summary', 'models', 'users', 'groups', 'daily', 'tokens']) {
        for (const query of asks) {
          const res = await analytics(user, route, query)
          expect([400, 403], `${route}?${query}: ${res.body}`).toContain(res.statusCode)
          expect(res.json<{ code: string; detail: string }>().code, res.body).toBeTruthy()
        }
        // Their own: only their own account shows.
        const mine = await analytics(user, route, own)
        expect(mine.statusCode, mine.body).toBe(200)
        expect(mine.body).not.toContain(other.user.id)
      }
      const users = await analytics(user, 'users', '')
      expect(users.json<{ users: { user_id: string }[] }>().users.map((u) => u.user_id)).toEqual([user.id])
      const pending = await h.createUser('pending')
      expect((await analytics(pending, 'summary', '')).statusCode).toBe(403)
    })

    it('huge, negative, NaN, fractional and repeated ranges and limits answer 400 {detail, code}, never 500', async () => {
      const { user } = await warm()
      const bad = [
        'start_date=-1',
        'end_date=NaN',
        'start_date=Infinity',
        'start_date=1e308',
        'start_date=1.5',
        'start_date=0&end_date=99999999999',
        'start_date=5&end_date=4',
        'start_date=1&start_date=2',
        'limit=0',
        'limit=1e9',
        'limit=-5',
        'granularity=hourly&start_date=0&end_date=3000000',
        'granularity=weekly',
      ]
      for (const query of bad) {
        const res = await analytics(user, query.startsWith('limit') ? 'users' : 'daily', query)
        expect(res.statusCode, `${query}: ${res.body}`).toBe(400)
        expect(res.json<{ detail: string; code: string }>().code, query).toBeTruthy()
      }
      expect((await analytics(h.admin, 'summary', 'group_id=no-such-group')).statusCode).toBe(400)
    })

    it('a provider sending a huge or malformed usage object: no 500, no dropped batch, no corrupt row', async () => {
      const { key, user } = await warm('evil')
      await recorder().flush()
      const dropped = recorder().stats().dropped
      const forms = [
        '{"prompt_tokens":-5,"completion_tokens":-1,"total_tokens":-6}',
        '{"prompt_tokens":"12","completion_tokens":"x","total_tokens":"14"}',
        '{"prompt_tokens":1e308,"completion_tokens":1e308}',
        '{"prompt_tokens":2000000000,"completion_tokens":2000000000}',
        '{"prompt_tokens":1e400,"total_tokens":-1e400}',
        '"lots"',
        '[1,2,3]',
        'null',
        '{"prompt_tokens":{"n":1},"completion_tokens":[1],"total_tokens":true}',
      ]
      for (const usage of forms) {
        evil.setBody(completion(usage))
        const res = await chat(key, 'evil')
        expect(res.statusCode, `${usage}: ${res.body}`).toBe(200)
      }
      evil.setBody('{"choices":[],"usage":{"prompt_tokens":NaN}}') // not JSON: the provider's fault, not ours
      const broken = await chat(key, 'evil')
      expect(broken.statusCode, broken.body).not.toBe(500)
      expect(broken.statusCode).toBeLessThan(600)
      await recorder().flush()
      expect(recorder().stats().dropped).toBe(dropped)
      const rows = await h.database.db.selectFrom('usage_events').selectAll().where('user_id', '=', user.id).where('model_id', '=', 'evil').execute()
      expect(rows.length).toBeGreaterThanOrEqual(forms.length)
      for (const row of rows) {
        for (const value of [row.prompt_tokens, row.completion_tokens, row.total_tokens].map(Number)) {
          expect(Number.isSafeInteger(value), JSON.stringify(row)).toBe(true)
          expect(value).toBeGreaterThanOrEqual(0)
          expect(value).toBeLessThanOrEqual(2_000_000_000)
        }
      }
      const summary = await analytics(user, 'summary', '')
      expect(summary.statusCode, summary.body).toBe(200)
    })

    it('a stream the client asked no usage for (include_usage false, or null options) shows no usage in its bytes', async () => {
      const { key } = await warm()
      for (const extra of [{ stream_options: { include_usage: false } }, { stream_options: null }, {}]) {
        const res = await h.request({
          method: 'POST',
          url: '/v1/chat/completions',
          headers: bearer(key),
          payload: { model: 'shared', messages: MESSAGES, stream: true, ...extra },
        })
        expect(res.statusCode, res.body).toBe(200)
        expect(res.body).not.toContain('"usage"')
        expect(res.body).not.toContain('prompt_tokens')
        expect(res.body.endsWith('data: [DONE]\n\n')).toBe(true)
        expect(res.body).not.toMatch(/\n\n\n/)
      }
    })
  })
})
