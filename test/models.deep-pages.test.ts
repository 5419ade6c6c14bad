/**
 * Deep list pages seek (issue #17): page N starts after page N − 1's last row (sort key, id) instead of
 * walking N pages; the answer must be the OFFSET answer on the same data, ties on the sort key included,
 * in any order of visiting, and after rows are added or deleted between pages (a new registry version
 * forgets every boundary: pages move as OFFSET moves them).
 */
import { CompiledQuery } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Principals } from '../src/access/model-grants.js'
import { ModelsRepo, type ListPlan, type PageOptions } from '../src/models/models.repo.js'
import { DIALECTS } from './support/databases.js'
import { ids, preset, token } from './support/factories.js'
import type { Harness, TestAccount } from './support/harness.js'
import type { ListOut } from './support/model-types.js'
import { createModelsWorld, M, modelsApi } from './support/models.js'

const LIMIT = 7
const ROWS = 60
const ORDERS = [
  { order_by: 'updated_at', direction: 'desc' },
  { order_by: 'name', direction: 'asc' },
  { order_by: 'created_at', direction: 'asc' },
  { order_by: 'name', direction: 'desc' },
] as const

describe.each(DIALECTS)('models list: deep pages by keyset on %s', (dialect) => {
  let h: Harness
  let reader: TestAccount
  let word: string
  const { send, create, db } = modelsApi(() => h)

  beforeAll(async () => {
    ;({ h } = await createModelsWorld(dialect))
    reader = await h.createUser('user', 'Deep Reader')
    word = token()
    // Few distinct sort keys: every page boundary falls inside a run of ties (same time, same name).
    const rows = Array.from({ length: ROWS }, (_, i) => ({
      id: `deep-${word}-${String((i * 37) % ROWS).padStart(3, '0')}`,
      user_id: h.admin.id,
      base_model_id: 'base-llm',
      name: `Deep ${['b', 'a', 'c'][i % 3]}`,
      params: '{}',
      meta: '{}',
      is_active: 1,
      created_at: 1_700_000_000 + (i % 4),
      updated_at: 1_700_000_000 + (i % 5),
      version: 1,
    }))
    await db().insertInto('models').values(rows).execute()
    // The reader may read two thirds of them (a user grant each).
    const grants = rows
      .filter((_, i) => i % 3 !== 0)
      .map((row, i) => ({
        id: `dg-${word}-${i}`,
        model_id: row.id,
        principal_type: 'user' as const,
        principal_id: reader.id,
        permission: 'read' as const,
        created_at: 1,
      }))
    await db().insertInto('model_grants').values(grants).execute()
    // Rows written behind the registry's back: a write through the API below moves the version anyway.
    await create(h.admin, preset(`deep-${word}-zzz`))
  })
  afterAll(async () => h?.close())

  const page = async (who: TestAccount, order: (typeof ORDERS)[number], n: number): Promise<string[]> => {
    const res = await send(who, {
      method: 'GET',
      url: `${M}/list`,
      query: { query: `deep-${word}`, page: String(n), limit: String(LIMIT), ...order },
      headers: { 'cache-control': 'no-cache' },
    })
    expect(res.statusCode, res.body).toBe(200)
    return ids(res.json<ListOut>().items)
  }

  /** The OFFSET answer on the data as it is now (the repository's query without a boundary). */
  const offsetPage = async (who: Principals, plan: ListPlan, order: (typeof ORDERS)[number], n: number): Promise<string[]> => {
    const options: PageOptions = { orderBy: order.order_by, direction: order.direction, offset: (n - 1) * LIMIT, limit: LIMIT }
    return ids(await new ModelsRepo(db()).listPage({ who, query: `deep-${word}` }, plan, options))
  }

  const callers = () =>
    [
      [h.admin, { userId: h.admin.id, role: 'admin', groupIds: [], bypass: true }, 'all'],
      [reader, { userId: reader.id, role: 'user', groupIds: [], bypass: false }, 'grantedIds'],
      [reader, { userId: reader.id, role: 'user', groupIds: [], bypass: false }, 'exists'],
    ] as const

  it('every page equals the OFFSET page, visited forward, backward and by jumps, ties included', async () => {
    for (const [who, principals, plan] of callers()) {
      for (const order of ORDERS) {
        const pages = Math.ceil((ROWS + 1) / LIMIT) + 1
        const expected: string[][] = []
        for (let n = 1; n <= pages; n++) expected.push(await offsetPage(principals, plan, order, n))
        // Jumps first (boundaries unknown), then backward, then forward (boundaries known).
        for (const n of [6, 3, pages, 9]) {
          expect(await page(who, order, n), `${who.name} ${order.order_by} ${order.direction} page ${n}`).toEqual(expected[n - 1])
        }
        for (let n = pages; n >= 1; n--) expect(await page(who, order, n)).toEqual(expected[n - 1])
        for (let n = 1; n <= pages; n++) expect(await page(who, order, n)).toEqual(expected[n - 1])
        // Pages cover the list once, in order, with no row twice (the ties are split, not lost).
        const all = expected.flat()
        expect(new Set(all).size).toBe(all.length)
        expect(expected.at(-1)).toEqual([])
      }
    }
  })

  it('rows added or deleted between pages move the pages as OFFSET does (no boundary survives a write)', async () => {
    const order = ORDERS[0]
    const admin = callers()[0]
    const before = [await page(h.admin, order, 1), await page(h.admin, order, 2), await page(h.admin, order, 3)]
    const gone = before[1]?.[0]
    expect(gone).toBeDefined()
    // A delete through the API (a registry write) and a new model at the top of updated_at desc.
    expect((await send(h.admin, { method: 'DELETE', url: `${M}/model/delete`, query: { id: gone ?? '' } })).statusCode).toBe(200)
    const added = await create(h.admin, preset(`deep-${word}-new`))
    for (const n of [3, 2, 1, 4]) expect(await page(h.admin, order, n)).toEqual(await offsetPage(admin[1], admin[2], order, n))
    expect(await page(h.admin, order, 1)).toContain(added.id)
    expect((await page(h.admin, order, 2)).includes(gone ?? '')).toBe(false)
  })

  it('a page past the end is empty, and so is every page after it', async () => {
    expect(await page(h.admin, ORDERS[1], 40)).toEqual([])
    expect(await page(h.admin, ORDERS[1], 41)).toEqual([])
  })
})

describe('deep pages: the keyset query plan on SQLite', () => {
  let h: Harness
  beforeAll(async () => {
    ;({ h } = await createModelsWorld('sqlite'))
  })
  afterAll(async () => h?.close())

  it('seeks the (sort key, id) index after the boundary: no scan from the top, no sort', async () => {
    const repo = new ModelsRepo(h.database.db)
    for (const [plan, who] of [
      ['all', { userId: 'a', role: 'admin', groupIds: [], bypass: true }],
      ['exists', { userId: 'u', role: 'user', groupIds: ['g'], bypass: false }],
    ] as const) {
      for (const orderBy of ['updated_at', 'name'] as const) {
        const options: PageOptions = { orderBy, direction: 'desc', offset: 0, limit: 30, after: { key: orderBy === 'name' ? 'm' : 5, id: 'x' } }
        const compiled = repo.listPageQuery({ who }, plan, options).compile()
        const rows = await h.database.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]))
        const detail = rows.rows.map((row) => row.detail).join('\n')
        expect(detail).toMatch(new RegExp(`SEARCH models USING INDEX models_presets_${orderBy}_idx \\(\\(${orderBy},id\\)<\\(\\?,\\?\\)\\)`))
        expect(detail).not.toContain('TEMP B-TREE')
      }
    }
  })
})
