/**
 * Issue #17 item 7: usage analytics. Real calls through the gateway to the fake provider are recorded
 * off the request's path and read back through `/api/v1/analytics/*`; streams keep exactly their bytes
 * whether or not the gateway asked the provider for usage; a user reads only their own usage, and asking
 * for anyone else's (by user or by group) is refused; recording off, retention and the queue bound.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UsageRecorder } from '../src/analytics/usage-recorder.js'
import { UsageRepo } from '../src/analytics/usage.repo.js'
import type { UpstreamCall } from '../src/gateway/gateway-observer.js'
import type { AnalyticsDaily, AnalyticsGroups, AnalyticsModels, AnalyticsSummary, AnalyticsTokens, AnalyticsUsers } from '../src/analytics/analytics.schema.js'
import { DIALECTS } from './support/databases.js'
import { startFakeProvider, type FakeProvider } from './support/fake-provider.js'
import { usageRow } from './support/usage.js'
import { createHarness, type Harness, type TestAccount } from './support/harness.js'

const EVERYONE = [{ principal_type: 'user', principal_id: '*', permission: 'read' }]
const MESSAGES = [{ role: 'user', content: 'Hello' }]
const DAY = 86_400

interface Answers {
  summary: AnalyticsSummary
  models: AnalyticsModels
  users: AnalyticsUsers
  groups: AnalyticsGroups
  daily: AnalyticsDaily
  tokens: AnalyticsTokens
}

describe.each(DIALECTS)('usage analytics on %s', (dialect) => {
  let h: Harness
  let off: Harness
  let provider: FakeProvider
  let alice: TestAccount
  let bob: TestAccount
  let groupId: string

  const flush = () => recorder(h).flush()
  const chat = (harness: Harness, who: TestAccount, body: Record<string, unknown>) =>
    harness.send(who, { method: 'POST', url: '/v1/chat/completions', payload: { model: 'helper', messages: MESSAGES, ...body } })
  /** An analytics answer: `path` is the route's last segment, then its query string. */
  const get = async <P extends keyof Answers>(who: TestAccount, route: P, query = ''): Promise<Answers[P]> => {
    const res = await h.send(who, { method: 'GET', url: `/api/v1/analytics/${route}${query && `?${query}`}` })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<Answers[P]>()
  }
  const refused = async (who: TestAccount, route: keyof Answers, query: string, status: number): Promise<{ detail: string; code: string }> => {
    const res = await h.send(who, { method: 'GET', url: `/api/v1/analytics/${route}?${query}` })
    expect(res.statusCode, res.body).toBe(status)
    return res.json<{ detail: string; code: string }>()
  }
  const recorder = (harness: Harness) => {
    const found = harness.services.analytics.recorder
    if (!found) throw new Error('recording is off')
    return found
  }
  const rows = (harness: Harness) => harness.database.db.selectFrom('usage_events').selectAll().orderBy('created_at').execute()

  async function setUp(harness: Harness): Promise<void> {
    const connection = await harness.send(harness.admin, {
      method: 'POST',
      url: '/api/v1/connections/create',
      payload: { name: 'Fake', kind: 'openai', base_url: provider.baseUrl },
    })
    expect(connection.statusCode, connection.body).toBe(200)
    for (const preset of [
      { id: 'helper', base_model_id: 'base-a', name: 'Helper', params: {} },
      { id: 'embedder', base_model_id: 'embed-a', name: 'Embedder', params: {} },
    ]) {
      const res = await harness.send(harness.admin, { method: 'POST', url: '/api/v1/models/create', payload: { meta: {}, access_grants: EVERYONE, ...preset } })
      expect(res.statusCode, res.body).toBe(200)
    }
  }

  beforeAll(async () => {
    provider = await startFakeProvider({ models: ['base-a', 'embed-a'] })
    h = await createHarness(dialect)
    off = await createHarness(dialect, { USAGE_ANALYTICS: 'false' })
    await setUp(h)
    await setUp(off)
    alice = await h.createUser('user', 'Alice')
    bob = await h.createUser('user', 'Bob')
    const group = await h.send(h.admin, { method: 'POST', url: '/api/v1/groups/create', payload: { name: 'Team A', description: '' } })
    expect(group.statusCode, group.body).toBe(200)
    groupId = group.json<{ id: string }>().id
    const added = await h.send(h.admin, { method: 'POST', url: `/api/v1/groups/id/${groupId}/users/add`, payload: { user_ids: [alice.id] } })
    expect(added.statusCode, added.body).toBe(200)
  })

  afterAll(async () => {
    await h?.close()
    await off?.close()
    await provider?.close()
  })

  it('records a chat call with its tokens, model, base model and connection after the flush', async () => {
    const res = await chat(h, alice, {})
    expect(res.statusCode, res.body).toBe(200)
    await flush()
    const [row] = (await rows(h)).filter((r) => r.user_id === alice.id)
    expect(row).toMatchObject({
      model_id: 'helper',
      base_model_id: 'base-a',
      endpoint: 'chat',
      stream: 0,
      status: 200,
      error: null,
      prompt_tokens: 1,
      completion_tokens: 1,
      total_tokens: 2,
      first_chunk_ms: null,
    })
    expect(row?.connection_id).toMatch(/.+/)
    expect(row?.latency_ms).toBeGreaterThanOrEqual(0)

    const models = await get(h.admin, 'models')
    expect(models.models).toContainEqual(
      expect.objectContaining({ model_id: 'helper', base_model_id: 'base-a', count: 1, unique_users: 1, total_tokens: 2, errors: 0 }),
    )
    const summary = await get(h.admin, 'summary')
    expect(summary).toMatchObject({ total_messages: 1, total_users: 1, total_models: 1, total_tokens: 2, recording: true, retention_days: 90, dropped: 0 })
    expect(summary.latency_p50_ms).toBeTypeOf('number')
    const daily = await get(h.admin, 'daily')
    expect(daily.data).toEqual([
      { date: new Date().toISOString().slice(0, 10), models: { helper: 1 }, tokens: { helper: 2 }, costs: {}, errors: { helper: 0 } },
    ])
  })

  it("streams without include_usage: the provider is asked for usage, the client's bytes are exactly those without recording", async () => {
    const before = provider.requests.length
    const recorded = await chat(h, alice, { stream: true })
    const asked = provider.requests.slice(before).find((r) => r.path === '/v1/chat/completions')
    expect(asked?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } })

    const middle = provider.requests.length
    const plain = await chat(off, off.admin, { stream: true })
    expect(provider.requests.slice(middle).find((r) => r.path === '/v1/chat/completions')?.body).not.toHaveProperty('stream_options')

    expect(recorded.statusCode).toBe(200)
    expect(recorded.body).toBe(plain.body)
    expect(recorded.body).not.toContain('usage')
    expect(recorded.body.endsWith('data: [DONE]\n\n')).toBe(true)

    await flush()
    const row = (await rows(h)).filter((r) => r.user_id === alice.id && r.stream === 1).at(-1)
    // The fake counts the messages as prompt tokens and its chunks as completion tokens.
    expect(row).toMatchObject({ prompt_tokens: 1, completion_tokens: 3, total_tokens: 4, status: 200, error: null })
    expect(row?.first_chunk_ms).toBeTypeOf('number')
  })

  it('streams with include_usage from the client: the client gets its usage chunk, and it is recorded', async () => {
    const res = await chat(h, bob, { stream: true, stream_options: { include_usage: true } })
    expect(res.statusCode).toBe(200)
    const events = res.body
      .split('\n\n')
      .filter((e) => e.startsWith('data: {'))
      .map((e) => JSON.parse(e.slice(6)) as { choices: unknown[]; usage?: unknown })
    expect(events.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 }, model: 'helper' })
    expect(events.slice(0, -1).every((e) => e.usage === null)).toBe(true)
    await flush()
    expect((await rows(h)).filter((r) => r.user_id === bob.id).at(-1)).toMatchObject({ stream: 1, total_tokens: 4 })
  })

  it('records embeddings with their usage', async () => {
    const res = await h.send(alice, { method: 'POST', url: '/v1/embeddings', payload: { model: 'embedder', input: ['a', 'b'] } })
    expect(res.statusCode, res.body).toBe(200)
    await flush()
    expect((await rows(h)).filter((r) => r.endpoint === 'embeddings')).toEqual([
      expect.objectContaining({ user_id: alice.id, model_id: 'embedder', base_model_id: 'embed-a', prompt_tokens: 2, completion_tokens: 0, total_tokens: 2 }),
    ])
  })

  it('records a Responses API call translated to chat completions once, with its usage', async () => {
    const before = (await rows(h)).length
    const res = await h.send(alice, { method: 'POST', url: '/v1/responses', payload: { model: 'helper', input: 'Hi', stream: true } })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.body).toContain('response.completed')
    await flush()
    // The fake speaks no Responses API: its 404 to the probe is no call of its own.
    const after = await rows(h)
    expect(after).toHaveLength(before + 1)
    expect(after.filter((r) => r.endpoint === 'responses')).toEqual([])
    const streams = after.filter((r) => r.user_id === alice.id && r.stream === 1 && r.endpoint === 'chat')
    expect(streams).toHaveLength(2) // the chat stream of an earlier test, and this one
    expect(streams.every((r) => r.status === 200 && r.total_tokens === 4)).toBe(true)
  })

  it("records a provider's error with its status, counted in the error rate", async () => {
    provider.setBehavior('error500')
    try {
      const res = await chat(h, bob, {})
      expect(res.statusCode).toBe(502)
    } finally {
      provider.setBehavior('ok')
    }
    await flush()
    expect((await rows(h)).filter((r) => r.user_id === bob.id).at(-1)).toMatchObject({ status: 500, error: 'http_5xx', total_tokens: 0 })
    const helper = (await get(bob, 'models')).models.find((m) => m.model_id === 'helper')
    expect(helper).toMatchObject({ count: 2, errors: 1, error_rate: 0.5 })
  })

  describe('who reads what', () => {
    it("a user's answers count only their own calls", async () => {
      const mine = await get(bob, 'summary')
      expect(mine).toMatchObject({ total_messages: 2, total_users: 1, total_errors: 1, dropped: null })
      const users = await get(bob, 'users')
      expect(users.users.map((u) => u.user_id)).toEqual([bob.id])
      const all = await get(h.admin, 'summary')
      expect(all.total_users).toBe(2)
      expect(all.total_messages).toBeGreaterThan(mine.total_messages)
    })

    it('answers 401 without a credential, and 401 with a forged one, on every route', async () => {
      for (const route of ['summary', 'models', 'users', 'daily', 'tokens', 'groups'] as const) {
        expect((await h.request({ method: 'GET', url: `/api/v1/analytics/${route}` })).statusCode).toBe(401)
        const forged = await h.request({ method: 'GET', url: `/api/v1/analytics/${route}`, headers: { authorization: 'Bearer sk-not-a-key' } })
        expect(forged.statusCode).toBe(401)
      }
    })

    it("refuses a user who asks for another account's usage, by user or by group (attack)", async () => {
      for (const route of ['summary', 'models', 'users', 'daily', 'tokens', 'groups'] as const) {
        const byUser = await refused(bob, route, `user_id=${alice.id}`, 403)
        expect(byUser.code).toBe('ACCESS_PROHIBITED')
        const byGroup = await refused(bob, route, `group_id=${groupId}`, 403)
        expect(byGroup.code).toBe('ACCESS_PROHIBITED')
      }
      // Naming themselves is allowed, and is what they get anyway.
      expect((await get(bob, 'summary', `user_id=${bob.id}`)).total_messages).toBe(2)
      // Alice is in the group, but a group's totals are other members' usage too.
      await refused(alice, 'summary', `group_id=${groupId}`, 403)
    })

    it("an admin's group filter counts only the group's members", async () => {
      const group = await get(h.admin, 'summary', `group_id=${groupId}`)
      const aliceOnly = await get(h.admin, 'summary', `user_id=${alice.id}`)
      expect(group.total_messages).toBe(aliceOnly.total_messages)
      expect(group.total_users).toBe(1)
      const users = await get(h.admin, 'users', `group_id=${groupId}`)
      expect(users.users).toEqual([expect.objectContaining({ user_id: alice.id, name: 'Alice', cost: null })])
      const groups = await get(h.admin, 'groups')
      expect(groups.groups).toEqual([
        { group_id: groupId, name: 'Team A', count: aliceOnly.total_messages, unique_users: 1, total_tokens: aliceOnly.total_tokens },
      ])
    })

    it('answers 400 {detail, code} for a reversed range, a range too long, an unknown group and bad numbers', async () => {
      const now = Math.floor(Date.now() / 1000)
      for (const query of [
        `start_date=${now}&end_date=${now - 10}`,
        `start_date=0&end_date=${now}`,
        'group_id=no-such-group',
        'start_date=yesterday',
        'start_date=-5',
      ]) {
        const res = await refused(h.admin, 'summary', query, 400)
        expect(res).toMatchObject({ code: 'VALIDATION_ERROR', detail: expect.any(String) })
      }
      await refused(h.admin, 'daily', `granularity=hourly&start_date=${now - 40 * DAY}&end_date=${now}`, 400)
      await refused(h.admin, 'daily', 'granularity=weekly', 400)
      await refused(h.admin, 'users', 'limit=100000', 400)
    })

    it('hourly buckets are labelled by hour', async () => {
      const daily = await get(h.admin, 'daily', 'granularity=hourly')
      expect(daily.data.length).toBeGreaterThan(0)
      for (const entry of daily.data) expect(entry.date).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:00$/)
    })
  })

  it("answers the tokens route in Open WebUI's shape", async () => {
    const tokens = await get(h.admin, 'tokens')
    const total = tokens.models.reduce((sum, m) => sum + m.total_tokens, 0)
    expect(tokens).toMatchObject({ total_tokens: total, total_cost: null, currency: null, unpriced_models: tokens.models.length })
    expect(tokens.models[0]).toMatchObject({ cached_tokens: 0, reasoning_tokens: 0, cost: null, cost_breakdown: null })
  })

  it('computes latency p50 and p95 by nearest rank, per model', async () => {
    const now = Math.floor(Date.now() / 1000)
    const latencies = Array.from({ length: 100 }, (_, i) => i + 1).sort(() => Math.random() - 0.5)
    await new UsageRepo(h.database).insert(
      latencies.map((latency) =>
        usageRow({ created_at: now - 3600, user_id: 'pct-user', model_id: 'pct-model', base_model_id: 'base-a', latency_ms: latency }),
      ),
    )
    const models = await get(h.admin, 'models', 'user_id=pct-user')
    expect(models.models).toEqual([
      expect.objectContaining({ model_id: 'pct-model', count: 100, latency_p50_ms: 50, latency_p95_ms: 95, first_chunk_p50_ms: null }),
    ])
    expect(await get(h.admin, 'summary', 'user_id=pct-user')).toMatchObject({ latency_p50_ms: 50, latency_p95_ms: 95 })
  })

  it('records nothing with USAGE_ANALYTICS=false', async () => {
    expect(off.services.analytics.recorder).toBeNull()
    expect((await chat(off, off.admin, {})).statusCode).toBe(200)
    expect(await rows(off)).toEqual([])
    const res = await off.send(off.admin, { method: 'GET', url: '/api/v1/analytics/summary' })
    expect(res.json()).toMatchObject({ recording: false, total_messages: 0 })
  })

  it('prunes rows older than USAGE_RETENTION_DAYS', async () => {
    const now = Date.now()
    const old = (days: number) => usageRow({ latency_ms: 1, user_id: 'retention-user', created_at: Math.floor(now / 1000) - days * DAY })
    await new UsageRepo(h.database).insert([old(91), old(200), old(89)])
    expect(await recorder(h).prune(now)).toBe(2)
    const left = (await rows(h)).filter((r) => r.user_id === 'retention-user')
    expect(left.map((r) => r.created_at)).toEqual([Math.floor(now / 1000) - 89 * DAY])
  })

  it('bounds its queue: a flood beyond it is dropped and counted, never queued', async () => {
    const recorder = new UsageRecorder(new UsageRepo(h.database), { maxQueue: 10, batchSize: 1000, retentionDays: 0 })
    const call: UpstreamCall = {
      connectionId: 'c',
      connectionName: 'C',
      path: '/chat/completions',
      userId: 'flood-user',
      model: 'm',
      upstreamModel: 'm',
      stream: false,
      status: 200,
      latencyMs: 1,
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    }
    for (let i = 0; i < 5000; i++) recorder.onUpstream(call)
    expect(recorder.stats()).toEqual({ queued: 10, written: 0, dropped: 4990 })
    await recorder.close()
    expect(recorder.stats()).toEqual({ queued: 0, written: 10, dropped: 4990 })
    expect((await rows(h)).filter((r) => r.user_id === 'flood-user')).toHaveLength(10)
  })
})
