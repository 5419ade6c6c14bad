import { sql, type Kysely, type SqlBool, type Transaction } from 'kysely'
import type { Database, DialectName } from './database.js'
import type { DB } from './types.js'

/** Anything queries can run on: the database or an open transaction. */
export type Executor = Kysely<DB> | Transaction<DB>

export const epochSeconds = (): number => Math.floor(Date.now() / 1000)

/**
 * Serialises a critical section across connections inside a transaction. SQLite needs nothing (one
 * writer, and Kysely runs one transaction at a time on its connection); PostgreSQL takes a transaction-
 * scoped advisory lock so that e.g. two simultaneous first sign-ups cannot both become admin.
 */
export async function lockInTransaction(database: Database, trx: Transaction<DB>, name: string): Promise<void> {
  if (database.dialect === 'postgres') {
    await sql`select pg_advisory_xact_lock(hashtext(${name}))`.execute(trx)
  }
}

/**
 * Locks the rows a read inside a transaction returns until the transaction ends, so that a read-check-
 * write of one row (a model and its grants) is never interleaved with another writer's: `FOR UPDATE` on
 * PostgreSQL (a writer that comes second waits, then sees the row as committed, or no row if it was
 * deleted). SQLite has no row locks and needs none: the FIFO dialect hands its one connection to one
 * transaction at a time, from BEGIN to COMMIT, so transactions never interleave.
 */
export function forUpdate<Q extends { forUpdate(): Q }>(query: Q, dialect: DialectName): Q {
  return dialect === 'postgres' ? query.forUpdate() : query
}

/**
 * Holds the rows a read inside a transaction returns against deletion until the transaction ends, while
 * letting other holders share them: `FOR SHARE` on PostgreSQL (a writer that locks them `FOR UPDATE`
 * waits). SQLite needs nothing, as for forUpdate.
 */
export function forShare<Q extends { forShare(): Q }>(query: Q, dialect: DialectName): Q {
  return dialect === 'postgres' ? query.forShare() : query
}

/** Escapes `%`, `_` and `\` so user text is matched literally by LIKE … ESCAPE '\'. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}

/**
 * `lower(column) LIKE %text% ESCAPE '\'`: a case-insensitive literal substring match. ESCAPE is explicit
 * because SQLite's LIKE has no default escape character (PostgreSQL's is `\`).
 */
export function containsText(column: string, text: string) {
  const pattern = `%${escapeLike(text.toLowerCase())}%`
  return sql<SqlBool>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`
}
