import type { Kysely } from 'kysely'

/**
 * Issue #12: every change of a model is a version, and security-relevant events go to an audit log.
 *
 * - `models.version`: the model's current version (its ETag). 0 on rows older than history: their
 *   first recorded change first records their state as it was (version 1, action `baseline`).
 * - `model_versions`: one full snapshot per version, per model id, gapless. Rows stay when the model
 *   is deleted (its last version is the deletion, holding the last state), which is what the trash
 *   lists and restores.
 * - `audit_log`: append-only. `id` sorts by time (see src/audit/audit-log.ts), the cursor of its pages.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('models')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()

  await db.schema
    .createTable('model_versions')
    .addColumn('model_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('user_id', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    /** The model's owner at this version (the snapshot's user_id, kept as a column for the trash's "your own" filter). */
    .addColumn('owner_id', 'text')
    /** JSON text: {id, user_id, base_model_id, name, params, meta, is_active, access_grants} */
    .addColumn('snapshot', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('model_versions_pk', ['model_id', 'version'])
    .execute()
  // The trash: deletion versions, by owner for a user's own trash.
  await db.schema.createIndex('model_versions_action_idx').on('model_versions').columns(['action', 'owner_id', 'created_at']).execute()

  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text')
    .addColumn('target_id', 'text')
    .addColumn('ip', 'text')
    .addColumn('request_id', 'text')
    /** JSON text or null; never a secret (see src/audit/redact.ts). */
    .addColumn('before', 'text')
    .addColumn('after', 'text')
    .execute()
  await db.schema.createIndex('audit_log_actor_idx').on('audit_log').columns(['actor_id', 'id']).execute()
  await db.schema.createIndex('audit_log_action_idx').on('audit_log').columns(['action', 'id']).execute()
  await db.schema.createIndex('audit_log_target_idx').on('audit_log').columns(['target_id', 'id']).execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('audit_log').execute()
  await db.schema.dropTable('model_versions').execute()
  await db.schema.alterTable('models').dropColumn('version').execute()
}
