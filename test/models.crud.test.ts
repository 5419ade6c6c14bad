/**
 * Route tests of one model's life after its creation (design.md §2.2): GET /model, POST /model/update,
 * POST /model/toggle, both deletes, and ids that are not path-safe through every route.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { ids, PNG_URI, preset, token } from './support/factories.js'
import type { Harness, TestAccount } from './support/harness.js'
import type { ModelOut } from './support/model-types.js'
import { createModelsWorld, M, modelsApi } from './support/models.js'
import { expectError } from './support/requests.js'
import { sleep } from './support/timing.js'

describe.each(DIALECTS)('models routes: read, update, toggle and delete on %s', (dialect) => {
  let h: Harness
  /** A non-admin with workspace.models and sharing.models (not sharing.public_models), distinctive name. */
  let creator: TestAccount
  /** A non-admin with no feature permission. */
  let plain: TestAccount
  const { send, create, tryGet, getModel, list, tryUpdate, tryAccess, db, rowExists } = modelsApi(() => h)

  beforeAll(async () => {
    ;({ h, creator, plain } = await createModelsWorld(dialect))
  })
  afterAll(async () => h?.close())

  // ─── GET /model ────────────────────────────────────────────────────────────────────────────────
  describe('GET /model', () => {
    it('answers the ModelAccessResponse; a missing id → 404 MODEL_NOT_FOUND', async () => {
      const model = await create(creator, preset(`get-${token()}`, { params: { seed: 7 } }))
      const read = await getModel(h.admin, model.id)
      expect(read).toEqual({
        ...model,
        user: { id: creator.id, name: creator.name, email: creator.email, role: 'user' },
        write_access: true,
        // The status is the caller's (no provider serves base-llm here): the admin's words name the cause.
        status: { ok: false, reason: 'No provider serves the base model "base-llm".' },
      })
      expectError(await tryGet(h.admin, `missing-${token()}`), 404, 'MODEL_NOT_FOUND')
      expectError(await tryGet(plain, model.id), 404, 'MODEL_NOT_FOUND')
    })

    it('id is required and validated in the query', async () => {
      expect((await send(h.admin, { method: 'GET', url: `${M}/model` })).statusCode).toBe(400)
      expectError(await send(h.admin, { method: 'GET', url: `${M}/model`, query: { id: 'y'.repeat(257) } }), 400, 'MODEL_ID_TOO_LONG')
    })
  })

  // ─── POST /model/update ────────────────────────────────────────────────────────────────────────
  describe('POST /model/update', () => {
    it('updates the model named by body.id; fields left out keep their value', async () => {
      const id = `upd-${token()}`
      const before = await create(creator, preset(id, { meta: { description: 'old', tags: ['x'] }, params: { temperature: 0.5 }, is_active: true }))
      const res = await tryUpdate(creator, { id, name: 'New name' })
      expect(res.statusCode, res.body).toBe(200)
      const after = res.json<ModelOut>()
      expect(after).toMatchObject({
        id,
        name: 'New name',
        meta: before.meta,
        params: before.params,
        is_active: true,
        base_model_id: 'base-llm',
        user_id: creator.id,
        created_at: before.created_at,
      })
      const full = await tryUpdate(creator, { id, base_model_id: 'other-base', name: 'Full', meta: { tags: ['y'] }, params: { top_k: 5 }, is_active: false })
      expect(full.json()).toMatchObject({ base_model_id: 'other-base', name: 'Full', meta: { tags: [{ name: 'y' }] }, params: { top_k: 5 }, is_active: false })
      expect((await getModel(creator, id)).params).toEqual({ top_k: 5 })
      // The tag index follows meta.tags.
      expect(ids((await list(creator, { tag: 'x', query: id })).items)).toEqual([])
      expect(ids((await list(creator, { tag: 'y', query: id })).items)).toEqual([id])
    })

    it('accepts the id in the query (?id=) instead of the body; equal ids in both are fine', async () => {
      const id = `updq-${token()}`
      await create(h.admin, preset(id))
      const viaQuery = await tryUpdate(h.admin, { name: 'From query' }, { id })
      expect(viaQuery.statusCode, viaQuery.body).toBe(200)
      expect(viaQuery.json().name).toBe('From query')
      const both = await tryUpdate(h.admin, { id, name: 'Both' }, { id })
      expect(both.statusCode, both.body).toBe(200)
      expect(both.json().name).toBe('Both')
    })

    it('differing ids in the query and the body → 400, neither model changed', async () => {
      const a = await create(h.admin, preset(`upda-${token()}`))
      const b = await create(h.admin, preset(`updb-${token()}`))
      const res = await tryUpdate(h.admin, { id: a.id, name: 'Hijack' }, { id: b.id })
      expectError(res, 400, 'VALIDATION_ERROR')
      expect((await getModel(h.admin, a.id)).name).toBe(a.name)
      expect((await getModel(h.admin, b.id)).name).toBe(b.name)
      expect((await tryUpdate(h.admin, { name: 'no id' })).statusCode).toBe(400)
    })

    it('a missing model → 404; a model the caller cannot read → 404; read but not write → 403', async () => {
      expectError(await tryUpdate(h.admin, { id: `nope-${token()}`, name: 'x' }), 404, 'MODEL_NOT_FOUND')
      const secret = await create(h.admin, preset(`sec-${token()}`))
      expectError(await tryUpdate(creator, { id: secret.id, name: 'x' }), 404, 'MODEL_NOT_FOUND')
      const readable = await create(h.admin, preset(`ro-${token()}`, { access_control: null }))
      expectError(await tryUpdate(creator, { id: readable.id, name: 'x' }), 403, 'ACCESS_PROHIBITED')
      expect((await getModel(h.admin, readable.id)).name).toBe(readable.name)
    })

    it('validates params, ids and base_model_id like create; nothing changes on failure', async () => {
      const id = `updv-${token()}`
      await create(h.admin, preset(id, { params: { temperature: 1 } }))
      const res = await tryUpdate(h.admin, { id, name: 'x', params: { temperature: 2.5 } })
      expectError(res, 400, 'INVALID_PARAMS')
      expect(res.json().detail).toContain('temperature')
      expectError(await tryUpdate(h.admin, { id, base_model_id: id }), 400, 'VALIDATION_ERROR')
      expectError(await tryUpdate(h.admin, { id: 'z'.repeat(257), name: 'x' }), 400, 'MODEL_ID_TOO_LONG')
      expectError(await tryUpdate(h.admin, { id: 'bad\u0001', name: 'x' }), 400, 'INVALID_MODEL_ID')
      const after = await getModel(h.admin, id)
      expect(after).toMatchObject({ name: `Model ${id}`, params: { temperature: 1 }, base_model_id: 'base-llm' })
    })

    it('a non-admin may not turn a preset into an override (base_model_id null) → 403', async () => {
      const id = `tonull-${token()}`
      await create(creator, preset(id))
      expectError(await tryUpdate(creator, { id, base_model_id: null }), 403, 'ACCESS_PROHIBITED')
      expect((await getModel(creator, id)).base_model_id).toBe('base-llm')
    })

    it('bumps updated_at (not created_at), which moves the model to the front of the default order', async () => {
      const w = token()
      const first = await create(h.admin, preset(`bump-${w}-a`))
      await create(h.admin, preset(`bump-${w}-b`))
      await sleep(1100)
      const res = await tryUpdate(h.admin, { id: first.id, name: 'Bumped' })
      const updated = res.json<ModelOut>()
      expect(updated.updated_at).toBeGreaterThan(first.updated_at)
      expect(updated.created_at).toBe(first.created_at)
      expect(ids((await list(h.admin, { query: `bump-${w}` })).items)).toEqual([first.id, `bump-${w}-b`])
    })
  })

  // ─── POST /model/toggle ────────────────────────────────────────────────────────────────────────
  describe('POST /model/toggle', () => {
    it('flips is_active each time and answers the ModelModel', async () => {
      const id = `tog-${token()}`
      await create(creator, preset(id))
      const off = await send(creator, { method: 'POST', url: `${M}/model/toggle`, query: { id } })
      expect(off.statusCode, off.body).toBe(200)
      expect(off.json()).toMatchObject({ id, is_active: false, user_id: creator.id })
      expect((await getModel(creator, id)).is_active).toBe(false)
      const on = await send(creator, { method: 'POST', url: `${M}/model/toggle`, query: { id } })
      expect(on.json().is_active).toBe(true)
    })

    it('a missing model → 404, a read-only one → 403 (unchanged)', async () => {
      expectError(await send(h.admin, { method: 'POST', url: `${M}/model/toggle`, query: { id: `nope-${token()}` } }), 404, 'MODEL_NOT_FOUND')
      const id = `togro-${token()}`
      await create(h.admin, preset(id, { access_control: null }))
      expectError(await send(creator, { method: 'POST', url: `${M}/model/toggle`, query: { id } }), 403, 'ACCESS_PROHIBITED')
      expect((await getModel(h.admin, id)).is_active).toBe(true)
    })
  })

  // ─── Delete ────────────────────────────────────────────────────────────────────────────────────
  describe('delete', () => {
    it('POST /model/delete {id} answers true; the model and its grants and tags are gone', async () => {
      const id = `del-${token()}`
      await create(
        creator,
        preset(id, { meta: { tags: [`deltag${token()}`] }, access_grants: [{ principal_type: 'user', principal_id: plain.id, permission: 'read' }] }),
      )
      const res = await send(creator, { method: 'POST', url: `${M}/model/delete`, payload: { id } })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json()).toBe(true)
      expectError(await tryGet(creator, id), 404, 'MODEL_NOT_FOUND')
      expect(await db().selectFrom('model_grants').select('id').where('model_id', '=', id).execute()).toEqual([])
      expect(await db().selectFrom('model_tags').select('name').where('model_id', '=', id).execute()).toEqual([])
    })

    it('legacy DELETE /model/delete?id= answers true and deletes', async () => {
      const id = `ldel-${token()}`
      await create(h.admin, preset(id))
      const res = await send(h.admin, { method: 'DELETE', url: `${M}/model/delete`, query: { id } })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json()).toBe(true)
      expect(await rowExists(id)).toBe(false)
    })

    it('a missing model → 404; read-only → 403 and the model stays', async () => {
      expectError(await send(h.admin, { method: 'POST', url: `${M}/model/delete`, payload: { id: `nope-${token()}` } }), 404, 'MODEL_NOT_FOUND')
      const id = `delro-${token()}`
      await create(h.admin, preset(id, { access_control: null }))
      expectError(await send(creator, { method: 'POST', url: `${M}/model/delete`, payload: { id } }), 403, 'ACCESS_PROHIBITED')
      expectError(await send(creator, { method: 'DELETE', url: `${M}/model/delete`, query: { id } }), 403, 'ACCESS_PROHIBITED')
      expect(await rowExists(id)).toBe(true)
    })
  })

  // ─── Ids with / : and unicode ──────────────────────────────────────────────────────────────────
  describe('ids that are not path-safe', () => {
    const exotic = ['meta-llama/Llama-3.1-8B', 'llama3.1:8b', '模型/ü:1', 'a b/c?d=e&f#g%20h', 'org/model+v2:Q4_K_M']
    it.each(exotic)('%s works for create, get, list, update, toggle, access, image and delete', async (base) => {
      const id = `${base}-${token()}`
      const created = await create(h.admin, preset(id, { meta: { profile_image_url: PNG_URI } }))
      expect(created.id).toBe(id)
      // As Open WebUI's client builds it: URLSearchParams in the URL.
      const qs = new URLSearchParams({ id }).toString()
      const got = await send(h.admin, { method: 'GET', url: `${M}/model?${qs}` })
      expect(got.statusCode, got.body).toBe(200)
      expect(got.json().id).toBe(id)
      expect(ids((await list(h.admin, { query: id })).items)).toEqual([id])
      const updated = await tryUpdate(h.admin, { id, name: 'Renamed' })
      expect(updated.statusCode, updated.body).toBe(200)
      expect(updated.json().id).toBe(id)
      const viaQuery = await send(h.admin, { method: 'POST', url: `${M}/model/update?${qs}`, payload: { name: 'Renamed again' } })
      expect(viaQuery.statusCode, viaQuery.body).toBe(200)
      const toggled = await send(h.admin, { method: 'POST', url: `${M}/model/toggle?${qs}` })
      expect(toggled.statusCode, toggled.body).toBe(200)
      expect(toggled.json()).toMatchObject({ id, is_active: false })
      const access = await tryAccess(h.admin, { id, access_grants: [] })
      expect(access.statusCode, access.body).toBe(200)
      const picture = await send(h.admin, { method: 'GET', url: `${M}/model/profile/image?${qs}` })
      expect(picture.statusCode).toBe(200)
      expect(picture.headers['content-type']).toBe('image/png')
      const deleted = await send(h.admin, { method: 'POST', url: `${M}/model/delete`, payload: { id } })
      expect(deleted.statusCode, deleted.body).toBe(200)
      expect(await rowExists(id)).toBe(false)
      // And the legacy delete with the id in the query string.
      await create(h.admin, preset(id))
      const legacy = await send(h.admin, { method: 'DELETE', url: `${M}/model/delete?${qs}` })
      expect(legacy.statusCode, legacy.body).toBe(200)
      expect(await rowExists(id)).toBe(false)
    })
  })
})
