/**
 * Property test of the base-chain rule (issue #11): the runtime list and chat resolution follow one
 * rule (src/access/base-chain.ts), so they must agree. Each run writes a random registry straight into
 * the database (chains, loops, bases nobody serves, unreadable and inactive hops, raw provider models,
 * rows of non-admins squatting a served id, override rows), then asks, as an admin, a user and a group
 * member, for `/api/models` and `/v1/models` over HTTP and resolves every id through the runtime
 * service (what chat completions call). A model id is listed as usable iff it resolves, and what it
 * resolves to is the provider model at the end of its chain. Every combination of
 * BYPASS_MODEL_ACCESS_CONTROL and BYPASS_ADMIN_ACCESS_CONTROL has a harness of its own.
 */
import { randomUUID } from 'node:crypto'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Actor } from '../src/access/actor.js'
import { DIALECTS } from './support/databases.js'
import { startFakeProvider, type FakeProvider } from './support/fake-provider.js'
import { createHarness, type Harness, type TestAccount } from './support/harness.js'

const NUM_RUNS = 25
const SERVED = ['p0', 'p1', 'p2']
/** Ids a row may have: served ones (overrides, an admin's preset on a provider id, squatters) and free ones. */
const ROW_IDS = ['p0', 'p1', 'm0', 'm1', 'm2', 'm3', 'm4', 'm5']
/** Bases a row may name: rows, served models, and ids nothing serves. */
const BASE_IDS = [...ROW_IDS, 'p2', 'gone', 'p9']
/** Every id asked for. */
const ASKED = [...new Set([...ROW_IDS, ...BASE_IDS, ...SERVED])]

/** Owners: 0 the harness admin, 1 another admin, 2 a user, 3 a group member. Callers are 0, 2 and 3. */
const OWNERS = 4
const CALLERS = [0, 2, 3]

interface RowSpec {
  id: string
  owner: number
  /** null: an override row. */
  base: string | null
  active: boolean
  grants: { publicRead: boolean; userRead: boolean; groupRead: boolean; groupWrite: boolean }
}

const rowSpec = (id: string) =>
  fc.record({
    id: fc.constant(id),
    owner: fc.integer({ min: 0, max: OWNERS - 1 }),
    base: fc.option(fc.constantFrom(...BASE_IDS), { nil: null, freq: 3 }),
    active: fc.integer({ min: 0, max: 4 }).map((n) => n > 0),
    grants: fc.record({ publicRead: fc.boolean(), userRead: fc.boolean(), groupRead: fc.boolean(), groupWrite: fc.boolean() }),
  })

/** A registry: each id of ROW_IDS has a row or not. */
const registryArb = fc
  .tuple(...ROW_IDS.map((id) => fc.option(rowSpec(id), { nil: undefined, freq: 4 })))
  .map((rows) => rows.filter((row): row is RowSpec => row !== undefined))

interface Side {
  h: Harness
  fake: FakeProvider
  /** Indexed as OWNERS. */
  accounts: TestAccount[]
  /** The group of account 3. */
  groupId: string
}

/** The provider id a chain ends at, followed through the rows alone (squatting rows are no hops); undefined for a loop. */
function chainEnd(rows: ReadonlyMap<string, RowSpec>, accounts: readonly TestAccount[], start: string): string | undefined {
  const seen = new Set<string>()
  let id = start
  for (;;) {
    if (seen.has(id)) return undefined
    seen.add(id)
    const row = rows.get(id)
    const squats = row !== undefined && SERVED.includes(id) && accounts[row.owner]?.role !== 'admin'
    if (!row || squats || row.base === null) return id
    id = row.base
  }
}

async function createSide(dialect: 'sqlite' | 'postgres', bypassModels: boolean, bypassAdmins: boolean): Promise<Side> {
  const fake = await startFakeProvider({ models: SERVED })
  const h = await createHarness(dialect, {
    BYPASS_MODEL_ACCESS_CONTROL: String(bypassModels),
    BYPASS_ADMIN_ACCESS_CONTROL: String(bypassAdmins),
    MODELS_CACHE_TTL: '3600',
  })
  const connected = await h.request({
    method: 'POST',
    url: '/api/v1/connections/create',
    headers: h.admin.auth,
    payload: { name: 'Chains', base_url: fake.baseUrl },
  })
  expect(connected.statusCode, connected.body).toBe(200)
  const accounts = [h.admin, await h.createUser('admin'), await h.createUser('user'), await h.createUser('user')]
  const group = await h.request({
    method: 'POST',
    url: '/api/v1/groups/create',
    headers: h.admin.auth,
    payload: { name: 'Chain readers', user_ids: [accounts[3]?.id] },
  })
  expect(group.statusCode, group.body).toBe(200)
  const base = await h.request({ method: 'GET', url: '/api/models/base', headers: h.admin.auth })
  expect((base.json().data as { id: string }[]).map((m) => m.id).sort()).toEqual(SERVED)
  return { h, fake, accounts, groupId: group.json().id }
}

async function load(side: Side, registry: readonly RowSpec[]): Promise<void> {
  const db = side.h.services.database.db
  await db.deleteFrom('model_tags').execute()
  await db.deleteFrom('model_grants').execute()
  await db.deleteFrom('models').execute()
  if (registry.length > 0) {
    await db
      .insertInto('models')
      .values(
        registry.map((row, index) => ({
          id: row.id,
          user_id: side.accounts[row.owner]?.id ?? side.h.admin.id,
          base_model_id: row.base,
          name: `Model ${row.id}`,
          params: JSON.stringify({ temperature: index / 10 }),
          meta: '{}',
          is_active: row.active ? 1 : 0,
          created_at: 1,
          updated_at: 1,
        })),
      )
      .execute()
  }
  const grants = registry.flatMap((row) =>
    [
      ...(row.grants.publicRead ? [{ principal_type: 'user' as const, principal_id: '*', permission: 'read' as const }] : []),
      ...(row.grants.userRead ? [{ principal_type: 'user' as const, principal_id: side.accounts[2]?.id ?? '', permission: 'read' as const }] : []),
      ...(row.grants.groupRead ? [{ principal_type: 'group' as const, principal_id: side.groupId, permission: 'read' as const }] : []),
      ...(row.grants.groupWrite ? [{ principal_type: 'group' as const, principal_id: side.groupId, permission: 'write' as const }] : []),
    ].map((g) => ({ id: randomUUID(), model_id: row.id, created_at: 1, ...g })),
  )
  if (grants.length > 0) await db.insertInto('model_grants').values(grants).execute()
  // Written past the services: the cached lists and resolutions must see a new registry version.
  await db
    .updateTable('registry_state')
    .set((eb) => ({ version: eb('version', '+', 1) }))
    .where('key', '=', 'models')
    .execute()
}

interface Tally {
  usable: number
  refused: number
  throughPresets: number
}

/** Problems with one caller's view of one registry, as readable lines. */
async function check(side: Side, registry: readonly RowSpec[], caller: TestAccount, tally: Tally): Promise<string[]> {
  const problems: string[] = []
  const runtime = await side.h.request({ method: 'GET', url: '/api/models', headers: caller.auth })
  const openai = await side.h.request({ method: 'GET', url: '/v1/models', headers: caller.auth })
  if (runtime.statusCode !== 200 || openai.statusCode !== 200) return [`lists answered ${runtime.statusCode}/${openai.statusCode}`]
  const entries = runtime.json().data as { id: string; base_model_missing: boolean }[]
  const listed = new Set(entries.filter((m) => !m.base_model_missing).map((m) => m.id))
  const called = new Set((openai.json().data as { id: string }[]).map((m) => m.id))
  if ([...listed].sort().join() !== [...called].sort().join()) {
    problems.push(`/api/models usable [${[...listed].sort().join()}] ≠ /v1/models [${[...called].sort().join()}]`)
  }
  if (new Set(entries.map((m) => m.id)).size !== entries.length) problems.push(`an id is listed twice: ${entries.map((m) => m.id).join()}`)

  const rows = new Map(registry.map((row) => [row.id, row]))
  const actor: Actor = { id: caller.id, role: caller.role }
  for (const id of ASKED) {
    let resolved: { upstream: string; presets: number } | undefined
    let error: unknown
    try {
      const resolution = await side.h.services.runtime.resolve(actor, id)
      resolved = { upstream: resolution.provider.upstream_id, presets: resolution.chainParams.length }
    } catch (e) {
      error = e
    }
    if (error !== undefined && !['MODEL_NOT_FOUND', 'CONFLICT'].includes((error as { code?: string }).code ?? '')) {
      problems.push(`${id}: resolving threw ${error instanceof Error ? error.stack : JSON.stringify(error)}`)
      continue
    }
    if (listed.has(id) !== (resolved !== undefined)) {
      problems.push(`${id}: listed ${listed.has(id)} but resolves ${resolved ? `to ${resolved.upstream}` : `to ${(error as { code?: string }).code}`}`)
    }
    if (resolved) {
      const end = chainEnd(rows, side.accounts, id)
      if (resolved.upstream !== end) problems.push(`${id}: resolves to ${resolved.upstream}, its chain ends at ${end}`)
      tally.usable++
      if (resolved.presets > 0) tally.throughPresets++
    } else {
      tally.refused++
    }
  }
  return problems
}

describe.each(DIALECTS)('the base-chain rule: list and chat agree on %s', (dialect) => {
  const variants = [
    { bypassModels: false, bypassAdmins: false },
    { bypassModels: false, bypassAdmins: true },
    { bypassModels: true, bypassAdmins: false },
    { bypassModels: true, bypassAdmins: true },
  ]
  const sides: Side[] = []

  beforeAll(async () => {
    for (const { bypassModels, bypassAdmins } of variants) sides.push(await createSide(dialect, bypassModels, bypassAdmins))
  }, 120_000)

  afterAll(async () => {
    for (const side of sides) {
      await side.h.close()
      await side.fake.close()
    }
  })

  it.each(variants.map((variant, index) => ({ ...variant, index })))(
    'BYPASS_MODEL_ACCESS_CONTROL=$bypassModels, BYPASS_ADMIN_ACCESS_CONTROL=$bypassAdmins',
    async ({ index }) => {
      const side = sides[index]
      if (!side) throw new Error('no harness')
      const tally: Tally = { usable: 0, refused: 0, throughPresets: 0 }
      await fc.assert(
        fc.asyncProperty(registryArb, async (registry) => {
          await load(side, registry)
          const problems: string[] = []
          for (const caller of CALLERS) {
            const account = side.accounts[caller]
            if (account) problems.push(...(await check(side, registry, account, tally)).map((p) => `caller ${caller} (${account.role}): ${p}`))
          }
          expect(problems, JSON.stringify(registry)).toEqual([])
        }),
        { numRuns: NUM_RUNS, seed: 1100 + index, endOnFailure: true },
      )
      // The registries exercised both outcomes, and chains through presets.
      expect(tally.usable).toBeGreaterThan(0)
      expect(tally.refused).toBeGreaterThan(0)
      expect(tally.throughPresets).toBeGreaterThan(0)
    },
    120_000,
  )
})
