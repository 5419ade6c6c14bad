/**
 * Review of the 2026-12-08 changes (ea6565a, d3e14e1, bd6980a, 84e6f1f) as attacks with the fewest
 * rights: the single-model write path's compiled statements (models.repo.ts, model-grants.repo.ts), the
 * SQLite file's checkpoint interval (database.ts), and the bulk access / template apply answers written
 * as JSON bytes past the schema's serializer (BulkReport). Each test states what must hold; a failing
 * test is a hole.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { z } from 'zod'
import { redact } from '../src/audit/redact.js'
import { createDatabase } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrator.js'
import { serializerCompiler } from '../src/http/serializer.js'
import { ModelsRepo, type ModelRow } from '../src/models/models.repo.js'
import { BulkAccessReportSchema } from '../src/models/models.schema.js'
import { TemplateApplyReportSchema } from '../src/templates/templates.schema.js'
import { createGroup } from './support/accounts.js'
import { DIALECTS } from './support/databases.js'
import { preset, token } from './support/factories.js'
import { createHarness, type Harness, type Reply, type TestAccount } from './support/harness.js'
import type { BulkReportOut } from './support/model-types.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const M = '/api/v1/models'
const T = '/api/v1/templates'

type Report = BulkReportOut

const serializerFor = (schema: z.ZodType) => serializerCompiler({ schema, method: 'POST', url: '/x', httpStatus: '200' })
const user = (id: string, permission: 'read' | 'write' = 'read') => ({ principal_type: 'user', principal_id: id, permission })

/** Strings a client controls that an encoder must escape (or keep) exactly as JSON.stringify does. */
const HOSTILE = [
  'quote " and \\" backslash \\ end\\',
  'line\nbreak\r\ttab \u0001 \u001f \u007f',
  '</script><script>alert(1)</script><!--',
  'line separators \u2028 \u2029',
  'unicode é ß ключ 鍵 😀 \u{10FFFF}',
  '{"injected":true}',
  '","refused":[{"id":"x"}],"x":"',
]
/** HOSTILE without control characters (meta text and ids refuse them). */
// eslint-disable-next-line no-control-regex
const PRINTABLE = HOSTILE.filter((s) => !/[\u0000-\u001f\u007f]/.test(s))

// ─── Audit copies keep every key ─────────────────────────────────────────────────────────────────

describe('review 1208: an audit copy keeps keys named like Object.prototype members', () => {
  it('"__proto__" stays an own key (its value redacted like any other), and the copy’s prototype is untouched', () => {
    const value = JSON.parse('{"__proto__":{"password":"hunter2","v":1},"constructor":3,"nested":{"__proto__":2}}') as unknown
    const copy = redact(value) as Record<string, unknown>
    expect(JSON.parse(JSON.stringify(copy))).toEqual(JSON.parse('{"__proto__":{"password":"[redacted]","v":1},"constructor":3,"nested":{"__proto__":2}}'))
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype)
    expect(JSON.stringify(copy)).not.toContain('hunter2')
  })
})

// ─── Over HTTP, both dialects ─────────────────────────────────────────────────────────────────────

describe.each(DIALECTS)('review 1208 (%s)', (dialect) => {
  let h: Harness
  let writer: TestAccount
  let outsider: TestAccount

  const send = (who: TestAccount, method: 'GET' | 'POST', url: string, payload?: unknown, query?: Record<string, string>) =>
    h.send(who, { method, url, ...(payload !== undefined && { payload }), ...(query && { query }) })
  const create = (who: TestAccount, body: Record<string, unknown>) => send(who, 'POST', `${M}/create`, body)
  const update = (who: TestAccount, body: Record<string, unknown>) => send(who, 'POST', `${M}/model/update`, body)
  const getModel = async (who: TestAccount, id: string) => {
    const res = await send(who, 'GET', `${M}/model`, undefined, { id })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ id: string; name: string; version: number; params: Record<string, unknown>; base_model_id: string | null }>()
  }
  const versionsOf = async (id: string) =>
    (await h.database.db.selectFrom('model_versions').select('version').where('model_id', '=', id).orderBy('version').execute()).map((r) => Number(r.version))
  const expectCatalogueError = (res: Reply, status: number, code: string) => {
    expect(res.statusCode, res.body).toBe(status)
    const body = res.json<{ detail: unknown; code: unknown }>()
    expect(body.code).toBe(code)
    expect(typeof body.detail).toBe('string')
  }
  /** The answer is valid JSON, is byte for byte what the route's schema serializer writes, and is declared. */
  const expectSchemaBytes = (res: Reply, schema: z.ZodType): Report => {
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(Number(res.headers['content-length'])).toBe(res.rawPayload.length)
    const parsed = JSON.parse(res.body) as Report
    expect(res.body).toBe(serializerFor(schema)(parsed))
    expect(schema.parse(parsed)).toEqual(parsed)
    return parsed
  }

  beforeAll(async () => {
    h = await createHarness(dialect)
    await h.shareBase(['base-llm', 'other-base'])
    writer = await h.createUser('user', 'Writer')
    outsider = await h.createUser('user', 'Outsider')
    // The writer may create models and templates and share them.
    await createGroup(h, `writers-${token()}`, { workspace: { models: true, templates: true }, sharing: { models: true } }, [writer.id])
  })
  afterAll(async () => h?.close())

  // ── 1. The compiled single-model statements under concurrent writers ──

  describe('compiled write path: concurrent writers of one model', () => {
    it('two (and four) creates of one id at once: exactly one 200, the others 409 MODEL_ID_TAKEN, never 500', async () => {
      for (const n of [2, 4]) {
        const id = `race-create-${n}-${token()}`
        const answers = await Promise.all(Array.from({ length: n }, (_, i) => create(h.admin, preset(id, { name: `racer ${i}` }))))
        const statuses = answers.map((a) => a.statusCode).sort()
        expect(statuses, answers.map((a) => a.body).join('\n')).toEqual([200, ...Array<number>(n - 1).fill(409)])
        for (const a of answers.filter((x) => x.statusCode === 409)) expectCatalogueError(a, 409, 'MODEL_ID_TAKEN')
        const winner = answers.find((a) => a.statusCode === 200)?.json<{ name: string }>()
        expect((await getModel(h.admin, id)).name).toBe(winner?.name)
        expect(await versionsOf(id)).toEqual([1])
      }
    })

    it('an id with history created twice at once: one 200 continuing the numbering, one 409, never 500', async () => {
      const id = `race-reborn-${token()}`
      expect((await create(h.admin, preset(id))).statusCode).toBe(200)
      expect((await update(h.admin, { id, name: 'second' })).statusCode).toBe(200)
      expect((await send(h.admin, 'POST', `${M}/model/delete`, { id })).statusCode).toBe(200)
      const last = Math.max(...(await versionsOf(id)))
      const answers = await Promise.all([create(h.admin, preset(id, { name: 'A' })), create(h.admin, preset(id, { name: 'B' }))])
      expect(answers.map((a) => a.statusCode).sort(), answers.map((a) => a.body).join('\n')).toEqual([200, 409])
      expectCatalogueError(answers.find((a) => a.statusCode === 409) as Reply, 409, 'MODEL_ID_TAKEN')
      const model = await getModel(h.admin, id)
      expect(model.version).toBe(last + 1)
      expect(await versionsOf(id)).toEqual(Array.from({ length: last + 1 }, (_, i) => i + 1))
    })

    it('eight updates, toggles and access updates of one model at once all answer 200 with distinct, gapless versions', async () => {
      const id = `race-update-${token()}`
      expect((await create(h.admin, preset(id, { access_grants: [user(writer.id, 'write')] }))).statusCode).toBe(200)
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          i % 4 === 3
            ? send(writer, 'POST', `${M}/model/toggle`, undefined, { id })
            : i % 4 === 2
              ? send(writer, 'POST', `${M}/model/access/update`, {
                  id,
                  access_grants: [user(writer.id, 'write'), user(outsider.id, i % 8 === 2 ? 'read' : 'write')],
                })
              : update(writer, { id, name: `name ${i}`, params: { temperature: i / 10 } }),
        ),
      )
      for (const a of answers) expect(a.statusCode, a.body).toBe(200)
      const versions = answers.map((a) => a.json<{ version: number }>().version).sort((a, b) => a - b)
      expect(new Set(versions).size).toBe(8)
      expect(await versionsOf(id)).toEqual(Array.from({ length: 9 }, (_, i) => i + 1))
      expect((await getModel(writer, id)).version).toBe(9)
    })

    it('a locked read holds the row: another transaction cannot take the lock until it ends (PostgreSQL)', async () => {
      const id = `race-lock-${token()}`
      expect((await create(h.admin, preset(id))).statusCode).toBe(200)
      const db = h.database.db
      const locked = await db.transaction().execute(async (trx) => {
        const row = await new ModelsRepo(trx).findByIdForUpdate(id, dialect)
        // PGlite has one connection: a second one would wait forever, so only a real server is asked.
        if (dialect === 'postgres' && h.database.engine === 'postgres-server') {
          const attempt = sql`select id from models where id = ${id} for update nowait`.execute(db)
          await expect(attempt).rejects.toMatchObject({ code: '55P03' })
        }
        return row
      })
      expect(locked?.id).toBe(id)
      if (dialect === 'postgres' && h.database.engine === 'postgres-server') {
        // Released with the transaction.
        expect((await sql<{ id: string }>`select id from models where id = ${id} for update nowait`.execute(db)).rows).toHaveLength(1)
      }
    })
  })

  describe('compiled statements against hostile values', () => {
    it('ids with quotes, LIKE wildcards, backslashes and unicode are bound, never spliced: each finds itself only', async () => {
      const stem = token()
      const ids = [`q'${stem}`, `dq"${stem}`, `%${stem}`, `_${stem}`, `b\\${stem}`, `u-é😀-${stem}`, `x' or '1'='1-${stem}`]
      for (const id of ids) expect((await create(h.admin, preset(id, { name: `n ${id}`, meta: { tags: [`t ${id}`] } }))).statusCode).toBe(200)
      for (const id of ids) {
        expect((await update(h.admin, { id, name: `renamed ${id}` })).statusCode).toBe(200)
        expect((await getModel(h.admin, id)).name).toBe(`renamed ${id}`)
      }
      const repo = new ModelsRepo(h.database.db)
      expect((await repo.findByIds([ids[0] ?? '', ids[0] ?? ''])).map((r) => r.id)).toEqual([ids[0]])
      expect((await repo.findByIds([`%${stem}`, `_${stem}`])).map((r) => r.id).sort()).toEqual([`%${stem}`, `_${stem}`].sort())
      const rows = await h.database.db.selectFrom('model_tags').select(['model_id', 'name']).where('model_id', 'in', ids).execute()
      expect(rows.map((r) => `${r.model_id}|${r.name}`).sort()).toEqual(ids.map((id) => `${id}|t ${id}`).sort())
    })

    it('update: null is written as NULL, undefined is left alone, columns in any order, and no other row is touched', async () => {
      const repo = new ModelsRepo(h.database.db)
      const a = `upd-a-${token()}`
      const b = `upd-b-${token()}`
      for (const id of [a, b]) expect((await create(h.admin, preset(id, { params: { temperature: 0.1 } }))).statusCode).toBe(200)
      const before = (await repo.findById(b)) as ModelRow
      await repo.update(a, { base_model_id: null, template_id: null, updated_at: 11 })
      await repo.update(a, { updated_at: 12, name: 'order 1', params: '{"x":1}' })
      await repo.update(a, { params: '{"x":2}', name: 'order 2', updated_at: 13 })
      await repo.update(a, { name: undefined, params: undefined, meta: '{"m":1}', updated_at: 14 })
      const after = (await repo.findById(a)) as ModelRow
      expect(after).toMatchObject({ base_model_id: null, template_id: null, name: 'order 2', params: '{"x":2}', meta: '{"m":1}' })
      expect(Number(after.updated_at)).toBe(14)
      expect(await repo.findById(b)).toEqual(before)
      // Same set of columns, values of another type than the first use of the shape: still bound as values.
      await repo.update(a, { name: 'it\'s "quoted" 😀', params: '{"x":3}', updated_at: 15 })
      expect((await repo.findById(a))?.name).toBe('it\'s "quoted" 😀')
      expect(await repo.findById(b)).toEqual(before)
    })
  })

  // ── 3. Bulk answers written as JSON bytes ──

  describe('bulk answers as bytes: hostile values', () => {
    it('template apply: hostile params, meta and system prompts give valid JSON, the schema serializer’s bytes, dry run and real run alike', async () => {
      const params = {
        system: HOSTILE.join('\n'),
        temperature: 0.3,
        seed: 9007199254740991,
        max_tokens: 4096,
        custom_params: {
          'key "with" quotes': HOSTILE,
          '</script>': { deep: [[[{ a: null, b: true, c: 1e300, d: -0, e: 5e-324 }]]] },
          __proto__x: 'not a prototype',
        },
      }
      const meta = { description: PRINTABLE.join(' | '), tags: [{ name: 'tag " </script>' }] }
      const tplId = `tpl-hostile-${token()}`
      const tpl = await send(writer, 'POST', `${T}/create`, { id: tplId, name: 'Hostile', params, meta })
      expect(tpl.statusCode, tpl.body).toBe(200)
      const ids = [`ap-"quoted"-${token()}`, `ap-</script>-${token()}`, `ap-é😀-${token()}`]
      for (const id of ids) expect((await create(writer, preset(id, { params: { system: 'old "sys"\n', temperature: 1 } }))).statusCode).toBe(200)
      const hidden = `ap-hidden-"x"-${token()}`
      expect((await create(h.admin, preset(hidden))).statusCode).toBe(200)
      const unknown = `ap-unknown-</script>"-${token()}`
      const body = { id: tplId, model_ids: [...ids, hidden, unknown], mode: 'merge' }

      const dry = expectSchemaBytes(await send(writer, 'POST', `${T}/template/apply`, { ...body, dry_run: true }), TemplateApplyReportSchema)
      const real = expectSchemaBytes(await send(writer, 'POST', `${T}/template/apply`, body), TemplateApplyReportSchema)
      for (const report of [dry, real]) {
        expect(report.changed.map((c) => c.id)).toEqual([...ids].sort())
        const system = report.changed[0]?.changes.find((c) => c.path === 'params.system')
        expect(system).toEqual({ path: 'params.system', op: 'changed', old: 'old "sys"\n', new: params.system })
        const custom = report.changed[0]?.changes.filter((c) => c.path.startsWith('params.custom_params'))
        expect(custom?.length).toBeGreaterThan(0)
        const byId = new Map(report.refused.map((r) => [r.id, r]))
        expect(byId.get(hidden)?.code).toBe('MODEL_NOT_FOUND')
        expect(byId.get(unknown)?.code).toBe('MODEL_NOT_FOUND')
        expect(byId.get(hidden)?.reason.replace(hidden, 'ID')).toBe(byId.get(unknown)?.reason.replace(unknown, 'ID'))
        expect(Object.keys(byId.get(hidden) ?? {})).toEqual(['id', 'reason', 'code'])
      }
      // The dry run is the real run's report but for the versions.
      expect(dry.dry_run).toBe(true)
      expect(real.dry_run).toBe(false)
      expect(dry.changed.map((c) => ({ ...c, version: 0 }))).toEqual(real.changed.map((c) => ({ ...c, version: 0 })))
      expect(dry.changed.every((c) => c.version === null)).toBe(true)
      expect(real.changed.every((c) => c.version === 2)).toBe(true)
      // What the report said was written is what the model holds.
      expect((await getModel(writer, ids[0] ?? '')).params).toMatchObject({
        system: params.system,
        custom_params: JSON.parse(JSON.stringify(params.custom_params)),
      })
    })

    it('a lone surrogate in a template’s params (value or key) is refused at the door (400), never reaches a report', async () => {
      for (const params of ['{"system":"a\\ud800b \\udc00"}', '{"custom_params":{"k\\ud800":1}}']) {
        const raw = `{"id":"tpl-lone-${token()}","name":"Lone","params":${params}}`
        const res = await h.send(writer, { method: 'POST', url: `${T}/create`, payload: raw, headers: { 'content-type': 'application/json' } })
        expectCatalogueError(res, 400, 'INVALID_PARAMS')
        const id = `ap-lone-${token()}`
        const model = await h.send(writer, {
          method: 'POST',
          url: `${M}/create`,
          payload: `{"id":"${id}","name":"x","base_model_id":"base-llm","meta":{},"params":${params}}`,
          headers: { 'content-type': 'application/json' },
        })
        expectCatalogueError(model, 400, 'INVALID_PARAMS')
      }
    })

    it('bulk access: hostile unknown ids echo exactly, unreadable models are refused as unknown, and no other grant leaks', async () => {
      const mine = `ba-mine-"${token()}</script>`
      expect((await create(writer, preset(mine, { access_grants: [user(outsider.id, 'read'), user(writer.id, 'write')] }))).statusCode).toBe(200)
      const readOnly = `ba-ro-${token()}`
      expect((await create(h.admin, preset(readOnly, { access_grants: [user(writer.id, 'read'), user(outsider.id, 'write')] }))).statusCode).toBe(200)
      const hidden = `ba-hidden-\u2028-${token()}`
      expect((await create(h.admin, preset(hidden, { access_grants: [user(outsider.id, 'write')] }))).statusCode).toBe(200)
      const unknowns = PRINTABLE.map((s, i) => `ba-${i}-${s.trim()}-${token()}`)
      const body = { model_ids: [mine, readOnly, hidden, ...unknowns], add: [user(h.admin.id, 'read')] }
      for (const dryRun of [true, false]) {
        const res = await send(writer, 'POST', `${M}/access/bulk`, { ...body, dry_run: dryRun })
        const report = expectSchemaBytes(res, BulkAccessReportSchema)
        expect(report.dry_run).toBe(dryRun)
        expect(report.changed.map((c) => c.id)).toEqual([mine])
        expect(report.changed[0]?.changes).toEqual([{ path: `access_grants.user:${h.admin.id}:read`, op: 'added', old: null, new: user(h.admin.id, 'read') }])
        expect(report.changed[0]?.version).toBe(dryRun ? null : 2)
        const byId = new Map(report.refused.map((r) => [r.id, r]))
        expect(byId.get(readOnly)?.code).toBe('ACCESS_PROHIBITED')
        for (const id of [hidden, ...unknowns]) {
          expect(byId.get(id)?.code, id).toBe('MODEL_NOT_FOUND')
          expect(byId.get(id)?.reason.replace(id, 'ID')).toBe(byId.get(unknowns[0] ?? '')?.reason.replace(unknowns[0] ?? '', 'ID'))
        }
        expect(report.refused).toHaveLength(2 + unknowns.length)
        // Grants of other users on the hidden and read-only models appear nowhere in the answer.
        expect(res.body).not.toContain(outsider.id)
      }
    })
  })

  // ── A model id the JavaScript object model treats specially ──

  describe('ids that are Object.prototype names', () => {
    it('template apply over models "__proto__" and "constructor": the report and the audit summary name both', async () => {
      const ids = ['__proto__', 'constructor', 'toString']
      for (const id of ids) expect((await create(h.admin, preset(id, { params: { temperature: 1 } }))).statusCode).toBe(200)
      const tplId = `tpl-proto-${token()}`
      expect((await send(h.admin, 'POST', `${T}/create`, { id: tplId, name: 'Proto', params: { temperature: 0.2 } })).statusCode).toBe(200)
      const report = expectSchemaBytes(await send(h.admin, 'POST', `${T}/template/apply`, { id: tplId, model_ids: ids }), TemplateApplyReportSchema)
      expect(report.changed.map((c) => c.id)).toEqual([...ids].sort())
      const summary = await h.database.db
        .selectFrom('audit_log')
        .select('after')
        .where('action', '=', 'template.apply')
        .where('target_id', '=', tplId)
        .executeTakeFirstOrThrow()
      const after = JSON.parse(summary.after ?? 'null') as { changed: Record<string, number> }
      expect(Object.entries(after.changed).sort()).toEqual(ids.map((id) => [id, 2]).sort())
      for (const id of ids) expect((await getModel(h.admin, id)).params).toEqual({ temperature: 0.2 })
      // Bulk access over the same ids: counted, reported.
      const bulk = expectSchemaBytes(await send(h.admin, 'POST', `${M}/access/bulk`, { model_ids: ids, add: [user(writer.id)] }), BulkAccessReportSchema)
      expect(bulk.changed.map((c) => c.id)).toEqual([...ids].sort())
    })
  })
})

// ─── 2. The SQLite file: checkpoint interval, WAL growth, durability ─────────────────────────────

describe('review 1208: the SQLite file at wal_autocheckpoint = 4000', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-review-1208-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  const row = (id: string, params: string): Omit<ModelRow, 'version'> => ({
    id,
    user_id: 'u-1',
    base_model_id: null,
    name: id,
    params,
    meta: '{}',
    is_active: 1,
    created_at: 1,
    updated_at: 1,
    template_id: null,
  })

  it('the WAL stays bounded (~4,000 pages) under 40 MB of writes, and a second connection reads every commit', async () => {
    const path = join(dir, 'bounded.sqlite')
    const database = createDatabase({ dialect: 'sqlite', path })
    const reader = createDatabase({ dialect: 'sqlite', path })
    try {
      await migrateToLatest(database)
      await sql`pragma foreign_keys = off`.execute(database.db) // rows without their owner account
      const repo = new ModelsRepo(database.db)
      const big = JSON.stringify({ system: 'x'.repeat(200_000) })
      let maxWal = 0
      for (let i = 0; i < 200; i++) {
        await repo.insertAtNextVersion(row(`wal-${i}`, big))
        maxWal = Math.max(maxWal, statSync(`${path}-wal`).size)
      }
      const pageSize = Number((await sql<{ page_size: number }>`pragma page_size`.execute(database.db)).rows[0]?.page_size)
      // 4,000 pages plus the largest transaction (~50 pages of 4 KiB here), each frame 24 bytes more.
      expect(maxWal).toBeLessThan((4000 + 200) * (pageSize + 24) + 32)
      expect(maxWal).toBeGreaterThan(1000 * pageSize) // SQLite's default would have reset it at ~4 MB
      const counted = await reader.db
        .selectFrom('models')
        .select(sql<number>`count(*)`.as('n'))
        .executeTakeFirstOrThrow()
      expect(Number(counted.n)).toBe(200)
    } finally {
      await reader.close()
      await database.close()
    }
  })

  it('commits survive a kill -9 of the writing process (no close, no checkpoint), across the 4,000-page mark', async () => {
    const path = join(dir, 'killed.sqlite')
    const script = join(dir, 'writer.mts')
    writeFileSync(
      script,
      `
import { sql } from ${JSON.stringify(join(ROOT, 'node_modules/kysely/dist/esm/index.js'))}
import { createDatabase } from ${JSON.stringify(join(ROOT, 'src/db/database.ts'))}
import { migrateToLatest } from ${JSON.stringify(join(ROOT, 'src/db/migrator.ts'))}
import { ModelsRepo } from ${JSON.stringify(join(ROOT, 'src/models/models.repo.ts'))}
const database = createDatabase({ dialect: 'sqlite', path: ${JSON.stringify(path)} })
await migrateToLatest(database)
await sql.raw('pragma foreign_keys = off').execute(database.db)
const repo = new ModelsRepo(database.db)
const params = JSON.stringify({ system: 'y'.repeat(60_000) })
for (let i = 0; i < 400; i++) {
  await repo.insertAtNextVersion({ id: 'k-' + i, user_id: 'u', base_model_id: null, name: 'n' + i, params, meta: '{}', is_active: 1, created_at: 1, updated_at: 1, template_id: null })
}
await repo.update('k-399', { name: 'last write', updated_at: 2 })
process.stdout.write('written\\n')
process.kill(process.pid, 'SIGKILL')
`,
    )
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 })
    expect(child.signal, child.stderr).toBe('SIGKILL')
    expect(child.stdout).toContain('written')
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(0) // left behind: the reopen must recover it
    const reopened = createDatabase({ dialect: 'sqlite', path })
    try {
      const counted = await reopened.db
        .selectFrom('models')
        .select(sql<number>`count(*)`.as('n'))
        .executeTakeFirstOrThrow()
      expect(Number(counted.n)).toBe(400)
      expect((await new ModelsRepo(reopened.db).findById('k-399'))?.name).toBe('last write')
      const check = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(reopened.db)
      expect(check.rows.map((r) => r.integrity_check)).toEqual(['ok'])
    } finally {
      await reopened.close()
    }
  })
})
