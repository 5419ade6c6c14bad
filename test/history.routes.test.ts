/**
 * Model history routes (issue #12, docs/history.md): the version list, one version, diffs, restore
 * (live and from the trash), the trash and pruning, on every dialect; and the "done when" story.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGroup } from './support/accounts.js'
import { DIALECTS } from './support/databases.js'
import { ids, nowSeconds, preset, token, userGrant } from './support/factories.js'

import type { Harness, TestAccount } from './support/harness.js'
import { historyApi } from './support/history.js'
import type { ModelOut } from './support/model-types.js'
import { createModelsWorld, modelsApi } from './support/models.js'
import { expectError } from './support/requests.js'

const grantIds = (model: ModelOut) => model.access_grants.map((g) => g.principal_id).sort()

describe.each(DIALECTS)('model history routes on %s', (dialect) => {
  let h: Harness
  /** workspace.models and sharing.models: owns the models. */
  let creator: TestAccount
  /** Another creator (the new owner of a re-used id). */
  let creator2: TestAccount
  /** Gets write grants. */
  let writer: TestAccount
  /** Gets read grants. */
  let reader: TestAccount
  /** No access to anything. */
  let plain: TestAccount
  const models = modelsApi(() => h)
  const { create, tryUpdate, getModel, list } = models
  const api = historyApi(() => h)
  const { history, tryHistory, version, tryVersion, diff, tryDiff, tryRestore, trash, tryPrune, deleteModel, stored } = api

  const update = async (who: TestAccount, body: Record<string, unknown>, ifMatch?: string) => {
    const res = await models.send(who, {
      method: 'POST',
      url: '/api/v1/models/model/update',
      payload: body,
      ...(ifMatch && { headers: { 'if-match': ifMatch } }),
    })
    expect(res.statusCode, res.body).toBe(200)
    return res
  }
  /** A model of `creator` shared with `writer` (write) and `reader` (read). */
  const sharedModel = async (extra: Record<string, unknown> = {}) =>
    create(creator, preset(`h-${token()}`, { access_grants: [userGrant(writer.id, 'write'), userGrant(reader.id, 'read')], ...extra }))

  beforeAll(async () => {
    ;({ h, creator, plain } = await createModelsWorld(dialect))
    creator2 = await h.createUser('user', 'Second Creator')
    await createGroup(h, 'Creators two', { workspace: { models: true }, sharing: { models: true } }, [creator2.id])
    writer = await h.createUser('user', 'Writer')
    reader = await h.createUser('user', 'Reader')
  })
  afterAll(async () => h?.close())

  describe('GET /model/history', () => {
    it('pages the versions newest first with total; items carry seconds, the author and how', async () => {
      const model = await sharedModel()
      for (let i = 1; i <= 4; i++) await update(creator, { id: model.id, name: `Name ${i}` })
      const first = await history(creator, model.id, { page: 1, limit: 2 })
      expect(first.total).toBe(5)
      expect(first.items.map((i) => i.version)).toEqual([5, 4])
      expect(first.items[0]).toEqual({
        version: 5,
        created_at: expect.any(Number),
        user_id: creator.id,
        user: { id: creator.id, name: creator.name },
        action: 'update',
        source: 'route',
        template_id: null,
      })
      expect(Math.abs((first.items[0]?.created_at ?? 0) - nowSeconds())).toBeLessThan(60)
      expect((await history(creator, model.id, { page: 2, limit: 2 })).items.map((i) => i.version)).toEqual([3, 2])
      const last = await history(creator, model.id, { page: 3, limit: 2 })
      expect(last.items.map((i) => `${i.version}:${i.action}`)).toEqual(['1:create'])
      expect((await history(creator, model.id, { page: 4, limit: 2 })).items).toEqual([])
      // The default page is 50 long.
      expect((await history(creator, model.id)).items).toHaveLength(5)
    })

    it('limit 1..100 and page ≥ 1, else 400 VALIDATION_ERROR naming the field', async () => {
      const model = await sharedModel()
      for (const [query, field] of [
        [{ limit: 101 }, 'querystring.limit'],
        [{ limit: 1_000_000 }, 'querystring.limit'],
        [{ limit: 0 }, 'querystring.limit'],
        [{ limit: 'lots' }, 'querystring.limit'],
        [{ page: 0 }, 'querystring.page'],
      ] as const) {
        const res = await tryHistory(creator, model.id, query)
        expectError(res, 400, 'VALIDATION_ERROR')
        expect(res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toContain(field)
      }
      expect((await tryHistory(creator, model.id, { limit: 100 })).statusCode).toBe(200)
    })

    it('an unknown id, and a model the caller may not read: the same 404 MODEL_NOT_FOUND', async () => {
      const model = await sharedModel()
      expectError(await tryHistory(creator, `missing-${token()}`), 404, 'MODEL_NOT_FOUND')
      expectError(await tryHistory(plain, model.id), 404, 'MODEL_NOT_FOUND')
      expectError(await tryVersion(plain, model.id, 1), 404, 'MODEL_NOT_FOUND')
      expectError(await tryDiff(plain, model.id, 1, 1), 404, 'MODEL_NOT_FOUND')
    })
  })

  describe('GET /model/history/version and /diff', () => {
    it('a version holds the full snapshot; unknown versions and versions of another model → 404 VERSION_NOT_FOUND', async () => {
      const model = await sharedModel({ params: { temperature: 0.5 }, meta: { description: 'first' } })
      await update(creator, { id: model.id, params: { temperature: 0.9 } })
      const v1 = await version(creator, model.id, 1)
      expect(v1).toEqual({
        version: 1,
        created_at: expect.any(Number),
        user_id: creator.id,
        user: { id: creator.id, name: creator.name },
        action: 'create',
        source: 'route',
        template_id: null,
        snapshot: {
          id: model.id,
          user_id: creator.id,
          base_model_id: 'base-llm',
          name: model.name,
          params: { temperature: 0.5 },
          meta: { description: 'first' },
          is_active: true,
          access_grants: [userGrant(reader.id, 'read'), userGrant(writer.id, 'write')].sort((a, b) => (a.principal_id < b.principal_id ? -1 : 1)),
        },
      })
      expect((await version(creator, model.id, 2)).snapshot.params).toEqual({ temperature: 0.9 })
      expectError(await tryVersion(creator, model.id, 3), 404, 'VERSION_NOT_FOUND')
      // Another model with more versions: its version 5 is not this model's.
      const other = await sharedModel()
      for (let i = 0; i < 4; i++) await update(creator, { id: other.id, name: `Other ${i}` })
      expect((await version(creator, other.id, 5)).version).toBe(5)
      expectError(await tryVersion(creator, model.id, 5), 404, 'VERSION_NOT_FOUND')
      expectError(await tryDiff(creator, model.id, 1, 5), 404, 'VERSION_NOT_FOUND')
      expectError(await tryVersion(creator, model.id, 0), 400, 'VALIDATION_ERROR')
      expectError(await tryVersion(creator, model.id, 'x'), 400, 'VALIDATION_ERROR')
    })

    it('diff: name, base, is_active, params.* and meta.* (dotted, recursive, arrays whole) and grants', async () => {
      const model = await create(
        creator,
        preset(`d-${token()}`, {
          name: 'Before',
          params: { temperature: 0.5, stop: ['a'], keep: 1, gone: true },
          meta: { description: 'old', capabilities: { vision: true, web: false } },
          access_grants: [userGrant(reader.id, 'read')],
        }),
      )
      await update(creator, {
        id: model.id,
        name: 'After',
        base_model_id: 'other-base',
        is_active: false,
        params: { temperature: 0.7, stop: ['a', 'b'], keep: 1, top_k: 5 },
        meta: { capabilities: { vision: false, web: false, usage: true } },
        access_grants: [userGrant(writer.id, 'write')],
      })
      const answer = await diff(creator, model.id, 1, 2)
      expect(answer).toEqual({
        id: model.id,
        from: 1,
        to: 2,
        changes: [
          { path: 'name', op: 'changed', old: 'Before', new: 'After' },
          { path: 'base_model_id', op: 'changed', old: 'base-llm', new: 'other-base' },
          { path: 'is_active', op: 'changed', old: true, new: false },
          { path: 'params.temperature', op: 'changed', old: 0.5, new: 0.7 },
          { path: 'params.stop', op: 'changed', old: ['a'], new: ['a', 'b'] },
          { path: 'params.gone', op: 'removed', old: true, new: null },
          { path: 'params.top_k', op: 'added', old: null, new: 5 },
          { path: 'meta.description', op: 'removed', old: 'old', new: null },
          { path: 'meta.capabilities.vision', op: 'changed', old: true, new: false },
          { path: 'meta.capabilities.usage', op: 'added', old: null, new: true },
          { path: `access_grants.user:${reader.id}:read`, op: 'removed', old: userGrant(reader.id, 'read'), new: null },
          { path: `access_grants.user:${writer.id}:write`, op: 'added', old: null, new: userGrant(writer.id, 'write') },
        ],
      })
      // Backwards is the mirror image; a version against itself is no change.
      const back = await diff(creator, model.id, 2, 1)
      expect(back.changes.find((c) => c.path === 'params.top_k')).toEqual({ path: 'params.top_k', op: 'removed', old: 5, new: null })
      expect((await diff(creator, model.id, 2, 2)).changes).toEqual([])
    })

    it('a reader sees no grants in snapshots or diffs, and no author but the owner and themselves; writers and admins see all', async () => {
      const model = await sharedModel()
      await update(writer, { id: model.id, name: 'By the writer' })
      await update(h.admin, { id: model.id, access_grants: [userGrant(writer.id, 'write'), userGrant(reader.id, 'read'), userGrant(plain.id, 'read')] })
      await update(creator, { id: model.id, name: 'By the owner' })
      const readerView = await history(reader, model.id)
      expect(readerView.items.map((i) => [i.version, i.user_id, i.user?.id ?? null])).toEqual([
        [4, creator.id, creator.id],
        [3, null, null],
        [2, null, null],
        [1, creator.id, creator.id],
      ])
      const v3 = await version(reader, model.id, 3)
      expect(v3.snapshot.access_grants).toBeNull()
      expect(v3.user_id).toBeNull()
      expect(v3.snapshot.user_id).toBe(creator.id)
      expect((await diff(reader, model.id, 2, 3)).changes).toEqual([])
      expect((await diff(reader, model.id, 1, 3)).changes).toEqual([{ path: 'name', op: 'changed', old: model.name, new: 'By the writer' }])
      // Writers and admins see the grants and every author.
      expect((await history(writer, model.id)).items.map((i) => i.user_id)).toEqual([creator.id, h.admin.id, writer.id, creator.id])
      expect((await version(writer, model.id, 3)).snapshot.access_grants).toHaveLength(3)
      expect((await diff(h.admin, model.id, 2, 3)).changes).toEqual([
        { path: `access_grants.user:${plain.id}:read`, op: 'added', old: null, new: userGrant(plain.id, 'read') },
      ])
      // A reader who made a version sees themselves.
      await update(h.admin, { id: model.id, access_grants: [userGrant(reader.id, 'write')] })
      await update(reader, { id: model.id, name: 'By the reader' })
      await update(h.admin, { id: model.id, access_grants: [userGrant(reader.id, 'read')] })
      expect((await history(reader, model.id, { limit: 2 })).items.map((i) => i.user_id)).toEqual([null, reader.id])
    })
  })

  describe('POST /model/history/restore (a live model)', () => {
    it('a writer restores a version: its content, as a new version `restore`, with the ETag, tags following meta, and an audit entry', async () => {
      const model = await sharedModel({ name: 'Original', params: { seed: 1 }, meta: { tags: ['alpha'] } })
      await update(creator, { id: model.id, name: 'Changed', params: { seed: 2 }, meta: { tags: ['beta'] }, is_active: false })
      const res = await tryRestore(writer, { id: model.id, version: 1 }, '"2"')
      expect(res.statusCode, res.body).toBe(200)
      expect(res.headers.etag).toBe('"3"')
      expect(res.json()).toMatchObject({
        id: model.id,
        name: 'Original',
        params: { seed: 1 },
        meta: { tags: [{ name: 'alpha' }] },
        is_active: true,
        version: 3,
        user_id: creator.id,
      })
      expect(res.json().can).toEqual({ read: true, write: true, share: false, delete: true })
      expect(await stored(model.id)).toEqual(['1:create', '2:update', '3:restore'])
      expect((await version(creator, model.id, 3)).user_id).toBe(writer.id)
      expect(ids((await list(creator, { tag: 'alpha', query: model.id })).items)).toEqual([model.id])
      expect(ids((await list(creator, { tag: 'beta', query: model.id })).items)).toEqual([])
      expect((await api.lastAudit(model.id, 'model.restore'))?.actor_id).toBe(writer.id)
      expect(await api.auditAfter(model.id, 'model.restore')).toEqual({ version: 3, restored_from: 1 })
      // The cached single model follows (the registry version was bumped).
      expect((await getModel(creator, model.id)).name).toBe('Original')
    })

    it('refused for a reader (403, as update) and a stranger (404); a stale If-Match → 412 with current_version; nothing written', async () => {
      const model = await sharedModel({ name: 'One' })
      await update(creator, { id: model.id, name: 'Two' })
      expectError(await tryRestore(reader, { id: model.id, version: 1 }), 403, 'ACCESS_PROHIBITED')
      expectError(await tryUpdate(reader, { id: model.id, name: 'x' }), 403, 'ACCESS_PROHIBITED')
      expectError(await tryRestore(plain, { id: model.id, version: 1 }), 404, 'MODEL_NOT_FOUND')
      const stale = await tryRestore(writer, { id: model.id, version: 1 }, '"1"')
      expectError(stale, 412, 'PRECONDITION_FAILED')
      expect(stale.json().current_version).toBe(2)
      expect(stale.headers.etag).toBe('"2"')
      expect(await stored(model.id)).toEqual(['1:create', '2:update'])
      expect((await getModel(creator, model.id)).name).toBe('Two')
      expect(await api.auditActions(model.id)).not.toContain('model.restore')
      // A live model needs the version to restore.
      expectError(await tryRestore(writer, { id: model.id }), 400, 'VALIDATION_ERROR')
      expectError(await tryRestore(writer, { id: model.id, version: 9 }), 404, 'VERSION_NOT_FOUND')
    })

    it('a version whose base model the caller may no longer use → 400 BASE_MODEL_UNAVAILABLE, nothing written', async () => {
      const baseId = `base-${token()}`
      await h.shareBase(baseId)
      const model = await sharedModel({ base_model_id: baseId })
      await update(creator, { id: model.id, base_model_id: 'base-llm' })
      // The admin stops sharing the old base.
      const unshare = await h.send(h.admin, { method: 'POST', url: '/api/v1/models/model/access/update', payload: { id: baseId, access_grants: [] } })
      expect(unshare.statusCode, unshare.body).toBe(200)
      expectError(await tryRestore(creator, { id: model.id, version: 1 }), 400, 'BASE_MODEL_UNAVAILABLE')
      expect(await stored(model.id)).toEqual(['1:create', '2:update'])
      expect((await getModel(creator, model.id)).base_model_id).toBe('base-llm')
      // An admin may still use it.
      expect((await tryRestore(h.admin, { id: model.id, version: 1 })).statusCode).toBe(200)
    })

    it('grants the caller may not set: the error the update gives; nothing written', async () => {
      const model = await sharedModel()
      // The admin makes it public; the owner (no sharing.public_models) makes it private again.
      await update(h.admin, { id: model.id, access_grants: [userGrant('*', 'read')] })
      await update(creator, { id: model.id, access_grants: [] })
      const viaUpdate = await tryUpdate(creator, { id: model.id, access_grants: [userGrant('*', 'read')] })
      const viaRestore = await tryRestore(creator, { id: model.id, version: 2 })
      expectError(viaRestore, 403, 'ACCESS_PROHIBITED')
      expect(viaRestore.json().detail).toBe(viaUpdate.json().detail)
      expect(await stored(model.id)).toEqual(['1:create', '2:update', '3:update'])
      // The admin may restore it.
      const res = await tryRestore(h.admin, { id: model.id, version: 2 })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json<ModelOut>().access_grants.map((g) => g.principal_id)).toEqual(['*'])
    })
  })

  describe('the trash and restoring deleted models', () => {
    it('lists deleted models: owners their own, admins all; restore brings content and grants back as a new version', async () => {
      const mine = await sharedModel({ name: 'Mine', meta: { tags: ['trashy'] } })
      const theirs = await create(creator2, preset(`t-${token()}`, { name: 'Theirs' }))
      await deleteModel(writer, mine.id)
      await deleteModel(creator2, theirs.id)
      const own = await trash(creator)
      expect(own.items.find((i) => i.id === mine.id)).toEqual({
        id: mine.id,
        name: 'Mine',
        user_id: creator.id,
        deleted_at: expect.any(Number),
        deleted_by: writer.id,
        version: 2,
      })
      expect(ids(own.items)).not.toContain(theirs.id)
      expect(own.items.every((i) => i.user_id === creator.id)).toBe(true)
      expect(ids((await trash(creator2)).items)).toEqual([theirs.id])
      // The writer deleted it but never owned it: not theirs to see.
      expect(ids((await trash(writer)).items)).toEqual([])
      const all = await trash(h.admin)
      expect(ids(all.items)).toEqual(expect.arrayContaining([mine.id, theirs.id]))
      expect(all.total).toBe(all.items.length)
      expect((await trash(h.admin, { limit: 1 })).items).toHaveLength(1)
      expectError(await api.tryTrash(creator, { limit: 101 }), 400, 'VALIDATION_ERROR')

      // The deleted model's history stays readable to its owner; a stranger (even the writer) gets 404.
      expect((await history(creator, mine.id)).items.map((i) => i.action)).toEqual(['delete', 'create'])
      expectError(await tryHistory(writer, mine.id), 404, 'MODEL_NOT_FOUND')

      // Another user may not restore it (404, like an id that never existed); the owner may.
      expectError(await tryRestore(creator2, { id: mine.id }), 404, 'MODEL_NOT_FOUND')
      expectError(await tryRestore(writer, { id: mine.id }), 404, 'MODEL_NOT_FOUND')
      expectError(await tryRestore(creator, { id: mine.id }, '"1"'), 412, 'PRECONDITION_FAILED')
      const res = await tryRestore(creator, { id: mine.id }, '"2"')
      expect(res.statusCode, res.body).toBe(200)
      expect(res.headers.etag).toBe('"3"')
      expect(res.json()).toMatchObject({ id: mine.id, name: 'Mine', user_id: creator.id, version: 3 })
      expect(grantIds(res.json<ModelOut>())).toEqual([reader.id, writer.id].sort())
      expect(await stored(mine.id)).toEqual(['1:create', '2:delete', '3:restore'])
      expect(ids((await trash(creator)).items)).not.toContain(mine.id)
      expect(ids((await list(creator, { tag: 'trashy' })).items)).toEqual([mine.id])
      expect(await api.auditAfter(mine.id, 'model.restore')).toEqual({ version: 3, restored_from: 2 })
      // The admin restores another user's deleted model; it goes back to its owner.
      const byAdmin = await tryRestore(h.admin, { id: theirs.id, version: 1 })
      expect(byAdmin.statusCode, byAdmin.body).toBe(200)
      expect(byAdmin.json()).toMatchObject({ user_id: creator2.id, name: 'Theirs', version: 3 })
    })

    it('an id taken meanwhile → 409, nothing written', async () => {
      const gone = await create(creator, preset(`taken-${token()}`))
      await deleteModel(creator, gone.id)
      // The admin creates a private model on the id: the owner cannot read it.
      expect((await models.tryCreate(h.admin, preset(gone.id))).statusCode).toBe(200)
      expectError(await tryRestore(creator, { id: gone.id }), 409, 'MODEL_ID_UNAVAILABLE')
      // Readable by the owner: the id is taken, as a create would say.
      await update(h.admin, { id: gone.id, access_grants: [userGrant(creator.id, 'read')] })
      expectError(await tryRestore(creator, { id: gone.id }), 409, 'MODEL_ID_TAKEN')
      expect((await api.liveRow(gone.id))?.user_id).toBe(h.admin.id)
      expect((await stored(gone.id)).filter((v) => v.endsWith('restore'))).toEqual([])
    })

    it('the new owner of a re-used id does not see the old life; admins do', async () => {
      const first = await create(creator, preset(`life-${token()}`, { name: 'First life', params: { seed: 1 } }))
      await update(creator, { id: first.id, name: 'First life, edited' })
      await deleteModel(creator, first.id)
      await create(creator2, preset(first.id, { name: 'Second life' }))
      const theirs = await history(creator2, first.id)
      expect(theirs).toEqual({ total: 1, items: [expect.objectContaining({ version: 4, action: 'create', user_id: creator2.id })] })
      expectError(await tryVersion(creator2, first.id, 2), 404, 'VERSION_NOT_FOUND')
      expectError(await tryDiff(creator2, first.id, 1, 4), 404, 'VERSION_NOT_FOUND')
      expectError(await tryRestore(creator2, { id: first.id, version: 2 }), 404, 'VERSION_NOT_FOUND')
      expect((await history(h.admin, first.id)).items.map((i) => `${i.version}:${i.action}`)).toEqual(['4:create', '3:delete', '2:update', '1:create'])
      expect((await version(h.admin, first.id, 2)).snapshot.name).toBe('First life, edited')
    })
  })

  describe('POST /history/prune', () => {
    it('admin only; keeps the newest `keep` versions of each model (or of one), with an audit entry', async () => {
      const a = await sharedModel()
      const b = await sharedModel()
      for (let i = 0; i < 4; i++) {
        await update(creator, { id: a.id, name: `A${i}` })
        await update(creator, { id: b.id, name: `B${i}` })
      }
      expectError(await tryPrune(creator, { keep: 1, model_id: a.id }), 403, 'ACCESS_PROHIBITED')
      expectError(await tryPrune(h.admin, { keep: 0 }), 400, 'VALIDATION_ERROR')
      expectError(await tryPrune(h.admin, { keep: '2' }), 400, 'VALIDATION_ERROR')
      expect(await stored(a.id)).toHaveLength(5)
      const one = await tryPrune(h.admin, { keep: 2, model_id: a.id })
      expect(one.statusCode, one.body).toBe(200)
      expect(one.json()).toEqual({ deleted: 3 })
      expect(await stored(a.id)).toEqual(['4:update', '5:update'])
      expect(await stored(b.id)).toHaveLength(5)
      expect((await history(creator, a.id)).total).toBe(2)
      expectError(await tryVersion(creator, a.id, 1), 404, 'VERSION_NOT_FOUND')
      expect((await api.lastAudit(a.id, 'model.history_prune'))?.actor_id).toBe(h.admin.id)
      expect(await api.auditAfter(a.id, 'model.history_prune')).toEqual({ keep: 2, model_id: a.id, deleted: 3 })
      // Everything: b keeps its newest 4.
      const all = await tryPrune(h.admin, { keep: 4 })
      expect(all.statusCode, all.body).toBe(200)
      expect(all.json().deleted).toBeGreaterThanOrEqual(1)
      expect(await stored(b.id)).toEqual(['2:update', '3:update', '4:update', '5:update'])
      expect(await stored(a.id)).toEqual(['4:update', '5:update'])
    })
  })

  it('done when: two edits, a stale ETag from a second writer → 412, the owner reads history, diffs and restores version 1', async () => {
    const created = await create(
      creator,
      preset(`story-${token()}`, { name: 'Story', params: { temperature: 0.2 }, access_grants: [userGrant(writer.id, 'write')] }),
    )
    expect(created.version).toBe(1)
    // The second writer reads the model (ETag "1") and keeps the page open.
    const read = await models.send(writer, { method: 'GET', url: '/api/v1/models/model', query: { id: created.id } })
    expect(read.headers.etag).toBe('"1"')
    await update(creator, { id: created.id, params: { temperature: 0.4 } }, '"1"')
    await update(creator, { id: created.id, name: 'Story, second edit' }, '"2"')
    const stale = await models.send(writer, {
      method: 'POST',
      url: '/api/v1/models/model/update',
      payload: { id: created.id, name: 'Lost' },
      headers: { 'if-match': '"1"' },
    })
    expectError(stale, 412, 'PRECONDITION_FAILED')
    expect(stale.json().current_version).toBe(3)
    // Exactly what was recorded: the create and the two edits (the refused write left nothing).
    const seen = await history(creator, created.id)
    expect(seen.total).toBe(3)
    expect(seen.items.map((i) => `${i.version}:${i.action}:${i.user_id === creator.id ? 'owner' : i.user_id}`)).toEqual([
      '3:update:owner',
      '2:update:owner',
      '1:create:owner',
    ])
    expect((await diff(creator, created.id, 1, 3)).changes).toEqual([
      { path: 'name', op: 'changed', old: 'Story', new: 'Story, second edit' },
      { path: 'params.temperature', op: 'changed', old: 0.2, new: 0.4 },
    ])
    const restored = await tryRestore(creator, { id: created.id, version: 1 }, '"3"')
    expect(restored.statusCode, restored.body).toBe(200)
    expect(restored.json()).toMatchObject({ name: 'Story', params: { temperature: 0.2 }, version: 4 })
    expect((await history(creator, created.id)).items.map((i) => `${i.version}:${i.action}`)).toEqual(['4:restore', '3:update', '2:update', '1:create'])
    expect((await diff(creator, created.id, 1, 4)).changes).toEqual([])
  })
})
