import { sql, SqliteAdapter, type Kysely } from 'kysely'

/**
 * Issue #12's write bar: history's cost is the pages each write adds to the database, one per b-tree
 * touched (bench/write-pages.ts, docs/performance.md "History and audit"). Two b-trees fewer per write:
 *
 * - The trash index holds deletion versions only (partial, `action = 'delete'`): every other version
 *   skipped an index insert it never needed (the trash is the only reader of that index; its query
 *   names the action as a literal so that both dialects can use the partial index).
 * - On SQLite, `audit_log` is a WITHOUT ROWID table keyed by its id: the entries live in the primary
 *   key's b-tree instead of a rowid table plus a separate primary-key index. Ids sort by time, so new
 *   entries go to the last page. (PostgreSQL has no rowid: nothing to change there.) Rows are small
 *   (ids, action, short JSON), which is where WITHOUT ROWID pays; model_versions keeps its rowid table
 *   because its snapshots are often larger than the ~1 kB a WITHOUT ROWID leaf keeps in-page.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('model_versions_action_idx').execute()
  await sql`create index model_versions_trash_idx on model_versions (owner_id, created_at) where action = 'delete'`.execute(db)
  if (isSqlite(db)) await rebuildAuditLog(db, 'without rowid')
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (isSqlite(db)) await rebuildAuditLog(db, '')
  await db.schema.dropIndex('model_versions_trash_idx').execute()
  await db.schema.createIndex('model_versions_action_idx').on('model_versions').columns(['action', 'owner_id', 'created_at']).execute()
}

function isSqlite(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter
}

/** SQLite cannot change a table's kind in place: copy into a new table, swap, re-create the indexes. */
async function rebuildAuditLog(db: Kysely<unknown>, options: 'without rowid' | ''): Promise<void> {
  await sql`create table audit_log_rebuilt (
    id text primary key not null, at bigint not null, actor_id text, action text not null, target_type text,
    target_id text, ip text, request_id text, before text, after text
  ) ${sql.raw(options)}`.execute(db)
  await sql`insert into audit_log_rebuilt (id, at, actor_id, action, target_type, target_id, ip, request_id, before, after)
    select id, at, actor_id, action, target_type, target_id, ip, request_id, before, after from audit_log`.execute(db)
  await db.schema.dropTable('audit_log').execute()
  await sql`alter table audit_log_rebuilt rename to audit_log`.execute(db)
  await db.schema.createIndex('audit_log_actor_idx').on('audit_log').columns(['actor_id', 'id']).execute()
  await db.schema.createIndex('audit_log_action_idx').on('audit_log').columns(['action', 'id']).execute()
  await db.schema.createIndex('audit_log_target_idx').on('audit_log').columns(['target_id', 'id']).execute()
}
