/**
 * Review of 53dcc20..HEAD (b07e102, 04854e6, d448c70): PostgreSQL bulk inserts as one JSON parameter
 * (src/db/insert-many.ts, usage.repo.ts), the `fresh` skip of grant/tag deletes (import, sync), session
 * tokens remembered by their text (auth/tokens.ts) and provider calls dispatched with a pre-parsed origin
 * and path (provider-client.ts). Each test states what must hold; a failing test is a hole.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { request as undiciRequest } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UsageRepo, type UsageRow } from '../src/analytics/usage.repo.js'
import { insertMany } from '../src/db/insert-many.js'
import { migrateToLatest } from '../src/db/migrator.js'
import { AppError } from '../src/errors/app-error.js'
import type { Connection } from '../src/providers/connection.js'
import { providerRequest } from '../src/providers/provider-client.js'
import { DIALECTS, openTestDatabase, type TestDatabase } from './support/databases.js'
import { fakeConnection } from './support/fake-provider.js'
import { usageRow } from './support/usage.js'
import { token } from './support/factories.js'
import { PASSWORD, type Harness, type TestAccount } from './support/harness.js'
import { createModelsWorld, M, modelsApi } from './support/models.js'

/** Values a client controls that must come back byte for byte (no control characters: names refuse them). */
const TRICKY = [
  '',
  ' ',
  'null',
  'true',
  '0',
  '-0',
  '1e400',
  '12345678901234567890',
  '[1,2]',
  '{"a":1}',
  '"quoted"',
  "'); drop table models; --",
  '$1::json',
  'back\\slash \\u0000 \\ud800 text',
  'emoji 🤖 ñ 中文 \u2028',
  'x'.repeat(300_000),
]

// ─── insertMany: values round-trip as the query builder stored them ────────────────────────────────

describe.each(DIALECTS)('review 1208b: insertMany on %s', (dialect) => {
  let database: TestDatabase
  const owner = `owner-${token()}`

  beforeAll(async () => {
    database = await openTestDatabase(dialect)
    await migrateToLatest(database)
    await database.db
      .insertInto('users')
      .values({ id: owner, email: `${owner}@example.com`, name: 'O', role: 'user', profile_image_url: '', created_at: 1, updated_at: 1 })
      .execute()
  })
  afterAll(async () => {
    await database?.close()
  })

  it('stores JSON-looking, numeric-looking, empty, SQL-looking and long text exactly, and numbers and NULLs as given', async () => {
    const prefix = `rt-${token()}`
    const rows = TRICKY.map((text, i) => ({
      id: `${prefix}-${String(i).padStart(2, '0')}`,
      user_id: owner,
      base_model_id: i % 2 ? null : text,
      name: text,
      params: text,
      meta: JSON.stringify({ text }),
      is_active: i % 2,
      created_at: 4_102_444_800_000 + i,
      updated_at: Number.MAX_SAFE_INTEGER - i,
      version: 2_147_483_647 - i,
      template_id: i % 3 ? text : null,
    }))
    await insertMany(database.db, 'models', rows)
    const back = await database.db.selectFrom('models').selectAll().where('id', 'like', `${prefix}-%`).orderBy('id').execute()
    expect(
      back.map((r) => ({
        ...r,
        is_active: Number(r.is_active),
        created_at: Number(r.created_at),
        updated_at: Number(r.updated_at),
        version: Number(r.version),
      })),
    ).toEqual(rows)
  })

  it('gives a column every row leaves undefined its default (version 0, template_id NULL), never a stray value', async () => {
    const prefix = `def-${token()}`
    const rows = [0, 1, 2].map((i) => ({
      id: `${prefix}-${i}`,
      user_id: owner,
      base_model_id: null,
      name: 'n',
      params: '{}',
      meta: '{}',
      is_active: 1,
      created_at: 1,
      updated_at: 1,
      version: undefined,
      template_id: undefined,
    }))
    await insertMany(database.db, 'models', rows)
    const back = await database.db.selectFrom('models').select(['id', 'version', 'template_id']).where('id', 'like', `${prefix}-%`).orderBy('id').execute()
    expect(back.map((r) => [r.id, Number(r.version), r.template_id])).toEqual(rows.map((r) => [r.id, 0, null]))
  })

  it('stores tags and grants whose principal ids and names look like SQL or JSON as text, nothing else changed', async () => {
    const modelId = `tg-${token()}`
    await database.db
      .insertInto('models')
      .values({ id: modelId, user_id: owner, base_model_id: null, name: 'n', params: '{}', meta: '{}', is_active: 1, created_at: 1, updated_at: 1 })
      .execute()
    const texts = TRICKY.filter((t) => t.length < 1000)
    const tags = texts.map((name, i) => ({ model_id: modelId, tag_key: `${i}:${name.toLowerCase()}`, name }))
    await insertMany(database.db, 'model_tags', tags)
    const grants = texts.map((principal_id, i) => ({
      id: `${modelId}-g${i}`,
      model_id: modelId,
      principal_type: 'group' as const,
      principal_id,
      permission: 'read' as const,
      created_at: 1_765_000_000 + i,
    }))
    await insertMany(database.db, 'model_grants', grants)
    const tagsBack = await database.db.selectFrom('model_tags').selectAll().where('model_id', '=', modelId).execute()
    expect(new Set(tagsBack.map((t) => JSON.stringify(t)))).toEqual(new Set(tags.map((t) => JSON.stringify(t))))
    const grantsBack = await database.db.selectFrom('model_grants').selectAll().where('model_id', '=', modelId).orderBy('id').execute()
    expect(grantsBack.map((g) => ({ ...g, created_at: Number(g.created_at) }))).toEqual([...grants].sort((a, b) => (a.id < b.id ? -1 : 1)))
    expect(await database.db.selectFrom('models').select('id').where('id', '=', modelId).execute()).toHaveLength(1)
  })
})

// ─── Usage batches: text kept as text, NULL kept as NULL ─────────────────────────────────────────────

describe.each(DIALECTS)('review 1208b: usage batch on %s', (dialect) => {
  let database: TestDatabase

  beforeAll(async () => {
    database = await openTestDatabase(dialect)
    await migrateToLatest(database)
  })
  afterAll(async () => {
    await database?.close()
  })

  it('keeps the text "null" apart from NULL, an empty error apart from none, and long or JSON-looking ids whole', async () => {
    const base = usageRow({ created_at: 9_000 })
    const rows: UsageRow[] = TRICKY.map((text, i) => ({
      ...base,
      created_at: 9_000 + i,
      // user_id is indexed (a btree row holds ~2.7 kB on PostgreSQL, before and after this change).
      user_id: text.slice(0, 1000),
      model_id: text,
      error: i % 2 || text === 'null' || text === '' ? text : null,
      first_chunk_ms: i % 3 ? i : null,
      stream: i % 2,
      status: i,
    }))
    await new UsageRepo(database).insert(rows)
    const back = await database.db
      .selectFrom('usage_events')
      .selectAll()
      .where('created_at', '>=', 9_000)
      .where('created_at', '<', 9_100)
      .orderBy('created_at')
      .execute()
    expect(back.map((r) => ({ ...r, created_at: Number(r.created_at) }))).toEqual(rows)
    expect(back.filter((r) => r.error === 'null' || r.error === '')).toHaveLength(2)
  })
})

// ─── fresh: only ids created by this very transaction skip the delete of grants and tags ─────────────

describe.each(DIALECTS)('review 1208b: grants and tags of re-created ids (%s)', (dialect) => {
  let h: Harness
  let other: TestAccount
  let third: TestAccount
  const { send, db } = modelsApi(() => h)

  beforeAll(async () => {
    ;({ h } = await createModelsWorld(dialect))
    other = await h.createUser('user')
    third = await h.createUser('user')
  })
  afterAll(async () => h?.close())

  const item = (id: string, tag: string, userId: string) => ({
    id,
    base_model_id: 'base-llm',
    name: id,
    meta: { tags: [{ name: tag }] },
    params: {},
    access_grants: [{ principal_type: 'user', principal_id: userId, permission: 'read' }],
  })
  const grantsOf = async (id: string) =>
    (await db().selectFrom('model_grants').select('principal_id').where('model_id', '=', id).execute()).map((g) => g.principal_id)
  const tagsOf = async (id: string) => (await db().selectFrom('model_tags').select('name').where('model_id', '=', id).execute()).map((t) => t.name)

  it('a model deleted, restored from the trash, then imported again holds only the imported grants and tags', async () => {
    const id = `restored-${token()}`
    const first = await send(h.admin, { method: 'POST', url: `${M}/import`, payload: [item(id, 'old', other.id)] })
    expect(first.json().created, first.body).toEqual([id])
    expect((await send(h.admin, { method: 'DELETE', url: `${M}/model/delete`, query: { id } })).statusCode).toBe(200)
    const restored = await send(h.admin, { method: 'POST', url: `${M}/model/history/restore`, payload: { id, version: 1 } })
    expect(restored.statusCode, restored.body).toBe(200)
    expect(await grantsOf(id)).toEqual([other.id])
    expect(await tagsOf(id)).toEqual(['old'])
    const again = await send(h.admin, { method: 'POST', url: `${M}/import`, payload: [item(id, 'new', third.id)] })
    expect(again.json().updated, again.body).toEqual([id])
    expect(await grantsOf(id)).toEqual([third.id])
    expect(await tagsOf(id)).toEqual(['new'])
  })

  // Sync makes the whole table equal to its payload: it runs last in this harness.
  it('sync: ids deleted by one sync and created by the next carry only the new grants and tags', async () => {
    const ids = [0, 1, 2].map((i) => `synced-${token()}-${i}`)
    const sync = (models: unknown[]) => send(h.admin, { method: 'POST', url: `${M}/sync`, payload: { models } })
    const created = await sync(ids.map((id) => item(id, 'old', other.id)))
    expect(created.statusCode, created.body).toBe(200)
    expect((await sync([item('keeper', 'k', other.id)])).json().delete).toEqual(expect.arrayContaining(ids))
    expect(await db().selectFrom('model_tags').select('model_id').where('model_id', 'in', ids).execute()).toEqual([])
    const again = await sync([item('keeper', 'k', other.id), ...ids.map((id) => item(id, 'new', third.id))])
    expect(again.statusCode, again.body).toBe(200)
    expect(again.json().create).toEqual(ids)
    for (const id of ids) {
      expect(await grantsOf(id)).toEqual([third.id])
      expect(await tagsOf(id)).toEqual(['new'])
    }
  })
})

// ─── Session tokens: the memory never outlives a revocation ──────────────────────────────────────────

describe.each(DIALECTS)('review 1208b: remembered session tokens are still revoked (%s)', (dialect) => {
  let h: Harness
  beforeAll(async () => {
    ;({ h } = await createModelsWorld(dialect))
  })
  afterAll(async () => h?.close())

  const me = (authorization: string) => h.request({ method: 'GET', url: '/api/v1/auths/', headers: { authorization } })
  const signin = async (email: string, password = PASSWORD) => {
    const res = await h.request({ method: 'POST', url: '/api/v1/auths/signin', payload: { email, password } })
    expect(res.statusCode, res.body).toBe(200)
    return `Bearer ${res.json<{ token: string }>().token}`
  }

  it('a password change keeps only the token that made it; a deleted account’s remembered token answers 401', async () => {
    const user = await h.createUser('user')
    await new Promise((resolve) => setTimeout(resolve, 1100)) // a second token with another iat/exp: other text
    const second = await signin(user.email)
    expect(second).not.toBe(user.auth.authorization)
    // Both verified once: both are in the token memory now.
    for (const t of [user.auth.authorization, second]) expect((await me(t)).statusCode).toBe(200)
    const changed = await h.request({
      method: 'POST',
      url: '/api/v1/auths/update/password',
      headers: user.auth,
      payload: { password: PASSWORD, new_password: 'another-good-password' },
    })
    expect(changed.statusCode, changed.body).toBe(200)
    expect((await me(user.auth.authorization)).statusCode).toBe(200)
    expect((await me(second)).statusCode).toBe(401)
    const fresh = `Bearer ${changed.json<{ token: string }>().token}`
    expect((await me(fresh)).statusCode).toBe(200)
    const removed = await h.request({ method: 'DELETE', url: `/api/v1/users/${user.id}`, headers: h.admin.auth })
    expect(removed.statusCode, removed.body).toBe(200)
    for (const t of [user.auth.authorization, fresh]) expect((await me(t)).statusCode).toBe(401)
  })
})

// ─── Provider calls: the path and query sent are undici's own ────────────────────────────────────────

describe('review 1208b: provider URLs are sent as undici sends them', () => {
  let server: Server
  let port: number
  const seen: { url: string | undefined; host: string | undefined; authorization: string | undefined }[] = []

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      seen.push({ url: req.url, host: req.headers.host, authorization: req.headers.authorization })
      res.setHeader('content-type', 'application/json')
      res.end('{}')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
  })

  const connection = (base: string): Connection => fakeConnection({ baseUrl: base }, { id: 'c', name: 'Local' })

  it('path, query, trailing slash, dot segments, percent-encoding and fragments match a plain undici request', async () => {
    const origin = `http://127.0.0.1:${port}`
    const urls = [
      `${origin}/v1/chat/completions`,
      `${origin}/v1/`,
      `${origin}`,
      `${origin}/v1/models?api-version=2024-01-01&x=a%20b&y=%2F`,
      `${origin}/v1/models?`,
      `${origin}/v1//double/./dot/../x`,
      `${origin}/v1/p%2Fq/%E4%B8%AD/中文 space`,
      `${origin}/v1/models#fragment?not=query`,
      `${origin}/v1/models?q=1#frag`,
      `HTTP://127.0.0.1:${port}/UPPER`,
    ]
    for (const url of urls) {
      seen.length = 0
      const viaUndici = await undiciRequest(url, { method: 'GET' })
      await viaUndici.body.dump()
      const viaProvider = await providerRequest(connection(url), url, { method: 'GET', timeoutMs: 5_000 })
      await viaProvider.body.dump()
      expect(seen, url).toHaveLength(2)
      expect(seen[1]?.url, url).toBe(seen[0]?.url)
      expect(seen[1]?.host, url).toBe(seen[0]?.host)
    }
  })

  it('a URL with credentials: sent without them, as Basic authorization; the same URL twice is sent the same', async () => {
    const url = `http://us%20er:p%40ss@127.0.0.1:${port}/v1/models?k=v`
    seen.length = 0
    for (let i = 0; i < 2; i++) await (await providerRequest(connection(url), url, { method: 'GET', timeoutMs: 5_000 })).body.dump()
    expect(seen.map((s) => s.url)).toEqual(['/v1/models?k=v', '/v1/models?k=v'])
    expect(seen[0]?.authorization).toBe(`Basic ${Buffer.from('us er:p@ss').toString('base64')}`)
  })

  it('a bad or non-HTTP URL fails as the provider unreachable (an AppError), never a bare TypeError', async () => {
    for (const url of ['ftp://127.0.0.1/x', 'file:///etc/passwd', 'not a url', 'ws://127.0.0.1:1/x']) {
      const error = await providerRequest(connection(url), url, { method: 'GET', timeoutMs: 1_000 }).catch((e: unknown) => e)
      expect(error, url).toBeInstanceOf(AppError)
      expect((error as AppError).code, url).toBe('PROVIDER_ERROR')
    }
  })
})
