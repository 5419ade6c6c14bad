/**
 * The dialect matrix of the test suite. Every repository and route test runs on each dialect here:
 * - sqlite: better-sqlite3 in memory;
 * - postgres: the real server at TEST_POSTGRES_URL (CI sets it), one fresh schema per database so test
 *   files run in parallel without seeing each other; PGlite when no URL is set.
 * With CI=true a missing or unreachable PostgreSQL fails the run: it never silently skips.
 * `DIALECTS=sqlite` (or `postgres`) narrows the matrix while working locally.
 */
import { randomBytes } from 'node:crypto'
import { PostgresDialect } from 'kysely'
import pg from 'pg'
import { fromDialect, createDatabase, type Database, type DialectName } from '../../src/db/database.js'
import { createPglitePool } from './pglite-pool.js'

export const DIALECTS: DialectName[] = (process.env['DIALECTS'] ?? 'sqlite,postgres')
  .split(',')
  .map((d) => d.trim())
  .filter((d): d is DialectName => d === 'sqlite' || d === 'postgres')

export interface TestDatabase extends Database {
  /** Which engine actually runs: 'sqlite', 'postgres-server' or 'pglite'. */
  engine: 'sqlite' | 'postgres-server' | 'pglite'
}

const postgresUrl = process.env['TEST_POSTGRES_URL']
if (process.env['CI'] === 'true' && DIALECTS.includes('postgres') && !postgresUrl) {
  throw new Error('CI=true but TEST_POSTGRES_URL is not set: the PostgreSQL tests must run against a real server in CI.')
}

export async function openTestDatabase(dialect: DialectName): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    return { ...createDatabase({ dialect: 'sqlite', path: ':memory:' }), engine: 'sqlite' }
  }
  if (!postgresUrl) {
    return { ...fromDialect(new PostgresDialect({ pool: createPglitePool() }), 'postgres'), engine: 'pglite' }
  }
  const schema = await freshPostgresSchema('t', postgresUrl)
  const database = createDatabase({ dialect: 'postgres', url: schema.url }, { pgPoolSize: 5 })
  return {
    ...database,
    engine: 'postgres-server',
    async close() {
      await database.close()
      await schema.drop()
    },
  }
}

/**
 * A fresh schema on a PostgreSQL server (TEST_POSTGRES_URL unless given) and the DATABASE_URL that
 * selects it; `drop()` removes it. Test databases and the durability tests' server processes use it.
 */
export async function freshPostgresSchema(tag: string, serverUrl = postgresUrl): Promise<{ url: string; schema: string; drop: () => Promise<void> }> {
  if (!serverUrl) throw new Error('TEST_POSTGRES_URL is not set')
  const schema = `${tag}_${randomBytes(6).toString('hex')}`
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 5000 })
  try {
    await client.connect()
    await client.query(`create schema ${schema}`)
  } catch (error) {
    // The host only: the URL may carry a password.
    throw new Error(`PostgreSQL at ${new URL(serverUrl).host} is unreachable: ${(error as Error).message}`, { cause: error })
  } finally {
    await client.end().catch(() => undefined)
  }
  const url = new URL(serverUrl)
  url.searchParams.set('options', `-c search_path=${schema}`)
  return {
    url: url.toString(),
    schema,
    async drop() {
      const cleaner = new pg.Client({ connectionString: serverUrl })
      await cleaner.connect()
      try {
        await cleaner.query(`drop schema if exists ${schema} cascade`)
      } finally {
        await cleaner.end().catch(() => undefined)
      }
    },
  }
}
