/**
 * Review of the second 2026-12-07 round (the gateway's hot path, d121dc9 and the Analytics page of
 * cc33512), as attacks with the fewest rights: the caller's runtime view kept per cached memberships
 * array, LRU order moved at most once a second, the provider list merged and connection fingerprints
 * computed once per change, the merged preset kept per cached resolution, the account passed uncopied to
 * the gateway, each request's logger built on its first line, one-shot sha256, SeriesHistogram, and
 * the Analytics page's series. Each test states what must hold; a failing test is a hole.
 */
import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pino } from 'pino'
import { Histogram, Registry } from 'prom-client'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { hashApiKey } from '../src/auth/api-key-secret.js'
import { TopicCache } from '../src/cache/topic-cache.js'
import { redactError } from '../src/errors/redact.js'
import { lazyChildLoggerFactory } from '../src/http/lazy-child-logger.js'
import { SeriesHistogram } from '../src/metrics/series-histogram.js'
import type { Connection } from '../src/providers/connection.js'
import { LocalBus } from '../src/providers/invalidation-bus.js'
import { ModelCatalog } from '../src/providers/model-catalog.js'
import { DIALECTS } from './support/databases.js'
import { manualInvalidations } from './support/factories.js'
import { fakeConnection, startFakeProvider, type FakeProvider } from './support/fake-provider.js'
import { createHarness, type Harness, type TestAccount } from './support/harness.js'

const MESSAGES = [{ role: 'user', content: 'hi' }]
const EVERYONE = [{ principal_type: 'user', principal_id: '*', permission: 'read' }]
const METRICS_TOKEN = 'metrics-review-1207b-0123456789abcdef'
/** Not resolved by tsc (web/ has its own config); vitest loads it as the page does. */
const SERIES_MODULE = '../web/src/pages/analytics/series.ts'

type Line = Record<string, unknown>
const collect = () => {
  const lines: Line[] = []
  return { lines, write: (line: string) => void lines.push(JSON.parse(line) as Line) }
}

// ─── One-shot sha256 ──────────────────────────────────────────────────────────────────────────────

describe('review 1207b: crypto.hash is createHash for every key a client can send', () => {
  const inputs: [string, string][] = [
    ['empty', ''],
    ['an API key', `sk-${'ab'.repeat(24)}`],
    ['latin-1 (how Node decodes header bytes)', String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i))],
    ['non-ASCII', 'sk-ключ-鍵-🔑'],
    ['a lone high surrogate', 'sk-\ud800'],
    ['a lone low surrogate inside', 'a\udc00b'],
    ['a NUL', 'sk-\u0000x'],
    ['a very long header value (1 MiB)', 'x'.repeat(1 << 20)],
    ['a long non-ASCII value', 'é'.repeat(100_000)],
  ]
  for (const [name, input] of inputs) {
    it(`${name}: the same digest`, () => {
      expect(hashApiKey(input)).toBe(createHash('sha256').update(input).digest('hex'))
    })
  }
})

// ─── TopicCache: LRU order moved at most once a second ───────────────────────────────────────────

describe('review 1207b: TopicCache recency never extends what an entry may serve', () => {
  afterEach(() => vi.useRealTimers())

  it('hits that move an entry in the LRU order do not extend its age: it is read anew after maxAgeMs', async () => {
    vi.useFakeTimers({ now: 5_000_000 })
    const cache = new TopicCache<number>(manualInvalidations(), 'accounts', 10, 10_000)
    let version = 1
    const get = () => cache.get('k', () => Promise.resolve(version))
    expect(await get()).toBe(1)
    for (let i = 0; i < 9; i++) {
      vi.advanceTimersByTime(1_100) // each hit is more than a second after the last: it moves the entry
      expect(await get()).toBe(1)
    }
    version = 2
    vi.advanceTimersByTime(200) // 10.1 s after the read
    expect(await get()).toBe(2)
  })

  it('an invalidation between two hits of one second clears the entry (the next hit reads anew)', async () => {
    vi.useFakeTimers({ now: 5_000_000 })
    const source = manualInvalidations()
    const cache = new TopicCache<string>(source, 'accounts', 10)
    let role = 'admin'
    const get = () => cache.get('u', () => Promise.resolve(role))
    expect(await get()).toBe('admin')
    expect(await get()).toBe('admin') // a hit within the second: no reorder
    role = 'pending'
    source.bump('accounts')
    expect(await get()).toBe('pending')
  })

  it('untrusted invalidations (bus down): every call reads anew, hits or not', async () => {
    const cache = new TopicCache<number>(manualInvalidations(false), 'accounts', 10)
    let reads = 0
    for (let i = 0; i < 5; i++) await cache.get('k', () => Promise.resolve(++reads))
    expect(reads).toBe(5)
    expect(cache.size).toBe(0)
  })

  it('a key hit constantly within one second can be evicted (the documented price), never served stale', async () => {
    vi.useFakeTimers({ now: 5_000_000 })
    const cache = new TopicCache<string>(manualInvalidations(), 'accounts', 3)
    let loads = 0
    const get = (key: string) =>
      cache.get(key, () => {
        loads++
        return Promise.resolve(`${key}@${loads}`)
      })
    await get('hot')
    for (const key of ['a', 'b', 'c']) {
      await get('hot') // within the second: stays first in order
      await get(key)
    }
    expect(cache.size).toBe(3)
    const before = loads
    expect(await get('hot')).toBe(`hot@${before + 1}`) // evicted, read anew
  })
})

// ─── SeriesHistogram ──────────────────────────────────────────────────────────────────────────────

/** The histogram series of `name` in a text exposition: per label set (without `le`), buckets, sum, count. */
function histogramSeries(text: string, name: string) {
  const series = new Map<string, { buckets: [string, number][]; sum?: number; count?: number }>()
  for (const line of text.split('\n')) {
    const match = /^(\w+?)(_bucket|_sum|_count)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!match || match[1] !== name) continue
    const [, , part, labelText = '', value = ''] = match
    const labels = labelText.split(/,(?=\w+=")/).filter((l) => l !== '' && !l.startsWith('le='))
    const le = /(?:^|,)le="([^"]*)"/.exec(labelText)?.[1]
    const key = labels.join(',')
    let entry = series.get(key)
    if (!entry) series.set(key, (entry = { buckets: [] }))
    const number = Number(value)
    if (part === '_bucket') entry.buckets.push([le ?? '', number])
    else if (part === '_sum') entry.sum = number
    else entry.count = number
  }
  return series
}

function expectWellFormed(text: string, name: string): void {
  expect(text.split('\n').filter((line) => line === `# TYPE ${name} histogram`)).toHaveLength(1)
  for (const [labels, { buckets, sum, count }] of histogramSeries(text, name)) {
    const values = buckets.map(([, n]) => n)
    expect(
      values.every((n, i) => Number.isFinite(n) && (i === 0 || n >= (values[i - 1] as number))),
      labels,
    ).toBe(true)
    expect(buckets.at(-1)?.[0], labels).toBe('+Inf')
    expect(buckets.at(-1)?.[1], labels).toBe(count)
    expect(Number.isFinite(sum), labels).toBe(true)
  }
}

describe('review 1207b: SeriesHistogram is prom-client for every value the request path can observe', () => {
  const BUCKETS = [0.001, 0.01, 0.1, 1]

  it('bounds, zero, negative zero, negative and huge values: the text prom-client writes', async () => {
    const [theirs, ours] = [new Registry(), new Registry()]
    const reference = new Histogram({ name: 'edge_seconds', help: 'h', labelNames: ['connection'], buckets: BUCKETS, registers: [theirs] })
    const histogram = new SeriesHistogram('edge_seconds', 'h', BUCKETS, [ours])
    const observe = histogram.observer({ connection: 'c' })
    for (const value of [0, -0, 0.001, 0.01, 0.1, 1, 1.0000001, -5, 1e300, Number.MAX_VALUE, Number.MIN_VALUE]) {
      reference.labels('c').observe(value)
      observe(value)
    }
    expect(await ours.metrics()).toBe(await theirs.metrics())
  })

  it('NaN and ±Infinity are dropped: no NaN sum, no count without a bucket, the text stays well formed', async () => {
    const registry = new Registry()
    const histogram = new SeriesHistogram('nan_seconds', 'h', BUCKETS, [registry])
    const observe = histogram.observer({ connection: 'c' })
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0.05]) observe(value)
    const text = await registry.metrics()
    expect(text).not.toMatch(/NaN|Inf\b(?!")/)
    expect(text).toContain('nan_seconds_count{connection="c"} 1')
    expectWellFormed(text, 'nan_seconds')
  })

  it('a label value cannot break out of its quotes or add a line (escaped as prom-client does), in a merged registry too', async () => {
    const registry = new Registry()
    const histogram = new SeriesHistogram('esc_seconds', 'h', BUCKETS, [registry])
    histogram.observer({ connection: 'a"} 1\nevil_metric{x="y' })(0.5)
    histogram.observer({ connection: 'back\\slash' })(0.5)
    const text = await Registry.merge([registry, new Registry()]).metrics()
    expect(text).not.toMatch(/^evil_metric/m)
    expect(text.split('\n').filter((l) => l.startsWith('esc_seconds'))).toHaveLength(2 * (BUCKETS.length + 3))
    expectWellFormed(text, 'esc_seconds')
  })

  it('the same label set asked twice is one series (two observers share it), in any key order', async () => {
    const registry = new Registry()
    const histogram = new SeriesHistogram('dup_seconds', 'h', BUCKETS, [registry])
    histogram.observer({ method: 'GET', route: '/x' })(0.5)
    histogram.observer({ route: '/x', method: 'GET' })(0.5)
    expect([...histogramSeries(await registry.metrics(), 'dup_seconds').values()].map((s) => s.count)).toEqual([2])
  })
})

// ─── The lazy request logger ──────────────────────────────────────────────────────────────────────

describe('review 1207b: the lazy request logger writes what the eager child wrote', () => {
  /** The app's pino options (http/app.ts): redaction and the error serializer. */
  const appLogger = (level: string) => {
    const out = collect()
    const logger = pino(
      { level, redact: ['req.headers.authorization', 'req.headers.cookie', 'req.body.password'], serializers: { err: redactError } },
      { write: out.write },
    )
    return { logger, lines: out.lines }
  }
  // Built once, so both loggers serialize the same stacks.
  const err = Object.assign(new Error('fetch http://user:sk-secret@provider.example/v1 failed'), {
    url: 'https://provider.example/v1?api_key=sk-secret',
  })
  const chained = new Error('outer', { cause: new Error('inner at http://u:sk-cause-secret@provider.example') })
  const first = new Error('an error as first argument')
  const script = (log: ReturnType<typeof pino>) => {
    log.info({ req: { headers: { authorization: 'Bearer sk-live-token', cookie: 'token=abc', host: 'x' }, body: { password: 'pw' } } }, 'with a request')
    log.warn({ err }, 'request failed')
    log.error({ err: chained }, 'chained')
    log.debug({ a: 1 }, 'below info')
    log.info('interpolated %s and %d', 'text', 42)
    log.info({ reqId: 'spoofed' }, 'a line that tries to override the bound id')
    log.child({ part: 'relay' }).warn({ err }, 'from a grandchild')
    log.fatal(first)
  }
  const normalized = (lines: Line[]) => lines.map(({ time: _time, pid: _pid, ...rest }) => JSON.stringify(rest))

  it('the same lines (redacted, serialized, bound to the request id) as logger.child, at info and at debug', () => {
    for (const level of ['info', 'debug', 'warn']) {
      const eager = appLogger(level)
      const lazy = appLogger(level)
      script(eager.logger.child({ reqId: 'req-1' }, {}))
      script(lazyChildLoggerFactory.call(undefined as never, lazy.logger, { reqId: 'req-1' }, {}, undefined as never) as ReturnType<typeof pino>)
      expect(normalized(lazy.lines), level).toEqual(normalized(eager.lines))
      const text = JSON.stringify(lazy.lines)
      expect(text).not.toMatch(/sk-live-token|token=abc|"pw"|sk-secret|sk-cause-secret/)
      for (const line of lazy.lines) expect(line['reqId'], level).toBeDefined()
    }
  })

  it("a route's own serializers (Fastify passes them in the options) apply to the lazy child", () => {
    const { logger, lines } = appLogger('info')
    const child = lazyChildLoggerFactory.call(
      undefined as never,
      logger,
      { reqId: 'r' },
      { serializers: { secret: () => '[hidden]' } },
      undefined as never,
    ) as ReturnType<typeof pino>
    child.info({ secret: 'sk-route-secret' }, 'x')
    expect(lines[0]).toMatchObject({ reqId: 'r', secret: '[hidden]' })
  })
})

// ─── ModelCatalog: one merged list per change ─────────────────────────────────────────────────────

describe('review 1207b: the merged provider list follows every connection change', () => {
  const providers: FakeProvider[] = []
  afterAll(async () => {
    await Promise.all(providers.map((p) => p.close()))
  })
  const connectionTo = (p: FakeProvider, id: string, extra: Partial<Connection> = {}): Connection => fakeConnection(p, { id, name: id, ...extra })

  const served = async (catalog: ModelCatalog) => (await catalog.models()).map((m) => `${m.id}@${m.connection_id}`).sort()

  it('reordered, disabled, replaced or re-prefixed connections: the list is merged again (the earlier connection wins)', async () => {
    const a = await startFakeProvider({ models: ['dup', 'only-a'] })
    const b = await startFakeProvider({ models: ['dup', 'only-b'] })
    providers.push(a, b)
    let connections = [connectionTo(a, 'A'), connectionTo(b, 'B')]
    const bus = new LocalBus()
    // Fresh objects per load, as ConnectionsService.all() gives.
    const catalog = new ModelCatalog(() => Promise.resolve(connections.map((c) => ({ ...c }))), { ttlMs: 3_600_000, timeoutMs: 5_000 }, bus)
    expect(await served(catalog)).toEqual(['dup@A', 'only-a@A', 'only-b@B'])
    const merged = await catalog.models()
    expect(await catalog.models()).toBe(merged) // nothing changed: the same list

    connections = [connections[1] as Connection, connections[0] as Connection] // the order changed
    catalog.invalidate()
    expect(await served(catalog)).toEqual(['dup@B', 'only-a@A', 'only-b@B'])

    connections = [{ ...(connections[0] as Connection), enabled: false }, connections[1] as Connection]
    catalog.invalidate()
    expect(await served(catalog)).toEqual(['dup@A', 'only-a@A'])

    connections = [connectionTo(b, 'B'), connectionTo(a, 'A', { prefix_id: 'pre' })]
    catalog.invalidate()
    expect(await served(catalog)).toEqual(['dup@B', 'only-b@B', 'pre.dup@A', 'pre.only-a@A'])

    // One connection swapped for another at the same position (same count of lists).
    connections = [connectionTo(a, 'C'), connectionTo(a, 'A', { prefix_id: 'pre' })]
    catalog.invalidate()
    expect(await served(catalog)).toEqual(['dup@C', 'only-a@C', 'pre.dup@A', 'pre.only-a@A'])
    await bus.close()
  })
})

// ─── The Analytics page's series ──────────────────────────────────────────────────────────────────

type Bucket = { date: string; models: Record<string, number>; tokens: Record<string, number>; costs: Record<string, number>; errors: Record<string, number> }
type SeriesModule = {
  seriesOf: (data: Bucket[], value: 'models' | 'tokens') => { rows: Record<string, string | number>[]; series: { dataKey: string; name: string }[] }
  fillBuckets: (data: Bucket[], start: number, end: number, hourly: boolean) => Bucket[]
}

describe('review 1207b: Analytics page series with empty data and huge numbers', () => {
  const load = async () => (await import(/* @vite-ignore */ SERIES_MODULE)) as SeriesModule

  it('no data: no series, one empty row per bucket (the page says "No calls."), no bucket without a range', async () => {
    const { seriesOf, fillBuckets } = await load()
    for (const value of ['models', 'tokens'] as const) {
      const { rows, series } = seriesOf(fillBuckets([], 86_400 * 10, 86_400 * 17, false), value)
      expect(series).toEqual([])
      expect(rows).toHaveLength(7)
      expect(rows.every((row) => Object.keys(row).join() === 'date')).toBe(true)
    }
    expect(fillBuckets([], 0, 0, true)).toEqual([])
  })

  it('huge counts stay finite numbers and keep the tokens series in the calls order (the same colour per model)', async () => {
    const { seriesOf } = await load()
    const models: Record<string, number> = {}
    const tokens: Record<string, number> = {}
    for (let i = 0; i < 12; i++) {
      models[`model-${i}`] = Number.MAX_SAFE_INTEGER - i
      tokens[`model-${i}`] = 1e300
    }
    const data: Bucket[] = [{ date: '2026-01-01', models, tokens, costs: {}, errors: {} }]
    const calls = seriesOf(data, 'models')
    const used = seriesOf(data, 'tokens')
    expect(used.series).toEqual(calls.series)
    expect(calls.series.at(-1)?.name).toBe('other')
    const values = [...calls.rows, ...used.rows].flatMap((row) => Object.entries(row).filter(([key]) => key !== 'date'))
    expect(values.every(([, value]) => Number.isFinite(value))).toBe(true)
    expect(used.rows[0]?.['s6']).toBe(6e300) // the six models past the sixth summed as "other"
  })
})

// ─── Over HTTP, both dialects ─────────────────────────────────────────────────────────────────────

describe.each(DIALECTS)('review 1207b (%s)', (dialect) => {
  let h: Harness
  let provider: FakeProvider
  let second: FakeProvider
  let mainId = ''
  let secondId = ''

  const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` })
  const chat = (credential: string, model: string, extra: Record<string, unknown> = {}) =>
    h.request({ method: 'POST', url: '/v1/chat/completions', headers: bearer(credential), payload: { model, messages: MESSAGES, ...extra } })
  const admin = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) =>
    h.request({ method, url, headers: h.admin.auth, ...(payload !== undefined && { payload }) })
  const createModel = async (id: string, grants: unknown[] = EVERYONE, params: Record<string, unknown> = {}) => {
    const res = await admin('POST', '/api/v1/models/create', { id, name: id, base_model_id: 'm-1', meta: {}, params, access_grants: grants })
    expect(res.statusCode, res.body).toBe(200)
  }
  const createGroup = async (name: string) => {
    const res = await admin('POST', '/api/v1/groups/create', { name })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ id: string }>().id
  }
  const groupGrant = (id: string) => [{ principal_type: 'group', principal_id: id, permission: 'read' }]
  const apiKeyOf = async (account: TestAccount) => {
    const res = await h.request({ method: 'POST', url: '/api/v1/auths/api_key', headers: account.auth })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ api_key: string }>().api_key
  }
  const sentBodies = (p: FakeProvider, since: number) => p.requests.slice(since).filter((r) => r.path === '/v1/chat/completions')

  beforeAll(async () => {
    h = await createHarness(dialect, { MODELS_CACHE_TTL: '3600', SETTINGS_CHECK_INTERVAL_MS: '3600000', METRICS_TOKEN })
    provider = await startFakeProvider({ models: ['m-1', 'raw-1', 'dup'] })
    second = await startFakeProvider({ models: ['dup', 'm-2'] })
    const main = await admin('POST', '/api/v1/connections/create', { name: 'Main', base_url: provider.baseUrl })
    expect(main.statusCode, main.body).toBe(200)
    mainId = main.json<{ id: string }>().id
    const other = await admin('POST', '/api/v1/connections/create', { name: 'Second', base_url: second.baseUrl })
    expect(other.statusCode, other.body).toBe(200)
    secondId = other.json<{ id: string }>().id
    expect((await admin('GET', '/api/models/base')).statusCode).toBe(200)
  })
  afterAll(async () => {
    await h?.close()
    await provider?.close()
    await second?.close()
  })

  describe('the runtime view kept per cached memberships', () => {
    it('removed from the group, the warm caller is refused at once; added again, served; the group deleted, refused', async () => {
      const group = await createGroup('rv-members')
      await createModel('rv-group-model', groupGrant(group))
      const user = await h.createUser('user')
      const key = await apiKeyOf(user)
      expect((await admin('POST', `/api/v1/groups/id/${group}/users/add`, { user_ids: [user.id] })).statusCode).toBe(200)
      for (let i = 0; i < 3; i++) expect((await chat(key, 'rv-group-model')).statusCode).toBe(200)
      expect((await admin('POST', `/api/v1/groups/id/${group}/users/remove`, { user_ids: [user.id] })).statusCode).toBe(200)
      expect((await chat(key, 'rv-group-model')).statusCode).toBe(404)
      expect((await chat(user.token, 'rv-group-model')).statusCode).toBe(404)
      expect((await admin('POST', `/api/v1/groups/id/${group}/users/add`, { user_ids: [user.id] })).statusCode).toBe(200)
      expect((await chat(key, 'rv-group-model')).statusCode).toBe(200)
      expect((await admin('DELETE', `/api/v1/groups/id/${group}/delete`)).statusCode).toBe(200)
      expect((await chat(key, 'rv-group-model')).statusCode).toBe(404)
    })

    it('an admin demoted through the API loses the raw provider models at once (the view is per role)', async () => {
      const other = await h.createUser('admin')
      const key = await apiKeyOf(other)
      expect((await chat(key, 'raw-1')).statusCode).toBe(200)
      expect((await chat(key, 'raw-1')).statusCode).toBe(200)
      const demoted = await admin('POST', `/api/v1/users/${other.id}/update`, { role: 'user' })
      expect(demoted.statusCode, demoted.body).toBe(200)
      expect((await chat(key, 'raw-1')).statusCode).toBe(404)
      expect((await admin('POST', `/api/v1/users/${other.id}/update`, { role: 'pending' })).statusCode).toBe(200)
      expect((await chat(key, 'raw-1')).statusCode).not.toBe(200)
    })

    it('two callers with the same (empty) memberships never share a view: a direct grant stays its grantee’s', async () => {
      const [alice, bob] = [await h.createUser('user'), await h.createUser('user')]
      await createModel('rv-direct', [{ principal_type: 'user', principal_id: alice.id, permission: 'read' }])
      for (let i = 0; i < 3; i++) {
        expect((await chat(alice.token, 'rv-direct')).statusCode).toBe(200)
        expect((await chat(bob.token, 'rv-direct')).statusCode).toBe(404)
      }
      const list = await h.request({ method: 'GET', url: '/v1/models', headers: bob.auth })
      expect(list.body).not.toContain('rv-direct')
    })

    it('a revoked API key is refused by the very next request (hits within the same second included)', async () => {
      await createModel('rv-key')
      const user = await h.createUser('user')
      const key = await apiKeyOf(user)
      for (let i = 0; i < 5; i++) expect((await chat(key, 'rv-key')).statusCode).toBe(200)
      expect((await h.request({ method: 'DELETE', url: '/api/v1/auths/api_key', headers: user.auth })).statusCode).toBe(200)
      expect((await chat(key, 'rv-key')).statusCode).toBe(401)
    })
  })

  describe('the merged preset kept per cached resolution', () => {
    it("the preset applies to every request, no request's fields reach the next, and an edit applies at once", async () => {
      await createModel('pp-preset', EVERYONE, {
        system: 'Be brief.',
        temperature: 0.2,
        max_tokens: 50,
        locked: ['max_tokens'],
        custom_params: { vendor: { a: 1 } },
      })
      const user = await h.createUser('user')
      const before = provider.requests.length
      expect((await chat(user.token, 'pp-preset', { max_tokens: 999, seed: 7, stream: true })).statusCode).toBe(200)
      expect((await chat(user.token, 'pp-preset', { temperature: 0.9 })).statusCode).toBe(200)
      const [first, next] = sentBodies(provider, before).map((r) => r.body ?? {})
      expect(first).toMatchObject({ model: 'm-1', max_tokens: 50, temperature: 0.2, seed: 7, vendor: { a: 1 } })
      expect((first?.['messages'] as { role: string }[])[0]).toEqual({ role: 'system', content: 'Be brief.' })
      expect(next).toMatchObject({ model: 'm-1', max_tokens: 50, temperature: 0.9, vendor: { a: 1 } })
      // Nothing of the first request (its seed, its stream options the gateway asked for) stuck to the preset.
      expect(next).not.toHaveProperty('seed')
      expect(next).not.toHaveProperty('stream_options')
      expect((next?.['messages'] as unknown[]).length).toBe(2)
      const edited = await admin('POST', '/api/v1/models/model/update', {
        id: 'pp-preset',
        name: 'pp-preset',
        base_model_id: 'm-1',
        meta: {},
        params: { system: 'Be long.' },
        access_grants: EVERYONE,
      })
      expect(edited.statusCode, edited.body).toBe(200)
      const since = provider.requests.length
      expect((await chat(user.token, 'pp-preset', { max_tokens: 999 })).statusCode).toBe(200)
      const [after] = sentBodies(provider, since).map((r) => r.body ?? {})
      expect(after).toMatchObject({ max_tokens: 999, messages: [{ role: 'system', content: 'Be long.' }, ...MESSAGES] })
      expect(after).not.toHaveProperty('temperature')
      expect(after).not.toHaveProperty('vendor')
    })
  })

  describe('the merged provider list over HTTP', () => {
    it('a disabled connection stops serving at once; the id both serve moves to the other, and back', async () => {
      const serving = async () => {
        const [a, b] = [provider.requests.length, second.requests.length]
        expect((await chat(h.admin.token, 'dup')).statusCode).toBe(200)
        return sentBodies(provider, a).length === 1 ? 'main' : sentBodies(second, b).length === 1 ? 'second' : 'none'
      }
      expect(await serving()).toBe('main')
      expect(await serving()).toBe('main')
      expect((await admin('POST', `/api/v1/connections/id/${mainId}/update`, { enabled: false })).statusCode).toBe(200)
      expect(await serving()).toBe('second')
      expect((await chat(h.admin.token, 'raw-1')).statusCode).toBe(404)
      expect((await admin('POST', `/api/v1/connections/id/${mainId}/update`, { enabled: true })).statusCode).toBe(200)
      expect(await serving()).toBe('main')
      expect((await admin('POST', `/api/v1/connections/id/${secondId}/update`, { prefix_id: 'two' })).statusCode).toBe(200)
      expect((await chat(h.admin.token, 'm-2')).statusCode).toBe(404)
      expect((await chat(h.admin.token, 'two.m-2')).statusCode).toBe(200)
    })
  })

  describe('credentials that are not keys', () => {
    it('non-ASCII, control-free latin-1, lone-surrogate-like and very long bearer values answer 401, never 500', async () => {
      const values = ['sk-ключ', `sk-${'\u00e9\u00ff'.repeat(10)}`, `sk-${'a'.repeat(100_000)}`, 'é'.repeat(20_000), `${h.admin.token}é`]
      for (const value of values) {
        const res = await h.request({
          method: 'POST',
          url: '/v1/chat/completions',
          headers: { authorization: `Bearer ${Buffer.from(value, 'utf8').toString('latin1')}` },
          payload: { model: 'm-1', messages: MESSAGES },
        })
        expect(res.statusCode, value.slice(0, 20)).toBe(401)
      }
    })
  })

  describe('GET /metrics after the gateway round', () => {
    it('request and upstream histograms are well formed: one TYPE line, cumulative buckets, +Inf = count, finite sums', async () => {
      const user = await h.createUser('user')
      await createModel('mx-model')
      for (let i = 0; i < 3; i++) await chat(user.token, 'mx-model', { stream: i === 1 })
      await h.request({ method: 'GET', url: '/nowhere-%zz' })
      const res = await h.request({ method: 'GET', url: '/metrics', headers: bearer(METRICS_TOKEN) })
      expect(res.statusCode).toBe(200)
      for (const name of [
        'modelgate_http_request_duration_seconds',
        'modelgate_gateway_upstream_duration_seconds',
        'modelgate_gateway_upstream_first_chunk_seconds',
      ]) {
        expectWellFormed(res.body, name)
      }
      const chats = [...histogramSeries(res.body, 'modelgate_http_request_duration_seconds').entries()].filter(([labels]) =>
        labels.includes('route="/v1/chat/completions"'),
      )
      expect(chats.reduce((sum, [, s]) => sum + (s.count ?? 0), 0)).toBeGreaterThanOrEqual(3)
      expect(histogramSeries(res.body, 'modelgate_gateway_upstream_first_chunk_seconds').size).toBeGreaterThan(0)
      expect(res.body).not.toContain(user.token)
    })
  })
})

// ─── The lazy request logger over HTTP, both dialects ─────────────────────────────────────────────

describe.each(DIALECTS)('review 1207b: request logs (%s)', (dialect) => {
  let h: Harness
  let provider: FakeProvider
  let dead: Server
  const log = collect()

  beforeAll(async () => {
    h = await createHarness(dialect, { LOG_LEVEL: 'debug', MODELS_CACHE_TTL: '3600', SETTINGS_CHECK_INTERVAL_MS: '3600000' }, { logStream: log })
    provider = await startFakeProvider({ models: ['m-1'] })
    // A provider that lists a model and drops every chat request (a 5xx answer with a request id).
    dead = createServer((req, res) => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' })
        return void res.end(JSON.stringify({ object: 'list', data: [{ id: 'dead-m', object: 'model', created: 1, owned_by: 'x' }] }))
      }
      req.socket.destroy()
    })
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve))
    const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}/v1`
    for (const base_url of [provider.baseUrl, deadUrl]) {
      const res = await h.request({ method: 'POST', url: '/api/v1/connections/create', headers: h.admin.auth, payload: { base_url } })
      expect(res.statusCode, res.body).toBe(200)
    }
    expect((await h.request({ method: 'GET', url: '/api/models/base', headers: h.admin.auth })).statusCode).toBe(200)
  })
  afterAll(async () => {
    await h?.close()
    await provider?.close()
    await new Promise((resolve) => dead?.close(resolve))
  })

  it('every request line carries its own request id; a 5xx answer’s request id finds its warn line; no credential is written', async () => {
    const user = await h.createUser('user')
    const key = (await h.request({ method: 'POST', url: '/api/v1/auths/api_key', headers: user.auth })).json<{ api_key: string }>().api_key
    log.lines.length = 0
    const answers = await Promise.all([
      ...Array.from({ length: 6 }, () => h.request({ method: 'GET', url: '/api/v1/auths/', headers: { authorization: `Bearer ${key}` } })),
      h.request({ method: 'POST', url: '/v1/chat/completions', headers: h.admin.auth, payload: { model: 'dead-m', messages: MESSAGES } }),
      h.request({ method: 'POST', url: '/api/v1/auths/signin', payload: { email: user.email, password: 'wrong-password-123' } }),
    ])
    const failed = answers[6]
    expect(failed?.statusCode).toBeGreaterThanOrEqual(500)
    const requestId = (failed?.json<{ request_id?: string }>() ?? {}).request_id
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/)
    const accessLines = log.lines.filter((line) => line['msg'] === 'request')
    expect(accessLines).toHaveLength(8)
    expect(new Set(accessLines.map((line) => line['reqId'])).size).toBe(8)
    const failure = log.lines.filter((line) => line['reqId'] === requestId && Number(line['level']) >= 40)
    expect(failure.length).toBeGreaterThanOrEqual(1)
    const text = JSON.stringify(log.lines)
    for (const secret of [key, user.token, h.admin.token, 'wrong-password-123']) expect(text).not.toContain(secret)
  })
})
