/**
 * Route tests of the model registry (/api/v1/models, design.md §2.1–§2.3): the auth ladder of every
 * endpoint, and the behaviour of each one (list filters and order, validation of ids, params and
 * access forms, sharing and feature permissions, profile images). The access-rule table and property
 * tests live in models.access-*.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import type { AccessModelOut, GrantIn, ListOut, ModelOut } from './support/model-types.js'
import { createHarness, type Harness, type InjectOptions, type TestAccount } from './support/harness.js'

const M = '/api/v1/models'

let seq = 0
/** A unique, collation-neutral token (lower-case letters and digits only). */
const token = () => `${(++seq).toString(36)}${Math.random().toString(36).slice(2, 8)}`.replace(/[^a-z0-9]/g, '')
const preset = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  base_model_id: 'base-llm',
  name: `Model ${id}`,
  meta: {},
  params: {},
  ...extra,
})
const grantKeys = (model: { access_grants: GrantIn[] }) => model.access_grants.map((g) => `${g.principal_type}:${g.principal_id}:${g.permission}`).sort()
const ids = (items: { id: string }[]) => items.map((m) => m.id)
const sortedIds = (items: { id: string }[]) => ids(items).sort()
const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` })
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='
const PNG_URI = `data:image/png;base64,${PNG_BASE64}`

describe.each(DIALECTS)('models routes on %s', (dialect) => {
  let h: Harness
  /** A non-admin with workspace.models and sharing.models (not sharing.public_models), distinctive name. */
  let creator: TestAccount
  /** A non-admin with no feature permission. */
  let plain: TestAccount
  let pending: TestAccount
  /** An API key of `plain` that worked and was then revoked. */
  let revokedKey: string
  let creatorsGroup: string
  let ownerWord: string

  // ─── helpers ───────────────────────────────────────────────────────────────────────────────────
  const send = (who: TestAccount | undefined, options: InjectOptions) =>
    h.request({ ...options, headers: { ...(who?.auth ?? {}), ...(options.headers ?? {}) } })
  const tryCreate = (who: TestAccount, body: unknown) => send(who, { method: 'POST', url: `${M}/create`, payload: body })
  async function create(who: TestAccount, body: Record<string, unknown>): Promise<ModelOut> {
    const res = await tryCreate(who, body)
    expect(res.statusCode, res.body).toBe(200)
    return res.json<ModelOut>()
  }
  const tryGet = (who: TestAccount, id: string) => send(who, { method: 'GET', url: `${M}/model`, query: { id } })
  async function getModel(who: TestAccount, id: string): Promise<AccessModelOut> {
    const res = await tryGet(who, id)
    expect(res.statusCode, res.body).toBe(200)
    return res.json<AccessModelOut>()
  }
  async function list(who: TestAccount, query: Record<string, string> = {}): Promise<ListOut> {
    const res = await send(who, { method: 'GET', url: `${M}/list`, query })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<ListOut>()
  }
  const tryUpdate = (who: TestAccount, body: unknown, query?: Record<string, string>) =>
    send(who, { method: 'POST', url: `${M}/model/update`, payload: body, ...(query && { query }) })
  const tryAccess = (who: TestAccount, body: unknown) => send(who, { method: 'POST', url: `${M}/model/access/update`, payload: body })
  const image = (who: TestAccount | undefined, id: string, headers: Record<string, string> = {}) =>
    send(who, { method: 'GET', url: `${M}/model/profile/image`, query: { id }, headers })
  const db = () => h.services.database.db
  async function rowExists(id: string): Promise<boolean> {
    return (await db().selectFrom('models').select('id').where('id', '=', id).executeTakeFirst()) !== undefined
  }
  async function createGroup(name: string, permissions: Record<string, unknown>, userIds: string[]): Promise<string> {
    const res = await send(h.admin, { method: 'POST', url: '/api/v1/groups/create', payload: { name, permissions, user_ids: userIds } })
    expect(res.statusCode, res.body).toBe(200)
    return res.json().id as string
  }
  function expectError(res: { statusCode: number; json: () => { detail?: unknown; code?: unknown } }, status: number, code: string) {
    expect(res.statusCode, JSON.stringify(res.json())).toBe(status)
    const body = res.json()
    expect(body.code).toBe(code)
    expect(typeof body.detail).toBe('string')
    expect((body.detail as string).length).toBeGreaterThan(0)
  }

  beforeAll(async () => {
    h = await createHarness(dialect)
    ownerWord = `quillon${token()}`
    creator = await h.createUser('user', `Bramble ${ownerWord.toUpperCase()} Smith`)
    plain = await h.createUser('user')
    pending = await h.createUser('pending')
    creatorsGroup = await createGroup('Creators', { workspace: { models: true }, sharing: { models: true } }, [creator.id])
    // Non-admins build presets only on bases they may use (issue #10, hole 2): the admin shares these.
    await h.shareBase(['base-llm', 'other-base', 'llama3.1:8b'])

    const key = await send(plain, { method: 'POST', url: '/api/v1/auths/api_key' })
    if (key.statusCode !== 200) throw new Error(`api key: ${key.body}`)
    revokedKey = key.json().api_key as string
    const live = await h.request({ method: 'GET', url: `${M}/list`, headers: bearer(revokedKey) })
    if (live.statusCode !== 200) throw new Error(`a live API key must work on /models/list: ${live.body}`)
    const revoked = await send(plain, { method: 'DELETE', url: '/api/v1/auths/api_key' })
    if (revoked.statusCode !== 200) throw new Error(`revoke: ${revoked.body}`)
  })
  afterAll(async () => h?.close())

  // ─── GET /list ─────────────────────────────────────────────────────────────────────────────────
  describe('GET /list', () => {
    it('answers {items, total}; each item carries its owner {id,name,email,role} and write_access', async () => {
      const w = token()
      const mine = await create(creator, preset(`own-${w}`))
      const publicOne = await create(h.admin, preset(`pub-${w}`, { access_control: null }))
      const page = await list(creator, { query: w })
      expect(page.total).toBe(2)
      expect(sortedIds(page.items)).toEqual([mine.id, publicOne.id].sort())
      const own = page.items.find((m) => m.id === mine.id)
      const pub = page.items.find((m) => m.id === publicOne.id)
      expect(own?.user).toEqual({ id: creator.id, name: creator.name, email: creator.email, role: 'user' })
      expect(own?.write_access).toBe(true)
      expect(pub?.user).toEqual({ id: h.admin.id, name: h.admin.name, email: h.admin.email, role: 'admin' })
      expect(pub?.write_access).toBe(false)
      // The item is the full ModelModel too.
      expect(own).toMatchObject({ base_model_id: 'base-llm', name: mine.name, params: {}, is_active: true, access_grants: [] })
      const adminView = await list(h.admin, { query: w })
      expect(adminView.items.every((m) => m.write_access)).toBe(true)
    })

    it('lists presets only: base-model override rows are not in the list', async () => {
      const w = token()
      await create(h.admin, preset(`preset-${w}`))
      await create(h.admin, { id: `override-${w}`, base_model_id: null, name: `Override ${w}`, meta: {}, params: {} })
      expect(ids((await list(h.admin, { query: w })).items)).toEqual([`preset-${w}`])
    })

    it('query matches name, id, base model, owner name and owner email, case-insensitively', async () => {
      const w = token()
      const byName = await create(h.admin, preset(`a-${token()}`, { name: `Tutor NM${w.toUpperCase()}x` }))
      const byId = await create(h.admin, preset(`id${w}-b`))
      const byBase = await create(h.admin, preset(`c-${token()}`, { base_model_id: `Vendor/BS${w.toUpperCase()}` }))
      const byOwner = await create(creator, preset(`d-${token()}`))
      await create(h.admin, preset(`e-${token()}`, { name: 'Unrelated', meta: { description: `nm${w} bs${w}` } }))

      expect(ids((await list(h.admin, { query: `nm${w}` })).items)).toEqual([byName.id])
      expect(ids((await list(h.admin, { query: `ID${w.toUpperCase()}` })).items)).toEqual([byId.id])
      expect(ids((await list(h.admin, { query: `vendor/bs${w}` })).items)).toEqual([byBase.id])
      const byOwnerName = await list(h.admin, { query: ownerWord.toLowerCase(), limit: '100' })
      expect(ids(byOwnerName.items)).toContain(byOwner.id)
      expect(byOwnerName.items.every((m) => m.user_id === creator.id)).toBe(true)
      const byOwnerEmail = await list(h.admin, { query: creator.email.toUpperCase(), limit: '100' })
      expect(ids(byOwnerEmail.items)).toContain(byOwner.id)
      expect(byOwnerEmail.items.every((m) => m.user_id === creator.id)).toBe(true)
      expect(byOwnerEmail.total).toBe(byOwnerEmail.items.length)
    })

    it('query is case-insensitive beyond ASCII, and the exact text always matches', async () => {
      const w = token()
      const named = await create(h.admin, preset(`uni-${w}`, { name: `Über Tutor Ω ${w}` }))
      const byId = await create(h.admin, preset(`Ärger/Modell-${w}`))
      for (const query of [`Über Tutor Ω ${w}`, `über tutor ω ${w}`, `ÜBER TUTOR Ω ${w}`]) {
        expect(ids((await list(h.admin, { query })).items), query).toEqual([named.id])
      }
      for (const query of [`Ärger/Modell-${w}`, `ärger/modell-${w}`]) {
        expect(ids((await list(h.admin, { query })).items), query).toEqual([byId.id])
      }
      const tagged = await create(h.admin, preset(`unitag-${w}`, { meta: { tags: [`Éclair${w}`] } }))
      expect(ids((await list(h.admin, { tag: `éCLAIR${w}` })).items)).toEqual([tagged.id])
    })

    it('treats % _ and \\ in the query literally ("50%" does not match "500")', async () => {
      const w = token()
      const percent = await create(h.admin, preset(`p1-${w}`, { name: `Deal ${w} 50% off` }))
      await create(h.admin, preset(`p2-${w}`, { name: `Deal ${w} 500 off` }))
      const underscore = await create(h.admin, preset(`u1-${w}`, { name: `Snake ${w}_x` }))
      await create(h.admin, preset(`u2-${w}`, { name: `Snake ${w}ax` }))
      const backslash = await create(h.admin, preset(`b1-${w}`, { name: `Path ${w}\\q` }))
      await create(h.admin, preset(`b2-${w}`, { name: `Path ${w}q` }))

      expect(ids((await list(h.admin, { query: `${w} 50%` })).items)).toEqual([percent.id])
      expect(ids((await list(h.admin, { query: `${w}_x` })).items)).toEqual([underscore.id])
      expect(ids((await list(h.admin, { query: `${w}\\q` })).items)).toEqual([backslash.id])
      const all = await list(h.admin, { query: `%` })
      expect(all.items.every((m) => JSON.stringify([m.name, m.id, m.base_model_id, m.user?.name, m.user?.email]).includes('%'))).toBe(true)
    })

    it('tag matches meta.tags[].name only (case-insensitive), not other text of meta', async () => {
      const w = token()
      const tagged = await create(h.admin, preset(`t1-${w}`, { meta: { tags: [{ name: `Zebra${w}` }] } }))
      const taggedAsString = await create(h.admin, preset(`t2-${w}`, { meta: { tags: [`zebra${w}`, 'other'] } }))
      await create(h.admin, preset(`t3-${w}`, { meta: { description: `zebra${w}`, tags: [{ name: 'unrelated' }] } }))
      await create(h.admin, preset(`t4-${w}`, { meta: { extra: { name: `zebra${w}` }, note: `zebra${w}` } }))
      await create(h.admin, preset(`t5-${w}`, { name: `zebra${w}` }))
      const page = await list(h.admin, { tag: `ZEBRA${w}` })
      expect(sortedIds(page.items)).toEqual([tagged.id, taggedAsString.id].sort())
      expect(page.total).toBe(2)
      // A prefix of a tag is not the tag.
      expect((await list(h.admin, { tag: `zebra${w.slice(0, -1)}` })).total).toBe(0)
    })

    describe('order and pages', () => {
      const w = token()
      const names = ['bbb', 'aaa', 'ccc', 'aaa', 'bbb']
      const made: string[] = []
      beforeAll(async () => {
        // Timestamps are epoch seconds: set distinct ones directly so the order is observable in one run.
        for (const [index, name] of names.entries()) {
          const id = `ord-${w}-${String.fromCharCode(97 + index)}`
          await create(h.admin, preset(id, { name: `${name} ${w}` }))
          made.push(id)
        }
        const stamps = [
          [5000, 9000],
          [1000, 9000],
          [3000, 7000],
          [3000, 8000],
          [2000, 6000],
        ]
        for (const [index, id] of made.entries()) {
          const [created, updated] = stamps[index] ?? [0, 0]
          await db().updateTable('models').set({ created_at: created, updated_at: updated }).where('id', '=', id).execute()
        }
      })
      const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((x) => `ord-${w}-${x}`)

      it('defaults to updated_at desc, ties broken by id', async () => {
        const page = await list(h.admin, { query: `ord-${w}` })
        expect(page.total).toBe(5)
        const order = ids(page.items)
        // updated 9000 (a, b) first, then d 8000, c 7000, e 6000.
        expect(order.slice(2)).toEqual([d, c, e])
        expect(new Set(order.slice(0, 2))).toEqual(new Set([a, b]))
        // The tie (a, b) comes out the same way every time.
        for (let i = 0; i < 3; i++) expect(ids((await list(h.admin, { query: `ord-${w}` })).items)).toEqual(order)
        expect(ids((await list(h.admin, { query: `ord-${w}`, order_by: 'updated_at', direction: 'desc' })).items)).toEqual(order)
      })

      it('orders by name, created_at and updated_at in both directions, ties by id deterministically', async () => {
        const byName = ids((await list(h.admin, { query: `ord-${w}`, order_by: 'name', direction: 'asc' })).items)
        expect(byName).toEqual([b, d, a, e, c])
        const byNameDesc = ids((await list(h.admin, { query: `ord-${w}`, order_by: 'name', direction: 'desc' })).items)
        // Reversing the sort key reverses the groups; within a tie the order is by id (either way, but fixed).
        expect(byNameDesc.slice(0, 1)).toEqual([c])
        expect(new Set(byNameDesc.slice(1, 3))).toEqual(new Set([a, e]))
        expect(new Set(byNameDesc.slice(3))).toEqual(new Set([b, d]))
        for (const tie of [byNameDesc.slice(1, 3), byNameDesc.slice(3)]) {
          expect([[...tie].sort().join(), [...tie].sort().reverse().join()]).toContain(tie.join())
        }

        const created = ids((await list(h.admin, { query: `ord-${w}`, order_by: 'created_at', direction: 'asc' })).items)
        expect(created).toEqual([b, e, c, d, a])
        const createdDesc = ids((await list(h.admin, { query: `ord-${w}`, order_by: 'created_at', direction: 'desc' })).items)
        expect(createdDesc[0]).toBe(a)
        expect(createdDesc.slice(3)).toEqual([e, b])
        const updatedAsc = ids((await list(h.admin, { query: `ord-${w}`, order_by: 'updated_at', direction: 'asc' })).items)
        expect(updatedAsc.slice(0, 3)).toEqual([e, c, d])
        // Same answer every time.
        for (let i = 0; i < 3; i++) {
          expect(ids((await list(h.admin, { query: `ord-${w}`, order_by: 'name', direction: 'desc' })).items)).toEqual(byNameDesc)
        }
      })

      it('pages with page/limit, total stays the count of the whole set, pages never overlap', async () => {
        const whole = ids((await list(h.admin, { query: `ord-${w}`, order_by: 'name', direction: 'asc' })).items)
        const seen: string[] = []
        for (const [page, size] of [
          [1, 2],
          [2, 2],
          [3, 1],
        ] as const) {
          const res = await list(h.admin, { query: `ord-${w}`, order_by: 'name', direction: 'asc', page: String(page), limit: '2' })
          expect(res.total).toBe(5)
          expect(res.items).toHaveLength(size)
          seen.push(...ids(res.items))
        }
        expect(seen).toEqual(whole)
        const beyond = await list(h.admin, { query: `ord-${w}`, page: '4', limit: '2' })
        expect(beyond).toEqual({ items: [], total: 5 })
        // Ties across a page boundary: limit 1 walks the same order as one big page.
        const oneByOne: string[] = []
        for (let page = 1; page <= 5; page++) {
          oneByOne.push(...ids((await list(h.admin, { query: `ord-${w}`, order_by: 'updated_at', direction: 'desc', page: String(page), limit: '1' })).items))
        }
        expect(oneByOne).toEqual(ids((await list(h.admin, { query: `ord-${w}` })).items))
      })

      it('defaults to 30 items a page and accepts limit up to 100; limit > 100, limit 0 or page 0 → 400', async () => {
        expect((await list(h.admin, { limit: '100' })).items.length).toBeLessThanOrEqual(100)
        const queries: Record<string, string>[] = [{ limit: '101' }, { limit: '0' }, { page: '0' }, { order_by: 'owner' }, { direction: 'up' }]
        for (const query of queries) {
          const res = await send(h.admin, { method: 'GET', url: `${M}/list`, query })
          expectError(res, 400, 'VALIDATION_ERROR')
          expect(res.json().detail).toContain(Object.keys(query)[0])
        }
      })
    })

    it('a page holds 30 items by default', async () => {
      const w = token()
      const models = Array.from({ length: 31 }, (_, i) => preset(`page-${w}-${String(i).padStart(2, '0')}`))
      const res = await send(h.admin, { method: 'POST', url: `${M}/import`, payload: models })
      expect(res.statusCode, res.body).toBe(200)
      const page = await list(h.admin, { query: `page-${w}` })
      expect(page.total).toBe(31)
      expect(page.items).toHaveLength(30)
      expect((await list(h.admin, { query: `page-${w}`, page: '2' })).items).toHaveLength(1)
    })

    it("view_option created lists the caller's models, shared the others' they may read", async () => {
      const w = token()
      const mine = await create(creator, preset(`vo-mine-${w}`))
      const shared = await create(
        h.admin,
        preset(`vo-shared-${w}`, { access_grants: [{ principal_type: 'user', principal_id: creator.id, permission: 'read' }] }),
      )
      await create(h.admin, preset(`vo-private-${w}`))
      expect(ids((await list(creator, { query: w, view_option: 'created' })).items)).toEqual([mine.id])
      expect(ids((await list(creator, { query: w, view_option: 'shared' })).items)).toEqual([shared.id])
      expect(sortedIds((await list(creator, { query: w })).items)).toEqual([mine.id, shared.id].sort())
    })

    it('leaves inline (data:) profile images out of list items, but GET /model keeps them', async () => {
      const w = token()
      await create(h.admin, preset(`img-inline-${w}`, { meta: { profile_image_url: PNG_URI, description: 'has a picture' } }))
      await create(h.admin, preset(`img-url-${w}`, { meta: { profile_image_url: 'https://example.com/a.png' } }))
      const page = await list(h.admin, { query: `img-inline-${w}` })
      expect(page.items).toHaveLength(1)
      expect(page.items[0]?.meta).toEqual({ description: 'has a picture' })
      expect(JSON.stringify(page)).not.toContain('base64')
      const urlItem = (await list(h.admin, { query: `img-url-${w}` })).items[0]
      expect(urlItem?.meta['profile_image_url']).toBe('https://example.com/a.png')
      expect((await getModel(h.admin, `img-inline-${w}`)).meta['profile_image_url']).toBe(PNG_URI)
    })
  })

  // ─── GET /base, GET /tags ──────────────────────────────────────────────────────────────────────
  describe('GET /base', () => {
    it('answers the base-model override rows (base_model_id null) only', async () => {
      const w = token()
      await create(h.admin, { id: `ov-${w}`, base_model_id: null, name: 'Renamed provider model', meta: { hidden: true }, params: { temperature: 0.1 } })
      await create(h.admin, preset(`pr-${w}`))
      const res = await send(h.admin, { method: 'GET', url: `${M}/base` })
      expect(res.statusCode).toBe(200)
      const rows = res.json<ModelOut[]>()
      expect(rows.every((r) => r.base_model_id === null)).toBe(true)
      const row = rows.find((r) => r.id === `ov-${w}`)
      expect(row).toMatchObject({ name: 'Renamed provider model', meta: { hidden: true }, params: { temperature: 0.1 }, user_id: h.admin.id })
      expect(rows.some((r) => r.id === `pr-${w}`)).toBe(false)
    })
  })

  describe('GET /tags', () => {
    it('answers sorted unique tag names over the presets the caller can read', async () => {
      const w = token()
      await create(h.admin, preset(`tg1-${w}`, { meta: { tags: [`m${w}`, `k${w}`] }, access_control: null }))
      await create(h.admin, preset(`tg2-${w}`, { meta: { tags: [{ name: `K${w}` }, { name: `a${w}` }] }, access_control: null }))
      await create(h.admin, preset(`tg3-${w}`, { meta: { tags: [`secret${w}`] } }))
      const adminTags = (await send(h.admin, { method: 'GET', url: `${M}/tags` })).json<string[]>()
      const mineAdmin = adminTags.filter((t) => t.toLowerCase().endsWith(w))
      expect(mineAdmin.map((t) => t.toLowerCase())).toEqual([`a${w}`, `k${w}`, `m${w}`, `secret${w}`])
      const res = await send(plain, { method: 'GET', url: `${M}/tags` })
      expect(res.statusCode).toBe(200)
      const plainTags = res.json<string[]>().filter((t) => t.toLowerCase().endsWith(w))
      expect(plainTags.map((t) => t.toLowerCase())).toEqual([`a${w}`, `k${w}`, `m${w}`])
      const all = res.json<string[]>()
      expect(all).toEqual([...all].sort((x, y) => x.localeCompare(y)))
      expect(new Set(all.map((t) => t.toLowerCase())).size).toBe(all.length)
    })
  })

  // ─── POST /create ──────────────────────────────────────────────────────────────────────────────
  describe('POST /create', () => {
    it('answers the ModelModel: owner = caller, both access forms, epoch-second timestamps, is_active default true', async () => {
      const before = Math.floor(Date.now() / 1000)
      const id = `new-${token()}`
      const model = await create(creator, {
        id,
        base_model_id: 'llama3.1:8b',
        name: '  SQL tutor  ',
        meta: { description: 'Teaches SQL', tags: ['sql', { name: 'Teaching' }], custom_key: { nested: [1, 2] } },
        params: { system: 'You teach SQL.', temperature: 0.2 },
      })
      expect(model).toMatchObject({
        id,
        user_id: creator.id,
        base_model_id: 'llama3.1:8b',
        name: 'SQL tutor',
        params: { system: 'You teach SQL.', temperature: 0.2 },
        meta: { description: 'Teaches SQL', tags: [{ name: 'sql' }, { name: 'Teaching' }], custom_key: { nested: [1, 2] } },
        access_control: {},
        access_grants: [],
        is_active: true,
      })
      expect(model.created_at).toBeGreaterThanOrEqual(before)
      expect(model.created_at).toBeLessThan(before + 60)
      expect(model.updated_at).toBe(model.created_at)
      const read = await getModel(creator, id)
      expect({ ...read, user: undefined, write_access: undefined }).toEqual({ ...model, user: undefined, write_access: undefined })
      expect(await rowExists(id)).toBe(true)
    })

    it('normalises tags given as strings to {name}', async () => {
      const model = await create(h.admin, preset(`tags-${token()}`, { meta: { tags: ['alpha', { name: 'beta' }, 'gamma'] } }))
      expect(model.meta['tags']).toEqual([{ name: 'alpha' }, { name: 'beta' }, { name: 'gamma' }])
    })

    it('stores is_active false when asked', async () => {
      expect((await create(h.admin, preset(`off-${token()}`, { is_active: false }))).is_active).toBe(false)
    })

    const badParams: [string, unknown, string[]][] = [
      ['temperature', 3, ['0', '2']],
      ['temperature', 'hot', ['0', '2']],
      ['top_p', -0.1, ['0', '1']],
      ['top_k', 1.5, ['integer']],
      ['top_k', -1, ['0']],
      ['min_p', 1.5, ['0', '1']],
      ['max_tokens', 0, ['1']],
      ['max_tokens', 10.5, ['integer']],
      ['frequency_penalty', 2.5, ['-2', '2']],
      ['presence_penalty', -3, ['-2', '2']],
      ['repeat_penalty', -1, ['0']],
      ['seed', 1.2, ['integer']],
      ['num_ctx', 0, ['1']],
      ['stop', 5, ['string']],
      ['stop', ['a', 5], ['string']],
      ['custom_params', 'x', ['object']],
      ['custom_params', [1], ['object']],
      ['system', 5, ['string']],
      ['reasoning_effort', 1, ['string']],
    ]
    it.each(badParams)('params.%s = %j → 400 INVALID_PARAMS naming the key and the range; nothing stored', async (key, value, range) => {
      const id = `bad-param-${token()}`
      const res = await tryCreate(h.admin, preset(id, { params: { temperature: 0.5, [key]: value } }))
      expectError(res, 400, 'INVALID_PARAMS')
      const detail = res.json().detail as string
      expect(detail).toContain(key)
      const afterKey = detail.slice(detail.indexOf(key))
      for (const fragment of range) expect(afterKey).toContain(fragment)
      expect(await rowExists(id)).toBe(false)
    })

    it('params that are not an object → 400 INVALID_PARAMS', async () => {
      for (const params of [[1, 2], 'temperature=1', 5]) {
        expectError(await tryCreate(h.admin, preset(`pp-${token()}`, { params })), 400, 'INVALID_PARAMS')
      }
    })

    it('accepts every known key at the edges of its range, null for any key, and keeps unknown keys verbatim', async () => {
      const params = {
        system: '',
        temperature: 2,
        top_p: 0,
        top_k: 0,
        min_p: 1,
        max_tokens: 1,
        frequency_penalty: -2,
        presence_penalty: 2,
        repeat_penalty: 0,
        seed: -42,
        stop: ['</s>', '\n\n'],
        num_ctx: 1,
        reasoning_effort: 'high',
        custom_params: { response_format: '{"type":"json_object"}', nested: { a: [1, { b: null }] } },
        mirostat: 2,
        keep_alive: '5m',
        logit_bias: { '50256': -100 },
        function_calling: 'native',
        weird: [null, true, 1.5, 'x', { y: [] }],
      }
      const model = await create(h.admin, preset(`edges-${token()}`, { params }))
      expect(model.params).toEqual(params)
      const nulls = Object.fromEntries(['temperature', 'top_p', 'top_k', 'max_tokens', 'seed', 'stop', 'system', 'custom_params'].map((k) => [k, null]))
      const withNulls = await create(h.admin, preset(`nulls-${token()}`, { params: nulls }))
      expect(withNulls.params).toEqual(nulls)
      expect((await create(h.admin, preset(`stop-${token()}`, { params: { stop: 'END' } }))).params).toEqual({ stop: 'END' })
    })

    it('validates the id: 257 characters or empty → MODEL_ID_TOO_LONG, a control character → INVALID_MODEL_ID', async () => {
      expectError(await tryCreate(h.admin, preset('x'.repeat(257))), 400, 'MODEL_ID_TOO_LONG')
      expectError(await tryCreate(h.admin, preset('')), 400, 'MODEL_ID_TOO_LONG')
      for (const id of ['bad\u0000id', 'tab\there', 'new\nline', 'del\u007f']) {
        expectError(await tryCreate(h.admin, preset(id)), 400, 'INVALID_MODEL_ID')
      }
      expect((await db().selectFrom('models').select('id').where('id', 'like', 'xxxxxxxxxx%').execute()).length).toBe(0)
    })

    it('accepts ids of exactly 256 characters, counted as characters', async () => {
      for (const unit of ['a', '模', '😀']) {
        const prefix = `${token()}-`
        const id = prefix + unit.repeat(256 - prefix.length)
        expect([...id].length).toBe(256)
        const model = await create(h.admin, preset(id))
        expect(model.id).toBe(id)
        expect((await getModel(h.admin, id)).id).toBe(id)
      }
    })

    it('a taken id → 409 MODEL_ID_TAKEN (one the caller cannot read: MODEL_ID_UNAVAILABLE); the first model is untouched', async () => {
      const id = `taken-${token()}`
      const first = await create(h.admin, preset(id, { name: 'First', access_control: null }))
      const res = await tryCreate(creator, preset(id, { name: 'Second' }))
      expectError(res, 409, 'MODEL_ID_TAKEN')
      const stored = await getModel(h.admin, id)
      expect(stored).toMatchObject({ name: 'First', user_id: h.admin.id, updated_at: first.updated_at })
      // A model the caller cannot read is not said to exist (issue #10, hole 13).
      const hidden = `taken-${token()}`
      await create(h.admin, preset(hidden))
      expectError(await tryCreate(creator, preset(hidden)), 409, 'MODEL_ID_UNAVAILABLE')
    })

    it('base_model_id equal to the id → 400 (admin too)', async () => {
      const id = `self-${token()}`
      expectError(await tryCreate(h.admin, { ...preset(id), base_model_id: id }), 400, 'VALIDATION_ERROR')
      expectError(await tryCreate(creator, { ...preset(id), base_model_id: id }), 400, 'VALIDATION_ERROR')
      expect(await rowExists(id)).toBe(false)
    })

    it('a non-admin may not create a base-model override (base_model_id null or absent) → 403', async () => {
      const id = `ovr-${token()}`
      const res = await tryCreate(creator, { id, base_model_id: null, name: 'Override', meta: {}, params: {} })
      expectError(res, 403, 'ACCESS_PROHIBITED')
      expect(res.json().detail).toMatch(/base_model_id|override/i)
      expectError(await tryCreate(creator, { id, name: 'Override', meta: {}, params: {} }), 403, 'ACCESS_PROHIBITED')
      expect(await rowExists(id)).toBe(false)
    })

    it('without workspace.models → 403 naming the permission; with it (through a group) → 200', async () => {
      const id = `perm-${token()}`
      const res = await tryCreate(plain, preset(id))
      expectError(res, 403, 'ACCESS_PROHIBITED')
      expect(res.json().detail).toContain('workspace.models')
      expect(await rowExists(id)).toBe(false)
      expect((await create(creator, preset(id))).user_id).toBe(creator.id)
    })

    it('rejects bodies without a name or with a bad meta (400)', async () => {
      for (const body of [
        { id: `nm-${token()}`, base_model_id: 'b', meta: {}, params: {} },
        preset(`nm-${token()}`, { name: '   ' }),
        preset(`nm-${token()}`, { meta: 'nope' }),
        preset(`nm-${token()}`, { meta: { tags: [{ notname: 1 }] } }),
        preset(`nm-${token()}`, { is_active: 'yes' }),
      ]) {
        const res = await tryCreate(h.admin, body)
        expect(res.statusCode, res.body).toBe(400)
        expect(typeof res.json().detail).toBe('string')
        expect(await rowExists(body.id)).toBe(false)
      }
    })
  })

  // ─── Access forms (create, update, access/update) ──────────────────────────────────────────────
  describe('access forms', () => {
    let groupId: string
    beforeAll(async () => {
      groupId = await createGroup(`Readers ${token()}`, {}, [plain.id])
    })

    it('create without any access form makes a private model: access_control {} and access_grants []', async () => {
      const model = await create(h.admin, preset(`priv-${token()}`))
      expect(model.access_control).toEqual({})
      expect(model.access_grants).toEqual([])
      expectError(await tryGet(plain, model.id), 404, 'MODEL_NOT_FOUND')
    })

    it('access_control null makes it public: both forms say so and another user can read it', async () => {
      const model = await create(h.admin, preset(`pub-${token()}`, { access_control: null }))
      expect(model.access_control).toBeNull()
      expect(grantKeys(model)).toEqual(['user:*:read'])
      const seen = await getModel(plain, model.id)
      expect(seen.write_access).toBe(false)
    })

    it('accepts the access_control form and answers both forms', async () => {
      const model = await create(
        h.admin,
        preset(`ac-${token()}`, {
          access_control: { read: { group_ids: [groupId], user_ids: [creator.id] }, write: { group_ids: [], user_ids: [creator.id] } },
        }),
      )
      expect(grantKeys(model)).toEqual([`group:${groupId}:read`, `user:${creator.id}:read`, `user:${creator.id}:write`].sort())
      expect(model.access_control).toEqual({
        read: { group_ids: [groupId], user_ids: [creator.id] },
        write: { group_ids: [], user_ids: [creator.id] },
      })
      for (const grant of model.access_grants) {
        expect(grant).toMatchObject({ resource_type: 'model', resource_id: model.id })
        expect(typeof grant.id).toBe('string')
        expect(grant.created_at).toBe(model.created_at)
      }
      expect((await getModel(plain, model.id)).write_access).toBe(false)
      expect((await getModel(creator, model.id)).write_access).toBe(true)
    })

    it('accepts the access_grants form and answers both forms', async () => {
      const model = await create(
        h.admin,
        preset(`ag-${token()}`, {
          access_grants: [
            { principal_type: 'group', principal_id: groupId, permission: 'read' },
            { principal_type: 'group', principal_id: groupId, permission: 'write' },
            { principal_type: 'group', principal_id: groupId, permission: 'write' },
          ],
        }),
      )
      expect(grantKeys(model)).toEqual([`group:${groupId}:read`, `group:${groupId}:write`])
      expect(model.access_control).toEqual({
        read: { group_ids: [groupId], user_ids: [] },
        write: { group_ids: [groupId], user_ids: [] },
      })
      expect((await getModel(plain, model.id)).write_access).toBe(true)
    })

    it('access_grants wins when both forms are given', async () => {
      const model = await create(
        h.admin,
        preset(`both-${token()}`, {
          access_control: null,
          access_grants: [{ principal_type: 'user', principal_id: creator.id, permission: 'read' }],
        }),
      )
      expect(grantKeys(model)).toEqual([`user:${creator.id}:read`])
      expectError(await tryGet(plain, model.id), 404, 'MODEL_NOT_FOUND')
      const empty = await create(h.admin, preset(`both-empty-${token()}`, { access_control: null, access_grants: [] }))
      expect(empty.access_grants).toEqual([])
    })

    it('a public-write grant (only expressible with access_grants) round-trips', async () => {
      const model = await create(
        h.admin,
        preset(`pubw-${token()}`, {
          access_grants: [
            { principal_type: 'user', principal_id: '*', permission: 'read' },
            { principal_type: 'user', principal_id: '*', permission: 'write' },
          ],
        }),
      )
      expect(grantKeys(model)).toEqual(['user:*:read', 'user:*:write'])
      expect(model.access_control).toBeNull()
      expect((await getModel(plain, model.id)).write_access).toBe(true)
    })

    const badForms: [string, Record<string, unknown>][] = [
      ['access_control {read:{group_ids:"x"}}', { access_control: { read: { group_ids: 'x' } } }],
      ['access_control a number', { access_control: 5 }],
      ['access_control {foo:1}', { access_control: { foo: 1 } }],
      ['access_control a string', { access_control: 'public' }],
      ['access_control read.user_ids [1]', { access_control: { read: { user_ids: [1] } } }],
      ['access_grants an object', { access_grants: { principal_type: 'user' } }],
      ['access_grants bad principal_type', { access_grants: [{ principal_type: 'robot', principal_id: 'x', permission: 'read' }] }],
      ['access_grants bad permission', { access_grants: [{ principal_type: 'user', principal_id: '*', permission: 'admin' }] }],
      ['access_grants missing principal_id', { access_grants: [{ principal_type: 'user', permission: 'read' }] }],
      ['access_grants group "*"', { access_grants: [{ principal_type: 'group', principal_id: '*', permission: 'read' }] }],
    ]
    it.each(badForms)('%s → 400 INVALID_ACCESS_CONTROL, nothing stored (create and update)', async (_label, form) => {
      const id = `badac-${token()}`
      expectError(await tryCreate(h.admin, preset(id, form)), 400, 'INVALID_ACCESS_CONTROL')
      expect(await rowExists(id)).toBe(false)
      const existing = await create(h.admin, preset(id, { access_control: null }))
      expectError(await tryUpdate(h.admin, { id, name: 'changed', ...form }), 400, 'INVALID_ACCESS_CONTROL')
      expectError(await tryAccess(h.admin, { id, ...form }), 400, 'INVALID_ACCESS_CONTROL')
      const after = await getModel(h.admin, id)
      expect(after.name).toBe(existing.name)
      expect(grantKeys(after)).toEqual(['user:*:read'])
    })

    it('a grant naming a user or group that does not exist → 400 INVALID_ACCESS_CONTROL and nothing stored', async () => {
      for (const grant of [
        { principal_type: 'user', principal_id: 'no-such-user', permission: 'read' },
        { principal_type: 'group', principal_id: 'no-such-group', permission: 'write' },
      ]) {
        const id = `ghost-${token()}`
        const res = await tryCreate(h.admin, preset(id, { access_grants: [grant] }))
        expectError(res, 400, 'INVALID_ACCESS_CONTROL')
        expect(res.json().detail).toContain(grant.principal_id)
        expect(await rowExists(id)).toBe(false)
        const legacy = await tryCreate(h.admin, preset(id, { access_control: { read: { [`${grant.principal_type}_ids`]: [grant.principal_id] } } }))
        expectError(legacy, 400, 'INVALID_ACCESS_CONTROL')
        expect(await rowExists(id)).toBe(false)

        await create(h.admin, preset(id, { access_grants: [{ principal_type: 'group', principal_id: groupId, permission: 'read' }] }))
        expectError(await tryUpdate(h.admin, { id, name: 'renamed', access_grants: [grant] }), 400, 'INVALID_ACCESS_CONTROL')
        expectError(await tryAccess(h.admin, { id, access_grants: [grant] }), 400, 'INVALID_ACCESS_CONTROL')
        const after = await getModel(h.admin, id)
        expect(after.name).toBe(`Model ${id}`)
        expect(grantKeys(after)).toEqual([`group:${groupId}:read`])
      }
    })

    it('an update without an access form keeps the grants; with one it replaces them', async () => {
      const id = `keep-${token()}`
      await create(h.admin, preset(id, { access_control: { read: { group_ids: [groupId] } } }))
      const renamed = await tryUpdate(h.admin, { id, name: 'Renamed', params: { temperature: 1 } })
      expect(renamed.statusCode, renamed.body).toBe(200)
      expect(grantKeys(renamed.json())).toEqual([`group:${groupId}:read`])
      const nulled = await tryUpdate(h.admin, { id, access_grants: null })
      expect(nulled.statusCode, nulled.body).toBe(200)
      expect(grantKeys(nulled.json())).toEqual([`group:${groupId}:read`])
      const replaced = await tryUpdate(h.admin, { id, access_control: {} })
      expect(replaced.statusCode, replaced.body).toBe(200)
      expect(replaced.json().access_grants).toEqual([])
      expect(replaced.json().access_control).toEqual({})
      const pub = await tryUpdate(h.admin, { id, access_control: null })
      expect(grantKeys(pub.json())).toEqual(['user:*:read'])
    })

    it('a non-admin without sharing.public_models making a model public → 403 naming the permission; model unchanged', async () => {
      const id = `nopub-${token()}`
      const before = await create(creator, preset(id))
      const viaCreate = await tryCreate(creator, preset(`nopub-c-${token()}`, { access_control: null }))
      expectError(viaCreate, 403, 'ACCESS_PROHIBITED')
      expect(viaCreate.json().detail).toContain('sharing.public_models')

      const viaUpdate = await tryUpdate(creator, { id, name: 'Now public', access_control: null })
      expectError(viaUpdate, 403, 'ACCESS_PROHIBITED')
      expect(viaUpdate.json().detail).toContain('sharing.public_models')
      const viaGrants = await tryAccess(creator, { id, access_grants: [{ principal_type: 'user', principal_id: '*', permission: 'read' }] })
      expectError(viaGrants, 403, 'ACCESS_PROHIBITED')
      expect(viaGrants.json().detail).toContain('sharing.public_models')

      const after = await getModel(creator, id)
      expect(after).toMatchObject({ name: before.name, access_grants: [], access_control: {}, updated_at: before.updated_at })
      expectError(await tryGet(plain, id), 404, 'MODEL_NOT_FOUND')
    })

    it('with sharing.public_models (through a group) a non-admin may make a model public', async () => {
      const publisher = await h.createUser('user')
      await createGroup(`Publishers ${token()}`, { workspace: { models: true }, sharing: { public_models: true } }, [publisher.id])
      const model = await create(publisher, preset(`canpub-${token()}`, { access_control: null }))
      expect(grantKeys(model)).toEqual(['user:*:read'])
    })
  })

  // ─── GET /model ────────────────────────────────────────────────────────────────────────────────
  describe('GET /model', () => {
    it('answers the ModelAccessResponse; a missing id → 404 MODEL_NOT_FOUND', async () => {
      const model = await create(creator, preset(`get-${token()}`, { params: { seed: 7 } }))
      const read = await getModel(h.admin, model.id)
      expect(read).toEqual({
        ...model,
        user: { id: creator.id, name: creator.name, email: creator.email, role: 'user' },
        write_access: true,
      })
      expectError(await tryGet(h.admin, `missing-${token()}`), 404, 'MODEL_NOT_FOUND')
      expectError(await tryGet(plain, model.id), 404, 'MODEL_NOT_FOUND')
    })

    it('id is required and validated in the query', async () => {
      expect((await send(h.admin, { method: 'GET', url: `${M}/model` })).statusCode).toBe(400)
      expectError(await send(h.admin, { method: 'GET', url: `${M}/model`, query: { id: 'y'.repeat(257) } }), 400, 'MODEL_ID_TOO_LONG')
    })
  })

  // ─── POST /model/update ────────────────────────────────────────────────────────────────────────
  describe('POST /model/update', () => {
    it('updates the model named by body.id; fields left out keep their value', async () => {
      const id = `upd-${token()}`
      const before = await create(creator, preset(id, { meta: { description: 'old', tags: ['x'] }, params: { temperature: 0.5 }, is_active: true }))
      const res = await tryUpdate(creator, { id, name: 'New name' })
      expect(res.statusCode, res.body).toBe(200)
      const after = res.json<ModelOut>()
      expect(after).toMatchObject({
        id,
        name: 'New name',
        meta: before.meta,
        params: before.params,
        is_active: true,
        base_model_id: 'base-llm',
        user_id: creator.id,
        created_at: before.created_at,
      })
      const full = await tryUpdate(creator, { id, base_model_id: 'other-base', name: 'Full', meta: { tags: ['y'] }, params: { top_k: 5 }, is_active: false })
      expect(full.json()).toMatchObject({ base_model_id: 'other-base', name: 'Full', meta: { tags: [{ name: 'y' }] }, params: { top_k: 5 }, is_active: false })
      expect((await getModel(creator, id)).params).toEqual({ top_k: 5 })
      // The tag index follows meta.tags.
      expect(ids((await list(creator, { tag: 'x', query: id })).items)).toEqual([])
      expect(ids((await list(creator, { tag: 'y', query: id })).items)).toEqual([id])
    })

    it('accepts the id in the query (?id=) instead of the body; equal ids in both are fine', async () => {
      const id = `updq-${token()}`
      await create(h.admin, preset(id))
      const viaQuery = await tryUpdate(h.admin, { name: 'From query' }, { id })
      expect(viaQuery.statusCode, viaQuery.body).toBe(200)
      expect(viaQuery.json().name).toBe('From query')
      const both = await tryUpdate(h.admin, { id, name: 'Both' }, { id })
      expect(both.statusCode, both.body).toBe(200)
      expect(both.json().name).toBe('Both')
    })

    it('differing ids in the query and the body → 400, neither model changed', async () => {
      const a = await create(h.admin, preset(`upda-${token()}`))
      const b = await create(h.admin, preset(`updb-${token()}`))
      const res = await tryUpdate(h.admin, { id: a.id, name: 'Hijack' }, { id: b.id })
      expectError(res, 400, 'VALIDATION_ERROR')
      expect((await getModel(h.admin, a.id)).name).toBe(a.name)
      expect((await getModel(h.admin, b.id)).name).toBe(b.name)
      expect((await tryUpdate(h.admin, { name: 'no id' })).statusCode).toBe(400)
    })

    it('a missing model → 404; a model the caller cannot read → 404; read but not write → 403', async () => {
      expectError(await tryUpdate(h.admin, { id: `nope-${token()}`, name: 'x' }), 404, 'MODEL_NOT_FOUND')
      const secret = await create(h.admin, preset(`sec-${token()}`))
      expectError(await tryUpdate(creator, { id: secret.id, name: 'x' }), 404, 'MODEL_NOT_FOUND')
      const readable = await create(h.admin, preset(`ro-${token()}`, { access_control: null }))
      expectError(await tryUpdate(creator, { id: readable.id, name: 'x' }), 403, 'ACCESS_PROHIBITED')
      expect((await getModel(h.admin, readable.id)).name).toBe(readable.name)
    })

    it('validates params, ids and base_model_id like create; nothing changes on failure', async () => {
      const id = `updv-${token()}`
      await create(h.admin, preset(id, { params: { temperature: 1 } }))
      const res = await tryUpdate(h.admin, { id, name: 'x', params: { temperature: 2.5 } })
      expectError(res, 400, 'INVALID_PARAMS')
      expect(res.json().detail).toContain('temperature')
      expectError(await tryUpdate(h.admin, { id, base_model_id: id }), 400, 'VALIDATION_ERROR')
      expectError(await tryUpdate(h.admin, { id: 'z'.repeat(257), name: 'x' }), 400, 'MODEL_ID_TOO_LONG')
      expectError(await tryUpdate(h.admin, { id: 'bad\u0001', name: 'x' }), 400, 'INVALID_MODEL_ID')
      const after = await getModel(h.admin, id)
      expect(after).toMatchObject({ name: `Model ${id}`, params: { temperature: 1 }, base_model_id: 'base-llm' })
    })

    it('a non-admin may not turn a preset into an override (base_model_id null) → 403', async () => {
      const id = `tonull-${token()}`
      await create(creator, preset(id))
      expectError(await tryUpdate(creator, { id, base_model_id: null }), 403, 'ACCESS_PROHIBITED')
      expect((await getModel(creator, id)).base_model_id).toBe('base-llm')
    })

    it('bumps updated_at (not created_at), which moves the model to the front of the default order', async () => {
      const w = token()
      const first = await create(h.admin, preset(`bump-${w}-a`))
      await create(h.admin, preset(`bump-${w}-b`))
      await sleep(1100)
      const res = await tryUpdate(h.admin, { id: first.id, name: 'Bumped' })
      const updated = res.json<ModelOut>()
      expect(updated.updated_at).toBeGreaterThan(first.updated_at)
      expect(updated.created_at).toBe(first.created_at)
      expect(ids((await list(h.admin, { query: `bump-${w}` })).items)).toEqual([first.id, `bump-${w}-b`])
    })
  })

  // ─── POST /model/toggle ────────────────────────────────────────────────────────────────────────
  describe('POST /model/toggle', () => {
    it('flips is_active each time and answers the ModelModel', async () => {
      const id = `tog-${token()}`
      await create(creator, preset(id))
      const off = await send(creator, { method: 'POST', url: `${M}/model/toggle`, query: { id } })
      expect(off.statusCode, off.body).toBe(200)
      expect(off.json()).toMatchObject({ id, is_active: false, user_id: creator.id })
      expect((await getModel(creator, id)).is_active).toBe(false)
      const on = await send(creator, { method: 'POST', url: `${M}/model/toggle`, query: { id } })
      expect(on.json().is_active).toBe(true)
    })

    it('a missing model → 404, a read-only one → 403 (unchanged)', async () => {
      expectError(await send(h.admin, { method: 'POST', url: `${M}/model/toggle`, query: { id: `nope-${token()}` } }), 404, 'MODEL_NOT_FOUND')
      const id = `togro-${token()}`
      await create(h.admin, preset(id, { access_control: null }))
      expectError(await send(creator, { method: 'POST', url: `${M}/model/toggle`, query: { id } }), 403, 'ACCESS_PROHIBITED')
      expect((await getModel(h.admin, id)).is_active).toBe(true)
    })
  })

  // ─── POST /model/access/update ─────────────────────────────────────────────────────────────────
  describe('POST /model/access/update', () => {
    it('replaces the grants of a model the caller may write, bumps updated_at, keeps everything else', async () => {
      const id = `acc-${token()}`
      const before = await create(creator, preset(id, { params: { seed: 1 } }))
      const res = await tryAccess(creator, { id, access_grants: [{ principal_type: 'user', principal_id: plain.id, permission: 'read' }] })
      expect(res.statusCode, res.body).toBe(200)
      const after = res.json<ModelOut>()
      expect(grantKeys(after)).toEqual([`user:${plain.id}:read`])
      expect(after).toMatchObject({ name: before.name, params: before.params, user_id: creator.id })
      expect(after.updated_at).toBeGreaterThanOrEqual(before.updated_at)
      expect((await getModel(plain, id)).write_access).toBe(false)
      const legacy = await tryAccess(creator, { id, access_control: {} })
      expect(legacy.json().access_grants).toEqual([])
      expectError(await tryGet(plain, id), 404, 'MODEL_NOT_FOUND')
    })

    it('without access_grants or access_control → 400 INVALID_ACCESS_CONTROL', async () => {
      const id = `accnone-${token()}`
      await create(h.admin, preset(id, { access_control: null }))
      expectError(await tryAccess(h.admin, { id }), 400, 'INVALID_ACCESS_CONTROL')
      expect(grantKeys(await getModel(h.admin, id))).toEqual(['user:*:read'])
    })

    it('admin on a missing id creates a minimal override row (base_model_id null, owner admin)', async () => {
      const id = `provider/${token()}:latest`
      const res = await tryAccess(h.admin, { id, name: 'Provider model', access_grants: [{ principal_type: 'user', principal_id: '*', permission: 'read' }] })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json()).toMatchObject({ id, name: 'Provider model', base_model_id: null, user_id: h.admin.id, params: {}, meta: {}, is_active: true })
      expect(grantKeys(res.json())).toEqual(['user:*:read'])
      const base = (await send(h.admin, { method: 'GET', url: `${M}/base` })).json<ModelOut[]>()
      expect(base.map((m) => m.id)).toContain(id)
      // Without a name, the id is the name.
      const bare = `bare-${token()}`
      const noName = await tryAccess(h.admin, { id: bare, access_control: {} })
      expect(noName.statusCode, noName.body).toBe(200)
      expect(noName.json()).toMatchObject({ id: bare, name: bare, base_model_id: null, user_id: h.admin.id, access_grants: [] })
    })

    it('non-admin on a missing id → 404 and nothing is created', async () => {
      const id = `ghost-${token()}`
      expectError(await tryAccess(creator, { id, name: 'x', access_grants: [] }), 404, 'MODEL_NOT_FOUND')
      expect(await rowExists(id)).toBe(false)
    })

    it('a model the caller may read but not write → 403; unchanged', async () => {
      const id = `accro-${token()}`
      await create(h.admin, preset(id, { access_control: null }))
      expectError(await tryAccess(creator, { id, access_grants: [] }), 403, 'ACCESS_PROHIBITED')
      expect(grantKeys(await getModel(h.admin, id))).toEqual(['user:*:read'])
    })
  })

  // ─── Delete ────────────────────────────────────────────────────────────────────────────────────
  describe('delete', () => {
    it('POST /model/delete {id} answers true; the model and its grants and tags are gone', async () => {
      const id = `del-${token()}`
      await create(
        creator,
        preset(id, { meta: { tags: [`deltag${token()}`] }, access_grants: [{ principal_type: 'user', principal_id: plain.id, permission: 'read' }] }),
      )
      const res = await send(creator, { method: 'POST', url: `${M}/model/delete`, payload: { id } })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json()).toBe(true)
      expectError(await tryGet(creator, id), 404, 'MODEL_NOT_FOUND')
      expect(await db().selectFrom('model_grants').select('id').where('model_id', '=', id).execute()).toEqual([])
      expect(await db().selectFrom('model_tags').select('name').where('model_id', '=', id).execute()).toEqual([])
    })

    it('legacy DELETE /model/delete?id= answers true and deletes', async () => {
      const id = `ldel-${token()}`
      await create(h.admin, preset(id))
      const res = await send(h.admin, { method: 'DELETE', url: `${M}/model/delete`, query: { id } })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json()).toBe(true)
      expect(await rowExists(id)).toBe(false)
    })

    it('a missing model → 404; read-only → 403 and the model stays', async () => {
      expectError(await send(h.admin, { method: 'POST', url: `${M}/model/delete`, payload: { id: `nope-${token()}` } }), 404, 'MODEL_NOT_FOUND')
      const id = `delro-${token()}`
      await create(h.admin, preset(id, { access_control: null }))
      expectError(await send(creator, { method: 'POST', url: `${M}/model/delete`, payload: { id } }), 403, 'ACCESS_PROHIBITED')
      expectError(await send(creator, { method: 'DELETE', url: `${M}/model/delete`, query: { id } }), 403, 'ACCESS_PROHIBITED')
      expect(await rowExists(id)).toBe(true)
    })
  })

  // ─── Ids with / : and unicode ──────────────────────────────────────────────────────────────────
  describe('ids that are not path-safe', () => {
    const exotic = ['meta-llama/Llama-3.1-8B', 'llama3.1:8b', '模型/ü:1', 'a b/c?d=e&f#g%20h', 'org/model+v2:Q4_K_M']
    it.each(exotic)('%s works for create, get, list, update, toggle, access, image and delete', async (base) => {
      const id = `${base}-${token()}`
      const created = await create(h.admin, preset(id, { meta: { profile_image_url: PNG_URI } }))
      expect(created.id).toBe(id)
      // As Open WebUI's client builds it: URLSearchParams in the URL.
      const qs = new URLSearchParams({ id }).toString()
      const got = await send(h.admin, { method: 'GET', url: `${M}/model?${qs}` })
      expect(got.statusCode, got.body).toBe(200)
      expect(got.json().id).toBe(id)
      expect(ids((await list(h.admin, { query: id })).items)).toEqual([id])
      const updated = await tryUpdate(h.admin, { id, name: 'Renamed' })
      expect(updated.statusCode, updated.body).toBe(200)
      expect(updated.json().id).toBe(id)
      const viaQuery = await send(h.admin, { method: 'POST', url: `${M}/model/update?${qs}`, payload: { name: 'Renamed again' } })
      expect(viaQuery.statusCode, viaQuery.body).toBe(200)
      const toggled = await send(h.admin, { method: 'POST', url: `${M}/model/toggle?${qs}` })
      expect(toggled.statusCode, toggled.body).toBe(200)
      expect(toggled.json()).toMatchObject({ id, is_active: false })
      const access = await tryAccess(h.admin, { id, access_grants: [] })
      expect(access.statusCode, access.body).toBe(200)
      const picture = await send(h.admin, { method: 'GET', url: `${M}/model/profile/image?${qs}` })
      expect(picture.statusCode).toBe(200)
      expect(picture.headers['content-type']).toBe('image/png')
      const deleted = await send(h.admin, { method: 'POST', url: `${M}/model/delete`, payload: { id } })
      expect(deleted.statusCode, deleted.body).toBe(200)
      expect(await rowExists(id)).toBe(false)
      // And the legacy delete with the id in the query string.
      await create(h.admin, preset(id))
      const legacy = await send(h.admin, { method: 'DELETE', url: `${M}/model/delete?${qs}` })
      expect(legacy.statusCode, legacy.body).toBe(200)
      expect(await rowExists(id)).toBe(false)
    })
  })

  // ─── Feature permissions for import and export ─────────────────────────────────────────────────
  describe('feature permissions', () => {
    it('import without workspace.models_import → 403 naming it; with it (group) → 200', async () => {
      const user = await h.createUser('user')
      const id = `imp-${token()}`
      const denied = await send(user, { method: 'POST', url: `${M}/import`, payload: { models: [preset(id)] } })
      expectError(denied, 403, 'ACCESS_PROHIBITED')
      expect(denied.json().detail).toContain('workspace.models_import')
      expect(await rowExists(id)).toBe(false)
      await createGroup(`Importers ${token()}`, { workspace: { models_import: true } }, [user.id])
      // Creating by import needs what create needs (issue #10, hole 3): the item is skipped, nothing made.
      const withoutCreate = await send(user, { method: 'POST', url: `${M}/import`, payload: { models: [preset(id)] } })
      expect(withoutCreate.statusCode, withoutCreate.body).toBe(200)
      expect(withoutCreate.json()).toMatchObject({ created: [], skipped: [{ id, reason: expect.stringContaining('workspace.models') }] })
      expect(await rowExists(id)).toBe(false)
      await createGroup(`Builders ${token()}`, { workspace: { models: true } }, [user.id])
      const allowed = await send(user, { method: 'POST', url: `${M}/import`, payload: { models: [preset(id)] } })
      expect(allowed.statusCode, allowed.body).toBe(200)
      expect(allowed.json().created).toEqual([id])
      expect((await getModel(h.admin, id)).user_id).toBe(user.id)
    })

    it('export (GET and POST) without workspace.models_export → 403 naming it; with it (group) → 200', async () => {
      const user = await h.createUser('user')
      for (const method of ['GET', 'POST'] as const) {
        const denied = await send(user, { method, url: `${M}/export` })
        expectError(denied, 403, 'ACCESS_PROHIBITED')
        expect(denied.json().detail).toContain('workspace.models_export')
      }
      await createGroup(`Exporters ${token()}`, { workspace: { models_export: true } }, [user.id])
      for (const method of ['GET', 'POST'] as const) {
        const allowed = await send(user, { method, url: `${M}/export` })
        expect(allowed.statusCode, allowed.body).toBe(200)
        expect(allowed.headers['content-type']).toMatch(/^application\/json/)
        // The user owns nothing and holds no grant: only models anyone may write (user:* write) are theirs to export.
        const exported = allowed.json<ModelOut[]>()
        expect(exported.every((m) => grantKeys(m).includes('user:*:write'))).toBe(true)
      }
    })

    it('a group permission false does not take away what another group grants', async () => {
      const user = await h.createUser('user')
      await createGroup(`No ${token()}`, { workspace: { models: false } }, [user.id])
      expectError(await tryCreate(user, preset(`gp-${token()}`)), 403, 'ACCESS_PROHIBITED')
      await send(h.admin, { method: 'POST', url: `/api/v1/groups/id/${creatorsGroup}/users/add`, payload: { user_ids: [user.id] } })
      expect((await create(user, preset(`gp-${token()}`))).user_id).toBe(user.id)
    })
  })

  // ─── GET /model/profile/image ──────────────────────────────────────────────────────────────────
  describe('GET /model/profile/image', () => {
    it('serves a data:image/png;base64 URI decoded, as image/png with an ETag; If-None-Match → 304', async () => {
      const id = `pic-${token()}`
      await create(h.admin, preset(id, { meta: { profile_image_url: PNG_URI }, access_control: null }))
      const res = await image(plain, id)
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toBe('image/png')
      expect(res.rawPayload.equals(Buffer.from(PNG_BASE64, 'base64'))).toBe(true)
      const etag = res.headers['etag']
      expect(typeof etag).toBe('string')
      expect(String(etag)).toMatch(/^(W\/)?".+"$/)
      const again = await image(plain, id, { 'if-none-match': String(etag) })
      expect(again.statusCode).toBe(304)
      expect(again.rawPayload.length).toBe(0)
      const stale = await image(plain, id, { 'if-none-match': '"something-else"' })
      expect(stale.statusCode).toBe(200)
      // A new picture has a new ETag: the old one no longer answers 304.
      const other = `data:image/png;base64,${Buffer.from('not really a png').toString('base64')}`
      expect((await tryUpdate(h.admin, { id, meta: { profile_image_url: other } })).statusCode).toBe(200)
      const changed = await image(plain, id, { 'if-none-match': String(etag) })
      expect(changed.statusCode).toBe(200)
      expect(changed.rawPayload.toString()).toBe('not really a png')
      expect(changed.headers['etag']).not.toBe(etag)
    })

    it('serves the default image, not a redirect, for an https URL whose host PROFILE_IMAGE_HOSTS does not list (none by default)', async () => {
      // Redirects to allowed hosts: test/attack/providers.attack.test.ts (issue #10, hole 9).
      const id = `picurl-${token()}`
      const url = 'https://cdn.example.com/models/tutor.png?v=2'
      await create(h.admin, preset(id, { meta: { profile_image_url: url } }))
      const res = await image(h.admin, id)
      expect(res.statusCode).toBe(200)
      expect(res.headers['location']).toBeUndefined()
      expect(res.headers['content-type']).toMatch(/^image\/svg\+xml/)
    })

    it('serves an image/svg+xml default when the model has no picture', async () => {
      const id = `picnone-${token()}`
      await create(h.admin, preset(id))
      const res = await image(h.admin, id)
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toMatch(/^image\/svg\+xml/)
      expect(res.body).toContain('<svg')
    })

    it('never serves a data:text/html URI as text/html (nor any non-image type); SVG is sandboxed', async () => {
      for (const uri of [
        'data:text/html,<script>alert(document.cookie)</script>',
        'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
        'data:application/javascript,alert(1)',
        'javascript:alert(1)',
      ]) {
        const id = `pichtml-${token()}`
        await create(h.admin, preset(id, { meta: { profile_image_url: uri } }))
        const res = await image(h.admin, id)
        expect([200, 302]).toContain(res.statusCode)
        expect(String(res.headers['content-type'] ?? '')).not.toMatch(/html|javascript/)
        expect(res.body).not.toContain('<script>')
        if (res.statusCode === 302) expect(String(res.headers['location'])).not.toMatch(/^(data|javascript):/)
      }
      const id = `picsvg-${token()}`
      await create(h.admin, preset(id, { meta: { profile_image_url: 'data:image/svg+xml,<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>' } }))
      const svg = await image(h.admin, id)
      expect(svg.headers['content-type']).toMatch(/^image\/svg\+xml/)
      expect(String(svg.headers['content-security-policy'])).toContain('sandbox')
      expect(svg.headers['x-content-type-options']).toBe('nosniff')
    })

    it('a model the caller cannot read → 404; a missing one → 404', async () => {
      const id = `picpriv-${token()}`
      await create(creator, preset(id, { meta: { profile_image_url: PNG_URI } }))
      expectError(await image(plain, id), 404, 'MODEL_NOT_FOUND')
      expectError(await image(h.admin, `nope-${token()}`), 404, 'MODEL_NOT_FOUND')
      expect((await image(creator, id)).statusCode).toBe(200)
    })

    it('accepts the session token in the `token` cookie (for <img src>), and only a valid one', async () => {
      const id = `piccookie-${token()}`
      await create(h.admin, preset(id, { meta: { profile_image_url: PNG_URI }, access_control: null }))
      const res = await h.request({ method: 'GET', url: `${M}/model/profile/image`, query: { id }, headers: { cookie: `theme=dark; token=${plain.token}` } })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.headers['content-type']).toBe('image/png')
      expectError(await h.request({ method: 'GET', url: `${M}/model/profile/image`, query: { id }, headers: { cookie: 'token=garbage' } }), 401, 'UNAUTHORIZED')
      expectError(
        await h.request({ method: 'GET', url: `${M}/model/profile/image`, query: { id }, headers: { cookie: `token=${pending.token}` } }),
        403,
        'ACCESS_PROHIBITED',
      )
      // The cookie is for pictures only: other routes (that could change things) ignore it.
      expectError(await h.request({ method: 'GET', url: `${M}/list`, headers: { cookie: `token=${plain.token}` } }), 401, 'UNAUTHORIZED')
      expectError(
        await h.request({ method: 'POST', url: `${M}/model/toggle`, query: { id }, headers: { cookie: `token=${h.admin.token}` } }),
        401,
        'UNAUTHORIZED',
      )
      expect((await getModel(h.admin, id)).is_active).toBe(true)
    })

    it('accepts extra query parameters (Open WebUI sends lang)', async () => {
      const id = `piclang-${token()}`
      await create(h.admin, preset(id, { meta: { profile_image_url: PNG_URI } }))
      const res = await send(h.admin, { method: 'GET', url: `${M}/model/profile/image?${new URLSearchParams({ id, lang: 'en-US' }).toString()}` })
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toBe('image/png')
    })
  })

  // ─── The auth ladder of every route (last: its success rungs delete things) ─────────────────────
  describe('auth ladder', () => {
    interface Rung {
      route: string
      admin?: boolean
      /** The request without credentials; fixtures are made here. */
      build: () => Promise<InjectOptions>
      /** Checks after the successful call (and that the refused calls changed nothing). */
      verify?: (res: Awaited<ReturnType<Harness['request']>>, request: InjectOptions) => void | Promise<void>
    }
    const fresh = async (extra: Record<string, unknown> = {}) => (await create(h.admin, preset(`ladder-${token()}`, extra))).id
    const routes: Rung[] = [
      { route: 'GET /list', build: () => Promise.resolve({ method: 'GET', url: `${M}/list` }) },
      { route: 'GET /base', admin: true, build: () => Promise.resolve({ method: 'GET', url: `${M}/base` }) },
      {
        route: 'GET /conflicts',
        admin: true,
        build: () => Promise.resolve({ method: 'GET', url: `${M}/conflicts` }),
        verify: (res) => {
          expect(res.json()).toEqual({ items: [] }) // no provider here, so nothing can collide
        },
      },
      { route: 'GET /tags', build: () => Promise.resolve({ method: 'GET', url: `${M}/tags` }) },
      {
        route: 'POST /create',
        build: () => Promise.resolve({ method: 'POST', url: `${M}/create`, payload: preset(`ladder-new-${token()}`) }),
        verify: (res, req) => {
          expect(res.json<ModelOut>().id).toBe((req.payload as { id: string }).id)
        },
      },
      { route: 'GET /model', build: async () => ({ method: 'GET', url: `${M}/model`, query: { id: await fresh() } }) },
      {
        route: 'POST /model/update',
        build: async () => ({ method: 'POST', url: `${M}/model/update`, payload: { id: await fresh(), name: 'Laddered' } }),
        verify: (res) => {
          expect(res.json<ModelOut>().name).toBe('Laddered')
        },
      },
      {
        route: 'POST /model/toggle',
        build: async () => ({ method: 'POST', url: `${M}/model/toggle`, query: { id: await fresh() } }),
        // Refused calls did not flip it: one flip, from true to false.
        verify: (res) => {
          expect(res.json<ModelOut>().is_active).toBe(false)
        },
      },
      {
        route: 'POST /model/access/update',
        build: async () => ({ method: 'POST', url: `${M}/model/access/update`, payload: { id: await fresh(), access_control: null } }),
        verify: (res) => {
          expect(grantKeys(res.json<ModelOut>())).toEqual(['user:*:read'])
        },
      },
      {
        route: 'POST /model/delete',
        build: async () => ({ method: 'POST', url: `${M}/model/delete`, payload: { id: await fresh() } }),
        verify: async (res, req) => {
          expect(res.json()).toBe(true)
          expect(await rowExists((req.payload as { id: string }).id)).toBe(false)
        },
      },
      {
        route: 'DELETE /model/delete (legacy)',
        build: async () => ({ method: 'DELETE', url: `${M}/model/delete`, query: { id: await fresh() } }),
        verify: async (res, req) => {
          expect(res.json()).toBe(true)
          expect(await rowExists(req.query?.['id'] ?? '')).toBe(false)
        },
      },
      { route: 'GET /export', build: () => Promise.resolve({ method: 'GET', url: `${M}/export` }) },
      { route: 'POST /export', build: () => Promise.resolve({ method: 'POST', url: `${M}/export` }) },
      {
        route: 'POST /import',
        build: () => Promise.resolve({ method: 'POST', url: `${M}/import`, payload: { models: [preset(`ladder-imp-${token()}`)] } }),
        // Created on the successful call, so no refused call created it.
        verify: (res, req) => {
          const id = (req.payload as { models: { id: string }[] }).models[0]?.id
          expect(res.json<{ created: string[] }>().created).toEqual([id])
        },
      },
      {
        route: 'POST /sync',
        admin: true,
        build: () => Promise.resolve({ method: 'POST', url: `${M}/sync`, payload: { models: [], dry_run: true } }),
        verify: (res) => {
          expect(res.json<{ dry_run: boolean }>().dry_run).toBe(true)
        },
      },
      {
        route: 'GET /model/profile/image',
        build: async () => ({ method: 'GET', url: `${M}/model/profile/image`, query: { id: await fresh({ meta: { profile_image_url: PNG_URI } }) } }),
      },
      {
        route: 'DELETE /delete/all',
        admin: true,
        build: async () => {
          await fresh()
          return { method: 'DELETE', url: `${M}/delete/all` }
        },
        verify: async (res) => {
          expect(res.json()).toBe(true)
          expect((await list(h.admin)).total).toBe(0)
          expect((await db().selectFrom('models').select('id').execute()).length).toBe(0)
          expect((await db().selectFrom('model_grants').select('id').execute()).length).toBe(0)
          expect((await db().selectFrom('model_tags').select('model_id').execute()).length).toBe(0)
          expect((await send(h.admin, { method: 'GET', url: `${M}/tags` })).json()).toEqual([])
          expect((await send(h.admin, { method: 'GET', url: `${M}/base` })).json()).toEqual([])
        },
      },
    ]

    it.each(routes)('$route: no token 401, garbage 401, revoked key 401, pending 403, non-admin 403 on admin routes, then 200', async (rung) => {
      const request = await rung.build()
      const attempt = (headers: Record<string, string>) => h.request({ ...request, headers: { ...(request.headers ?? {}), ...headers } })
      expectError(await attempt({}), 401, 'UNAUTHORIZED')
      expectError(await attempt(bearer('garbage')), 401, 'UNAUTHORIZED')
      expectError(await attempt({ authorization: 'Basic dXNlcjpwYXNz' }), 401, 'UNAUTHORIZED')
      expectError(await attempt(bearer(`${h.admin.token}x`)), 401, 'UNAUTHORIZED')
      expectError(await attempt(bearer(revokedKey)), 401, 'UNAUTHORIZED')
      expectError(await attempt(pending.auth), 403, 'ACCESS_PROHIBITED')
      if (rung.admin) {
        expectError(await attempt(plain.auth), 403, 'ACCESS_PROHIBITED')
        expectError(await attempt(creator.auth), 403, 'ACCESS_PROHIBITED')
      }
      const res = await attempt(h.admin.auth)
      expect(res.statusCode, res.body).toBe(200)
      await rung.verify?.(res, request)
    })

    it('verified (non-admin) users get 200 on the verified read routes', async () => {
      for (const url of [`${M}/list`, `${M}/tags`]) {
        const res = await send(plain, { method: 'GET', url })
        expect(res.statusCode, res.body).toBe(200)
      }
    })

    it('authentication comes before input validation: no token with a bad input is still 401', async () => {
      const bad: InjectOptions[] = [
        { method: 'POST', url: `${M}/create`, payload: { id: '' } },
        { method: 'GET', url: `${M}/model` },
        { method: 'GET', url: `${M}/list`, query: { limit: '1000' } },
        { method: 'POST', url: `${M}/model/update`, payload: { id: 'x', params: { temperature: 9 } } },
        { method: 'POST', url: `${M}/model/toggle` },
        { method: 'POST', url: `${M}/model/access/update`, payload: { id: 'x', access_control: 5 } },
        { method: 'POST', url: `${M}/model/delete`, payload: {} },
        { method: 'POST', url: `${M}/sync`, payload: { models: 'nope' } },
        { method: 'GET', url: `${M}/model/profile/image` },
      ]
      for (const request of bad) {
        const res = await h.request(request)
        expect(res.statusCode, `${request.method} ${request.url}: ${res.body}`).toBe(401)
      }
    })
  })
})
