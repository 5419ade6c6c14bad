/**
 * Applying a template (issue #13 part 1, docs/templates.md): merge and replace, dry runs, the report,
 * versions (source template, template_id) and audit, refusals (never touched), filters and their cap,
 * a merge that would make invalid params, locked parameters, a race with single updates, and the
 * "Done when" scenario of the issue (40 models tagged support).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { grantKeys, preset, token } from './support/factories.js'
import type { Harness, Reply, TestAccount } from './support/harness.js'
import { versionsApi } from './support/model-versions.js'
import { createModelsWorld, M, modelsApi } from './support/models.js'
import { expectError } from './support/requests.js'
import type { BulkReportOut } from './support/model-types.js'

const T = '/api/v1/templates'

type Report = BulkReportOut

const group = (id: string, permission: 'read' | 'write' = 'read') => ({ principal_type: 'group', principal_id: id, permission })
const user = (id: string, permission: 'read' | 'write' = 'read') => ({ principal_type: 'user', principal_id: id, permission })

describe.each(DIALECTS)('templates: apply on %s', (dialect) => {
  let h: Harness
  let author: TestAccount
  let plain: TestAccount
  let creatorsGroup: string
  let authorsGroup: string
  const { send, create, getModel, tryUpdate, createGroup } = modelsApi(() => h)
  const { versionsOf, historyOf, auditOf, countVersions, expectGapless } = versionsApi(() => h)

  const createTemplate = async (who: TestAccount, body: Record<string, unknown>): Promise<{ id: string }> => {
    const res = await send(who, { method: 'POST', url: `${T}/create`, payload: body })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ id: string }>()
  }
  const tryApply = (who: TestAccount, body: unknown) => send(who, { method: 'POST', url: `${T}/template/apply`, payload: body })
  const apply = async (who: TestAccount, body: Record<string, unknown>): Promise<Report> => {
    const res = await tryApply(who, body)
    expect(res.statusCode, res.body).toBe(200)
    return res.json<Report>()
  }

  beforeAll(async () => {
    ;({ h, plain, creatorsGroup } = await createModelsWorld(dialect))
    author = await h.createUser('user', 'Applier')
    authorsGroup = await createGroup('Appliers', { workspace: { templates: true, models: true }, sharing: { models: true } }, [author.id])
  })
  afterAll(async () => h?.close())

  describe('merge and replace', () => {
    it('merge deep-merges params and meta (template wins at leaves, arrays united) and unites grants; replace replaces each held section', async () => {
      const tpl = await createTemplate(author, {
        id: `tpl-mr-${token()}`,
        name: 'MR',
        base_model_id: 'other-base',
        params: { temperature: 0.3, custom_params: { b: 2 }, stop: ['END'] },
        meta: { tags: ['support'], capabilities: { vision: true } },
        access_grants: [group(authorsGroup)],
      })
      const body = {
        params: { temperature: 1, top_p: 0.5, custom_params: { a: 1 }, stop: ['STOP'] },
        meta: { tags: ['mine'], capabilities: { vision: false, code: true }, description: 'kept' },
        access_grants: [user(plain.id)],
      }
      const merged = await create(author, preset(`m-merge-${token()}`, body))
      const replaced = await create(author, preset(`m-repl-${token()}`, body))

      const mergeReport = await apply(author, { id: tpl.id, model_ids: [merged.id], mode: 'merge' })
      expect(mergeReport.changed.map((c) => c.id)).toEqual([merged.id])
      const afterMerge = await getModel(author, merged.id)
      expect(afterMerge.base_model_id).toBe('other-base')
      expect(afterMerge.params).toEqual({ temperature: 0.3, top_p: 0.5, custom_params: { a: 1, b: 2 }, stop: ['STOP', 'END'] })
      expect(afterMerge.meta).toEqual({ tags: [{ name: 'mine' }, { name: 'support' }], capabilities: { vision: true, code: true }, description: 'kept' })
      expect(grantKeys(afterMerge)).toEqual([`group:${authorsGroup}:read`, `user:${plain.id}:read`].sort())
      expect(afterMerge.template_id).toBe(tpl.id)

      await apply(author, { id: tpl.id, model_ids: [replaced.id], mode: 'replace' })
      const afterReplace = await getModel(author, replaced.id)
      expect(afterReplace.base_model_id).toBe('other-base')
      expect(afterReplace.params).toEqual({ temperature: 0.3, custom_params: { b: 2 }, stop: ['END'] })
      expect(afterReplace.meta).toEqual({ tags: [{ name: 'support' }], capabilities: { vision: true } })
      expect(grantKeys(afterReplace)).toEqual([`group:${authorsGroup}:read`])

      // The changes of the merge, exactly (history diff paths), template_id last.
      const entry = mergeReport.changed[0]
      expect(entry?.changes).toEqual([
        { path: 'base_model_id', op: 'changed', old: 'base-llm', new: 'other-base' },
        { path: 'params.temperature', op: 'changed', old: 1, new: 0.3 },
        { path: 'params.stop', op: 'changed', old: ['STOP'], new: ['STOP', 'END'] },
        { path: 'params.custom_params.b', op: 'added', old: null, new: 2 },
        { path: 'meta.capabilities.vision', op: 'changed', old: false, new: true },
        { path: 'meta.tags', op: 'changed', old: [{ name: 'mine' }], new: [{ name: 'mine' }, { name: 'support' }] },
        { path: `access_grants.group:${authorsGroup}:read`, op: 'added', old: null, new: group(authorsGroup) },
        { path: 'template_id', op: 'changed', old: null, new: tpl.id },
      ])
      // Applying again changes nothing.
      expect(await apply(author, { id: tpl.id, model_ids: [merged.id, replaced.id], mode: 'merge' })).toEqual({
        dry_run: false,
        changed: [],
        unchanged: [merged.id, replaced.id].sort(),
        refused: [],
      })
    })
  })

  describe('dry run and real run', () => {
    it('a dry run changes nothing; the real run writes one version per changed model (source template, template_id) and audit entries', async () => {
      const tpl = await createTemplate(author, { id: `tpl-dr-${token()}`, name: 'DR', params: { temperature: 0.4 } })
      const a = await create(author, preset(`m-dr-a-${token()}`, { params: { temperature: 1 } }))
      const b = await create(author, preset(`m-dr-b-${token()}`, { params: { temperature: 0.4 } }))
      const versions = await countVersions()
      const dry = await apply(author, { id: tpl.id, model_ids: [a.id, b.id], dry_run: true })
      expect(dry.dry_run).toBe(true)
      expect(dry.changed.map((c) => [c.id, c.version])).toEqual(
        [
          [a.id, null],
          [b.id, null],
        ].sort(),
      )
      expect(await countVersions()).toBe(versions)
      expect((await getModel(author, a.id)).params).toEqual({ temperature: 1 })
      expect((await getModel(author, a.id)).template_id).toBeNull()

      const real = await apply(author, { id: tpl.id, model_ids: [a.id, b.id] })
      expect(real.changed.map((c) => [c.id, c.version])).toEqual(
        [
          [a.id, 2],
          [b.id, 2],
        ].sort(),
      )
      expect(await countVersions()).toBe(versions + 2)
      for (const id of [a.id, b.id]) {
        expect(await historyOf(id)).toEqual(['1:create:route', '2:update:template'])
        const rows = await h.services.database.db
          .selectFrom('model_versions')
          .select(['version', 'template_id'])
          .where('model_id', '=', id)
          .orderBy('version')
          .execute()
        expect(rows.map((r) => [Number(r.version), r.template_id])).toEqual([
          [1, null],
          [2, tpl.id],
        ])
        expect((await auditOf(id)).map((e) => e.action)).toEqual(['model.create', 'model.update'])
        // The history route shows the template on the version it wrote.
        const history = await send(author, { method: 'GET', url: `${M}/model/history`, query: { id } })
        const items = history.json<{ items: { version: number; source: string; template_id: string | null }[] }>().items
        expect(items.map((i) => [i.version, i.source, i.template_id])).toEqual([
          [2, 'template', tpl.id],
          [1, 'route', null],
        ])
      }
      expect((await getModel(author, b.id)).template_id).toBe(tpl.id)
      const summary = await h.services.database.db
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', 'template.apply')
        .where('target_id', '=', tpl.id)
        .execute()
      expect(summary).toHaveLength(1)
      expect(JSON.parse(summary[0]?.after ?? 'null')).toMatchObject({ mode: 'merge', changed: { [a.id]: 2, [b.id]: 2 }, unchanged: 0, refused: 0 })
    })

    it('a dry run followed by a real run after a model changed: the real run reports what it found and did', async () => {
      const tpl = await createTemplate(author, { id: `tpl-stale-${token()}`, name: 'Stale', params: { temperature: 0.5 } })
      const a = await create(author, preset(`m-stale-${token()}`, { params: { temperature: 1 } }))
      const dry = await apply(author, { id: tpl.id, model_ids: [a.id], dry_run: true })
      expect(dry.changed[0]?.changes[0]).toEqual({ path: 'params.temperature', op: 'changed', old: 1, new: 0.5 })
      expect((await tryUpdate(author, { id: a.id, params: { temperature: 1.5 } })).statusCode).toBe(200)
      const real = await apply(author, { id: tpl.id, model_ids: [a.id] })
      expect(real.changed[0]?.changes[0]).toEqual({ path: 'params.temperature', op: 'changed', old: 1.5, new: 0.5 })
      expect(real.changed[0]?.version).toBe(3)
    })
  })

  describe('refusals', () => {
    it('unknown and unreadable (MODEL_NOT_FOUND, same text), read-only (ACCESS_PROHIBITED), sharing, base: reported and untouched', async () => {
      const tpl = await createTemplate(author, { id: `tpl-ref-${token()}`, name: 'Ref', params: { temperature: 0.2 } })
      const mine = await create(author, preset(`m-ref-mine-${token()}`))
      const readOnly = await create(h.admin, preset(`m-ref-ro-${token()}`, { access_grants: [user(author.id)] }))
      const hidden = await create(h.admin, preset(`m-ref-hid-${token()}`))
      const unknown = `m-ref-none-${token()}`
      const before = [await versionsOf(readOnly.id), await versionsOf(hidden.id)]
      const report = await apply(author, { id: tpl.id, model_ids: [mine.id, readOnly.id, hidden.id, unknown] })
      expect(report.changed.map((c) => c.id)).toEqual([mine.id])
      const byId = new Map(report.refused.map((r) => [r.id, r]))
      expect(byId.get(readOnly.id)?.code).toBe('ACCESS_PROHIBITED')
      expect(byId.get(hidden.id)?.code).toBe('MODEL_NOT_FOUND')
      expect(byId.get(unknown)?.code).toBe('MODEL_NOT_FOUND')
      expect(byId.get(hidden.id)?.reason.replace(hidden.id, 'ID')).toBe(byId.get(unknown)?.reason.replace(unknown, 'ID'))
      expect([await versionsOf(readOnly.id), await versionsOf(hidden.id)]).toEqual(before)

      // Access part the applier may not give: a writer without sharing.models applying the admin's shared template.
      const writer = await h.createUser('user')
      const target = await create(h.admin, preset(`m-ref-w-${token()}`, { access_grants: [user(writer.id, 'write')] }))
      const sharing = await createTemplate(h.admin, {
        id: `tpl-ref-sh-${token()}`,
        name: 'Shares',
        access_grants: [group(creatorsGroup)],
        template_access_grants: [user(writer.id)],
      })
      const shared = await apply(writer, { id: sharing.id, model_ids: [target.id] })
      expect(shared.refused).toEqual([expect.objectContaining({ id: target.id, code: 'ACCESS_PROHIBITED' })])
      expect(grantKeys(await getModel(h.admin, target.id))).toEqual([`user:${writer.id}:write`])

      // A base the applier may not use: the admin's template names a base only the admin reads.
      const privateBase = await create(h.admin, preset(`m-ref-pb-${token()}`))
      const baseTpl = await createTemplate(h.admin, {
        id: `tpl-ref-b-${token()}`,
        name: 'Base',
        base_model_id: privateBase.id,
        template_access_grants: [user(writer.id)],
      })
      const based = await apply(writer, { id: baseTpl.id, model_ids: [target.id] })
      expect(based.refused).toEqual([expect.objectContaining({ id: target.id, code: 'BASE_MODEL_UNAVAILABLE' })])
      expect((await getModel(h.admin, target.id)).base_model_id).toBe('base-llm')
    })

    it('a merge that would make invalid meta (over 100 tags) is refused with VALIDATION_ERROR and the reason', async () => {
      const tags = Array.from({ length: 99 }, (_, i) => `t${i}`)
      const model = await create(author, preset(`m-inv-${token()}`, { meta: { tags } }))
      const tpl = await createTemplate(author, { id: `tpl-inv-${token()}`, name: 'Inv', meta: { tags: ['x1', 'x2'] } })
      const report = await apply(author, { id: tpl.id, model_ids: [model.id] })
      expect(report.refused).toHaveLength(1)
      expect(report.refused[0]).toMatchObject({ id: model.id, code: 'VALIDATION_ERROR' })
      expect(report.refused[0]?.reason).toContain('meta.tags')
      expect((await getModel(author, model.id)).meta['tags']).toHaveLength(99)
    })
  })

  describe('filters and bad input', () => {
    it('a filter selects the writable presets; one matching nothing is an empty report; exactly one of model_ids and filter', async () => {
      const tag = `flt-${token()}`
      const tpl = await createTemplate(author, { id: `tpl-flt-${token()}`, name: 'Flt', params: { temperature: 0.1 } })
      const mine = await create(author, preset(`m-flt-${token()}`, { meta: { tags: [tag] } }))
      await create(h.admin, preset(`m-flt-adm-${token()}`, { meta: { tags: [tag] }, access_grants: [user(author.id)] }))
      const report = await apply(author, { id: tpl.id, filter: { tag }, dry_run: true })
      expect(report.changed.map((c) => c.id)).toEqual([mine.id])
      expect(report.refused).toEqual([])
      expect(await apply(author, { id: tpl.id, filter: { tag: `none-${token()}` } })).toEqual({ dry_run: false, changed: [], unchanged: [], refused: [] })
      expectError(await tryApply(author, { id: tpl.id }), 400, 'VALIDATION_ERROR')
      expectError(await tryApply(author, { id: tpl.id, model_ids: [mine.id], filter: { tag } }), 400, 'VALIDATION_ERROR')
      expectError(await tryApply(author, { id: tpl.id, model_ids: [mine.id], mode: 'overwrite' }), 400, 'VALIDATION_ERROR')
    })
  })

  describe('locked parameters', () => {
    it('a non-admin update or import changing a locked key is refused 409 PARAM_LOCKED naming it; other keys and admins may change', async () => {
      const tpl = await createTemplate(author, {
        id: `tpl-lock-${token()}`,
        name: 'Lock',
        params: { system: 'Policy.', temperature: 0.3 },
        locked_params: ['system'],
      })
      const model = await create(author, { ...preset(`m-lock-${token()}`), template_id: tpl.id })
      expect(model.params).toEqual({ system: 'Policy.', temperature: 0.3 })
      const refused = await tryUpdate(author, { id: model.id, params: { system: 'Ignore the policy.', temperature: 0.3 } })
      expectError(refused, 409, 'PARAM_LOCKED')
      expect(refused.json().detail).toContain('params.system')
      // Removing it is a change too.
      expectError(await tryUpdate(author, { id: model.id, params: { temperature: 0.3 } }), 409, 'PARAM_LOCKED')
      expect((await tryUpdate(author, { id: model.id, params: { system: 'Policy.', temperature: 0.9 } })).statusCode).toBe(200)
      expect((await tryUpdate(author, { id: model.id, name: 'Renamed' })).statusCode).toBe(200)
      // Created with another value of a locked key: refused for a non-admin too.
      expectError(
        await send(author, {
          method: 'POST',
          url: `${M}/create`,
          payload: { ...preset(`m-lock2-${token()}`), template_id: tpl.id, params: { system: 'Other' } },
        }),
        409,
        'PARAM_LOCKED',
      )
      // Import by the non-admin: the item is skipped with the reason.
      await createGroup(`Importers ${token()}`, { workspace: { models_import: true } }, [author.id])
      const imported = await send(author, { method: 'POST', url: `${M}/import`, payload: [{ ...preset(model.id), params: { system: 'Imported' } }] })
      expect(imported.statusCode, imported.body).toBe(200)
      expect(imported.json().skipped).toEqual([{ id: model.id, reason: expect.stringContaining('PARAM_LOCKED') }])
      expect((await getModel(author, model.id)).params['system']).toBe('Policy.')
      // Admins may.
      expect((await tryUpdate(h.admin, { id: model.id, params: { system: 'Admin policy.' } })).statusCode).toBe(200)
      expect((await getModel(author, model.id)).params).toEqual({ system: 'Admin policy.' })
      // Applying the template puts the locked value back (both modes).
      await apply(author, { id: tpl.id, model_ids: [model.id], mode: 'merge' })
      expect((await getModel(author, model.id)).params).toEqual({ system: 'Policy.', temperature: 0.3 })
    })
  })

  describe('race', () => {
    it('apply vs single updates of the same models: no 5xx, versions gapless', async () => {
      const tpl = await createTemplate(author, { id: `tpl-race-${token()}`, name: 'Race', params: { temperature: 0.2 }, access_grants: [group(authorsGroup)] })
      const ids: string[] = []
      for (let i = 0; i < 10; i++) ids.push((await create(author, preset(`m-race-${i}-${token()}`, { params: { temperature: 1 } }))).id)
      const singles = ids.slice(0, 5).map((id) => tryUpdate(author, { id, params: { temperature: 1.5, top_k: 3 } }))
      const results: Reply[] = await Promise.all([tryApply(author, { id: tpl.id, model_ids: ids }), ...singles])
      for (const res of results) expect(res.statusCode, res.body).toBe(200)
      for (const id of ids) {
        const versions = await expectGapless(id)
        const live = await getModel(author, id)
        expect(versions.at(-1)?.snapshot.params).toEqual(live.params)
      }
    })
  })

  describe('done when', () => {
    it('"Support bot" (system prompt, temperature 0.3, tags, read for group Support) applied in dry run to the 40 models tagged support, then for real', async () => {
      const support = await createGroup(`Support ${token()}`, {}, [plain.id])
      const tag = `support-${token()}`
      const ids: string[] = []
      for (let i = 0; i < 40; i++) ids.push((await create(h.admin, preset(`sup-${String(i).padStart(2, '0')}-${token()}`, { meta: { tags: [tag] } }))).id)
      const other = await create(h.admin, preset(`sup-other-${token()}`))
      const tpl = await createTemplate(h.admin, {
        id: `support-bot-${token()}`,
        name: 'Support bot',
        params: { system: 'You are the support bot.', temperature: 0.3 },
        meta: { tags: [tag, 'helpdesk'] },
        access_grants: [group(support)],
      })
      const versions = await countVersions()
      const dry = await apply(h.admin, { id: tpl.id, filter: { tag }, mode: 'merge', dry_run: true })
      expect(dry.changed.map((c) => c.id)).toEqual([...ids].sort())
      for (const entry of dry.changed) {
        expect(entry.changes).toEqual([
          { path: 'params.system', op: 'added', old: null, new: 'You are the support bot.' },
          { path: 'params.temperature', op: 'added', old: null, new: 0.3 },
          { path: 'meta.tags', op: 'changed', old: [{ name: tag }], new: [{ name: tag }, { name: 'helpdesk' }] },
          { path: `access_grants.group:${support}:read`, op: 'added', old: null, new: group(support) },
          { path: 'template_id', op: 'changed', old: null, new: tpl.id },
        ])
      }
      expect(await countVersions()).toBe(versions)
      const real = await apply(h.admin, { id: tpl.id, filter: { tag }, mode: 'merge' })
      expect(real.changed.map((c) => [c.id, c.version])).toEqual([...ids].sort().map((id) => [id, 2]))
      expect(await countVersions()).toBe(versions + 40)
      for (const id of ids) {
        const model = await getModel(plain, id)
        expect(model.params).toEqual({ system: 'You are the support bot.', temperature: 0.3 })
        expect(model.template_id).toBe(tpl.id)
      }
      expectError(await send(plain, { method: 'GET', url: `${M}/model`, query: { id: other.id } }), 404, 'MODEL_NOT_FOUND')
      const drift = await send(h.admin, { method: 'GET', url: `${T}/template/models`, query: { id: tpl.id, limit: '100' } })
      const linked = drift.json<{ items: { drifted: boolean }[]; total: number }>()
      expect(linked.total).toBe(40)
      expect(linked.items.every((i) => !i.drifted)).toBe(true)
    })
  })

  describe('filter cap', () => {
    it('a filter matching more than 100000 models: 400 naming body.filter, nothing changed', async () => {
      const base = `cap-base-${token()}`
      const db = h.services.database.db
      const now = Math.floor(Date.now() / 1000)
      const rows = Array.from({ length: 100_001 }, (_, i) => ({
        id: `cap-${i}`,
        user_id: h.admin.id,
        base_model_id: base,
        name: `Cap ${i}`,
        params: '{}',
        meta: '{}',
        is_active: 1,
        created_at: now,
        updated_at: now,
      }))
      for (let i = 0; i < rows.length; i += 500) {
        await db
          .insertInto('models')
          .values(rows.slice(i, i + 500))
          .execute()
      }
      const tpl = await createTemplate(h.admin, { id: `tpl-cap-${token()}`, name: 'Cap', params: { temperature: 0.1 } })
      const versions = await countVersions()
      const res = await tryApply(h.admin, { id: tpl.id, filter: { base_model_id: base } })
      expectError(res, 400, 'VALIDATION_ERROR')
      expect(JSON.stringify(res.json().errors)).toContain('body.filter')
      expect(await countVersions()).toBe(versions)
    }, 120_000)
  })
})
