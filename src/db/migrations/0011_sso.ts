import type { Kysely } from 'kysely'

/**
 * OpenID Connect sign-in (issue #15, items 1 to 3; docs/sso.md).
 *
 * - `users.oauth_sub`: the account's subject at the identity provider (`oidc@<sub>`, Open WebUI's
 *   `provider@sub` form), unique; null for an account that never signed in through it. A sign-in finds
 *   its account by this first, then (OAUTH_MERGE_ACCOUNTS_BY_EMAIL, verified emails only) by email.
 * - `groups.managed_by`: who keeps the group's member list (`oidc`: the provider's groups claim, synced
 *   at every sign-in); null for a group administered by hand. Member changes through the API are refused
 *   on a managed group.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('oauth_sub', 'text').execute()
  await db.schema.createIndex('users_oauth_sub_unique').unique().on('users').column('oauth_sub').execute()
  await db.schema.alterTable('groups').addColumn('managed_by', 'text').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('groups').dropColumn('managed_by').execute()
  await db.schema.dropIndex('users_oauth_sub_unique').execute()
  await db.schema.alterTable('users').dropColumn('oauth_sub').execute()
}
