import type { Kysely } from 'kysely'

/**
 * Usage analytics (issue #17, item 7; docs/analytics.md): one row per gateway call, written in batches by
 * src/analytics/usage-recorder.ts, read by the analytics routes, pruned after USAGE_RETENTION_DAYS.
 *
 * No foreign keys: rows are a ledger written off the request's path, and a deleted account's or
 * connection's usage still counts in the totals of its time (answers show such a user without a name).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('usage_events')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    /** The id the caller called: a preset or a provider model. */
    .addColumn('model_id', 'text', (c) => c.notNull())
    /** The provider model that served it (the end of the base chain). */
    .addColumn('base_model_id', 'text', (c) => c.notNull())
    .addColumn('connection_id', 'text', (c) => c.notNull())
    /** chat, responses, embeddings or completions. */
    .addColumn('endpoint', 'text', (c) => c.notNull())
    .addColumn('stream', 'integer', (c) => c.notNull())
    /** The provider's HTTP status; 0 when it never answered (timeout, refused connection). */
    .addColumn('status', 'integer', (c) => c.notNull())
    /** Null on success, else the error code (docs/errors.md) or CALLER_GONE. */
    .addColumn('error', 'text')
    .addColumn('prompt_tokens', 'integer', (c) => c.notNull())
    .addColumn('completion_tokens', 'integer', (c) => c.notNull())
    .addColumn('total_tokens', 'integer', (c) => c.notNull())
    .addColumn('latency_ms', 'integer', (c) => c.notNull())
    .addColumn('first_chunk_ms', 'integer')
    .execute()
  await db.schema.createIndex('usage_events_time_idx').on('usage_events').columns(['created_at']).execute()
  await db.schema.createIndex('usage_events_user_idx').on('usage_events').columns(['user_id', 'created_at']).execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('usage_events').execute()
}
