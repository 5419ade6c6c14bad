/**
 * Route tests of POST /api/v1/models/create (design.md §2.2): the answer, and the validation of ids,
 * params, meta and base models, with the feature permission it needs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { preset, token } from './support/factories.js'
import type { Harness, TestAccount } from './support/harness.js'
import { createModelsWorld, modelsApi } from './support/models.js'
import { expectError } from './support/requests.js'

describe.each(DIALECTS)('models routes: create on %s', (dialect) => {
  let h: Harness
  /** A non-admin with workspace.models and sharing.models (not sharing.public_models), distinctive name. */
  let creator: TestAccount
  /** A non-admin with no feature permission. */
  let plain: TestAccount
  const { tryCreate, create, getModel, db, rowExists } = modelsApi(() => h)

  beforeAll(async () => {
    ;({ h, creator, plain } = await createModelsWorld(dialect))
  })
  afterAll(async () => h?.close())

  // ─── POST /create ──────────────────────────────────────────────────────────────────────────────
  describe('POST /create', () => {
    it('answers the ModelModel: owner = caller, both access forms, epoch-second timestamps, is_active default true', async () => {
      const before = Math.floor(Date.now() / 1000)
      const id = `new-${token()}`
      const model = await create(creator, {
        id,
        base_model_id: 'llama3.1:8b',
        name: '  SQL tutor  ',
        meta: { description: 'Teaches SQL', tags: ['sql', { name: 'Teaching' }], custom_key: { nested: [1, 2] } },
        params: { system: 'You teach SQL.', temperature: 0.2 },
      })
      expect(model).toMatchObject({
        id,
        user_id: creator.id,
        base_model_id: 'llama3.1:8b',
        name: 'SQL tutor',
        params: { system: 'You teach SQL.', temperature: 0.2 },
        meta: { description: 'Teaches SQL', tags: [{ name: 'sql' }, { name: 'Teaching' }], custom_key: { nested: [1, 2] } },
        access_control: {},
        access_grants: [],
        is_active: true,
      })
      expect(model.created_at).toBeGreaterThanOrEqual(before)
      expect(model.created_at).toBeLessThan(before + 60)
      expect(model.updated_at).toBe(model.created_at)
      const read = await getModel(creator, id)
      expect({ ...read, user: undefined, write_access: undefined }).toEqual({ ...model, user: undefined, write_access: undefined })
      expect(await rowExists(id)).toBe(true)
    })

    it('normalises tags given as strings to {name}', async () => {
      const model = await create(h.admin, preset(`tags-${token()}`, { meta: { tags: ['alpha', { name: 'beta' }, 'gamma'] } }))
      expect(model.meta['tags']).toEqual([{ name: 'alpha' }, { name: 'beta' }, { name: 'gamma' }])
    })

    it('stores is_active false when asked', async () => {
      expect((await create(h.admin, preset(`off-${token()}`, { is_active: false }))).is_active).toBe(false)
    })

    const badParams: [string, unknown, string[]][] = [
      ['temperature', 3, ['0', '2']],
      ['temperature', 'hot', ['0', '2']],
      ['top_p', -0.1, ['0', '1']],
      ['top_k', -1, ['0']],
      ['min_p', 1.5, ['0', '1']],
      ['max_tokens', -3, ['-2']],
      ['max_tokens', 10.5, ['integer']],
      ['frequency_penalty', 2.5, ['-2', '2']],
      ['presence_penalty', -3, ['-2', '2']],
      ['repeat_penalty', -2.5, ['-2']],
      ['seed', 1.2, ['integer']],
      ['num_ctx', -2, ['-1']],
      ['stop', 5, ['string']],
      ['stop', ['a', 5], ['string']],
      ['custom_params', 'x', ['object']],
      ['custom_params', [1], ['object']],
      ['system', 5, ['string']],
      ['reasoning_effort', 1, ['string']],
    ]
    it.each(badParams)('params.%s = %j → 400 INVALID_PARAMS naming the key and the range; nothing stored', async (key, value, range) => {
      const id = `bad-param-${token()}`
      const res = await tryCreate(h.admin, preset(id, { params: { temperature: 0.5, [key]: value } }))
      expectError(res, 400, 'INVALID_PARAMS')
      const detail = res.json().detail as string
      expect(detail).toContain(key)
      const afterKey = detail.slice(detail.indexOf(key))
      for (const fragment of range) expect(afterKey).toContain(fragment)
      expect(await rowExists(id)).toBe(false)
    })

    it('params that are not an object → 400 INVALID_PARAMS', async () => {
      for (const params of [[1, 2], 'temperature=1', 5]) {
        expectError(await tryCreate(h.admin, preset(`pp-${token()}`, { params })), 400, 'INVALID_PARAMS')
      }
    })

    it('accepts every known key at the edges of its range, null for any key, and keeps unknown keys verbatim', async () => {
      const params = {
        system: '',
        temperature: 2,
        top_p: 0,
        top_k: 0,
        min_p: 1,
        max_tokens: 1,
        frequency_penalty: -2,
        presence_penalty: 2,
        repeat_penalty: 0,
        seed: -42,
        stop: ['</s>', '\n\n'],
        num_ctx: 1,
        reasoning_effort: 'high',
        custom_params: { response_format: '{"type":"json_object"}', nested: { a: [1, { b: null }] } },
        mirostat: 2,
        keep_alive: '5m',
        logit_bias: { '50256': -100 },
        function_calling: 'native',
        weird: [null, true, 1.5, 'x', { y: [] }],
      }
      const model = await create(h.admin, preset(`edges-${token()}`, { params }))
      expect(model.params).toEqual(params)
      const nulls = Object.fromEntries(['temperature', 'top_p', 'top_k', 'max_tokens', 'seed', 'stop', 'system', 'custom_params'].map((k) => [k, null]))
      const withNulls = await create(h.admin, preset(`nulls-${token()}`, { params: nulls }))
      expect(withNulls.params).toEqual(nulls)
      expect((await create(h.admin, preset(`stop-${token()}`, { params: { stop: 'END' } }))).params).toEqual({ stop: 'END' })
    })

    it('validates the id: 257 characters or empty → MODEL_ID_TOO_LONG, a control character → INVALID_MODEL_ID', async () => {
      expectError(await tryCreate(h.admin, preset('x'.repeat(257))), 400, 'MODEL_ID_TOO_LONG')
      expectError(await tryCreate(h.admin, preset('')), 400, 'MODEL_ID_TOO_LONG')
      for (const id of ['bad\u0000id', 'tab\there', 'new\nline', 'del\u007f']) {
        expectError(await tryCreate(h.admin, preset(id)), 400, 'INVALID_MODEL_ID')
      }
      expect((await db().selectFrom('models').select('id').where('id', 'like', 'xxxxxxxxxx%').execute()).length).toBe(0)
    })

    it('accepts ids of exactly 256 characters, counted as characters', async () => {
      for (const unit of ['a', '模', '😀']) {
        const prefix = `${token()}-`
        const id = prefix + unit.repeat(256 - prefix.length)
        expect([...id].length).toBe(256)
        const model = await create(h.admin, preset(id))
        expect(model.id).toBe(id)
        expect((await getModel(h.admin, id)).id).toBe(id)
      }
    })

    it('a taken id → 409 MODEL_ID_TAKEN (one the caller cannot read: MODEL_ID_UNAVAILABLE); the first model is untouched', async () => {
      const id = `taken-${token()}`
      const first = await create(h.admin, preset(id, { name: 'First', access_control: null }))
      const res = await tryCreate(creator, preset(id, { name: 'Second' }))
      expectError(res, 409, 'MODEL_ID_TAKEN')
      const stored = await getModel(h.admin, id)
      expect(stored).toMatchObject({ name: 'First', user_id: h.admin.id, updated_at: first.updated_at })
      // A model the caller cannot read is not said to exist (issue #10, hole 13).
      const hidden = `taken-${token()}`
      await create(h.admin, preset(hidden))
      expectError(await tryCreate(creator, preset(hidden)), 409, 'MODEL_ID_UNAVAILABLE')
    })

    it('base_model_id equal to the id → 400 (admin too)', async () => {
      const id = `self-${token()}`
      expectError(await tryCreate(h.admin, { ...preset(id), base_model_id: id }), 400, 'VALIDATION_ERROR')
      expectError(await tryCreate(creator, { ...preset(id), base_model_id: id }), 400, 'VALIDATION_ERROR')
      expect(await rowExists(id)).toBe(false)
    })

    it('a non-admin may not create a base-model override (base_model_id null or absent) → 403', async () => {
      const id = `ovr-${token()}`
      const res = await tryCreate(creator, { id, base_model_id: null, name: 'Override', meta: {}, params: {} })
      expectError(res, 403, 'ACCESS_PROHIBITED')
      expect(res.json().detail).toMatch(/base_model_id|override/i)
      expectError(await tryCreate(creator, { id, name: 'Override', meta: {}, params: {} }), 403, 'ACCESS_PROHIBITED')
      expect(await rowExists(id)).toBe(false)
    })

    it('without workspace.models → 403 naming the permission; with it (through a group) → 200', async () => {
      const id = `perm-${token()}`
      const res = await tryCreate(plain, preset(id))
      expectError(res, 403, 'ACCESS_PROHIBITED')
      expect(res.json().detail).toContain('workspace.models')
      expect(await rowExists(id)).toBe(false)
      expect((await create(creator, preset(id))).user_id).toBe(creator.id)
    })

    it('rejects bodies without a name or with a bad meta (400)', async () => {
      for (const body of [
        { id: `nm-${token()}`, base_model_id: 'b', meta: {}, params: {} },
        preset(`nm-${token()}`, { name: '   ' }),
        preset(`nm-${token()}`, { meta: 'nope' }),
        preset(`nm-${token()}`, { meta: { tags: [{ notname: 1 }] } }),
        preset(`nm-${token()}`, { is_active: 'yes' }),
      ]) {
        const res = await tryCreate(h.admin, body)
        expect(res.statusCode, res.body).toBe(400)
        expect(typeof res.json().detail).toBe('string')
        expect(await rowExists(body.id)).toBe(false)
      }
    })
  })
})
