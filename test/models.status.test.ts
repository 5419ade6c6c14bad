/**
 * Issue #16 items 4 and 5: a model's `status` ({ok, reason?}) on list items, GET /model and write
 * answers — false for a preset whose base no provider serves, whose chain is broken (a loop, a hop
 * turned off) or whose base its owner may no longer use — decided by the one base-chain rule for the
 * caller, as a chat would resolve it; and the admin's base-model list (GET /base/list).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGroup } from './support/accounts.js'
import { DIALECTS } from './support/databases.js'
import { userGrant } from './support/factories.js'
import { startFakeProvider, type FakeProvider } from './support/fake-provider.js'
import { createHarness, type Harness, type TestAccount } from './support/harness.js'
import { expectError } from './support/requests.js'

const M = '/api/v1/models'
const OK = { ok: true }
/** The one text a caller who cannot see everything gets for an unserved, unreadable or refused base (hole 13). */
const unavailable = (id: string) => `The base model "${id}" is not available to you: no provider serves it, or it is not shared with you.`

type Status = { ok: boolean; reason?: string }
type Item = { id: string; status: Status }
type BaseItem = {
  id: string
  name: string
  provider_name: string | null
  connection_id: string | null
  connection_name: string | null
  served: boolean
  is_active: boolean
  tags: string[]
  row: 'override' | 'preset' | 'conflict' | null
  override: { id: string; access_grants: { principal_id: string; permission: string }[]; status: Status } | null
  status: Status
}
type BaseList = { items: BaseItem[]; total: number; connections: { id: string; name: string; count: number }[] }

describe.each(DIALECTS)('model status and the base-model list (%s)', (dialect) => {
  let h: Harness
  let provider: FakeProvider
  let other: FakeProvider
  /** workspace.models and sharing.models. */
  let builder: TestAccount
  let sharer: TestAccount
  let reader: TestAccount
  let connectionId: string
  let otherConnectionId: string
  let seq = 0
  const nextId = (what: string) => `st-${what}-${++seq}-${Math.random().toString(36).slice(2, 6)}`
  const SERVED = ['st-llama', 'st-gone', 'st-raw', 'st-gone-raw']

  const ok = (res: { statusCode: number; body: string }) => expect(res.statusCode, res.body).toBe(200)
  async function serve(models: string[]): Promise<void> {
    provider.setModels(models)
    ok(await h.send(h.admin, { method: 'GET', url: '/api/models', query: { refresh: 'true' } }))
  }
  const create = async (who: TestAccount, body: Record<string, unknown>) => {
    const res = await h.send(who, { method: 'POST', url: `${M}/create`, payload: { name: String(body['id']), ...body } })
    ok(res)
    return res.json<Item>()
  }
  /** The status `who` reads for `id` in the list (cached, then fresh) and in GET /model: all three must agree. */
  async function statusFor(who: TestAccount, id: string): Promise<Status> {
    const seen: Status[] = []
    for (const headers of [{}, { 'cache-control': 'no-cache' }] as Record<string, string>[]) {
      const res = await h.send(who, { method: 'GET', url: `${M}/list`, query: { query: id }, headers })
      ok(res)
      const item = res.json<{ items: Item[] }>().items.find((m) => m.id === id)
      if (!item) throw new Error(`${who.name} does not list ${id}`)
      seen.push(item.status)
    }
    const single = await h.send(who, { method: 'GET', url: `${M}/model`, query: { id } })
    ok(single)
    seen.push(single.json<Item>().status)
    expect(seen[1], who.name).toEqual(seen[0])
    expect(seen[2], who.name).toEqual(seen[0])
    return seen[0] as Status
  }
  const openAiIds = async (who: TestAccount) => {
    const res = await h.send(who, { method: 'GET', url: '/v1/models' })
    ok(res)
    return res.json<{ data: Record<string, unknown>[] }>().data
  }
  const baseList = async (query: Record<string, string> = {}) => {
    const res = await h.send(h.admin, { method: 'GET', url: `${M}/base/list`, query })
    ok(res)
    return res.json<BaseList>()
  }

  beforeAll(async () => {
    provider = await startFakeProvider({ models: SERVED })
    other = await startFakeProvider({ models: ['st-other-a', 'st-other-b'] })
    h = await createHarness(dialect, { MODELS_CACHE_TTL: '3600', PROVIDER_LIST_TIMEOUT_MS: '2000' })
    const first = await h.send(h.admin, { method: 'POST', url: '/api/v1/connections/create', payload: { name: 'Main', base_url: provider.baseUrl } })
    ok(first)
    connectionId = first.json().id
    const second = await h.send(h.admin, { method: 'POST', url: '/api/v1/connections/create', payload: { name: 'Other', base_url: other.baseUrl } })
    ok(second)
    otherConnectionId = second.json().id
    builder = await h.createUser('user', 'Builder')
    sharer = await h.createUser('user', 'Sharer')
    reader = await h.createUser('user', 'Reader')
    await createGroup(h, 'Builders', { workspace: { models: true }, sharing: { models: true } }, [builder.id, sharer.id])
    await h.shareBase(['st-llama', 'st-gone'])
  })
  afterAll(async () => {
    await h?.close()
    await provider?.close()
    await other?.close()
  })

  it('healthy: a preset on a served, shared base is ok in the create answer, the list and GET /model, for its owner and readers', async () => {
    const id = nextId('healthy')
    const created = await create(builder, { id, base_model_id: 'st-llama', access_grants: [userGrant(reader.id)] })
    expect(created.status).toEqual(OK)
    for (const who of [builder, reader, h.admin]) expect(await statusFor(who, id)).toEqual(OK)
    const toggled = await h.send(builder, { method: 'POST', url: `${M}/model/toggle`, query: { id } })
    ok(toggled)
    // Turned off is is_active's business; the status is about what the model runs on.
    expect(toggled.json()).toMatchObject({ is_active: false, status: OK })
  })

  it('base gone: the status says so (also in cached pages and write answers), and /v1/models keeps hiding the preset', async () => {
    const id = nextId('gone')
    expect((await create(builder, { id, base_model_id: 'st-gone', access_grants: [userGrant(reader.id)] })).status).toEqual(OK)
    expect(await statusFor(builder, id)).toEqual(OK) // warms the caches
    expect((await openAiIds(builder)).map((m) => m['id'])).toContain(id)

    await serve(SERVED.filter((m) => m !== 'st-gone'))
    expect(await statusFor(builder, id)).toEqual({ ok: false, reason: unavailable('st-gone') })
    expect(await statusFor(reader, id)).toEqual({ ok: false, reason: unavailable('st-gone') })
    // An admin sees every model and may use every raw one: the refusal can be named.
    expect(await statusFor(h.admin, id)).toEqual({ ok: false, reason: 'No provider serves the base model "st-gone".' })
    // The override row itself.
    const override = await h.send(h.admin, { method: 'GET', url: `${M}/model`, query: { id: 'st-gone' } })
    expect(override.json().status).toEqual({ ok: false, reason: 'No provider serves this model any more.' })
    const updated = await h.send(builder, { method: 'POST', url: `${M}/model/update`, query: { id }, payload: { name: 'Renamed' } })
    ok(updated)
    expect(updated.json().status).toEqual({ ok: false, reason: unavailable('st-gone') })
    // The OpenAI list has no status and still leaves the broken preset out.
    const listed = await openAiIds(builder)
    expect(listed.map((m) => m['id'])).not.toContain(id)
    for (const model of listed) expect(model).not.toHaveProperty('status')

    await serve(SERVED)
    expect(await statusFor(builder, id)).toEqual(OK)
  })

  it('chain broken: a loop is named, and so is a hop turned off', async () => {
    const a = nextId('loop-a')
    const b = nextId('loop-b')
    await create(builder, { id: a, base_model_id: 'st-llama' })
    await create(builder, { id: b, base_model_id: a })
    const looped = await h.send(builder, { method: 'POST', url: `${M}/model/update`, query: { id: a }, payload: { base_model_id: b } })
    ok(looped)
    expect(looped.json().status).toEqual({ ok: false, reason: `The base chain loops: ${a} → ${b} → ${a}.` })
    expect(await statusFor(builder, b)).toEqual({ ok: false, reason: `The base chain loops: ${b} → ${a} → ${b}.` })

    const base = nextId('off-base')
    const top = nextId('off-top')
    await create(builder, { id: base, base_model_id: 'st-llama' })
    expect((await create(builder, { id: top, base_model_id: base })).status).toEqual(OK)
    ok(await h.send(builder, { method: 'POST', url: `${M}/model/toggle`, query: { id: base } }))
    expect(await statusFor(builder, top)).toEqual({ ok: false, reason: `The base model "${base}" is turned off.` })
  })

  it('owner lost access: a base no longer shared with the owner, and a raw base whose admin owner was demoted', async () => {
    // The sharer's preset, shared with the builder, who builds on it.
    const shared = nextId('shared')
    await create(sharer, { id: shared, base_model_id: 'st-llama', access_grants: [userGrant(builder.id)] })
    const mine = nextId('on-shared')
    expect((await create(builder, { id: mine, base_model_id: shared })).status).toEqual(OK)
    expect(await statusFor(builder, mine)).toEqual(OK)
    ok(await h.send(sharer, { method: 'POST', url: `${M}/model/access/update`, payload: { id: shared, access_grants: [] } }))
    // The same words as for a base nobody serves: the builder learns nothing about the row it cannot read.
    expect(await statusFor(builder, mine)).toEqual({ ok: false, reason: unavailable(shared) })
    // The admin (who reads everything) could still run it, and is told it is fine for them.
    expect(await statusFor(h.admin, mine)).toEqual(OK)

    // An admin's preset on a raw provider model (no override row) works for its readers...
    const boss = await h.createUser('admin', 'Second admin')
    const raw = nextId('raw')
    expect((await create(boss, { id: raw, base_model_id: 'st-raw', access_grants: [userGrant(reader.id)] })).status).toEqual(OK)
    expect(await statusFor(reader, raw)).toEqual(OK)
    // ...until its owner may no longer use the raw model.
    ok(await h.send(h.admin, { method: 'POST', url: `/api/v1/users/${boss.id}/update`, payload: { role: 'user' } }))
    expect(await statusFor(reader, raw)).toEqual({ ok: false, reason: unavailable('st-raw') })
    expect((await openAiIds(reader)).map((m) => m['id'])).not.toContain(raw)
  })

  it('a conflict (a user’s row on an id a provider starts serving) says it is never used', async () => {
    const id = nextId('squat')
    await create(builder, { id, base_model_id: 'st-llama' })
    await serve([...SERVED, id])
    const status = await statusFor(builder, id)
    expect(status.ok).toBe(false)
    expect(status.reason).toMatch(/never used/)
    await serve(SERVED)
  })

  describe('GET /base/list', () => {
    it('is for admins only', async () => {
      expectError(await h.send(builder, { method: 'GET', url: `${M}/base/list` }), 403, 'ACCESS_PROHIBITED')
      expectError(await h.send(reader, { method: 'GET', url: `${M}/base/list`, query: { connection_id: connectionId } }), 403, 'ACCESS_PROHIBITED')
      expect((await h.send(undefined, { method: 'GET', url: `${M}/base/list` })).statusCode).toBe(401)
      expectError(await h.send(h.admin, { method: 'GET', url: `${M}/base/list`, query: { limit: '0' } }), 400, 'VALIDATION_ERROR')
    })

    it('lists every provider model with its connection and override row, filters by connection and text, pages', async () => {
      const all = await baseList({ limit: '100' })
      expect(all.connections).toEqual([
        { id: connectionId, name: 'Main', count: SERVED.length },
        { id: otherConnectionId, name: 'Other', count: 2 },
      ])
      const byId = new Map(all.items.map((item) => [item.id, item]))
      for (const id of [...SERVED, 'st-other-a', 'st-other-b']) expect(byId.get(id), id).toBeDefined()
      expect(byId.get('st-llama')).toMatchObject({
        connection_id: connectionId,
        connection_name: 'Main',
        served: true,
        is_active: true,
        row: 'override',
        status: OK,
        override: { id: 'st-llama', access_grants: [{ principal_id: '*', permission: 'read' }], status: OK },
      })
      expect(byId.get('st-raw')).toMatchObject({ name: 'st-raw', provider_name: 'st-raw', row: null, override: null, is_active: true, status: OK })
      expect(byId.get('st-other-a')).toMatchObject({ connection_id: otherConnectionId, connection_name: 'Other' })

      const filtered = await baseList({ connection_id: otherConnectionId })
      expect(filtered.total).toBe(2)
      expect(filtered.items.map((i) => i.id)).toEqual(['st-other-a', 'st-other-b'])
      const text = await baseList({ query: 'OTHER-B' })
      expect(text.items.map((i) => i.id)).toEqual(['st-other-b'])
      const page1 = await baseList({ limit: '2', page: '1' })
      const page2 = await baseList({ limit: '2', page: '2' })
      expect(page1.total).toBe(all.total)
      expect(page1.items).toHaveLength(2)
      expect(page2.items.map((i) => i.id)).not.toContain(page1.items[0]?.id)
      expect([...page1.items, ...page2.items].map((i) => i.id)).toEqual(all.items.slice(0, 4).map((i) => i.id))
    })

    it('shows renames, the off switch, tags and vanished overrides; a raw model shared from it reaches users', async () => {
      // Rename, tag and switch off through the ordinary routes.
      const created = await h.send(h.admin, {
        method: 'POST',
        url: `${M}/create`,
        payload: { id: 'st-other-a', base_model_id: null, name: 'Other A', meta: { tags: ['fast'] }, is_active: false },
      })
      ok(created)
      expect(created.json().status).toEqual(OK)
      const item = (await baseList({ query: 'st-other-a' })).items[0]
      expect(item).toMatchObject({ id: 'st-other-a', name: 'Other A', provider_name: 'st-other-a', is_active: false, tags: ['fast'], row: 'override' })

      // Sharing a raw model: the access update creates its override row; a user may then use it.
      const runtimeIds = async () => (await h.send(reader, { method: 'GET', url: '/api/models' })).json<{ data: { id: string }[] }>().data.map((m) => m.id)
      expect(await runtimeIds()).not.toContain('st-other-b')
      ok(await h.send(h.admin, { method: 'POST', url: `${M}/model/access/update`, payload: { id: 'st-other-b', access_grants: [userGrant(reader.id)] } }))
      expect((await baseList({ query: 'st-other-b' })).items[0]).toMatchObject({ row: 'override', override: { access_grants: [{ principal_id: reader.id }] } })
      expect(await runtimeIds()).toContain('st-other-b')

      // An override whose model vanished is still listed, unserved and not ok.
      await serve(SERVED.filter((m) => m !== 'st-gone'))
      const gone = (await baseList({ query: 'st-gone' })).items.find((i) => i.id === 'st-gone')
      expect(gone).toMatchObject({ served: false, connection_id: null, provider_name: null, row: 'override', status: { ok: false } })
      expect((await baseList({ connection_id: connectionId })).items.map((i) => i.id)).not.toContain('st-gone')
      await serve(SERVED)
    })
  })
})
