/**
 * Templates, the server follow-up of issue #13 (docs/templates.md): apply and bulk access written chunk
 * by chunk with set-based statements (checked across chunk boundaries, on rows older than history too);
 * a history restore keeps a template's locked parameters; template grants naming a deleted account or
 * group go with it; and models.template_id never names a deleted template (a delete landing between a
 * create's or an apply's read of the template and its transaction, and a storm of both at once).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { preset, token } from './support/factories.js'
import type { Harness, Reply, TestAccount } from './support/harness.js'
import { historyApi } from './support/history.js'
import { versionsApi } from './support/model-versions.js'
import { createModelsWorld, M, modelsApi } from './support/models.js'
import { expectError } from './support/requests.js'
import type { BulkReportOut } from './support/model-types.js'

const T = '/api/v1/templates'
const USERS = '/api/v1/users/'

type Report = BulkReportOut

const group = (id: string, permission: 'read' | 'write' = 'read') => ({ principal_type: 'group', principal_id: id, permission })
const user = (id: string, permission: 'read' | 'write' = 'read') => ({ principal_type: 'user', principal_id: id, permission })

describe.each(DIALECTS)('templates follow-up on %s', (dialect) => {
  let h: Harness
  let author: TestAccount
  let plain: TestAccount
  let authorsGroup: string
  const { send, create, tryCreate, getModel, createGroup, db } = modelsApi(() => h)
  const { versionsOf, historyOf, liveVersion } = versionsApi(() => h)
  const { tryRestore } = historyApi(() => h)

  const tryCreateTemplate = (who: TestAccount, body: Record<string, unknown>) => send(who, { method: 'POST', url: `${T}/create`, payload: body })
  const createTemplate = async (who: TestAccount, body: Record<string, unknown>): Promise<{ id: string }> => {
    const res = await tryCreateTemplate(who, body)
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ id: string }>()
  }
  const getTemplate = (who: TestAccount, id: string) => send(who, { method: 'GET', url: `${T}/template`, query: { id } })
  const tryDeleteTemplate = (who: TestAccount, id: string) => send(who, { method: 'POST', url: `${T}/template/delete`, payload: { id } })
  const tryApply = (who: TestAccount, body: unknown) => send(who, { method: 'POST', url: `${T}/template/apply`, payload: body })
  const apply = async (who: TestAccount, body: Record<string, unknown>): Promise<Report> => {
    const res = await tryApply(who, body)
    expect(res.statusCode, res.body).toBe(200)
    return res.json<Report>()
  }
  const bulk = async (who: TestAccount, body: Record<string, unknown>): Promise<Report> => {
    const res = await send(who, { method: 'POST', url: `${M}/access/bulk`, payload: body })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<Report>()
  }
  /** Models whose template_id names no template (must always be none). */
  const dangling = async (): Promise<string[]> => {
    const rows = await db()
      .selectFrom('models')
      .select('id')
      .where('template_id', 'is not', null)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('templates').select('templates.id').whereRef('templates.id', '=', 'models.template_id'))))
      .execute()
    return rows.map((row) => row.id)
  }
  /** The grants rows of many models, as `model:type:id:permission`, sorted. */
  const grantRows = async (ids: readonly string[]): Promise<string[]> => {
    const rows = []
    for (let i = 0; i < ids.length; i += 500) {
      rows.push(
        ...(await db()
          .selectFrom('model_grants')
          .select(['model_id', 'principal_type', 'principal_id', 'permission'])
          .where('model_id', 'in', ids.slice(i, i + 500))
          .execute()),
      )
    }
    return rows.map((r) => `${r.model_id}:${r.principal_type}:${r.principal_id}:${r.permission}`).sort()
  }

  beforeAll(async () => {
    ;({ h, plain } = await createModelsWorld(dialect))
    author = await h.createUser('user', 'Follower')
    authorsGroup = await createGroup('Followers', { workspace: { templates: true, models: true }, sharing: { models: true } }, [author.id])
  })
  afterAll(async () => h?.close())

  describe('apply and bulk access across chunks (set-based writes, 500 a chunk)', () => {
    it('1,100 models: apply (merge) then a bulk change write every model once, versions gapless and equal to the live state; rows older than history get their baseline first', async () => {
      const n = 1_100
      const prefix = `chunk-${token()}`
      const ids = Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`)
      const items = ids.map((id, i) => ({
        ...preset(id, { params: { temperature: 1, seed: i }, meta: { tags: ['bulk'], description: `n${i}` } }),
        access_grants: i % 2 === 0 ? [user(plain.id)] : [],
      }))
      const imported = await send(h.admin, { method: 'POST', url: `${M}/import`, payload: items })
      expect(imported.statusCode, imported.body).toBe(200)
      expect(imported.json().created).toHaveLength(n)
      // Rows older than history (version 0, no versions): one in each chunk.
      const legacy = [ids[3], ids[600], ids[1_050]] as string[]
      await db().deleteFrom('model_versions').where('model_id', 'in', legacy).execute()
      await db().updateTable('models').set({ version: 0 }).where('id', 'in', legacy).execute()

      const tpl = await createTemplate(h.admin, {
        id: `tpl-${prefix}`,
        name: 'Chunks',
        params: { temperature: 0.3, system: 'Chunked.' },
        meta: { tags: ['templated'] },
        access_grants: [group(authorsGroup)],
      })
      const report = await apply(h.admin, { id: tpl.id, model_ids: [...ids].reverse(), mode: 'merge' })
      expect(report.refused).toEqual([])
      expect(report.unchanged).toEqual([])
      expect(report.changed.map((c) => c.id)).toEqual(ids)
      expect(report.changed.find((c) => c.id === ids[0])?.changes.map((c) => c.path)).toEqual([
        'params.temperature',
        'params.system',
        'meta.tags',
        `access_grants.group:${authorsGroup}:read`,
        'template_id',
      ])
      for (const id of legacy) expect(report.changed.find((c) => c.id === id)?.version).toBe(2)
      expect(report.changed.find((c) => c.id === ids[1])?.version).toBe(2)
      // Grants: the model's own kept, the template's added, nothing else.
      expect(await grantRows(ids)).toEqual(
        ids.flatMap((id, i) => [`${id}:group:${authorsGroup}:read`, ...(i % 2 === 0 ? [`${id}:user:${plain.id}:read`] : [])]).sort(),
      )
      for (const id of [ids[0], ids[499], ids[500], ids[1_099], ...legacy] as string[]) {
        const versions = await versionsOf(id)
        expect(
          versions.map((v) => `${v.version}:${v.action}:${v.source}`),
          id,
        ).toEqual(legacy.includes(id) ? ['1:baseline:system', '2:update:template'] : ['1:create:import', '2:update:template'])
        expect(await liveVersion(id)).toBe(2)
        // The version holds exactly the live state (written without reading it back).
        const live = await getModel(h.admin, id)
        const last = versions.at(-1)?.snapshot
        expect(last).toMatchObject({ id, params: live.params, meta: live.meta, base_model_id: live.base_model_id, is_active: live.is_active })
        expect(last?.access_grants.map((g) => `${g.principal_type}:${g.principal_id}`).sort()).toEqual(
          live.access_grants.map((g: { principal_type: string; principal_id: string }) => `${g.principal_type}:${g.principal_id}`).sort(),
        )
        expect(live.template_id).toBe(tpl.id)
        expect(live.params).toMatchObject({ temperature: 0.3, system: 'Chunked.' })
        expect(live.meta.tags).toEqual([{ name: 'bulk' }, { name: 'templated' }])
      }
      // The legacy rows' baseline holds them as they were.
      expect((await versionsOf(legacy[0] as string))[0]?.snapshot.params).toEqual({ temperature: 1, seed: 3 })
      // Tags follow meta: the listing finds all of them by the new tag.
      expect((await send(h.admin, { method: 'GET', url: `${M}/list`, query: { tag: 'templated', query: prefix } })).json().total).toBe(n)

      // Bulk: remove the template's group, add the plain user's write; the odd ones had no grant.
      const changed = await bulk(h.admin, { model_ids: ids, add: [user(plain.id, 'write')], remove: [group(authorsGroup)] })
      expect(changed.changed.map((c) => c.id)).toEqual(ids)
      expect(changed.changed.every((c) => c.version === 3)).toBe(true)
      expect(await grantRows(ids)).toEqual(
        ids.flatMap((id, i) => [`${id}:user:${plain.id}:write`, ...(i % 2 === 0 ? [`${id}:user:${plain.id}:read`] : [])]).sort(),
      )
      for (const id of [ids[0], ids[777], ...legacy] as string[]) {
        const versions = await versionsOf(id)
        expect(versions.at(-1)).toMatchObject({ version: 3, action: 'access_update', source: 'bulk' })
        expect(
          versions
            .at(-1)
            ?.snapshot.access_grants.map((g) => `${g.principal_type}:${g.principal_id}:${g.permission}`)
            .sort(),
        ).toEqual((await grantRows([id])).map((key) => key.slice(id.length + 1)))
        expect(await liveVersion(id)).toBe(3)
      }
      // A second run changes nothing and writes nothing.
      const again = await bulk(h.admin, { model_ids: ids, add: [user(plain.id, 'write')], remove: [group(authorsGroup)] })
      expect(again.changed).toEqual([])
      expect(again.unchanged).toHaveLength(n)
      expect(await historyOf(ids[5] as string)).toHaveLength(3)
    })
  })

  describe('history restore of a model linked to a template', () => {
    it('a non-admin restoring a version with another value of a locked key → 409 PARAM_LOCKED, nothing written; other restores pass; admins may', async () => {
      const tpl = await createTemplate(author, {
        id: `tpl-lock-${token()}`,
        name: 'Locked',
        params: { system: 'Policy.', temperature: 0.3 },
        locked_params: ['system'],
      })
      // Version 1: before the template (system: Free.); version 2: the apply (system: Policy.); version 3: a free key.
      const model = await create(author, preset(`m-lock-${token()}`, { params: { system: 'Free.', temperature: 1 } }))
      await apply(author, { id: tpl.id, model_ids: [model.id], mode: 'merge' })
      const edited = await send(author, {
        method: 'POST',
        url: `${M}/model/update`,
        payload: { id: model.id, params: { system: 'Policy.', temperature: 0.9 } },
      })
      expect(edited.statusCode, edited.body).toBe(200)
      expect(await historyOf(model.id)).toEqual(['1:create:route', '2:update:template', '3:update:route'])

      const refused = await tryRestore(author, { id: model.id, version: 1 })
      expectError(refused, 409, 'PARAM_LOCKED')
      expect(refused.json().detail).toContain('params.system')
      expect(await historyOf(model.id)).toHaveLength(3)
      expect((await getModel(author, model.id)).params).toEqual({ system: 'Policy.', temperature: 0.9 })

      // A version with the same locked value restores (only temperature changes).
      const ok = await tryRestore(author, { id: model.id, version: 2 })
      expect(ok.statusCode, ok.body).toBe(200)
      expect(ok.json().params).toEqual({ system: 'Policy.', temperature: 0.3 })

      // Admins may change locked keys, by restore too.
      const admin = await tryRestore(h.admin, { id: model.id, version: 1 })
      expect(admin.statusCode, admin.body).toBe(200)
      expect(admin.json().params).toEqual({ system: 'Free.', temperature: 1 })
    })
  })

  describe('deleting an account or a group', () => {
    it('a deleted group leaves no template grant (own sharing and access section); apply works again; the template is otherwise unchanged', async () => {
      const doomed = await createGroup(`Doomed ${token()}`, {}, [])
      const kept = await createGroup(`Kept ${token()}`, {}, [])
      const tpl = await createTemplate(author, {
        id: `tpl-group-${token()}`,
        name: 'Groups',
        params: { temperature: 0.4 },
        access_grants: [group(doomed), group(kept)],
        template_access_grants: [group(doomed), group(kept, 'write')],
      })
      const model = await create(author, preset(`m-group-${token()}`))
      const res = await h.request({ method: 'DELETE', url: `/api/v1/groups/id/${doomed}/delete`, headers: h.admin.auth })
      expect(res.statusCode, res.body).toBe(200)
      const after = (await getTemplate(author, tpl.id)).json()
      expect(after.access_grants).toEqual([group(kept)])
      expect(after.template_access_grants).toEqual([group(kept, 'write')])
      expect(after.params).toEqual({ temperature: 0.4 })
      const rows = await db().selectFrom('template_grants').select('principal_id').where('principal_id', '=', doomed).execute()
      expect(rows).toEqual([])
      // Before the hook an apply was refused as a whole (a grant to a deleted group); now it applies.
      const report = await apply(author, { id: tpl.id, model_ids: [model.id] })
      expect(report.changed.map((c) => c.id)).toEqual([model.id])
      expect((await getModel(author, model.id)).access_grants).toEqual([expect.objectContaining(group(kept))])
    })

    it('a deleted account leaves no template grant, and its templates pass to the deleting admin (as its models do)', async () => {
      const doomed = await h.createUser('user', 'Doomed')
      await createGroup(`Doomed makers ${token()}`, { workspace: { templates: true }, sharing: { models: true } }, [doomed.id])
      const shared = await createTemplate(author, {
        id: `tpl-user-${token()}`,
        name: 'Users',
        access_grants: [user(doomed.id), user(plain.id)],
        template_access_grants: [user(doomed.id, 'write'), user(plain.id)],
      })
      const owned = await createTemplate(doomed, { id: `tpl-owned-${token()}`, name: 'Owned', params: { seed: 1 } })
      const res = await h.request({ method: 'DELETE', url: `${USERS}${doomed.id}`, headers: h.admin.auth })
      expect(res.statusCode, res.body).toBe(200)
      const after = (await getTemplate(author, shared.id)).json()
      expect(after.access_grants).toEqual([user(plain.id)])
      expect(after.template_access_grants).toEqual([user(plain.id)])
      expect(await db().selectFrom('template_grants').select('id').where('principal_id', '=', doomed.id).execute()).toEqual([])
      expect((await db().selectFrom('templates').select('user_id').where('id', '=', owned.id).executeTakeFirstOrThrow()).user_id).toBe(h.admin.id)
    })
  })

  describe('models.template_id never names a deleted template', () => {
    it('a delete landing between a create’s read of the template and its transaction: the create is 404 and no model is left', async () => {
      const { store } = h.services.templates
      const tpl = await createTemplate(author, { id: `tpl-gap-${token()}`, name: 'Gap', params: { temperature: 0.5 } })
      const fillForm = store.fillForm.bind(store)
      store.fillForm = async (actor, form) => {
        const filled = await fillForm(actor, form)
        expect((await tryDeleteTemplate(author, tpl.id)).statusCode).toBe(200)
        return filled
      }
      try {
        const id = `m-gap-${token()}`
        expectError(await tryCreate(author, { ...preset(id), template_id: tpl.id }), 404, 'NOT_FOUND')
        expect((await db().selectFrom('models').select('id').where('id', '=', id).execute()).length).toBe(0)
      } finally {
        store.fillForm = fillForm
      }
      expect(await dangling()).toEqual([])
    })

    it('a delete landing between an apply’s read of the template and its transaction: the real run is 404 and nothing is linked or written', async () => {
      const { store } = h.services.templates
      const tpl = await createTemplate(author, { id: `tpl-gap-apply-${token()}`, name: 'Gap apply', params: { temperature: 0.5 } })
      const model = await create(author, preset(`m-gap-apply-${token()}`))
      const readable = store.readable.bind(store)
      store.readable = async (who, id, executor) => {
        const found = await readable(who, id, executor)
        expect((await tryDeleteTemplate(author, tpl.id)).statusCode).toBe(200)
        return found
      }
      try {
        expectError(await tryApply(author, { id: tpl.id, model_ids: [model.id] }), 404, 'NOT_FOUND')
      } finally {
        store.readable = readable
      }
      expect((await getModel(author, model.id)).template_id).toBeNull()
      expect(await historyOf(model.id)).toEqual(['1:create:route'])
      expect(await dangling()).toEqual([])
    })

    it('creates and applies racing deletes of their template: every answer 200 or 404, no model left naming a deleted template', async () => {
      const rounds = 8
      const statuses = new Set<number>()
      for (let round = 0; round < rounds; round++) {
        const tpl = await createTemplate(author, { id: `tpl-storm-${round}-${token()}`, name: 'Storm', params: { temperature: 0.6 } })
        const target = await create(author, preset(`m-storm-target-${round}-${token()}`))
        const results: Reply[] = await Promise.all([
          tryCreate(author, { ...preset(`m-storm-${round}-a-${token()}`), template_id: tpl.id }),
          tryApply(author, { id: tpl.id, model_ids: [target.id] }),
          tryDeleteTemplate(author, tpl.id),
          tryCreate(author, { ...preset(`m-storm-${round}-b-${token()}`), template_id: tpl.id }),
        ])
        for (const res of results) {
          statuses.add(res.statusCode)
          expect([200, 404], res.body).toContain(res.statusCode)
        }
        expect(results[2]?.statusCode).toBe(200)
        expect(await dangling()).toEqual([])
      }
      expect(statuses.has(200)).toBe(true)
    })
  })
})
