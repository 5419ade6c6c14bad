import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/env.js'
import { AppError } from '../src/errors/app-error.js'
import { migrateToLatest } from '../src/db/migrator.js'
import { buildApp } from '../src/http/app.js'
import type { App } from '../src/http/route-kit.js'
import { createServices } from '../src/services.js'
import { sql } from 'kysely'
import { DIALECTS, openTestDatabase, type TestDatabase } from './support/databases.js'
import { uniqueEmail } from './support/factories.js'
import { createHarness, PASSWORD, TEST_SECRET, type Harness, type TestAccount } from './support/harness.js'

const BODY_LIMIT = 4096
const SQL_METACHARACTERS = [`'; DROP TABLE users; --`, `" OR 1=1 --`, `%_\\`, `Robert'); DROP TABLE groups;--`, `1; SELECT * FROM credentials`]
const UNICODE_NAMES = ['Zoë Ångström', '😀 Party 🎉', '👩‍👩‍👧 family', '名前 テスト 张伟', 'مرحبا بالعالم', 'שלום עולם', 'e\u0301 combining']
const CONTROL_CHARACTERS = ['\u0000', '\u0007', '\u001b[31m', '\n', '\r', '\t', '\u007f']

/**
 * The JSON-body endpoints under test. `valid()` is a body the endpoint accepts (fresh each call, so
 * accepted creates never collide); `required` are the fields whose absence is an error.
 */
interface Endpoint {
  name: string
  send: (payload: unknown, headers?: Record<string, string>) => ReturnType<Harness['request']>
  valid: () => Record<string, unknown>
  required: string[]
  /** Read back what an accepted request stored, as the API shows it. */
  stored: (response: { id: string }) => Promise<Record<string, unknown>>
}

describe.each(DIALECTS)('bad input on %s', (dialect) => {
  let h: Harness
  let target: TestAccount
  let group: { id: string }
  let endpoints: Endpoint[]

  /** Everything the rejected requests could have touched: every account and every group. */
  async function snapshot() {
    const users = await h.request({ method: 'GET', url: '/api/v1/users/', headers: h.admin.auth, query: { limit: '100' } })
    const groups = await h.request({ method: 'GET', url: '/api/v1/groups/', headers: h.admin.auth })
    expect(users.statusCode).toBe(200)
    expect(groups.statusCode).toBe(200)
    return { users: users.json(), groups: groups.json() }
  }

  async function expectRejected(res: Awaited<ReturnType<Harness['request']>>, before: unknown, status = 400) {
    expect(res.statusCode, res.body).toBe(status)
    // `errors` lists the failed fields of a validation error (docs/errors.md); nothing else is added.
    const { errors, ...rest } = res.json()
    expect(Object.keys(rest).sort()).toEqual(['code', 'detail'])
    if (errors !== undefined) {
      expect(errors).toEqual(expect.arrayContaining([{ path: expect.any(String), message: expect.any(String), code: expect.any(String) }]))
    }
    expect(await snapshot()).toEqual(before)
  }

  beforeAll(async () => {
    h = await createHarness(dialect, { BODY_LIMIT_BYTES: String(BODY_LIMIT) })
    target = await h.createUser('user', 'Target User')
    const created = await h.request({ method: 'POST', url: '/api/v1/groups/create', headers: h.admin.auth, payload: { name: 'Target Group' } })
    group = created.json()
    const admin = h.admin.auth
    type Stored = Record<string, unknown>
    const getUser = async (id: string) => (await h.request({ method: 'GET', url: `/api/v1/users/${id}`, headers: admin })).json<Stored>()
    const getGroup = async (id: string) => (await h.request({ method: 'GET', url: `/api/v1/groups/id/${id}`, headers: admin })).json<Stored>()
    endpoints = [
      {
        name: 'POST /auths/signup',
        send: (payload, headers) => h.request({ method: 'POST', url: '/api/v1/auths/signup', payload, ...(headers && { headers }) }),
        valid: () => ({ name: 'Signup Person', email: uniqueEmail('signup'), password: PASSWORD }),
        required: ['name', 'email', 'password'],
        stored: (body) => getUser(body.id),
      },
      {
        name: 'POST /auths/add',
        send: (payload, headers) => h.request({ method: 'POST', url: '/api/v1/auths/add', headers: { ...admin, ...headers }, payload }),
        valid: () => ({ name: 'Added Person', email: uniqueEmail('add'), password: PASSWORD }),
        required: ['name', 'email', 'password'],
        stored: (body) => getUser(body.id),
      },
      {
        name: 'POST /users/:id/update',
        send: (payload, headers) => h.request({ method: 'POST', url: `/api/v1/users/${target.id}/update`, headers: { ...admin, ...headers }, payload }),
        valid: () => ({ name: 'Updated Person' }),
        required: [],
        stored: (body) => getUser(body.id),
      },
      {
        name: 'POST /groups/create',
        send: (payload, headers) => h.request({ method: 'POST', url: '/api/v1/groups/create', headers: { ...admin, ...headers }, payload }),
        valid: () => ({ name: 'Created Group' }),
        required: ['name'],
        stored: (body) => getGroup(body.id),
      },
      {
        name: 'POST /groups/id/:id/update',
        send: (payload, headers) => h.request({ method: 'POST', url: `/api/v1/groups/id/${group.id}/update`, headers: { ...admin, ...headers }, payload }),
        valid: () => ({ name: 'Updated Group' }),
        required: [],
        stored: (body) => getGroup(body.id),
      },
    ]
  })
  afterAll(async () => h?.close())

  const ENDPOINT_NAMES = ['POST /auths/signup', 'POST /auths/add', 'POST /users/:id/update', 'POST /groups/create', 'POST /groups/id/:id/update']
  const endpoint = (name: string): Endpoint => {
    const found = endpoints.find((e) => e.name === name)
    if (!found) throw new Error(`no endpoint ${name}`)
    return found
  }

  describe.each(ENDPOINT_NAMES)('%s', (name) => {
    it('answers 400 VALIDATION_ERROR to malformed JSON', async () => {
      const ep = endpoint(name)
      const before = await snapshot()
      for (const raw of ['{"name": "x",', '{name: "x"}', "{'name': 'x'}", '{"name": "x"} trailing', 'nul', '{"name": "\\x41"}']) {
        const res = await ep.send(raw, { 'content-type': 'application/json' })
        await expectRejected(res, before)
        expect(res.json().code).toBe('VALIDATION_ERROR')
      }
    })

    it('answers 400 to a body that is empty, null, an array or a string', async () => {
      const ep = endpoint(name)
      const before = await snapshot()
      for (const raw of ['', 'null', '[]', '"text"', '42']) {
        const res = await ep.send(raw, { 'content-type': 'application/json' })
        await expectRejected(res, before)
        expect(res.json().code).toBe('VALIDATION_ERROR')
      }
    })

    it('answers 400 naming the field for wrong types', async () => {
      const ep = endpoint(name)
      const before = await snapshot()
      const fields = Object.keys(ep.valid())
      for (const field of fields) {
        for (const wrong of [123, true, { nested: 'x' }, ['x']]) {
          const res = await ep.send({ ...ep.valid(), [field]: wrong })
          await expectRejected(res, before)
          expect(res.json().code).toBe('VALIDATION_ERROR')
          expect(res.json().detail).toContain(`body.${field}`)
        }
      }
    })

    it('answers 400 naming each missing required field', async () => {
      const ep = endpoint(name)
      const before = await snapshot()
      for (const field of ep.required) {
        const { [field]: _dropped, ...rest } = ep.valid()
        const res = await ep.send(rest)
        await expectRejected(res, before)
        expect(res.json().detail).toContain(`body.${field}`)
      }
      if (ep.required.length > 0) {
        const res = await ep.send({})
        await expectRejected(res, before)
        for (const field of ep.required) expect(res.json().detail).toContain(`body.${field}`)
      }
    })

    it('refuses a name of 256 characters, an empty name, and control characters', async () => {
      const ep = endpoint(name)
      const before = await snapshot()
      const bad = ['x'.repeat(256), '', '   ', ...CONTROL_CHARACTERS.map((c) => `Bad${c}Name`)]
      for (const value of bad) {
        const res = await ep.send({ ...ep.valid(), name: value })
        await expectRejected(res, before)
        expect(res.json().code, JSON.stringify(value)).toBe('VALIDATION_ERROR')
        expect(res.json().detail).toContain('body.name')
      }
    })

    it('accepts unicode names and returns them unchanged', async () => {
      const ep = endpoint(name)
      // One account per create endpoint is enough to show storage; the cheap endpoints try every name.
      const names = name.startsWith('POST /auths') ? [UNICODE_NAMES.join(' ')] : UNICODE_NAMES
      for (const value of names) {
        const res = await ep.send({ ...ep.valid(), name: value })
        expect(res.statusCode, res.body).toBe(200)
        expect(res.json().name).toBe(value)
        expect((await ep.stored(res.json())).name).toBe(value)
      }
    })

    it('stores SQL metacharacters in names verbatim', async () => {
      const ep = endpoint(name)
      const names = name.startsWith('POST /auths') ? [SQL_METACHARACTERS.join(' ')] : SQL_METACHARACTERS
      for (const value of names) {
        const res = await ep.send({ ...ep.valid(), name: value })
        expect(res.statusCode, res.body).toBe(200)
        expect(res.json().name).toBe(value)
        expect((await ep.stored(res.json())).name).toBe(value)
      }
      // Every table is still there and still answers.
      const ready = await h.request({ method: 'GET', url: '/ready' })
      expect(ready.statusCode).toBe(200)
      expect((await snapshot()).users.total).toBeGreaterThan(1)
      const signin = await h.request({ method: 'POST', url: '/api/v1/auths/signin', payload: { email: h.admin.email, password: PASSWORD } })
      expect(signin.statusCode).toBe(200)
    })
  })

  describe('SQL metacharacters in other fields', () => {
    it('stores them verbatim in passwords, picture URLs and descriptions', async () => {
      const password = `${SQL_METACHARACTERS.join('')}pad`
      const picture = `data:image/png;base64,${SQL_METACHARACTERS.join('')}`
      const email = uniqueEmail('meta')
      const added = await endpoint('POST /auths/add').send({ name: 'Meta', email, password, profile_image_url: picture })
      expect(added.statusCode, added.body).toBe(200)
      expect(added.json().profile_image_url).toBe(picture)
      const signin = await h.request({ method: 'POST', url: '/api/v1/auths/signin', payload: { email, password } })
      expect(signin.statusCode).toBe(200)
      expect(signin.json().profile_image_url).toBe(picture)

      const updated = await endpoint('POST /users/:id/update').send({ profile_image_url: `${picture}2` })
      expect(updated.json().profile_image_url).toBe(`${picture}2`)

      const description = SQL_METACHARACTERS.join('\n')
      const created = await endpoint('POST /groups/create').send({ name: 'Meta Group', description })
      expect(created.statusCode).toBe(200)
      expect((await endpoint('POST /groups/create').stored(created.json())).description).toBe(description)
      const changed = await endpoint('POST /groups/id/:id/update').send({ description: `${description}!` })
      expect(changed.json().description).toBe(`${description}!`)
    })

    it('accepts an apostrophe where an email allows one, and refuses the rest with 400 naming email', async () => {
      const email = uniqueEmail("o'hara")
      const res = await endpoint('POST /auths/add').send({ name: 'Apostrophe', email, password: PASSWORD })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json().email).toBe(email)
      expect((await h.request({ method: 'POST', url: '/api/v1/auths/signin', payload: { email, password: PASSWORD } })).statusCode).toBe(200)

      const before = await snapshot()
      for (const value of [...SQL_METACHARACTERS.map((m) => `${m}@example.com`), `admin@example.com' --`, '%_\\']) {
        for (const name of ['POST /auths/signup', 'POST /auths/add', 'POST /users/:id/update']) {
          const ep = endpoint(name)
          const rejected = await ep.send({ ...ep.valid(), email: value })
          await expectRejected(rejected, before)
          expect(rejected.json().detail).toContain('body.email')
        }
      }
    })

    it('treats SQL metacharacters in member ids as unknown users, storing nothing', async () => {
      const before = await snapshot()
      for (const id of SQL_METACHARACTERS) {
        const created = await endpoint('POST /groups/create').send({ name: 'Injected', user_ids: [id] })
        await expectRejected(created, before)
        expect(created.json().detail).toContain(id)
        const updated = await endpoint('POST /groups/id/:id/update').send({ user_ids: [target.id, id] })
        await expectRejected(updated, before)
      }
    })

    it('treats SQL metacharacters in ids and searches as data', async () => {
      for (const meta of [`' OR '1'='1`, `1 OR 1=1`]) {
        const user = await h.request({ method: 'GET', url: `/api/v1/users/${encodeURIComponent(meta)}`, headers: h.admin.auth })
        expect(user.statusCode).toBe(404)
        const search = await h.request({ method: 'GET', url: '/api/v1/users/', headers: h.admin.auth, query: { query: meta } })
        expect(search.statusCode).toBe(200)
        expect(search.json()).toEqual({ users: [], total: 0 })
      }
    })
  })

  describe('other field rules', () => {
    it('refuses a description over 2000 characters and member lists of the wrong shape', async () => {
      const before = await snapshot()
      const cases: Array<[string, Record<string, unknown>, string]> = [
        ['POST /groups/create', { name: 'Long', description: 'd'.repeat(2001) }, 'body.description'],
        ['POST /groups/id/:id/update', { description: 'd'.repeat(2001) }, 'body.description'],
        ['POST /groups/create', { name: 'Ids', user_ids: 'not-a-list' }, 'body.user_ids'],
        ['POST /groups/create', { name: 'Ids', user_ids: [''] }, 'body.user_ids'],
        ['POST /groups/create', { name: 'Perm', permissions: 'all' }, 'body.permissions'],
        ['POST /groups/id/:id/update', { permissions: { sharing: { public_models: 1 } } }, 'body.permissions'],
        ['POST /users/:id/update', { role: 'superuser' }, 'body.role'],
        ['POST /auths/add', { name: 'R', email: uniqueEmail('r'), password: PASSWORD, role: 'owner' }, 'body.role'],
      ]
      for (const [name, payload, field] of cases) {
        const res = await endpoint(name).send(payload)
        await expectRejected(res, before)
        expect(res.json().detail, name).toContain(field)
      }
    })

    it('accepts a description at the limit, with newlines and tabs', async () => {
      const description = `${'d'.repeat(1993)}\n\tend!!`
      expect(description).toHaveLength(2000)
      const res = await endpoint('POST /groups/id/:id/update').send({ description })
      expect(res.statusCode).toBe(200)
      expect(res.json().description).toBe(description)
    })

    it('accepts a name of 255 characters and trims surrounding spaces', async () => {
      const name = 'n'.repeat(255)
      const res = await endpoint('POST /groups/id/:id/update').send({ name: `  ${name}  ` })
      expect(res.statusCode).toBe(200)
      expect(res.json().name).toBe(name)
    })
  })

  describe('transport errors', () => {
    it('answers 413 PAYLOAD_TOO_LARGE to a body over BODY_LIMIT_BYTES, storing nothing', async () => {
      const before = await snapshot()
      for (const name of ENDPOINT_NAMES) {
        const ep = endpoint(name)
        const res = await ep.send({ ...ep.valid(), padding: 'p'.repeat(BODY_LIMIT) })
        await expectRejected(res, before, 413)
        expect(res.json().code).toBe('PAYLOAD_TOO_LARGE')
      }
      // Just under the limit is fine (the unknown key is ignored).
      const ep = endpoint('POST /groups/id/:id/update')
      const ok = await ep.send({ ...ep.valid(), padding: 'p'.repeat(BODY_LIMIT - 200) })
      expect(ok.statusCode, ok.body).toBe(200)
    })

    it('answers 415 UNSUPPORTED_MEDIA_TYPE to a JSON route sent text/plain', async () => {
      const before = await snapshot()
      for (const name of ENDPOINT_NAMES) {
        const ep = endpoint(name)
        const res = await ep.send(JSON.stringify(ep.valid()), { 'content-type': 'text/plain' })
        await expectRejected(res, before, 415)
        expect(res.json().code).toBe('UNSUPPORTED_MEDIA_TYPE')
      }
    })

    it('answers 415 to other non-JSON content types, and accepts JSON with a charset', async () => {
      const before = await snapshot()
      const ep = endpoint('POST /groups/create')
      for (const type of ['application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
        const res = await ep.send('name=x', { 'content-type': type })
        await expectRejected(res, before, 415)
        expect(res.json().code).toBe('UNSUPPORTED_MEDIA_TYPE')
      }
      const ok = await ep.send(JSON.stringify({ name: 'Charset Group' }), { 'content-type': 'application/json; charset=utf-8' })
      expect(ok.statusCode, ok.body).toBe(200)
    })

    it('answers 401 before looking at the body of an authenticated route', async () => {
      const before = await snapshot()
      const cases: Array<[string, string, Record<string, string>]> = [
        ['/api/v1/groups/create', '{"name": 5}', { 'content-type': 'application/json' }],
        ['/api/v1/auths/add', '{broken', { 'content-type': 'application/json' }],
        ['/api/v1/groups/create', 'name=x', { 'content-type': 'text/plain' }],
        ['/api/v1/groups/create', JSON.stringify({ name: 'x'.repeat(BODY_LIMIT) }), { 'content-type': 'application/json' }],
      ]
      for (const [url, payload, headers] of cases) {
        const res = await h.request({ method: 'POST', url, headers, payload })
        await expectRejected(res, before, 401)
        expect(res.json().code).toBe('UNAUTHORIZED')
      }
    })

    it('answers 404 NOT_FOUND with {detail, code} for an unknown route or method', async () => {
      for (const [method, url] of [
        ['GET', '/api/v1/nothing-here'],
        ['POST', '/api/v1/users/create'],
        ['DELETE', '/api/v1/auths/signup'],
        ['GET', '/api/v2/users/'],
      ] as const) {
        const res = await h.request({ method, url, headers: h.admin.auth })
        expect(res.statusCode).toBe(404)
        expect(res.headers['content-type']).toMatch(/^application\/json/)
        expect(res.json()).toEqual({ detail: expect.any(String), code: 'NOT_FOUND' })
      }
    })
  })
})

describe.each(DIALECTS)('500 answers on %s never leak internals', (dialect) => {
  const SECRET = 'secret internal detail'
  let app: App
  let database: TestDatabase

  beforeAll(async () => {
    const config = loadConfig({ LOG_LEVEL: 'silent', WEBUI_SECRET_KEY: TEST_SECRET })
    database = await openTestDatabase(dialect)
    await migrateToLatest(database)
    const services = createServices(config, database, TEST_SECRET)
    app = await buildApp(services, { logger: false })
    app.get('/boom', () => {
      throw new Error(SECRET)
    })
    app.get('/boom-async', async () => {
      await Promise.resolve()
      throw new TypeError(`${SECRET}: cannot read properties of undefined`)
    })
    app.get('/boom-sqlite-code', () => {
      throw Object.assign(new Error(`SQLITE_ERROR: no such table: ${SECRET}`), { code: 'SQLITE_ERROR' })
    })
    app.get('/boom-sqlite-name', () => {
      const error = new Error(`near "${SECRET}": syntax error`)
      error.name = 'SqliteError'
      throw error
    })
    app.get('/boom-pg-code', () => {
      throw Object.assign(new Error(`relation "${SECRET}" does not exist`), { code: '42P01', severity: 'ERROR' })
    })
    app.get('/boom-real-database', async () => {
      await sql`select * from secret_internal_table`.execute(services.database.db)
      return { unreachable: true }
    })
    app.get('/boom-app-error', () => {
      throw new AppError('DATABASE_ERROR', SECRET)
    })
    await app.ready()
  })
  afterAll(async () => {
    await app?.close()
    await database?.close()
  })

  it.each([
    ['/boom', 'DEFAULT_ERROR'],
    ['/boom-async', 'DEFAULT_ERROR'],
    ['/boom-sqlite-code', 'DATABASE_ERROR'],
    ['/boom-sqlite-name', 'DATABASE_ERROR'],
    ['/boom-pg-code', 'DATABASE_ERROR'],
    ['/boom-real-database', 'DATABASE_ERROR'],
    ['/boom-app-error', 'DATABASE_ERROR'],
  ])('%s answers 500 %s with the fixed message only', async (url, code) => {
    const res = await app.inject({ method: 'GET', url })
    expect(res.statusCode).toBe(500)
    const body = res.json()
    // request_id lets an admin find the logged cause; it is a random UUID, never an internal.
    expect(Object.keys(body).sort()).toEqual(['code', 'detail', 'request_id'])
    expect(body.request_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    expect(body.code).toBe(code)
    expect(body.detail).toMatch(/logged/)
    for (const leak of [SECRET, 'secret', 'SQLITE', 'relation', 'select', 'stack', 'at ', '.ts']) {
      expect(res.body).not.toContain(leak)
    }
  })

  it('answers the same fixed detail for every 500 of a code', async () => {
    const details = await Promise.all(['/boom', '/boom-async'].map(async (url) => (await app.inject({ method: 'GET', url })).json<{ detail: string }>().detail))
    expect(new Set(details).size).toBe(1)
  })
})
