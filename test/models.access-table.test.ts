/**
 * The access rules of design.md §2.2 as one table, checked on every models route and every dialect.
 *
 * One scenario (callers × models) is built through the API; EXPECTED says, per caller and model,
 * whether the caller may read (r), read and write (rw) or neither (-). Every operation's expected
 * answer is derived from that table:
 * - list / tags: the model (a preset) is listed, and its tag shown, iff readable; write_access = write;
 * - GET /model: 200 if readable, else 404 MODEL_NOT_FOUND (existence is not revealed);
 * - export: the model is included iff writable;
 * - update / toggle / access update / delete: 200 if writable, 403 ACCESS_PROHIBITED if only
 *   readable, 404 MODEL_NOT_FOUND otherwise;
 * - a pending account: 403 on every route.
 * Mutations run on fresh copies of the scenario models (one per caller, model and operation), so each
 * starts from the scenario's state, and the state after it is checked against the answer.
 * The table runs with BYPASS_ADMIN_ACCESS_CONTROL on and off; only the admin's row differs.
 */
import { randomUUID } from 'node:crypto'
import type { ModelWithAccess } from '@modelgate/sdk'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createGroup } from './support/accounts.js'
import { DIALECTS } from './support/databases.js'
import { createHarness, PASSWORD, type Harness, type TestAccount } from './support/harness.js'

const MODELS_API = '/api/v1/models'
const ALL_FEATURES = {
  USER_PERMISSIONS_WORKSPACE_MODELS_ACCESS: 'true',
  USER_PERMISSIONS_WORKSPACE_MODELS_ALLOW_SHARING: 'true',
  USER_PERMISSIONS_WORKSPACE_MODELS_ALLOW_PUBLIC_SHARING: 'true',
  USER_PERMISSIONS_WORKSPACE_MODELS_EXPORT: 'true',
  USER_PERMISSIONS_WORKSPACE_MODELS_IMPORT: 'true',
}

// ─── The scenario ────────────────────────────────────────────────────────────────────────────────

const CALLERS = ['owner', 'member', 'reader', 'writer', 'stranger', 'pending', 'admin'] as const
type Caller = (typeof CALLERS)[number]

const MODEL_KEYS = [
  'private',
  'group-read',
  'group-write',
  'user-read',
  'user-write',
  'public-read',
  'public-write',
  'admin-read',
  'admin-own',
  'override',
] as const
type ModelKey = (typeof MODEL_KEYS)[number]

type GrantSpec = { principal: 'group' | 'other-group' | Caller | '*'; permission: 'read' | 'write' }

/**
 * Callers: owner O owns every model but the admin's; member M is in group G; reader U and writer W
 * hold direct grants; stranger X is in group G2, which no model names; pending P is in G and holds
 * direct grants too (which must not help it); admin A.
 */
const SCENARIO: Record<ModelKey, { owner: Caller; preset: boolean; grants: GrantSpec[] }> = {
  private: { owner: 'owner', preset: true, grants: [] },
  'group-read': { owner: 'owner', preset: true, grants: [{ principal: 'group', permission: 'read' }] },
  'group-write': { owner: 'owner', preset: true, grants: [{ principal: 'group', permission: 'write' }] },
  'user-read': {
    owner: 'owner',
    preset: true,
    grants: [
      { principal: 'reader', permission: 'read' },
      { principal: 'pending', permission: 'read' },
    ],
  },
  'user-write': {
    owner: 'owner',
    preset: true,
    grants: [
      { principal: 'writer', permission: 'write' },
      { principal: 'pending', permission: 'write' },
    ],
  },
  'public-read': { owner: 'owner', preset: true, grants: [{ principal: '*', permission: 'read' }] },
  'public-write': { owner: 'owner', preset: true, grants: [{ principal: '*', permission: 'write' }] },
  'admin-read': { owner: 'owner', preset: true, grants: [{ principal: 'admin', permission: 'read' }] },
  'admin-own': { owner: 'admin', preset: true, grants: [] },
  // A base-model override (base_model_id null): readable by everyone, but never in /list or /tags.
  override: { owner: 'admin', preset: false, grants: [{ principal: '*', permission: 'read' }] },
}

/**
 * Expected access: rw = read and write, r = read only, - = neither, 403 = pending (every route 403).
 * Rows are callers, columns the models above, in the same order.
 */
const TABLE_HEAD = `
  caller   | private | group-read | group-write | user-read | user-write | public-read | public-write | admin-read | admin-own | override`
const COMMON_ROWS = `
  owner    | rw      | rw         | rw          | rw        | rw         | rw          | rw           | rw         | -         | r
  member   | -       | r          | rw          | -         | -          | r           | rw           | -          | -         | r
  reader   | -       | -          | -           | r         | -          | r           | rw           | -          | -         | r
  writer   | -       | -          | -           | -         | rw         | r           | rw           | -          | -         | r
  stranger | -       | -          | -           | -         | -          | r           | rw           | -          | -         | r
  pending  | 403     | 403        | 403         | 403       | 403        | 403         | 403          | 403        | 403       | 403`
const EXPECTED: Record<'bypass' | 'noBypass', string> = {
  // BYPASS_ADMIN_ACCESS_CONTROL=true: the admin reads and writes everything.
  bypass: `${TABLE_HEAD}${COMMON_ROWS}
  admin    | rw      | rw         | rw          | rw        | rw         | rw          | rw           | rw         | rw        | rw`,
  // BYPASS_ADMIN_ACCESS_CONTROL=false: the admin is a user (owner of its own models, grantee of admin-read).
  noBypass: `${TABLE_HEAD}${COMMON_ROWS}
  admin    | -       | -          | -           | -         | -          | r           | rw           | r          | rw        | rw`,
}

type Cell = 'rw' | 'r' | '-' | '403'
interface Expectation {
  pending: boolean
  read: boolean
  write: boolean
}

function parseTable(text: string): Map<Caller, Map<ModelKey, Expectation>> {
  const [head, ...rows] = text
    .trim()
    .split('\n')
    .map((line) => line.split('|').map((cell) => cell.trim()))
  expect(head?.slice(1)).toEqual([...MODEL_KEYS])
  expect(rows.map((row) => row[0])).toEqual([...CALLERS])
  const result = new Map<Caller, Map<ModelKey, Expectation>>()
  for (const [caller, ...cells] of rows) {
    const byModel = new Map<ModelKey, Expectation>()
    MODEL_KEYS.forEach((key, index) => {
      const cell = cells[index] as Cell
      expect(['rw', 'r', '-', '403']).toContain(cell)
      byModel.set(key, { pending: cell === '403', read: cell === 'r' || cell === 'rw', write: cell === 'rw' })
    })
    result.set(caller as Caller, byModel)
  }
  return result
}

// ─── Expected answers, derived from the table ────────────────────────────────────────────────────

type Outcome = 200 | 403 | 404
const readOutcome = (e: Expectation): Outcome => (e.pending ? 403 : e.read ? 200 : 404)
const writeOutcome = (e: Expectation): Outcome => (e.pending ? 403 : e.write ? 200 : e.read ? 403 : 404)
const CODE_OF: Record<Outcome, string | undefined> = { 200: undefined, 403: 'ACCESS_PROHIBITED', 404: 'MODEL_NOT_FOUND' }

interface Reply {
  statusCode: number
  body: string
  json: () => unknown
}

/** Status and error code of a reply against an expected outcome; a description of the mismatch or null. */
function mismatch(res: Reply, expected: Outcome): string | null {
  if (res.statusCode !== expected) return `expected ${expected}, got ${res.statusCode} ${res.body.slice(0, 200)}`
  const code = CODE_OF[expected]
  if (code !== undefined && (res.json() as { code?: string }).code !== code) return `expected code ${code}, got ${res.body.slice(0, 200)}`
  return null
}

// ─── Building the scenario ───────────────────────────────────────────────────────────────────────

interface World {
  h: Harness
  accounts: Record<Caller, TestAccount>
  groupId: string
  otherGroupId: string
  /** Scenario model ids by key. */
  ids: Record<ModelKey, string>
  expected: Map<Caller, Map<ModelKey, Expectation>>
}

const modelId = (key: ModelKey) => `acl/${key}:v1`
const tagOf = (key: ModelKey) => `Tag-${key}`

function grantsOf(world: Pick<World, 'accounts' | 'groupId' | 'otherGroupId'>, specs: readonly GrantSpec[]) {
  return specs.map((spec) => ({
    principal_type: spec.principal === 'group' || spec.principal === 'other-group' ? 'group' : 'user',
    principal_id:
      spec.principal === 'group'
        ? world.groupId
        : spec.principal === 'other-group'
          ? world.otherGroupId
          : spec.principal === '*'
            ? '*'
            : world.accounts[spec.principal].id,
    permission: spec.permission,
  }))
}

async function buildWorld(dialect: 'sqlite' | 'postgres', bypass: boolean): Promise<World> {
  const h = await createHarness(dialect, { ...ALL_FEATURES, BYPASS_ADMIN_ACCESS_CONTROL: String(bypass) })
  // Users build their presets on a base the admin shared with everyone (issue #10, hole 2).
  await h.shareBase('base/llama3.1:8b')
  const accounts = {
    admin: h.admin,
    owner: await h.createUser('user', 'Owner'),
    member: await h.createUser('user', 'Member'),
    reader: await h.createUser('user', 'Reader'),
    writer: await h.createUser('user', 'Writer'),
    stranger: await h.createUser('user', 'Stranger'),
    pending: await h.createUser('pending', 'Pending'),
  } satisfies Record<Caller, TestAccount>
  const groupId = await createGroup(h, 'G', undefined, [accounts.member.id, accounts.pending.id])
  const otherGroupId = await createGroup(h, 'G2', undefined, [accounts.stranger.id])
  const partial = { accounts, groupId, otherGroupId }
  const ids = {} as Record<ModelKey, string>
  for (const key of MODEL_KEYS) {
    const spec = SCENARIO[key]
    ids[key] = modelId(key)
    // Each model is created by its owner, with its grants, through the API.
    const res = await h.request({
      method: 'POST',
      url: `${MODELS_API}/create`,
      headers: accounts[spec.owner].auth,
      payload: {
        id: ids[key],
        base_model_id: spec.preset ? 'base/llama3.1:8b' : null,
        name: `Model ${key}`,
        meta: { tags: [tagOf(key)], description: key },
        params: { temperature: 0.5 },
        access_grants: grantsOf(partial, spec.grants),
      },
    })
    expect(res.statusCode, res.body).toBe(200)
  }
  return { h, ...partial, ids, expected: parseTable(EXPECTED[bypass ? 'bypass' : 'noBypass']) }
}

/** Copies scenario models (row, grants, tags) to new ids, straight into the database. */
async function cloneModels(h: Harness, copies: readonly { from: string; to: string }[]): Promise<void> {
  const db = h.services.database.db
  const sources = new Map(
    (
      await db
        .selectFrom('models')
        .selectAll()
        .where('id', 'in', [...new Set(copies.map((c) => c.from))])
        .execute()
    ).map((r) => [r.id, r]),
  )
  const grants = await db
    .selectFrom('model_grants')
    .selectAll()
    .where('model_id', 'in', [...sources.keys()])
    .execute()
  const tags = await db
    .selectFrom('model_tags')
    .selectAll()
    .where('model_id', 'in', [...sources.keys()])
    .execute()
  const modelRows = copies.map(({ from, to }) => {
    const source = sources.get(from)
    if (!source) throw new Error(`no model ${from}`)
    return { ...source, id: to }
  })
  const grantRows = copies.flatMap(({ from, to }) => grants.filter((g) => g.model_id === from).map((g) => ({ ...g, id: randomUUID(), model_id: to })))
  const tagRows = copies.flatMap(({ from, to }) => tags.filter((t) => t.model_id === from).map((t) => ({ ...t, model_id: to })))
  for (let i = 0; i < modelRows.length; i += 100) {
    await db
      .insertInto('models')
      .values(modelRows.slice(i, i + 100))
      .execute()
  }
  for (let i = 0; i < grantRows.length; i += 100) {
    await db
      .insertInto('model_grants')
      .values(grantRows.slice(i, i + 100))
      .execute()
  }
  for (let i = 0; i < tagRows.length; i += 100) {
    await db
      .insertInto('model_tags')
      .values(tagRows.slice(i, i + 100))
      .execute()
  }
  await db
    .updateTable('registry_state')
    .set((eb) => ({ version: eb('version', '+', 1) }))
    .where('key', '=', 'models')
    .execute()
}

type ListItem = Pick<ModelWithAccess, 'id' | 'write_access' | 'user'>

/** Every page of a listing, and the total each page reported. */
async function listAll(
  h: Harness,
  account: TestAccount,
  query: Record<string, string> = {},
): Promise<{ status: number; items: ListItem[]; totals: number[]; body: string }> {
  const items: ListItem[] = []
  const totals: number[] = []
  for (let page = 1; ; page++) {
    const res = await h.request({ method: 'GET', url: `${MODELS_API}/list`, headers: account.auth, query: { ...query, limit: '100', page: String(page) } })
    if (res.statusCode !== 200) return { status: res.statusCode, items, totals, body: res.body }
    const body = res.json<{ items: ListItem[]; total: number }>()
    items.push(...body.items)
    totals.push(body.total)
    if (body.items.length < 100) return { status: 200, items, totals, body: res.body }
  }
}

// ─── The table, on every dialect, with and without admin bypass ──────────────────────────────────

const MODES = [
  { bypass: true, label: 'BYPASS_ADMIN_ACCESS_CONTROL=true' },
  { bypass: false, label: 'BYPASS_ADMIN_ACCESS_CONTROL=false' },
] as const

describe.each(DIALECTS)('model access table on %s', (dialect) => {
  describe.each(MODES)('$label', ({ bypass }) => {
    let w: World
    beforeAll(async () => {
      w = await buildWorld(dialect, bypass)
    })
    afterAll(async () => w?.h.close())

    const scenarioKeyOf = (id: string) => MODEL_KEYS.find((key) => w.ids[key] === id)
    const expectation = (caller: Caller, key: ModelKey): Expectation => {
      const e = w.expected.get(caller)?.get(key)
      if (!e) throw new Error(`no expectation for ${caller} × ${key}`)
      return e
    }

    it('GET /list lists exactly the readable presets, with write_access = writable', async () => {
      const problems: string[] = []
      for (const caller of CALLERS) {
        const account = w.accounts[caller]
        const pending = expectation(caller, 'private').pending
        for (const view of ['', 'created', 'shared'] as const) {
          const { status, items, totals, body } = await listAll(w.h, account, view ? { view_option: view } : {})
          if (status !== (pending ? 403 : 200)) {
            problems.push(`${caller} list(${view}): expected ${pending ? 403 : 200}, got ${status} ${body.slice(0, 200)}`)
            continue
          }
          if (pending) continue
          if (totals.some((total) => total !== items.length)) problems.push(`${caller} list(${view}): totals ${totals.join(',')} for ${items.length} items`)
          const listed = new Map(items.map((item) => [item.id, item]))
          for (const key of MODEL_KEYS) {
            const e = expectation(caller, key)
            const owned = w.accounts[SCENARIO[key].owner].id === account.id
            const inView = view === 'created' ? owned : view === 'shared' ? !owned : true
            const shouldList = SCENARIO[key].preset && e.read && inView
            const item = listed.get(w.ids[key])
            if (Boolean(item) !== shouldList) problems.push(`${caller} list(${view}) ${key}: expected listed=${shouldList}, got ${Boolean(item)}`)
            if (item && item.write_access !== e.write) {
              problems.push(`${caller} list(${view}) ${key}: expected write_access=${e.write}, got ${item.write_access}`)
            }
            if (item && item.user?.id !== w.accounts[SCENARIO[key].owner].id) {
              problems.push(`${caller} list(${view}) ${key}: wrong owner ${JSON.stringify(item.user)}`)
            }
          }
          for (const item of items) {
            if (!scenarioKeyOf(item.id) && !item.id.startsWith('copy/')) problems.push(`${caller} list(${view}): unexpected item ${item.id}`)
          }
        }
      }
      expect(problems).toEqual([])
    })

    it('GET /model answers 200 when readable, 404 otherwise, 403 to pending', async () => {
      const problems: string[] = []
      for (const caller of CALLERS) {
        for (const key of MODEL_KEYS) {
          const e = expectation(caller, key)
          const res = await w.h.request({ method: 'GET', url: `${MODELS_API}/model`, headers: w.accounts[caller].auth, query: { id: w.ids[key] } })
          const wrong = mismatch(res, readOutcome(e))
          if (wrong) {
            problems.push(`${caller} get ${key}: ${wrong}`)
            continue
          }
          if (res.statusCode === 200) {
            const body = res.json<{ id: string; write_access: boolean }>()
            if (body.id !== w.ids[key]) problems.push(`${caller} get ${key}: wrong id ${body.id}`)
            if (body.write_access !== e.write) problems.push(`${caller} get ${key}: expected write_access=${e.write}, got ${body.write_access}`)
          }
        }
      }
      expect(problems).toEqual([])
    })

    it('GET /model/profile/image follows the read rule too', async () => {
      const problems: string[] = []
      for (const caller of CALLERS) {
        for (const key of MODEL_KEYS) {
          const res = await w.h.request({
            method: 'GET',
            url: `${MODELS_API}/model/profile/image`,
            headers: w.accounts[caller].auth,
            query: { id: w.ids[key] },
          })
          const wrong = mismatch(res, readOutcome(expectation(caller, key)))
          if (wrong) problems.push(`${caller} profile image ${key}: ${wrong}`)
        }
      }
      expect(problems).toEqual([])
    })

    it('an unreadable model and a missing one get the same 404 answer', async () => {
      const res = await w.h.request({ method: 'GET', url: `${MODELS_API}/model`, headers: w.accounts.stranger.auth, query: { id: w.ids.private } })
      const missing = await w.h.request({ method: 'GET', url: `${MODELS_API}/model`, headers: w.accounts.stranger.auth, query: { id: 'acl/missing:v1' } })
      expect(res.statusCode).toBe(404)
      expect(missing.statusCode).toBe(404)
      expect(res.json<{ detail: string }>().detail.replace(w.ids.private, '<id>')).toBe(
        missing.json<{ detail: string }>().detail.replace('acl/missing:v1', '<id>'),
      )
    })

    it('GET /tags shows a model’s tag exactly when the caller may read that preset', async () => {
      const problems: string[] = []
      for (const caller of CALLERS) {
        const pending = expectation(caller, 'private').pending
        const res = await w.h.request({ method: 'GET', url: `${MODELS_API}/tags`, headers: w.accounts[caller].auth })
        if (res.statusCode !== (pending ? 403 : 200)) {
          problems.push(`${caller} tags: expected ${pending ? 403 : 200}, got ${res.statusCode}`)
          continue
        }
        if (pending) continue
        const tags = res.json<string[]>()
        for (const key of MODEL_KEYS) {
          const shouldShow = SCENARIO[key].preset && expectation(caller, key).read
          if (tags.includes(tagOf(key)) !== shouldShow) problems.push(`${caller} tags ${key}: expected shown=${shouldShow}, got ${!shouldShow}`)
        }
      }
      expect(problems).toEqual([])
    })

    it('export holds exactly the models the caller may write (GET and POST)', async () => {
      const problems: string[] = []
      for (const caller of CALLERS) {
        const pending = expectation(caller, 'private').pending
        for (const method of ['GET', 'POST'] as const) {
          const res = await w.h.request({ method, url: `${MODELS_API}/export`, headers: w.accounts[caller].auth })
          if (res.statusCode !== (pending ? 403 : 200)) {
            problems.push(`${caller} ${method} export: expected ${pending ? 403 : 200}, got ${res.statusCode}`)
            continue
          }
          if (pending) continue
          const exported = new Set(res.json<{ id: string }[]>().map((m) => m.id))
          for (const key of MODEL_KEYS) {
            const e = expectation(caller, key)
            if (exported.has(w.ids[key]) !== e.write) problems.push(`${caller} ${method} export ${key}: expected included=${e.write}, got ${!e.write}`)
          }
        }
      }
      expect(problems).toEqual([])
    })

    it('membership, role and grant changes take effect at once on list, tags and get', async () => {
      await cloneModels(w.h, [
        { from: w.ids['group-read'], to: 'live/group-read:v1' },
        { from: w.ids['user-read'], to: 'live/user-read:v1' },
      ])
      const admin = w.h.admin.auth
      /** What `account` sees of model `id`: listed, its list total consistent, GET status, tag shown. */
      const sees = async (account: TestAccount, id: string, tag: string) => {
        const list = await listAll(w.h, account)
        const get = await w.h.request({ method: 'GET', url: `${MODELS_API}/model`, headers: account.auth, query: { id } })
        const tags = await w.h.request({ method: 'GET', url: `${MODELS_API}/tags`, headers: account.auth })
        return {
          list: list.status,
          listed: list.items.some((item) => item.id === id),
          totalsAgree: list.totals.every((total) => total === list.items.length),
          get: get.statusCode,
          tag: tags.statusCode === 200 && tags.json<string[]>().includes(tag),
        }
      }
      const yes = { list: 200, listed: true, totalsAgree: true, get: 200, tag: true }
      const no = { list: 200, listed: false, totalsAgree: true, get: 404, tag: false }
      const x = w.accounts.stranger
      const groupUrl = `/api/v1/groups/id/${w.groupId}/users`
      const setRole = async (role: 'user' | 'admin' | 'pending') => {
        const res = await w.h.request({ method: 'POST', url: `/api/v1/users/${x.id}/update`, headers: admin, payload: { role } })
        expect(res.statusCode, res.body).toBe(200)
      }
      /** A demotion to pending revokes the account's sessions (docs/auth.md): sign in again afterwards. */
      const signInAgain = async () => {
        const res = await w.h.request({ method: 'POST', url: '/api/v1/auths/signin', payload: { email: x.email, password: PASSWORD } })
        expect(res.statusCode, res.body).toBe(200)
        x.token = res.json<{ token: string }>().token
        x.auth = { authorization: `Bearer ${x.token}` }
      }
      try {
        expect(await sees(x, 'live/group-read:v1', tagOf('group-read')), 'before joining G').toEqual(no)
        expect((await w.h.request({ method: 'POST', url: `${groupUrl}/add`, headers: admin, payload: { user_ids: [x.id] } })).statusCode).toBe(200)
        expect(await sees(x, 'live/group-read:v1', tagOf('group-read')), 'member of G').toEqual(yes)
        expect((await w.h.request({ method: 'POST', url: `${groupUrl}/remove`, headers: admin, payload: { user_ids: [x.id] } })).statusCode).toBe(200)
        expect(await sees(x, 'live/group-read:v1', tagOf('group-read')), 'removed from G').toEqual(no)

        await setRole('admin')
        expect(await sees(x, w.ids.private, tagOf('private')), 'promoted to admin').toEqual(bypass ? yes : no)
        await setRole('pending')
        expect([401, 403], 'made pending').toContain((await sees(x, w.ids['public-read'], tagOf('public-read'))).list)
        await setRole('user')
        await signInAgain()
        expect(await sees(x, w.ids.private, tagOf('private')), 'back to user').toEqual(no)
        expect(await sees(x, w.ids['public-read'], tagOf('public-read')), 'back to user').toEqual(yes)

        const reader = w.accounts.reader
        expect(await sees(reader, 'live/user-read:v1', tagOf('user-read')), 'reader before revoke').toEqual(yes)
        const revoke = await w.h.request({
          method: 'POST',
          url: `${MODELS_API}/model/access/update`,
          headers: w.accounts.owner.auth,
          payload: { id: 'live/user-read:v1', access_grants: [] },
        })
        expect(revoke.statusCode, revoke.body).toBe(200)
        // The scenario's own user-read model still shows the tag, so only list and get change.
        expect(await sees(reader, 'live/user-read:v1', tagOf('user-read')), 'reader after revoke').toEqual({ ...no, tag: true })
      } finally {
        await setRole('user')
        await signInAgain()
        await w.h.request({ method: 'POST', url: `${groupUrl}/remove`, headers: admin, payload: { user_ids: [x.id] } })
      }
    })

    /** A mutating operation: its request, and a check of the model's state after it. */
    interface Mutation {
      name: string
      /** Short name used in the ids of its copies. */
      slug: string
      send(id: string, account: TestAccount): Promise<Reply>
      /** The state after the request, given whether it succeeded: a description of what is wrong, or null. */
      verify(id: string, succeeded: boolean, res: Reply): Promise<string | null>
    }

    const row = (id: string) => w.h.services.database.db.selectFrom('models').selectAll().where('id', '=', id).executeTakeFirst()
    const grantKeys = async (id: string) =>
      (await w.h.services.database.db.selectFrom('model_grants').selectAll().where('model_id', '=', id).execute())
        .map((g) => `${g.principal_type}:${g.principal_id}:${g.permission}`)
        .sort()

    /** The scenario model a copy was made from: copy/<op>/<caller>/<key>:v1 → acl/<key>:v1. */
    const sourceOf = (copyId: string) => copyId.replace(/^copy\/[^/]+\/[^/]+\//, 'acl/')

    const MUTATIONS: Mutation[] = [
      {
        name: 'update',
        slug: 'update',
        send: (id, account) => w.h.request({ method: 'POST', url: `${MODELS_API}/model/update`, headers: account.auth, payload: { id, name: 'Renamed' } }),
        async verify(id, succeeded, res) {
          const r = await row(id)
          if (!r) return 'model vanished'
          const want = succeeded ? 'Renamed' : (await row(sourceOf(id)))?.name
          if (succeeded && (res.json() as { name: string }).name !== 'Renamed') return `response name ${res.body.slice(0, 100)}`
          return r.name === want ? null : `name is ${r.name}, expected ${want}`
        },
      },
      {
        name: 'toggle',
        slug: 'toggle',
        send: (id, account) => w.h.request({ method: 'POST', url: `${MODELS_API}/model/toggle`, headers: account.auth, query: { id } }),
        async verify(id, succeeded, res) {
          const r = await row(id)
          if (!r) return 'model vanished'
          if (succeeded && (res.json() as { is_active: boolean }).is_active !== false) return `response is_active ${res.body.slice(0, 100)}`
          const want = succeeded ? 0 : 1
          return Number(r.is_active) === want ? null : `is_active is ${r.is_active}, expected ${want}`
        },
      },
      {
        name: 'access/update (revoke all)',
        slug: 'access',
        // Revokes every grant (adds none, so no sharing permission is involved: the write rule alone decides).
        send: (id, account) =>
          w.h.request({ method: 'POST', url: `${MODELS_API}/model/access/update`, headers: account.auth, payload: { id, access_grants: [] } }),
        async verify(id, succeeded, res) {
          const now = await grantKeys(id)
          const before = await grantKeys(sourceOf(id))
          if (succeeded && (res.json() as { access_grants: unknown[] }).access_grants.length !== 0) return `response ${res.body.slice(0, 200)}`
          const want = succeeded ? [] : before
          return JSON.stringify(now) === JSON.stringify(want) ? null : `grants are ${now.join(', ')}, expected ${want.join(', ')}`
        },
      },
      {
        name: 'access/update (add a grant)',
        slug: 'share',
        // Keeps the model's grants and adds a read grant for G2 (sharing is allowed to everyone here).
        send: async (id, account) => {
          const current = await w.h.services.database.db.selectFrom('model_grants').selectAll().where('model_id', '=', id).execute()
          const grants = [
            ...current.map((g) => ({ principal_type: g.principal_type, principal_id: g.principal_id, permission: g.permission })),
            { principal_type: 'group', principal_id: w.otherGroupId, permission: 'read' },
          ]
          return within(
            w.h.request({ method: 'POST', url: `${MODELS_API}/model/access/update`, headers: account.auth, payload: { id, access_grants: grants } }),
            'access update',
          )
        },
        async verify(id, succeeded) {
          const now = await grantKeys(id)
          const before = await grantKeys(sourceOf(id))
          const want = succeeded ? [...before, `group:${w.otherGroupId}:read`].sort() : before
          return JSON.stringify(now) === JSON.stringify(want) ? null : `grants are ${now.join(', ')}, expected ${want.join(', ')}`
        },
      },
      {
        name: 'delete',
        slug: 'delete',
        send: (id, account) => w.h.request({ method: 'POST', url: `${MODELS_API}/model/delete`, headers: account.auth, payload: { id } }),
        async verify(id, succeeded, res) {
          if (succeeded && res.body !== 'true') return `response ${res.body.slice(0, 100)}`
          const exists = Boolean(await row(id))
          const grants = await grantKeys(id)
          if (succeeded && grants.length > 0) return `grants left behind: ${grants.join(', ')}`
          return exists === !succeeded ? null : `model exists=${exists} after ${succeeded ? 'a successful' : 'a refused'} delete`
        },
      },
      {
        name: 'delete (legacy DELETE ?id=)',
        slug: 'legacy-delete',
        send: (id, account) => w.h.request({ method: 'DELETE', url: `${MODELS_API}/model/delete`, headers: account.auth, query: { id } }),
        async verify(id, succeeded) {
          const exists = Boolean(await row(id))
          return exists === !succeeded ? null : `model exists=${exists} after ${succeeded ? 'a successful' : 'a refused'} delete`
        },
      },
    ]

    it.each(MUTATIONS.map((m) => ({ m, name: m.name })))('$name: 200 when writable, 403 when only readable, 404 otherwise (on fresh copies)', async ({ m }) => {
      const copyId = (caller: Caller, key: ModelKey) => `copy/${m.slug}/${caller}/${key}:v1`
      await cloneModels(
        w.h,
        CALLERS.flatMap((caller) => MODEL_KEYS.map((key) => ({ from: w.ids[key], to: copyId(caller, key) }))),
      )
      const problems: string[] = []
      for (const caller of CALLERS) {
        for (const key of MODEL_KEYS) {
          const id = copyId(caller, key)
          const expected = writeOutcome(expectation(caller, key))
          const res = await m.send(id, w.accounts[caller])
          const wrong = mismatch(res, expected)
          if (wrong) problems.push(`${caller} ${m.name} ${key}: ${wrong}`)
          const stateWrong = await m.verify(id, res.statusCode === 200, res)
          if (stateWrong) problems.push(`${caller} ${m.name} ${key}: state: ${stateWrong}`)
        }
      }
      expect(problems).toEqual([])
    })

    it('import updates an existing model only where the caller may write it, and skips it otherwise', async () => {
      const copyId = (caller: Caller, key: ModelKey) => `copy/import/${caller}/${key}:v1`
      await cloneModels(
        w.h,
        CALLERS.flatMap((caller) => MODEL_KEYS.map((key) => ({ from: w.ids[key], to: copyId(caller, key) }))),
      )
      const problems: string[] = []
      for (const caller of CALLERS) {
        const items = MODEL_KEYS.map((key) => ({ id: copyId(caller, key), name: 'Imported' }))
        const res = await w.h.request({ method: 'POST', url: `${MODELS_API}/import`, headers: w.accounts[caller].auth, payload: { models: items } })
        const pending = expectation(caller, 'private').pending
        if (res.statusCode !== (pending ? 403 : 200)) {
          problems.push(`${caller} import: expected ${pending ? 403 : 200}, got ${res.statusCode} ${res.body.slice(0, 200)}`)
          continue
        }
        const report = pending ? { created: [], updated: [], skipped: [] } : res.json<{ created: string[]; updated: string[]; skipped: { id: string }[] }>()
        for (const key of MODEL_KEYS) {
          const id = copyId(caller, key)
          const write = expectation(caller, key).write
          if (report.updated.includes(id) !== write) problems.push(`${caller} import ${key}: expected updated=${write}`)
          if (report.skipped.some((s) => s.id === id) !== (!pending && !write)) problems.push(`${caller} import ${key}: expected skipped=${!pending && !write}`)
          if (report.created.includes(id)) problems.push(`${caller} import ${key}: reported as created`)
          const name = (await w.h.services.database.db.selectFrom('models').select('name').where('id', '=', id).executeTakeFirst())?.name
          if ((name === 'Imported') !== write) problems.push(`${caller} import ${key}: name is ${name}`)
        }
      }
      expect(problems).toEqual([])
    })

    it('pending accounts get 403 on every models route, create and import included', async () => {
      const auth = w.accounts.pending.auth
      const requests = [
        { method: 'GET', url: `${MODELS_API}/list` },
        { method: 'GET', url: `${MODELS_API}/tags` },
        { method: 'GET', url: `${MODELS_API}/base` },
        { method: 'GET', url: `${MODELS_API}/export` },
        { method: 'GET', url: `${MODELS_API}/model?id=${encodeURIComponent(w.ids['user-read'])}` },
        { method: 'GET', url: `${MODELS_API}/model/profile/image?id=${encodeURIComponent(w.ids['public-read'])}` },
        { method: 'POST', url: `${MODELS_API}/create`, payload: { id: 'pending/own', base_model_id: 'b', name: 'p' } },
        { method: 'POST', url: `${MODELS_API}/import`, payload: [] },
        { method: 'POST', url: `${MODELS_API}/sync`, payload: { models: [], dry_run: true } },
        { method: 'DELETE', url: `${MODELS_API}/delete/all` },
      ] as const
      for (const r of requests) {
        const res = await w.h.request({ ...r, headers: auth })
        expect(res.statusCode, `${r.method} ${r.url}: ${res.body}`).toBe(403)
        expect(res.json<{ code: string }>().code).toBe('ACCESS_PROHIBITED')
      }
      const created = await w.h.services.database.db.selectFrom('models').select('id').where('id', '=', 'pending/own').executeTakeFirst()
      expect(created).toBeUndefined()
    })
  })
})

// ─── Feature permissions on models routes ────────────────────────────────────────────────────────

const post = (h: Harness, account: TestAccount, path: string, payload: unknown) =>
  h.request({ method: 'POST', url: `${MODELS_API}${path}`, headers: account.auth, payload })
const grantKeysIn = async (h: Harness, id: string) =>
  (await h.services.database.db.selectFrom('model_grants').selectAll().where('model_id', '=', id).execute())
    .map((g) => `${g.principal_type}:${g.principal_id === '*' ? '*' : 'id'}:${g.permission}`)
    .sort()
const expectProhibited = (res: Reply, mentions: string) => {
  expect(res.statusCode, res.body).toBe(403)
  const body = res.json() as { code: string; detail: string }
  expect(body.code).toBe('ACCESS_PROHIBITED')
  expect(body.detail).toContain(mentions)
}

describe.each(DIALECTS)('model feature permissions on %s', (dialect) => {
  let h: Harness
  let user: TestAccount
  let other: TestAccount
  let teamId: string
  beforeAll(async () => {
    // Default environment: users have none of the model feature permissions.
    h = await createHarness(dialect)
    user = await h.createUser('user', 'Plain')
    other = await h.createUser('user', 'Other')
    teamId = await createGroup(h, 'Team', undefined, [other.id])
    await h.shareBase('b')
  })
  afterAll(async () => h?.close())

  const modelExists = async (id: string) => Boolean(await h.services.database.db.selectFrom('models').select('id').where('id', '=', id).executeTakeFirst())

  it('without workspace.models a user cannot create; an admin can', async () => {
    expectProhibited(await post(h, user, '/create', { id: 'fp/denied', base_model_id: 'b', name: 'x' }), 'workspace.models')
    expect(await modelExists('fp/denied')).toBe(false)
    const res = await post(h, h.admin, '/create', {
      id: 'fp/admin',
      base_model_id: 'b',
      name: 'x',
      access_grants: [{ principal_type: 'user', principal_id: '*', permission: 'write' }],
    })
    expect(res.statusCode, res.body).toBe(200)
  })

  it('without workspace.models_export a user cannot export; an admin can', async () => {
    for (const method of ['GET', 'POST'] as const) {
      expectProhibited(await h.request({ method, url: `${MODELS_API}/export`, headers: user.auth }), 'workspace.models_export')
      expect((await h.request({ method, url: `${MODELS_API}/export`, headers: h.admin.auth })).statusCode).toBe(200)
    }
  })

  it('a group permission gives the feature to its members; sharing still needs its own permissions', async () => {
    const member = await h.createUser('user', 'Creator')
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/groups/create',
      headers: h.admin.auth,
      payload: { name: 'Creators', user_ids: [member.id], permissions: { workspace: { models: true, models_export: true } } },
    })
    expect(res.statusCode, res.body).toBe(200)
    expect((await post(h, member, '/create', { id: 'fp/member', base_model_id: 'b', name: 'mine' })).statusCode).toBe(200)
    expect((await h.request({ method: 'GET', url: `${MODELS_API}/export`, headers: member.auth })).statusCode).toBe(200)
    const refused = [
      { body: { access_control: null }, mentions: 'sharing.public_models' },
      { body: { access_grants: [{ principal_type: 'user', principal_id: '*', permission: 'write' }] }, mentions: 'sharing.public_models' },
      { body: { access_control: { read: { user_ids: [other.id] } } }, mentions: 'sharing.models' },
      { body: { access_grants: [{ principal_type: 'group', principal_id: teamId, permission: 'write' }] }, mentions: 'sharing.models' },
    ]
    for (const [index, c] of refused.entries()) {
      expectProhibited(await post(h, member, '/create', { id: `fp/refused-${index}`, base_model_id: 'b', name: 'p', ...c.body }), c.mentions)
      expect(await modelExists(`fp/refused-${index}`)).toBe(false)
    }
  })

  it('a grant naming a group that does not exist is a 400 on create', async () => {
    const res = await post(h, h.admin, '/create', {
      id: 'fp/ghost',
      base_model_id: 'b',
      name: 'g',
      access_grants: [{ principal_type: 'group', principal_id: 'no-such-group', permission: 'read' }],
    })
    expect(res.statusCode, res.body).toBe(400)
    expect(res.json<{ code: string }>().code).toBe('INVALID_ACCESS_CONTROL')
    expect(await modelExists('fp/ghost')).toBe(false)
  })

  it('grants kept as they were need no permission: a write grantee edits a public-write model', async () => {
    const grants = [
      { principal_type: 'user', principal_id: '*', permission: 'write' },
      { principal_type: 'group', principal_id: teamId, permission: 'write' },
    ]
    expect((await post(h, h.admin, '/create', { id: 'fp/shared', base_model_id: 'b', name: 'shared', access_grants: grants })).statusCode).toBe(200)
    const edited = await post(h, other, '/model/update', { id: 'fp/shared', name: 'edited', access_grants: grants })
    expect(edited.statusCode, edited.body).toBe(200)
    // Removing a grant needs no permission either.
    const removed = await post(h, other, '/model/access/update', { id: 'fp/shared', access_grants: grants.slice(0, 1) })
    expect(removed.statusCode, removed.body).toBe(200)
    expect(await grantKeysIn(h, 'fp/shared')).toEqual(['user:*:write'])
  })
})

// ─── Adding grants after creation (update and access update) ─────────────────────────────────────

/**
 * A request that does not answer in time fails the test instead of hanging it. Each case runs on its
 * own harness: a request stuck inside a transaction would block every later one on that database.
 */
const DEADLINE_MS = 8000
async function within<T>(work: Promise<T>, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: no answer within ${DEADLINE_MS} ms (stuck in a transaction?)`)), DEADLINE_MS)
  })
  try {
    return await Promise.race([work, deadline])
  } finally {
    clearTimeout(timer)
  }
}

describe.each(DIALECTS)('adding grants to an existing model on %s', (dialect) => {
  let h: Harness | undefined
  let owner: TestAccount
  let friend: TestAccount
  let teamId: string

  /** A fresh harness where users may create models, and share them as `sharing` says. */
  async function setup(sharing: boolean): Promise<Harness> {
    h = await createHarness(dialect, {
      USER_PERMISSIONS_WORKSPACE_MODELS_ACCESS: 'true',
      USER_PERMISSIONS_WORKSPACE_MODELS_ALLOW_SHARING: String(sharing),
      USER_PERMISSIONS_WORKSPACE_MODELS_ALLOW_PUBLIC_SHARING: String(sharing),
    })
    owner = await h.createUser('user', 'Owner')
    friend = await h.createUser('user', 'Friend')
    teamId = await createGroup(h, 'Team', undefined, [friend.id])
    await h.shareBase('b')
    expect((await post(h, owner, '/create', { id: 'add/m', base_model_id: 'b', name: 'm' })).statusCode).toBe(200)
    return h
  }
  afterEach(async () => {
    // A harness with a stuck transaction may never close: do not wait for it forever.
    if (h) await within(h.close(), 'close').catch(() => undefined)
    h = undefined
  })

  const readAs = async (hh: Harness, account: TestAccount) =>
    (await hh.request({ method: 'GET', url: `${MODELS_API}/model`, headers: account.auth, query: { id: 'add/m' } })).statusCode

  it('the owner shares with a user through access update: 200, and the user can read', async () => {
    const hh = await setup(true)
    const res = await within(
      post(hh, owner, '/model/access/update', { id: 'add/m', access_grants: [{ principal_type: 'user', principal_id: friend.id, permission: 'read' }] }),
      'access update',
    )
    expect(res.statusCode, res.body).toBe(200)
    expect(await readAs(hh, friend)).toBe(200)
  })

  it('the owner shares with a group through update: 200, and a member can read', async () => {
    const hh = await setup(true)
    const res = await within(
      post(hh, owner, '/model/update', { id: 'add/m', access_grants: [{ principal_type: 'group', principal_id: teamId, permission: 'read' }] }),
      'update',
    )
    expect(res.statusCode, res.body).toBe(200)
    expect(await readAs(hh, friend)).toBe(200)
  })

  it('the admin makes a model public through access update (access_control null): 200', async () => {
    const hh = await setup(false)
    const res = await within(post(hh, hh.admin, '/model/access/update', { id: 'add/m', access_control: null }), 'access update')
    expect(res.statusCode, res.body).toBe(200)
    expect(await grantKeysIn(hh, 'add/m')).toEqual(['user:*:read'])
    expect(await readAs(hh, friend)).toBe(200)
  })

  it('without sharing.public_models, making a model public by access update is a 403 that changes nothing', async () => {
    const hh = await setup(false)
    expectProhibited(await within(post(hh, owner, '/model/access/update', { id: 'add/m', access_control: null }), 'access update'), 'sharing.public_models')
    expect(await grantKeysIn(hh, 'add/m')).toEqual([])
  })

  it('without sharing.models, sharing with a group by update is a 403 that changes nothing', async () => {
    const hh = await setup(false)
    expectProhibited(
      await within(
        post(hh, owner, '/model/update', {
          id: 'add/m',
          name: 'changed',
          access_grants: [{ principal_type: 'group', principal_id: teamId, permission: 'write' }],
        }),
        'update',
      ),
      'sharing.models',
    )
    expect(await grantKeysIn(hh, 'add/m')).toEqual([])
    const row = await hh.services.database.db.selectFrom('models').select('name').where('id', '=', 'add/m').executeTakeFirst()
    expect(row?.name).toBe('m')
  })

  it('a grant to a group that does not exist is a 400 on access update', async () => {
    const hh = await setup(true)
    const res = await within(
      post(hh, owner, '/model/access/update', { id: 'add/m', access_grants: [{ principal_type: 'group', principal_id: 'no-such-group', permission: 'read' }] }),
      'access update',
    )
    expect(res.statusCode, res.body).toBe(400)
    expect(res.json<{ code: string }>().code).toBe('INVALID_ACCESS_CONTROL')
    expect(await grantKeysIn(hh, 'add/m')).toEqual([])
  })
})
