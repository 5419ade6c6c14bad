/**
 * Races (issue #10, hole 6): requests that race each other on the same records answer 200, 404 or 409,
 * never 5xx, on SQLite and PostgreSQL. On PostgreSQL (a real server when TEST_POSTGRES_URL is set, a pool
 * of 5 connections) the requests run truly in parallel; on SQLite they interleave at every await.
 * Constraint violations that only a race can cause are mapped in one place (db/errors.ts, docs/errors.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from '../support/databases.js'
import { createHarness, type Harness, type TestAccount } from '../support/harness.js'

const ROUNDS = Number(process.env['RACE_ROUNDS'] ?? 12)

type Response = Awaited<ReturnType<Harness['request']>>

/** Every answer in `allowed`; the failing ones are printed with their bodies. */
function expectOnly(responses: Response[], allowed: number[], label: string): void {
  const bad = responses.filter((r) => !allowed.includes(r.statusCode)).map((r) => `${r.statusCode} ${r.body.slice(0, 300)}`)
  expect(bad, `${label}: answers outside ${allowed.join('/')}`).toEqual([])
  for (const r of responses) {
    if (r.statusCode >= 400) expect(Object.keys(r.json()), label).toEqual(expect.arrayContaining(['detail', 'code']))
  }
}

describe.each(DIALECTS)('races on %s', (dialect) => {
  let h: Harness
  let member: TestAccount
  let others: TestAccount[]

  beforeAll(async () => {
    h = await createHarness(dialect)
    member = await h.createUser('user', 'Member')
    others = [await h.createUser('user'), await h.createUser('user')]
  })
  afterAll(async () => h?.close())

  const admin = () => h.admin.auth
  const model = (id: string, extra: Record<string, unknown> = {}) => ({ id, name: `Model ${id}`, base_model_id: 'gpt-4o', ...extra })

  it('update, access update, toggle and delete of one model racing each other', async () => {
    const all: Response[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const id = `race-upd-${round}`
      const created = await h.request({ method: 'POST', url: '/api/v1/models/create', headers: admin(), payload: model(id) })
      expect(created.statusCode, created.body).toBe(200)
      const grants = (who: TestAccount) => ({ id, access_grants: [{ principal_type: 'user', principal_id: who.id, permission: 'read' }] })
      const responses = await Promise.all([
        h.request({
          method: 'POST',
          url: '/api/v1/models/model/update',
          headers: admin(),
          query: { id },
          payload: { ...model(id), name: 'first', meta: { tags: ['a', 'b'] } },
        }),
        h.request({ method: 'POST', url: '/api/v1/models/model/delete', headers: admin(), payload: { id } }),
        h.request({
          method: 'POST',
          url: '/api/v1/models/model/update',
          headers: admin(),
          query: { id },
          payload: { ...model(id), name: 'second', meta: { tags: ['c'] } },
        }),
        h.request({ method: 'POST', url: '/api/v1/models/model/access/update', headers: admin(), payload: grants(member) }),
        h.request({ method: 'POST', url: '/api/v1/models/model/access/update', headers: admin(), payload: grants(others[0] as TestAccount) }),
        h.request({ method: 'POST', url: '/api/v1/models/model/toggle', headers: admin(), query: { id } }),
        h.request({ method: 'DELETE', url: '/api/v1/models/model/delete', headers: admin(), query: { id } }),
      ])
      all.push(...responses)
      // Whatever won, the model is gone afterwards (two deletes ran), or a delete answered 404/409.
      const after = await h.request({ method: 'GET', url: '/api/v1/models/model', headers: admin(), query: { id } })
      expect([200, 404]).toContain(after.statusCode)
    }
    expectOnly(all, [200, 404, 409], 'update vs delete')
  })

  it('concurrent creates of one id: one 200, the others 409', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const id = `race-create-${round}`
      const responses = await Promise.all(
        Array.from({ length: 4 }, (_, i) =>
          h.request({ method: 'POST', url: '/api/v1/models/create', headers: admin(), payload: model(id, { name: `n${i}` }) }),
        ),
      )
      expectOnly(responses, [200, 409], 'create vs create')
      expect(responses.filter((r) => r.statusCode === 200)).toHaveLength(1)
    }
  })

  it('two overlapping imports of the same ids', async () => {
    const all: Response[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const ids = [0, 1, 2, 3].map((i) => `race-imp-${round}-${i}`)
      const first = ids
        .slice(0, 3)
        .map((id) => model(id, { meta: { tags: ['x'] }, access_grants: [{ principal_type: 'user', principal_id: member.id, permission: 'read' }] }))
      const second = ids.slice(1).map((id) => model(id, { name: `other ${id}`, meta: { tags: ['y'] } }))
      const responses = await Promise.all([
        h.request({ method: 'POST', url: '/api/v1/models/import', headers: admin(), payload: first }),
        h.request({ method: 'POST', url: '/api/v1/models/import', headers: admin(), payload: { models: second } }),
        h.request({ method: 'POST', url: '/api/v1/models/import', headers: admin(), payload: first }),
        h.request({ method: 'POST', url: '/api/v1/models/model/delete', headers: admin(), payload: { id: ids[1] } }),
      ])
      all.push(...responses)
      // Each id that exists exists once, whole: a name from one of the writers.
      for (const id of ids) {
        const got = await h.request({ method: 'GET', url: '/api/v1/models/model', headers: admin(), query: { id } })
        expect([200, 404]).toContain(got.statusCode)
        if (got.statusCode === 200) expect([`Model ${id}`, `other ${id}`]).toContain(got.json().name)
      }
    }
    expectOnly(all, [200, 404, 409], 'import vs import')
  })

  it('group create, delete and membership changes racing each other', async () => {
    const all: Response[] = []
    const memberIds = [member.id, ...others.map((o) => o.id)]
    for (let round = 0; round < ROUNDS; round++) {
      const created = await h.request({
        method: 'POST',
        url: '/api/v1/groups/create',
        headers: admin(),
        payload: { name: `race group ${round}`, user_ids: [member.id] },
      })
      expect(created.statusCode, created.body).toBe(200)
      const id = created.json().id as string
      // A model shared with the group: its grant must go with the group.
      await h.request({
        method: 'POST',
        url: '/api/v1/models/create',
        headers: admin(),
        payload: model(`race-grp-${round}`, { access_grants: [{ principal_type: 'group', principal_id: id, permission: 'read' }] }),
      })
      const responses = await Promise.all([
        h.request({ method: 'POST', url: `/api/v1/groups/id/${id}/users/add`, headers: admin(), payload: { user_ids: memberIds } }),
        h.request({ method: 'DELETE', url: `/api/v1/groups/id/${id}/delete`, headers: admin() }),
        h.request({ method: 'POST', url: `/api/v1/groups/id/${id}/users/remove`, headers: admin(), payload: { user_ids: [member.id] } }),
        h.request({ method: 'POST', url: `/api/v1/groups/id/${id}/update`, headers: admin(), payload: { name: `renamed ${round}`, user_ids: memberIds } }),
        h.request({ method: 'POST', url: '/api/v1/groups/create', headers: admin(), payload: { name: `race group ${round} b`, user_ids: memberIds } }),
        h.request({
          method: 'POST',
          url: '/api/v1/models/model/access/update',
          headers: admin(),
          payload: { id: `race-grp-${round}`, access_grants: [{ principal_type: 'group', principal_id: id, permission: 'write' }] },
        }),
        h.request({ method: 'DELETE', url: `/api/v1/groups/id/${id}/delete`, headers: admin() }),
      ])
      // The grant naming the group is refused (400 INVALID_ACCESS_CONTROL) when the group is already gone.
      const [grant] = responses.splice(5, 1)
      expect([200, 400, 404, 409], grant?.body).toContain(grant?.statusCode)
      all.push(...responses)
    }
    expectOnly(all, [200, 404, 409], 'group create/delete + membership')
  })

  it('user delete racing updates of the same user, and memberships of them', async () => {
    const all: Response[] = []
    const created = await h.request({ method: 'POST', url: '/api/v1/groups/create', headers: admin(), payload: { name: 'race users group' } })
    const groupId = created.json().id as string
    // Accounts cost a password hash each: fewer rounds than the other races.
    for (let round = 0; round < Math.ceil(ROUNDS / 2); round++) {
      const victim = await h.createUser('user')
      await h.request({ method: 'POST', url: '/api/v1/models/create', headers: victim.auth, payload: model(`race-owned-${round}`) })
      const url = `/api/v1/users/${victim.id}`
      const responses = await Promise.all([
        h.request({ method: 'POST', url: `${url}/update`, headers: admin(), payload: { name: `renamed ${round}` } }),
        h.request({ method: 'DELETE', url, headers: admin() }),
        h.request({ method: 'POST', url: `${url}/update`, headers: admin(), payload: { role: 'pending' } }),
        h.request({ method: 'POST', url: `${url}/update`, headers: admin(), payload: { email: `renamed-${round}-${Date.now()}@example.com` } }),
        h.request({ method: 'POST', url: `${url}/update`, headers: admin(), payload: { password: 'another-good-password' } }),
        h.request({ method: 'DELETE', url, headers: admin() }),
        h.request({ method: 'POST', url: '/api/v1/auths/api_key', headers: victim.auth }),
      ])
      all.push(...responses.slice(0, 6))
      // The victim's own request: 401 once the account is gone (or its token revoked), else 200/409.
      expect([200, 401, 409], responses[6]?.body).toContain(responses[6]?.statusCode)
      const add = await h.request({ method: 'POST', url: `/api/v1/groups/id/${groupId}/users/add`, headers: admin(), payload: { user_ids: [victim.id] } })
      // The account is gone: naming it is a client mistake (400), never a 5xx.
      expect([400, 404], add.body).toContain(add.statusCode)
    }
    expectOnly(all, [200, 404, 409], 'user delete vs update')
  }, 120_000)

  it('concurrent API key creation of one account: one key, the others 200 or 409', async () => {
    const account = others[1] as TestAccount
    for (let round = 0; round < ROUNDS; round++) {
      const responses = await Promise.all([
        ...Array.from({ length: 3 }, () => h.request({ method: 'POST', url: '/api/v1/auths/api_key', headers: account.auth })),
        h.request({ method: 'DELETE', url: '/api/v1/auths/api_key', headers: account.auth }),
      ])
      expectOnly(responses, [200, 404, 409], 'api key vs api key')
      const keys = await h.request({ method: 'GET', url: '/api/v1/auths/api_key', headers: account.auth })
      expect([200, 404]).toContain(keys.statusCode)
    }
  })

  it('connection update racing its delete', async () => {
    const all: Response[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const created = await h.request({
        method: 'POST',
        url: '/api/v1/connections/create',
        headers: admin(),
        payload: { base_url: 'http://127.0.0.1:9/v1', name: `race ${round}`, enabled: false },
      })
      expect(created.statusCode, created.body).toBe(200)
      const id = created.json().id as string
      const responses = await Promise.all([
        h.request({ method: 'POST', url: `/api/v1/connections/id/${id}/update`, headers: admin(), payload: { name: `renamed ${round}` } }),
        h.request({ method: 'DELETE', url: `/api/v1/connections/id/${id}/delete`, headers: admin() }),
        h.request({ method: 'POST', url: `/api/v1/connections/id/${id}/update`, headers: admin(), payload: { prefix_id: `p${round}` } }),
        h.request({ method: 'DELETE', url: `/api/v1/connections/id/${id}/delete`, headers: admin() }),
      ])
      all.push(...responses)
    }
    expectOnly(all, [200, 404, 409], 'connection update vs delete')
  })
})
