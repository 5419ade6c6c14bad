/**
 * Property-based fuzz of every route (issue #10): randomized bodies, query strings and path ids, valid-
 * shaped and hostile (wrong types, huge numbers, NUL, lone surrogates, zero-width and bidi characters,
 * deep nesting, `__proto__` keys, bad percent-encodings), sent with a valid admin token and a valid user
 * token. The rule: no answer is a 5xx. After the run the server is healthy and the database consistent
 * (SQLite `PRAGMA integrity_check`, PostgreSQL orphan checks).
 *
 * The routes come from the app's own OpenAPI document, so a new route is fuzzed without touching this file.
 * Chat goes to a local fake provider (test/support/fake-provider.ts); no request leaves the machine.
 *
 * Seeded and bounded: FUZZ_SEED (default 20261002, printed) and FUZZ_RUNS (default 1000 requests per
 * dialect, well under a minute). Long local profile:
 *   FUZZ_RUNS=20000 DIALECTS=sqlite npx vitest run test/attack/fuzz.attack.test.ts
 * A failing request is printed (method, url, body) with the seed to replay it.
 */
import fc from 'fast-check'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from '../support/databases.js'
import { startFakeProvider, type FakeProvider } from '../support/fake-provider.js'
import { createHarness, PASSWORD, type Harness, type TestAccount } from '../support/harness.js'

const SEED = Number(process.env['FUZZ_SEED'] ?? 20261002)
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 1000)
const LONG = RUNS > 1000

interface Operation {
  method: 'GET' | 'POST' | 'DELETE'
  path: string
  query: string[]
  body: Schema | undefined
}
type Schema = Record<string, unknown>

interface FuzzRequest {
  op: Operation
  as: 'admin' | 'user'
  pathIds: string[]
  query: [string, string][]
  body: { kind: 'json'; value: unknown } | { kind: 'raw'; text: string; type: string } | { kind: 'none' }
}

/** Strings an attacker tries first. */
const HOSTILE = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\ud800y',
  '\ud83d',
  '\u200b',
  'a\u200db',
  '\ufeff',
  'a\u202eb',
  '\u2066x\u2069',
  '\u061c',
  '\u0007',
  '\u001b[31m',
  '\u0085',
  '%',
  '%25',
  '%00',
  '%2F',
  'a%252Fb',
  '%ED%A0%80',
  '../../etc/passwd',
  '__proto__',
  'constructor',
  'prototype',
  "'; DROP TABLE users; --",
  '" OR 1=1 --',
  '%_\\',
  '*',
  'a/b',
  'x'.repeat(257),
  'x'.repeat(5000),
  '😀👩‍👩‍👧',
  'data:image/svg+xml,%',
  'data:image/png;base64,!!!',
  'data:image/svg+xml,<svg onload=alert(1)>',
  'javascript:alert(1)',
  '//evil.example/x.png',
  'http://127.0.0.1:1/',
  'true',
  'null',
  '-1',
  '1e309',
  '99999999999999999999999',
]
/** Sent as they are in paths and query strings: percent-encodings a server may decode wrongly. */
const RAW_URL_PARTS = [
  '%',
  '%25',
  '%00',
  '%2F',
  'a%2Fb',
  'a%252Fb',
  '%ED%A0%80',
  '%E2%80%8B',
  '%E2%80%AE',
  '%C0%AF',
  '..%2F..%2F',
  '%%',
  '%zz',
  '%u0000',
  '%FF%FE',
  'fake-model',
  'a/b',
]
const NUMBERS = [0, -1, 1, 2, 0.5, -0, 1e308, -1e308, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER, 1e-320, 3.7, 100, 101, 1_000_001]

/** Marks a path id or query value to be sent as written (already percent-encoded, maybe wrongly). */
const RAW = '\u0001raw:'

/** A string as a URL component: percent-encoded, with lone surrogates sent as their (invalid) UTF-8 bytes. */
function encodeComponent(value: string): string {
  if (value.startsWith(RAW)) return value.slice(RAW.length)
  let out = ''
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0
    if (code >= 0xd800 && code <= 0xdfff) {
      out += `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}`
    } else out += encodeURIComponent(char)
  }
  return out
}

describe.each(DIALECTS)('fuzz every route on %s', (dialect) => {
  let h: Harness
  let provider: FakeProvider
  let user: TestAccount
  let operations: Operation[]
  let components: Record<string, Schema>
  const ids = { user: [] as string[], group: [] as string[], model: ['fake-model', 'preset-a', 'a/b'] as string[], connection: [] as string[] }
  let sent = 0
  const failures: string[] = []
  const statuses = new Map<number, number>()

  beforeAll(async () => {
    provider = await startFakeProvider({ models: ['fake-model', 'a/b'] })
    h = await createHarness(dialect, { OPENAI_API_BASE_URLS: provider.baseUrl, OPENAI_API_KEYS: '' })
    user = await h.createUser('user', 'Fuzz User')
    // Sacrificial accounts and some records for path ids to hit.
    for (let i = 0; i < 3; i++) ids.user.push((await h.createUser('user')).id)
    for (const name of ['g1', 'g2']) {
      const group = await h.request({ method: 'POST', url: '/api/v1/groups/create', headers: h.admin.auth, payload: { name, user_ids: [user.id] } })
      ids.group.push(group.json().id)
    }
    await h.request({
      method: 'POST',
      url: '/api/v1/models/create',
      headers: h.admin.auth,
      payload: { id: 'preset-a', name: 'A', base_model_id: 'fake-model', access_control: null },
    })
    await h.request({
      method: 'POST',
      url: '/api/v1/models/create',
      headers: user.auth,
      payload: { id: 'user-preset', name: 'U', base_model_id: 'fake-model' },
    })
    const connections = await h.request({ method: 'GET', url: '/api/v1/connections/', headers: h.admin.auth })
    for (const c of connections.json<{ id: string }[]>()) ids.connection.push(c.id)
    ids.model.push('user-preset')

    const doc = (await h.request({ method: 'GET', url: '/openapi.json' })).json()
    components = doc.components?.schemas ?? {}
    operations = []
    for (const [path, ops] of Object.entries<Record<string, Schema>>(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const params = (op['parameters'] ?? []) as { in: string; name: string }[]
        const body = (op['requestBody'] as { content?: Record<string, { schema?: Schema }> } | undefined)?.content?.['application/json']?.schema
        operations.push({
          method: method.toUpperCase() as Operation['method'],
          path,
          query: params.filter((p) => p.in === 'query').map((p) => p.name),
          body: body ?? (op['requestBody'] ? {} : undefined),
        })
      }
    }
    expect(operations.length).toBeGreaterThan(40)
    console.log(`[fuzz ${dialect}] seed=${SEED} runs=${RUNS} routes=${operations.length}`)
  })

  afterAll(async () => {
    await h?.close()
    await provider?.close()
  })

  const hostileString = () =>
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...HOSTILE) },
      { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
      { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
      { weight: 1, arbitrary: fc.constantFrom(...ids.model, ...ids.user, ...ids.group, ...ids.connection, h.admin.id, user.id) },
    )

  const hostileValue = (): fc.Arbitrary<unknown> =>
    fc.letrec<{ value: unknown }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        hostileString(),
        fc.constantFrom(...NUMBERS),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.oneof(hostileString(), fc.constantFrom('__proto__', 'constructor', 'id', 'name', 'params', 'meta')), tie('value'), { maxKeys: 4 }),
      ),
    })).value

  /** A value shaped by a JSON schema (OpenAPI), mutated now and then. */
  function fromSchema(schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
    if (!schema || depth > 6) return hostileValue()
    const ref = schema['$ref'] as string | undefined
    if (ref) return fromSchema(components[ref.split('/').pop() ?? ''], depth + 1)
    const choices = (schema['anyOf'] ?? schema['oneOf'] ?? schema['allOf']) as Schema[] | undefined
    if (choices?.length) return fc.oneof(...choices.map((c) => fromSchema(c, depth + 1)))
    const values = schema['enum'] as unknown[] | undefined
    if (values?.length) return fc.constantFrom(...values)
    if ('const' in schema) return fc.constant(schema['const'])
    const type = Array.isArray(schema['type']) ? (schema['type'] as string[])[0] : (schema['type'] as string | undefined)
    const shaped = (() => {
      switch (type ?? 'any') {
        case 'object': {
          const properties = (schema['properties'] ?? {}) as Record<string, Schema>
          const keys = Object.keys(properties)
          if (keys.length === 0) return fc.dictionary(fc.string({ maxLength: 12 }), hostileValue(), { maxKeys: 4 })
          const record: Record<string, fc.Arbitrary<unknown>> = {}
          for (const key of keys) record[key] = fromSchema(properties[key], depth + 1)
          return fc.record(record, { requiredKeys: [] })
        }
        case 'array':
          return fc.array(fromSchema(schema['items'] as Schema | undefined, depth + 1), { maxLength: 4 })
        case 'string':
          return hostileString()
        case 'integer':
          return fc.oneof(fc.integer({ min: -5, max: 300 }), fc.constantFrom(...NUMBERS))
        case 'number':
          return fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true, min: -10, max: 10 }), fc.constantFrom(...NUMBERS))
        case 'boolean':
          return fc.boolean()
        case 'null':
          return fc.constant(null)
        default:
          return hostileValue()
      }
    })()
    return fc.oneof({ weight: 5, arbitrary: shaped }, { weight: 1, arbitrary: hostileValue() })
  }

  const deepNesting = fc.integer({ min: 60, max: 3000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth))
  /** A valid-shaped body with one field replaced by deep nesting (`{"params": {"x": [[[[…]]]]}, …}`). */
  const deepInside = (schema: Schema) =>
    fc
      .tuple(
        fromSchema(schema),
        fc.constantFrom('params', 'meta', 'access_control', 'access_grants', 'permissions', 'messages', 'models', 'user_ids'),
        deepNesting,
        fc.boolean(),
      )
      .map(([value, key, deep, wrap]) => {
        const nested = wrap ? `{"x":${deep}}` : deep
        const rest = value !== null && typeof value === 'object' && !Array.isArray(value) ? JSON.stringify({ ...value, [key]: undefined }) : '{}'
        return rest === '{}' ? `{"${key}":${nested}}` : `{"${key}":${nested},${rest.slice(1)}`
      })
  const protoBody = fc.constantFrom(
    '{"__proto__": {"isAdmin": true}, "id": "p", "name": "p"}',
    '{"constructor": {"prototype": {"role": "admin"}}}',
    '{"id": "x", "name": "y", "base_model_id": "fake-model", "params": {"__proto__": {"system": "pwn"}}}',
  )

  function requestArbitrary(): fc.Arbitrary<FuzzRequest> {
    return fc.constantFrom(...operations).chain((op) => {
      const pathCount = (op.path.match(/\{[^}]+\}/g) ?? []).length
      const queryKeys = [...op.query, 'id', '__proto__', 'x']
      const body: fc.Arbitrary<FuzzRequest['body']> =
        op.body === undefined
          ? fc.oneof(
              { weight: 8, arbitrary: fc.constant({ kind: 'none' as const }) },
              { weight: 1, arbitrary: hostileValue().map((value) => ({ kind: 'json' as const, value })) },
            )
          : fc.oneof(
              { weight: 8, arbitrary: fromSchema(op.body).map((value) => ({ kind: 'json' as const, value })) },
              { weight: 2, arbitrary: hostileValue().map((value) => ({ kind: 'json' as const, value })) },
              { weight: 1, arbitrary: deepNesting.map((text) => ({ kind: 'raw' as const, text, type: 'application/json' })) },
              { weight: 1, arbitrary: deepInside(op.body).map((text) => ({ kind: 'raw' as const, text, type: 'application/json' })) },
              { weight: 1, arbitrary: protoBody.map((text) => ({ kind: 'raw' as const, text, type: 'application/json' })) },
              { weight: 1, arbitrary: fc.constantFrom('{"a":', 'nul', '', '\u0000').map((text) => ({ kind: 'raw' as const, text, type: 'application/json' })) },
              { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((text) => ({ kind: 'raw' as const, text, type: 'text/plain' })) },
            )
      return fc.record({
        op: fc.constant(op),
        as: fc.constantFrom<'admin' | 'user'>('admin', 'user'),
        pathIds: fc.array(
          fc.oneof(
            hostileString(),
            fc.constantFrom(...RAW_URL_PARTS).map((part) => `${RAW}${part}`),
          ),
          { minLength: pathCount, maxLength: pathCount },
        ),
        query: fc.array(
          fc.tuple(
            fc.constantFrom(...queryKeys),
            fc.oneof(
              hostileString(),
              fc.constantFrom(...RAW_URL_PARTS).map((part) => `${RAW}${part}`),
              fc.constantFrom('1', '0', '-5', '1000001', 'true', 'asc', 'name', 'all', 'user'),
            ),
          ),
          { maxLength: 4 },
        ),
        body,
      })
    })
  }

  function describeRequest(r: FuzzRequest, url: string): string {
    const body =
      r.body.kind === 'json'
        ? JSON.stringify(r.body.value)?.slice(0, 500)
        : r.body.kind === 'raw'
          ? `${r.body.type} ${JSON.stringify(r.body.text.slice(0, 200))}`
          : '-'
    return `${r.as} ${r.op.method} ${url} body=${body}`
  }

  /** A user route must never act on the fuzz's own two accounts (a password change would end the run). */
  function guardOwnAccounts(r: FuzzRequest): FuzzRequest {
    if (r.op.path.startsWith('/api/v1/users/{id}') && r.op.method !== 'GET') {
      return { ...r, pathIds: r.pathIds.map((id) => (id === h.admin.id || id === user.id ? 'not-an-account' : id)) }
    }
    return r
  }

  async function send(input: FuzzRequest): Promise<void> {
    const r = guardOwnAccounts(input)
    let index = 0
    const path = r.op.path.replace(/\{[^}]+\}/g, () => encodeComponent(r.pathIds[index++] ?? ''))
    const query = r.query.map(([k, v]) => `${encodeComponent(k)}=${encodeComponent(v)}`).join('&')
    const url = query ? `${path}?${query}` : path
    const headers: Record<string, string> = { ...(r.as === 'admin' ? h.admin.auth : user.auth) }
    let payload: string | undefined
    if (r.body.kind === 'json') {
      payload = JSON.stringify(r.body.value) ?? 'null'
      headers['content-type'] = 'application/json'
    } else if (r.body.kind === 'raw') {
      payload = r.body.text
      headers['content-type'] = r.body.type
    }
    const res = await h.app.inject({ method: r.op.method, url, headers, ...(payload !== undefined && { payload }) })
    sent++
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
    if (res.statusCode >= 500) {
      const line = `${res.statusCode} ${res.body.slice(0, 300)} ← ${describeRequest(r, url)}`
      failures.push(line)
      console.error(`[fuzz ${dialect}] ${line}`)
    }
  }

  /** Signs the fuzz's accounts in again when a route (sign-out, revocation) ended their session. */
  async function keepSignedIn(): Promise<void> {
    for (const account of [h.admin, user]) {
      const me = await h.request({ method: 'GET', url: '/api/v1/auths/', headers: account.auth })
      if (me.statusCode === 200) continue
      const signin = await h.request({ method: 'POST', url: '/api/v1/auths/signin', payload: { email: account.email, password: PASSWORD } })
      if (signin.statusCode === 200) {
        account.token = signin.json().token
        account.auth.authorization = `Bearer ${account.token}`
      }
    }
  }

  it(
    'answers no request with a 5xx, and the server and database are sound after',
    async () => {
      const started = Date.now()
      let count = 0
      await fc.assert(
        fc.asyncProperty(requestArbitrary(), async (request) => {
          if (++count % 50 === 0) await keepSignedIn()
          await send(request)
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      )
      const summary = [...statuses.entries()]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s}:${n}`)
        .join(' ')
      console.log(`[fuzz ${dialect}] seed=${SEED} requests=${sent} 5xx=${failures.length} statuses ${summary} in ${Date.now() - started} ms`)
      expect(failures, `5xx answers (seed ${SEED}):\n${failures.join('\n')}`).toEqual([])

      const health = await h.request({ method: 'GET', url: '/health' })
      expect(health.statusCode).toBe(200)
      const ready = await h.request({ method: 'GET', url: '/ready' })
      expect(ready.statusCode).toBe(200)
      const db = h.database.db
      if (dialect === 'sqlite') {
        const check = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(db)
        expect(check.rows.map((row) => row.integrity_check)).toEqual(['ok'])
        const fk = await sql`pragma foreign_key_check`.execute(db)
        expect(fk.rows).toEqual([])
      }
      // Both dialects: no row refers to a row that is gone, and every table answers.
      const orphans = await sql<{ n: number }>`
        select (select count(*) from model_grants g where not exists (select 1 from models m where m.id = g.model_id))
             + (select count(*) from model_tags t where not exists (select 1 from models m where m.id = t.model_id))
             + (select count(*) from group_members gm where not exists (select 1 from groups g where g.id = gm.group_id))
             + (select count(*) from group_members gm where not exists (select 1 from users u where u.id = gm.user_id))
             + (select count(*) from models m where not exists (select 1 from users u where u.id = m.user_id)) as n`.execute(db)
      expect(Number(orphans.rows[0]?.n)).toBe(0)
      const admins = await sql<{ n: number }>`select count(*) as n from users where role = 'admin'`.execute(db)
      expect(Number(admins.rows[0]?.n)).toBeGreaterThanOrEqual(1)
    },
    LONG ? 3_600_000 : 120_000,
  )
})
