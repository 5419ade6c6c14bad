/**
 * The empty database a benchmark script seeds: a SQLite file under /tmp or a PostgreSQL schema, both
 * named by `name` and recreated on each call, with the DATABASE_URL the server under test is given.
 */
import { mkdirSync, rmSync } from 'node:fs'
import pg from 'pg'
import { createDatabase, type Database } from '../src/db/database.js'

export const PG_URL = process.env['BENCH_POSTGRES_URL'] ?? process.env['TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'

export async function freshBenchDatabase(dialect: 'sqlite' | 'postgres', name: string): Promise<{ url: string; database: Database }> {
  if (dialect === 'sqlite') {
    const dir = '/tmp/modelgate-bench'
    mkdirSync(dir, { recursive: true })
    const path = `${dir}/${name}.db`
    for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true })
    return { url: `sqlite://${path}`, database: createDatabase({ dialect: 'sqlite', path }) }
  }
  const admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
  await admin.query(`drop schema if exists ${name} cascade; create schema ${name}`)
  await admin.end()
  const url = new URL(PG_URL)
  url.searchParams.set('options', `-c search_path=${name}`)
  return { url: url.toString(), database: createDatabase({ dialect: 'postgres', url: url.toString() }) }
}
