/**
 * Opens the database named by the configuration: SQLite (better-sqlite3, WAL) by default, PostgreSQL
 * (pg) for postgres:// URLs. Everything above this folder talks to Kysely only and never to a driver.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { Kysely, PostgresDialect, type Dialect, type SqliteDatabase as KyselySqliteDatabase } from 'kysely'
import { FifoSqliteDialect } from './fifo-sqlite-dialect.js'
import pg from 'pg'
import type { DatabaseTarget } from '../config/env.js'
import type { DB } from './types.js'
import { watchDialect, WriteWatch } from './write-watch.js'

export type DialectName = 'sqlite' | 'postgres'

export interface Database {
  db: Kysely<DB>
  dialect: DialectName
  /** Every write to the tables caches are built on, seen at the driver (write-watch.ts). */
  watch: WriteWatch
  /** The PostgreSQL pool's connections now (metrics); absent on SQLite, which has one connection. */
  poolStats?: () => { total: number; idle: number; waiting: number }
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
    // A checkpoint (copying the WAL's pages into the file, two fsyncs) runs inside the commit that takes
    // the WAL past this many pages, on the event loop. At SQLite's default (1,000) a model write paid for
    // one every ~27 writes; at 4,000 a page rewritten by many writes is copied once for all of them:
    // pwrites per create 54.5 → 49.5, fsyncs 0.07 → 0.02 (strace, docs/performance.md "History and
    // audit"). The WAL file stays under ~16 MB.
    sqlite.pragma('wal_autocheckpoint = 4000')
    sqlite.pragma('foreign_keys = ON')
    sqlite.pragma('busy_timeout = 5000')
    // SQLite's lower() folds ASCII only; PostgreSQL's folds every letter. Searches must behave the same
    // on both ("Über" found by "über"), so lower() is replaced by JavaScript's.
    sqlite.function('lower', { deterministic: true }, (value: unknown) => (typeof value === 'string' ? value.toLowerCase() : value))
    return fromDialect(new FifoSqliteDialect({ database: withStatementCache(sqlite) }), 'sqlite')
  }
  const pool = new pg.Pool({ connectionString: target.url, max: options.pgPoolSize ?? 10, types: pgTypes })
  // An idle client that loses its server must not crash the process; the next query reports the error.
  pool.on('error', () => undefined)
  const poolStats = () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount })
  return { ...fromDialect(new PostgresDialect({ pool }), 'postgres'), poolStats }
}

/**
 * Kysely's SQLite driver prepares every query anew; preparing costs more than running most of ours.
 * The query shapes are few (values travel as parameters), so statements are kept by SQL text (LRU).
 * Safe because queries on the connection run one at a time and none is streamed (`iterate`).
 */
function withStatementCache(sqlite: SqliteDatabase.Database, size = 1000): KyselySqliteDatabase {
  const statements = new Map<string, SqliteDatabase.Statement>()
  return {
    close: () => sqlite.close(),
    prepare(sqlText: string) {
      let statement = statements.get(sqlText)
      if (statement) {
        statements.delete(sqlText) // re-insert: most recently used last
      } else {
        statement = sqlite.prepare(sqlText)
        if (statements.size >= size) statements.delete(statements.keys().next().value ?? '')
      }
      statements.set(sqlText, statement)
      return statement
    },
  }
}

/**
 * Wraps an already-built Kysely dialect (tests use it for PGlite and per-schema PostgreSQL pools); every
 * statement goes through the write watch's driver.
 */
export function fromDialect(dialect: Dialect, name: DialectName): Database {
  const watch = new WriteWatch()
  const db = new Kysely<DB>({ dialect: watchDialect(dialect, watch) })
  return { db, dialect: name, watch, close: () => db.destroy() }
}
