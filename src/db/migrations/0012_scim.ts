import type { Kysely } from 'kysely'

/**
 * SCIM 2.0 provisioning (issue #15, item 4; docs/sso.md, "SCIM").
 *
 * - `scim_users`: the accounts the SCIM client provisioned or took over (a row is the `scim` marker),
 *   with the client's `externalId` (unique; null when it sent none). Goes with the account (cascade).
 * - `scim_groups`: the same for groups.
 *
 * Tables of their own rather than columns on `users` and `groups`: the account and group rows, and every
 * feature that writes them, stay as they are.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('scim_users')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('external_id', 'text', (c) => c.unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema
    .createTable('scim_groups')
    .addColumn('group_id', 'text', (c) => c.primaryKey().references('groups.id').onDelete('cascade'))
    .addColumn('external_id', 'text', (c) => c.unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('scim_groups').execute()
  await db.schema.dropTable('scim_users').execute()
}
