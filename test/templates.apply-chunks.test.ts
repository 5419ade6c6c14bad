/**
 * Template apply and bulk access across chunk boundaries (issue #17 item 5: both work chunk by chunk in
 * one transaction and write their answer as JSON bytes chunk by chunk). 1,200 models with the chunk size
 * set to 250 (five chunks): a failure in the last chunk rolls back what the four before it wrote (rows,
 * grants, tags, versions, audit entries); a run that succeeds writes every model exactly once (one version,
 * one audit entry) and answers every model, in id order, with the version it recorded.
 */
import { sql } from 'kysely'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { ModelsRepo } from '../src/models/models.repo.js'
import { DIALECTS } from './support/databases.js'
import type { Harness } from './support/harness.js'
import { createModelsWorld, M, modelsApi } from './support/models.js'
import type { BulkReportOut } from './support/model-types.js'

const T = '/api/v1/templates'
const COUNT = 1200
const CHUNK = 250
const ids = Array.from({ length: COUNT }, (_, i) => `chunked-${String(i).padStart(4, '0')}`)
/** A model of the last chunk (ids sort as numbered). */
const LATE = ids[1100] as string

type Report = BulkReportOut

const group = (id: string) => ({ principal_type: 'group', principal_id: id, permission: 'read' })

describe.each(DIALECTS)('bulk runs across chunks on %s', (dialect) => {
  let h: Harness
  let readers: string
  let templated: string
  let added: string
  const { send, createGroup } = modelsApi(() => h)
  const db = () => h.services.database.db

  /** Everything a run may change for the test's models, and the counts of versions and audit entries. */
  const state = async () => {
    const [models, grants, tags, versions, audit] = await Promise.all([
      db()
        .selectFrom('models')
        .select(['id', 'version', 'updated_at', 'template_id', 'params', 'meta', 'base_model_id'])
        .where('id', 'in', ids)
        .orderBy('id')
        .execute(),
      db().selectFrom('model_grants').select(['model_id', 'principal_type', 'principal_id', 'permission']).where('model_id', 'in', ids).execute(),
      db().selectFrom('model_tags').selectAll().where('model_id', 'in', ids).execute(),
      db()
        .selectFrom('model_versions')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow(),
      db()
        .selectFrom('audit_log')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow(),
    ])
    const key = (row: Record<string, unknown>) => JSON.stringify(Object.values(row).map(String))
    return {
      models: models.map((m) => ({ ...m, version: Number(m.version), updated_at: Number(m.updated_at) })),
      grants: grants.map(key).sort(),
      tags: tags.map(key).sort(),
      versions: Number(versions.n),
      audit: Number(audit.n),
    }
  }

  /** Any UPDATE of model `id` fails in the database (a failure in the middle of a run). */
  const failUpdatesOf = async (id: string) => {
    if (h.services.database.dialect === 'sqlite') {
      await sql
        .raw(`CREATE TRIGGER chunk_failure BEFORE UPDATE ON models WHEN NEW.id = '${id}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`)
        .execute(db())
    } else {
      await sql.raw(`CREATE FUNCTION chunk_failure() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$`).execute(db())
      await sql.raw(`CREATE TRIGGER chunk_failure BEFORE UPDATE ON models FOR EACH ROW WHEN (NEW.id = '${id}') EXECUTE FUNCTION chunk_failure()`).execute(db())
    }
  }
  const removeFailure = async () => {
    if (h.services.database.dialect === 'sqlite') await sql.raw('DROP TRIGGER IF EXISTS chunk_failure').execute(db())
    else {
      await sql.raw('DROP TRIGGER IF EXISTS chunk_failure ON models').execute(db())
      await sql.raw('DROP FUNCTION IF EXISTS chunk_failure()').execute(db())
    }
  }

  const applyBody = { id: 'tpl-chunks', model_ids: [...ids].reverse(), mode: 'merge' }
  const bulkBody = () => ({ model_ids: ids, add: [group(added)], remove: [group(readers)] })

  beforeAll(async () => {
    ;({ h } = await createModelsWorld(dialect))
    readers = await createGroup('Chunk readers', {}, [])
    templated = await createGroup('Chunk template readers', {}, [])
    added = await createGroup('Chunk added readers', {}, [])
    const imported = await send(h.admin, {
      method: 'POST',
      url: `${M}/import`,
      payload: {
        models: ids.map((id) => ({
          id,
          base_model_id: 'llama3.1:8b',
          name: `Chunked ${id}`,
          params: { temperature: 0.7 },
          meta: { tags: [{ name: 'chunked' }] },
          access_grants: [group(readers)],
        })),
      },
    })
    expect(imported.statusCode, imported.body).toBe(200)
    const created = await send(h.admin, {
      method: 'POST',
      url: `${T}/create`,
      payload: {
        id: 'tpl-chunks',
        name: 'Chunks',
        params: { system: 'You are chunked.', temperature: 0.3 },
        meta: { tags: [{ name: 'templated' }] },
        access_grants: [group(templated)],
      },
    })
    expect(created.statusCode, created.body).toBe(200)
    h.services.templates.applier.chunkSize = CHUNK
    h.services.models.bulkAccess.chunkSize = CHUNK
  })
  afterEach(async () => {
    vi.restoreAllMocks()
    await removeFailure()
  })
  afterAll(async () => h?.close())

  it('a failure in the last chunk rolls back the chunks written before it (apply and bulk): nothing changed', async () => {
    const before = await state()
    expect(before.models).toHaveLength(COUNT)
    await failUpdatesOf(LATE)
    const updates = vi.spyOn(ModelsRepo.prototype, 'updateContentMany')
    const apply = await send(h.admin, { method: 'POST', url: `${T}/template/apply`, payload: applyBody })
    expect([apply.statusCode, apply.json().code], apply.body).toEqual([500, 'DATABASE_ERROR'])
    // Four chunks were written, then the fifth (the last) failed.
    expect(updates).toHaveBeenCalledTimes(Math.ceil(COUNT / CHUNK))
    expect(await state()).toEqual(before)

    const bumps = vi.spyOn(ModelsRepo.prototype, 'touchAndBumpMany')
    const bulk = await send(h.admin, { method: 'POST', url: `${M}/access/bulk`, payload: bulkBody() })
    expect([bulk.statusCode, bulk.json().code], bulk.body).toEqual([500, 'DATABASE_ERROR'])
    expect(bumps).toHaveBeenCalledTimes(Math.ceil(COUNT / CHUNK))
    expect(await state()).toEqual(before)
  })

  it('apply then a bulk change write every model once across the chunks: a version and an audit entry each, every model answered', async () => {
    const start = await state()
    const apply = await send(h.admin, { method: 'POST', url: `${T}/template/apply`, payload: applyBody })
    expect(apply.statusCode, apply.body).toBe(200)
    expect(apply.headers['content-type']).toBe('application/json; charset=utf-8')
    const report = apply.json<Report>()
    expect(report.dry_run).toBe(false)
    expect(report.unchanged).toEqual([])
    expect(report.refused).toEqual([])
    expect(report.changed.map((c) => c.id)).toEqual(ids)
    expect(report.changed.map((c) => c.version)).toEqual(start.models.map((m) => m.version + 1))
    expect(report.changed[0]?.changes.map((c) => c.path)).toEqual([
      'params.temperature',
      'params.system',
      'meta.tags',
      `access_grants.group:${templated}:read`,
      'template_id',
    ])

    const applied = await state()
    expect(applied.versions - start.versions).toBe(COUNT)
    expect(applied.audit - start.audit).toBe(COUNT + 1)
    expect(applied.models.map((m) => [m.template_id, m.version])).toEqual(start.models.map((m) => ['tpl-chunks', m.version + 1]))
    const versions = await db()
      .selectFrom('model_versions')
      .select(['model_id', 'version', 'source', 'template_id'])
      .where('model_id', 'in', ids)
      .where('source', '=', 'template')
      .orderBy('model_id')
      .execute()
    expect(versions.map((v) => [v.model_id, Number(v.version), v.template_id])).toEqual(report.changed.map((c) => [c.id, c.version, 'tpl-chunks']))
    const entries = await db().selectFrom('audit_log').select(['target_id']).where('action', '=', 'model.update').where('target_id', 'in', ids).execute()
    expect(entries.map((e) => e.target_id).sort()).toEqual(ids)
    const summary = await db()
      .selectFrom('audit_log')
      .select(['after'])
      .where('action', '=', 'template.apply')
      .where('target_id', '=', 'tpl-chunks')
      .executeTakeFirstOrThrow()
    expect((JSON.parse(summary.after ?? '{}') as { changed: Record<string, number> }).changed).toEqual(
      Object.fromEntries(report.changed.map((c) => [c.id, c.version])),
    )

    const bulk = await send(h.admin, { method: 'POST', url: `${M}/access/bulk`, payload: bulkBody() })
    expect(bulk.statusCode, bulk.body).toBe(200)
    const changed = bulk.json<Report>().changed
    expect(changed.map((c) => [c.id, c.version])).toEqual(applied.models.map((m) => [m.id, m.version + 1]))
    expect(changed.every((c) => c.changes.length === 2)).toBe(true)
    const done = await state()
    expect(done.versions - applied.versions).toBe(COUNT)
    expect(done.audit - applied.audit).toBe(COUNT + 1)
    const accessEntries = await db()
      .selectFrom('audit_log')
      .select(['target_id'])
      .where('action', '=', 'model.access_update')
      .where('target_id', 'in', ids)
      .execute()
    expect(accessEntries.map((e) => e.target_id).sort()).toEqual(ids)
    const grants = await db().selectFrom('model_grants').select(['principal_id']).where('model_id', 'in', ids).execute()
    expect(grants.filter((g) => g.principal_id === readers)).toEqual([])
    expect(grants.filter((g) => g.principal_id === added)).toHaveLength(COUNT)
  })
})
