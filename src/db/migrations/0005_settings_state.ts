import type { Kysely } from 'kysely'

/**
 * A version per kind of settings, bumped in the same transaction as every change of them (issue #10,
 * hole 11): instances sharing the database compare it, at most once per SETTINGS_CHECK_INTERVAL_MS, and
 * drop what they cached when it moved, with or without Redis. One row today: `connections`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('settings_state')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .execute()
  await db
    .insertInto('settings_state' as never)
    .values({ key: 'connections', version: 0 })
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('settings_state').execute()
}
