import type { Kysely } from 'kysely'

/**
 * Session revocation (issue #10, hole 10): every session token carries the account's token_version;
 * a password change, an admin's reset, a demotion to pending bump it, and older tokens stop working.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('token_version', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('token_version').execute()
}
