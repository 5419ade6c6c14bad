/**
 * Issue #10, holes 8 and 12, as a hostile user tries them on both dialects:
 * - 8: `/v1/models/{id}` decodes once (`%25` is the id `%`, `a%252Fb` is `a%2Fb`, never `a/b`); ids with
 *   control, zero-width or bidirectional characters are refused (400 INVALID_MODEL_ID) wherever ids come in.
 * - 12: NUL and lone surrogates are refused (400 naming the field) in every string: list queries, tags,
 *   grant principals, base model ids, ids, free-form params and meta, path ids.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isStorableText } from '../../src/schema/common.js'
import { DIALECTS } from '../support/databases.js'
import { startFakeProvider, type FakeProvider } from '../support/fake-provider.js'
import { createHarness, type Harness, type TestAccount } from '../support/harness.js'

const SPOOFING = {
  'zero-width space': 'gpt\u200b-4o',
  'zero-width non-joiner': 'gpt\u200c-4o',
  'zero-width joiner': 'gpt\u200d-4o',
  'word joiner': 'gpt\u2060-4o',
  BOM: '\ufeffgpt-4o',
  'right-to-left override': 'gpt-\u202e4o',
  'left-to-right embedding': 'gpt-\u202a4o',
  'right-to-left isolate': 'gpt-\u2067x\u2069',
  'left-to-right mark': 'gpt-4o\u200e',
  'right-to-left mark': 'gpt\u200f-4o',
  'arabic letter mark': 'gpt\u061c-4o',
  'C1 control': 'gpt\u0085-4o',
  escape: 'gpt\u001b[31m',
  NUL: 'gpt\u0000-4o',
  'lone high surrogate': 'gpt\ud800-4o',
  'lone low surrogate': 'gpt-4o\udc00',
}

describe.each(DIALECTS)('ids and text on %s', (dialect) => {
  let h: Harness
  let provider: FakeProvider
  let user: TestAccount

  beforeAll(async () => {
    provider = await startFakeProvider({ models: ['gpt-4o', 'a/b', '%'] })
    h = await createHarness(dialect, { OPENAI_API_BASE_URLS: provider.baseUrl, OPENAI_API_KEYS: '' })
    user = await h.createUser('user')
    const preset = await h.request({
      method: 'POST',
      url: '/api/v1/models/create',
      headers: h.admin.auth,
      payload: { id: 'team/preset', name: 'Team', base_model_id: 'gpt-4o', access_control: null },
    })
    expect(preset.statusCode, preset.body).toBe(200)
  })
  afterAll(async () => {
    await h?.close()
    await provider?.close()
  })

  const get = (url: string, account: TestAccount = user) => h.request({ method: 'GET', url, headers: account.auth })

  describe('hole 8: /v1/models/{id} decodes once', () => {
    it('a%2Fb and a/b are the model a/b; a%252Fb is the id "a%2Fb", not a/b', async () => {
      expect((await get('/v1/models/a%2Fb', h.admin)).json()).toMatchObject({ id: 'a/b' })
      expect((await get('/v1/models/a/b', h.admin)).json()).toMatchObject({ id: 'a/b' })
      expect((await get('/v1/models/team%2Fpreset')).json()).toMatchObject({ id: 'team/preset' })
      const double = await get('/v1/models/team%252Fpreset')
      expect(double.statusCode).toBe(404)
      expect(double.json().detail).toContain('team%2Fpreset')
    })

    it('%25 is the id "%" (no 500); a malformed escape is 400 in the catalogue shape', async () => {
      const percent = await get('/v1/models/%25', h.admin)
      expect(percent.statusCode, percent.body).toBe(200)
      expect(percent.json()).toMatchObject({ id: '%' })
      for (const url of ['/v1/models/%', '/v1/models/%zz', '/v1/models/a%E0%A4%A']) {
        const res = await get(url)
        expect(res.statusCode, `${url} ${res.body}`).toBe(400)
        expect(res.json()).toMatchObject({ code: 'VALIDATION_ERROR' })
      }
    })

    it.each(Object.entries(SPOOFING))('a path id with a %s is 400 INVALID_MODEL_ID', async (_name, id) => {
      const encoded = [...id].map((c) => (/^[\ud800-\udfff]$/.test(c) ? '%ED%A0%80' : encodeURIComponent(c))).join('')
      const res = await get(`/v1/models/${encoded}`)
      // A lone surrogate cannot travel in a URL: its bytes decode to U+FFFD, an unknown id (404).
      expect([400, 404], res.body).toContain(res.statusCode)
      if (!/[\ud800-\udfff]/.test(id)) expect(res.json().code).toBe('INVALID_MODEL_ID')
    })
  })

  describe('hole 8: ids with control, zero-width or bidi characters are refused everywhere ids come in', () => {
    it.each(Object.entries(SPOOFING))('%s', async (_name, id) => {
      const admin = h.admin.auth
      const expectInvalidId = (res: Awaited<ReturnType<Harness['request']>>, where: string) => {
        expect(res.statusCode, `${where}: ${res.body}`).toBe(400)
        expect(res.json().code, where).toBe('INVALID_MODEL_ID')
      }
      expectInvalidId(
        await h.request({ method: 'POST', url: '/api/v1/models/create', headers: user.auth, payload: { id, name: 'x', base_model_id: 'gpt-4o' } }),
        'create id',
      )
      expectInvalidId(
        await h.request({ method: 'POST', url: '/api/v1/models/create', headers: admin, payload: { id: 'fine-id', name: 'x', base_model_id: id } }),
        'create base_model_id',
      )
      expectInvalidId(
        await h.request({ method: 'POST', url: '/api/v1/models/model/update', headers: admin, query: { id: 'team/preset' }, payload: { base_model_id: id } }),
        'update base_model_id',
      )
      expectInvalidId(
        await h.request({ method: 'POST', url: '/api/v1/models/model/access/update', headers: admin, payload: { id, access_control: null } }),
        'access id',
      )
      expectInvalidId(await h.request({ method: 'POST', url: '/api/v1/models/model/delete', headers: admin, payload: { id } }), 'delete id')
      expectInvalidId(
        await h.request({
          method: 'POST',
          url: '/v1/chat/completions',
          headers: user.auth,
          payload: { model: id, messages: [{ role: 'user', content: 'hi' }] },
        }),
        'chat model',
      )
      if (isStorableText(id)) {
        // Query strings carry every character but lone surrogates (and NUL, checked in hole 12 below).
        expectInvalidId(await h.request({ method: 'GET', url: `/api/v1/models/model?id=${encodeURIComponent(id)}`, headers: user.auth }), 'query id')
        expectInvalidId(await h.request({ method: 'POST', url: `/api/v1/models/model/toggle?id=${encodeURIComponent(id)}`, headers: admin }), 'toggle id')
      }
      const imported = await h.request({
        method: 'POST',
        url: '/api/v1/models/import',
        headers: admin,
        payload: [
          { id, name: 'x', base_model_id: 'gpt-4o' },
          { id: 'fine-import', name: 'x', base_model_id: id },
        ],
      })
      if (!isStorableText(id)) {
        // Text no database stores is refused for the whole file, naming the item.
        expect(imported.statusCode, imported.body).toBe(400)
        expect(imported.json().detail).toMatch(/body\.[01]\./)
      } else {
        expect(imported.statusCode, imported.body).toBe(200)
        expect(imported.json().created).toEqual([])
        expect(imported.json().skipped).toHaveLength(2)
      }
      const strict = await h.request({
        method: 'POST',
        url: '/api/v1/models/import?strict=true',
        headers: admin,
        payload: [{ id, name: 'x', base_model_id: 'gpt-4o' }],
      })
      expect(strict.statusCode).toBe(400)
      // Nothing was stored under any of these ids.
      const list = await h.request({ method: 'GET', url: '/api/v1/models/list', headers: admin })
      expect(list.json<{ items: { id: string }[] }>().items.map((m) => m.id)).toEqual(['team/preset'])
    })

    it('grant principal ids, user, group and connection ids refuse the same characters', async () => {
      const admin = h.admin.auth
      for (const id of ['u\u200bser', 'u\u202eser', 'u\u0000', '\ud800']) {
        const grant = await h.request({
          method: 'POST',
          url: '/api/v1/models/model/access/update',
          headers: admin,
          payload: { id: 'team/preset', access_grants: [{ principal_type: 'user', principal_id: id, permission: 'read' }] },
        })
        expect(grant.statusCode, grant.body).toBe(400)
        expect(grant.json().code).toBe('INVALID_ACCESS_CONTROL')
        const members = await h.request({ method: 'POST', url: '/api/v1/groups/create', headers: admin, payload: { name: 'g', user_ids: [id] } })
        expect(members.statusCode, members.body).toBe(400)
      }
      for (const url of [
        '/api/v1/users/u%E2%80%8Bser',
        '/api/v1/users/%00',
        '/api/v1/groups/id/%E2%80%AEx',
        '/api/v1/groups/id/a%00b',
        '/api/v1/connections/id/%00/models',
      ]) {
        const res = await get(url, h.admin)
        expect(res.statusCode, `${url} ${res.body}`).toBe(400)
        expect(res.json().code).toBe('VALIDATION_ERROR')
      }
    })
  })

  describe('hole 12: NUL and lone surrogates are refused in every string, naming the field', () => {
    const expect400 = (res: Awaited<ReturnType<Harness['request']>>, field: string) => {
      expect(res.statusCode, res.body).toBe(400)
      expect(res.json().detail).toContain(field)
    }

    it('list queries and tags', async () => {
      expect400(await get('/api/v1/models/list?query=a%00b'), 'querystring.query')
      expect400(await get('/api/v1/models/list?tag=%00'), 'querystring.tag')
      expect400(await get('/api/v1/users/?query=%00', h.admin), 'querystring.query')
      expect400(await get('/api/v1/models/list?x=%00'), 'querystring.x')
    })

    it('tags, base model ids, grant principals, names, params and meta values and keys', async () => {
      const create = (payload: Record<string, unknown>) =>
        h.request({
          method: 'POST',
          url: '/api/v1/models/create',
          headers: h.admin.auth,
          payload: { id: 'nul-test', name: 'x', base_model_id: 'gpt-4o', ...payload },
        })
      for (const bad of ['a\u0000b', 'a\ud800', '\udfff']) {
        expect400(await create({ meta: { tags: [bad] } }), 'body.meta.tags.0')
        expect400(await create({ base_model_id: bad }), 'body.base_model_id')
        expect400(await create({ access_grants: [{ principal_type: 'user', principal_id: bad, permission: 'read' }] }), 'body.access_grants.0.principal_id')
        expect400(await create({ name: `n${bad}` }), 'body.name')
        expect400(await create({ params: { system: bad } }), 'body.params.system')
        expect400(await create({ params: { custom_params: { deep: [bad] } } }), 'body.params.custom_params.deep.0')
        expect400(await create({ params: { [bad]: 1 } }), 'body.params')
        expect400(await create({ meta: { description: bad } }), 'body.meta.description')
        expect400(await create({ meta: { anything: { x: bad } } }), 'body.meta.anything.x')
        expect400(
          await h.request({ method: 'POST', url: '/api/v1/groups/create', headers: h.admin.auth, payload: { name: 'g', description: bad } }),
          'body.description',
        )
        expect400(
          await h.request({
            method: 'POST',
            url: '/api/v1/chat/completions',
            headers: user.auth,
            payload: { model: 'gpt-4o', messages: [{ role: 'user', content: bad }] },
          }),
          'body.messages.0.content',
        )
      }
      expect400(
        await h.request({
          method: 'POST',
          url: '/api/v1/models/create',
          headers: h.admin.auth,
          payload: { id: 'x\ud800', name: 'x', base_model_id: 'gpt-4o' },
        }),
        'body.id',
      )
      const missing = await get('/api/v1/models/model?id=nul-test', h.admin)
      expect(missing.statusCode).toBe(404)
    })

    it('nesting deeper than 64 levels is refused before any code recurses into it', async () => {
      const deep = '['.repeat(5000) + ']'.repeat(5000)
      const res = await h.app.inject({
        method: 'POST',
        url: '/api/v1/models/create',
        headers: { ...h.admin.auth, 'content-type': 'application/json' },
        payload: `{"id":"deep","name":"x","base_model_id":"gpt-4o","params":{"x":${deep}}}`,
      })
      expect(res.statusCode, res.body).toBe(400)
      expect(res.json().detail).toContain('nested too deeply')
      const shallow = await h.request({
        method: 'POST',
        url: '/api/v1/models/create',
        headers: h.admin.auth,
        payload: { id: 'shallow', name: 'x', base_model_id: 'gpt-4o', params: { custom_params: { a: [[[{ b: 1 }]]] } } },
      })
      expect(shallow.statusCode, shallow.body).toBe(200)
      await h.request({ method: 'POST', url: '/api/v1/models/model/delete', headers: h.admin.auth, payload: { id: 'shallow' } })
    })

    it('text people write keeps zero-width joiners, emoji and right-to-left scripts', async () => {
      const res = await h.request({
        method: 'POST',
        url: '/api/v1/models/create',
        headers: h.admin.auth,
        payload: { id: 'family', name: '👩‍👩‍👧 مرحبا', base_model_id: 'gpt-4o', meta: { description: 'שלום\u200d', tags: ['😀'] } },
      })
      expect(res.statusCode, res.body).toBe(200)
      expect((await get('/api/v1/models/model?id=family', h.admin)).json()).toMatchObject({ name: '👩‍👩‍👧 مرحبا', meta: { description: 'שלום\u200d' } })
      await h.request({ method: 'POST', url: '/api/v1/models/model/delete', headers: h.admin.auth, payload: { id: 'family' } })
    })
  })
})
