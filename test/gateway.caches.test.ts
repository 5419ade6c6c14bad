/**
 * Issue #17, item 2: a chat request and GET /v1/models run no SQL in steady state (the gateway caches,
 * docs/performance.md), and every revocation still decides the very next request. Written as attacks:
 * warm the caches with a successful request, revoke (through the API, or straight in SQL through the
 * database handle, which only the driver-level watch can notice), then try again.
 */
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { statementCount } from '../src/db/statement-counter.js'
import { createDatabase, type Database } from '../src/db/database.js'
import { TopicCache } from '../src/cache/topic-cache.js'
import { WriteWatch } from '../src/db/write-watch.js'
import { PgNotifyBus } from '../src/db/pg-notify-bus.js'
import { DIALECTS, freshPostgresSchema } from './support/databases.js'
import { waitFor } from './support/timing.js'
import { startFakeProvider, type FakeProvider } from './support/fake-provider.js'
import { createHarness, type Harness, type TestAccount } from './support/harness.js'

const ENV = {
  MODELS_CACHE_TTL: '3600',
  // The catalog's periodic connections check (one query a second at most) is not what this file measures.
  SETTINGS_CHECK_INTERVAL_MS: '3600000',
  // Usage analytics write in batches off the request's path (docs/analytics.md): not a request's SQL.
  USAGE_ANALYTICS: 'false',
}
const MESSAGES = [{ role: 'user', content: 'hi' }]
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.each(DIALECTS)('gateway caches (%s)', (dialect) => {
  let h: Harness
  let provider: FakeProvider
  let groupId: string

  const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` })
  const chat = (credential: string, model = 'm-1') =>
    h.request({ method: 'POST', url: '/v1/chat/completions', headers: bearer(credential), payload: { model, messages: MESSAGES } })
  const models = (credential: string) => h.request({ method: 'GET', url: '/v1/models', headers: bearer(credential) })
  const modelIds = async (credential: string) => {
    const res = await models(credential)
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ data: { id: string }[] }>().data.map((m) => m.id)
  }
  const admin = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) =>
    h.request({ method, url, headers: h.admin.auth, ...(payload !== undefined && { payload }) })
  const apiKeyOf = async (account: TestAccount) => {
    const res = await h.request({ method: 'POST', url: '/api/v1/auths/api_key', headers: account.auth })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ api_key: string }>().api_key
  }
  /** A user in the group, with an API key; its first requests warm every cache. */
  const member = async () => {
    const user = await h.createUser('user')
    expect((await admin('POST', `/api/v1/groups/id/${groupId}/users/add`, { user_ids: [user.id] })).statusCode).toBe(200)
    const key = await apiKeyOf(user)
    expect((await chat(key, 'group-preset')).statusCode).toBe(200)
    expect((await chat(user.token, 'group-preset')).statusCode).toBe(200)
    return { user, key }
  }

  beforeAll(async () => {
    h = await createHarness(dialect, ENV)
    provider = await startFakeProvider({ models: ['m-1'] })
    expect((await admin('POST', '/api/v1/connections/create', { name: 'Main', base_url: provider.baseUrl })).statusCode).toBe(200)
    expect((await admin('GET', '/api/models/base')).statusCode).toBe(200)
    await h.shareBase('m-1')
    const group = await admin('POST', '/api/v1/groups/create', { name: 'Readers' })
    groupId = group.json<{ id: string }>().id
    const preset = await admin('POST', '/api/v1/models/create', {
      id: 'group-preset',
      name: 'Group preset',
      base_model_id: 'm-1',
      meta: {},
      params: {},
      access_grants: [{ principal_type: 'group', principal_id: groupId, permission: 'read' }],
    })
    expect(preset.statusCode, preset.body).toBe(200)
  })
  afterAll(async () => {
    await h?.close()
    await provider?.close()
  })

  it('after warm-up, chat requests and GET /v1/models run 0 SQL statements (API key and session token)', async () => {
    const { user, key } = await member()
    await modelIds(key)
    await modelIds(user.token)
    await sleep(50) // the key's last_used_at touch runs off the request's path
    const steady = async (n: number) => {
      const before = statementCount()
      for (let i = 0; i < n; i++) {
        expect((await chat(i % 2 ? key : user.token, 'group-preset')).statusCode).toBe(200)
        if (i % 5 === 0) await modelIds(i % 2 ? key : user.token)
      }
      return (statementCount() - before) / n
    }
    const cached = await steady(20)
    // Without the caches (as while the bus is down): what each request cost before.
    h.database.watch.setTrusted(false)
    const uncached = await steady(20)
    h.database.watch.setTrusted(true)
    console.log(`[gateway caches ${dialect}] SQL statements per chat request: ${uncached} uncached, ${cached} cached`)
    expect(uncached).toBeGreaterThan(0)
    expect(cached).toBe(0)
  })

  it('a deleted API key is refused at once; a replaced key too, and its successor works', async () => {
    const { user, key } = await member()
    expect((await h.request({ method: 'DELETE', url: '/api/v1/auths/api_key', headers: user.auth })).statusCode).toBe(200)
    expect((await chat(key)).statusCode).toBe(401)
    const second = await apiKeyOf(user)
    expect((await chat(second)).statusCode).toBe(200)
    const third = await apiKeyOf(user)
    expect((await chat(second)).statusCode).toBe(401)
    expect((await chat(third)).statusCode).toBe(200)
  })

  it('a demotion to pending, a password reset and a deletion refuse the next request', async () => {
    const demoted = await member()
    expect((await admin('POST', `/api/v1/users/${demoted.user.id}/update`, { role: 'pending' })).statusCode).toBe(200)
    expect((await chat(demoted.user.token)).statusCode).toBe(401)
    expect((await chat(demoted.key)).statusCode).toBe(401)

    const reset = await member()
    expect((await admin('POST', `/api/v1/users/${reset.user.id}/update`, { password: 'a-new-password-1' })).statusCode).toBe(200)
    expect((await chat(reset.user.token)).statusCode).toBe(401)
    expect((await chat(reset.key)).statusCode).toBe(401)

    const deleted = await member()
    expect((await admin('DELETE', `/api/v1/users/${deleted.user.id}`)).statusCode).toBe(200)
    expect((await chat(deleted.user.token)).statusCode).toBe(401)
    expect((await chat(deleted.key)).statusCode).toBe(401)
  })

  it('an admin demoted to user loses admin routes at once (the role is read from the cached account, invalidated)', async () => {
    const second = await h.createUser('admin')
    expect((await h.request({ method: 'GET', url: '/api/v1/users/', headers: second.auth })).statusCode).toBe(200)
    expect((await admin('POST', `/api/v1/users/${second.id}/update`, { role: 'user' })).statusCode).toBe(200)
    expect((await h.request({ method: 'GET', url: '/api/v1/users/', headers: second.auth })).statusCode).toBe(403)
  })

  it('a removed group membership, a removed grant and a deleted group hide the model at once', async () => {
    const removed = await member()
    expect(await modelIds(removed.key)).toContain('group-preset')
    expect((await admin('POST', `/api/v1/groups/id/${groupId}/users/remove`, { user_ids: [removed.user.id] })).statusCode).toBe(200)
    expect((await chat(removed.key, 'group-preset')).statusCode).toBe(404)
    expect(await modelIds(removed.key)).not.toContain('group-preset')

    const other = await h.createUser('user')
    const group = await admin('POST', '/api/v1/groups/create', { name: 'Second', user_ids: [other.id] })
    const second = group.json<{ id: string }>().id
    const grant = (id: string) => [{ principal_type: 'group', principal_id: id, permission: 'read' }]
    expect(
      (await admin('POST', '/api/v1/models/model/access/update', { id: 'group-preset', access_grants: [...grant(groupId), ...grant(second)] })).statusCode,
    ).toBe(200)
    expect((await chat(other.token, 'group-preset')).statusCode).toBe(200)
    expect((await admin('DELETE', `/api/v1/groups/id/${second}/delete`)).statusCode).toBe(200)
    expect((await chat(other.token, 'group-preset')).statusCode).toBe(404)

    const kept = await member()
    expect((await admin('POST', '/api/v1/models/model/access/update', { id: 'group-preset', access_grants: [] })).statusCode).toBe(200)
    expect((await chat(kept.key, 'group-preset')).statusCode).toBe(404)
    expect(await modelIds(kept.key)).not.toContain('group-preset')
    expect((await admin('POST', '/api/v1/models/model/access/update', { id: 'group-preset', access_grants: grant(groupId) })).statusCode).toBe(200)
    expect((await chat(kept.key, 'group-preset')).statusCode).toBe(200)
  })

  it('changed group and default permissions apply to the next request', async () => {
    const { user } = await member()
    const create = (id: string) =>
      h.request({ method: 'POST', url: '/api/v1/models/create', headers: user.auth, payload: { id, name: id, base_model_id: 'm-1', meta: {}, params: {} } })
    expect((await create('perm-a')).statusCode).toBe(403)
    expect((await admin('POST', `/api/v1/groups/id/${groupId}/update`, { permissions: { workspace: { models: true } } })).statusCode).toBe(200)
    expect((await create('perm-a')).statusCode).toBe(200)
    expect((await admin('POST', `/api/v1/groups/id/${groupId}/update`, { permissions: {} })).statusCode).toBe(200)
    expect((await create('perm-b')).statusCode).toBe(403)
    expect((await admin('POST', '/api/v1/users/default/permissions', { workspace: { models: true } })).statusCode).toBe(200)
    expect((await create('perm-b')).statusCode).toBe(200)
    expect((await admin('POST', '/api/v1/users/default/permissions', { workspace: { models: false } })).statusCode).toBe(200)
    expect((await create('perm-c')).statusCode).toBe(403)
  })

  it('ENABLE_API_KEYS turned off refuses a warm key at once (403), and on again accepts it', async () => {
    const { key } = await member()
    expect((await admin('POST', '/api/v1/auths/admin/config', { ENABLE_API_KEYS: false })).statusCode).toBe(200)
    expect((await chat(key)).statusCode).toBe(403)
    expect((await admin('POST', '/api/v1/auths/admin/config', { ENABLE_API_KEYS: true })).statusCode).toBe(200)
    expect((await chat(key)).statusCode).toBe(200)
  })

  it('writes made straight in SQL, past every service, are seen by the driver (builder and raw SQL)', async () => {
    const db = h.database.db
    const demoted = await member()
    await db.updateTable('users').set({ role: 'pending' }).where('id', '=', demoted.user.id).execute()
    expect((await chat(demoted.user.token)).statusCode).toBe(403)

    const keyless = await member()
    await sql`DELETE FROM api_keys WHERE user_id = ${keyless.user.id}`.execute(db)
    expect((await chat(keyless.key)).statusCode).toBe(401)
    expect((await chat(keyless.user.token)).statusCode).toBe(200)

    const outside = await member()
    await sql`delete from group_members where user_id = ${outside.user.id}`.execute(db)
    expect((await chat(outside.key, 'group-preset')).statusCode).toBe(404)

    const bumped = await member()
    await db.updateTable('users').set({ token_version: 7 }).where('id', '=', bumped.user.id).execute()
    expect((await chat(bumped.user.token)).statusCode).toBe(401)

    // A registry write without the version bump is seen too: the grant goes, the version row is re-read
    // (unchanged), so the cached resolution stays as before the caches: what bumps the version decides.
    const grantless = await member()
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('model_grants').where('model_id', '=', 'group-preset').execute()
      await sql`update registry_state set version = version + 1`.execute(trx)
    })
    expect((await chat(grantless.key, 'group-preset')).statusCode).toBe(404)
    await admin('POST', '/api/v1/models/model/access/update', {
      id: 'group-preset',
      access_grants: [{ principal_type: 'group', principal_id: groupId, permission: 'read' }],
    })
  })

  it('an expired session token is refused although its account is cached (exp is checked on every request)', async () => {
    const { user } = await member()
    expect((await admin('POST', '/api/v1/auths/admin/config', { JWT_EXPIRES_IN: '3s' })).statusCode).toBe(200)
    let shortLived: string
    try {
      const signin = await h.request({ method: 'POST', url: '/api/v1/auths/signin', payload: { email: user.email, password: 'a-good-password' } })
      shortLived = signin.json<{ token: string }>().token
    } finally {
      expect((await admin('POST', '/api/v1/auths/admin/config', { JWT_EXPIRES_IN: '4w' })).statusCode).toBe(200)
    }
    expect((await chat(shortLived)).statusCode).toBe(200)
    await sleep(3100)
    expect((await chat(shortLived)).statusCode).toBe(401)
    expect((await chat(user.token)).statusCode).toBe(200)
  })

  it('a reader racing a revoking write never leaves a stale entry (30 rounds)', async () => {
    const { user } = await member()
    for (let round = 0; round < 30; round++) {
      const key = await apiKeyOf(user)
      expect((await chat(key)).statusCode).toBe(200)
      // Readers of the key under way while it is deleted: whatever they answer, none may leave it usable.
      const racing = Array.from({ length: 4 }, () => h.request({ method: 'GET', url: '/api/v1/auths/', headers: bearer(key) }))
      const revoked = await h.request({ method: 'DELETE', url: '/api/v1/auths/api_key', headers: user.auth })
      expect(revoked.statusCode).toBe(200)
      expect((await chat(key)).statusCode).toBe(401)
      await Promise.all(racing)
      expect((await chat(key)).statusCode).toBe(401)
    }
  })
})

describe('TopicCache and WriteWatch', () => {
  it('a read that started before an invalidation is not kept, nor shared with callers after it', async () => {
    const watch = new WriteWatch()
    const cache = new TopicCache<string>(watch, 'accounts', 10)
    let release: (value: string) => void = () => undefined
    const slow = cache.get('k', () => new Promise<string>((resolve) => (release = resolve)))
    watch.invalidate('accounts', 'statement')
    const after = cache.get('k', () => Promise.resolve('new'))
    release('old')
    expect(await slow).toBe('old')
    expect(await after).toBe('new')
    expect(await cache.get('k', () => Promise.resolve('never read'))).toBe('new')
  })

  it('untrusted (bus down): every call reads; trusted again: nothing read before is kept', async () => {
    const watch = new WriteWatch()
    const cache = new TopicCache<number>(watch, 'accounts', 10)
    let reads = 0
    const load = () => Promise.resolve(++reads)
    expect(await cache.get('k', load)).toBe(1)
    expect(await cache.get('k', load)).toBe(1)
    watch.setTrusted(false)
    expect(await cache.get('k', load)).toBe(2)
    expect(await cache.get('k', load)).toBe(3)
    watch.setTrusted(true)
    expect(await cache.get('k', load)).toBe(4)
    expect(await cache.get('k', load)).toBe(4)
  })

  it('an unheard write of another instance (a second pool on the same database) is bypassed only while untrusted', async () => {
    // SQLite is one process: two handles on one file stand for two instances here.
    const path = `/tmp/modelgate-caches-${process.pid}-${Date.now()}.db`
    const one: Database = createDatabase({ dialect: 'sqlite', path })
    const two: Database = createDatabase({ dialect: 'sqlite', path })
    try {
      await sql`create table users (id text primary key, role text not null)`.execute(one.db)
      await sql`insert into users values ('u', 'user')`.execute(one.db)
      const cache = new TopicCache<string>(one.watch, 'accounts', 10)
      const role = () => cache.get('u', async () => (await sql<{ role: string }>`select role from users where id = 'u'`.execute(one.db)).rows[0]?.role ?? '')
      expect(await role()).toBe('user')
      await sql`update users set role = 'pending' where id = 'u'`.execute(two.db)
      expect(await role()).toBe('user') // unheard: what the bus is for
      one.watch.setTrusted(false)
      expect(await role()).toBe('pending')
      one.watch.setTrusted(true)
      expect(await role()).toBe('pending')
    } finally {
      await one.close()
      await two.close()
    }
  })
})

describe('PgNotifyBus (PostgreSQL without Redis)', () => {
  const url = process.env['TEST_POSTGRES_URL']
  const test = url ? it : it.skip

  test('a killed LISTEN connection makes the caches untrusted until it is back; messages flow again after', async () => {
    const schema = await freshPostgresSchema('h2bus', url)
    const name = `h2bus_${process.pid}_${Date.now()}`
    const listenerUrl = new URL(schema.url)
    listenerUrl.searchParams.set('application_name', name)
    const watch = new WriteWatch()
    const bus = new PgNotifyBus(listenerUrl.toString(), () => undefined)
    const other = new PgNotifyBus(schema.url, () => undefined)
    const admin = createDatabase({ dialect: 'postgres', url: schema.url }, { pgPoolSize: 1 })
    try {
      watch.setTrusted(bus.connected)
      bus.onConnectedChange((connected) => watch.setTrusted(connected))
      const heard: string[] = []
      bus.subscribe((topic) => heard.push(topic))
      await Promise.all([bus.ready(), other.ready()])
      expect(watch.trusted).toBe(true)
      other.publish('db:accounts')
      expect(await waitFor(() => Promise.resolve(heard.includes('db:accounts')), 2000)).not.toBeNull()

      const generation = watch.generation('accounts')
      await sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${name}`.execute(admin.db)
      expect(await waitFor(() => Promise.resolve(!watch.trusted), 2000)).not.toBeNull()
      expect(watch.generation('accounts')).toBeGreaterThan(generation)
      expect(await waitFor(() => Promise.resolve(watch.trusted), 5000)).not.toBeNull()
      other.publish('db:registry')
      expect(await waitFor(() => Promise.resolve(heard.includes('db:registry')), 2000)).not.toBeNull()
    } finally {
      await Promise.all([bus.close(), other.close(), admin.close()])
      await schema.drop()
    }
  })
})
