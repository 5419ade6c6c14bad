/**
 * The trash's total is cached against the registry version (src/history/model-history.ts): every change
 * that moves a model in or out of the trash must show in the next answer's total, for the admin (all
 * deletions) and for an owner (their own), on both dialects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { token } from './support/factories.js'
import { historyApi } from './support/history.js'
import { createModelsWorld, modelsApi, type ModelsWorld } from './support/models.js'

describe.each(DIALECTS)('the trash total on %s', (dialect) => {
  let world: ModelsWorld
  const models = modelsApi(() => world.h)
  const history = historyApi(() => world.h)

  beforeAll(async () => {
    world = await createModelsWorld(dialect)
  })
  afterAll(async () => world?.h.close())

  const totals = async () => ({ admin: (await history.trash(world.h.admin)).total, owner: (await history.trash(world.creator)).total })

  it('follows deletes, restores, re-creates and prunes at once, per scope', async () => {
    const [a, b, c] = [`tt-a-${token()}`, `tt-b-${token()}`, `tt-c-${token()}`]
    for (const id of [a, b]) await models.create(world.creator, { id, name: id, base_model_id: 'base-llm', params: {}, meta: {} })
    await models.create(world.h.admin, { id: c, name: c, base_model_id: 'base-llm', params: {}, meta: {} })
    const start = await totals()

    await history.deleteModel(world.creator, a)
    expect(await totals()).toEqual({ admin: start.admin + 1, owner: start.owner + 1 })
    await history.deleteModel(world.h.admin, c)
    // The admin's own model: in everyone's trash, not in the creator's.
    expect(await totals()).toEqual({ admin: start.admin + 2, owner: start.owner + 1 })
    await history.deleteModel(world.creator, b)
    expect(await totals()).toEqual({ admin: start.admin + 3, owner: start.owner + 2 })

    // Restored from the trash: out of it.
    const restored = await history.tryRestore(world.creator, { id: a, version: 1 })
    expect(restored.statusCode, restored.body).toBe(200)
    expect(await totals()).toEqual({ admin: start.admin + 2, owner: start.owner + 1 })

    // The id created anew: no longer in the trash.
    await models.create(world.creator, { id: b, name: 'again', base_model_id: 'base-llm', params: {}, meta: {} })
    expect(await totals()).toEqual({ admin: start.admin + 1, owner: start.owner })

    // Pruned down to one version: the deletion is that version, so c stays in the trash.
    const pruned = await history.tryPrune(world.h.admin, { keep: 1, model_id: c })
    expect(pruned.statusCode, pruned.body).toBe(200)
    expect(await totals()).toEqual({ admin: start.admin + 1, owner: start.owner })
  })
})
