import type { Kysely } from 'kysely'

/** Provider connections managed through the admin API (issue #4); environment ones are not stored. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('connections')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('base_url', 'text', (c) => c.notNull())
    // AES-256-GCM ciphertext of the key (src/providers/key-box.ts); never returned.
    .addColumn('api_key_enc', 'text')
    .addColumn('key_hint', 'text')
    .addColumn('prefix_id', 'text')
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('connections').execute()
}
