/**
 * Route tests of the registry's listings (/api/v1/models, design.md §2.1): GET /list (filters, order,
 * pages, view options, inline images left out), GET /base and GET /tags.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { ids, PNG_URI, preset, sortedIds, token } from './support/factories.js'
import type { Harness, TestAccount } from './support/harness.js'
import type { ModelOut } from './support/model-types.js'
import { createModelsWorld, M, modelsApi } from './support/models.js'
import { expectError } from './support/requests.js'

describe.each(DIALECTS)('models routes: listing on %s', (dialect) => {
  let h: Harness
  /** A non-admin with workspace.models and sharing.models (not sharing.public_models), distinctive name. */
  let creator: TestAccount
  /** A non-admin with no feature permission. */
  let plain: TestAccount
  let ownerWord: string
  const { send, create, getModel, list, db } = modelsApi(() => h)

  beforeAll(async () => {
    ;({ h, creator, plain, ownerWord } = await createModelsWorld(dialect))
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

    it('the total with a tag counts what a reader may read (counted from the tag rows), with the other filters', async () => {
      const w = token()
      const tag = `Kiwi${w}`
      const mine = await create(creator, preset(`k1-${w}`, { meta: { tags: [tag, tag.toUpperCase()] } }))
      const publicOne = await create(h.admin, preset(`k2-${w}`, { access_control: null, meta: { tags: [{ name: tag }] } }))
      await create(h.admin, preset(`k3-${w}`, { meta: { tags: [tag] } })) // private to the admin
      await create(creator, preset(`k4-${w}`, { meta: { tags: ['other'] } }))
      for (const [who, filters, expected] of [
        [creator, { tag }, [mine.id, publicOne.id]],
        [creator, { tag: ` ${tag.toLowerCase()} ` }, [mine.id, publicOne.id]],
        [creator, { tag, view_option: 'created' }, [mine.id]],
        [creator, { tag, view_option: 'shared' }, [publicOne.id]],
        [creator, { tag, query: 'k2-' }, [publicOne.id]],
        [plain, { tag }, [publicOne.id]],
        [h.admin, { tag }, [mine.id, publicOne.id, `k3-${w}`]],
      ] as const) {
        const page = await list(who, filters)
        expect(sortedIds(page.items), JSON.stringify(filters)).toEqual([...expected].sort())
        expect(page.total, JSON.stringify(filters)).toBe(expected.length)
      }
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
})
