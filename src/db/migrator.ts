/**
 * Versioned migrations, the same code on both dialects, applied in order on start and by
 * `npm run migrate`. Migrations are imported statically (not read from disk) so that the built
 * service and the tests run exactly the same list.
 */
import { Migrator, sql, type Migration, type MigrationResultSet } from 'kysely'
import type { Database } from './database.js'
import * as m0001 from './migrations/0001_foundation.js'
import * as m0002 from './migrations/0002_models.js'
import * as m0003 from './migrations/0003_connections.js'
import * as m0004 from './migrations/0004_session_revocation.js'
import * as m0005 from './migrations/0005_settings_state.js'
import * as m0006 from './migrations/0006_history_audit.js'
import * as m0007 from './migrations/0007_templates.js'
import * as m0008 from './migrations/0008_accounts_parity.js'
import * as m0009 from './migrations/0009_connections_parity.js'
import * as m0011 from './migrations/0011_sso.js'
import * as m0012 from './migrations/0012_scim.js'
import * as m0013 from './migrations/0013_usage.js'
import * as m0014 from './migrations/0014_history_storage.js'
import * as m0015 from './migrations/0015_trash_order.js'

export const MIGRATIONS: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_models': m0002,
  '0003_connections': m0003,
  '0004_session_revocation': m0004,
  '0005_settings_state': m0005,
  '0006_history_audit': m0006,
  '0007_templates': m0007,
  '0008_accounts_parity': m0008,
  '0009_connections_parity': m0009,
  '0011_sso': m0011,
  '0012_scim': m0012,
  '0013_usage': m0013,
  '0014_history_storage': m0014,
  '0015_trash_order': m0015,
}

/**
 * Kysely's Migrator, with one failure retried. Before migrating, Kysely looks for its bookkeeping tables
 * by introspecting every schema of the database; a schema, table or column dropped by someone else
 * meanwhile (another test file, another test run, a benchmark) makes that catalog query fail
 * ("… does not exist") before any migration has run. Only that failure is retried, a few times: nothing
 * was applied, and applying is idempotent. Every way of migrating (latest, to a name, up, down) goes
 * through it.
 */
class SchemaDropTolerantMigrator extends Migrator {
  override migrateToLatest(): Promise<MigrationResultSet> {
    return retryConcurrentSchemaDrop(() => super.migrateToLatest())
  }

  override migrateTo(target: Parameters<Migrator['migrateTo']>[0]): Promise<MigrationResultSet> {
    return retryConcurrentSchemaDrop(() => super.migrateTo(target))
  }

  override migrateUp(): Promise<MigrationResultSet> {
    return retryConcurrentSchemaDrop(() => super.migrateUp())
  }

  override migrateDown(): Promise<MigrationResultSet> {
    return retryConcurrentSchemaDrop(() => super.migrateDown())
  }
}

/** `run` again (up to 5 attempts in all) while it fails only by a concurrent schema drop, before any migration ran. */
export async function retryConcurrentSchemaDrop(run: () => Promise<MigrationResultSet>): Promise<MigrationResultSet> {
  for (let attempt = 1; ; attempt++) {
    const result = await run()
    if (!(result.error && attempt < 5 && result.results === undefined && isConcurrentSchemaDrop(result.error))) return result
    await new Promise((resolve) => setTimeout(resolve, 20 * attempt))
  }
}

/**
 * On PostgreSQL the migration bookkeeping tables live in the connection's current schema. Without
 * this, Kysely looks for them in every schema and, when another schema of the database holds its own
 * (another instance, a test run, a benchmark), believes they exist and fails.
 */
export async function createMigrator(database: Database): Promise<Migrator> {
  let migrationTableSchema: string | undefined
  if (database.dialect === 'postgres') {
    const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(database.db)
    migrationTableSchema = rows[0]?.schema
  }
  return new SchemaDropTolerantMigrator({
    db: database.db,
    provider: { getMigrations: () => Promise.resolve(MIGRATIONS) },
    ...(migrationTableSchema && { migrationTableSchema }),
  })
}

/** Applies every pending migration; throws with the failing migration's name when one fails. */
export async function migrateToLatest(database: Database): Promise<string[]> {
  const result: MigrationResultSet = await (await createMigrator(database)).migrateToLatest()
  if (!result.error) return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
  const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown'
  throw new Error(`Migration ${failed} failed`, { cause: result.error })
}

/**
 * What another session's DDL does to the catalog query while it runs: a schema, a table or a column
 * dropped under it (PostgreSQL's invalid_schema_name, undefined_table, undefined_column; the query calls
 * `has_schema_privilege` and `pg_get_serial_sequence` on each row it found, which look again).
 */
function isConcurrentSchemaDrop(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return code === '3F000' || code === '42P01' || code === '42703'
}
