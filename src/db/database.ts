/**
 * Opens the database named by the configuration: SQLite (better-sqlite3, WAL) by default, PostgreSQL
 * (pg) for postgres:// URLs. Everything above this folder talks to Kysely only and never to a driver.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect, type Dialect } from 'kysely'
import pg from 'pg'
import type { DatabaseTarget } from '../config/env.js'
import type { DB } from './types.js'

export type DialectName = 'sqlite' | 'postgres'

export interface Database {
  db: Kysely<DB>
  dialect: DialectName
  close(): Promise<void>
}

const PG_INT8_OID = 20
const PG_NUMERIC_OID = 1700

/**
 * pg returns int8 (bigint, COUNT(*)) as strings to avoid precision loss; our int8 values are epoch
 * seconds and counts, far below 2^53, so numbers are safe and keep both dialects returning one type.
 */
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (oid === PG_INT8_OID || oid === PG_NUMERIC_OID) return (value: string) => Number(value)
    return pg.types.getTypeParser(oid, format) as (value: string) => unknown
  },
}

export function createDatabase(target: DatabaseTarget, options: { pgPoolSize?: number } = {}): Database {
  if (target.dialect === 'sqlite') {
    if (target.path !== ':memory:') mkdirSync(dirname(target.path), { recursive: true })
    const sqlite = new SqliteDatabase(target.path)
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('synchronous = NORMAL')
    sqlite.pragma('foreign_keys = ON')
    sqlite.pragma('busy_timeout = 5000')
    return fromDialect(new SqliteDialect({ database: sqlite }), 'sqlite')
  }
  const pool = new pg.Pool({ connectionString: target.url, max: options.pgPoolSize ?? 10, types: pgTypes })
  // An idle client that loses its server must not crash the process; the next query reports the error.
  pool.on('error', () => undefined)
  return fromDialect(new PostgresDialect({ pool }), 'postgres')
}

/** Wraps an already-built Kysely dialect (tests use it for PGlite and per-schema PostgreSQL pools). */
export function fromDialect(dialect: Dialect, name: DialectName): Database {
  const db = new Kysely<DB>({ dialect })
  return { db, dialect: name, close: () => db.destroy() }
}
