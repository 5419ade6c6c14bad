/**
 * The model catalog against real HTTP fake providers on 127.0.0.1 (issue #4, item 2): concurrent
 * discovery bounded by the per-connection timeout, stale-while-refresh, the last good list kept when a
 * provider goes down, single flight, the TTL, forced refreshes, invalidation, and invalidation shared
 * between instances through Redis.
 *
 * Timing assertions are upper bounds only, and generous: a listing that must "not wait" for a provider
 * whose timeout is seconds long is only required to answer before that timeout.
 */
import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { fakeConnection, startFakeProvider, type FakeProvider, type FakeProviderOptions } from '../../test/support/fake-provider.js'
import { loadConfig } from '../config/env.js'
import type { Connection } from './connection.js'
import { LocalBus, RedisBus, type InvalidationBus } from './invalidation-bus.js'
import { ModelCatalog } from './model-catalog.js'

const REDIS_URL = process.env['REDIS_URL_TEST'] ?? 'redis://127.0.0.1:6379'

const providers: FakeProvider[] = []
const buses: InvalidationBus[] = []

afterEach(async () => {
  await Promise.all(buses.splice(0).map((bus) => bus.close()))
  await Promise.all(providers.splice(0).map((p) => p.close()))
})

async function provider(options: FakeProviderOptions): Promise<FakeProvider> {
  const started = await startFakeProvider(options)
  providers.push(started)
  return started
}

function catalogOf(connections: Connection[], options: { ttlMs: number; timeoutMs: number }, bus: InvalidationBus = new LocalBus()) {
  // A copy per load, as a database would give: later changes to `connections` need a reload to show.
  const load = vi.fn(() => Promise.resolve([...connections]))
  return { catalog: new ModelCatalog(load, options, bus), load }
}

const listRequests = (p: FakeProvider) => p.requests.filter((r) => r.method === 'GET' && (r.path === '/v1/models' || r.path === '/api/tags')).length
const ids = (models: readonly { id: string }[]) => models.map((m) => m.id).sort()
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now()
  const value = await work()
  return { value, ms: performance.now() - started }
}

describe('ModelCatalog', () => {
  it('lists every connection, fetched concurrently, with prefixes, and for Ollama through /api/tags', async () => {
    const a = await provider({ models: ['a-1', 'a-2'] })
    const b = await provider({ kind: 'ollama', models: ['llama3:8b'] })
    const c = await provider({ models: ['c-1'] })
    const connections = [fakeConnection(a), fakeConnection(b, { kind: 'ollama', base_url: b.url }), fakeConnection(c, { prefix_id: 'cx' })]
    const { catalog } = catalogOf(connections, { ttlMs: 60_000, timeoutMs: 5_000 })

    const models = await catalog.models()
    expect(ids(models)).toEqual(['a-1', 'a-2', 'cx.c-1', 'llama3:8b'])
    expect(models.find((m) => m.id === 'cx.c-1')).toMatchObject({ upstream_id: 'c-1', connection_id: connections[2]?.id })
    expect(models.find((m) => m.id === 'llama3:8b')).toMatchObject({ owned_by: 'ollama', connection_id: connections[1]?.id })
    expect(b.requests.map((r) => r.path)).toEqual(['/api/tags'])
    expect(catalog.status(connections[0]?.id ?? '')).toMatchObject({ ok: true, stale: false, model_count: 2, error: null })
  })

  it('lets the earlier connection win when two serve the same id, and skips disabled connections', async () => {
    const first = await provider({ models: ['shared', 'only-first'] })
    const second = await provider({ models: ['shared', 'only-second'] })
    const off = await provider({ models: ['disabled-model'] })
    const connections = [fakeConnection(first), fakeConnection(second), fakeConnection(off, { enabled: false })]
    const { catalog } = catalogOf(connections, { ttlMs: 60_000, timeoutMs: 5_000 })

    const models = await catalog.models()
    expect(ids(models)).toEqual(['only-first', 'only-second', 'shared'])
    expect((await catalog.find('shared'))?.connection_id).toBe(connections[0]?.id)
    expect(listRequests(off)).toBe(0)
    expect(await catalog.connection(connections[2]?.id ?? '')).toBeUndefined()
  })

  it('waits at most about the timeout for a hanging provider on the first listing, then never again', async () => {
    const timeoutMs = 2_000
    const good = await provider({ models: ['good-1'] })
    const hanging = await provider({ models: ['never-seen'], behavior: 'hang' })
    const hangingConnection = fakeConnection(hanging, { name: 'Hanger' })
    // TTL 0: every listing finds the lists out of date and starts a refresh.
    const { catalog } = catalogOf([fakeConnection(good), hangingConnection], { ttlMs: 0, timeoutMs })

    const first = await timed(() => catalog.models())
    expect(ids(first.value)).toEqual(['good-1'])
    // It did wait for the provider's timeout (timers never fire early), and not much longer.
    expect(first.ms).toBeGreaterThanOrEqual(timeoutMs - 50)
    expect(first.ms).toBeLessThan(timeoutMs + 5_000)
    const status = catalog.status(hangingConnection.id)
    expect(status).toMatchObject({ ok: false, stale: true, model_count: 0, fetched_at: null })
    expect(status.error).toContain('"Hanger"')
    expect(status.error).toContain(`did not answer within ${timeoutMs} ms`)

    // A second listing starts a refresh of the hanging provider but does not wait for it.
    const requestsBefore = listRequests(hanging)
    const second = await timed(() => catalog.models())
    expect(ids(second.value)).toEqual(['good-1'])
    expect(second.ms).toBeLessThan(timeoutMs)
    await vi.waitFor(() => expect(listRequests(hanging)).toBe(requestsBefore + 1))
  })

  it('keeps serving a list while a slow refresh runs, without waiting for it', async () => {
    const timeoutMs = 3_000
    const p = await provider({ models: ['m-1'] })
    const connection = fakeConnection(p)
    const { catalog } = catalogOf([connection], { ttlMs: 0, timeoutMs })
    expect(ids(await catalog.models())).toEqual(['m-1'])

    p.setBehavior('hang')
    const listing = await timed(() => catalog.models())
    expect(ids(listing.value)).toEqual(['m-1'])
    expect(listing.ms).toBeLessThan(timeoutMs)
    await vi.waitFor(() => expect(listRequests(p)).toBe(2))
    // Many listings while the refresh hangs: still answered at once, and no second refresh upstream.
    const more = await timed(async () => {
      for (let i = 0; i < 5; i++) expect(ids(await catalog.models())).toEqual(['m-1'])
    })
    expect(more.ms).toBeLessThan(timeoutMs)
    await sleep(100)
    expect(listRequests(p)).toBe(2)
  })

  it('keeps the last good list, marked stale with an error naming the provider, when the provider goes down', async () => {
    const p = await provider({ models: ['kept-1', 'kept-2'] })
    const connection = fakeConnection(p, { name: 'Flaky provider' })
    const { catalog } = catalogOf([connection], { ttlMs: 60_000, timeoutMs: 2_000 })
    expect(ids(await catalog.models())).toEqual(['kept-1', 'kept-2'])
    const goodStatus = catalog.status(connection.id)
    expect(goodStatus).toMatchObject({ ok: true, stale: false, model_count: 2, error: null })
    expect(goodStatus.fetched_at).toEqual(expect.any(Number))

    await p.close()
    await catalog.refreshAll()
    expect(ids(await catalog.models())).toEqual(['kept-1', 'kept-2'])
    const status = catalog.status(connection.id)
    expect(status).toMatchObject({ ok: false, stale: true, model_count: 2, fetched_at: goodStatus.fetched_at })
    expect(status.error).toContain('"Flaky provider"')
    expect(status.error).toContain(p.baseUrl)
    expect(status.error).toMatch(/unreachable/)
  })

  it('keeps the last good list when the provider starts answering 500, non-JSON or the wrong shape', async () => {
    const p = await provider({ models: ['x-1'] })
    const connection = fakeConnection(p, { name: 'Shifty' })
    const { catalog } = catalogOf([connection], { ttlMs: 60_000, timeoutMs: 2_000 })
    expect(ids(await catalog.models())).toEqual(['x-1'])

    for (const [behavior, message] of [
      ['error500', /answered HTTP 500/],
      ['notJson', /not JSON/],
      ['wrongShape', /wrong shape/],
    ] as const) {
      p.setBehavior(behavior)
      await catalog.refreshAll()
      expect(ids(await catalog.models())).toEqual(['x-1'])
      const status = catalog.status(connection.id)
      expect(status).toMatchObject({ ok: false, stale: true })
      expect(status.error).toMatch(message)
      expect(status.error).toContain('"Shifty"')
    }

    // Once the provider recovers, the next refresh clears the error.
    p.setBehavior('ok')
    p.setModels(['x-1', 'x-2'])
    await catalog.refreshAll()
    expect(ids(await catalog.models())).toEqual(['x-1', 'x-2'])
    expect(catalog.status(connection.id)).toMatchObject({ ok: true, stale: false, error: null })
  })

  it('reports an unknown connection as not yet fetched', () => {
    const { catalog } = catalogOf([], { ttlMs: 60_000, timeoutMs: 1_000 })
    expect(catalog.status('nope')).toEqual({ ok: null, stale: true, model_count: 0, error: null, fetched_at: null })
  })

  it('makes one upstream request for many concurrent listings (single flight)', async () => {
    const p = await provider({ models: ['sf-1'] })
    const { catalog, load } = catalogOf([fakeConnection(p)], { ttlMs: 60_000, timeoutMs: 5_000 })
    const results = await Promise.all(Array.from({ length: 20 }, () => catalog.models()))
    for (const models of results) expect(ids(models)).toEqual(['sf-1'])
    expect(listRequests(p)).toBe(1)
    expect(load).toHaveBeenCalledTimes(1)
  })

  it('makes one upstream request for concurrent forced refreshes', async () => {
    const p = await provider({ models: ['sf-2'] })
    const { catalog } = catalogOf([fakeConnection(p)], { ttlMs: 60_000, timeoutMs: 5_000 })
    await Promise.all([catalog.refreshAll(), catalog.refreshAll(), catalog.models(), catalog.refreshAll()])
    expect(listRequests(p)).toBe(1)
  })

  it('serves a list from the cache within MODELS_CACHE_TTL', async () => {
    const config = loadConfig({ MODELS_CACHE_TTL: '3600' })
    const p = await provider({ models: ['ttl-1'] })
    const { catalog } = catalogOf([fakeConnection(p)], { ttlMs: config.modelsCacheTtlSeconds * 1000, timeoutMs: 5_000 })
    expect(ids(await catalog.models())).toEqual(['ttl-1'])
    p.setModels(['ttl-1', 'ttl-2'])
    for (let i = 0; i < 5; i++) expect(ids(await catalog.models())).toEqual(['ttl-1'])
    expect(listRequests(p)).toBe(1)
  })

  it('refreshes in the background once MODELS_CACHE_TTL has passed, serving the old list meanwhile', async () => {
    const config = loadConfig({ MODELS_CACHE_TTL: '1' })
    const ttlMs = config.modelsCacheTtlSeconds * 1000
    expect(ttlMs).toBe(1000)
    const p = await provider({ models: ['old'] })
    const connection = fakeConnection(p)
    const { catalog } = catalogOf([connection], { ttlMs, timeoutMs: 5_000 })
    expect(ids(await catalog.models())).toEqual(['old'])
    p.setModels(['new'])

    await sleep(ttlMs + 100)
    expect(catalog.status(connection.id).stale).toBe(true)
    // The listing after the TTL answers what it has and starts one refresh...
    expect(ids(await catalog.models())).toEqual(['old'])
    // ...whose result the following listings see.
    await vi.waitFor(async () => expect(ids(await catalog.models())).toEqual(['new']))
    expect(listRequests(p)).toBe(2)
  })

  it('fetches on every listing with MODELS_CACHE_TTL=0', async () => {
    const config = loadConfig({ MODELS_CACHE_TTL: '0' })
    const p = await provider({ models: ['z-1'] })
    const { catalog } = catalogOf([fakeConnection(p)], { ttlMs: config.modelsCacheTtlSeconds * 1000, timeoutMs: 5_000 })
    await catalog.models()
    await vi.waitFor(async () => {
      await catalog.models()
      expect(listRequests(p)).toBeGreaterThanOrEqual(3)
    })
  })

  it('refreshAll fetches every enabled connection now and waits for them', async () => {
    const a = await provider({ models: ['ra-1'] })
    const b = await provider({ models: ['rb-1'] })
    const { catalog } = catalogOf([fakeConnection(a), fakeConnection(b)], { ttlMs: 60_000, timeoutMs: 5_000 })
    expect(ids(await catalog.models())).toEqual(['ra-1', 'rb-1'])
    a.setModels(['ra-2'])
    b.setModels(['rb-2'])
    await catalog.refreshAll()
    expect(ids(await catalog.models())).toEqual(['ra-2', 'rb-2'])
    expect(listRequests(a)).toBe(2)
    expect(listRequests(b)).toBe(2)
  })

  it('refreshAll bounds a hanging provider by the timeout and keeps the others', async () => {
    const timeoutMs = 500
    const good = await provider({ models: ['g-1'] })
    const bad = await provider({ models: ['b-1'] })
    const badConnection = fakeConnection(bad)
    const { catalog } = catalogOf([fakeConnection(good), badConnection], { ttlMs: 60_000, timeoutMs })
    await catalog.models()
    bad.setBehavior('hang')
    good.setModels(['g-1', 'g-2'])
    const refresh = await timed(() => catalog.refreshAll())
    expect(refresh.ms).toBeLessThan(timeoutMs + 5_000)
    expect(ids(await catalog.models())).toEqual(['b-1', 'g-1', 'g-2'])
    expect(catalog.status(badConnection.id)).toMatchObject({ ok: false, stale: true, model_count: 1 })
  })

  it('servedIds maps each id to the connection that wins it, and is the same map until a list changes', async () => {
    const first = await provider({ models: ['shared', 'only-first'] })
    const second = await provider({ models: ['shared', 'only-second'] })
    const connections = [fakeConnection(first), fakeConnection(second)]
    const { catalog } = catalogOf(connections, { ttlMs: 60_000, timeoutMs: 5_000 })

    const served = await catalog.servedIds()
    expect([...served.entries()].sort()).toEqual(
      [
        ['only-first', connections[0]?.id],
        ['only-second', connections[1]?.id],
        ['shared', connections[0]?.id],
      ].sort(),
    )
    // Unchanged lists: the same map (list pages hash it once for their cache version).
    expect(await catalog.servedIds()).toBe(served)

    second.setModels(['shared', 'new-second'])
    catalog.invalidate(connections[1]?.id ?? '')
    const next = await catalog.servedIds()
    expect(next).not.toBe(served)
    expect([...next.keys()].sort()).toEqual(['new-second', 'only-first', 'shared'])
    expect(next.get('shared')).toBe(connections[0]?.id)
  })

  it("invalidate(id) drops a connection's list: the next listing fetches anew and waits for it", async () => {
    const p = await provider({ models: ['inv-1'] })
    const connection = fakeConnection(p)
    const { catalog } = catalogOf([connection], { ttlMs: 60_000, timeoutMs: 5_000 })
    expect(ids(await catalog.models())).toEqual(['inv-1'])
    p.setModels(['inv-2'])
    catalog.invalidate(connection.id)
    expect(catalog.status(connection.id).ok).toBeNull()
    expect(ids(await catalog.models())).toEqual(['inv-2'])
    expect(listRequests(p)).toBe(2)
  })

  it('invalidate() reloads the connection list', async () => {
    const a = await provider({ models: ['ca-1'] })
    const b = await provider({ models: ['cb-1'] })
    const connections = [fakeConnection(a)]
    const { catalog, load } = catalogOf(connections, { ttlMs: 60_000, timeoutMs: 5_000 })
    expect(ids(await catalog.models())).toEqual(['ca-1'])
    await catalog.models()
    expect(load).toHaveBeenCalledTimes(1)

    connections.push(fakeConnection(b))
    expect(ids(await catalog.models())).toEqual(['ca-1']) // the connection list is cached
    catalog.invalidate()
    expect(ids(await catalog.models())).toEqual(['ca-1', 'cb-1'])
    expect(load).toHaveBeenCalledTimes(2)
    expect(listRequests(a)).toBe(1) // its list was not dropped
  })

  it('refreshEverywhere (admin refresh) refetches now and keeps the last good list of a provider that is down', async () => {
    const up = await provider({ models: ['up-1'] })
    const down = await provider({ models: ['down-1'] })
    const downConnection = fakeConnection(down, { name: 'Gone' })
    const { catalog, load } = catalogOf([fakeConnection(up), downConnection], { ttlMs: 60_000, timeoutMs: 2_000 })
    expect(ids(await catalog.models())).toEqual(['down-1', 'up-1'])
    up.setModels(['up-1', 'up-2'])
    await down.close()

    await catalog.refreshEverywhere()
    expect(load).toHaveBeenCalledTimes(2) // connections reloaded too
    expect(ids(await catalog.models())).toEqual(['down-1', 'up-1', 'up-2'])
    const status = catalog.status(downConnection.id)
    expect(status).toMatchObject({ ok: false, stale: true, model_count: 1 })
    expect(status.error).toContain('"Gone"')
  })

  it('tries loading the connections again after a failed load', async () => {
    const p = await provider({ models: ['retry-1'] })
    let calls = 0
    const load = () => (++calls === 1 ? Promise.reject(new Error('database down')) : Promise.resolve([fakeConnection(p)]))
    const catalog = new ModelCatalog(load, { ttlMs: 60_000, timeoutMs: 5_000 }, new LocalBus())
    await expect(catalog.models()).rejects.toThrow('database down')
    expect(ids(await catalog.models())).toEqual(['retry-1'])
  })
})

describe('ModelCatalog with the connections version (several instances, no Redis; issue #10, hole 11)', () => {
  it('checks the version at most once per versionCheckMs and, when it moved, reloads and drops changed lists', async () => {
    const a = await provider({ models: ['va-1'] })
    const b = await provider({ models: ['vb-1'] })
    const connections = [fakeConnection(a)]
    let version = 0
    const loadVersion = vi.fn(() => Promise.resolve(version))
    const load = vi.fn(() => Promise.resolve(connections.map((c) => ({ ...c }))))
    // Another instance's bus: this one hears nothing.
    // An interval long enough that a loaded machine never crosses it between the first listing and the
    // checks below (200 ms did, once, in a full run beside other suites).
    const catalog = new ModelCatalog(load, { ttlMs: 3_600_000, timeoutMs: 5_000, versionCheckMs: 2_000 }, new LocalBus(), loadVersion)
    expect(ids(await catalog.models())).toEqual(['va-1'])
    await Promise.all(Array.from({ length: 20 }, () => catalog.models()))
    expect(loadVersion).toHaveBeenCalledTimes(1) // once per interval, however many listings

    // "Another instance" points the connection at another provider and bumps the version.
    connections[0] = { ...connections[0], base_url: b.baseUrl } as Connection
    version += 1
    expect(ids(await catalog.models())).toEqual(['va-1']) // not checked again yet
    await vi.waitFor(async () => expect(ids(await catalog.models())).toEqual(['vb-1']), { timeout: 10_000, interval: 50 })
    expect(load).toHaveBeenCalledTimes(2)
  })

  it('keeps serving when the version cannot be read, and tries again at the next interval', async () => {
    const a = await provider({ models: ['vf-1'] })
    let fail = true
    const loadVersion = vi.fn(() => (fail ? Promise.reject(new Error('database down')) : Promise.resolve(1)))
    const catalog = new ModelCatalog(
      () => Promise.resolve([fakeConnection(a)]),
      { ttlMs: 3_600_000, timeoutMs: 5_000, versionCheckMs: 0 },
      new LocalBus(),
      loadVersion,
    )
    expect(ids(await catalog.models())).toEqual(['vf-1'])
    fail = false
    expect(ids(await catalog.models())).toEqual(['vf-1'])
    expect(loadVersion.mock.calls.length).toBeGreaterThanOrEqual(2)
  })
})

describe('ModelCatalog with RedisBus (several instances)', () => {
  /**
   * Both buses must be connected to Redis. Redis is part of the test environment (CI sets
   * REDIS_URL_TEST): when it is unreachable this test fails with a clear message, it never skips.
   */
  async function connectedBus(): Promise<RedisBus> {
    const errors: Error[] = []
    const bus = new RedisBus(REDIS_URL, (error) => errors.push(error))
    buses.push(bus)
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`Redis at ${REDIS_URL} is unreachable (set REDIS_URL_TEST): ${[...new Set(errors.map((e) => e.message))].join('; ') || 'no answer'}`),
          ),
        10_000,
      )
    })
    try {
      await Promise.race([bus.ready(), timeout])
    } finally {
      clearTimeout(timer)
    }
    return bus
  }

  it("drops the other instance's entry when one instance invalidates a connection", async () => {
    const p = await provider({ models: ['shared-1'] })
    const connection = fakeConnection(p)
    const load = () => Promise.resolve([connection])
    const options = { ttlMs: 3_600_000, timeoutMs: 5_000 }
    const one = new ModelCatalog(load, options, await connectedBus())
    const two = new ModelCatalog(load, options, await connectedBus())

    expect(ids(await one.models())).toEqual(['shared-1'])
    expect(ids(await two.models())).toEqual(['shared-1'])
    expect(listRequests(p)).toBe(2)
    expect(two.status(connection.id).ok).toBe(true)

    p.setModels(['shared-2'])
    // Without invalidation, the long TTL keeps the old list on both instances.
    expect(ids(await two.models())).toEqual(['shared-1'])
    expect(listRequests(p)).toBe(2)

    one.invalidate(connection.id)
    // Locally at once; on the other instance when the Redis message arrives.
    expect(ids(await one.models())).toEqual(['shared-2'])
    await vi.waitFor(() => expect(two.status(connection.id).ok).toBeNull(), { timeout: 5_000, interval: 20 })
    expect(ids(await two.models())).toEqual(['shared-2'])
    expect(listRequests(p)).toBe(4)
  })

  it("refreshes the other instance's lists on an admin refresh, keeping them while it runs", async () => {
    const p = await provider({ models: ['r-1'] })
    const connection = fakeConnection(p)
    const load = () => Promise.resolve([connection])
    const options = { ttlMs: 3_600_000, timeoutMs: 5_000 }
    const one = new ModelCatalog(load, options, await connectedBus())
    const two = new ModelCatalog(load, options, await connectedBus())
    await one.models()
    await two.models()
    expect(listRequests(p)).toBe(2)

    p.setModels(['r-1', 'r-2'])
    await one.refreshEverywhere()
    expect(ids(await one.models())).toEqual(['r-1', 'r-2'])
    expect(listRequests(p)).toBe(3)
    // Two fetches at its next listing, in the background; its listings never come back empty meanwhile.
    const seen = new Set<string>()
    await vi.waitFor(
      async () => {
        seen.add(ids(await two.models()).join(','))
        expect(seen).toContain('r-1,r-2')
      },
      { timeout: 5_000, interval: 20 },
    )
    expect([...seen].every((list) => list === 'r-1' || list === 'r-1,r-2')).toBe(true)
    expect(listRequests(p)).toBe(4)
    expect(two.status(connection.id)).toMatchObject({ ok: true, stale: false })
  })

  it("does not deliver an instance's own message twice, and reloads connection lists on every instance", async () => {
    const a = await provider({ models: ['ra-1'] })
    const b = await provider({ models: ['rb-1'] })
    const connections = [fakeConnection(a)]
    const loadOne = vi.fn(() => Promise.resolve([...connections]))
    const loadTwo = vi.fn(() => Promise.resolve([...connections]))
    const busOne = await connectedBus()
    const heardByOne: string[] = []
    busOne.subscribe((topic) => heardByOne.push(topic))
    const one = new ModelCatalog(loadOne, { ttlMs: 3_600_000, timeoutMs: 5_000 }, busOne)
    const two = new ModelCatalog(loadTwo, { ttlMs: 3_600_000, timeoutMs: 5_000 }, await connectedBus())
    await one.models()
    await two.models()

    connections.push(fakeConnection(b))
    one.invalidate()
    await vi.waitFor(async () => expect(ids(await two.models())).toEqual(['ra-1', 'rb-1']), { timeout: 5_000, interval: 20 })
    expect(ids(await one.models())).toEqual(['ra-1', 'rb-1'])

    // An id no other process publishes: a looped-back copy of one's own message must be ignored.
    const topic = `connection:never-${randomUUID()}`
    two.invalidate(`never-${randomUUID()}`) // a message from two, for one to hear
    busOne.publish(topic)
    await vi.waitFor(() => expect(heardByOne.filter((t) => t.startsWith('connection:never-'))).toHaveLength(2), { timeout: 5_000, interval: 20 })
    await sleep(200) // room for a looped-back copy to arrive
    expect(heardByOne.filter((t) => t === topic)).toHaveLength(1)
  })
})
