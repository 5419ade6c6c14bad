/**
 * 0014_history_storage (docs/performance.md, "History and audit"): the audit log becomes a WITHOUT ROWID
 * table on SQLite and the trash index holds deletion versions only. Existing entries and versions must
 * come through unchanged, the trash must still find its rows through the new index, and down must undo it.
 */
import { sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createMigrator, migrateToLatest } from '../src/db/migrator.js'
import { DIALECTS, openTestDatabase, type TestDatabase } from './support/databases.js'

const entry = (id: string, action: string, targetId: string) => ({
  id,
  at: 1_700_000_000,
  actor_id: 'admin',
  action,
  target_type: 'model',
  target_id: targetId,
  ip: '127.0.0.1',
  request_id: `req-${id}`,
  before: null,
  after: '{"version":1}',
})
const version = (modelId: string, n: number, action: 'create' | 'update' | 'delete') => ({
  model_id: modelId,
  version: n,
  created_at: 1_700_000_000 + n,
  user_id: 'admin',
  action,
  source: 'route' as const,
  owner_id: 'owner-1',
  snapshot: JSON.stringify({ id: modelId, name: `v${n}` }),
  template_id: null,
})

describe.each(DIALECTS)('migration 0014_history_storage on %s', (dialect) => {
  let database: TestDatabase
  beforeEach(async () => {
    database = await openTestDatabase(dialect)
  })
  afterEach(async () => database?.close())

  it('keeps every audit entry and version, swaps the trash index, and migrates down again', async () => {
    const migrator = await createMigrator(database)
    expect((await migrator.migrateTo('0013_usage')).error).toBeUndefined()
    const { db } = database
    const entries = [entry('0001700000000000-0000-aaaa', 'model.create', 'm1'), entry('0001700000000001-0000-aaaa', 'model.delete', 'm1')]
    await db.insertInto('audit_log').values(entries).execute()
    await db
      .insertInto('model_versions')
      .values([version('m1', 1, 'create'), version('m1', 2, 'delete'), version('m2', 1, 'create')])
      .execute()

    expect(await migrateToLatest(database)).toContain('0014_history_storage')
    expect(await db.selectFrom('audit_log').selectAll().orderBy('id').execute()).toEqual(entries)
    expect(await db.selectFrom('model_versions').select(['model_id', 'version', 'action']).orderBy('model_id').orderBy('version').execute()).toEqual([
      { model_id: 'm1', version: 1, action: 'create' },
      { model_id: 'm1', version: 2, action: 'delete' },
      { model_id: 'm2', version: 1, action: 'create' },
    ])
    // The id stays the key: a second entry with the same id is refused.
    await expect(
      db
        .insertInto('audit_log')
        .values(entries[0] as (typeof entries)[number])
        .execute(),
    ).rejects.toThrow()

    if (dialect === 'sqlite') {
      const { rows } = await sql<{ sql: string }>`select sql from sqlite_master where name = 'audit_log'`.execute(db)
      expect(rows[0]?.sql.toLowerCase()).toContain('without rowid')
      const plan = await sql<{
        detail: string
      }>`explain query plan select * from model_versions where action = 'delete' and owner_id = 'owner-1' order by created_at desc`.execute(db)
      expect(plan.rows.map((r) => r.detail).join(' ')).toContain('model_versions_trash_idx')
    } else {
      const { rows } = await sql<{
        indexdef: string
      }>`select indexdef from pg_indexes where schemaname = current_schema() and indexname = 'model_versions_trash_idx'`.execute(db)
      expect(rows[0]?.indexdef).toMatch(/WHERE \(action = 'delete'::text\)/)
    }

    // Down restores the previous shape with the data.
    expect((await migrator.migrateTo('0013_usage')).error).toBeUndefined()
    expect(await db.selectFrom('audit_log').selectAll().orderBy('id').execute()).toEqual(entries)
    if (dialect === 'sqlite') {
      const { rows } = await sql<{ sql: string }>`select sql from sqlite_master where name = 'audit_log'`.execute(db)
      expect(rows[0]?.sql.toLowerCase()).not.toContain('without rowid')
    }
  })
})
