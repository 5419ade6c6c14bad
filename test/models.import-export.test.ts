/**
 * Export, import and sync of the model registry (design.md §2.6): complete server-side export, round
 * trips into the same and into an empty instance, every generation of Open WebUI export file, the
 * per-item report, strict mode and transactions, and sync's plan and effect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ImportReport, SyncPlan } from '@modelgate/sdk'
import { DIALECTS } from './support/databases.js'
import { createGroup } from './support/accounts.js'
import { grantKeys, PNG_URI, preset, sorted, token } from './support/factories.js'
import type { ModelOut } from './support/model-types.js'
import { M } from './support/models.js'
import { createHarness, type Harness, type InjectOptions, type TestAccount } from './support/harness.js'

type Report = ImportReport
type Plan = SyncPlan

/** Helpers bound to one instance. */
function api(h: Harness) {
  const send = (who: TestAccount | undefined, options: InjectOptions) => h.send(who, options)
  return {
    send,
    async create(who: TestAccount, body: Record<string, unknown>): Promise<ModelOut> {
      const res = await send(who, { method: 'POST', url: `${M}/create`, payload: body })
      expect(res.statusCode, res.body).toBe(200)
      return res.json<ModelOut>()
    },
    async get(who: TestAccount, id: string): Promise<ModelOut & { user: unknown; write_access: boolean }> {
      const res = await send(who, { method: 'GET', url: `${M}/model`, query: { id } })
      expect(res.statusCode, `${id}: ${res.body}`).toBe(200)
      return res.json<ModelOut & { user: unknown; write_access: boolean }>()
    },
    async exportAll(who: TestAccount, method: 'GET' | 'POST' = 'GET'): Promise<ModelOut[]> {
      const res = await send(who, { method, url: `${M}/export` })
      expect(res.statusCode, res.body).toBe(200)
      return res.json<ModelOut[]>()
    },
    importRaw: (who: TestAccount, payload: unknown, query?: Record<string, string>) =>
      send(who, { method: 'POST', url: `${M}/import`, payload, ...(query && { query }) }),
    async import(who: TestAccount, payload: unknown, query?: Record<string, string>): Promise<Report> {
      const res = await send(who, { method: 'POST', url: `${M}/import`, payload, ...(query && { query }) })
      expect(res.statusCode, res.body).toBe(200)
      return res.json<Report>()
    },
    sync: (who: TestAccount, payload: unknown) => send(who, { method: 'POST', url: `${M}/sync`, payload }),
    createGroup: (name: string, permissions: Record<string, unknown>, userIds: string[]) => createGroup(h, name, permissions, userIds),
    /** Every row of the registry's tables, in a stable order: equal snapshots mean nothing changed. */
    async snapshot() {
      const db = h.services.database.db
      const [models, grants, tags] = await Promise.all([
        db.selectFrom('models').selectAll().orderBy('id').execute(),
        db.selectFrom('model_grants').selectAll().orderBy('id').execute(),
        db.selectFrom('model_tags').selectAll().orderBy('model_id').orderBy('tag_key').execute(),
      ])
      return JSON.parse(JSON.stringify({ models, grants, tags })) as unknown
    },
    async rowExists(id: string): Promise<boolean> {
      return (await h.services.database.db.selectFrom('models').select('id').where('id', '=', id).executeTakeFirst()) !== undefined
    },
  }
}

function withoutUpdatedAt<T extends { updated_at: number }>(model: T): Omit<T, 'updated_at'> {
  const { updated_at: _u, ...rest } = model
  return rest
}

describe.each(DIALECTS)('models import, export and sync on %s', (dialect) => {
  let h: Harness
  let a: ReturnType<typeof api>
  /** A non-admin with workspace.models, models_import, models_export and sharing.models. */
  let worker: TestAccount
  /** A member of `team`. */
  let member: TestAccount
  let team: string

  beforeAll(async () => {
    h = await createHarness(dialect)
    a = api(h)
    worker = await h.createUser('user', 'Worker')
    member = await h.createUser('user', 'Member')
    await a.createGroup('Workers', { workspace: { models: true, models_import: true, models_export: true }, sharing: { models: true } }, [worker.id])
    team = await a.createGroup('Team', {}, [member.id, worker.id])
    // Users build presets on bases they may use (issue #10, hole 2): the admin shares this one.
    await h.shareBase('base-llm')
  })
  afterAll(async () => h?.close())

  // ─── Export ────────────────────────────────────────────────────────────────────────────────────
  describe('export', () => {
    it('is complete beyond one page: 45 models created, 45 exported (GET and POST alike)', async () => {
      const w = token()
      for (let i = 0; i < 45; i++) await a.create(h.admin, preset(`exp-${w}-${String(i).padStart(2, '0')}`))
      for (const method of ['GET', 'POST'] as const) {
        const mine = (await a.exportAll(h.admin, method)).filter((m) => m.id.startsWith(`exp-${w}-`))
        expect(mine).toHaveLength(45)
        expect(new Set(mine.map((m) => m.id)).size).toBe(45)
      }
    })

    it('is complete beyond its internal batches (1,050 models), each model once', async () => {
      const w = token()
      const models = Array.from({ length: 1050 }, (_, i) => preset(`bulk-${w}-${String(i).padStart(4, '0')}`, { params: { seed: i } }))
      const report = await a.import(h.admin, models)
      expect(report.created).toHaveLength(1050)
      const exported = await a.exportAll(h.admin)
      const mine = exported.filter((m) => m.id.startsWith(`bulk-${w}-`))
      expect(mine).toHaveLength(1050)
      expect(new Set(exported.map((m) => m.id)).size).toBe(exported.length)
      expect(mine.find((m) => m.id === `bulk-${w}-0777`)?.params).toEqual({ seed: 777 })
    })

    it('answers ModelModel items (both access forms, no list-only fields), inline images included', async () => {
      const id = `shape-${token()}`
      await a.create(h.admin, preset(id, { meta: { profile_image_url: PNG_URI, tags: ['x'] }, access_control: { read: { group_ids: [team] } } }))
      const item = (await a.exportAll(h.admin)).find((m) => m.id === id)
      expect(item).toBeDefined()
      expect(Object.keys(item ?? {}).sort()).toEqual(
        [
          'access_control',
          'access_grants',
          'base_model_id',
          'created_at',
          'id',
          'is_active',
          'meta',
          'name',
          'params',
          'updated_at',
          'user_id',
          'version',
          'template_id',
        ].sort(),
      )
      expect(item?.meta).toEqual({ profile_image_url: PNG_URI, tags: [{ name: 'x' }] })
      expect(item?.access_control).toEqual({ read: { group_ids: [team], user_ids: [] }, write: { group_ids: [], user_ids: [] } })
      expect(grantKeys(item ?? { access_grants: [] })).toEqual([`group:${team}:read`])
    })

    it('of a non-admin holds exactly the models they may write', async () => {
      const w = token()
      const own = await a.create(worker, preset(`x-own-${w}`))
      const userWrite = await a.create(
        h.admin,
        preset(`x-uw-${w}`, {
          access_grants: [
            { principal_type: 'user', principal_id: worker.id, permission: 'read' },
            { principal_type: 'user', principal_id: worker.id, permission: 'write' },
          ],
        }),
      )
      const groupWrite = await a.create(h.admin, preset(`x-gw-${w}`, { access_grants: [{ principal_type: 'group', principal_id: team, permission: 'write' }] }))
      const publicWrite = await a.create(
        h.admin,
        preset(`x-pw-${w}`, {
          access_grants: [
            { principal_type: 'user', principal_id: '*', permission: 'read' },
            { principal_type: 'user', principal_id: '*', permission: 'write' },
          ],
        }),
      )
      await a.create(h.admin, preset(`x-read-${w}`, { access_grants: [{ principal_type: 'user', principal_id: worker.id, permission: 'read' }] }))
      await a.create(h.admin, preset(`x-gread-${w}`, { access_grants: [{ principal_type: 'group', principal_id: team, permission: 'read' }] }))
      await a.create(h.admin, preset(`x-public-${w}`, { access_control: null }))
      await a.create(h.admin, preset(`x-private-${w}`))
      await a.create(h.admin, preset(`x-other-${w}`, { access_grants: [{ principal_type: 'user', principal_id: member.id, permission: 'write' }] }))
      const exported = await a.exportAll(worker)
      const mine = exported.filter((m) => m.id.endsWith(`-${w}`)).map((m) => m.id)
      expect(sorted(mine)).toEqual(sorted([own.id, userWrite.id, groupWrite.id, publicWrite.id]))
      // Nothing else in the whole export that the worker cannot write.
      for (const model of exported) {
        const keys = grantKeys(model)
        const writes =
          model.user_id === worker.id || keys.includes(`user:${worker.id}:write`) || keys.includes(`group:${team}:write`) || keys.includes('user:*:write')
        expect(writes, model.id).toBe(true)
      }
    })
  })

  // ─── Round trips ───────────────────────────────────────────────────────────────────────────────
  describe('round trip', () => {
    const w = token()
    const rt = (name: string) => `rt-${w}-${name}`
    let exported: ModelOut[] = []
    beforeAll(async () => {
      await a.create(
        h.admin,
        preset(rt('team'), {
          name: 'Team tutor',
          meta: {
            description: 'For the team',
            tags: ['sql', 'Teaching'],
            capabilities: { vision: true },
            suggestion_prompts: [{ content: 'Hi' }],
            custom: { deep: [1, { x: null }] },
          },
          params: { system: 'Be brief.', temperature: 0.3, stop: ['</s>'], custom_params: { a: 1 }, mirostat: 2 },
          access_grants: [
            { principal_type: 'group', principal_id: team, permission: 'read' },
            { principal_type: 'group', principal_id: team, permission: 'write' },
            { principal_type: 'user', principal_id: member.id, permission: 'read' },
          ],
        }),
      )
      await a.create(h.admin, preset(rt('public'), { access_control: null, meta: { profile_image_url: PNG_URI } }))
      await a.create(
        h.admin,
        preset(rt('public-write'), {
          access_grants: [
            { principal_type: 'user', principal_id: '*', permission: 'read' },
            { principal_type: 'user', principal_id: '*', permission: 'write' },
          ],
        }),
      )
      await a.create(h.admin, preset(rt('private'), { is_active: false }))
      await a.create(h.admin, {
        id: rt('override'),
        base_model_id: null,
        name: 'Provider model renamed',
        meta: { hidden: true },
        params: {},
        access_control: null,
      })
      await a.create(worker, preset(rt('worker/模型:1'), { access_grants: [{ principal_type: 'user', principal_id: member.id, permission: 'write' }] }))
      exported = (await a.exportAll(h.admin)).filter((m) => m.id.startsWith(`rt-${w}-`))
      expect(exported).toHaveLength(6)
    })

    it('export → import on the same instance: every item updated, nothing else changed', async () => {
      const before = await Promise.all(exported.map((m) => a.get(h.admin, m.id)))
      const report = await a.import(h.admin, exported)
      expect(report).toEqual({ created: [], updated: exported.map((m) => m.id), skipped: [], warnings: [] })
      const after = await Promise.all(exported.map((m) => a.get(h.admin, m.id)))
      // The same content and the same grants…
      for (const [index, model] of after.entries()) {
        const old = before[index]
        expect(old).toBeDefined()
        if (!old) continue
        expect(grantKeys(model), model.id).toEqual(grantKeys(old))
        expect({ ...withoutUpdatedAt(model), access_grants: undefined }, model.id).toEqual({ ...withoutUpdatedAt(old), access_grants: undefined })
      }
      // …and literally the same answer but for updated_at (unchanged grants keep their id and date).
      expect(after.map(withoutUpdatedAt)).toEqual(before.map(withoutUpdatedAt))
      // Re-exporting gives the same file again.
      const again = (await a.exportAll(h.admin)).filter((m) => m.id.startsWith(`rt-${w}-`))
      expect(again.map((m) => ({ ...withoutUpdatedAt(m), access_grants: grantKeys(m) }))).toEqual(
        exported.map((m) => ({ ...withoutUpdatedAt(m), access_grants: grantKeys(m) })),
      )
    })

    describe('into an empty instance', () => {
      let h2: Harness
      let b: ReturnType<typeof api>
      beforeAll(async () => {
        h2 = await createHarness(dialect, { USER_PERMISSIONS_WORKSPACE_MODELS_IMPORT: 'true', USER_PERMISSIONS_WORKSPACE_MODELS_ACCESS: 'true' })
        b = api(h2)
      })
      afterAll(async () => h2?.close())

      it('creates every model with the same ids, names, params, meta and is_active; unknown principals dropped with a warning', async () => {
        expect(await b.exportAll(h2.admin)).toEqual([])
        const report = await b.import(h2.admin, { models: exported })
        expect(report.created).toEqual(exported.map((m) => m.id))
        expect(report.updated).toEqual([])
        expect(report.skipped).toEqual([])
        for (const source of exported) {
          const copy = await b.get(h2.admin, source.id)
          expect(copy).toMatchObject({
            id: source.id,
            name: source.name,
            base_model_id: source.base_model_id,
            params: source.params,
            meta: source.meta,
            is_active: source.is_active,
            user_id: h2.admin.id,
          })
          // Public grants mean the same here; grants naming users and groups of the other instance cannot.
          const portable = grantKeys(source).filter((k) => k.startsWith('user:*:'))
          expect(grantKeys(copy), source.id).toEqual(portable)
          const dropped = source.access_grants.filter((g) => g.principal_id !== '*')
          const warnings = report.warnings.filter((x) => x.id === source.id)
          expect(warnings, source.id).toHaveLength(dropped.length)
          for (const grant of dropped) {
            expect(
              warnings.some((x) => x.message.includes(grant.principal_id)),
              `${source.id}: ${grant.principal_id}`,
            ).toBe(true)
          }
        }
        expect(report.warnings.length).toBeGreaterThan(0)
        expect(sorted((await b.exportAll(h2.admin)).map((m) => m.id))).toEqual(sorted(exported.map((m) => m.id)))
        // Tags were indexed too.
        const tags = (await b.send(h2.admin, { method: 'GET', url: `${M}/tags` })).json<string[]>()
        expect(tags.map((t) => t.toLowerCase())).toEqual(['sql', 'teaching'])
      })

      it('a non-admin (import allowed by USER_PERMISSIONS_*) imports presets as their own; override rows are skipped', async () => {
        const user = await h2.createUser('user')
        await h2.shareBase('base-llm') // a base the user may use (issue #10, hole 2)
        const items = [preset(`u-${token()}`, { params: { top_k: 3 } }), { id: `o-${token()}`, base_model_id: null, name: 'Override', meta: {}, params: {} }]
        const report = await b.import(user, items)
        expect(report.created).toEqual([items[0]?.id])
        expect(report.skipped).toHaveLength(1)
        expect(report.skipped[0]?.id).toBe(items[1]?.id)
        expect(report.skipped[0]?.reason).toMatch(/base_model_id|override|admin/i)
        expect((await b.get(user, items[0]?.id ?? '')).user_id).toBe(user.id)
        expect(await b.rowExists(items[1]?.id ?? '')).toBe(false)
      })
    })
  })

  // ─── Import formats ────────────────────────────────────────────────────────────────────────────
  describe('import accepts every generation of export file', () => {
    it('a bare array and {models: [...]}', async () => {
      const [x, y] = [`arr-${token()}`, `obj-${token()}`]
      expect((await a.import(h.admin, [preset(x)])).created).toEqual([x])
      expect((await a.import(h.admin, { models: [preset(y)] })).created).toEqual([y])
      expect((await a.get(h.admin, x)).name).toBe(`Model ${x}`)
      expect((await a.get(h.admin, y)).name).toBe(`Model ${y}`)
      expect(await a.import(h.admin, [])).toEqual({ created: [], updated: [], skipped: [], warnings: [] })
    })

    it('Open WebUI 0.6-era items with access_control: null → public, {} → private, {read, write} → grants', async () => {
      const w = token()
      const legacy = (id: string, access_control: unknown) => ({
        id,
        user_id: 'someone-elsewhere',
        base_model_id: 'llama3.1:8b',
        name: `Legacy ${id}`,
        params: { temperature: 0.7 },
        meta: { profile_image_url: '/static/favicon.png', description: null, capabilities: { vision: false } },
        access_control,
        is_active: true,
        updated_at: 1730000000,
        created_at: 1730000000,
      })
      const items = [
        legacy(`l-pub-${w}`, null),
        legacy(`l-priv-${w}`, {}),
        legacy(`l-group-${w}`, { read: { group_ids: [team], user_ids: [] }, write: { group_ids: [], user_ids: [member.id] } }),
      ]
      const report = await a.import(h.admin, items)
      expect(report).toEqual({ created: items.map((i) => i.id), updated: [], skipped: [], warnings: [] })
      const pub = await a.get(h.admin, `l-pub-${w}`)
      expect(grantKeys(pub)).toEqual(['user:*:read'])
      expect(pub.access_control).toBeNull()
      expect(pub).toMatchObject({
        user_id: h.admin.id,
        params: { temperature: 0.7 },
        meta: { profile_image_url: '/static/favicon.png', description: null, capabilities: { vision: false } },
      })
      expect((await a.get(h.admin, `l-priv-${w}`)).access_grants).toEqual([])
      expect(grantKeys(await a.get(h.admin, `l-group-${w}`))).toEqual(sorted([`group:${team}:read`, `user:${member.id}:write`]))
      // Public means the member can read it; private means they cannot.
      expect((await a.send(member, { method: 'GET', url: `${M}/model`, query: { id: `l-pub-${w}` } })).statusCode).toBe(200)
      expect((await a.send(member, { method: 'GET', url: `${M}/model`, query: { id: `l-priv-${w}` } })).statusCode).toBe(404)
    })

    it('Open WebUI 0.8+ items with full AccessGrantModel objects', async () => {
      const id = `g8-${token()}`
      const item = {
        id,
        user_id: 'elsewhere',
        base_model_id: 'gpt-4o',
        name: 'Modern',
        params: { reasoning_effort: 'low' },
        meta: { profile_image_url: '/static/favicon.png', description: 'x', tags: [{ name: 'new' }] },
        access_grants: [
          { id: 'a1b2c3', resource_type: 'model', resource_id: id, principal_type: 'group', principal_id: team, permission: 'read', created_at: 1760000000 },
          { id: 'd4e5f6', resource_type: 'model', resource_id: id, principal_type: 'user', principal_id: '*', permission: 'read', created_at: 1760000000 },
        ],
        is_active: false,
        updated_at: 1760000000,
        created_at: 1760000000,
      }
      const report = await a.import(h.admin, { models: [item] })
      expect(report).toEqual({ created: [id], updated: [], skipped: [], warnings: [] })
      const model = await a.get(h.admin, id)
      expect(grantKeys(model)).toEqual(sorted([`group:${team}:read`, 'user:*:read']))
      expect(model).toMatchObject({ name: 'Modern', is_active: false, params: { reasoning_effort: 'low' }, user_id: h.admin.id })
      for (const grant of model.access_grants) expect(grant.resource_id).toBe(id)
    })

    it('items wrapped as {id, name, info: {...ModelModel}} (Admin › Models exports)', async () => {
      const id = `wrap-${token()}`
      const info = {
        id,
        user_id: 'x',
        base_model_id: null,
        name: 'Wrapped override',
        params: { top_p: 0.9 },
        meta: { hidden: true },
        access_grants: [],
        is_active: true,
        created_at: 1,
        updated_at: 1,
      }
      const report = await a.import(h.admin, [{ id, name: 'Outer name', object: 'model', owned_by: 'openai', info }])
      expect(report.created).toEqual([id])
      expect(await a.get(h.admin, id)).toMatchObject({ name: 'Wrapped override', base_model_id: null, params: { top_p: 0.9 }, meta: { hidden: true } })
    })

    it('an existing model keeps what the item leaves out, and its grants when the item has no access form', async () => {
      const id = `merge-${token()}`
      await a.create(h.admin, preset(id, { params: { temperature: 1 }, meta: { description: 'kept' }, access_control: { read: { group_ids: [team] } } }))
      const report = await a.import(h.admin, [{ id, name: 'Renamed by import' }])
      expect(report.updated).toEqual([id])
      const model = await a.get(h.admin, id)
      expect(model).toMatchObject({ name: 'Renamed by import', params: { temperature: 1 }, meta: { description: 'kept' } })
      expect(grantKeys(model)).toEqual([`group:${team}:read`])
    })

    it('access_grants: null on an existing model keeps its grants, as POST /model/update does', async () => {
      const id = `nullgr-${token()}`
      await a.create(h.admin, preset(id, { access_control: { read: { group_ids: [team] } } }))
      const viaUpdate = await a.send(h.admin, { method: 'POST', url: `${M}/model/update`, payload: { id, access_grants: null } })
      expect(grantKeys(viaUpdate.json())).toEqual([`group:${team}:read`])
      const report = await a.import(h.admin, [{ ...preset(id), access_grants: null }])
      expect(report.updated).toEqual([id])
      expect(grantKeys(await a.get(h.admin, id))).toEqual([`group:${team}:read`])
    })
  })

  // ─── Import report ─────────────────────────────────────────────────────────────────────────────
  describe('import report', () => {
    it('skips garbage items with a reason and imports the rest', async () => {
      const w = token()
      const good = [preset(`ok1-${w}`), preset(`ok2-${w}`)]
      const longId = 'L'.repeat(257)
      const items = [
        good[0],
        42,
        'a string',
        null,
        [1, 2],
        {},
        { name: 'no id here', base_model_id: 'b' },
        preset(longId),
        preset(`ctl-${w}\u0001`),
        preset(`hot-${w}`, { params: { temperature: 3 } }),
        preset(`badac-${w}`, { access_control: { read: { group_ids: 'x' } } }),
        preset(`self-${w}`, { base_model_id: `self-${w}` }),
        { id: `noname-${w}`, base_model_id: 'b' },
        good[1],
      ]
      const report = await a.import(h.admin, items)
      expect(report.created).toEqual([`ok1-${w}`, `ok2-${w}`])
      expect(report.updated).toEqual([])
      expect(report.skipped).toHaveLength(items.length - 2)
      for (const skip of report.skipped) {
        expect(typeof skip.id).toBe('string')
        expect(skip.reason.length).toBeGreaterThan(3)
      }
      const reasonOf = (id: string) => report.skipped.find((s) => s.id === id)?.reason ?? ''
      expect(reasonOf(longId)).toMatch(/256|long|characters/i)
      expect(reasonOf(`hot-${w}`)).toContain('temperature')
      expect(reasonOf(`badac-${w}`)).toContain('access_control')
      expect(reasonOf(`self-${w}`)).toContain('base')
      expect(reasonOf(`noname-${w}`)).toContain('name')
      for (const id of [`hot-${w}`, `badac-${w}`, `self-${w}`, `noname-${w}`, longId]) expect(await a.rowExists(id)).toBe(false)
    })

    it('skips a duplicate id within the file (the first one is imported)', async () => {
      const id = `dup-${token()}`
      const report = await a.import(h.admin, [preset(id, { name: 'First' }), preset(id, { name: 'Second' })])
      expect(report.created).toEqual([id])
      expect(report.skipped).toEqual([{ id, reason: expect.stringMatching(/duplicate/i) }])
      expect((await a.get(h.admin, id)).name).toBe('First')
    })

    it('skips existing ids the caller may not write, whether or not they can read them; those models stay as they were', async () => {
      const w = token()
      const hidden = await a.create(h.admin, preset(`nw-hidden-${w}`))
      const readable = await a.create(
        h.admin,
        preset(`nw-read-${w}`, { access_grants: [{ principal_type: 'user', principal_id: worker.id, permission: 'read' }] }),
      )
      const writable = await a.create(
        h.admin,
        preset(`nw-write-${w}`, { access_grants: [{ principal_type: 'user', principal_id: worker.id, permission: 'write' }] }),
      )
      const report = await a.import(worker, [
        { ...preset(hidden.id), name: 'Taken over' },
        { ...preset(readable.id), name: 'Taken over' },
        { ...preset(writable.id), name: 'Edited by worker' },
      ])
      expect(report.updated).toEqual([writable.id])
      expect(report.created).toEqual([])
      expect(report.skipped.map((s) => s.id)).toEqual([hidden.id, readable.id])
      expect((await a.get(h.admin, hidden.id)).name).toBe(hidden.name)
      expect((await a.get(h.admin, readable.id)).name).toBe(readable.name)
      const edited = await a.get(h.admin, writable.id)
      expect(edited).toMatchObject({ name: 'Edited by worker', user_id: h.admin.id })
    })

    it('drops (with a warning) grants naming users or groups that do not exist', async () => {
      const id = `ghost-${token()}`
      const report = await a.import(h.admin, [
        preset(id, {
          access_grants: [
            { principal_type: 'group', principal_id: 'no-such-group', permission: 'read' },
            { principal_type: 'user', principal_id: 'no-such-user', permission: 'write' },
            { principal_type: 'group', principal_id: team, permission: 'read' },
          ],
        }),
      ])
      expect(report.created).toEqual([id])
      expect(report.warnings).toHaveLength(2)
      expect(report.warnings.map((x) => x.id)).toEqual([id, id])
      expect(report.warnings.map((x) => x.message).join(' ')).toContain('no-such-group')
      expect(report.warnings.map((x) => x.message).join(' ')).toContain('no-such-user')
      expect(grantKeys(await a.get(h.admin, id))).toEqual([`group:${team}:read`])
    })

    it('a non-admin without sharing.public_models: an item with a new public grant is skipped naming the permission; one the model already had is kept', async () => {
      const w = token()
      // A refused access part refuses the whole item (issue #10, hole 4): nothing of it is imported.
      const report = await a.import(worker, [preset(`np-new-${w}`, { access_control: null })])
      expect(report.created).toEqual([])
      expect(report.skipped).toHaveLength(1)
      expect(report.skipped[0]?.id).toBe(`np-new-${w}`)
      expect(report.skipped[0]?.reason).toContain('sharing.public_models')
      expect((await a.send(h.admin, { method: 'GET', url: `${M}/model`, query: { id: `np-new-${w}` } })).statusCode).toBe(404)

      const shared = await a.create(
        h.admin,
        preset(`np-old-${w}`, {
          access_grants: [
            { principal_type: 'user', principal_id: '*', permission: 'read' },
            { principal_type: 'user', principal_id: worker.id, permission: 'write' },
          ],
        }),
      )
      const again = await a.import(worker, [{ ...preset(shared.id), name: 'Edited', access_grants: shared.access_grants }])
      expect(again).toEqual({ created: [], updated: [shared.id], skipped: [], warnings: [] })
      expect(grantKeys(await a.get(h.admin, shared.id))).toEqual(grantKeys(shared))
    })

    it('?strict=true with any skipped item → 400 naming it, and nothing changed (one transaction)', async () => {
      const w = token()
      const existing = await a.create(h.admin, preset(`st-exist-${w}`, { access_control: null }))
      const before = await a.snapshot()
      const res = await a.importRaw(
        h.admin,
        [
          preset(`st-new-${w}`, { meta: { tags: ['strict'] } }),
          { ...preset(existing.id), name: 'Changed', access_control: {} },
          preset(`st-bad-${w}`, { params: { top_p: 7 } }),
        ],
        { strict: 'true' },
      )
      expect(res.statusCode, res.body).toBe(400)
      expect(res.json().detail).toContain(`st-bad-${w}`)
      expect(typeof res.json().code).toBe('string')
      expect(await a.snapshot()).toEqual(before)
      const listed = (await a.send(h.admin, { method: 'GET', url: `${M}/list`, query: { query: `st-${w}` } })).json<{ items: ModelOut[] }>()
      expect(listed.items.map((m) => m.id)).toEqual([existing.id])
      expect(listed.items[0]?.name).toBe(existing.name)
      // The same file without the bad item passes strict mode.
      const ok = await a.import(h.admin, [preset(`st-new-${w}`)], { strict: 'true' })
      expect(ok.created).toEqual([`st-new-${w}`])
    })

    it('a body that is not JSON → 400; JSON that is neither an array nor {models: [...]} → 400; nothing changed', async () => {
      const before = await a.snapshot()
      const notJson = await a.send(h.admin, {
        method: 'POST',
        url: `${M}/import`,
        headers: { 'content-type': 'application/json' },
        payload: '{"models": [ {"id": "x", ',
      })
      expect(notJson.statusCode).toBe(400)
      expect(typeof notJson.json().detail).toBe('string')
      for (const body of ['{"foo": 1}', '"models"', '42', 'null', '{"models": "x"}', '{"models": {"id": "x"}}', 'true']) {
        const res = await a.send(h.admin, { method: 'POST', url: `${M}/import`, headers: { 'content-type': 'application/json' }, payload: body })
        expect(res.statusCode, `${body}: ${res.body}`).toBe(400)
        expect(typeof res.json().detail).toBe('string')
      }
      expect(await a.snapshot()).toEqual(before)
    })
  })

  // ─── Sync (its own instance: it deletes every model not in its payload) ───────────────────────────
  describe('sync', () => {
    const w = token()
    const s = (name: string) => `sy-${w}-${name}`
    let h3: Harness
    let a: ReturnType<typeof api>
    let worker: TestAccount
    let member: TestAccount
    let team: string
    let payload: Record<string, unknown>[] = []
    let otherIds: string[] = []
    /** Set when a sync never answered: its transaction then holds the instance, so later tests fail at once. */
    let stuck = false
    /** A sync that does not answer in time fails the test instead of hanging the suite (a stuck transaction would). */
    const sync = (who: TestAccount, body: unknown) => {
      if (stuck) throw new Error('an earlier POST /sync never answered; its transaction still holds this instance')
      return Promise.race([
        a.sync(who, body),
        new Promise<never>((_, reject) =>
          setTimeout(() => {
            stuck = true
            reject(new Error('POST /sync did not answer within 8 s (stuck transaction?)'))
          }, 8000),
        ),
      ])
    }

    beforeAll(async () => {
      h3 = await createHarness(dialect)
      a = api(h3)
      worker = await h3.createUser('user', 'Worker')
      member = await h3.createUser('user', 'Member')
      await a.createGroup('Workers', { workspace: { models: true } }, [worker.id])
      team = await a.createGroup('Team', {}, [member.id])
      for (let i = 0; i < 3; i++) await a.create(h3.admin, preset(s(`extra-${i}`), { meta: { tags: ['extra'] } }))
      await a.create(h3.admin, preset(s('same'), { params: { temperature: 0.1 }, access_control: null }))
      // The worker's preset needs a base the worker may use (issue #10, hole 2): shared for the create only.
      await h3.shareBase('base-llm')
      await a.create(worker, preset(s('change')))
      expect((await a.send(h3.admin, { method: 'POST', url: `${M}/model/delete`, payload: { id: 'base-llm' } })).statusCode).toBe(200)
      await a.create(h3.admin, preset(s('gone'), { access_grants: [{ principal_type: 'group', principal_id: team, permission: 'read' }] }))
      const override = await a.send(h3.admin, { method: 'POST', url: `${M}/model/access/update`, payload: { id: s('override'), access_control: null } })
      expect(override.statusCode, override.body).toBe(200)
      const same = (await a.exportAll(h3.admin)).find((m) => m.id === s('same'))
      expect(same).toBeDefined()
      payload = [
        same as unknown as Record<string, unknown>,
        {
          ...preset(s('change')),
          name: 'Changed by sync',
          user_id: worker.id,
          access_grants: [{ principal_type: 'user', principal_id: member.id, permission: 'read' }],
        },
        preset(s('new'), { meta: { tags: ['synced'] }, access_control: { read: { group_ids: [team] } } }),
      ]
      otherIds = [s('extra-0'), s('extra-1'), s('extra-2'), s('gone'), s('override')]
    })
    afterAll(async () => {
      // Bounded: a stuck transaction must not hold the suite.
      await Promise.race([h3?.close(), new Promise((resolve) => setTimeout(resolve, 5000))])
    })

    it('dry_run answers the plan {dry_run, create, update, delete, unchanged} and changes nothing', async () => {
      const before = await a.snapshot()
      const res = await sync(h3.admin, { models: payload, dry_run: true })
      expect(res.statusCode, res.body).toBe(200)
      const plan = res.json<Plan>()
      expect(plan.dry_run).toBe(true)
      expect(plan.create).toEqual([s('new')])
      expect(plan.update).toEqual([s('change')])
      expect(plan.unchanged).toEqual([s('same')])
      expect(sorted(plan.delete)).toEqual(sorted(otherIds))
      expect(plan.delete).toContain(s('gone'))
      expect(plan.delete).toContain(s('override'))
      expect(await a.snapshot()).toEqual(before)
    })

    it('an invalid item, a duplicate id or an unknown principal → 400 and nothing changed', async () => {
      const before = await a.snapshot()
      const bad: unknown[][] = [
        [...payload, preset(s('hot'), { params: { temperature: 5 } })],
        [...payload, 42],
        [...payload, { name: 'no id' }],
        [...payload, preset(s('new'))],
        [...payload, preset(s('ghost'), { access_grants: [{ principal_type: 'group', principal_id: 'no-such-group', permission: 'read' }] })],
        [...payload, preset(s('ghost2'), { access_control: { read: { user_ids: ['no-such-user'] } } })],
      ]
      for (const models of bad) {
        const res = await sync(h3.admin, { models })
        expect(res.statusCode, res.body).toBe(400)
        expect(typeof res.json().detail).toBe('string')
        expect(await a.snapshot()).toEqual(before)
      }
      expect((await sync(h3.admin, { models: 'nope' })).statusCode).toBe(400)
      expect((await sync(h3.admin, {})).statusCode).toBe(400)
      expect(await a.snapshot()).toEqual(before)
    })

    it('makes the table equal to the payload: creates, updates, deletes (override rows and grants included)', async () => {
      const res = await sync(h3.admin, { models: payload })
      expect(res.statusCode, res.body).toBe(200)
      const plan = res.json<Plan>()
      expect(plan).toMatchObject({ dry_run: false, create: [s('new')], update: [s('change')], unchanged: [s('same')] })
      expect(sorted(plan.delete)).toEqual(sorted(otherIds))

      const rows = await a.exportAll(h3.admin)
      expect(sorted(rows.map((m) => m.id))).toEqual(sorted([s('same'), s('change'), s('new')]))
      const byId = new Map(rows.map((m) => [m.id, m]))
      expect(byId.get(s('change'))).toMatchObject({ name: 'Changed by sync', user_id: worker.id })
      expect(grantKeys(byId.get(s('change')) ?? { access_grants: [] })).toEqual([`user:${member.id}:read`])
      expect(byId.get(s('new'))).toMatchObject({ meta: { tags: [{ name: 'synced' }] }, user_id: h3.admin.id })
      expect(grantKeys(byId.get(s('new')) ?? { access_grants: [] })).toEqual([`group:${team}:read`])
      expect(byId.get(s('same'))).toEqual(payload[0])

      const base = (await a.send(h3.admin, { method: 'GET', url: `${M}/base` })).json<ModelOut[]>()
      expect(base).toEqual([])
      const db = h3.services.database.db
      const grantModels = new Set((await db.selectFrom('model_grants').select('model_id').execute()).map((r) => r.model_id))
      expect([...grantModels].every((id) => byId.has(id))).toBe(true)
      const tagModels = new Set((await db.selectFrom('model_tags').select('model_id').execute()).map((r) => r.model_id))
      expect([...tagModels]).toEqual([s('new')])
      expect((await a.send(h3.admin, { method: 'GET', url: `${M}/tags` })).json()).toEqual(['synced'])
      // The list agrees (its cached totals were invalidated).
      expect((await a.send(h3.admin, { method: 'GET', url: `${M}/list` })).json().total).toBe(3)
    })

    it('syncing the export of the table again changes nothing', async () => {
      if (stuck) throw new Error('an earlier POST /sync never answered; its transaction still holds this instance')
      const current = await a.exportAll(h3.admin)
      const before = await a.snapshot()
      const res = await sync(h3.admin, { models: current })
      expect(res.statusCode, res.body).toBe(200)
      const plan = res.json<Plan>()
      expect(plan).toMatchObject({ dry_run: false, create: [], update: [], delete: [] })
      expect(sorted(plan.unchanged)).toEqual(sorted(current.map((m) => m.id)))
      expect(await a.snapshot()).toEqual(before)
    })

    it('an empty payload empties the table', async () => {
      const res = await sync(h3.admin, { models: [] })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json<Plan>().delete).toHaveLength(3)
      expect(await a.exportAll(h3.admin)).toEqual([])
      expect((await h3.services.database.db.selectFrom('model_grants').select('id').execute()).length).toBe(0)
    })
  })
})
