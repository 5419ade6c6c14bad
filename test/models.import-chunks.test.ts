/**
 * Imports larger than one statement's chunk (500 rows; issue #17): new rows are inserted at their first
 * version and recorded from what was written, updates go in `UPDATE … FROM (VALUES …)` chunks. Every row
 * of every chunk must land with its own values, its version and its history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { token } from './support/factories.js'
import type { Harness } from './support/harness.js'
import { createModelsWorld, M, modelsApi } from './support/models.js'

const COUNT = 1_234

describe.each(DIALECTS)('models import in chunks on %s', (dialect) => {
  let h: Harness
  const { send, db } = modelsApi(() => h)
  beforeAll(async () => {
    ;({ h } = await createModelsWorld(dialect))
  })
  afterAll(async () => h?.close())

  it('creates then updates 1,234 models across chunks: each row its own values, versions 1 then 2', async () => {
    const word = token()
    const item = (i: number, round: number) => ({
      id: `chunk-${word}-${i}`,
      base_model_id: 'base-llm',
      name: `Chunk ${i} round ${round}`,
      meta: { tags: [{ name: `t${i % 7}` }] },
      params: { temperature: round === 1 ? 0.5 : (i % 10) / 10 },
      is_active: round === 1 || i % 2 === 0,
    })
    const first = await send(h.admin, { method: 'POST', url: `${M}/import`, payload: { models: Array.from({ length: COUNT }, (_, i) => item(i, 1)) } })
    expect(first.statusCode, first.body).toBe(200)
    expect(first.json().created).toHaveLength(COUNT)
    const second = await send(h.admin, { method: 'POST', url: `${M}/import`, payload: { models: Array.from({ length: COUNT }, (_, i) => item(i, 2)) } })
    expect(second.statusCode, second.body).toBe(200)
    expect(second.json().updated).toHaveLength(COUNT)

    const rows = await db().selectFrom('models').selectAll().where('id', 'like', `chunk-${word}-%`).execute()
    expect(rows).toHaveLength(COUNT)
    for (const row of rows) {
      const i = Number(row.id.split('-').at(-1))
      expect(row.name).toBe(`Chunk ${i} round 2`)
      expect(Number(row.is_active)).toBe(i % 2 === 0 ? 1 : 0)
      expect(JSON.parse(row.params)).toEqual({ temperature: (i % 10) / 10 })
      expect(Number(row.version)).toBe(2)
    }
    const versions = await db()
      .selectFrom('model_versions')
      .select(['model_id', 'version', 'action', 'snapshot'])
      .where('model_id', 'like', `chunk-${word}-%`)
      .orderBy('model_id')
      .orderBy('version')
      .execute()
    expect(versions).toHaveLength(2 * COUNT)
    const sample = versions.filter((v) => v.model_id === `chunk-${word}-777`)
    expect(sample.map((v) => [Number(v.version), v.action])).toEqual([
      [1, 'create'],
      [2, 'update'],
    ])
    expect(JSON.parse(sample[0]?.snapshot ?? '{}')).toMatchObject({ name: 'Chunk 777 round 1', is_active: true, access_grants: [] })
    expect(JSON.parse(sample[1]?.snapshot ?? '{}')).toMatchObject({ name: 'Chunk 777 round 2', is_active: false })
    // The answer of a single read agrees with the row and its ETag.
    const one = await send(h.admin, { method: 'GET', url: `${M}/model`, query: { id: `chunk-${word}-777` } })
    expect(one.json()).toMatchObject({ name: 'Chunk 777 round 2', version: 2, is_active: false })
  })

  it('re-creates deleted ids (their grants and tags gone with them) with only the imported grants and tags', async () => {
    const word = token()
    const ids = Array.from({ length: 3 }, (_, i) => `again-${word}-${i}`)
    const item = (id: string, tag: string, userId: string) => ({
      id,
      base_model_id: 'base-llm',
      name: id,
      meta: { tags: [{ name: tag }] },
      params: {},
      access_grants: [{ principal_type: 'user', principal_id: userId, permission: 'read' }],
    })
    const first = await send(h.admin, { method: 'POST', url: `${M}/import`, payload: ids.map((id) => item(id, 'old', h.admin.id)) })
    expect(first.json().created).toHaveLength(3)
    for (const id of ids) expect((await send(h.admin, { method: 'DELETE', url: `${M}/model/delete`, query: { id } })).statusCode).toBe(200)
    const other = await h.createUser('user')
    const again = await send(h.admin, { method: 'POST', url: `${M}/import`, payload: ids.map((id) => item(id, 'new', other.id)) })
    expect(again.json().created).toHaveLength(3)
    const tags = await db().selectFrom('model_tags').select(['model_id', 'name']).where('model_id', 'in', ids).orderBy('model_id').execute()
    expect(tags).toEqual(ids.map((id) => ({ model_id: id, name: 'new' })))
    const grants = await db().selectFrom('model_grants').select(['model_id', 'principal_id']).where('model_id', 'in', ids).orderBy('model_id').execute()
    expect(grants).toEqual(ids.map((id) => ({ model_id: id, principal_id: other.id })))
  })
})
