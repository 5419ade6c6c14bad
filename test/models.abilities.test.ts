/**
 * The caller's abilities on each model (`can: {read, write, share, delete}`, issue #11): one rule in the
 * access service (`abilitiesOn`), carried by list items, GET /model and the answers of create, update,
 * toggle and access update; not by exports or the admin's override list. List pages and single models
 * are cached per caller: a change of the caller's sharing permission must show at once. A conflicting
 * row (a user's row on an id a provider serves, issue #10 hole 1) can be read and deleted, not changed,
 * and its abilities say so, also when the provider starts serving the id after the page was cached.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGroup } from './support/accounts.js'
import { DIALECTS } from './support/databases.js'
import { userGrant } from './support/factories.js'
import { startFakeProvider, type FakeProvider } from './support/fake-provider.js'
import { createHarness, type Harness, type TestAccount } from './support/harness.js'

const M = '/api/v1/models'
const BASE = 'abilities-base'
const ALL = { read: true, write: true, share: true, delete: true }
const WRITE_NO_SHARE = { read: true, write: true, share: false, delete: true }
const READ_ONLY = { read: true, write: false, share: false, delete: false }

type Can = { read: boolean; write: boolean; share: boolean; delete: boolean }
type Item = { id: string; write_access: boolean; can: Can }

describe.each(DIALECTS)('model abilities on %s', (dialect) => {
  let h: Harness
  /** workspace.models and sharing.models: owns the models below. */
  let owner: TestAccount
  /** Write grantee without any sharing permission. */
  let writer: TestAccount
  /** Read grantee. */
  let reader: TestAccount
  /** A group granting sharing.public_models and nothing else (no members at first). */
  let sharers: string
  let seq = 0
  const nextId = () => `abl-${++seq}-${Math.random().toString(36).slice(2, 8)}`

  const send = async <T = any>(
    who: TestAccount,
    options: { method: 'GET' | 'POST'; url: string; payload?: unknown; query?: Record<string, string> },
  ): Promise<T> => {
    const res = await h.request({ ...options, headers: who.auth })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<T>()
  }
  const listItem = async (who: TestAccount, id: string, headers: Record<string, string> = {}): Promise<Item | undefined> => {
    const res = await h.request({ method: 'GET', url: `${M}/list`, query: { query: id }, headers: { ...who.auth, ...headers } })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ items: Item[] }>().items.find((m) => m.id === id)
  }
  const getItem = (who: TestAccount, id: string): Promise<Item> => send(who, { method: 'GET', url: `${M}/model`, query: { id } })
  const grants = (writerId: string, readerId: string) => [
    { principal_type: 'user', principal_id: writerId, permission: 'write' },
    { principal_type: 'user', principal_id: readerId, permission: 'read' },
  ]
  const createShared = (id: string): Promise<Item & { can: Can }> =>
    send(owner, { method: 'POST', url: `${M}/create`, payload: { id, base_model_id: BASE, name: id, access_grants: grants(writer.id, reader.id) } })

  beforeAll(async () => {
    h = await createHarness(dialect)
    owner = await h.createUser('user', 'Owner')
    writer = await h.createUser('user', 'Writer')
    reader = await h.createUser('user', 'Reader')
    await send(h.admin, {
      method: 'POST',
      url: '/api/v1/groups/create',
      payload: { name: 'Builders', permissions: { workspace: { models: true }, sharing: { models: true } }, user_ids: [owner.id] },
    })
    const group = await send(h.admin, {
      method: 'POST',
      url: '/api/v1/groups/create',
      payload: { name: 'Publishers', permissions: { sharing: { public_models: true } } },
    })
    sharers = group.id
    await h.shareBase(BASE)
  })
  afterAll(async () => h?.close())

  it("the create answer carries the creator's abilities", async () => {
    const created = await createShared(nextId())
    expect(created.can).toEqual(ALL)
  })

  it('owner, write grantee, read grantee and admin each get their abilities in list items and GET /model', async () => {
    const id = await createShared(nextId()).then((m) => m.id)
    const cases: [TestAccount, Can][] = [
      [owner, ALL],
      // May change the model, but has neither sharing permission: no share.
      [writer, WRITE_NO_SHARE],
      [reader, READ_ONLY],
      // BYPASS_ADMIN_ACCESS_CONTROL (on by default): everything.
      [h.admin, ALL],
    ]
    for (const [who, can] of cases) {
      const item = await listItem(who, id)
      expect(item?.can, who.name).toEqual(can)
      expect(item?.write_access, who.name).toBe(can.write)
      const single = await getItem(who, id)
      expect(single.can, who.name).toEqual(can)
      expect(single.write_access, who.name).toBe(can.write)
    }
  })

  it("update, toggle and access update answer the caller's abilities", async () => {
    const id = await createShared(nextId()).then((m) => m.id)
    const updated: Item = await send(writer, { method: 'POST', url: `${M}/model/update`, payload: { id, name: 'renamed' } })
    expect(updated.can).toEqual(WRITE_NO_SHARE)
    const toggled: Item = await send(writer, { method: 'POST', url: `${M}/model/toggle`, query: { id } })
    expect(toggled.can).toEqual(WRITE_NO_SHARE)
    // Keeping the grants as they are needs no sharing permission; the answer still says no share.
    const kept: Item = await send(writer, { method: 'POST', url: `${M}/model/access/update`, payload: { id, access_grants: grants(writer.id, reader.id) } })
    expect(kept.can).toEqual(WRITE_NO_SHARE)
    const byOwner: Item = await send(owner, { method: 'POST', url: `${M}/model/access/update`, payload: { id, access_grants: grants(writer.id, reader.id) } })
    expect(byOwner.can).toEqual(ALL)
  })

  it("a change of the caller's sharing permission shows at once, in cached lists and models too", async () => {
    const id = await createShared(nextId()).then((m) => m.id)
    // Warm the caches.
    expect((await listItem(writer, id))?.can).toEqual(WRITE_NO_SHARE)
    expect((await getItem(writer, id)).can).toEqual(WRITE_NO_SHARE)
    // A group permission change is no registry write: the answer must still follow it.
    await send(h.admin, { method: 'POST', url: `/api/v1/groups/id/${sharers}/update`, payload: { user_ids: [writer.id] } })
    expect((await listItem(writer, id))?.can).toEqual(ALL)
    expect((await getItem(writer, id)).can).toEqual(ALL)
    await send(h.admin, { method: 'POST', url: `/api/v1/groups/id/${sharers}/update`, payload: { permissions: { sharing: { public_models: false } } } })
    expect((await listItem(writer, id))?.can).toEqual(WRITE_NO_SHARE)
    expect((await getItem(writer, id)).can).toEqual(WRITE_NO_SHARE)
    // The uncached path answers the same.
    expect((await listItem(writer, id, { 'cache-control': 'no-cache' }))?.can).toEqual(WRITE_NO_SHARE)
    await send(h.admin, { method: 'POST', url: `/api/v1/groups/id/${sharers}/update`, payload: { user_ids: [] } })
  })

  it('an admin without BYPASS_ADMIN_ACCESS_CONTROL has the abilities its grants give, sharing included', async () => {
    const strict = await createHarness(dialect, { BYPASS_ADMIN_ACCESS_CONTROL: 'false' })
    try {
      const otherAdmin = await strict.createUser('admin', 'Other admin')
      const id = nextId()
      await strict.request({
        method: 'POST',
        url: `${M}/create`,
        headers: strict.admin.auth,
        payload: { id, base_model_id: null, name: id, access_grants: [{ principal_type: 'user', principal_id: otherAdmin.id, permission: 'read' }] },
      })
      const res = await strict.request({ method: 'GET', url: `${M}/model`, query: { id }, headers: otherAdmin.auth })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json().can).toEqual(READ_ONLY)
      const own = await strict.request({ method: 'GET', url: `${M}/model`, query: { id }, headers: strict.admin.auth })
      expect(own.json().can).toEqual(ALL)
    } finally {
      await strict.close()
    }
  })

  it("exports and the admin's override list carry no abilities", async () => {
    const id = await createShared(nextId()).then((m) => m.id)
    const exported = await h.request({ method: 'GET', url: `${M}/export`, headers: h.admin.auth })
    expect(exported.statusCode, exported.body).toBe(200)
    const model = exported.json<Record<string, unknown>[]>().find((m) => m['id'] === id)
    expect(model).toBeDefined()
    expect(model).not.toHaveProperty('can')
    const overrides = await send<Record<string, unknown>[]>(h.admin, { method: 'GET', url: `${M}/base` })
    expect(overrides.find((m) => m['id'] === BASE)).toBeDefined()
    for (const row of overrides) expect(row).not.toHaveProperty('can')
  })
})

describe.each(DIALECTS)('abilities on a conflicting row (%s)', (dialect) => {
  const SERVED = 'abl-llama'
  const CONFLICT = { read: true, write: false, share: false, delete: true }
  let h: Harness
  let provider: FakeProvider
  /** workspace.models and sharing.models: owns the row that becomes a conflict. */
  let squatter: TestAccount
  /** Read grantee of that row. */
  let reader: TestAccount
  let seq = 0
  const nextId = () => `abl-squat-${++seq}-${Math.random().toString(36).slice(2, 8)}`

  const ok = (res: { statusCode: number; body: string }) => expect(res.statusCode, res.body).toBe(200)
  /** Makes the provider serve `models` and has the catalog ask it again (no registry write). */
  async function serve(models: string[]): Promise<void> {
    provider.setModels(models)
    ok(await h.send(h.admin, { method: 'GET', url: '/api/models', query: { refresh: 'true' } }))
  }
  const listItem = async (who: TestAccount, id: string, headers: Record<string, string> = {}): Promise<Item | undefined> => {
    const res = await h.send(who, { method: 'GET', url: `${M}/list`, query: { query: id }, headers })
    ok(res)
    return res.json<{ items: Item[] }>().items.find((m) => m.id === id)
  }
  const getItem = async (who: TestAccount, id: string): Promise<Item> => {
    const res = await h.send(who, { method: 'GET', url: `${M}/model`, query: { id } })
    ok(res)
    return res.json<Item>()
  }
  /** `can` and `write_access` of `id` for `who`, in the list (cached and not) and GET /model. */
  async function expectAbilities(who: TestAccount, id: string, can: Can): Promise<void> {
    for (const item of [await listItem(who, id), await listItem(who, id, { 'cache-control': 'no-cache' }), await getItem(who, id)]) {
      expect(item?.can, who.name).toEqual(can)
      expect(item?.write_access, who.name).toBe(can.write)
    }
  }

  beforeAll(async () => {
    provider = await startFakeProvider({ models: [SERVED] })
    h = await createHarness(dialect, { MODELS_CACHE_TTL: '3600', PROVIDER_LIST_TIMEOUT_MS: '2000' })
    ok(await h.send(h.admin, { method: 'POST', url: '/api/v1/connections/create', payload: { name: 'Fake', base_url: provider.baseUrl } }))
    squatter = await h.createUser('user', 'Squatter')
    reader = await h.createUser('user', 'Reader')
    await createGroup(h, 'Squatters', { workspace: { models: true }, sharing: { models: true } }, [squatter.id])
    await h.shareBase(SERVED)
    await serve([SERVED])
  })
  afterAll(async () => {
    await h?.close()
    await provider?.close()
  })

  it('owner and admin: no write or share on a conflicting row, delete kept; back to everything when the provider drops the id', async () => {
    const id = nextId()
    const created = await h.send(squatter, {
      method: 'POST',
      url: `${M}/create`,
      payload: { id, base_model_id: SERVED, name: id, meta: {}, params: {}, access_grants: [userGrant(reader.id)] },
    })
    ok(created)
    expect(created.json<Item>().can).toEqual(ALL)
    // Warm the page and model caches before the catalog changes.
    await expectAbilities(squatter, id, ALL)
    await expectAbilities(h.admin, id, ALL)
    await expectAbilities(reader, id, READ_ONLY)

    // The provider starts serving the id: no registry write, yet cached answers must follow.
    await serve([SERVED, id])
    await expectAbilities(squatter, id, CONFLICT)
    // BYPASS_ADMIN_ACCESS_CONTROL: the admin may delete it (to resolve the conflict), not change it.
    await expectAbilities(h.admin, id, CONFLICT)
    await expectAbilities(reader, id, READ_ONLY)
    // What `can` says is what the routes do: changes answer 409, not offered.
    for (const who of [squatter, h.admin]) {
      const res = await h.send(who, { method: 'POST', url: `${M}/model/update`, payload: { id, name: 'changed' } })
      expect(res.statusCode, res.body).toBe(409)
      expect(res.json().code).toBe('MODEL_ID_UNAVAILABLE')
    }

    // The provider drops the id again: the row is an ordinary preset of its owner's.
    await serve([SERVED])
    await expectAbilities(squatter, id, ALL)
    await expectAbilities(h.admin, id, ALL)

    await serve([SERVED, id])
    await expectAbilities(squatter, id, CONFLICT)
    ok(await h.send(squatter, { method: 'POST', url: `${M}/model/delete`, payload: { id } }))
    await serve([SERVED])
  })

  it("an admin's row on a served id is no conflict: everything", async () => {
    const id = nextId()
    await serve([SERVED, id])
    ok(await h.send(h.admin, { method: 'POST', url: `${M}/create`, payload: { id, base_model_id: SERVED, name: id, meta: {}, params: {} } }))
    await expectAbilities(h.admin, id, ALL)
    await serve([SERVED])
  })
})
