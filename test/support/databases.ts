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
  const schema = `t_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 5000 })
  try {
    await admin.connect()
    await admin.query(`create schema ${schema}`)
  } catch (error) {
    throw new Error(`PostgreSQL at TEST_POSTGRES_URL is unreachable: ${(error as Error).message}`, { cause: error })
  } finally {
    await admin.end().catch(() => undefined)
  }
  const url = new URL(postgresUrl)
  url.searchParams.set('options', `-c search_path=${schema}`)
  const database = createDatabase({ dialect: 'postgres', url: url.toString() }, { pgPoolSize: 5 })
  return {
    ...database,
    engine: 'postgres-server',
    async close() {
      await database.close()
      const cleaner = new pg.Client({ connectionString: postgresUrl })
      await cleaner.connect()
      await cleaner.query(`drop schema ${schema} cascade`)
      await cleaner.end()
    },
  }
}
