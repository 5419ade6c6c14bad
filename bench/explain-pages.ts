/**
 * The list plans' cost in the database alone (issue #17): EXPLAIN ANALYZE (PostgreSQL) of page 1, of a
 * deep page by OFFSET and of the same page by keyset, for each reader shape, on a schema that
 * bench/pg-writes.ts generated.
 *
 *   npx tsx bench/explain-pages.ts --schema pgw_40000_after --page 666
 */
import { CompiledQuery, sql } from 'kysely'
import type { Principals } from '../src/access/model-grants.js'
import { createDatabase } from '../src/db/database.js'
import { ModelsRepo, type PageOptions } from '../src/models/models.repo.js'

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback
}
const PG_URL = process.env['BENCH_POSTGRES_URL'] ?? process.env['TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'
const url = new URL(PG_URL)
url.searchParams.set('options', `-c search_path=${arg('--schema', 'pgw_40000_after')}`)
const deep = Number(arg('--page', '666'))
const database = createDatabase({ dialect: 'postgres', url: url.toString() })
const repo = new ModelsRepo(database.db)

async function groupsOf(userId: string): Promise<string[]> {
  const rows = await database.db.selectFrom('group_members').select('group_id').where('user_id', '=', userId).execute()
  return rows.map((row) => row.group_id)
}

/** Execution time in ms (median of 5 EXPLAIN ANALYZE runs) and the plan's first node. */
async function cost(query: { compile(): CompiledQuery }): Promise<string> {
  const compiled = query.compile()
  const times: number[] = []
  let top = ''
  for (let i = 0; i < 5; i++) {
    const result = await database.db.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain analyze ${compiled.sql}`, [...compiled.parameters]))
    const lines = result.rows.map((row) => row['QUERY PLAN'])
    times.push(Number(/Execution Time: ([\d.]+)/.exec(lines.at(-1) ?? '')?.[1] ?? NaN))
    top =
      lines
        .find((line) => /Scan/.test(line))
        ?.trim()
        .replace(/\s+\(cost.*$/, '') ?? ''
  }
  times.sort((a, b) => a - b)
  return `${(times[2] ?? 0).toFixed(2)} ms (${top})`
}

const shapes: [string, string, boolean][] = [
  ['admin', 'bench-admin', true],
  ['dense (~90%)', 'bench-dense', false],
  ['sparse (~13)', 'bench-sparse', false],
  ['user 1k', 'bench-1k', false],
]
await sql`analyze`.execute(database.db)
for (const [label, userId, admin] of shapes) {
  const who: Principals = { userId, role: admin ? 'admin' : 'user', groupIds: await groupsOf(userId), bypass: admin }
  const plan = await repo.planFor(who)
  const page: PageOptions = { orderBy: 'updated_at', direction: 'desc', offset: 0, limit: 30 }
  const first = await cost(repo.listPageQuery({ who }, plan, page))
  const offset = await cost(repo.listPageQuery({ who }, plan, { ...page, offset: (deep - 1) * 30 }))
  const [boundary] = await repo.listPage({ who }, plan, { ...page, offset: (deep - 1) * 30 - 1, limit: 1 })
  const keyset = boundary ? await cost(repo.listPageQuery({ who }, plan, { ...page, after: { key: boundary.updated_at, id: boundary.id } })) : 'n/a'
  console.log(`${label} [${plan}]: page 1 ${first}; page ${deep} by OFFSET ${offset}; by keyset ${keyset}`)
}
await database.close()
