import type { Kysely } from 'kysely'

/**
 * Open WebUI's per-connection settings (issue #14 item 5), kept on modelgate's own connections so that
 * `/openai/config` and `/ollama/config` and `/api/v1/connections` are two views of one store:
 * `model_ids` (JSON text: OpenAI kind, the list served without asking the provider; Ollama kind, an
 * allowlist), `tags` (JSON text, `[{name, …}]` added to every model of the connection) and
 * `connection_type` (`local` | `external`; null = the kind's default); `position` keeps the order of
 * creation exact (Open WebUI addresses connections by index; rows created in one second tie on
 * `created_at`; null on older rows, which sort first). `provider_apis` holds the two
 * global switches `ENABLE_OPENAI_API` and `ENABLE_OLLAMA_API` (no row = enabled).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('connections').addColumn('model_ids', 'text').execute()
  await db.schema.alterTable('connections').addColumn('tags', 'text').execute()
  await db.schema.alterTable('connections').addColumn('connection_type', 'text').execute()
  // Open WebUI addresses connections by position (urlIdx): creation seconds alone tie.
  await db.schema.alterTable('connections').addColumn('position', 'bigint').execute()
  await db.schema
    .createTable('provider_apis')
    .addColumn('kind', 'text', (c) => c.primaryKey())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('provider_apis').execute()
  await db.schema.alterTable('connections').dropColumn('position').execute()
  await db.schema.alterTable('connections').dropColumn('connection_type').execute()
  await db.schema.alterTable('connections').dropColumn('tags').execute()
  await db.schema.alterTable('connections').dropColumn('model_ids').execute()
}
