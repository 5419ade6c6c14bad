/**
 * Two server processes on one PostgreSQL database, with Redis and without (issue #10, "Prove it").
 *
 * (a) A change made through instance A is seen through instance B within the documented time, each
 *     measured and printed: model create and update (the registry version lives in the database: B's
 *     next answer, ARCHITECTURE.md), a group membership change (B's gateway caches hear it on the
 *     bus: Redis, or PostgreSQL's LISTEN/NOTIFY without it), and a connection added, changed and removed. Without Redis, connection
 *     changes travel through the settings version in the database, compared at most once per
 *     SETTINGS_CHECK_INTERVAL_MS (default 1 s, used here; docs/gateway.md). With Redis the interval is set
 *     to an hour, so that only pub/sub can carry the change: its fast path is measured on its own.
 *     B's caches are warmed before each change, so a stale cache would show.
 * (b) Concurrent creates of one id through both instances: exactly one 200 and one 409 per id, never a
 *     5xx, and the stored model is the winner's.
 * (d) Revocations on A refuse B's next requests once the bus delivered them (polled, at most 2 s, each
 *     delay printed): a deleted API key, a user demoted to pending, a removed membership hiding a model.
 *     B's caches are warm (a successful chat) before each (docs/performance.md, "Gateway caches").
 * (c) Concurrent grant replacements of one model through both instances store exactly one writer's set
 *     (never a mix), and an update through A racing a delete through B answers 200 or 404, never a 5xx.
 *
 * The providers are real HTTP servers (test/support/fake-provider.ts) in this process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeProvider, type FakeProvider } from '../support/fake-provider.js'
import { requireRedis } from '../support/redis.js'
import {
  freshPostgresSchema,
  PASSWORD,
  POSTGRES_URL,
  requirePostgresInCi,
  REDIS_URL,
  signUpAdmin,
  startServer,
  waitFor,
  type ServerProcess,
} from './support.js'

requirePostgresInCi()

/** Registry and membership changes: B's next request sees them; the bound only absorbs scheduling on a loaded machine. */
const REGISTRY_DEADLINE_MS = 1500
/** Connection changes without Redis: SETTINGS_CHECK_INTERVAL_MS (1 s) plus the first fetch of the new list, plus a margin. */
const SETTINGS_INTERVAL_MS = 1000
const CONNECTION_DEADLINE_MS = SETTINGS_INTERVAL_MS + 2000
/** With Redis (the version check disabled): pub/sub takes milliseconds; the bound absorbs a loaded machine. */
const REDIS_DEADLINE_MS = 1500
const RACE_IDS = 20

/**
 * The two modes run side by side (each on servers and a schema of its own; the steps inside a mode run
 * in order): a server start is mostly single-threaded CPU work and the steps mostly wait, so they overlap.
 */
describe.concurrent.each([
  { mode: 'with Redis', redis: true },
  { mode: 'without Redis', redis: false },
])('two instances on one PostgreSQL, $mode', ({ mode, redis }) => {
  let a: ServerProcess | undefined
  let b: ServerProcess | undefined
  let drop: (() => Promise<void>) | undefined
  let providerOne: FakeProvider
  let providerTwo: FakeProvider
  let admin: { id: string; token: string }
  const figures: string[] = []
  /** The steps of one mode share its servers and run in order. */
  const step = POSTGRES_URL ? it.sequential : it.skip

  beforeAll(async () => {
    if (!POSTGRES_URL) return
    if (redis) await requireRedis()
    providerOne = await startFakeProvider({ models: ['alpha-model'] })
    providerTwo = await startFakeProvider({ models: ['beta-model'] })
    const schema = await freshPostgresSchema('mg_two')
    drop = schema.drop
    const env = {
      DATABASE_URL: schema.url,
      ...(redis ? { REDIS_URL, SETTINGS_CHECK_INTERVAL_MS: '3600000' } : { SETTINGS_CHECK_INTERVAL_MS: String(SETTINGS_INTERVAL_MS) }),
    }
    // Both start at once on the fresh schema: their migrations race, as in a rolling deployment.
    const [startedA, startedB] = await Promise.allSettled([startServer(env, { label: 'instance A' }), startServer(env, { label: 'instance B' })])
    // Keep whichever started, so that afterAll stops it even when the other failed.
    if (startedA.status === 'fulfilled') a = startedA.value
    if (startedB.status === 'fulfilled') b = startedB.value
    if (startedA.status === 'rejected') throw startedA.reason
    if (startedB.status === 'rejected') throw startedB.reason
    if (!a) throw new Error('instance A did not start')
    admin = await signUpAdmin(a)
  }, 90_000)

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()])
    await drop?.().catch(() => undefined)
    await Promise.all([providerOne?.close(), providerTwo?.close()])
    if (figures.length > 0) console.log(`[two-instances ${mode}] A → B:\n  ${figures.join('\n  ')}`)
  })

  const A = () => a as ServerProcess
  const B = () => b as ServerProcess
  const record = (what: string, ms: number | null, deadline: number) => {
    figures.push(`${mode}: ${what}: ${ms === null ? `NOT SEEN within ${deadline} ms` : `${ms} ms`}`)
    expect(ms, `${mode}: ${what} not seen on B within ${deadline} ms`).not.toBeNull()
  }

  step('a model created and updated on A is seen on B', async () => {
    const token = admin.token
    const listed = async () => (await B().request('GET', '/api/v1/models/list', { token })).json<{ items: { id: string; name: string }[] }>().items
    expect(await listed()).toEqual([]) // B's page cache now holds the empty page
    const created = await A().request('POST', '/api/v1/models/create', {
      token,
      body: { id: 'shared-preset', base_model_id: 'alpha-model', name: 'First name' },
    })
    expect(created.status).toBe(200)
    record(
      'model create (list page on B)',
      await waitFor(async () => (await listed()).some((m) => m.id === 'shared-preset'), REGISTRY_DEADLINE_MS),
      REGISTRY_DEADLINE_MS,
    )
    const getOnB = async () => (await B().request('GET', '/api/v1/models/model?id=shared-preset', { token })).json<{ name: string }>().name
    expect(await getOnB()).toBe('First name')
    const updated = await A().request('POST', '/api/v1/models/model/update?id=shared-preset', { token, body: { id: 'shared-preset', name: 'Second name' } })
    expect(updated.status).toBe(200)
    record('model update (single model on B)', await waitFor(async () => (await getOnB()) === 'Second name', REGISTRY_DEADLINE_MS), REGISTRY_DEADLINE_MS)
  })

  step('a group membership change on A decides what the member reads on B', async () => {
    const token = admin.token
    const email = `member-${redis ? 'r' : 'n'}@example.com`
    const added = await A().request('POST', '/api/v1/auths/add', { token, body: { name: 'Member', email, password: PASSWORD, role: 'user' } })
    expect(added.status).toBe(200)
    const memberId = added.json<{ id: string }>().id
    const signin = await B().request('POST', '/api/v1/auths/signin', { body: { email, password: PASSWORD } })
    expect(signin.status).toBe(200)
    const member = signin.json<{ token: string }>().token

    const group = await A().request('POST', '/api/v1/groups/create', { token, body: { name: 'Readers' } })
    expect(group.status).toBe(200)
    const groupId = group.json<{ id: string }>().id
    const model = await A().request('POST', '/api/v1/models/create', {
      token,
      body: {
        id: 'group-only',
        base_model_id: 'alpha-model',
        name: 'For readers',
        access_grants: [{ principal_type: 'group', principal_id: groupId, permission: 'read' }],
      },
    })
    expect(model.status).toBe(200)
    const statusOnB = async () => (await B().request('GET', '/api/v1/models/model?id=group-only', { token: member })).status
    expect(await statusOnB()).toBe(404)

    expect((await A().request('POST', `/api/v1/groups/id/${groupId}/users/add`, { token, body: { user_ids: [memberId] } })).status).toBe(200)
    record(
      'group membership added (member reads the model on B)',
      await waitFor(async () => (await statusOnB()) === 200, REGISTRY_DEADLINE_MS),
      REGISTRY_DEADLINE_MS,
    )
    expect((await A().request('POST', `/api/v1/groups/id/${groupId}/users/remove`, { token, body: { user_ids: [memberId] } })).status).toBe(200)
    record('group membership removed (member refused on B)', await waitFor(async () => (await statusOnB()) === 404, REGISTRY_DEADLINE_MS), REGISTRY_DEADLINE_MS)
  })

  step('a connection added, changed and removed on A reaches B', async () => {
    const token = admin.token
    const deadline = redis ? REDIS_DEADLINE_MS : CONNECTION_DEADLINE_MS
    const baseOnB = async () => (await B().request('GET', '/api/models/base', { token })).json<{ data: { id: string }[] }>().data.map((m) => m.id)
    // Warm B: its connection list and catalog are cached now.
    expect(await baseOnB()).toEqual([])
    expect((await B().request('GET', '/api/models', { token })).status).toBe(200)

    const created = await A().request('POST', '/api/v1/connections/create', { token, body: { name: 'one', kind: 'openai', base_url: providerOne.baseUrl } })
    expect(created.status).toBe(200)
    const connectionId = created.json<{ id: string }>().id
    record('connection added (its models listed on B)', await waitFor(async () => (await baseOnB()).includes('alpha-model'), deadline), deadline)

    const changed = await A().request('POST', `/api/v1/connections/id/${connectionId}/update`, { token, body: { base_url: providerTwo.baseUrl } })
    expect(changed.status).toBe(200)
    record(
      "connection changed (B lists the new provider's models)",
      await waitFor(async () => {
        const ids = await baseOnB()
        return ids.includes('beta-model') && !ids.includes('alpha-model')
      }, deadline),
      deadline,
    )

    expect((await A().request('DELETE', `/api/v1/connections/id/${connectionId}/delete`, { token })).status).toBe(200)
    record('connection removed (B lists nothing)', await waitFor(async () => (await baseOnB()).length === 0, deadline), deadline)
  })

  step(`concurrent creates of one id through both instances: exactly one wins (${RACE_IDS} ids)`, async () => {
    const token = admin.token
    const outcomes: string[] = []
    for (let round = 0; round < RACE_IDS / 5; round++) {
      const ids = Array.from({ length: 5 }, (_, i) => `race-${round}-${i}`)
      const answers = await Promise.all(
        ids.flatMap((id) =>
          (['A', 'B'] as const).map(async (side) => {
            const server = side === 'A' ? A() : B()
            const res = await server.request('POST', '/api/v1/models/create', { token, body: { id, base_model_id: 'alpha-model', name: `from ${side}` } })
            return { id, side, status: res.status, body: res.body }
          }),
        ),
      )
      for (const id of ids) {
        const pair = answers.filter((x) => x.id === id)
        const statuses = pair.map((x) => x.status).sort()
        outcomes.push(`${id}: ${pair.map((x) => `${x.side} ${x.status}`).join(', ')}`)
        expect(statuses, `${id}: ${pair.map((x) => `${x.side} ${x.status} ${x.body}`).join(' | ')}`).toEqual([200, 409])
        const winner = pair.find((x) => x.status === 200)
        const stored = await B().request('GET', `/api/v1/models/model?id=${id}`, { token })
        expect(stored.json<{ name: string }>().name).toBe(`from ${winner?.side}`)
      }
    }
    const winsA = outcomes.filter((o) => o.includes('A 200')).length
    figures.push(
      `${mode}: concurrent creates: ${RACE_IDS} ids × 2 instances → ${RACE_IDS} × (one 200, one 409), A won ${winsA}, B won ${RACE_IDS - winsA}, 0 5xx`,
    )
  })

  step("concurrent grant writes of one model through both instances leave exactly one writer's set; update racing delete never 5xx", async () => {
    const token = admin.token
    const groupIds: string[] = []
    for (let i = 0; i < 6; i++) {
      const res = await A().request('POST', '/api/v1/groups/create', { token, body: { name: `race-group-${i}` } })
      expect(res.status).toBe(200)
      groupIds.push(res.json<{ id: string }>().id)
    }
    const grantsOf = (ids: string[]) => ids.map((id) => ({ principal_type: 'group', principal_id: id, permission: 'read' }))
    const key = (grants: { principal_id: string }[]) =>
      grants
        .map((g) => g.principal_id)
        .sort()
        .join(',')
    const setA = groupIds.slice(0, 3)
    const setB = groupIds.slice(3)
    const rounds = 10
    let winsA = 0
    for (let round = 0; round < rounds; round++) {
      const id = `grants-race-${round}`
      expect((await A().request('POST', '/api/v1/models/create', { token, body: { id, base_model_id: 'alpha-model', name: id } })).status).toBe(200)
      const [onA, onB] = await Promise.all([
        A().request('POST', '/api/v1/models/model/access/update', { token, body: { id, access_grants: grantsOf(setA) } }),
        B().request('POST', '/api/v1/models/model/access/update', { token, body: { id, access_grants: grantsOf(setB) } }),
      ])
      expect([onA.status, onB.status], `${id}: A ${onA.body} | B ${onB.body}`).toEqual([200, 200])
      const stored = key(
        (await B().request('GET', `/api/v1/models/model?id=${id}`, { token })).json<{ access_grants: { principal_id: string }[] }>().access_grants,
      )
      expect([key(grantsOf(setA)), key(grantsOf(setB))], `${id}: stored grants are a mix of both writers'`).toContain(stored)
      if (stored === key(grantsOf(setA))) winsA += 1
    }

    const statuses: string[] = []
    for (let round = 0; round < rounds; round++) {
      const id = `delete-race-${round}`
      expect((await A().request('POST', '/api/v1/models/create', { token, body: { id, base_model_id: 'alpha-model', name: id } })).status).toBe(200)
      const [updated, deleted] = await Promise.all([
        A().request('POST', `/api/v1/models/model/update?id=${id}`, { token, body: { id, name: 'renamed', access_grants: grantsOf(setA) } }),
        B().request('POST', '/api/v1/models/model/delete', { token, body: { id } }),
      ])
      statuses.push(`update ${updated.status} / delete ${deleted.status}`)
      expect(updated.status, `${id}: update answered ${updated.status} ${updated.body}`).toBeLessThan(500)
      expect([200, 404], `${id}: update answered ${updated.status} ${updated.body}`).toContain(updated.status)
      expect(deleted.status, `${id}: delete answered ${deleted.status} ${deleted.body}`).toBe(200)
      expect((await A().request('GET', `/api/v1/models/model?id=${id}`, { token })).status).toBe(404)
    }
    const updateWon = statuses.filter((s) => s.startsWith('update 200')).length
    figures.push(
      `${mode}: concurrent grant writes (A vs B, ${rounds} models): stored set always one writer's (A's ${winsA}, B's ${rounds - winsA}); ` +
        `update (A) racing delete (B), ${rounds} models: update 200 ${updateWon}, 404 ${rounds - updateWon}, 0 5xx`,
    )
  })

  step('a revoked key, a demoted user and a removed membership on A are refused by warm caches on B', async () => {
    const token = admin.token
    const deadline = 2000
    const connection = await A().request('POST', '/api/v1/connections/create', { token, body: { name: 'gate', kind: 'openai', base_url: providerOne.baseUrl } })
    expect(connection.status).toBe(200)
    const baseOnB = async () => (await B().request('GET', '/api/models/base', { token })).json<{ data: { id: string }[] }>().data.map((m) => m.id)
    expect(await waitFor(async () => (await baseOnB()).includes('alpha-model'), CONNECTION_DEADLINE_MS)).not.toBeNull()
    const publicRead = [{ principal_type: 'user', principal_id: '*', permission: 'read' }]
    expect((await A().request('POST', '/api/v1/models/model/access/update', { token, body: { id: 'alpha-model', access_grants: publicRead } })).status).toBe(
      200,
    )
    const group = await A().request('POST', '/api/v1/groups/create', { token, body: { name: 'Gate readers' } })
    const groupId = group.json<{ id: string }>().id
    const preset = await A().request('POST', '/api/v1/models/create', {
      token,
      body: {
        id: 'gate-preset',
        base_model_id: 'alpha-model',
        name: 'Gate',
        access_grants: [{ principal_type: 'group', principal_id: groupId, permission: 'read' }],
      },
    })
    expect(preset.status).toBe(200)
    /** A member of the group signed in on B, with an API key made on B. */
    const memberOnB = async (name: string) => {
      const email = `${name}-${redis ? 'r' : 'n'}@example.com`
      const added = await A().request('POST', '/api/v1/auths/add', { token, body: { name, email, password: PASSWORD, role: 'user' } })
      const id = added.json<{ id: string }>().id
      expect((await A().request('POST', `/api/v1/groups/id/${groupId}/users/add`, { token, body: { user_ids: [id] } })).status).toBe(200)
      const session = (await B().request('POST', '/api/v1/auths/signin', { body: { email, password: PASSWORD } })).json<{ token: string }>().token
      const key = (await B().request('POST', '/api/v1/auths/api_key', { token: session })).json<{ api_key: string }>().api_key
      return { id, session, key }
    }
    const chatOnB = async (credential: string) =>
      (await B().request('POST', '/v1/chat/completions', { token: credential, body: { model: 'gate-preset', messages: [{ role: 'user', content: 'hi' }] } }))
        .status
    const warm = async (credential: string) => expect(await waitFor(async () => (await chatOnB(credential)) === 200, deadline)).not.toBeNull()

    const keyed = await memberOnB('keyed')
    await warm(keyed.key)
    expect((await A().request('DELETE', '/api/v1/auths/api_key', { token: keyed.session })).status).toBe(200)
    record('API key deleted (refused on B, 401)', await waitFor(async () => (await chatOnB(keyed.key)) === 401, deadline, 1), deadline)

    const demoted = await memberOnB('demoted')
    await warm(demoted.session)
    expect((await A().request('POST', `/api/v1/users/${demoted.id}/update`, { token, body: { role: 'pending' } })).status).toBe(200)
    record('user demoted to pending (session refused on B, 401)', await waitFor(async () => (await chatOnB(demoted.session)) === 401, deadline, 1), deadline)

    const removed = await memberOnB('removed')
    await warm(removed.key)
    expect((await A().request('POST', `/api/v1/groups/id/${groupId}/users/remove`, { token, body: { user_ids: [removed.id] } })).status).toBe(200)
    record('membership removed (preset hidden on B, 404)', await waitFor(async () => (await chatOnB(removed.key)) === 404, deadline, 1), deadline)
  })
})
