/**
 * Configuration templates (issue #13 part 1, docs/templates.md), the resource: CRUD, list/search/paging,
 * who may create, read and change a template, a template from a model, a model from a template, the rules
 * of a template's sections (base model, sharing, params), the models of a template and their drift, and
 * the models listing's template_id filter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { grantKeys, preset, token } from './support/factories.js'
import type { Harness, TestAccount } from './support/harness.js'
import { createModelsWorld, M, modelsApi } from './support/models.js'
import { expectError } from './support/requests.js'

const T = '/api/v1/templates'

interface PlainGrant {
  principal_type: string
  principal_id: string
  permission: string
}
interface TemplateOut {
  id: string
  user_id: string
  name: string
  description: string
  base_model_id: string | null
  params: Record<string, unknown> | null
  locked_params: string[] | null
  meta: Record<string, unknown> | null
  access_grants: PlainGrant[] | null
  access_control?: unknown
  template_access_grants: PlainGrant[]
  write_access: boolean
  created_at: number
  updated_at: number
}
interface TemplateModelsOut {
  items: { id: string; name: string; drifted: boolean; changes: { path: string; op: string; old: unknown; new: unknown }[] }[]
  total: number
}

const group = (id: string, permission: 'read' | 'write' = 'read') => ({ principal_type: 'group', principal_id: id, permission })
const user = (id: string, permission: 'read' | 'write' = 'read') => ({ principal_type: 'user', principal_id: id, permission })

describe.each(DIALECTS)('templates: routes on %s', (dialect) => {
  let h: Harness
  /** workspace.templates, workspace.models and sharing.models (not sharing.public_models). */
  let author: TestAccount
  /** workspace.models and sharing.models, no workspace.templates. */
  let creator: TestAccount
  /** No feature permission. */
  let plain: TestAccount
  let creatorsGroup: string
  let authorsGroup: string
  const { send, create, getModel, tryCreate, tryUpdate, list, createGroup } = modelsApi(() => h)

  const tryTemplate = (who: TestAccount | undefined, body: unknown) => send(who, { method: 'POST', url: `${T}/create`, payload: body })
  const createTemplate = async (who: TestAccount, body: Record<string, unknown>): Promise<TemplateOut> => {
    const res = await tryTemplate(who, body)
    expect(res.statusCode, res.body).toBe(200)
    return res.json<TemplateOut>()
  }
  const tryGetTemplate = (who: TestAccount, id: string) => send(who, { method: 'GET', url: `${T}/template`, query: { id } })
  const getTemplate = async (who: TestAccount, id: string): Promise<TemplateOut> => {
    const res = await tryGetTemplate(who, id)
    expect(res.statusCode, res.body).toBe(200)
    return res.json<TemplateOut>()
  }
  const tryUpdateTemplate = (who: TestAccount, body: unknown) => send(who, { method: 'POST', url: `${T}/template/update`, payload: body })
  const tryDeleteTemplate = (who: TestAccount, id: string) => send(who, { method: 'POST', url: `${T}/template/delete`, payload: { id } })
  const listTemplates = async (who: TestAccount, query: Record<string, string> = {}) => {
    const res = await send(who, { method: 'GET', url: `${T}/list`, query })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ items: TemplateOut[]; total: number }>()
  }
  const tryTemplateModels = (who: TestAccount, id: string, query: Record<string, string> = {}) =>
    send(who, { method: 'GET', url: `${T}/template/models`, query: { id, ...query } })

  beforeAll(async () => {
    ;({ h, creator, plain, creatorsGroup } = await createModelsWorld(dialect))
    author = await h.createUser('user', 'Template Author')
    authorsGroup = await createGroup('Authors', { workspace: { templates: true, models: true }, sharing: { models: true } }, [author.id])
  })
  afterAll(async () => h?.close())

  describe('CRUD', () => {
    it('creates, reads (both access forms), updates (left out kept, null removes), lists and deletes a template', async () => {
      const id = `tpl-${token()}`
      const created = await createTemplate(author, {
        id,
        name: 'Support bot',
        description: 'For the support desk',
        base_model_id: 'base-llm',
        params: { system: 'You help customers.', temperature: 0.3 },
        locked_params: ['system'],
        meta: { tags: ['support'], description: 'Answers customers' },
        access_grants: [group(authorsGroup)],
      })
      expect(created).toMatchObject({
        id,
        user_id: author.id,
        name: 'Support bot',
        description: 'For the support desk',
        base_model_id: 'base-llm',
        params: { system: 'You help customers.', temperature: 0.3 },
        locked_params: ['system'],
        meta: { tags: [{ name: 'support' }], description: 'Answers customers' },
        access_grants: [group(authorsGroup)],
        access_control: { read: { group_ids: [authorsGroup], user_ids: [] }, write: { group_ids: [], user_ids: [] } },
        template_access_grants: [],
        write_access: true,
      })
      expect(await getTemplate(author, id)).toEqual(created)

      // access_control on the way in (null = public needs sharing.public_models: the admin has it).
      const publicOne = await createTemplate(h.admin, { id: `tpl-pub-${token()}`, name: 'Public access', access_control: null })
      expect(publicOne.access_grants).toEqual([user('*')])
      expect(publicOne.access_control).toBeNull()
      const bare = await createTemplate(author, { id: `tpl-bare-${token()}`, name: 'Nothing held' })
      expect(bare).toMatchObject({ base_model_id: null, params: null, locked_params: null, meta: null, access_grants: null })
      expect(bare).not.toHaveProperty('access_control')

      const updated = await tryUpdateTemplate(author, { id, name: 'Support bot v2', params: { system: 'You help customers.', temperature: 0.5 }, meta: null })
      expect(updated.statusCode, updated.body).toBe(200)
      expect(updated.json()).toMatchObject({
        name: 'Support bot v2',
        params: { temperature: 0.5 },
        meta: null,
        base_model_id: 'base-llm',
        locked_params: ['system'],
      })
      const cleared = await tryUpdateTemplate(author, { id, access_grants: null })
      expect(cleared.json()).toMatchObject({ access_grants: null })

      expect((await listTemplates(author, { query: id })).items.map((t) => t.id)).toEqual([id])
      expect((await tryDeleteTemplate(author, id)).json()).toBe(true)
      expectError(await tryGetTemplate(author, id), 404, 'NOT_FOUND')
      expectError(await tryDeleteTemplate(author, id), 404, 'NOT_FOUND')
      // The audit log holds create, update and delete.
      const actions = (await h.services.database.db.selectFrom('audit_log').select('action').where('target_id', '=', id).orderBy('id').execute()).map(
        (r) => r.action,
      )
      expect(actions).toEqual(['template.create', 'template.update', 'template.update', 'template.delete'])
    })

    it('an id taken (readable or not) is 409 CONFLICT with one text; ids follow the model id rules', async () => {
      const id = `tpl-dup-${token()}`
      await createTemplate(h.admin, { id, name: 'Admin only' })
      const mine = await tryTemplate(author, { id, name: 'Mine' })
      expectError(mine, 409, 'CONFLICT')
      expect(mine.json().detail).not.toContain(id)
      expectError(await tryTemplate(author, { id: 'x'.repeat(257), name: 'Long' }), 400, 'MODEL_ID_TOO_LONG')
      expectError(await tryTemplate(author, { id: 'bad\u200bid', name: 'Zero width' }), 400, 'INVALID_MODEL_ID')
    })

    it('lists what the caller may read, searched and paged', async () => {
      const word = `lst${token()}`
      for (const n of ['a', 'b', 'c']) await createTemplate(author, { id: `tpl-${word}-${n}`, name: `${word} ${n}` })
      await createTemplate(h.admin, { id: `tpl-${word}-admin`, name: `${word} admin` })
      const all = await listTemplates(author, { query: word })
      expect(all.total).toBe(3)
      expect(all.items.map((t) => t.name)).toEqual([`${word} a`, `${word} b`, `${word} c`])
      const page2 = await listTemplates(author, { query: word, limit: '2', page: '2' })
      expect(page2).toMatchObject({ total: 3 })
      expect(page2.items.map((t) => t.name)).toEqual([`${word} c`])
      expect((await listTemplates(h.admin, { query: word })).total).toBe(4)
      expect((await listTemplates(plain, { query: word })).total).toBe(0)
      expectError(await send(author, { method: 'GET', url: `${T}/list`, query: { limit: '101' } }), 400, 'VALIDATION_ERROR')
    })
  })

  describe('permissions', () => {
    it('a user without workspace.templates cannot create one (403 naming it); anonymous 401', async () => {
      const res = await tryTemplate(creator, { id: `tpl-${token()}`, name: 'No' })
      expectError(res, 403, 'ACCESS_PROHIBITED')
      expect(res.json().detail).toContain('workspace.templates')
      expectError(await tryTemplate(plain, { id: `tpl-${token()}`, name: 'No' }), 403, 'ACCESS_PROHIBITED')
      expectError(await tryTemplate(undefined, { id: `tpl-${token()}`, name: 'No' }), 401, 'UNAUTHORIZED')
    })

    it('a reader reads but cannot update or delete (403); a non-reader gets 404 everywhere; a writer may update', async () => {
      const id = `tpl-perm-${token()}`
      const writer = await h.createUser('user')
      await createTemplate(author, { id, name: 'Shared', params: { temperature: 1 }, template_access_grants: [user(plain.id), user(writer.id, 'write')] })
      const read = await getTemplate(plain, id)
      expect(read.write_access).toBe(false)
      expectError(await tryUpdateTemplate(plain, { id, name: 'Hijacked' }), 403, 'ACCESS_PROHIBITED')
      expectError(await tryDeleteTemplate(plain, id), 403, 'ACCESS_PROHIBITED')
      const outsider = await h.createUser('user')
      const unknown = `tpl-none-${token()}`
      for (const target of [id, unknown]) {
        const answers = [
          await tryGetTemplate(outsider, target),
          await tryUpdateTemplate(outsider, { id: target, name: 'x' }),
          await tryDeleteTemplate(outsider, target),
          await tryTemplateModels(outsider, target),
          await send(outsider, { method: 'POST', url: `${T}/template/apply`, payload: { id: target, model_ids: ['m'], dry_run: true } }),
        ]
        for (const res of answers) expectError(res, 404, 'NOT_FOUND')
        // The same answer for a template that exists and one that does not, but for the id.
        const detail = (res: { json: () => unknown } | undefined) => (res?.json() as { detail: string } | undefined)?.detail ?? ''
        expect(detail(answers[0]).replace(target, 'ID')).toBe(detail(await tryGetTemplate(outsider, unknown)).replace(unknown, 'ID'))
      }
      // A model create naming a template the caller cannot read: 404 too.
      expectError(await tryCreate(creator, preset(`m-${token()}`, { template_id: id })), 404, 'NOT_FOUND')
      // A writer (write grant) may update it; admins may too.
      expect((await tryUpdateTemplate(writer, { id, description: 'by the writer' })).statusCode).toBe(200)
      expect((await tryUpdateTemplate(h.admin, { id, description: 'by the admin' })).statusCode).toBe(200)
      expect((await getTemplate(author, id)).description).toBe('by the admin')
      // Its own sharing needs sharing.models, as a model's: the writer has none.
      expectError(await tryUpdateTemplate(writer, { id, template_access_grants: [user(outsider.id)] }), 403, 'ACCESS_PROHIBITED')
    })
  })

  describe('from a model, and a model from a template', () => {
    it('from_model_id by a reader copies base, params and meta but no grants; by a writer the grants too; explicit fields win', async () => {
      const source = await create(creator, {
        ...preset(`src-${token()}`, { params: { temperature: 0.7, top_p: 0.9 }, meta: { tags: ['from-model'] } }),
        access_grants: [group(creatorsGroup), user(author.id)],
      })
      const byReader = await createTemplate(author, { id: `tpl-from-${token()}`, name: 'From model', from_model_id: source.id, params: { temperature: 0.2 } })
      expect(byReader).toMatchObject({ base_model_id: 'base-llm', params: { temperature: 0.2 }, meta: { tags: [{ name: 'from-model' }] }, access_grants: null })
      const byAdmin = await createTemplate(h.admin, { id: `tpl-from-${token()}`, name: 'From model (admin)', from_model_id: source.id })
      expect(byAdmin.params).toEqual({ temperature: 0.7, top_p: 0.9 })
      expect(byAdmin.access_grants?.map((g) => `${g.principal_type}:${g.principal_id}:${g.permission}`).sort()).toEqual(
        [`group:${creatorsGroup}:read`, `user:${author.id}:read`].sort(),
      )
      // A model the caller cannot read: 404 as the model routes answer.
      const hidden = await create(h.admin, preset(`hidden-${token()}`))
      expectError(await tryTemplate(author, { id: `tpl-${token()}`, name: 'x', from_model_id: hidden.id }), 404, 'MODEL_NOT_FOUND')
    })

    it('a model created with template_id: sections fill what the body leaves out, body wins, params/meta deep-merged, template_id kept', async () => {
      const tpl = await createTemplate(author, {
        id: `tpl-mk-${token()}`,
        name: 'Maker',
        base_model_id: 'other-base',
        params: { system: 'Be brief.', temperature: 0.3, custom_params: { a: 1, b: 2 } },
        meta: { tags: ['support'], capabilities: { vision: true } },
        access_grants: [group(authorsGroup)],
      })
      const model = await create(author, {
        id: `m-mk-${token()}`,
        name: 'From template',
        template_id: tpl.id,
        params: { temperature: 0.9, custom_params: { b: 3 } },
        meta: { tags: ['extra'] },
      })
      expect(model).toMatchObject({
        base_model_id: 'other-base',
        params: { system: 'Be brief.', temperature: 0.9, custom_params: { a: 1, b: 3 } },
        meta: { tags: [{ name: 'support' }, { name: 'extra' }], capabilities: { vision: true } },
        template_id: tpl.id,
      })
      expect(grantKeys(model)).toEqual([`group:${authorsGroup}:read`])
      // Explicit base and access win.
      const explicit = await create(author, { ...preset(`m-mk2-${token()}`), template_id: tpl.id, access_grants: [] })
      expect(explicit.base_model_id).toBe('base-llm')
      expect(explicit.access_grants).toEqual([])
      // Models without a template answer template_id null.
      expect((await create(author, preset(`m-none-${token()}`))).template_id).toBeNull()
      // The model's history shows the template on nothing but applies; its answer carries template_id.
      expect((await getModel(author, model.id)).template_id).toBe(tpl.id)
    })

    it('a model create keeps every create rule: a template whose grants the caller may not give is 403', async () => {
      const tpl = await createTemplate(h.admin, { id: `tpl-pubm-${token()}`, name: 'Public', access_grants: [user('*')] })
      await h.send(h.admin, { method: 'POST', url: `${T}/template/update`, payload: { id: tpl.id, template_access_grants: [user(author.id)] } })
      expectError(await tryCreate(author, { ...preset(`m-pub-${token()}`), template_id: tpl.id }), 403, 'ACCESS_PROHIBITED')
    })
  })

  describe("rules of a template's sections", () => {
    it('a base model the caller may not use → 400 BASE_MODEL_UNAVAILABLE, at create and at update', async () => {
      const unusable = await create(h.admin, preset(`priv-base-${token()}`))
      for (const base of [unusable.id, `raw-provider-${token()}`]) {
        expectError(await tryTemplate(author, { id: `tpl-${token()}`, name: 'Bad base', base_model_id: base }), 400, 'BASE_MODEL_UNAVAILABLE')
      }
      const ok = await createTemplate(author, { id: `tpl-${token()}`, name: 'Good base', base_model_id: 'base-llm' })
      expectError(await tryUpdateTemplate(author, { id: ok.id, base_model_id: unusable.id }), 400, 'BASE_MODEL_UNAVAILABLE')
      expect((await getTemplate(author, ok.id)).base_model_id).toBe('base-llm')
    })

    it('an access section the caller may not give → 403 (public without sharing.public_models; any grant without sharing.models)', async () => {
      expectError(await tryTemplate(author, { id: `tpl-${token()}`, name: 'Public', access_grants: [user('*')] }), 403, 'ACCESS_PROHIBITED')
      const lone = await h.createUser('user')
      await createGroup(`Lone ${token()}`, { workspace: { templates: true } }, [lone.id])
      expectError(await tryTemplate(lone, { id: `tpl-${token()}`, name: 'Shares', access_grants: [group(creatorsGroup)] }), 403, 'ACCESS_PROHIBITED')
      expectError(
        await tryTemplate(lone, { id: `tpl-${token()}`, name: 'Shares', access_control: { read: { group_ids: [creatorsGroup] } } }),
        403,
        'ACCESS_PROHIBITED',
      )
      expectError(await tryTemplate(author, { id: `tpl-${token()}`, name: 'Ghost', access_grants: [group(`ghost-${token()}`)] }), 400, 'INVALID_ACCESS_CONTROL')
    })

    it('invalid params → 400 with errors[] naming the field; locked keys must be keys of params', async () => {
      const res = await tryTemplate(author, { id: `tpl-${token()}`, name: 'Hot', params: { temperature: 3, top_p: -1 } })
      expectError(res, 400, 'INVALID_PARAMS')
      const errors = res.json().errors as { path: string; code: string }[]
      expect(errors.map((e) => [e.path, e.code])).toEqual([
        ['body.params.temperature', 'INVALID_PARAMS'],
        ['body.params.top_p', 'INVALID_PARAMS'],
      ])
      const locked = await tryTemplate(author, { id: `tpl-${token()}`, name: 'Locks', params: { temperature: 1 }, locked_params: ['system'] })
      expectError(locked, 400, 'VALIDATION_ERROR')
      expect(locked.json().errors[0].path).toBe('body.locked_params')
    })
  })

  describe('the models of a template', () => {
    it('lists the linked models the caller may read with their drift (grants only for writers); the models listing filters on template_id', async () => {
      const tpl = await createTemplate(author, {
        id: `tpl-drift-${token()}`,
        name: 'Drift',
        params: { temperature: 0.3 },
        meta: { tags: ['drift'] },
        access_grants: [group(authorsGroup)],
        template_access_grants: [user(plain.id)],
      })
      const a = await create(author, {
        ...preset(`m-drift-a-${token()}`),
        name: 'A drift',
        template_id: tpl.id,
        access_grants: [group(authorsGroup), user(plain.id)],
      })
      await create(author, { ...preset(`m-drift-b-${token()}`), name: 'B drift', template_id: tpl.id, access_grants: [user(plain.id)] })
      await create(author, { ...preset(`m-drift-c-${token()}`), name: 'C drift', template_id: tpl.id })
      expect((await tryUpdate(author, { id: a.id, params: { temperature: 1.2 } })).statusCode).toBe(200)

      const res = await tryTemplateModels(author, tpl.id)
      expect(res.statusCode, res.body).toBe(200)
      const seen = res.json<TemplateModelsOut>()
      expect(seen.total).toBe(3)
      expect(seen.items.map((i) => [i.name, i.drifted])).toEqual([
        ['A drift', true],
        ['B drift', true],
        ['C drift', false],
      ])
      expect(seen.items[0]?.changes).toEqual([{ path: 'params.temperature', op: 'changed', old: 1.2, new: 0.3 }])
      expect(seen.items[1]?.changes).toEqual([{ path: `access_grants.group:${authorsGroup}:read`, op: 'added', old: null, new: group(authorsGroup) }])

      // plain reads the template and models a and b (not c), and never their grants' drift.
      const asReader = (await tryTemplateModels(plain, tpl.id)).json<TemplateModelsOut>()
      expect(asReader.total).toBe(2)
      expect(asReader.items.map((i) => [i.name, i.drifted, i.changes.length])).toEqual([
        ['A drift', true, 1],
        ['B drift', false, 0],
      ])
      expect((await tryTemplateModels(author, tpl.id, { limit: '1', page: '3' })).json<TemplateModelsOut>().items.map((i) => i.name)).toEqual(['C drift'])

      const listed = await list(author, { template_id: tpl.id, order_by: 'name', direction: 'asc' })
      expect(listed.total).toBe(3)
      expect(listed.items.map((m) => m.name)).toEqual(['A drift', 'B drift', 'C drift'])
      expect(listed.items.every((m) => m.template_id === tpl.id)).toBe(true)

      // Deleting the template unlinks its models in the same transaction.
      expect((await tryDeleteTemplate(author, tpl.id)).statusCode).toBe(200)
      expect((await getModel(author, a.id)).template_id).toBeNull()
      expect((await list(author, { template_id: tpl.id })).total).toBe(0)
      // M is used so the import stays meaningful if the helpers change.
      expect(M).toBe('/api/v1/models')
    })
  })
})
