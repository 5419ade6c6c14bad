/**
 * Property test of the model access rules (design.md §2.2) against a plain in-memory reference.
 *
 * Each run builds a random universe straight into the database (users' roles, groups, memberships,
 * presets and base-model overrides, user / group / public grants, tags), then asks the API, as every
 * user, for every listing (views, tag and text filters, every page of limit 3 in every order), every
 * model, the tags, the export, a no-op update and a delete, and compares each answer with what the
 * reference says. The two SQL list plans ('exists' and 'grantedIds') are also compared with each
 * other and with the reference directly, whatever plan the service would pick; a deterministic test
 * makes the service itself pick each of them (more than 2000 matching grants → 'exists').
 *
 * Names and ids use lowercase ASCII only, so the reference's code-unit order is the database's order
 * on SQLite (binary) and PostgreSQL alike.
 */
import { randomUUID } from 'node:crypto'
import type { ModelWithAccess } from '@modelgate/sdk'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { Principals } from '../src/access/model-grants.js'
import { ModelsRepo, type ListPlan } from '../src/models/models.repo.js'
import { DIALECTS } from './support/databases.js'
import { createHarness, type Harness, type TestAccount } from './support/harness.js'

const MODELS_API = '/api/v1/models'
const FEATURES = {
  USER_PERMISSIONS_WORKSPACE_MODELS_ACCESS: 'true',
  USER_PERMISSIONS_WORKSPACE_MODELS_ALLOW_SHARING: 'true',
  USER_PERMISSIONS_WORKSPACE_MODELS_ALLOW_PUBLIC_SHARING: 'true',
  USER_PERMISSIONS_WORKSPACE_MODELS_EXPORT: 'true',
}
const NUM_RUNS = 20
const PAGE_LIMIT = 3

// ─── The reference ───────────────────────────────────────────────────────────────────────────────

type Role = 'pending' | 'user' | 'admin'
type Permission = 'read' | 'write'
type SortKey = 'name' | 'created_at' | 'updated_at'
type Direction = 'asc' | 'desc'

interface RefUser {
  id: string
  role: Role
  name: string
  email: string
  groupIds: Set<string>
}

interface RefGrant {
  type: 'user' | 'group'
  principal: string
  permission: Permission
}

interface RefModel {
  id: string
  owner: string
  base: string | null
  name: string
  created_at: number
  updated_at: number
  /** Tag names as stored (one casing per tag). */
  tags: string[]
  grants: RefGrant[]
}

interface Listing {
  view?: 'created' | 'shared' | 'all' | undefined
  tag?: string | undefined
  query?: string | undefined
  order_by: SortKey
  direction: Direction
}

/** design.md §2.2, written out independently of src/access. */
function refAccess(user: RefUser, model: RefModel, bypass: boolean): { read: boolean; write: boolean } {
  if (user.role === 'pending') return { read: false, write: false }
  if (user.role === 'admin' && bypass) return { read: true, write: true }
  if (model.owner === user.id) return { read: true, write: true }
  let read = false
  let write = false
  for (const grant of model.grants) {
    const applies = grant.type === 'user' ? grant.principal === '*' || grant.principal === user.id : user.groupIds.has(grant.principal)
    if (!applies) continue
    read = true
    if (grant.permission === 'write') write = true
  }
  return { read, write }
}

const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0)

/** The full, ordered result of a listing: readable presets, filtered, sorted by (key, id). */
function refList(user: RefUser, models: readonly RefModel[], users: ReadonlyMap<string, RefUser>, listing: Listing, bypass: boolean): RefModel[] {
  const tag = listing.tag?.trim().toLowerCase()
  const text = listing.query?.trim().toLowerCase()
  const sign = listing.direction === 'asc' ? 1 : -1
  return models
    .filter((m) => m.base !== null && refAccess(user, m, bypass).read)
    .filter((m) => (listing.view === 'created' ? m.owner === user.id : listing.view === 'shared' ? m.owner !== user.id : true))
    .filter((m) => !tag || m.tags.some((t) => t.toLowerCase() === tag))
    .filter((m) => {
      if (!text) return true
      const owner = users.get(m.owner)
      return [m.name, m.id, m.base ?? '', owner?.name ?? '', owner?.email ?? ''].some((field) => field.toLowerCase().includes(text))
    })
    .sort((a, b) => sign * (cmp(a[listing.order_by], b[listing.order_by]) || cmp(a.id, b.id)))
}

/** Sorted unique tag names over the readable presets. */
function refTags(user: RefUser, models: readonly RefModel[], bypass: boolean): string[] {
  const names = new Set(models.filter((m) => m.base !== null && refAccess(user, m, bypass).read).flatMap((m) => m.tags))
  return [...names].sort()
}

// ─── The universe: arbitraries ───────────────────────────────────────────────────────────────────

/** Pool users per harness (the harness admin comes on top, as POOL_SIZE). */
const POOL_SIZE = 7
const GROUP_COUNT = 4
const TAGS = ['Red', 'blue', 'Green'] as const
const BASES = ['llm', 'mix', 'zed'] as const
const POOL_NAMES = ['ann', 'bob', 'cid', 'dan', 'eve', 'fay', 'gus', 'root'] as const

type GrantSpec =
  { kind: 'user'; user: number; permission: Permission } | { kind: 'group'; group: number; permission: Permission } | { kind: 'public'; permission: Permission }

interface ModelSpec {
  id: string
  name: string
  /** Index into the pool; POOL_SIZE = the harness admin. */
  owner: number
  override: boolean
  base: string
  created_at: number
  updated_at: number
  tags: string[]
  grants: GrantSpec[]
  /** Who tries to delete it at the end. */
  deleter: number
}

interface Universe {
  bypass: boolean
  roles: Role[]
  groups: number[][]
  models: ModelSpec[]
  listings: Listing[]
}

const permissionArb = fc.constantFrom<Permission>('read', 'write')
const grantArb: fc.Arbitrary<GrantSpec> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('user' as const), user: fc.nat(POOL_SIZE), permission: permissionArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('group' as const), group: fc.nat(GROUP_COUNT - 1), permission: permissionArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('public' as const), permission: permissionArb }) },
)
const modelArb: fc.Arbitrary<ModelSpec> = fc.record({
  id: fc.stringMatching(/^[a-d]{1,4}$/).map((s) => `m${s}`),
  name: fc.stringMatching(/^[a-d]{1,3}$/),
  owner: fc.nat(POOL_SIZE),
  override: fc.integer({ min: 0, max: 9 }).map((n) => n >= 8),
  base: fc.constantFrom(...BASES),
  // A narrow range of timestamps: ties on the sort key, broken by id.
  created_at: fc.integer({ min: 1000, max: 1003 }),
  updated_at: fc.integer({ min: 1000, max: 1003 }),
  tags: fc.subarray([...TAGS]),
  grants: fc.array(grantArb, { maxLength: 3 }),
  deleter: fc.nat(POOL_SIZE),
})
const listingArb: fc.Arbitrary<Listing> = fc.record(
  {
    view: fc.constantFrom(undefined, 'created', 'shared', 'all'),
    // Tag filters in any case, with spaces around, or for a tag no model has.
    tag: fc.constantFrom(undefined, 'red', 'RED', ' Blue ', 'green', 'none'),
    // Text queries: letters of names, ids, bases and emails; LIKE wildcards and backslash must be literal.
    query: fc.option(fc.stringMatching(/^[abdnzl_%\\ ]{1,2}$/), { nil: undefined }),
    order_by: fc.constantFrom<SortKey>('name', 'created_at', 'updated_at'),
    direction: fc.constantFrom<Direction>('asc', 'desc'),
  },
  { requiredKeys: ['order_by', 'direction'] },
)
const universeArb: fc.Arbitrary<Universe> = fc.record({
  bypass: fc.boolean(),
  roles: fc.array(fc.constantFrom<Role>('user', 'user', 'user', 'admin', 'pending'), { minLength: POOL_SIZE, maxLength: POOL_SIZE }),
  groups: fc.array(fc.subarray([...Array(POOL_SIZE).keys()]), { minLength: GROUP_COUNT, maxLength: GROUP_COUNT }),
  models: fc.uniqueArray(modelArb, { minLength: 6, maxLength: 15, selector: (m) => m.id }),
  listings: fc.array(listingArb, { minLength: 3, maxLength: 3 }),
})

/** The six orders every user's unfiltered list is paged through in. */
const ALL_ORDERS: Listing[] = (['name', 'created_at', 'updated_at'] as const).flatMap((order_by) =>
  (['asc', 'desc'] as const).map((direction) => ({ order_by, direction })),
)

// ─── Harness side ────────────────────────────────────────────────────────────────────────────────

interface Side {
  h: Harness
  bypass: boolean
  /** POOL_SIZE pool accounts, then the harness admin. */
  accounts: TestAccount[]
}

async function createSide(dialect: 'sqlite' | 'postgres', bypass: boolean): Promise<Side> {
  const h = await createHarness(dialect, { ...FEATURES, BYPASS_ADMIN_ACCESS_CONTROL: String(bypass) })
  const accounts: TestAccount[] = []
  for (let i = 0; i < POOL_SIZE; i++) accounts.push(await h.createUser('user'))
  accounts.push(h.admin)
  // Short names and emails with few letters, so text queries select some models and not others.
  for (const [index, account] of accounts.entries()) {
    const name = POOL_NAMES[index] ?? `u${index}`
    await h.services.database.db
      .updateTable('users')
      .set({ name, email: `${name}@q.io` })
      .where('id', '=', account.id)
      .execute()
  }
  return { h, bypass, accounts }
}

const groupIdOf = (index: number) => `grp${index}`

async function bumpVersion(h: Harness): Promise<void> {
  await h.services.database.db
    .updateTable('registry_state')
    .set((eb) => ({ version: eb('version', '+', 1) }))
    .where('key', '=', 'models')
    .execute()
}

/** Replaces the registry, groups and roles with the universe's; returns the reference's view of it. */
async function load(side: Side, u: Universe): Promise<{ users: RefUser[]; models: RefModel[] }> {
  const db = side.h.services.database.db
  await db.deleteFrom('model_tags').execute()
  await db.deleteFrom('model_grants').execute()
  await db.deleteFrom('models').execute()
  await db.deleteFrom('group_members').execute()
  await db.deleteFrom('groups').execute()

  const users: RefUser[] = side.accounts.map((account, index) => ({
    id: account.id,
    role: index < POOL_SIZE ? (u.roles[index] ?? 'user') : 'admin',
    name: POOL_NAMES[index] ?? '',
    email: `${POOL_NAMES[index] ?? ''}@q.io`,
    groupIds: new Set<string>(),
  }))
  for (const role of ['user', 'admin', 'pending'] as const) {
    const ids = users
      .slice(0, POOL_SIZE)
      .filter((user) => user.role === role)
      .map((user) => user.id)
    if (ids.length > 0) await db.updateTable('users').set({ role }).where('id', 'in', ids).execute()
  }

  await db
    .insertInto('groups')
    .values(
      u.groups.map((_, index) => ({
        id: groupIdOf(index),
        user_id: side.h.admin.id,
        name: `g${index}`,
        description: '',
        permissions: '{}',
        created_at: 1,
        updated_at: 1,
      })),
    )
    .execute()
  const memberships = u.groups.flatMap((members, index) =>
    members.map((member) => ({ group_id: groupIdOf(index), user_id: side.accounts[member]?.id ?? '', created_at: 1 })),
  )
  if (memberships.length > 0) await db.insertInto('group_members').values(memberships).execute()
  for (const m of memberships) users.find((user) => user.id === m.user_id)?.groupIds.add(m.group_id)

  const admins = users.filter((user) => user.role === 'admin')
  const models: RefModel[] = u.models.map((spec, index) => {
    const grants = new Map<string, RefGrant>()
    for (const g of spec.grants) {
      const grant: RefGrant =
        g.kind === 'user'
          ? { type: 'user', principal: users[g.user]?.id ?? '', permission: g.permission }
          : g.kind === 'group'
            ? { type: 'group', principal: groupIdOf(g.group), permission: g.permission }
            : { type: 'user', principal: '*', permission: g.permission }
      grants.set(`${grant.type}:${grant.principal}:${grant.permission}`, grant)
    }
    // Overrides are made by admins; presets by anyone (pending accounts included: ownership stays).
    const owner = spec.override ? (admins[index % admins.length]?.id ?? side.h.admin.id) : (users[spec.owner]?.id ?? side.h.admin.id)
    return {
      id: spec.id,
      owner,
      base: spec.override ? null : spec.base,
      name: spec.name,
      created_at: spec.created_at,
      updated_at: spec.updated_at,
      tags: spec.tags,
      grants: [...grants.values()],
    }
  })
  if (models.length > 0) {
    await db
      .insertInto('models')
      .values(
        models.map((m) => ({
          id: m.id,
          user_id: m.owner,
          base_model_id: m.base,
          name: m.name,
          params: '{}',
          meta: JSON.stringify({ tags: m.tags.map((name) => ({ name })) }),
          is_active: 1,
          created_at: m.created_at,
          updated_at: m.updated_at,
        })),
      )
      .execute()
  }
  const grantRows = models.flatMap((m) =>
    m.grants.map((g) => ({ id: randomUUID(), model_id: m.id, principal_type: g.type, principal_id: g.principal, permission: g.permission, created_at: 1 })),
  )
  if (grantRows.length > 0) await db.insertInto('model_grants').values(grantRows).execute()
  const tagRows = models.flatMap((m) => m.tags.map((name) => ({ model_id: m.id, tag_key: name.toLowerCase(), name })))
  if (tagRows.length > 0) await db.insertInto('model_tags').values(tagRows).execute()
  await bumpVersion(side.h)
  return { users, models }
}

type ListItem = Pick<ModelWithAccess, 'id' | 'write_access'>

const listQuery = (listing: Listing, page: number, limit: number): Record<string, string> => ({
  ...(listing.view !== undefined && { view_option: listing.view }),
  ...(listing.tag !== undefined && { tag: listing.tag }),
  ...(listing.query !== undefined && { query: listing.query }),
  order_by: listing.order_by,
  direction: listing.direction,
  page: String(page),
  limit: String(limit),
})

/**
 * Pages through a listing and compares every page with the reference's slice: ids in order,
 * write_access, total. Also asks for the page after the last one (it must be empty). Problems are
 * appended to `problems`.
 */
async function checkListing(
  side: Side,
  account: TestAccount,
  expected: readonly RefModel[],
  writable: (m: RefModel) => boolean,
  listing: Listing,
  limit: number,
  problems: string[],
  label: string,
): Promise<void> {
  const pages = Math.floor(expected.length / limit) + 1
  for (let page = 1; page <= pages; page++) {
    const res = await side.h.request({ method: 'GET', url: `${MODELS_API}/list`, headers: account.auth, query: listQuery(listing, page, limit) })
    const where = `${label} ${JSON.stringify(listing)} page ${page}`
    if (res.statusCode !== 200) {
      problems.push(`${where}: status ${res.statusCode} ${res.body.slice(0, 200)}`)
      return
    }
    const body = res.json<{ items: ListItem[]; total: number }>()
    const want = expected.slice((page - 1) * limit, page * limit)
    const got = body.items.map((item) => `${item.id}${item.write_access ? '(w)' : ''}`)
    const wanted = want.map((m) => `${m.id}${writable(m) ? '(w)' : ''}`)
    if (got.join(' ') !== wanted.join(' ')) problems.push(`${where}: items [${got.join(' ')}], expected [${wanted.join(' ')}]`)
    if (body.total !== expected.length) problems.push(`${where}: total ${body.total}, expected ${expected.length}`)
  }
}

const principalsOf = (user: RefUser, bypass: boolean): Principals => ({
  userId: user.id,
  role: user.role,
  groupIds: [...user.groupIds],
  bypass: user.role === 'admin' && bypass,
})

// ─── The property ────────────────────────────────────────────────────────────────────────────────

describe.each(DIALECTS)('model access property on %s', (dialect) => {
  const sides: Partial<Record<'on' | 'off', Side>> = {}
  beforeAll(async () => {
    sides.on = await createSide(dialect, true)
    sides.off = await createSide(dialect, false)
  }, 120_000)
  afterAll(async () => {
    await sides.on?.h.close()
    await sides.off?.h.close()
  })

  it('every models route agrees with the reference rules, for every user', async () => {
    let checks = 0
    await fc.assert(
      fc.asyncProperty(universeArb, async (u) => {
        const side = u.bypass ? sides.on : sides.off
        if (!side) throw new Error('harness missing')
        const { users, models } = await load(side, u)
        const byId = new Map(users.map((user) => [user.id, user]))
        const repo = new ModelsRepo(side.h.services.database.db)
        const problems: string[] = []

        for (const [index, user] of users.entries()) {
          const account = side.accounts[index]
          if (!account) throw new Error('account missing')
          const label = `${POOL_NAMES[index]}(${user.role}${[...user.groupIds].map((g) => ` ${g}`).join('')})`
          const access = (m: RefModel) => refAccess(user, m, side.bypass)

          if (user.role === 'pending') {
            const first = models[0]
            const requests = [
              { method: 'GET' as const, url: `${MODELS_API}/list` },
              { method: 'GET' as const, url: `${MODELS_API}/tags` },
              { method: 'GET' as const, url: `${MODELS_API}/export` },
              ...(first
                ? [
                    { method: 'GET' as const, url: `${MODELS_API}/model?id=${first.id}` },
                    { method: 'POST' as const, url: `${MODELS_API}/model/update`, payload: { id: first.id, name: first.name } },
                  ]
                : []),
            ]
            for (const r of requests) {
              const res = await side.h.request({ ...r, headers: account.auth })
              checks++
              if (res.statusCode !== 403) problems.push(`${label} ${r.method} ${r.url}: status ${res.statusCode}, expected 403`)
            }
            continue
          }

          // Listings through the API: every order unfiltered, then the run's filtered listings.
          for (const listing of [...ALL_ORDERS, ...u.listings]) {
            const expected = refList(user, models, byId, listing, side.bypass)
            await checkListing(side, account, expected, (m) => access(m).write, listing, PAGE_LIMIT, problems, label)
            checks++
          }

          // Both SQL plans, straight from the repository, whatever the service would choose.
          const who = principalsOf(user, side.bypass)
          for (const listing of u.listings) {
            const expected = refList(user, models, byId, listing, side.bypass).map((m) => m.id)
            const viewOption = listing.view === 'created' || listing.view === 'shared' ? listing.view : undefined
            const filters = { who, query: listing.query, viewOption, tag: listing.tag }
            const plans: ListPlan[] = who.bypass ? ['all'] : viewOption === 'created' ? ['all', 'exists', 'grantedIds'] : ['exists', 'grantedIds']
            for (const plan of plans) {
              const rows = await repo.listPage(filters, plan, { orderBy: listing.order_by, direction: listing.direction, offset: 0, limit: 100 })
              const count = await repo.count(filters, plan)
              const got = rows.map((row) => row.id)
              if (got.join(' ') !== expected.join(' ')) {
                problems.push(`${label} plan ${plan} ${JSON.stringify(listing)}: [${got.join(' ')}], expected [${expected.join(' ')}]`)
              }
              if (count !== expected.length) problems.push(`${label} plan ${plan} ${JSON.stringify(listing)}: count ${count}, expected ${expected.length}`)
              checks++
            }
          }

          const tags = await side.h.request({ method: 'GET', url: `${MODELS_API}/tags`, headers: account.auth })
          const wantTags = refTags(user, models, side.bypass)
          if (tags.statusCode !== 200 || [...tags.json<string[]>()].sort().join(',') !== wantTags.join(',')) {
            problems.push(`${label} tags: ${tags.statusCode} ${tags.body}, expected ${JSON.stringify(wantTags)}`)
          }
          checks++

          const exported = await side.h.request({ method: 'GET', url: `${MODELS_API}/export`, headers: account.auth })
          const wantExport = models
            .filter((m) => access(m).write)
            .map((m) => m.id)
            .sort()
          const gotExport =
            exported.statusCode === 200
              ? exported
                  .json<{ id: string }[]>()
                  .map((m) => m.id)
                  .sort()
              : []
          if (exported.statusCode !== 200 || gotExport.join(' ') !== wantExport.join(' ')) {
            problems.push(`${label} export: ${exported.statusCode} [${gotExport.join(' ')}], expected [${wantExport.join(' ')}]`)
          }
          checks++

          for (const m of models) {
            const { read, write } = access(m)
            const res = await side.h.request({ method: 'GET', url: `${MODELS_API}/model`, headers: account.auth, query: { id: m.id } })
            const want = read ? 200 : 404
            if (res.statusCode !== want) problems.push(`${label} get ${m.id}: ${res.statusCode}, expected ${want}`)
            else if (read && res.json<{ write_access: boolean }>().write_access !== write) {
              problems.push(`${label} get ${m.id}: write_access should be ${write}`)
            }
            checks++
          }
        }

        // No-op updates (same name) after the listings, since they move updated_at.
        for (const [index, user] of users.entries()) {
          const account = side.accounts[index]
          if (!account || user.role === 'pending') continue
          for (const m of models) {
            const { read, write } = refAccess(user, m, side.bypass)
            const res = await side.h.request({ method: 'POST', url: `${MODELS_API}/model/update`, headers: account.auth, payload: { id: m.id, name: m.name } })
            const want = write ? 200 : read ? 403 : 404
            if (res.statusCode !== want) problems.push(`${POOL_NAMES[index]} update ${m.id}: ${res.statusCode}, expected ${want}`)
            checks++
          }
        }

        // Deletes last: one attempt per model, by a random user.
        for (const [index, m] of models.entries()) {
          const deleterIndex = u.models[index]?.deleter ?? 0
          const user = users[deleterIndex]
          const account = side.accounts[deleterIndex]
          if (!user || !account) continue
          const { read, write } = refAccess(user, m, side.bypass)
          const res = await side.h.request({ method: 'POST', url: `${MODELS_API}/model/delete`, headers: account.auth, payload: { id: m.id } })
          const want = user.role === 'pending' ? 403 : write ? 200 : read ? 403 : 404
          const exists = Boolean(await side.h.services.database.db.selectFrom('models').select('id').where('id', '=', m.id).executeTakeFirst())
          if (res.statusCode !== want) problems.push(`${POOL_NAMES[deleterIndex]}(${user.role}) delete ${m.id}: ${res.statusCode}, expected ${want}`)
          if (exists !== (want !== 200)) problems.push(`${POOL_NAMES[deleterIndex]} delete ${m.id}: model exists=${exists} after status ${res.statusCode}`)
          checks++
        }

        expect(problems).toEqual([])
      }),
      { numRuns: NUM_RUNS },
    )
    expect(checks).toBeGreaterThan(NUM_RUNS)
  }, 180_000)
})

// ─── Both list plans, chosen by the service ──────────────────────────────────────────────────────

describe.each(DIALECTS)('list plans chosen by the service on %s', (dialect) => {
  /** More direct grants than the sparse plan's threshold (2000): the service must walk the sort index. */
  const DENSE_GRANTS = 2100
  let h: Harness
  let dense: TestAccount
  let sparse: TestAccount
  let other: TestAccount
  let users: Map<string, RefUser>
  let models: RefModel[]

  beforeAll(async () => {
    h = await createHarness(dialect, FEATURES)
    dense = await h.createUser('user')
    sparse = await h.createUser('user')
    other = await h.createUser('user')
    const db = h.services.database.db
    const names = ['ann', 'bob', 'cid', 'root'] as const
    const accounts = [dense, sparse, other, h.admin]
    for (const [index, account] of accounts.entries()) {
      await db
        .updateTable('users')
        .set({ name: names[index] ?? '', email: `${names[index] ?? ''}@q.io` })
        .where('id', '=', account.id)
        .execute()
    }
    await db
      .insertInto('groups')
      .values({ id: 'team', user_id: h.admin.id, name: 'team', description: '', permissions: '{}', created_at: 1, updated_at: 1 })
      .execute()
    await db.insertInto('group_members').values({ group_id: 'team', user_id: dense.id, created_at: 1 }).execute()
    users = new Map(
      accounts.map((account, index) => [
        account.id,
        {
          id: account.id,
          role: account.role,
          name: names[index] ?? '',
          email: `${names[index] ?? ''}@q.io`,
          groupIds: new Set(account === dense ? ['team'] : []),
        },
      ]),
    )

    // Deterministic variety: 2100 granted to `dense` (read or write), some public, some for the team,
    // some private to `other`, a few granted to `sparse`, a few owned by `dense`, a few overrides.
    const letters = 'abcd'
    const word = (n: number, width: number) => Array.from({ length: width }, (_, i) => letters[Math.floor(n / 4 ** i) % 4]).join('')
    models = []
    for (let i = 0; i < 2600; i++) {
      const grants: RefGrant[] = []
      if (i < DENSE_GRANTS) grants.push({ type: 'user', principal: dense.id, permission: i % 7 === 0 ? 'write' : 'read' })
      if (i % 11 === 0) grants.push({ type: 'user', principal: '*', permission: i % 22 === 0 ? 'write' : 'read' })
      if (i % 13 === 0) grants.push({ type: 'group', principal: 'team', permission: 'write' })
      if (i % 97 === 0) grants.push({ type: 'user', principal: sparse.id, permission: i % 2 === 0 ? 'write' : 'read' })
      models.push({
        id: `n${word(i, 6)}`,
        owner: i % 50 === 1 ? dense.id : i % 2 === 0 ? other.id : h.admin.id,
        base: i % 200 === 5 ? null : (BASES[i % 3] ?? 'llm'),
        // Few distinct names and timestamps: many ties, broken by id.
        name: word(i % 37, 2),
        created_at: 1000 + (i % 17),
        updated_at: 2000 + (i % 23),
        tags: i % 3 === 0 ? ['Red'] : i % 5 === 0 ? ['blue'] : [],
        grants,
      })
    }
    for (let i = 0; i < models.length; i += 500) {
      await db
        .insertInto('models')
        .values(
          models.slice(i, i + 500).map((m) => ({
            id: m.id,
            user_id: m.owner,
            base_model_id: m.base,
            name: m.name,
            params: '{}',
            meta: JSON.stringify({ tags: m.tags.map((name) => ({ name })) }),
            is_active: 1,
            created_at: m.created_at,
            updated_at: m.updated_at,
          })),
        )
        .execute()
    }
    const grantRows = models.flatMap((m) =>
      m.grants.map((g) => ({ id: randomUUID(), model_id: m.id, principal_type: g.type, principal_id: g.principal, permission: g.permission, created_at: 1 })),
    )
    for (let i = 0; i < grantRows.length; i += 500) {
      await db
        .insertInto('model_grants')
        .values(grantRows.slice(i, i + 500))
        .execute()
    }
    const tagRows = models.flatMap((m) => m.tags.map((name) => ({ model_id: m.id, tag_key: name.toLowerCase(), name })))
    for (let i = 0; i < tagRows.length; i += 500) {
      await db
        .insertInto('model_tags')
        .values(tagRows.slice(i, i + 500))
        .execute()
    }
    await bumpVersion(h)
  }, 120_000)
  afterAll(async () => h?.close())

  /** Runs `work` while recording the plan of every list page the service reads. */
  async function plansDuring(work: () => Promise<void>): Promise<Set<ListPlan>> {
    const spy = vi.spyOn(ModelsRepo.prototype, 'listPage')
    try {
      await work()
      return new Set(spy.mock.calls.map((call) => call[1]))
    } finally {
      spy.mockRestore()
    }
  }

  const cases: { who: () => TestAccount; plan: ListPlan; label: string }[] = [
    { who: () => dense, plan: 'exists', label: `a user with ${DENSE_GRANTS} matching grants` },
    { who: () => sparse, plan: 'grantedIds', label: 'a user with few matching grants' },
    { who: () => h.admin, plan: 'all', label: 'the admin (bypass on)' },
  ]

  it.each(cases)('$label is served by the $plan plan, page by page equal to the reference', async ({ who, plan }) => {
    const account = who()
    const user = users.get(account.id)
    if (!user) throw new Error('user missing')
    const listings: Listing[] = [
      { order_by: 'updated_at', direction: 'desc' },
      { order_by: 'name', direction: 'asc' },
      { order_by: 'created_at', direction: 'desc', view: 'shared' },
      { order_by: 'name', direction: 'desc', tag: 'red' },
      { order_by: 'updated_at', direction: 'asc', query: 'ab' },
    ]
    const problems: string[] = []
    const plans = await plansDuring(async () => {
      for (const listing of listings) {
        const expected = refList(user, models, users, listing, true)
        const limit = 30
        const last = Math.max(1, Math.ceil(expected.length / limit))
        // The first pages, one in the middle, the last and the one after it.
        for (const page of new Set([1, 2, Math.ceil(last / 2), last, last + 1])) {
          const res = await h.request({ method: 'GET', url: `${MODELS_API}/list`, headers: account.auth, query: listQuery(listing, page, limit) })
          expect(res.statusCode, res.body).toBe(200)
          const body = res.json<{ items: ListItem[]; total: number }>()
          const want = expected.slice((page - 1) * limit, page * limit)
          const got = body.items.map((item) => `${item.id}${item.write_access ? '(w)' : ''}`).join(' ')
          const wanted = want.map((m) => `${m.id}${refAccess(user, m, true).write ? '(w)' : ''}`).join(' ')
          if (got !== wanted) problems.push(`${JSON.stringify(listing)} page ${page}: [${got}], expected [${wanted}]`)
          if (body.total !== expected.length) problems.push(`${JSON.stringify(listing)} page ${page}: total ${body.total}, expected ${expected.length}`)
        }
      }
    })
    expect(problems).toEqual([])
    expect([...plans]).toEqual([plan])
    // The scenario is as dense or sparse as intended: grants naming the user (its groups, everyone).
    const matching = models
      .flatMap((m) => m.grants)
      .filter((g) => (g.type === 'user' ? g.principal === '*' || g.principal === user.id : user.groupIds.has(g.principal))).length
    expect(plan === 'exists' ? matching > 2000 : matching <= 2000).toBe(true)
  })

  it('export is complete past its batch size: exactly the models each caller may write', async () => {
    for (const account of [dense, sparse, other, h.admin]) {
      const user = users.get(account.id)
      if (!user) throw new Error('user missing')
      const res = await h.request({ method: 'GET', url: `${MODELS_API}/export`, headers: account.auth })
      expect(res.statusCode).toBe(200)
      const got = res.json<{ id: string }[]>().map((m) => m.id)
      const want = models
        .filter((m) => refAccess(user, m, true).write)
        .map((m) => m.id)
        .sort()
      expect(new Set(got).size, 'no duplicates').toBe(got.length)
      expect([...got].sort(), user.name).toEqual(want)
    }
  })

  it('the two plans agree for the dense user on every order, straight from the repository', async () => {
    const user = users.get(dense.id)
    if (!user) throw new Error('user missing')
    const repo = new ModelsRepo(h.services.database.db)
    const who = principalsOf(user, true)
    for (const listing of ALL_ORDERS) {
      const expected = refList(user, models, users, listing, true).map((m) => m.id)
      for (const offset of [0, 1000, expected.length - 10]) {
        const page = { orderBy: listing.order_by, direction: listing.direction, offset, limit: 50 }
        const filters = { who }
        const [viaExists, viaGranted] = await Promise.all([repo.listPage(filters, 'exists', page), repo.listPage(filters, 'grantedIds', page)])
        expect(
          viaExists.map((r) => r.id),
          `exists ${JSON.stringify(listing)} @${offset}`,
        ).toEqual(expected.slice(offset, offset + 50))
        expect(
          viaGranted.map((r) => r.id),
          `grantedIds ${JSON.stringify(listing)} @${offset}`,
        ).toEqual(expected.slice(offset, offset + 50))
      }
      expect(await repo.count({ who }, 'exists')).toBe(expected.length)
      expect(await repo.count({ who }, 'grantedIds')).toBe(expected.length)
    }
  }, 120_000) // every order × both plans × 2000+ grants: minutes on a loaded 2-core machine, seconds when idle
})

// ─── Cached totals ───────────────────────────────────────────────────────────────────────────────

describe.each(DIALECTS)('list totals on %s', (dialect) => {
  let h: Harness
  beforeAll(async () => {
    h = await createHarness(dialect, FEATURES)
    await h.shareBase('b') // users build presets on bases they may use (issue #10, hole 2)
  })
  afterAll(async () => h?.close())

  /**
   * Text queries match the owner's name, so renaming an account changes which models a query lists.
   * The items follow at once; the total must follow too (design.md §3 caches totals, but against a
   * version that every change of the listed set invalidates).
   */
  it('a listing’s total agrees with its items after the owner is renamed', async () => {
    const owner = await h.createUser('user', 'Alice')
    for (const id of ['rn-one', 'rn-two']) {
      const res = await h.request({ method: 'POST', url: `${MODELS_API}/create`, headers: owner.auth, payload: { id, base_model_id: 'b', name: id } })
      expect(res.statusCode, res.body).toBe(200)
    }
    const list = async (account: TestAccount, query: Record<string, string>) => {
      const res = await h.request({ method: 'GET', url: `${MODELS_API}/list`, headers: account.auth, query })
      expect(res.statusCode, res.body).toBe(200)
      const body = res.json<{ items: ListItem[]; total: number }>()
      return { ids: body.items.map((item) => item.id).sort(), total: body.total }
    }
    // The admin (bypass: every row) and the owner's "created" view: the two cached kinds of total.
    const probes: { account: TestAccount; query: Record<string, string> }[] = [
      { account: h.admin, query: { query: 'zelda' } },
      { account: owner, query: { query: 'zelda', view_option: 'created' } },
    ]
    for (const probe of probes) expect(await list(probe.account, probe.query)).toEqual({ ids: [], total: 0 })
    const renamed = await h.request({ method: 'POST', url: `/api/v1/users/${owner.id}/update`, headers: h.admin.auth, payload: { name: 'Zelda' } })
    expect(renamed.statusCode, renamed.body).toBe(200)
    for (const probe of probes) {
      expect(await list(probe.account, probe.query), JSON.stringify(probe.query)).toEqual({ ids: ['rn-one', 'rn-two'], total: 2 })
    }
  })
})
