/**
 * Model versions (issue #12), read straight from model_versions: every write path records exactly one
 * version per changed model, in its transaction, numbered per model id without a gap from 1; the
 * snapshot is the model after the write; a failed write leaves no version and no audit entry; a row
 * older than history gets a `baseline` version before its first change; MODEL_HISTORY_MAX_VERSIONS
 * keeps the newest versions of each model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGroup } from './support/accounts.js'
import { DIALECTS } from './support/databases.js'
import { grantKeys, preset, token, userGrant } from './support/factories.js'
import { createHarness, type Harness, type TestAccount } from './support/harness.js'
import type { ModelOut } from './support/model-types.js'
import { versionsApi, type VersionRow } from './support/model-versions.js'
import { createModelsWorld, M, modelsApi } from './support/models.js'
import { expectError } from './support/requests.js'

/** `type:id:permission` of each grant of a version's snapshot, in the snapshot's own order (none: no version). */
const snapshotGrantKeys = (version: VersionRow | undefined) =>
  (version?.snapshot.access_grants ?? []).map((g) => `${g.principal_type}:${g.principal_id}:${g.permission}`)

describe.each(DIALECTS)('model versions on %s', (dialect) => {
  let h: Harness
  let creator: TestAccount
  let plain: TestAccount
  const { send, create, getModel, tryUpdate, tryAccess, db } = modelsApi(() => h)
  const { versionsOf, historyOf, liveVersion, auditOf, countVersions, countAudit, expectGapless } = versionsApi(() => h)

  beforeAll(async () => {
    ;({ h, creator, plain } = await createModelsWorld(dialect))
  })
  afterAll(async () => h?.close())

  const toggle = (who: TestAccount, id: string) => send(who, { method: 'POST', url: `${M}/model/toggle`, query: { id } })
  const remove = (who: TestAccount, id: string) => send(who, { method: 'POST', url: `${M}/model/delete`, payload: { id } })

  /** A row as an older release wrote it: version 0, no history. */
  async function insertLegacyRow(id: string, owner: string, fields: { name?: string; params?: object; is_active?: number } = {}): Promise<void> {
    const now = Math.floor(Date.now() / 1000) - 100
    await db()
      .insertInto('models')
      .values({
        id,
        user_id: owner,
        base_model_id: 'base-llm',
        name: fields.name ?? `Legacy ${id}`,
        params: JSON.stringify(fields.params ?? { temperature: 0.1 }),
        meta: JSON.stringify({ description: 'legacy' }),
        is_active: fields.is_active ?? 1,
        created_at: now,
        updated_at: now,
      })
      .execute()
    expect(await liveVersion(id)).toBe(0)
  }

  it('create records version 1 (the model as created, grants sorted), its ETag and an audit entry', async () => {
    const id = `v-create-${token()}`
    const res = await send(creator, {
      method: 'POST',
      url: `${M}/create`,
      payload: preset(id, {
        params: { temperature: 0.3, stop: ['a', 'b'] },
        meta: { description: 'd', tags: ['t1'] },
        // Given in an order the snapshot must not keep.
        access_grants: [userGrant(plain.id, 'write'), userGrant(h.admin.id, 'read'), userGrant(plain.id, 'read')],
      }),
    })
    expect(res.statusCode, res.body).toBe(200)
    const model = res.json<ModelOut>()
    expect(model.version).toBe(1)
    expect(res.headers['etag']).toBe('"1"')
    const [v1, ...rest] = await expectGapless(id)
    expect(rest).toEqual([])
    expect(v1).toMatchObject({ version: 1, action: 'create', source: 'route', user_id: creator.id })
    expect(v1?.created_at).toBeGreaterThan(Date.now() - 60_000)
    expect(v1?.created_at).toBeLessThanOrEqual(Date.now())
    expect(v1?.snapshot).toEqual({
      id,
      user_id: creator.id,
      base_model_id: 'base-llm',
      name: model.name,
      params: model.params,
      meta: model.meta,
      is_active: true,
      access_grants: expect.any(Array),
    })
    // Sorted by principal type, then id, then permission, whatever the order given.
    const byTuple = ([a0 = '', a1 = '']: string[], [b0 = '', b1 = '']: string[]) => (a0 < b0 ? -1 : a0 > b0 ? 1 : a1 < b1 ? -1 : a1 > b1 ? 1 : 0)
    const expected = [
      [h.admin.id, 'read'],
      [plain.id, 'read'],
      [plain.id, 'write'],
    ]
      .sort(byTuple)
      .map(([id, permission]) => `user:${id}:${permission}`)
    expect(snapshotGrantKeys(v1)).toEqual(expected)
    expect(snapshotGrantKeys(v1).sort()).toEqual(grantKeys(model))
    const audit = await auditOf(id)
    expect(audit.map((a) => a.action)).toEqual(['model.create'])
    expect(audit[0]?.actor_id).toBe(creator.id)
    expect(JSON.parse(audit[0]?.after ?? 'null')).toEqual({ version: 1 })
  })

  it('an update that changes nothing (the model sent back as read, keys in another order) records no version and no audit entry', async () => {
    const id = `v-noop-${token()}`
    const created = await create(creator, preset(id, { params: { temperature: 0.1, top_k: 5 }, meta: { description: 'd', tags: [{ name: 't' }] } }))
    const [auditBefore, versionsBefore] = [await countAudit(), await countVersions()]
    const same = await tryUpdate(creator, {
      id,
      name: created.name,
      base_model_id: created.base_model_id,
      params: { top_k: 5, temperature: 0.1 },
      meta: { tags: [{ name: 't' }], description: 'd' },
      access_grants: [],
      is_active: true,
    })
    expect(same.statusCode, same.body).toBe(200)
    expect(same.json<ModelOut>().version).toBe(1)
    expect(same.headers['etag']).toBe('"1"')
    expect(same.json<ModelOut>().updated_at).toBe(created.updated_at)
    expect(await countVersions()).toBe(versionsBefore)
    expect(await countAudit()).toBe(auditBefore)
    // One changed value is a change again.
    const changed = await tryUpdate(creator, { id, params: { top_k: 5, temperature: 0.2 } })
    expect(changed.json<ModelOut>().version).toBe(2)
    expect((await expectGapless(id)).map((v) => v.action)).toEqual(['create', 'update'])
  })

  it('update, toggle and access update each record the next version holding the model after the write', async () => {
    const id = `v-seq-${token()}`
    await create(creator, preset(id, { params: { temperature: 0.1 } }))
    const updated = await tryUpdate(creator, { id, name: 'Renamed', params: { top_k: 3 }, meta: { tags: ['x'] } })
    expect(updated.statusCode, updated.body).toBe(200)
    expect(updated.json<ModelOut>().version).toBe(2)
    const toggled = await toggle(creator, id)
    expect(toggled.statusCode, toggled.body).toBe(200)
    expect(toggled.json<ModelOut>().version).toBe(3)
    const access = await tryAccess(creator, { id, access_grants: [userGrant(plain.id, 'read')] })
    expect(access.statusCode, access.body).toBe(200)
    expect(access.json<ModelOut>().version).toBe(4)
    expect(access.headers['etag']).toBe('"4"')

    const versions = await expectGapless(id)
    expect(versions.map((v) => `${v.version}:${v.action}:${v.source}:${v.user_id}`)).toEqual([
      `1:create:route:${creator.id}`,
      `2:update:route:${creator.id}`,
      `3:toggle:route:${creator.id}`,
      `4:access_update:route:${creator.id}`,
    ])
    const [v1, v2, v3, v4] = versions.map((v) => v.snapshot)
    expect(v1).toMatchObject({ name: `Model ${id}`, params: { temperature: 0.1 }, is_active: true, access_grants: [] })
    expect(v2).toMatchObject({ name: 'Renamed', params: { top_k: 3 }, meta: { tags: [{ name: 'x' }] }, is_active: true, access_grants: [] })
    expect(v3).toMatchObject({ name: 'Renamed', is_active: false, access_grants: [] })
    expect(v4).toMatchObject({ name: 'Renamed', is_active: false, access_grants: [{ principal_type: 'user', principal_id: plain.id, permission: 'read' }] })
    // The latest snapshot is exactly the live model.
    const live = await getModel(creator, id)
    expect(v4).toEqual({
      id,
      user_id: creator.id,
      base_model_id: live.base_model_id,
      name: live.name,
      params: live.params,
      meta: live.meta,
      is_active: live.is_active,
      access_grants: [{ principal_type: 'user', principal_id: plain.id, permission: 'read' }],
    })
    expect((await auditOf(id)).map((a) => a.action)).toEqual(['model.create', 'model.update', 'model.toggle', 'model.access_update'])
    const accessAudit = (await auditOf(id))[3]
    expect(JSON.parse(accessAudit?.before ?? 'null')).toEqual({ access_grants: [] })
    expect(JSON.parse(accessAudit?.after ?? 'null')).toEqual({ version: 4 })
  })

  it('the admin creating an override row through access update records a `create` (version 1)', async () => {
    const id = `provider-model-${token()}`
    const res = await tryAccess(h.admin, { id, access_grants: [userGrant(plain.id, 'read')] })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json<ModelOut>().version).toBe(1)
    expect(res.headers['etag']).toBe('"1"')
    const [v1, ...rest] = await expectGapless(id)
    expect(rest).toEqual([])
    expect(v1).toMatchObject({ action: 'create', source: 'route', user_id: h.admin.id })
    expect(v1?.snapshot).toMatchObject({ id, user_id: h.admin.id, base_model_id: null, name: id, params: {}, meta: {}, is_active: true })
    expect(snapshotGrantKeys(v1)).toEqual([`user:${plain.id}:read`])
    expect((await auditOf(id)).map((a) => a.action)).toEqual(['model.create'])
    // A second access update on the row that now exists is an access_update.
    expect((await tryAccess(h.admin, { id, access_grants: [] })).statusCode).toBe(200)
    expect(await historyOf(id)).toEqual(['1:create:route', '2:access_update:route'])
  })

  it('delete records a `delete` version holding the last state; a re-created id continues the numbering', async () => {
    const id = `v-del-${token()}`
    await create(creator, preset(id, { params: { seed: 1 }, access_grants: [userGrant(plain.id)] }))
    expect((await toggle(creator, id)).statusCode).toBe(200)
    const deleted = await remove(creator, id)
    expect(deleted.statusCode, deleted.body).toBe(200)
    expect(await liveVersion(id)).toBeUndefined()
    const versions = await expectGapless(id)
    expect(versions.map((v) => `${v.version}:${v.action}`)).toEqual(['1:create', '2:toggle', '3:delete'])
    expect(versions[2]).toMatchObject({ source: 'route', user_id: creator.id })
    // The deletion holds the state just before it (grants included), not an empty model.
    expect(versions[2]?.snapshot).toEqual(versions[1]?.snapshot)
    expect(versions[2]?.snapshot).toMatchObject({ is_active: false, params: { seed: 1 } })
    expect(snapshotGrantKeys(versions[2])).toEqual([`user:${plain.id}:read`])
    const audit = await auditOf(id)
    expect(audit.map((a) => a.action)).toEqual(['model.create', 'model.toggle', 'model.delete'])
    expect(JSON.parse(audit[2]?.after ?? 'null')).toEqual({ version: 3 })

    // Created again (by someone else): numbering continues after the deletion.
    const again = await send(h.admin, { method: 'POST', url: `${M}/create`, payload: preset(id, { name: 'Second life' }) })
    expect(again.statusCode, again.body).toBe(200)
    expect(again.json<ModelOut>().version).toBe(4)
    expect(again.headers['etag']).toBe('"4"')
    const after = await expectGapless(id)
    expect(after[3]).toMatchObject({ version: 4, action: 'create', user_id: h.admin.id })
    expect(after[3]?.snapshot).toMatchObject({ user_id: h.admin.id, name: 'Second life', access_grants: [] })
    expect((await tryUpdate(h.admin, { id, name: 'Second life 2' })).json<ModelOut>().version).toBe(5)
    expect(await historyOf(id)).toEqual(['1:create:route', '2:toggle:route', '3:delete:route', '4:create:route', '5:update:route'])
    // The legacy DELETE form records the same way.
    const legacy = await send(h.admin, { method: 'DELETE', url: `${M}/model/delete`, query: { id } })
    expect(legacy.statusCode, legacy.body).toBe(200)
    expect((await historyOf(id)).at(-1)).toBe('6:delete:route')
  })

  it('a failing write leaves no version and no audit entry', async () => {
    const id = `v-fail-${token()}`
    await create(creator, preset(id))
    const versionsBefore = await countVersions()
    const auditBefore = await countAudit()
    // An update naming a base model the caller may not use (rolled back after the update statement ran).
    expectError(await tryUpdate(creator, { id, name: 'changed', base_model_id: `missing-${token()}` }), 400, 'BASE_MODEL_UNAVAILABLE')
    // An update turning a preset into an override (admins only).
    expectError(await tryUpdate(creator, { id, base_model_id: null }), 403, 'ACCESS_PROHIBITED')
    // An access update refused: making it public needs sharing.public_models.
    expectError(await tryAccess(creator, { id, access_grants: [userGrant('*')] }), 403, 'ACCESS_PROHIBITED')
    // An access update naming nobody known.
    expectError(await tryAccess(creator, { id, access_grants: [userGrant(`nobody-${token()}`)] }), 400, 'INVALID_ACCESS_CONTROL')
    // An update that also changes grants, refused at the grant check after the row was written.
    expectError(await tryUpdate(creator, { id, name: 'changed', access_grants: [userGrant('*')] }), 403, 'ACCESS_PROHIBITED')
    // Writes of a model one may not write, and of one that does not exist.
    expectError(await tryUpdate(plain, { id, name: 'x' }), 404, 'MODEL_NOT_FOUND')
    expectError(await toggle(plain, id), 404, 'MODEL_NOT_FOUND')
    expectError(await remove(plain, id), 404, 'MODEL_NOT_FOUND')
    expectError(await tryAccess(plain, { id, access_grants: [] }), 404, 'MODEL_NOT_FOUND')
    expectError(await remove(creator, `missing-${token()}`), 404, 'MODEL_NOT_FOUND')
    // A create of a taken id.
    expectError(await send(creator, { method: 'POST', url: `${M}/create`, payload: preset(id) }), 409, 'MODEL_ID_TAKEN')
    expect(await countVersions()).toBe(versionsBefore)
    expect(await countAudit()).toBe(auditBefore)
    expect(await historyOf(id)).toEqual(['1:create:route'])
    expect((await getModel(creator, id)).name).toBe(`Model ${id}`)
  })

  it('a row older than history gets a `baseline` version (its state before) ahead of its first change, on every write path', async () => {
    const ids = { update: `legacy-u-${token()}`, toggle: `legacy-t-${token()}`, access: `legacy-a-${token()}`, delete: `legacy-d-${token()}` }
    for (const id of Object.values(ids)) await insertLegacyRow(id, creator.id, { name: `Legacy ${id}`, params: { temperature: 0.1 } })
    // GET answers the row's version 0 as its ETag.
    const read = await send(creator, { method: 'GET', url: `${M}/model`, query: { id: ids.update } })
    expect(read.headers['etag']).toBe('"0"')
    expect(read.json<ModelOut>().version).toBe(0)

    const updated = await send(creator, { method: 'POST', url: `${M}/model/update`, headers: { 'if-match': '"0"' }, payload: { id: ids.update, name: 'New' } })
    expect(updated.statusCode, updated.body).toBe(200)
    expect(updated.json<ModelOut>().version).toBe(2)
    expect((await toggle(creator, ids.toggle)).json<ModelOut>().version).toBe(2)
    expect((await tryAccess(creator, { id: ids.access, access_grants: [userGrant(plain.id)] })).json<ModelOut>().version).toBe(2)
    expect((await remove(creator, ids.delete)).statusCode).toBe(200)

    const expectations: Record<keyof typeof ids, string> = { update: 'update', toggle: 'toggle', access: 'access_update', delete: 'delete' }
    for (const [key, id] of Object.entries(ids) as [keyof typeof ids, string][]) {
      const [baseline, change, ...rest] = await expectGapless(id)
      expect(rest, id).toEqual([])
      expect(baseline, id).toMatchObject({ version: 1, action: 'baseline', source: 'system', user_id: null })
      // The baseline is the row as it was, not as the change left it.
      expect(baseline?.snapshot, id).toEqual({
        id,
        user_id: creator.id,
        base_model_id: 'base-llm',
        name: `Legacy ${id}`,
        params: { temperature: 0.1 },
        meta: { description: 'legacy' },
        is_active: true,
        access_grants: [],
      })
      expect(change, id).toMatchObject({ version: 2, action: expectations[key], source: 'route', user_id: creator.id })
    }
    expect((await versionsOf(ids.update))[1]?.snapshot.name).toBe('New')
    expect((await versionsOf(ids.toggle))[1]?.snapshot.is_active).toBe(false)
    expect(snapshotGrantKeys((await versionsOf(ids.access))[1])).toEqual([`user:${plain.id}:read`])
    // A delete's version holds the last state: the same as the baseline here.
    expect((await versionsOf(ids.delete))[1]?.snapshot).toEqual((await versionsOf(ids.delete))[0]?.snapshot)
  })

  it('a version-0 row on an id that already has history continues that history', async () => {
    const id = `legacy-h-${token()}`
    await create(creator, preset(id))
    expect((await remove(creator, id)).statusCode).toBe(200)
    await insertLegacyRow(id, creator.id)
    expect((await tryUpdate(creator, { id, name: 'after' })).json<ModelOut>().version).toBe(4)
    expect(await historyOf(id)).toEqual(['1:create:route', '2:delete:route', '3:baseline:system', '4:update:route'])
    await expectGapless(id)
  })

  it('import: new items are `create`, changed ones `update` (source import); an identical re-import records nothing', async () => {
    const [a, b, c] = [`imp-a-${token()}`, `imp-b-${token()}`, `imp-c-${token()}`]
    await create(h.admin, preset(a, { params: { x: 1 } }))
    await create(h.admin, preset(b, { params: { x: 1 } }))
    const importRes = async (items: unknown[]) => {
      const res = await send(h.admin, { method: 'POST', url: `${M}/import`, payload: { models: items } })
      expect(res.statusCode, res.body).toBe(200)
      return res.json<{ created: string[]; updated: string[]; skipped: unknown[] }>()
    }
    // a changes, b is identical, c is new.
    const report = await importRes([preset(a, { params: { x: 2 } }), preset(b, { params: { x: 1 } }), preset(c, { access_grants: [userGrant(plain.id)] })])
    expect(report.created).toEqual([c])
    expect(await historyOf(a)).toEqual(['1:create:route', '2:update:import'])
    expect(await historyOf(b)).toEqual(['1:create:route'])
    expect(await historyOf(c)).toEqual(['1:create:import'])
    expect((await versionsOf(a))[1]).toMatchObject({ user_id: h.admin.id })
    expect((await versionsOf(a))[1]?.snapshot.params).toEqual({ x: 2 })
    expect(snapshotGrantKeys((await versionsOf(c))[0])).toEqual([`user:${plain.id}:read`])
    for (const id of [a, b, c]) await expectGapless(id)
    // The exported models imported again: nothing changed, no version.
    const exported = await send(h.admin, { method: 'GET', url: `${M}/export` })
    const mine = exported.json<ModelOut[]>().filter((m) => [a, b, c].includes(m.id))
    const before = await countVersions()
    await importRes(mine)
    await importRes([preset(a, { params: { x: 2 } })])
    expect(await countVersions()).toBe(before)
    // A grant-only change is a change.
    await importRes([{ ...preset(b, { params: { x: 1 } }), access_grants: [userGrant(plain.id)] }])
    expect(await historyOf(b)).toEqual(['1:create:route', '2:update:import'])
  })

  it('import over a row older than history: the baseline holds the row as it was before the import', async () => {
    const id = `legacy-imp-${token()}`
    await insertLegacyRow(id, h.admin.id, { name: 'Before import', params: { temperature: 0.1 } })
    const res = await send(h.admin, { method: 'POST', url: `${M}/import`, payload: [preset(id, { name: 'After import', params: { temperature: 0.9 } })] })
    expect(res.statusCode, res.body).toBe(200)
    const [baseline, change] = await expectGapless(id)
    expect(baseline).toMatchObject({ version: 1, action: 'baseline', source: 'system' })
    expect(baseline?.snapshot).toMatchObject({ name: 'Before import', params: { temperature: 0.1 } })
    expect(change).toMatchObject({ version: 2, action: 'update', source: 'import' })
    expect(change?.snapshot).toMatchObject({ name: 'After import', params: { temperature: 0.9 } })
  })

  it('a failed strict import records nothing', async () => {
    const id = `imp-strict-${token()}`
    await create(h.admin, preset(id))
    const versions = await countVersions()
    const audit = await countAudit()
    const res = await send(h.admin, {
      method: 'POST',
      url: `${M}/import`,
      query: { strict: 'true' },
      payload: [preset(id, { name: 'changed' }), preset(`new-${token()}`), { id: 'bad id with spaces' }],
    })
    expectError(res, 400, 'VALIDATION_ERROR')
    expect(await countVersions()).toBe(versions)
    expect(await countAudit()).toBe(audit)
  })

  it('account deletion: models handed over and grants dropped are versions (source system, by the deleting admin)', async () => {
    const leaving = await h.createUser('user', 'Leaving')
    const groupId = await createGroup(h, `g-${token()}`, { workspace: { models: true }, sharing: { models: true } }, [leaving.id])
    const owned = `owned-${token()}`
    const shared = `shared-${token()}`
    const untouched = `untouched-${token()}`
    await create(leaving, preset(owned, { access_grants: [userGrant(plain.id)] }))
    await create(creator, preset(shared, { access_grants: [userGrant(leaving.id, 'write'), userGrant(plain.id)] }))
    await create(creator, preset(untouched))
    const res = await send(h.admin, { method: 'DELETE', url: `/api/v1/users/${leaving.id}` })
    expect(res.statusCode, res.body).toBe(200)
    expect(await historyOf(owned)).toEqual(['1:create:route', '2:update:system'])
    expect(await historyOf(shared)).toEqual(['1:create:route', '2:update:system'])
    expect(await historyOf(untouched)).toEqual(['1:create:route'])
    const [ownedV2, sharedV2] = [(await versionsOf(owned))[1], (await versionsOf(shared))[1]]
    expect(ownedV2?.user_id).toBe(h.admin.id)
    expect(ownedV2?.snapshot.user_id).toBe(h.admin.id)
    expect(snapshotGrantKeys(ownedV2)).toEqual([`user:${plain.id}:read`])
    expect(sharedV2?.snapshot.user_id).toBe(creator.id)
    expect(snapshotGrantKeys(sharedV2)).toEqual([`user:${plain.id}:read`])
    for (const id of [owned, shared]) await expectGapless(id)
    void groupId
  })

  it('group deletion: models losing a grant get an `access_update` version (source system)', async () => {
    const groupId = await createGroup(h, `g-${token()}`, {}, [plain.id])
    const id = `grp-${token()}`
    const other = `grp-other-${token()}`
    await create(creator, preset(id, { access_grants: [{ principal_type: 'group', principal_id: groupId, permission: 'read' }, userGrant(h.admin.id)] }))
    await create(creator, preset(other))
    const res = await send(h.admin, { method: 'DELETE', url: `/api/v1/groups/id/${groupId}/delete` })
    expect(res.statusCode, res.body).toBe(200)
    expect(await historyOf(id)).toEqual(['1:create:route', '2:access_update:system'])
    expect(await historyOf(other)).toEqual(['1:create:route'])
    const v2 = (await versionsOf(id))[1]
    expect(snapshotGrantKeys(v2)).toEqual([`user:${h.admin.id}:read`])
    // The version names the admin who deleted the group (source system: nobody edited the model itself).
    expect(v2?.user_id).toBe(h.admin.id)
    await expectGapless(id)
  })
})

describe.each(DIALECTS)('model versions of registry-wide writes (delete all, sync) on %s', (dialect) => {
  let h: Harness
  let user: TestAccount
  const { send } = modelsApi(() => h)
  const { versionsOf, historyOf, countVersions, expectGapless } = versionsApi(() => h)

  beforeAll(async () => {
    h = await createHarness(dialect)
    user = await h.createUser('user')
  })
  afterAll(async () => h?.close())

  const model = (id: string, extra: Record<string, unknown> = {}) => ({ id, name: `Model ${id}`, base_model_id: 'gpt-4o', meta: {}, params: {}, ...extra })
  const createAs = async (id: string, extra: Record<string, unknown> = {}) => {
    const res = await send(h.admin, { method: 'POST', url: `${M}/create`, payload: model(id, extra) })
    expect(res.statusCode, res.body).toBe(200)
  }
  const sync = async (items: unknown[], dryRun = false) => {
    const res = await send(h.admin, { method: 'POST', url: `${M}/sync`, payload: { models: items, dry_run: dryRun } })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ create: string[]; update: string[]; delete: string[]; unchanged: string[] }>()
  }

  it('delete all: every model gets one `delete` version holding its last state', async () => {
    const ids = [`all-a-${token()}`, `all-b-${token()}`] as const
    await createAs(ids[0], { params: { n: 1 } })
    await createAs(ids[1], { access_grants: [userGrant(user.id)] })
    const res = await send(h.admin, { method: 'DELETE', url: `${M}/delete/all` })
    expect(res.statusCode, res.body).toBe(200)
    for (const id of ids) {
      expect(await historyOf(id)).toEqual(['1:create:route', '2:delete:route'])
      const [v1, v2] = await versionsOf(id)
      expect(v2?.snapshot).toEqual(v1?.snapshot)
      expect(v2?.user_id).toBe(h.admin.id)
    }
    const audit = await h.services.database.db.selectFrom('audit_log').selectAll().where('action', '=', 'model.delete_all').execute()
    expect(audit).toHaveLength(1)
    expect(JSON.parse(audit[0]?.after ?? 'null')).toMatchObject({ deleted: 2 })
  })

  it('sync: create, update and delete are versions (source sync); unchanged items and dry runs record nothing', async () => {
    const [keep, change, drop, fresh] = [`s-keep-${token()}`, `s-change-${token()}`, `s-drop-${token()}`, `s-new-${token()}`]
    await createAs(keep)
    await createAs(change)
    await createAs(drop, { params: { last: true } })
    const before = await countVersions()
    const dry = await sync([model(keep), model(change, { name: 'changed' }), model(fresh)], true)
    expect(dry.delete).toEqual([drop])
    expect(await countVersions()).toBe(before)

    const plan = await sync([model(keep), model(change, { name: 'changed' }), model(fresh, { access_grants: [userGrant(user.id)] })])
    expect(plan).toMatchObject({ create: [fresh], update: [change], delete: [drop], unchanged: [keep] })
    expect(await historyOf(keep)).toEqual(['1:create:route'])
    expect(await historyOf(change)).toEqual(['1:create:route', '2:update:sync'])
    expect(await historyOf(drop)).toEqual(['1:create:route', '2:delete:sync'])
    expect(await historyOf(fresh)).toEqual(['1:create:sync'])
    expect((await versionsOf(change))[1]?.snapshot.name).toBe('changed')
    expect((await versionsOf(drop))[1]?.snapshot.params).toEqual({ last: true })
    expect(snapshotGrantKeys((await versionsOf(fresh))[0])).toEqual([`user:${user.id}:read`])
    for (const id of [keep, change, drop, fresh]) await expectGapless(id)
    // The same payload again changes nothing; the dropped id synced back continues its numbering.
    const again = await sync([model(keep), model(change, { name: 'changed' }), model(fresh, { access_grants: [userGrant(user.id)] }), model(drop)])
    expect(again).toMatchObject({ create: [drop], update: [], delete: [] })
    expect(await historyOf(drop)).toEqual(['1:create:route', '2:delete:sync', '3:create:sync'])
    expect(await historyOf(change)).toEqual(['1:create:route', '2:update:sync'])
  })

  it('sync over rows older than history: the updated and the deleted one get their baseline first', async () => {
    const [kept, gone] = [`s-legacy-kept-${token()}`, `s-legacy-gone-${token()}`]
    const now = Math.floor(Date.now() / 1000)
    for (const id of [kept, gone]) {
      await h.services.database.db
        .insertInto('models')
        .values({
          id,
          user_id: h.admin.id,
          base_model_id: 'gpt-4o',
          name: 'Legacy',
          params: '{"old":1}',
          meta: '{}',
          is_active: 1,
          created_at: now,
          updated_at: now,
        })
        .execute()
    }
    const plan = await sync([model(kept, { name: 'synced' })])
    expect(plan.update).toEqual([kept])
    expect(plan.delete).toContain(gone)
    expect(await historyOf(kept)).toEqual(['1:baseline:system', '2:update:sync'])
    expect(await historyOf(gone)).toEqual(['1:baseline:system', '2:delete:sync'])
    const [keptBaseline, keptUpdate] = await versionsOf(kept)
    expect(keptBaseline?.snapshot).toMatchObject({ name: 'Legacy', params: { old: 1 } })
    expect(keptUpdate?.snapshot).toMatchObject({ name: 'synced', params: {} })
    expect((await versionsOf(gone))[1]?.snapshot).toMatchObject({ name: 'Legacy', params: { old: 1 } })
    await expectGapless(kept)
  })
})

describe.each(DIALECTS)('MODEL_HISTORY_MAX_VERSIONS on %s', (dialect) => {
  let h: Harness
  const { send } = modelsApi(() => h)
  const { versionsOf, liveVersion } = versionsApi(() => h)

  beforeAll(async () => {
    h = await createHarness(dialect, { MODEL_HISTORY_MAX_VERSIONS: '3' })
  })
  afterAll(async () => h?.close())

  const model = (id: string, name: string) => ({ id, name, base_model_id: 'gpt-4o', meta: {}, params: {} })

  it('keeps the newest N versions of each changed model; numbering and ETags go on', async () => {
    expect(h.config.historyMaxVersions).toBe(3)
    const id = `max-${token()}`
    const other = `max-other-${token()}`
    expect((await send(h.admin, { method: 'POST', url: `${M}/create`, payload: model(id, 'n0') })).statusCode).toBe(200)
    expect((await send(h.admin, { method: 'POST', url: `${M}/create`, payload: model(other, 'o0') })).statusCode).toBe(200)
    for (let i = 1; i <= 5; i++) {
      const res = await send(h.admin, { method: 'POST', url: `${M}/model/update`, payload: { id, name: `n${i}` } })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json<ModelOut>().version).toBe(i + 1)
    }
    const versions = await versionsOf(id)
    expect(versions.map((v) => v.version)).toEqual([4, 5, 6])
    expect(versions.map((v) => v.snapshot.name)).toEqual(['n3', 'n4', 'n5'])
    expect(await liveVersion(id)).toBe(6)
    // Another model's history is not pruned by these writes.
    expect((await versionsOf(other)).map((v) => v.version)).toEqual([1])
    // The deletion is the newest version and stays; the re-created id continues after it.
    expect((await send(h.admin, { method: 'POST', url: `${M}/model/delete`, payload: { id } })).statusCode).toBe(200)
    expect((await versionsOf(id)).map((v) => `${v.version}:${v.action}`)).toEqual(['5:update', '6:update', '7:delete'])
    const again = await send(h.admin, { method: 'POST', url: `${M}/create`, payload: model(id, 'again') })
    expect(again.json<ModelOut>().version).toBe(8)
    expect((await versionsOf(id)).map((v) => v.version)).toEqual([6, 7, 8])
  })
})
