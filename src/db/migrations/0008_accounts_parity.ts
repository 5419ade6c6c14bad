import type { Kysely } from 'kysely'

/**
 * Open WebUI parity for accounts, users and groups (issue #14, items 1 to 3; docs/auth.md).
 *
 * - `app_settings`: settings an admin changes at run time, one JSON value per key (`auth.admin_config`:
 *   sign-up, default role, API keys, token lifetime; `users.default_permissions`: the permissions every
 *   user has before groups). A missing row means "as the environment says".
 * - `users.kept_token`: sha256 of the one session token a password change keeps (the caller's own); every
 *   other token of an older `token_version` is revoked. Any other revocation clears it.
 * - `groups.data`: Open WebUI's free `data` object of a group (JSON text; `data.config.share` decides
 *   which groups are offered as share targets). Null: none.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('app_settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.alterTable('users').addColumn('kept_token', 'text').execute()
  await db.schema.alterTable('groups').addColumn('data', 'text').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('groups').dropColumn('data').execute()
  await db.schema.alterTable('users').dropColumn('kept_token').execute()
  await db.schema.dropTable('app_settings').execute()
}
