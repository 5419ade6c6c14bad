/**
 * Optimistic concurrency and version numbering under races (issue #12), on both dialects: racing
 * writers of one model leave one of the requested states and a gapless, unique history; writers with
 * the same If-Match get one 200 and 412s; racing creates of one id get one 200 and 409s; never a 5xx.
 * On PostgreSQL (a pool of 5) the requests run truly in parallel; on SQLite they interleave at every await.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { sorted, token, userGrant } from './support/factories.js'
import { createHarness, type Harness, type Reply, type TestAccount } from './support/harness.js'
import type { ModelOut } from './support/model-types.js'
import { versionsApi } from './support/model-versions.js'
import { M } from './support/models.js'

const ROUNDS = Number(process.env['RACE_ROUNDS'] ?? 4)

/** No answer outside `allowed`; error answers carry a code. */
function expectOnly(responses: Reply[], allowed: number[]): void {
  expect(
    responses.filter((r) => !allowed.includes(r.statusCode)).map((r) => `${r.statusCode} ${r.body.slice(0, 300)}`),
    `answers outside ${allowed.join('/')}`,
  ).toEqual([])
  for (const r of responses) if (r.statusCode >= 400) expect(typeof r.json().code).toBe('string')
}

/** `value`, which the test knows is there. */
function defined<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('expected a value')
  return value
}

const count = (responses: Reply[], status: number) => responses.filter((r) => r.statusCode === status).length

describe.each(DIALECTS)('model version races on %s', (dialect) => {
  let h: Harness
  let users: TestAccount[]
  const { versionsOf, historyOf, liveVersion, expectGapless } = versionsApi(() => h)

  beforeAll(async () => {
    h = await createHarness(dialect)
    users = []
    for (let i = 0; i < 4; i++) users.push(await h.createUser('user', `Racer ${i}`))
  })
  afterAll(async () => h?.close())
  const racer = (i: number) => defined(users[i])

  const model = (id: string, extra: Record<string, unknown> = {}) => ({ id, name: `Model ${id}`, base_model_id: 'gpt-4o', meta: {}, params: {}, ...extra })
  const create = async (id: string) => {
    const res = await h.send(h.admin, { method: 'POST', url: `${M}/create`, payload: model(id) })
    expect(res.statusCode, res.body).toBe(200)
  }
  const storedGrantKeys = async (id: string) =>
    sorted(
      (
        await h.services.database.db.selectFrom('model_grants').select(['principal_type', 'principal_id', 'permission']).where('model_id', '=', id).execute()
      ).map((g) => `${g.principal_type}:${g.principal_id}:${g.permission}`),
    )

  it('access updates racing: the stored set is exactly one of the requested sets; versions gapless and unique', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const id = `race-access-${token()}`
      await create(id)
      // Different sets, from empty to every racer, with both permissions.
      const sets = [
        [],
        [userGrant(racer(0).id)],
        [userGrant(racer(1).id, 'write')],
        [userGrant(racer(0).id), userGrant(racer(1).id), userGrant(racer(2).id, 'write')],
        users.map((u) => userGrant(u.id, 'write')),
        [userGrant(racer(3).id), userGrant(racer(3).id, 'write')],
        [userGrant('*')],
        [userGrant(racer(2).id), userGrant('*', 'read')],
      ]
      const responses = await Promise.all(
        sets.map((grants) => h.send(h.admin, { method: 'POST', url: `${M}/model/access/update`, payload: { id, access_grants: grants } })),
      )
      expectOnly(responses, [200])
      const requested = sets.map((set) => sorted(set.map((g) => `${g.principal_type}:${g.principal_id}:${g.permission}`)))
      const stored = await storedGrantKeys(id)
      expect(requested).toContainEqual(stored)
      // Every write is one version; the answered versions are exactly 2..n+1, each once.
      expect(responses.map((r) => r.json<ModelOut>().version).sort((a, b) => a - b)).toEqual(sets.map((_, i) => i + 2))
      const versions = await expectGapless(id)
      expect(versions).toHaveLength(sets.length + 1)
      expect(versions.slice(1).every((v) => v.action === 'access_update')).toBe(true)
      // The newest snapshot is what is stored; each snapshot is one of the requested sets.
      const keysOf = (v: (typeof versions)[number]) => sorted(v.snapshot.access_grants.map((g) => `${g.principal_type}:${g.principal_id}:${g.permission}`))
      expect(keysOf(defined(versions.at(-1)))).toEqual(stored)
      for (const v of versions.slice(1)) expect(requested).toContainEqual(keysOf(v))
      // Each answer's grants are the set it asked for, at the version it answered.
      for (const [i, res] of responses.entries()) {
        const answered = res.json<ModelOut>()
        const snapshot = versions.find((v) => v.version === answered.version)
        expect(keysOf(defined(snapshot))).toEqual(requested[i])
      }
    }
  })

  it('updates with the same If-Match at once: one 200, the others 412 with the new version; nothing lost silently', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const id = `race-ifmatch-${token()}`
      await create(id)
      const names = Array.from({ length: 5 }, (_, i) => `writer ${i}`)
      const responses = await Promise.all(
        names.map((name) => h.send(h.admin, { method: 'POST', url: `${M}/model/update`, headers: { 'if-match': '"1"' }, payload: { id, name } })),
      )
      expectOnly(responses, [200, 412])
      expect(count(responses, 200)).toBe(1)
      expect(count(responses, 412)).toBe(names.length - 1)
      for (const r of responses.filter((res) => res.statusCode === 412)) expect(r.json().current_version).toBe(2)
      const winner = defined(responses.find((r) => r.statusCode === 200)).json<ModelOut>()
      expect(winner.version).toBe(2)
      expect(await historyOf(id)).toEqual(['1:create:route', '2:update:route'])
      expect((await versionsOf(id))[1]?.snapshot.name).toBe(winner.name)
    }
  })

  it('toggle, access update, update and delete with the same If-Match at once: exactly one goes through', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const id = `race-mixed-${token()}`
      await create(id)
      const headers = { 'if-match': '"1"' }
      const responses = await Promise.all([
        h.send(h.admin, { method: 'POST', url: `${M}/model/toggle`, headers, query: { id } }),
        h.send(h.admin, { method: 'POST', url: `${M}/model/access/update`, headers, payload: { id, access_grants: [userGrant(racer(0).id)] } }),
        h.send(h.admin, { method: 'POST', url: `${M}/model/update`, headers, payload: { id, name: 'u' } }),
        h.send(h.admin, { method: 'POST', url: `${M}/model/delete`, headers, payload: { id } }),
        h.send(h.admin, { method: 'DELETE', url: `${M}/model/delete`, headers, query: { id } }),
      ])
      // After a delete won, the others find no row: 404. Otherwise they find version 2: 412.
      expectOnly(responses, [200, 404, 412])
      expect(count(responses, 200)).toBe(1)
      const history = await historyOf(id)
      expect(history).toHaveLength(2)
      expect(history[0]).toBe('1:create:route')
      const deleted = (await liveVersion(id)) === undefined
      expect(deleted).toBe(history[1] === '2:delete:route')
      if (!deleted) {
        expect(count(responses, 412)).toBe(4)
        await expectGapless(id)
      }
    }
  })

  it('creates of one id at once: one 200, the others 409; one `create` version', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const id = `race-create-${token()}`
      const responses = await Promise.all(
        Array.from({ length: 6 }, (_, i) => h.send(h.admin, { method: 'POST', url: `${M}/create`, payload: model(id, { name: `n${i}` }) })),
      )
      expectOnly(responses, [200, 409])
      expect(count(responses, 200)).toBe(1)
      expect(await historyOf(id)).toEqual(['1:create:route'])
      const winner = defined(responses.find((r) => r.statusCode === 200)).json<ModelOut>()
      expect((await versionsOf(id))[0]?.snapshot.name).toBe(winner.name)
      expect(await liveVersion(id)).toBe(1)
    }
  })

  it('creates of a deleted id at once: one continues its numbering, the others 409', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const id = `race-recreate-${token()}`
      await create(id)
      expect((await h.send(h.admin, { method: 'POST', url: `${M}/model/delete`, payload: { id } })).statusCode).toBe(200)
      const responses = await Promise.all(
        Array.from({ length: 4 }, (_, i) => h.send(h.admin, { method: 'POST', url: `${M}/create`, payload: model(id, { name: `again ${i}` }) })),
      )
      expectOnly(responses, [200, 409])
      expect(count(responses, 200)).toBe(1)
      expect(await historyOf(id)).toEqual(['1:create:route', '2:delete:route', '3:create:route'])
      expect(await liveVersion(id)).toBe(3)
    }
  })

  it('updates, toggles, access updates and an import of one model racing without If-Match: all land, history gapless', async () => {
    const id = `race-all-${token()}`
    await create(id)
    const responses = await Promise.all([
      ...Array.from({ length: 3 }, (_, i) => h.send(h.admin, { method: 'POST', url: `${M}/model/update`, payload: { id, name: `u${i}` } })),
      ...Array.from({ length: 3 }, () => h.send(h.admin, { method: 'POST', url: `${M}/model/toggle`, query: { id } })),
      ...Array.from({ length: 3 }, (_, i) =>
        h.send(h.admin, { method: 'POST', url: `${M}/model/access/update`, payload: { id, access_grants: [userGrant(racer(i).id)] } }),
      ),
      h.send(h.admin, { method: 'POST', url: `${M}/import`, payload: [model(id, { name: 'imported', params: { imported: true } })] }),
    ])
    expectOnly(responses, [200])
    const versions = await expectGapless(id)
    // 1 create + 9 route writes + the import (it changed the params, whatever ran before it).
    expect(versions).toHaveLength(11)
    expect(versions.filter((v) => v.source === 'import')).toHaveLength(1)
  })
  it('account and group deletions racing writes of the models they touch: all 200, histories gapless', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const leaving = await h.createUser('user', `Leaving ${round}`)
      const group = await h.send(h.admin, { method: 'POST', url: '/api/v1/groups/create', payload: { name: `race-${token()}`, user_ids: [] } })
      expect(group.statusCode, group.body).toBe(200)
      const groupId = group.json().id as string
      const ids = Array.from({ length: 3 }, (_, i) => `race-hook-${i}-${token()}`)
      for (const id of ids) {
        const res = await h.send(h.admin, {
          method: 'POST',
          url: `${M}/create`,
          payload: model(id, { access_grants: [userGrant(leaving.id, 'write'), { principal_type: 'group', principal_id: groupId, permission: 'read' }] }),
        })
        expect(res.statusCode, res.body).toBe(200)
      }
      const responses = await Promise.all([
        ...ids.map((id, i) => h.send(h.admin, { method: 'POST', url: `${M}/model/update`, payload: { id, name: `u${i}` } })),
        h.send(h.admin, { method: 'DELETE', url: `/api/v1/users/${leaving.id}` }),
        ...ids.map((id) => h.send(h.admin, { method: 'POST', url: `${M}/model/toggle`, query: { id } })),
        h.send(h.admin, { method: 'DELETE', url: `/api/v1/groups/id/${groupId}/delete` }),
      ])
      expectOnly(responses, [200])
      for (const id of ids) {
        const versions = await expectGapless(id)
        // create, update, toggle, and one version each for the account's and the group's grants going.
        expect(versions, id).toHaveLength(5)
        expect(versions.at(-1)?.snapshot.access_grants, id).toEqual([])
        expect(await storedGrantKeys(id)).toEqual([])
      }
    }
  })

  // Last: it empties the registry of this instance.
  it('delete all and sync racing writes of the same models: no 5xx, no deadlock; every history gapless, a deleted id ends on its delete', async () => {
    for (let round = 0; round < ROUNDS; round++) await bulkRound()
  }, 120_000)

  async function bulkRound(): Promise<void> {
    const ids = Array.from({ length: 4 }, (_, i) => `race-bulk-${i}-${token()}`)
    for (const id of ids) await create(id)
    const responses = await Promise.all([
      ...ids.map((id, i) => h.send(h.admin, { method: 'POST', url: `${M}/model/update`, payload: { id, name: `u${i}` } })),
      h.send(h.admin, { method: 'DELETE', url: `${M}/delete/all` }),
      ...ids.map((id) => h.send(h.admin, { method: 'POST', url: `${M}/model/toggle`, query: { id } })),
      h.send(h.admin, { method: 'POST', url: `${M}/sync`, payload: { models: ids.slice(0, 2).map((id) => model(id, { name: 'synced' })) } }),
      ...ids.map((id) =>
        h.send(h.admin, {
          method: 'POST',
          url: `${M}/model/access/update`,
          headers: { 'if-match': '*' },
          payload: { id, access_grants: [userGrant(racer(0).id)] },
        }),
      ),
    ])
    // No 409 either: the bulk writes lock their rows first, so they wait for a single write instead of
    // deadlocking with it (PostgreSQL) and answering "retry".
    expectOnly(responses, [200, 404])
    for (const id of ids) {
      const versions = await expectGapless(id)
      const live = await liveVersion(id)
      if (live === undefined) expect(versions.at(-1)?.action, id).toBe('delete')
      else expect(versions.at(-1)?.action, id).not.toBe('delete')
      // A delete is only ever followed by a create.
      for (const [i, v] of versions.entries()) if (v.action === 'delete' && versions[i + 1]) expect(versions[i + 1]?.action, id).toBe('create')
    }
  }
})
