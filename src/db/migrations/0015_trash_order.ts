import { sql, type Kysely } from 'kysely'

/**
 * The trash read every deletion version at 1M models (10k deletions: S10d, admin, 8 req/s): 0014's
 * partial index (owner_id, created_at) could neither order an admin's page (no owner) nor answer the
 * trash's checks without loading each version's row, snapshot and all, from a multi-GB table.
 *
 * - `model_versions_trash_all_idx` (created_at desc, model_id, version), deletions only: an admin's page
 *   walks it in the page's order (created_at desc, model_id) and stops after the page; the count reads it
 *   alone (covering: the newest-version and live-row checks need model_id and version, both in it).
 * - `model_versions_trash_idx` (0014's name) becomes (owner_id, created_at desc, model_id, version): the
 *   same for one owner's trash.
 *
 * Deletions are rare writes, so one more index entry per deletion costs nothing on the write bar
 * (docs/performance.md, "History and audit"). The literal `action = 'delete'` in history.repo.ts is what
 * lets either dialect use these partial indexes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index model_versions_trash_all_idx on model_versions (created_at desc, model_id, version) where action = 'delete'`.execute(db)
  await db.schema.dropIndex('model_versions_trash_idx').execute()
  await sql`create index model_versions_trash_idx on model_versions (owner_id, created_at desc, model_id, version) where action = 'delete'`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('model_versions_trash_idx').execute()
  await sql`create index model_versions_trash_idx on model_versions (owner_id, created_at) where action = 'delete'`.execute(db)
  await db.schema.dropIndex('model_versions_trash_all_idx').execute()
}
