/**
 * Review of issue #12: restores racing other writes of the same model (not covered by
 * models.concurrency.test.ts). No 5xx, histories gapless, the trash restore taken once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { token } from './support/factories.js'
import { createHarness, type Harness, type Reply } from './support/harness.js'
import { versionsApi } from './support/model-versions.js'
import { M } from './support/models.js'

function expectNo5xx(responses: Reply[]): void {
  expect(responses.filter((r) => r.statusCode >= 500).map((r) => `${r.statusCode} ${r.body.slice(0, 300)}`)).toEqual([])
  for (const r of responses) if (r.statusCode >= 400) expect(typeof r.json().code).toBe('string')
}

describe.each(DIALECTS)('review: restore races on %s', (dialect) => {
  let h: Harness
  const { liveVersion, expectGapless, historyOf } = versionsApi(() => h)
  beforeAll(async () => {
    h = await createHarness(dialect)
  })
  afterAll(async () => h?.close())

  const model = (id: string, name = `Model ${id}`) => ({ id, name, base_model_id: 'gpt-4o', meta: {}, params: {} })
  const post = (url: string, payload: unknown) => h.send(h.admin, { method: 'POST', url: `${M}${url}`, payload })

  it('restore, update, toggle and delete of one model at once: no 5xx, gapless', async () => {
    for (let round = 0; round < 4; round++) {
      const id = `race-restore-${token()}`
      expect((await post('/create', model(id))).statusCode).toBe(200)
      expect((await post('/model/update', { id, name: 'second' })).statusCode).toBe(200)
      const responses = await Promise.all([
        post('/model/history/restore', { id, version: 1 }),
        post('/model/update', { id, name: 'third' }),
        post('/model/history/restore', { id, version: 2 }),
        post('/model/toggle', { id }),
        post('/model/delete', { id }),
      ])
      expectNo5xx(responses)
      await expectGapless(id)
    }
  })

  it('restores of one deleted model at once, and a create of its id: no 5xx, gapless', async () => {
    for (let round = 0; round < 4; round++) {
      const id = `race-trash-${token()}`
      expect((await post('/create', model(id))).statusCode).toBe(200)
      expect((await post('/model/delete', { id })).statusCode).toBe(200)
      const responses = await Promise.all([
        post('/model/history/restore', { id }),
        post('/model/history/restore', { id, version: 1 }),
        post('/create', model(id, 'fresh')),
        post('/model/history/restore', { id }),
      ])
      expectNo5xx(responses)
      // One brings the id back (a restore or the create); a later `{id, version: 1}` may then restore onto it as a live restore.
      expect(responses.filter((r) => r.statusCode === 200).length).toBeGreaterThanOrEqual(1)
      expect(await liveVersion(id)).toBeGreaterThanOrEqual(3)
      expect((await historyOf(id))[2]).toMatch(/^3:(restore|create):route$/)
      await expectGapless(id)
    }
  })
})

describe.each(DIALECTS)('review: prune races on %s', (dialect) => {
  let h: Harness
  beforeAll(async () => {
    h = await createHarness(dialect)
  })
  afterAll(async () => h?.close())
  const post = (url: string, payload: unknown) => h.send(h.admin, { method: 'POST', url: `${M}${url}`, payload })

  it('prune racing restores and updates: no 5xx; the live version is the newest stored one', async () => {
    for (let round = 0; round < 4; round++) {
      const id = `race-prune-${token()}`
      expect((await post('/create', { id, name: 'one', base_model_id: 'gpt-4o', meta: {}, params: {} })).statusCode).toBe(200)
      for (const name of ['two', 'three']) expect((await post('/model/update', { id, name })).statusCode).toBe(200)
      const responses = await Promise.all([
        post('/history/prune', { keep: 1, model_id: id }),
        post('/model/history/restore', { id, version: 1 }),
        post('/model/update', { id, name: 'four' }),
        post('/history/prune', { keep: 2 }),
        post('/model/history/restore', { id, version: 2 }),
      ])
      expectNo5xx(responses)
      const stored = await h.services.database.db.selectFrom('model_versions').select('version').where('model_id', '=', id).orderBy('version').execute()
      const live = await h.services.database.db.selectFrom('models').select('version').where('id', '=', id).executeTakeFirstOrThrow()
      const numbers = stored.map((r) => Number(r.version))
      expect(numbers.at(-1)).toBe(Number(live.version))
      expect(numbers).toEqual(numbers.map((_, i) => (numbers[0] ?? 0) + i))
    }
  })
})
