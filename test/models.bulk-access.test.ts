/**
 * Bulk access changes (issue #13 part 2): POST /api/v1/models/access/bulk under the rules of a single
 * access update for every model, dry runs, the report, versions and audit, filters, bad input, a race
 * with single updates, the attack of a user who can write one model; and GET /api/v1/groups/id/{id}/models.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { grantKeys, preset, token } from './support/factories.js'
import type { Harness, Reply, TestAccount } from './support/harness.js'
import { versionsApi } from './support/model-versions.js'
import { createModelsWorld, M, modelsApi } from './support/models.js'
import { expectError } from './support/requests.js'
import type { BulkReportOut } from './support/model-types.js'

type Report = BulkReportOut

const group = (id: string, permission: 'read' | 'write' = 'read') => ({ principal_type: 'group', principal_id: id, permission })
const user = (id: string, permission: 'read' | 'write' = 'read') => ({ principal_type: 'user', principal_id: id, permission })
const tagged = (tag: string) => ({ tags: [{ name: tag }] })
/** The value, failing the test when it is missing. */
function present<T>(value: T | undefined | null, what: string): T {
  expect(value, what).toBeDefined()
  expect(value, what).not.toBeNull()
  return value as T
}
/** The refusals of a report by model id. */
const refusedById = (report: Report) => (id: string) =>
  present(
    report.refused.find((r) => r.id === id),
    `refusal of ${id}`,
  )

describe.each(DIALECTS)('models: bulk access on %s', (dialect) => {
  let h: Harness
  /** workspace.models and sharing.models (not sharing.public_models). */
  let creator: TestAccount
  /** No feature permission. */
  let plain: TestAccount
  let creatorsGroup: string
  const { send, create, getModel, tryGet, tryAccess, createGroup } = modelsApi(() => h)
  const { versionsOf, historyOf, auditOf, countVersions, countAudit, expectGapless } = versionsApi(() => h)

  const tryBulk = (who: TestAccount | undefined, body: unknown) => send(who, { method: 'POST', url: `${M}/access/bulk`, payload: body })
  const bulk = async (who: TestAccount, body: Record<string, unknown>): Promise<Report> => {
    const res = await tryBulk(who, body)
    expect(res.statusCode, res.body).toBe(200)
    return res.json<Report>()
  }
  const grantsOf = async (id: string) => grantKeys(await getModel(h.admin, id))
  const groupModels = (who: TestAccount, id: string, query: Record<string, string> = {}) =>
    send(who, { method: 'GET', url: `/api/v1/groups/id/${encodeURIComponent(id)}/models`, query })
  /** `n` models created by `who` (ids prefixed `prefix`), each with `extra`. */
  const many = async (who: TestAccount, prefix: string, n: number, extra: Record<string, unknown> = {}) => {
    const ids: string[] = []
    for (let i = 0; i < n; i++) ids.push((await create(who, preset(`${prefix}-${String(i).padStart(3, '0')}`, extra))).id)
    return ids
  }

  beforeAll(async () => {
    ;({ h, creator, plain, creatorsGroup } = await createModelsWorld(dialect))
  })
  afterAll(async () => h?.close())

  describe('done when', () => {
    it("removes group Interns' read from every model tagged internal in one bulk change: one version and audit entry each, one summary", async () => {
      const interns = await createGroup(`Interns ${token()}`, {}, [plain.id])
      const tag = `internal-${token()}`
      const internal = await many(h.admin, `int-${token()}`, 12, { meta: tagged(tag), access_grants: [group(interns), group(creatorsGroup)] })
      const other = await many(h.admin, `ext-${token()}`, 3, { access_grants: [group(interns)] })
      const versionsBefore = await countVersions()

      const report = await bulk(h.admin, { filter: { tag }, remove: [group(interns)] })
      expect(report.dry_run).toBe(false)
      expect(report.changed.map((c) => c.id)).toEqual([...internal].sort())
      expect(report.unchanged).toEqual([])
      expect(report.refused).toEqual([])
      for (const entry of report.changed) {
        expect(entry.changes).toEqual([{ path: `access_grants.group:${interns}:read`, op: 'removed', old: group(interns), new: null }])
        expect(entry.version).toBe(2)
      }
      // Exactly one version per changed model (their create was version 1).
      expect(await countVersions()).toBe(versionsBefore + internal.length)
      for (const id of internal) {
        expect(await grantsOf(id)).toEqual([`group:${creatorsGroup}:read`])
        expect(await historyOf(id)).toEqual(['1:create:route', '2:access_update:bulk'])
        await expectGapless(id)
        const entries = (await auditOf(id)).filter((e) => e.action === 'model.access_update')
        expect(entries).toHaveLength(1)
        expect(JSON.parse(present(present(entries[0], 'audit entry').after, 'after'))).toEqual({ version: 2, bulk: true })
        expectError(await tryGet(plain, id), 404, 'MODEL_NOT_FOUND')
      }
      for (const id of other) expect(await grantsOf(id)).toEqual([`group:${interns}:read`])
      const summaries = await h.services.database.db.selectFrom('audit_log').selectAll().where('action', '=', 'model.bulk_access').execute()
      const summary = present(
        summaries
          .map((s) => JSON.parse(s.after ?? 'null') as { selection?: { filter?: { tag?: string } }; add: unknown })
          .find((s) => s.selection?.filter?.tag === tag),
        'summary entry',
      )
      expect(summary).toMatchObject({ changed: internal.length, unchanged: 0, refused: 0, remove: [group(interns)] })
      expect(summary.add).toEqual([])

      // Run again: nothing left to remove, nothing written.
      const again = await bulk(h.admin, { filter: { tag }, remove: [group(interns)] })
      expect(again.changed).toEqual([])
      expect(again.unchanged).toEqual([...internal].sort())
      expect(await countVersions()).toBe(versionsBefore + internal.length)
    })

    it('adds a group to 40 models by id; the group route lists them with the permission, paged', async () => {
      const support = await createGroup(`Support ${token()}`, {}, [plain.id])
      const ids = await many(h.admin, `sup-${token()}`, 40)
      const report = await bulk(h.admin, { model_ids: ids, add: [group(support)] })
      expect(report.changed.map((c) => c.id)).toEqual([...ids].sort())
      expect(present(report.changed[0], 'first change').changes).toEqual([
        { path: `access_grants.group:${support}:read`, op: 'added', old: null, new: group(support) },
      ])
      for (const id of ids) expect((await getModel(plain, id)).can.write).toBe(false)
      // A write grant on one of them: its permission is write.
      await bulk(h.admin, { model_ids: [ids[0]], add: [group(support, 'write')] })

      const first = await groupModels(h.admin, support, { limit: '15' })
      expect(first.statusCode, first.body).toBe(200)
      expect(first.json().total).toBe(40)
      expect(first.json().items).toHaveLength(15)
      const all: { id: string; name: string; permission: string }[] = []
      for (const page of ['1', '2', '3']) all.push(...(await groupModels(h.admin, support, { limit: '15', page })).json().items)
      expect(all.map((m) => m.id).sort()).toEqual([...ids].sort())
      expect(all.find((m) => m.id === ids[0])).toEqual({ id: ids[0], name: `Model ${ids[0]}`, permission: 'write' })
      expect(all.filter((m) => m.permission === 'read')).toHaveLength(39)
    })
  })

  describe('dry run', () => {
    it('answers the plan and changes nothing: grants, versions, audit and the registry version stay', async () => {
      const g = await createGroup(`Dry ${token()}`, {}, [])
      const ids = await many(h.admin, `dry-${token()}`, 5)
      await bulk(h.admin, { model_ids: [ids[0]], add: [group(g)] })
      const [versions, audit] = [await countVersions(), await countAudit()]
      const registry = await h.services.models.registry.models.version()

      const plan = await bulk(h.admin, { model_ids: ids, add: [group(g)], dry_run: true })
      expect(plan.dry_run).toBe(true)
      expect(plan.unchanged).toEqual([ids[0]])
      expect(plan.changed.map((c) => c.id)).toEqual(ids.slice(1).sort())
      expect(plan.changed.every((c) => c.version === null)).toBe(true)
      expect(await countVersions()).toBe(versions)
      expect(await countAudit()).toBe(audit)
      expect(await h.services.models.registry.models.version()).toBe(registry)
      for (const id of ids.slice(1)) expect(await grantsOf(id)).toEqual([])

      // The models change between the dry run and the real run: the real run reports what it found.
      const res = await tryAccess(h.admin, { id: ids[1], access_grants: [group(g)] })
      expect(res.statusCode, res.body).toBe(200)
      const real = await bulk(h.admin, { model_ids: ids, add: [group(g)] })
      expect(real.unchanged.sort()).toEqual([ids[0], ids[1]].sort())
      expect(real.changed.map((c) => c.id)).toEqual(ids.slice(2).sort())
      expect(real.changed.map((c) => c.changes)).toEqual(plan.changed.slice(1).map((c) => c.changes))
    })
  })

  describe('refusals', () => {
    it('reports refused models and never touches them; an unreadable id is refused exactly as an unknown one', async () => {
      const own = await create(creator, preset(`own-${token()}`))
      const readable = await create(h.admin, preset(`ro-${token()}`, { access_grants: [user(creator.id)] }))
      const hidden = await create(h.admin, preset(`hid-${token()}`, { access_grants: [user(plain.id)] }))
      const unknown = `nope-${token()}`
      const before = { readable: await versionsOf(readable.id), hidden: await versionsOf(hidden.id) }

      for (const dryRun of [true, false]) {
        const report = await bulk(creator, { model_ids: [own.id, readable.id, hidden.id, unknown], add: [group(creatorsGroup)], dry_run: dryRun })
        expect(report.changed.map((c) => c.id)).toEqual([own.id])
        expect(report.dry_run).toBe(dryRun)
        const refused = refusedById(report)
        expect(refused(readable.id).code).toBe('ACCESS_PROHIBITED')
        expect(refused(hidden.id).code).toBe('MODEL_NOT_FOUND')
        expect(refused(unknown).code).toBe('MODEL_NOT_FOUND')
        // Same text but for the id.
        expect(refused(hidden.id).reason.replace(hidden.id, 'X')).toBe(refused(unknown).reason.replace(unknown, 'X'))
      }
      expect(await grantsOf(readable.id)).toEqual([`user:${creator.id}:read`])
      expect(await grantsOf(hidden.id)).toEqual([`user:${plain.id}:read`])
      expect(await versionsOf(readable.id)).toEqual(before.readable)
      expect(await versionsOf(hidden.id)).toEqual(before.hidden)
      expect(await grantsOf(own.id)).toEqual([`group:${creatorsGroup}:read`])
    })

    it('a grant the caller may not add (no sharing.models) is refused per model; removing needs no sharing permission', async () => {
      const g = await createGroup(`NoShare ${token()}`, {}, [])
      const model = await create(h.admin, preset(`ns-${token()}`, { access_grants: [user(plain.id, 'read'), user(plain.id, 'write'), group(g)] }))
      const report = await bulk(plain, { model_ids: [model.id], add: [user(creator.id)] })
      expect(report.changed).toEqual([])
      expect(report.refused).toEqual([{ id: model.id, code: 'ACCESS_PROHIBITED', reason: expect.stringContaining('sharing.models') }])
      expect(await historyOf(model.id)).toEqual(['1:create:route'])

      const removal = await bulk(plain, { model_ids: [model.id], remove: [group(g)] })
      expect(removal.changed.map((c) => c.id)).toEqual([model.id])
      expect(await grantsOf(model.id)).toEqual([`user:${plain.id}:read`, `user:${plain.id}:write`])
    })

    it('a public grant needs sharing.public_models: refused for a user with sharing.models only, done for an admin', async () => {
      const model = await create(creator, preset(`pub-${token()}`))
      const refused = await bulk(creator, { model_ids: [model.id], add: [user('*')] })
      expect(refused.refused).toEqual([{ id: model.id, code: 'ACCESS_PROHIBITED', reason: expect.stringContaining('sharing.public_models') }])
      expect(await grantsOf(model.id)).toEqual([])
      const done = await bulk(h.admin, { model_ids: [model.id], add: [user('*')] })
      expect(done.changed.map((c) => c.id)).toEqual([model.id])
      expect((await getModel(plain, model.id)).id).toBe(model.id)
    })

    it('a grant naming an unknown group or user is a 400 before anything is changed', async () => {
      const model = await create(h.admin, preset(`unk-${token()}`))
      const versions = await countVersions()
      expectError(await tryBulk(h.admin, { model_ids: [model.id], add: [group(`ghost-${token()}`)] }), 400, 'INVALID_ACCESS_CONTROL')
      expectError(await tryBulk(h.admin, { model_ids: [model.id], add: [user(`ghost-${token()}`)] }), 400, 'INVALID_ACCESS_CONTROL')
      expect(await countVersions()).toBe(versions)
      expect(await grantsOf(model.id)).toEqual([])
    })
  })

  describe('filters', () => {
    it('select by tag, query, base model and owner, only among models the caller may write', async () => {
      const tag = `flt-${token()}`
      const word = `zephyrine${token()}`
      const mine = await create(creator, preset(`f-mine-${token()}`, { meta: tagged(tag) }))
      const mineOther = await create(creator, preset(`f-other-${token()}`, { meta: tagged(tag), base_model_id: 'other-base' }))
      const named = await create(creator, preset(`f-named-${token()}`, { name: `The ${word} bot` }))
      const adminsReadable = await create(h.admin, preset(`f-adm-${token()}`, { meta: tagged(tag), access_grants: [user(creator.id)] }))
      const adminsWritable = await create(h.admin, preset(`f-admw-${token()}`, { meta: tagged(tag), access_grants: [user(creator.id, 'write')] }))
      const plan = async (who: TestAccount, filter: Record<string, unknown>) =>
        (await bulk(who, { filter, add: [group(creatorsGroup)], dry_run: true })).changed.map((c) => c.id)

      expect(await plan(creator, { tag })).toEqual([mine.id, mineOther.id, adminsWritable.id].sort())
      expect(await plan(creator, { tag: tag.toUpperCase() })).toEqual([mine.id, mineOther.id, adminsWritable.id].sort())
      expect(await plan(creator, { query: word })).toEqual([named.id])
      expect(await plan(creator, { tag, base_model_id: 'other-base' })).toEqual([mineOther.id])
      expect(await plan(creator, { tag, user_id: h.admin.id })).toEqual([adminsWritable.id])
      expect(await plan(h.admin, { tag })).toEqual([mine.id, mineOther.id, adminsReadable.id, adminsWritable.id].sort())
      // A filter that matches nothing is an empty report.
      expect(await bulk(creator, { filter: { tag: `none-${token()}` }, add: [group(creatorsGroup)] })).toEqual({
        dry_run: false,
        changed: [],
        unchanged: [],
        refused: [],
      })
      // Only what the caller may write: the model it can only read is not even refused (never selected).
      const real = await bulk(creator, { filter: { tag }, add: [group(creatorsGroup)] })
      expect(real.refused).toEqual([])
      expect(await grantsOf(adminsReadable.id)).toEqual([`user:${creator.id}:read`])
    })
  })

  describe('bad input', () => {
    it('both or neither of model_ids and filter, nothing to change, a grant both added and removed: 400', async () => {
      const model = await create(h.admin, preset(`bad-${token()}`))
      const add = [group(creatorsGroup)]
      expectError(await tryBulk(h.admin, { model_ids: [model.id], filter: { tag: 'x' }, add }), 400, 'VALIDATION_ERROR')
      expectError(await tryBulk(h.admin, { add }), 400, 'VALIDATION_ERROR')
      expectError(await tryBulk(h.admin, { model_ids: [model.id] }), 400, 'VALIDATION_ERROR')
      expectError(await tryBulk(h.admin, { model_ids: [model.id], add, remove: add }), 400, 'INVALID_ACCESS_CONTROL')
      expectError(await tryBulk(h.admin, { model_ids: [], add }), 400, 'VALIDATION_ERROR')
      expectError(await tryBulk(h.admin, { filter: { tag: 'x', unknown: 1 }, add }), 400, 'VALIDATION_ERROR')
      expectError(
        await tryBulk(h.admin, { model_ids: [model.id], add: [{ principal_type: 'group', principal_id: '*', permission: 'read' }] }),
        400,
        'INVALID_ACCESS_CONTROL',
      )
      expect(await grantsOf(model.id)).toEqual([])
    })

    it('10,001 ids: 400 naming body.model_ids; 10,000 are accepted', async () => {
      const ids = Array.from({ length: 10_001 }, (_, i) => `bulk-many-${i}`)
      const res = await tryBulk(h.admin, { model_ids: ids, add: [group(creatorsGroup)], dry_run: true })
      expectError(res, 400, 'VALIDATION_ERROR')
      expect(JSON.stringify(res.json().errors)).toContain('body.model_ids')
      const ok = await bulk(h.admin, { model_ids: ids.slice(0, 10_000), add: [group(creatorsGroup)], dry_run: true })
      expect(ok.refused).toHaveLength(10_000)
      expect(ok.refused.every((r) => r.code === 'MODEL_NOT_FOUND')).toBe(true)
    })

    it('anonymous 401, pending 403', async () => {
      expectError(await tryBulk(undefined, { model_ids: ['x'], add: [group(creatorsGroup)] }), 401, 'UNAUTHORIZED')
      const pending = await h.createUser('pending')
      expectError(await tryBulk(pending, { model_ids: ['x'], add: [group(creatorsGroup)] }), 403, 'ACCESS_PROHIBITED')
    })
  })

  describe('race', () => {
    it('bulk vs single access updates of the same models: no 5xx, each stored set is one writer’s result, versions gapless', async () => {
      const g = await createGroup(`Race ${token()}`, {}, [])
      const ids = await many(h.admin, `race-${token()}`, 12, { access_grants: [user(plain.id)] })
      const singles = ids.slice(0, 6).map((id) => tryAccess(h.admin, { id, access_grants: [user(creator.id)] }))
      const results: Reply[] = await Promise.all([tryBulk(h.admin, { model_ids: ids, add: [group(g)], remove: [user(plain.id)] }), ...singles])
      for (const res of results) expect(res.statusCode, res.body).toBe(200)
      const report = present(results[0], 'bulk answer').json<Report>()
      expect(report.refused).toEqual([])
      for (const [i, id] of ids.entries()) {
        const stored = await grantsOf(id)
        // Bulk last: the single's set plus the group (its remove finds nothing); single last: its set alone.
        const allowed = i < 6 ? [[`group:${g}:read`, `user:${creator.id}:read`].sort(), [`user:${creator.id}:read`]] : [[`group:${g}:read`]]
        expect(allowed, `${id}: ${stored.join(',')}`).toContainEqual(stored)
        const versions = await expectGapless(id)
        const last = present(versions.at(-1), `${id}: last version`)
        expect(last.snapshot.access_grants.map((a) => `${a.principal_type}:${a.principal_id}:${a.permission}`).sort()).toEqual(stored)
      }
    })
  })

  describe('attack: a user who can write one model', () => {
    it('tries bulk on ids it cannot read: refused as unknown, untouched, nothing learned; its filter never reaches them', async () => {
      const writer = await h.createUser('user')
      const g = await createGroup(`Atk ${token()}`, { sharing: { models: true } }, [writer.id])
      const tag = `atk-${token()}`
      const target = await create(h.admin, preset(`atk-own-${token()}`, { meta: tagged(tag), access_grants: [user(writer.id, 'write')] }))
      const secret = await create(h.admin, preset(`atk-sec-${token()}`, { meta: tagged(tag), access_grants: [group(g, 'read'), user(plain.id)] }))
      const secret2 = await create(h.admin, preset(`atk-sec2-${token()}`, { meta: tagged(tag) }))
      // writer is in g, so it can read `secret` (read-only); secret2 it cannot read at all.
      const unknown = `atk-none-${token()}`
      const before = [await versionsOf(secret.id), await versionsOf(secret2.id)]
      const audit = await countAudit()

      const report = await bulk(writer, { model_ids: [target.id, secret2.id, unknown, secret.id], remove: [user(plain.id)], add: [group(g)] })
      expect(report.changed.map((c) => c.id)).toEqual([target.id])
      const byId = refusedById(report)
      expect(byId(secret.id).code).toBe('ACCESS_PROHIBITED')
      expect(byId(secret2.id).code).toBe('MODEL_NOT_FOUND')
      expect(byId(unknown).code).toBe('MODEL_NOT_FOUND')
      expect(byId(secret2.id).reason.replace(secret2.id, 'X')).toBe(byId(unknown).reason.replace(unknown, 'X'))
      // The grants of the refused models are not in the report, and not changed.
      expect(JSON.stringify(report.refused)).not.toContain(plain.id)
      expect([await versionsOf(secret.id), await versionsOf(secret2.id)]).toEqual(before)
      expect(await grantsOf(secret.id)).toEqual([`group:${g}:read`, `user:${plain.id}:read`].sort())
      // One access_update for the target, one summary.
      expect(await countAudit()).toBe(audit + 2)

      // By filter: only the model it may write is ever selected.
      const filtered = await bulk(writer, { filter: { tag }, add: [group(g, 'write')], dry_run: true })
      expect(filtered.changed.map((c) => c.id)).toEqual([target.id])
      expect(filtered.refused).toEqual([])
      expect(filtered.unchanged).toEqual([])
      // The group route is the admins'.
      expectError(await groupModels(writer, g), 403, 'ACCESS_PROHIBITED')
    })
  })

  describe('GET /groups/id/{id}/models', () => {
    it('unknown group: 404; a group without grants: empty; limit above 100: 400', async () => {
      expectError(await groupModels(h.admin, `ghost-${token()}`), 404, 'NOT_FOUND')
      const g = await createGroup(`Empty ${token()}`, {}, [])
      const res = await groupModels(h.admin, g)
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json()).toEqual({ items: [], total: 0 })
      expectError(await groupModels(h.admin, g, { limit: '101' }), 400, 'VALIDATION_ERROR')
      expectError(await groupModels(plain, g), 403, 'ACCESS_PROHIBITED')
    })
  })
})
