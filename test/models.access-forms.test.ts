/**
 * The seed's generation on update (issue #14 item 9, design.md §2.2): a client that sends back a whole
 * model object carries both access forms and changed one of them; the one it changed wins, on update,
 * access update and import over an existing model. Both changed and different: 400.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { grantKeys, preset, token } from './support/factories.js'
import type { Harness, TestAccount } from './support/harness.js'
import type { ModelOut } from './support/model-types.js'
import { createModelsWorld, M, modelsApi } from './support/models.js'
import { expectError } from './support/requests.js'

describe.each(DIALECTS)('both access forms on update on %s', (dialect) => {
  let h: Harness
  let creator: TestAccount
  let plain: TestAccount
  const { send, create, tryUpdate, tryAccess } = modelsApi(() => h)

  beforeAll(async () => {
    ;({ h, creator, plain } = await createModelsWorld(dialect))
  })
  afterAll(async () => h?.close())

  const read = async (who: TestAccount, id: string) => (await send(who, { method: 'GET', url: `${M}/model`, query: { id } })).json<ModelOut>()

  it('an Open WebUI 0.6 client makes a private model public: access_control null wins over the echoed access_grants', async () => {
    const id = `forms-public-${token()}`
    await create(h.admin, preset(id))
    const model = await read(h.admin, id)
    expect(model.access_grants).toEqual([])
    // The 0.6 editor sets access_control to null (public) on the object it read and posts all of it.
    const res = await tryUpdate(h.admin, { ...model, access_control: null })
    expect(res.statusCode, res.body).toBe(200)
    expect(grantKeys(res.json<ModelOut>())).toEqual(['user:*:read'])
    // And the way back: {} (private) with the now public access_grants echoed.
    const back = await tryUpdate(h.admin, { ...res.json<ModelOut>(), access_control: {} })
    expect(grantKeys(back.json<ModelOut>())).toEqual([])
  })

  it('a newer client that changes access_grants and echoes access_control gets its access_grants', async () => {
    const id = `forms-grants-${token()}`
    await create(h.admin, preset(id))
    const model = await read(h.admin, id)
    const res = await tryUpdate(h.admin, { ...model, access_grants: [{ principal_type: 'user', principal_id: plain.id, permission: 'read' }] })
    expect(grantKeys(res.json<ModelOut>())).toEqual([`user:${plain.id}:read`])
  })

  it('both forms changed, to different sets: 400 INVALID_ACCESS_CONTROL, nothing written', async () => {
    const id = `forms-conflict-${token()}`
    const created = await create(h.admin, preset(id))
    const body = { id, access_grants: [{ principal_type: 'user', principal_id: plain.id, permission: 'read' }], access_control: null }
    expectError(await tryUpdate(h.admin, body), 400, 'INVALID_ACCESS_CONTROL')
    expectError(await tryAccess(h.admin, body), 400, 'INVALID_ACCESS_CONTROL')
    const after = await read(h.admin, id)
    expect(after.version).toBe(created.version)
    expect(after.access_grants).toEqual([])
  })

  it('a non-admin cannot use the rule to publish what she may not: the changed form is checked like any grant change', async () => {
    const id = `forms-perm-${token()}`
    await create(creator, preset(id))
    const model = await read(creator, id)
    // creator has sharing.models but not sharing.public_models.
    expectError(await tryUpdate(creator, { ...model, access_control: null }), 403, 'ACCESS_PROHIBITED')
    expect((await read(creator, id)).access_grants).toEqual([])
  })

  it('import over an existing model: an item carrying only access_control changes the access', async () => {
    const id = `forms-import-${token()}`
    await create(h.admin, preset(id))
    const res = await send(h.admin, { method: 'POST', url: `${M}/import`, payload: { models: [{ id, access_control: null }] } })
    expect(res.statusCode, res.body).toBe(200)
    expect(grantKeys(await read(h.admin, id))).toEqual(['user:*:read'])
  })
})
