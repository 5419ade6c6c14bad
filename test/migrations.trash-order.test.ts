/**
 * 0015_trash_order (the trash at 1M models, S10d): an admin's trash page walks a partial index in the
 * page's order and stops after the page; a user's walks the owner index; the keys come from the index
 * alone (covering), so neither a page nor the count loads the versions it skips. Down restores 0014's index.
 */
import { CompiledQuery, sql, type Kysely } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createMigrator, migrateToLatest } from '../src/db/migrator.js'
import type { DB } from '../src/db/types.js'
import { HistoryRepo } from '../src/history/history.repo.js'
import { DIALECTS, openTestDatabase, type TestDatabase } from './support/databases.js'

const version = (modelId: string, n: number, action: 'create' | 'update' | 'delete', createdAt: number, ownerId = 'owner-1') => ({
  model_id: modelId,
  version: n,
  created_at: createdAt,
  user_id: 'admin',
  action,
  source: 'route' as const,
  owner_id: ownerId,
  snapshot: JSON.stringify({ id: modelId, name: `${modelId} v${n}` }),
  template_id: null,
})

/** The plan of the query as the dialect would run it on a large table (PostgreSQL: sequential scans and sorts priced out). */
async function planOf(db: Kysely<DB>, dialect: string, compiled: CompiledQuery): Promise<string> {
  if (dialect === 'sqlite') {
    const { rows } = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]))
    return rows.map((row) => row.detail).join('\n')
  }
  return db.transaction().execute(async (trx) => {
    // A test table is tiny, where a sequential scan and a sort are cheapest; on a large one they are not.
    await sql`set local enable_seqscan = off`.execute(trx)
    await sql`set local enable_sort = off`.execute(trx)
    const { rows } = await trx.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${compiled.sql}`, [...compiled.parameters]))
    return rows.map((row) => row['QUERY PLAN']).join('\n')
  })
}

describe.each(DIALECTS)('migration 0015_trash_order on %s', (dialect) => {
  let database: TestDatabase
  beforeEach(async () => {
    database = await openTestDatabase(dialect)
  })
  afterEach(async () => database?.close())

  it('serves trash pages from the new indexes in their order, and migrates down again', async () => {
    const migrator = await createMigrator(database)
    expect((await migrator.migrateTo('0014_history_storage')).error).toBeUndefined()
    const { db } = database
    await db
      .insertInto('model_versions')
      .values([
        // Deleted: d1 (t=300), d2 and d3 deleted at the same time (t=200: id order), d4 of another owner (t=100).
        version('d1', 1, 'create', 10),
        version('d1', 2, 'delete', 300),
        version('d2', 1, 'create', 20),
        version('d2', 2, 'delete', 200),
        version('d3', 1, 'create', 30),
        version('d3', 2, 'delete', 200),
        version('d4', 1, 'create', 40, 'owner-2'),
        version('d4', 2, 'delete', 100, 'owner-2'),
        // Deleted once, created again and live: not in the trash (its delete is not the latest version).
        version('back', 1, 'create', 50),
        version('back', 2, 'delete', 400),
        version('back', 3, 'create', 500),
      ])
      .execute()
    await db
      .insertInto('users')
      .values({ id: 'owner-1', email: 'owner-1@example.com', name: 'Owner', role: 'user', profile_image_url: '', created_at: 1, updated_at: 1 })
      .execute()
    await db
      .insertInto('models')
      .values({
        id: 'back',
        user_id: 'owner-1',
        base_model_id: 'base',
        name: 'Back',
        params: '{}',
        meta: '{}',
        is_active: 1,
        created_at: 500,
        updated_at: 500,
        version: 3,
      })
      .execute()

    expect(await migrateToLatest(database)).toContain('0015_trash_order')
    const repo = new HistoryRepo(db)
    const keys = (rows: { model_id: string; version: number }[]) => rows.map((row) => `${row.model_id}@${Number(row.version)}`)
    expect(keys(await repo.trashPage(null, 0, 10))).toEqual(['d1@2', 'd2@2', 'd3@2', 'd4@2'])
    expect(keys(await repo.trashPage(null, 1, 2))).toEqual(['d2@2', 'd3@2'])
    expect(keys(await repo.trashPage('owner-1', 0, 10))).toEqual(['d1@2', 'd2@2', 'd3@2'])
    expect((await repo.trashPage(null, 0, 1))[0]?.snapshot).toBe(JSON.stringify({ id: 'd1', name: 'd1 v2' }))
    expect(await repo.trashCount(null)).toBe(4)
    expect(await repo.trashCount('owner-2')).toBe(1)

    const adminPlan = await planOf(db, dialect, repo.trashPageQuery(null, 0, 50).compile())
    const ownerPlan = await planOf(db, dialect, repo.trashPageQuery('owner-1', 0, 50).compile())
    if (dialect === 'sqlite') {
      // In the page's order (no sort) and covering: rows skipped by the offset are never loaded.
      expect(adminPlan).toContain('SCAN mv USING COVERING INDEX model_versions_trash_all_idx')
      expect(ownerPlan).toContain('SEARCH mv USING COVERING INDEX model_versions_trash_idx (owner_id=?)')
      expect(`${adminPlan}\n${ownerPlan}`).not.toContain('TEMP B-TREE')
    } else {
      expect(adminPlan).toMatch(/Index Only Scan using model_versions_trash_all_idx on model_versions mv/)
      expect(ownerPlan).toMatch(/Index Only Scan using model_versions_trash_idx on model_versions mv/)
      expect(`${adminPlan}\n${ownerPlan}`).not.toMatch(/^\s*(->\s*)?Sort\b/m)
    }

    // Down restores 0014's trash index and drops the admin's.
    expect((await migrator.migrateTo('0014_history_storage')).error).toBeUndefined()
    if (dialect === 'sqlite') {
      const { rows } = await sql<{ name: string; sql: string }>`select name, sql from sqlite_master where name like 'model_versions_trash%'`.execute(db)
      expect(rows.map((row) => row.name)).toEqual(['model_versions_trash_idx'])
      expect(rows[0]?.sql).toMatch(/\(owner_id, created_at\) where action = 'delete'/)
    } else {
      const { rows } = await sql<{
        indexname: string
        indexdef: string
      }>`select indexname, indexdef from pg_indexes where schemaname = current_schema() and indexname like 'model_versions_trash%'`.execute(db)
      expect(rows.map((row) => row.indexname)).toEqual(['model_versions_trash_idx'])
      expect(rows[0]?.indexdef).toMatch(/\(owner_id, created_at\) WHERE \(action = 'delete'::text\)/)
    }
    expect(await new HistoryRepo(db).trashCount(null)).toBe(4)
  })
})
