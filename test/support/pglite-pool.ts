/**
 * Lets Kysely's PostgresDialect drive PGlite (PostgreSQL compiled to WASM) where no PostgreSQL server
 * runs. PGlite is one connection, so connect() hands it out to one caller at a time, like a pool of 1.
 */
import { PGlite } from '@electric-sql/pglite'
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely'

const INT8 = 20
const NUMERIC = 1700

export function createPglitePool(): PostgresPool & { pglite: PGlite } {
  const pglite = new PGlite({ parsers: { [INT8]: Number, [NUMERIC]: Number } })
  let queue: Promise<void> = Promise.resolve()

  const client = {
    async query<R>(sqlText: string, parameters: readonly unknown[]): Promise<PostgresQueryResult<R>> {
      const result = await pglite.query<R>(sqlText, [...parameters])
      const command = /^\s*(\w+)/.exec(sqlText)?.[1]?.toUpperCase() ?? 'SELECT'
      return {
        command: command as PostgresQueryResult<R>['command'],
        rowCount: result.affectedRows ?? result.rows.length,
        rows: result.rows,
      }
    },
  }

  return {
    pglite,
    async connect(): Promise<PostgresPoolClient> {
      let release: () => void = () => undefined
      const previous = queue
      queue = new Promise<void>((resolve) => (release = resolve))
      await previous
      return { ...client, release } as unknown as PostgresPoolClient
    },
    async end(): Promise<void> {
      await pglite.close()
    },
  }
}
