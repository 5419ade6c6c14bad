/**
 * Model history (issue #12) attacked by the users with the fewest rights, through HTTP on every
 * dialect: what a stranger, a reader, a pending account, an anonymous caller and a former owner can
 * learn or change through the history, restore, trash and prune routes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { badCredentials, createGroup, expectRefusedRungs } from './support/accounts.js'
import { DIALECTS } from './support/databases.js'
import { ids, preset, token, userGrant } from './support/factories.js'
import type { Harness, InjectOptions, TestAccount } from './support/harness.js'
import { errorShape, historyApi } from './support/history.js'
import { createModelsWorld, M, modelsApi } from './support/models.js'
import { expectError } from './support/requests.js'

describe.each(DIALECTS)('model history attacks on %s', (dialect) => {
  let h: Harness
  let creator: TestAccount
  let plain: TestAccount
  let pending: TestAccount
  let revokedKey: string
  let reader: TestAccount
  /** Another creator: a hostile one, with workspace.models and sharing.models. */
  let rival: TestAccount
  const models = modelsApi(() => h)
  const { create } = models
  const api = historyApi(() => h)
  const { tryHistory, tryVersion, tryDiff, tryRestore, trash, tryPrune, stored, deleteModel } = api

  const update = async (who: TestAccount, body: Record<string, unknown>) => {
    const res = await models.tryUpdate(who, body)
    expect(res.statusCode, res.body).toBe(200)
  }
  const countVersions = async () =>
    Number(
      (
        await h.services.database.db
          .selectFrom('model_versions')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    )

  beforeAll(async () => {
    ;({ h, creator, plain, pending, revokedKey } = await createModelsWorld(dialect))
    reader = await h.createUser('user', 'Reader')
    rival = await h.createUser('user', 'Rival')
    await createGroup(h, 'Rivals', { workspace: { models: true }, sharing: { models: true } }, [rival.id])
  })
  afterAll(async () => h?.close())

  it('anonymous and bad credentials → 401, pending → 403 on every history route; prune refuses non-admins', async () => {
    const model = await create(creator, preset(`anon-${token()}`))
    const routes: ((headers: Record<string, string>) => InjectOptions)[] = [
      (headers) => ({ method: 'GET', url: `${M}/model/history`, query: { id: model.id }, headers }),
      (headers) => ({ method: 'GET', url: `${M}/model/history/version`, query: { id: model.id, version: '1' }, headers }),
      (headers) => ({ method: 'GET', url: `${M}/model/history/diff`, query: { id: model.id, from: '1', to: '1' }, headers }),
      (headers) => ({ method: 'POST', url: `${M}/model/history/restore`, payload: { id: model.id, version: 1 }, headers }),
      (headers) => ({ method: 'GET', url: `${M}/trash`, headers }),
    ]
    for (const request of routes) await expectRefusedRungs(h, request, { credentials: badCredentials(revokedKey), forbidden: [pending] })
    await expectRefusedRungs(h, (headers) => ({ method: 'POST', url: `${M}/history/prune`, payload: { keep: 1 }, headers }), {
      credentials: badCredentials(revokedKey),
      forbidden: [pending, plain, creator],
    })
    expect(await stored(model.id)).toEqual(['1:create'])
  })

  it('a stranger cannot tell an unreadable model from an unknown id on any history route', async () => {
    const secret = await create(creator, preset(`secret-${token()}`, { name: 'Secret plans', params: { system: 'hush' } }))
    await update(creator, { id: secret.id, name: 'Secret plans 2' })
    const unknown = `nothing-${token()}`
    const pairs = [
      [tryHistory(plain, secret.id), tryHistory(plain, unknown)],
      [tryVersion(plain, secret.id, 1), tryVersion(plain, unknown, 1)],
      [tryVersion(plain, secret.id, 99), tryVersion(plain, unknown, 99)],
      [tryDiff(plain, secret.id, 1, 2), tryDiff(plain, unknown, 1, 2)],
      [tryRestore(plain, { id: secret.id, version: 1 }), tryRestore(plain, { id: unknown, version: 1 })],
      [tryRestore(plain, { id: secret.id }), tryRestore(plain, { id: unknown })],
    ] as const
    for (const [onSecret, onUnknown] of pairs) {
      const [a, b] = [await onSecret, await onUnknown]
      expectError(a, 404, 'MODEL_NOT_FOUND')
      expect(errorShape(a, secret.id)).toEqual(errorShape(b, unknown))
      expect(a.body).not.toContain('Secret plans')
    }
    expect(await stored(secret.id)).toEqual(['1:create', '2:update'])
  })

  it('a reader cannot restore (403 like update), nor learn grants or other authors; the model is untouched', async () => {
    const model = await create(creator, preset(`read-${token()}`, { access_grants: [userGrant(reader.id, 'read'), userGrant(rival.id, 'write')] }))
    await update(rival, { id: model.id, name: 'Rival edit' })
    const before = await countVersions()
    expectError(await tryRestore(reader, { id: model.id, version: 1 }), 403, 'ACCESS_PROHIBITED')
    expectError(await tryRestore(reader, { id: model.id, version: 1 }, '"2"'), 403, 'ACCESS_PROHIBITED')
    // The precondition is checked after access: a reader learns nothing from a wrong If-Match either.
    expectError(await tryRestore(reader, { id: model.id, version: 1 }, '"7"'), 403, 'ACCESS_PROHIBITED')
    expect(await countVersions()).toBe(before)
    const v2 = await api.version(reader, model.id, 2)
    expect(v2.snapshot.access_grants).toBeNull()
    expect(v2.user_id).toBeNull()
    expect(JSON.stringify(await api.history(reader, model.id))).not.toContain(rival.id)
    expect(JSON.stringify(await api.diff(reader, model.id, 1, 2))).not.toContain(rival.id)
  })

  it('a write-grantee cannot use restore to add grants they may not set, or to turn a preset into an override', async () => {
    // The admin's override row, later made a preset, shared for writing with a user.
    const id = `ov-${token()}`
    const made = await h.send(h.admin, { method: 'POST', url: `${M}/create`, payload: { id, base_model_id: null, name: 'Override', params: {}, meta: {} } })
    expect(made.statusCode, made.body).toBe(200)
    await update(h.admin, { id, base_model_id: 'base-llm' })
    await update(h.admin, { id, access_grants: [userGrant(plain.id, 'write'), userGrant('*', 'read')] })
    await update(h.admin, { id, access_grants: [userGrant(plain.id, 'write')] })
    const before = await stored(id)
    // Version 1 is an override (base null): admins only, as an update changing the kind.
    expectError(await tryRestore(plain, { id, version: 1 }), 403, 'ACCESS_PROHIBITED')
    // Version 3 made it public: plain has no sharing.public_models.
    expectError(await tryRestore(plain, { id, version: 3 }), 403, 'ACCESS_PROHIBITED')
    expect(await stored(id)).toEqual(before)
    const row = await api.liveRow(id)
    expect(row?.base_model_id).toBe('base-llm')
  })

  it("a deleted model is its last owner's: others (even its writers) neither see it in the trash nor restore it", async () => {
    const model = await create(creator, preset(`del-${token()}`, { name: 'Deleted secret', access_grants: [userGrant(rival.id, 'write')] }))
    await deleteModel(rival, model.id)
    expect(ids((await trash(rival)).items)).not.toContain(model.id)
    expect(ids((await trash(plain)).items)).not.toContain(model.id)
    const unknown = `never-${token()}`
    for (const who of [rival, plain]) {
      const [a, b] = [await tryRestore(who, { id: model.id }), await tryRestore(who, { id: unknown })]
      expectError(a, 404, 'MODEL_NOT_FOUND')
      expect(errorShape(a, model.id)).toEqual(errorShape(b, unknown))
      expectError(await tryHistory(who, model.id), 404, 'MODEL_NOT_FOUND')
      expectError(await tryVersion(who, model.id, 1), 404, 'MODEL_NOT_FOUND')
    }
    expect(await api.liveRow(model.id)).toBeUndefined()
    expect(ids((await trash(creator)).items)).toContain(model.id)
  })

  it('squatting a deleted id does not open its old life: the rival sees and restores only their own versions', async () => {
    const old = await create(creator, preset(`squat-${token()}`, { name: 'Old life', params: { system: 'private prompt' } }))
    await deleteModel(creator, old.id)
    await create(rival, preset(old.id, { name: 'Squatter' }))
    const seen = await api.history(rival, old.id)
    expect(seen.items.map((i) => i.action)).toEqual(['create'])
    expect(JSON.stringify(seen)).not.toContain(creator.id)
    for (const v of [1, 2]) {
      expectError(await tryVersion(rival, old.id, v), 404, 'VERSION_NOT_FOUND')
      expectError(await tryRestore(rival, { id: old.id, version: v }), 404, 'VERSION_NOT_FOUND')
    }
    expectError(await tryDiff(rival, old.id, 1, 3), 404, 'VERSION_NOT_FOUND')
    // The former owner cannot take the id back from the squatter through the trash either: 409, as a create.
    expectError(await tryRestore(creator, { id: old.id }), 409, 'MODEL_ID_UNAVAILABLE')
    expect((await api.liveRow(old.id))?.name).toBe('Squatter')
  })

  it('racing restores: one deleted model comes back once; two restores with one If-Match, one wins and the other gets 412', async () => {
    const gone = await create(creator, preset(`race-${token()}`, { name: 'Racer' }))
    await deleteModel(creator, gone.id)
    const revived = await Promise.all(Array.from({ length: 5 }, () => tryRestore(creator, { id: gone.id })))
    expect(revived.map((r) => r.statusCode).sort()).toEqual([200, 409, 409, 409, 409])
    expect(await stored(gone.id)).toEqual(['1:create', '2:delete', '3:restore'])
    await update(creator, { id: gone.id, name: 'Racer 2' })
    const both = await Promise.all([tryRestore(creator, { id: gone.id, version: 1 }, '"4"'), tryRestore(creator, { id: gone.id, version: 3 }, '"4"')])
    expect(both.map((r) => r.statusCode).sort()).toEqual([200, 412])
    expect(await stored(gone.id)).toEqual(['1:create', '2:delete', '3:restore', '4:update', '5:restore'])
  })

  it('hostile inputs: huge limits, pages, versions and keeps are 400, never 5xx', async () => {
    const model = await create(creator, preset(`hostile-${token()}`))
    for (const query of [{ limit: 101 }, { limit: 1e12 }, { limit: -1 }, { page: 0 }, { page: 1e12 }, { limit: '1.5' }] as Record<string, string | number>[]) {
      expectError(await tryHistory(creator, model.id, query), 400, 'VALIDATION_ERROR')
      expectError(await api.tryTrash(creator, query), 400, 'VALIDATION_ERROR')
    }
    for (const v of [0, -1, 1e12, '1e400', 'NaN']) expectError(await tryVersion(creator, model.id, v), 400, 'VALIDATION_ERROR')
    for (const body of [{ id: model.id, version: 0 }, { id: model.id, version: 'one' }, { id: '' }, { version: 1 }, { id: model.id, version: 1e12 }]) {
      const res = await tryRestore(creator, body)
      expect(res.statusCode, res.body).toBe(400)
    }
    for (const body of [{ keep: 0 }, { keep: -5 }, { keep: 1.5 }, {}]) expectError(await tryPrune(h.admin, body), 400, 'VALIDATION_ERROR')
    // A bad model id answers the model catalogue's code, as on the model routes.
    expectError(await tryPrune(h.admin, { keep: 1, model_id: '' }), 400, 'MODEL_ID_TOO_LONG')
    expectError(await tryRestore(creator, { id: model.id, version: 1 }, '3'), 400, 'VALIDATION_ERROR')
    expect(await stored(model.id)).toEqual(['1:create'])
  })
})
