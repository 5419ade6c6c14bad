/**
 * Open WebUI compatibility of the model registry: the requests its web client sends
 * (src/lib/apis/models/index.ts, openwebui-reference.md §8), byte for byte where it matters (headers,
 * bodies, query strings with only truthy parameters), and the fields it reads back. Also what the
 * client relies on without saying: one row per id under concurrent creates, and no model or grant
 * left pointing at a deleted account or group.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGroup as createGroupAs } from './support/accounts.js'
import { DIALECTS } from './support/databases.js'
import { grantKeys, token } from './support/factories.js'
import type { AccessModelOut, ModelOut } from './support/model-types.js'
import { createHarness, type Harness, type TestAccount } from './support/harness.js'

/** WEBUI_API_BASE_URL */
const API = '/api/v1'

/** What ModelEditor.svelte submits for a new preset (v0.9.2), as createNewModel picks it. */
function editorModel(id: string, accessGrants: unknown[] | undefined, extra: Record<string, unknown> = {}) {
  return {
    id,
    base_model_id: 'llama3.1:latest',
    name: `Editor ${id}`,
    meta: {
      profile_image_url: '/static/favicon.png',
      description: 'A helpful SQL tutor',
      suggestion_prompts: null,
      tags: [{ name: 'sql' }, { name: 'education' }],
      capabilities: {
        file_context: true,
        vision: true,
        file_upload: true,
        web_search: true,
        image_generation: true,
        code_interpreter: true,
        citations: true,
        status_updates: true,
        builtin_tools: true,
      },
      knowledge: [],
      toolIds: [],
      filterIds: [],
      actionIds: [],
      defaultFilterIds: [],
      skillIds: [],
      defaultFeatureIds: [],
      builtinTools: {},
      tts: { voice: '' },
    },
    params: { system: 'You are a patient SQL tutor.', temperature: 0.7, stop: ['</s>'], function_calling: 'native', stream_response: true },
    access_grants: accessGrants,
    is_active: true,
    ...extra,
  }
}

describe.each(DIALECTS)('Open WebUI client compatibility on %s', (dialect) => {
  let h: Harness
  /** A workspace user: workspace.models and sharing.models, member of `engineering`. */
  let editor: TestAccount
  /** A plain member of `engineering`. */
  let reader: TestAccount
  let engineering: string

  /**
   * fetch() as the client calls it: Accept and Content-Type JSON on every request, Bearer token, body
   * as JSON text (undefined members dropped, as JSON.stringify does), nothing else.
   */
  function client(who: TestAccount, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) {
    return h.request({
      method,
      url: `${API}${path}`,
      headers: { Accept: 'application/json', 'Content-Type': 'application/json', authorization: `Bearer ${who.token}` },
      ...(body !== undefined && { payload: JSON.stringify(body) }),
    })
  }
  /** getModelItems(token, query, viewOption, selectedTag, orderBy, direction, page): only truthy params appended. */
  function getModelItems(who: TestAccount, query: string, viewOption: string, tag: string, orderBy: string, direction: string, page: number | null) {
    const searchParams = new URLSearchParams()
    if (query) searchParams.append('query', query)
    if (viewOption) searchParams.append('view_option', viewOption)
    if (tag) searchParams.append('tag', tag)
    if (orderBy) searchParams.append('order_by', orderBy)
    if (direction) searchParams.append('direction', direction)
    if (page) searchParams.append('page', page.toString())
    return h.request({
      method: 'GET',
      url: `${API}/models/list?${searchParams.toString()}`,
      headers: { Accept: 'application/json', 'Content-Type': 'application/json', authorization: `Bearer ${who.token}` },
    })
  }
  const byId = (id: string) => new URLSearchParams({ id }).toString()
  const createGroup = (name: string, permissions: Record<string, unknown>, userIds: string[]) => createGroupAs(h, name, permissions, userIds)
  async function created(who: TestAccount, body: unknown): Promise<ModelOut> {
    const res = await client(who, 'POST', '/models/create', body)
    expect(res.statusCode, res.body).toBe(200)
    return res.json<ModelOut>()
  }
  /** Every grant names an existing model and an existing principal; every model an existing owner. */
  async function expectNoDanglingReferences() {
    const db = h.services.database.db
    const [grants, models, users, groups] = await Promise.all([
      db.selectFrom('model_grants').select(['model_id', 'principal_type', 'principal_id']).execute(),
      db.selectFrom('models').select(['id', 'user_id']).execute(),
      db.selectFrom('users').select('id').execute(),
      db.selectFrom('groups').select('id').execute(),
    ])
    const modelIds = new Set(models.map((m) => m.id))
    const userIds = new Set(users.map((u) => u.id))
    const groupIds = new Set(groups.map((g) => g.id))
    for (const grant of grants) {
      expect(modelIds.has(grant.model_id), `grant on missing model ${grant.model_id}`).toBe(true)
      if (grant.principal_type === 'group') expect(groupIds.has(grant.principal_id), `grant to missing group ${grant.principal_id}`).toBe(true)
      else expect(grant.principal_id === '*' || userIds.has(grant.principal_id), `grant to missing user ${grant.principal_id}`).toBe(true)
    }
    for (const model of models) expect(userIds.has(model.user_id), `model ${model.id} owned by missing user ${model.user_id}`).toBe(true)
  }

  beforeAll(async () => {
    h = await createHarness(dialect)
    editor = await h.createUser('user', 'Eddie Editor')
    reader = await h.createUser('user', 'Rita Reader')
    await createGroup('Workspace', { workspace: { models: true }, sharing: { models: true } }, [editor.id])
    engineering = await createGroup('Engineering', {}, [editor.id, reader.id])
    // Users build presets on bases they may use (issue #10, hole 2): the admin shares this one.
    await h.shareBase('llama3.1:latest')
  })
  afterAll(async () => h?.close())

  describe('createNewModel and updateModelById bodies', () => {
    it('createNewModel (0.9 body with access_grants) is accepted as it is, and answers what the client reads', async () => {
      const id = `sql-tutor-${token()}`
      const grants = [
        { principal_type: 'group', principal_id: engineering, permission: 'read' },
        { principal_type: 'group', principal_id: engineering, permission: 'write' },
      ]
      const body = editorModel(id, grants)
      const model = await created(editor, body)
      expect(model).toMatchObject({ id, base_model_id: 'llama3.1:latest', name: body.name, user_id: editor.id, is_active: true })
      // meta and params come back as sent (unknown keys kept, tags as {name}).
      expect(model.meta).toEqual(body.meta)
      expect(model.params).toEqual(body.params)
      expect(grantKeys(model)).toEqual([`group:${engineering}:read`, `group:${engineering}:write`])
      for (const grant of model.access_grants) {
        expect(grant).toMatchObject({ resource_type: 'model', resource_id: id })
        expect(typeof grant.id).toBe('string')
        expect(Number.isInteger(grant.created_at)).toBe(true)
      }
      expect(Number.isInteger(model.created_at) && Number.isInteger(model.updated_at)).toBe(true)
      // The group member reads it and may edit it (write_access drives the UI's edit switch).
      const seen = await client(reader, 'GET', `/models/model?${byId(id)}`)
      expect(seen.statusCode).toBe(200)
      expect(seen.json<AccessModelOut>().write_access).toBe(true)
    })

    it('createNewModel without access_grants (undefined, dropped by JSON.stringify) makes a private model', async () => {
      const id = `private-${token()}`
      const model = await created(editor, editorModel(id, undefined))
      expect(model.access_grants).toEqual([])
      expect(model.access_control).toEqual({})
      expect((await client(reader, 'GET', `/models/model?${byId(id)}`)).statusCode).toBe(404)
    })

    it('createNewModel by an admin with a public grant and an Open WebUI-style grant object (with id)', async () => {
      const id = `public-${token()}`
      const model = await created(h.admin, editorModel(id, [{ id: 'c0ffee', principal_type: 'user', principal_id: '*', permission: 'read' }]))
      expect(grantKeys(model)).toEqual(['user:*:read'])
      expect(model.access_control).toBeNull()
    })

    it('createNewModel errors carry `detail` (the client throws err.detail)', async () => {
      const id = `dup-${token()}`
      await created(editor, editorModel(id, []))
      const again = await client(editor, 'POST', '/models/create', editorModel(id, []))
      expect(again.statusCode).toBe(409)
      expect(again.json()).toMatchObject({ code: 'MODEL_ID_TAKEN', detail: expect.any(String) })
      const bad = await client(editor, 'POST', '/models/create', editorModel(`bad-${token()}`, [], { params: { temperature: 9 } }))
      expect(bad.statusCode).toBe(400)
      expect(bad.json().detail).toContain('temperature')
    })

    it('updateModelById: the edit page sends back the model as it got it (full AccessGrantModel objects) with its changes', async () => {
      const id = `edit-${token()}`
      await created(editor, editorModel(id, [{ principal_type: 'group', principal_id: engineering, permission: 'read' }]))
      const got = (await client(editor, 'GET', `/models/model?${byId(id)}`)).json<AccessModelOut>()
      const { base_model_id, name, meta, params, access_grants, is_active } = got
      const payload = {
        id,
        base_model_id,
        name: `${name} v2`,
        meta: { ...meta, description: 'Edited' },
        params: { ...params, temperature: 0.2 },
        access_grants,
        is_active,
      }
      const res = await client(editor, 'POST', '/models/model/update', payload)
      expect(res.statusCode, res.body).toBe(200)
      const updated = res.json<ModelOut>()
      expect(updated).toMatchObject({ id, name: `${name} v2`, meta: { description: 'Edited' }, params: { temperature: 0.2 } })
      expect(grantKeys(updated)).toEqual(grantKeys(got))
      // The access modal's edits travel in the same body.
      const shared = await client(editor, 'POST', '/models/model/update', {
        ...payload,
        access_grants: [...access_grants, { principal_type: 'user', principal_id: reader.id, permission: 'write' }],
      })
      expect(shared.statusCode, shared.body).toBe(200)
      expect(grantKeys(shared.json())).toEqual([`group:${engineering}:read`, `user:${reader.id}:write`].sort())
    })

    it('0.6-era bodies with access_control instead of access_grants (create and update)', async () => {
      const id = `legacy-${token()}`
      const { access_grants: _dropped, ...legacyCreate } = editorModel(id, undefined)
      const model = await created(h.admin, {
        ...legacyCreate,
        access_control: { read: { group_ids: [engineering], user_ids: [] }, write: { group_ids: [], user_ids: [] } },
      })
      expect(grantKeys(model)).toEqual([`group:${engineering}:read`])
      const pub = await client(h.admin, 'POST', '/models/model/update', { ...legacyCreate, access_control: null })
      expect(pub.statusCode, pub.body).toBe(200)
      expect(grantKeys(pub.json())).toEqual(['user:*:read'])
      const priv = await client(h.admin, 'POST', '/models/model/update', { ...legacyCreate, access_control: {} })
      expect(priv.json().access_grants).toEqual([])
      // A 0.6 client creating a public model by sending access_control: null.
      const publicId = `legacy-pub-${token()}`
      const { access_grants: _none, ...legacyPublic } = editorModel(publicId, undefined)
      expect(grantKeys(await created(h.admin, { ...legacyPublic, access_control: null }))).toEqual(['user:*:read'])
      expect((await client(reader, 'GET', `/models/model?${byId(publicId)}`)).statusCode).toBe(200)
    })
  })

  describe('getModelItems query strings (only truthy parameters are appended)', () => {
    const w = token()
    const ids: Record<'mine' | 'shared' | 'public' | 'hidden', string> = {
      mine: `li-${w}-mine`,
      shared: `li-${w}-shared`,
      public: `li-${w}-public`,
      hidden: `li-${w}-hidden`,
    }
    beforeAll(async () => {
      await created(editor, editorModel(ids.mine, [], { name: `Alpha ${w}`, meta: { tags: [{ name: `t${w}` }] } }))
      await created(h.admin, editorModel(ids.shared, [{ principal_type: 'group', principal_id: engineering, permission: 'read' }], { name: `Bravo ${w}` }))
      await created(
        h.admin,
        editorModel(ids.public, [{ principal_type: 'user', principal_id: '*', permission: 'read' }], {
          name: `Charlie ${w}`,
          meta: { tags: [{ name: `t${w}` }] },
        }),
      )
      await created(h.admin, editorModel(ids.hidden, [], { name: `Delta ${w}` }))
    })

    const cases: [string, [string, string, string, string, string, number | null], (keyof typeof ids)[] | null][] = [
      ['nothing at all (/models/list?)', ['', '', '', '', '', null], null],
      ['page only', ['', '', '', '', '', 1], null],
      ['query', ['%W%', '', '', '', '', 1], ['mine', 'shared', 'public']],
      ['view_option=created', ['%W%', 'created', '', '', '', 1], ['mine']],
      ['view_option=shared', ['%W%', 'shared', '', '', '', 1], ['shared', 'public']],
      ['tag', ['', '', 't%W%', '', '', 1], ['mine', 'public']],
      ['order_by without direction', ['%W%', '', '', 'name', '', 1], ['mine', 'shared', 'public']],
      ['direction without order_by', ['%W%', '', '', '', 'asc', 1], ['mine', 'shared', 'public']],
      ['order_by and direction', ['%W%', '', '', 'name', 'asc', 1], ['mine', 'shared', 'public']],
      ['everything', ['%W%', 'created', 't%W%', 'updated_at', 'desc', 1], ['mine']],
      ['page 2', ['%W%', '', '', '', '', 2], []],
    ]
    it.each(cases)('%s', async (_label, args, expected) => {
      const [query, viewOption, tag, orderBy, direction, page] = args.map((x) => (typeof x === 'string' ? x.replace('%W%', w) : x)) as typeof args
      const res = await getModelItems(editor, query, viewOption, tag, orderBy, direction, page)
      expect(res.statusCode, res.body).toBe(200)
      const body = res.json<{ items: AccessModelOut[]; total: number }>()
      expect(Array.isArray(body.items)).toBe(true)
      expect(Number.isInteger(body.total)).toBe(true)
      for (const item of body.items) {
        expect(typeof item.write_access).toBe('boolean')
        expect(item.user === null || typeof item.user.name === 'string').toBe(true)
      }
      const mine = body.items.map((m) => m.id).filter((id) => id.startsWith(`li-${w}-`))
      if (expected) {
        expect([...mine].sort()).toEqual(expected.map((k) => ids[k]).sort())
        if (page === 1 && !viewOption && !tag) expect(body.total).toBe(expected.length)
      } else {
        expect(mine).not.toContain(ids.hidden)
        expect(body.items.length).toBeLessThanOrEqual(30)
      }
      if (orderBy === 'name' && direction === 'asc') expect(mine).toEqual([ids.mine, ids.shared, ids.public])
    })

    it('items carry the fields the workspace cards read', async () => {
      const res = await getModelItems(editor, w, '', '', '', '', 1)
      const items = res.json<{ items: AccessModelOut[] }>().items
      const own = items.find((m) => m.id === ids.mine)
      const shared = items.find((m) => m.id === ids.shared)
      expect(own).toMatchObject({ write_access: true, user: { id: editor.id, name: 'Eddie Editor', email: editor.email, role: 'user' }, is_active: true })
      expect(shared).toMatchObject({ write_access: false, user: { id: h.admin.id, name: h.admin.name, email: h.admin.email, role: 'admin' } })
      expect(own?.meta['tags']).toEqual([{ name: `t${w}` }])
    })

    it('getModelTags and getBaseModels (with and without the newer ?tag=)', async () => {
      const tags = await client(editor, 'GET', '/models/tags')
      expect(tags.statusCode).toBe(200)
      expect(tags.json()).toEqual(expect.arrayContaining([`t${w}`]))
      for (const path of ['/models/base?', `/models/base?${new URLSearchParams({ tag: 'x' }).toString()}`]) {
        const base = await client(h.admin, 'GET', path)
        expect(base.statusCode, base.body).toBe(200)
        expect(Array.isArray(base.json())).toBe(true)
      }
    })
  })

  describe('the other client functions', () => {
    it('getModelById with URLSearchParams; a missing id → 404 with detail', async () => {
      const id = `meta-llama/Llama-3.1-8B:${token()}`
      await created(h.admin, editorModel(id, []))
      const res = await client(h.admin, 'GET', `/models/model?${byId(id)}`)
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({ id, write_access: true, user: { id: h.admin.id } })
      const missing = await client(h.admin, 'GET', `/models/model?${byId(`nope-${token()}`)}`)
      expect(missing.statusCode).toBe(404)
      expect(typeof missing.json().detail).toBe('string')
    })

    it('toggleModelById: POST ?id= with Content-Type JSON and no body', async () => {
      const id = `toggle-${token()}`
      await created(editor, editorModel(id, []))
      const res = await client(editor, 'POST', `/models/model/toggle?${byId(id)}`)
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json()).toMatchObject({ id, is_active: false })
    })

    it('updateModelAccessGrants {id, name, access_grants}: existing model, and a provider model without a row (admin)', async () => {
      const id = `access-${token()}`
      await created(editor, editorModel(id, []))
      const res = await client(editor, 'POST', '/models/model/access/update', {
        id,
        name: `Editor ${id}`,
        access_grants: [{ principal_type: 'group', principal_id: engineering, permission: 'read' }],
      })
      expect(res.statusCode, res.body).toBe(200)
      expect(grantKeys(res.json())).toEqual([`group:${engineering}:read`])
      const provider = `gpt-4o-mini-${token()}`
      const override = await client(h.admin, 'POST', '/models/model/access/update', {
        id: provider,
        name: 'GPT-4o mini',
        access_grants: [{ principal_type: 'user', principal_id: '*', permission: 'read' }],
      })
      expect(override.statusCode, override.body).toBe(200)
      expect(override.json()).toMatchObject({ id: provider, name: 'GPT-4o mini', base_model_id: null, user_id: h.admin.id })
      // A non-admin on a model without a row: an error with detail, and no row.
      const denied = await client(editor, 'POST', '/models/model/access/update', { id: `ghost-${token()}`, name: 'x', access_grants: [] })
      expect([403, 404]).toContain(denied.statusCode)
      expect(typeof denied.json().detail).toBe('string')
    })

    it('deleteModelById: POST {id} → true; a second time → an error with detail', async () => {
      const id = `delete-${token()}`
      await created(editor, editorModel(id, []))
      const res = await client(editor, 'POST', '/models/model/delete', { id })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json()).toBe(true)
      const again = await client(editor, 'POST', '/models/model/delete', { id })
      expect(again.statusCode).toBe(404)
      expect(typeof again.json().detail).toBe('string')
    })

    it('importModels {models} (Admin › Settings › Models import)', async () => {
      const id = `imported-${token()}`
      const res = await client(h.admin, 'POST', '/models/import', { models: [editorModel(id, [])] })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json().created).toEqual([id])
    })

    it('errors are {detail, code} with the catalogue statuses', async () => {
      const cases: [Promise<{ statusCode: number; json: () => { detail?: unknown; code?: unknown } }>, number, string][] = [
        [h.request({ method: 'GET', url: `${API}/models/list` }), 401, 'UNAUTHORIZED'],
        [client(reader, 'GET', '/models/base'), 403, 'ACCESS_PROHIBITED'],
        [client(reader, 'POST', '/models/create', editorModel(`r-${token()}`, [])), 403, 'ACCESS_PROHIBITED'],
        [client(h.admin, 'GET', `/models/model?${byId(`nope-${token()}`)}`), 404, 'MODEL_NOT_FOUND'],
        [client(h.admin, 'POST', '/models/create', editorModel('x'.repeat(300), [])), 400, 'MODEL_ID_TOO_LONG'],
      ]
      for (const [pending, status, code] of cases) {
        const res = await pending
        expect(res.statusCode).toBe(status)
        const body = res.json()
        expect(body.code).toBe(code)
        expect(typeof body.detail).toBe('string')
      }
    })
  })

  describe('concurrency', () => {
    it('8 concurrent creates of one id: exactly one 200, seven 409 MODEL_ID_TAKEN, one row', async () => {
      const id = `race-${token()}`
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => client(h.admin, 'POST', '/models/create', editorModel(id, [], { name: `Racer ${i}` }))),
      )
      const statuses = results.map((r) => r.statusCode).sort()
      expect(statuses).toEqual([200, 409, 409, 409, 409, 409, 409, 409])
      for (const res of results.filter((r) => r.statusCode === 409)) expect(res.json().code).toBe('MODEL_ID_TAKEN')
      const rows = await h.services.database.db.selectFrom('models').select(['id', 'name']).where('id', '=', id).execute()
      expect(rows).toHaveLength(1)
      const winner = results.find((r) => r.statusCode === 200)?.json<ModelOut>()
      expect(rows[0]?.name).toBe(winner?.name)
      expect((await client(h.admin, 'GET', `/models/model?${byId(id)}`)).json().name).toBe(winner?.name)
    })

    it('concurrent creates of different ids all succeed', async () => {
      const w = token()
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => client(editor, 'POST', '/models/create', editorModel(`par-${w}-${i}`, []))))
      expect(results.map((r) => r.statusCode)).toEqual(Array(8).fill(200))
      const listed = await getModelItems(editor, `par-${w}`, '', '', '', '', 1)
      expect(listed.json().total).toBe(8)
    })
  })

  describe('deleting accounts and groups', () => {
    it('deleting a user hands their models to the deleting admin and removes grants naming them', async () => {
      const victim = await h.createUser('user', 'Vic Victim')
      await h.request({ method: 'POST', url: `${API}/groups/id/${engineering}/users/add`, headers: h.admin.auth, payload: { user_ids: [victim.id] } })
      await createGroup(`Victims ${token()}`, { workspace: { models: true }, sharing: { models: true } }, [victim.id])
      const w = token()
      const owned = await created(victim, editorModel(`vic-${w}-own`, [{ principal_type: 'group', principal_id: engineering, permission: 'read' }]))
      const ownedPrivate = await created(victim, editorModel(`vic-${w}-private`, []))
      const namedOnAdmin = await created(
        h.admin,
        editorModel(`vic-${w}-named`, [
          { principal_type: 'user', principal_id: victim.id, permission: 'read' },
          { principal_type: 'user', principal_id: victim.id, permission: 'write' },
          { principal_type: 'user', principal_id: reader.id, permission: 'read' },
        ]),
      )
      const namedOnEditor = await created(editor, editorModel(`vic-${w}-editor`, [{ principal_type: 'user', principal_id: victim.id, permission: 'write' }]))
      const totalBefore = (await getModelItems(h.admin, `vic-${w}`, '', '', '', '', 1)).json().total as number
      expect(totalBefore).toBe(4)

      const res = await h.request({ method: 'DELETE', url: `${API}/users/${victim.id}`, headers: h.admin.auth })
      expect(res.statusCode, res.body).toBe(200)

      for (const model of [owned, ownedPrivate]) {
        const now = (await client(h.admin, 'GET', `/models/model?${byId(model.id)}`)).json<AccessModelOut>()
        expect(now.user_id).toBe(h.admin.id)
        expect(now.user).toMatchObject({ id: h.admin.id, role: 'admin' })
        expect(now.meta).toEqual(model.meta)
      }
      // Still listed (the list was not served from a stale cache), for the admin and for the group.
      const after = (await getModelItems(h.admin, `vic-${w}`, '', '', '', '', 1)).json<{ items: AccessModelOut[]; total: number }>()
      expect(after.total).toBe(4)
      expect(after.items.filter((m) => m.id === owned.id || m.id === ownedPrivate.id).every((m) => m.user?.id === h.admin.id)).toBe(true)
      const forReader = (await getModelItems(reader, `vic-${w}`, '', '', '', '', 1)).json<{ items: AccessModelOut[] }>()
      expect(forReader.items.map((m) => m.id).sort()).toEqual([owned.id, namedOnAdmin.id].sort())
      // Grants naming the account are gone; others stay.
      expect(grantKeys((await client(h.admin, 'GET', `/models/model?${byId(namedOnAdmin.id)}`)).json())).toEqual([`user:${reader.id}:read`])
      expect((await client(editor, 'GET', `/models/model?${byId(namedOnEditor.id)}`)).json().access_grants).toEqual([])
      expect(grantKeys((await client(h.admin, 'GET', `/models/model?${byId(owned.id)}`)).json())).toEqual([`group:${engineering}:read`])
      const left = await h.services.database.db
        .selectFrom('model_grants')
        .select('id')
        .where('principal_type', '=', 'user')
        .where('principal_id', '=', victim.id)
        .execute()
      expect(left).toEqual([])
      await expectNoDanglingReferences()
      // The victim's old token is dead.
      expect((await client(victim, 'GET', '/models/list')).statusCode).toBe(401)
    })

    it('deleting a group removes every grant naming it; its members lose access, models stay', async () => {
      const member = await h.createUser('user', 'Gus Groupie')
      const doomed = await createGroup(`Doomed ${token()}`, {}, [member.id])
      const w = token()
      const models = [
        await created(h.admin, editorModel(`grp-${w}-a`, [{ principal_type: 'group', principal_id: doomed, permission: 'read' }])),
        await created(
          h.admin,
          editorModel(`grp-${w}-b`, [
            { principal_type: 'group', principal_id: doomed, permission: 'read' },
            { principal_type: 'group', principal_id: doomed, permission: 'write' },
            { principal_type: 'group', principal_id: engineering, permission: 'read' },
          ]),
        ),
        await created(editor, editorModel(`grp-${w}-c`, [{ principal_type: 'group', principal_id: engineering, permission: 'write' }])),
      ]
      expect((await getModelItems(member, `grp-${w}`, '', '', '', '', 1)).json().total).toBe(2)

      const res = await h.request({ method: 'DELETE', url: `${API}/groups/id/${doomed}/delete`, headers: h.admin.auth })
      expect(res.statusCode, res.body).toBe(200)

      const left = await h.services.database.db
        .selectFrom('model_grants')
        .select('id')
        .where('principal_type', '=', 'group')
        .where('principal_id', '=', doomed)
        .execute()
      expect(left).toEqual([])
      expect((await client(h.admin, 'GET', `/models/model?${byId(models[0]?.id ?? '')}`)).json().access_grants).toEqual([])
      expect(grantKeys((await client(h.admin, 'GET', `/models/model?${byId(models[1]?.id ?? '')}`)).json())).toEqual([`group:${engineering}:read`])
      expect(grantKeys((await client(editor, 'GET', `/models/model?${byId(models[2]?.id ?? '')}`)).json())).toEqual([`group:${engineering}:write`])
      const listed = (await getModelItems(member, `grp-${w}`, '', '', '', '', 1)).json<{ items: unknown[]; total: number }>()
      expect(listed).toEqual({ items: [], total: 0 })
      expect((await client(member, 'GET', `/models/model?${byId(models[0]?.id ?? '')}`)).statusCode).toBe(404)
      expect((await getModelItems(h.admin, `grp-${w}`, '', '', '', '', 1)).json().total).toBe(3)
      await expectNoDanglingReferences()
    })
  })

  // Last: it empties the registry.
  describe('deleteAllModels', () => {
    it('DELETE /models/delete/all with Content-Type JSON and no body → true; nothing left, no dangling grant', async () => {
      expect((await getModelItems(h.admin, '', '', '', '', '', 1)).json().total).toBeGreaterThan(0)
      const res = await client(h.admin, 'DELETE', '/models/delete/all')
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json()).toBe(true)
      expect((await getModelItems(h.admin, '', '', '', '', '', 1)).json()).toEqual({ items: [], total: 0 })
      expect(await h.services.database.db.selectFrom('model_grants').select('id').execute()).toEqual([])
      await expectNoDanglingReferences()
    })
  })
})
