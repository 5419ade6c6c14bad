/**
 * GET /metrics (issue #17 item 6) on every dialect: who may read it (METRICS_TOKEN or an admin; 401 and
 * 403 otherwise), what it shows after real traffic through the gateway and the fake provider (request
 * durations by route pattern, provider latency, first chunk and errors by connection, cache lookups, the
 * database, the process), and the attacks: no id, query string, provider URL or key in any label; W3C
 * trace context passed on to the provider, with a span id of its own when tracing is on.
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { startFakeProvider, type FakeProvider } from './support/fake-provider.js'
import { createHarness, type Harness, type TestAccount } from './support/harness.js'
import { bearer, expectError } from './support/requests.js'

const METRICS_TOKEN = 'metrics-scraper-token-0123456789'
const PROVIDER_KEY = 'sk-upstream-metrics-secret-4242'
const URL_SECRET = 'sig-metrics-url-secret-777'
const HELLO = [{ role: 'user', content: 'What is a JOIN?' }]
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`

/** The value of the sample `name{labels…}` of an exposition (labels matched as a subset), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!match || match[1] !== name) continue
    const found = new Map([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]))
    if (Object.entries(labels).every(([key, value]) => found.get(key) === value)) return Number(match[3])
  }
  return undefined
}

/** Every label value of an exposition. */
function labelValues(text: string): string[] {
  return [...text.matchAll(/\w+="((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] ?? '')
}

async function addConnection(h: Harness, provider: FakeProvider): Promise<string> {
  const created = await h.send(h.admin, {
    method: 'POST',
    url: '/api/v1/connections/create',
    payload: { name: 'Lab', base_url: `${provider.baseUrl}?sig=${URL_SECRET}`, api_key: PROVIDER_KEY },
  })
  expect(created.statusCode, created.body).toBe(200)
  await h.shareBase('base-llm')
  return created.json().id as string
}

describe.each(DIALECTS)('GET /metrics on %s', (dialect) => {
  let h: Harness
  let provider: FakeProvider
  let user: TestAccount
  let connectionId: string

  const scrape = async () => {
    const res = await h.request({ method: 'GET', url: '/metrics', headers: bearer(METRICS_TOKEN) })
    expect(res.statusCode, res.body).toBe(200)
    return res.body
  }
  const chat = (payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
    h.send(user, { method: 'POST', url: '/v1/chat/completions', payload: { model: 'base-llm', messages: HELLO, ...payload }, headers })

  beforeAll(async () => {
    provider = await startFakeProvider({ models: ['base-llm'], apiKey: PROVIDER_KEY })
    h = await createHarness(dialect, { MODELS_CACHE_TTL: '3600', METRICS_TOKEN })
    connectionId = await addConnection(h, provider)
    user = await h.createUser('user', 'Una User')
  })

  afterAll(async () => {
    await h?.close()
    await provider?.close()
  })

  it('refuses readers without credentials (401), plain and pending users (403), a wrong token (401)', async () => {
    expectError(await h.request({ method: 'GET', url: '/metrics' }), 401, 'UNAUTHORIZED')
    expectError(await h.send(user, { method: 'GET', url: '/metrics' }), 403, 'ACCESS_PROHIBITED')
    expectError(await h.send(await h.createUser('pending'), { method: 'GET', url: '/metrics' }), 403, 'ACCESS_PROHIBITED')
    for (const wrong of ['metrics-scraper-token-012345678', `${METRICS_TOKEN}x`, METRICS_TOKEN.toUpperCase(), 'garbage']) {
      expectError(await h.request({ method: 'GET', url: '/metrics', headers: bearer(wrong) }), 401, 'UNAUTHORIZED')
    }
    // The token in another scheme, or as a cookie, is not the token.
    expectError(await h.request({ method: 'GET', url: '/metrics', headers: { authorization: `Basic ${METRICS_TOKEN}` } }), 401, 'UNAUTHORIZED')
    expectError(await h.request({ method: 'GET', url: '/metrics', headers: { cookie: `token=${METRICS_TOKEN}` } }), 401, 'UNAUTHORIZED')
  })

  it('answers an admin and the METRICS_TOKEN scraper in the Prometheus text format', async () => {
    for (const headers of [h.admin.auth, bearer(METRICS_TOKEN)]) {
      const res = await h.request({ method: 'GET', url: '/metrics', headers })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
      expect(res.body).toContain('# TYPE modelgate_http_request_duration_seconds histogram')
    }
    // An admin's API key too.
    const key = (await h.send(h.admin, { method: 'POST', url: '/api/v1/auths/api_key' })).json().api_key as string
    expect((await h.request({ method: 'GET', url: '/metrics', headers: bearer(key) })).statusCode).toBe(200)
  })

  it('a chat request shows in the request histogram (route pattern) and in the upstream metrics of its connection', async () => {
    const before = await scrape()
    const labels = { method: 'POST', route: '/v1/chat/completions', status: '200' }
    const upstream = { connection: connectionId }
    const res = await chat({ stream: true })
    expect(res.statusCode, res.body).toBe(200)
    const json = await chat({})
    expect(json.statusCode, json.body).toBe(200)
    const after = await scrape()
    const count = (text: string, name: string, l: Record<string, string>) => sample(text, name, l) ?? 0
    expect(count(after, 'modelgate_http_request_duration_seconds_count', labels) - count(before, 'modelgate_http_request_duration_seconds_count', labels)).toBe(
      2,
    )
    expect(count(after, 'modelgate_gateway_upstream_duration_seconds_count', upstream)).toBe(
      count(before, 'modelgate_gateway_upstream_duration_seconds_count', upstream) + 2,
    )
    // Only the streamed call has a first chunk.
    expect(count(after, 'modelgate_gateway_upstream_first_chunk_seconds_count', upstream)).toBe(
      count(before, 'modelgate_gateway_upstream_first_chunk_seconds_count', upstream) + 1,
    )
    expect(sample(after, 'modelgate_gateway_connection_info', { connection: connectionId, name: 'Lab' })).toBe(1)
    expect(sample(after, 'modelgate_gateway_upstream_duration_seconds_sum', upstream)).toBeGreaterThan(0)
  })

  it('provider errors are counted by connection and kind: an HTTP 500, an error event mid-stream', async () => {
    const errors = (text: string, kind: string) => sample(text, 'modelgate_gateway_provider_errors_total', { connection: connectionId, kind }) ?? 0
    const before = await scrape()
    provider.setBehavior('error500')
    try {
      expect((await chat({})).statusCode).toBe(502)
      provider.setBehavior('errorEvent')
      const streamed = await chat({ stream: true })
      expect(streamed.statusCode).toBe(200)
      expect(streamed.body).toContain('"provider_error"')
    } finally {
      provider.setBehavior('ok')
    }
    const after = await scrape()
    expect(errors(after, 'http_5xx') - errors(before, 'http_5xx')).toBe(1)
    expect(errors(after, 'stream_error') - errors(before, 'stream_error')).toBe(1)
    expect(sample(after, 'modelgate_http_request_duration_seconds_count', { route: '/v1/chat/completions', status: '502' })).toBeGreaterThanOrEqual(1)
  })

  it('attack: no label carries an id or a query string, whatever the URL; unmatched paths share one series', async () => {
    await h.send(h.admin, { method: 'GET', url: '/api/v1/models/model?id=secret-id' })
    await h.send(user, { method: 'GET', url: '/v1/models/secret-id-in-path' })
    await h.request({ method: 'GET', url: '/api/v1/no-such/secret-id-route?secret-id=1' })
    await h.request({ method: 'POST', url: '/v1/no-such/secret-id-route' })
    // A page path of the web app (its index.html when built, else 404): no route pattern either.
    await h.request({ method: 'GET', url: '/workspace/secret-id-page' })
    await h.request({ method: 'GET', url: '/api/v1/models/model?id=secret-id&other=%00' })
    const text = await scrape()
    expect(text).not.toContain('secret-id')
    expect(sample(text, 'modelgate_http_request_duration_seconds_count', { method: 'GET', route: '/api/v1/models/model' })).toBeGreaterThanOrEqual(1)
    expect(sample(text, 'modelgate_http_request_duration_seconds_count', { method: 'GET', route: '/v1/models/*' })).toBeGreaterThanOrEqual(1)
    expect(sample(text, 'modelgate_http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status: '404' })).toBeGreaterThanOrEqual(1)
    for (const value of labelValues(text)) expect(value, value).not.toMatch(/[?=]/)
  })

  it('attack: no provider URL, key or credential in the output, nor the metrics token', async () => {
    await chat({ stream: true })
    const text = await scrape()
    for (const secret of [PROVIDER_KEY, URL_SECRET, provider.url, new URL(provider.url).host, METRICS_TOKEN, h.admin.token]) {
      expect(text).not.toContain(secret)
    }
  })

  it('cache lookups, the database pool and statements, and the process (event-loop lag) are exported', async () => {
    await h.send(user, { method: 'GET', url: '/v1/models' })
    await h.send(user, { method: 'GET', url: '/v1/models' })
    const text = await scrape()
    const hits = [...text.matchAll(/^modelgate_cache_requests_total\{cache="(\w+)",result="hit"\} (\d+)/gm)].map((m) => Number(m[2]))
    expect(
      hits.some((n) => n > 0),
      'a cache hit after the same list twice',
    ).toBe(true)
    expect(text).toMatch(/^modelgate_cache_requests_total\{cache="\w+",result="miss"\} [1-9]/m)
    // The provider catalog's lists, cached for MODELS_CACHE_TTL (an hour here): read again, they are hits.
    expect(sample(text, 'modelgate_cache_requests_total', { cache: 'provider_catalog', result: 'hit' })).toBeGreaterThan(0)
    expect(sample(text, 'modelgate_db_pool_connections', { state: 'total', dialect })).toBeGreaterThanOrEqual(1)
    expect(sample(text, 'modelgate_db_statements_total')).toBeGreaterThanOrEqual(0)
    expect(sample(text, 'modelgate_nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0)
    expect(sample(text, 'modelgate_process_resident_memory_bytes')).toBeGreaterThan(0)
  })

  it('every metric the Grafana dashboard and docs/metrics.md name is exported', async () => {
    const text = await scrape()
    const exported = new Set([...text.matchAll(/^# TYPE (\w+) /gm)].map((m) => m[1]))
    for (const file of ['docs/grafana-dashboard.json', 'docs/metrics.md']) {
      const named = new Set([...readFileSync(file, 'utf8').matchAll(/modelgate_[a-z0-9_]*[a-z0-9]/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')))
      const missing = [...named].filter((name) => !exported.has(name) && !['modelgate_process', 'modelgate_nodejs'].includes(name))
      expect(missing, file).toEqual([])
    }
    expect(JSON.parse(readFileSync('docs/grafana-dashboard.json', 'utf8'))).toMatchObject({ title: 'modelgate', panels: expect.any(Array) })
  })

  it('passes the caller’s traceparent and tracestate on to the provider as they came (tracing off); drops an invalid one', async () => {
    const received = () => provider.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)?.headers
    expect((await chat({}, { traceparent: PARENT, tracestate: 'vendor=abc' })).statusCode).toBe(200)
    expect(received()?.['traceparent']).toBe(PARENT)
    expect(received()?.['tracestate']).toBe('vendor=abc')
    for (const invalid of ['garbage', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, `ff-${TRACE_ID}-00f067aa0ba902b7-01`, `${PARENT}-extra`]) {
      expect((await chat({}, { traceparent: invalid, tracestate: 'vendor=abc' })).statusCode).toBe(200)
      expect(received()?.['traceparent'], invalid).toBeUndefined()
      expect(received()?.['tracestate'], invalid).toBeUndefined()
    }
    expect((await chat({})).statusCode).toBe(200)
    expect(received()?.['traceparent']).toBeUndefined()
  })

  describe('without METRICS_TOKEN, with tracing on (OTEL_TRACING)', () => {
    let other: Harness
    let otherUser: TestAccount

    beforeAll(async () => {
      other = await createHarness(dialect, { MODELS_CACHE_TTL: '3600', OTEL_TRACING: 'true' })
      await addConnection(other, provider)
      otherUser = await other.createUser('user')
    })

    afterAll(async () => {
      await other?.close()
    })

    it('a bearer token is no metrics token when none is configured: admins only', async () => {
      expectError(await other.request({ method: 'GET', url: '/metrics', headers: bearer(METRICS_TOKEN) }), 401, 'UNAUTHORIZED')
      expectError(await other.send(otherUser, { method: 'GET', url: '/metrics' }), 403, 'ACCESS_PROHIBITED')
      expect((await other.send(other.admin, { method: 'GET', url: '/metrics' })).statusCode).toBe(200)
    })

    it('the provider call gets a span id of its own in the caller’s trace, or a new trace', async () => {
      const received = () => provider.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)?.headers
      const call = (headers: Record<string, string>) =>
        other.send(otherUser, { method: 'POST', url: '/v1/chat/completions', payload: { model: 'base-llm', messages: HELLO }, headers })
      expect((await call({ traceparent: PARENT, tracestate: 'vendor=abc' })).statusCode).toBe(200)
      const child = String(received()?.['traceparent'])
      expect(child).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`))
      expect(child).not.toBe(PARENT)
      expect(received()?.['tracestate']).toBe('vendor=abc')
      // Not sampled upstream: the decision is kept.
      expect((await call({ traceparent: PARENT.replace(/-01$/, '-00') })).statusCode).toBe(200)
      expect(String(received()?.['traceparent'])).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-00$`))
      expect((await call({})).statusCode).toBe(200)
      const fresh = String(received()?.['traceparent'])
      expect(fresh).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
      expect(fresh).not.toContain(TRACE_ID)
    })
  })
})
