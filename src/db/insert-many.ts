/**
 * Many rows into one table in as few statements as the dialect does best (import, template apply, bulk
 * access, history, audit, usage).
 *
 * PostgreSQL: one statement whose only parameter is the rows as JSON, unpacked by the server with the
 * table's own row type (`json_populate_recordset`). A multi-row INSERT of 500 rows × 15 columns was 7,500
 * parameters: node-postgres prepared and framed each on the event loop, and PostgreSQL parsed a statement
 * of 7,500 placeholders every time (docs/performance.md, "PostgreSQL bulk writes").
 *
 * SQLite: multi-row INSERTs of 500 rows through Kysely (the driver is in-process: there is no statement
 * to frame, and one JSON document per batch would only add a parse).
 */
import { CompiledQuery, PostgresAdapter, type Insertable } from 'kysely'
import type { Executor } from './executor.js'
import type { DB } from './types.js'

/** Rows per multi-row INSERT on SQLite: 500 rows × ≤ 15 columns stays under its parameter bound. */
const SQLITE_ROWS_PER_STATEMENT = 500
/** Rows per statement on PostgreSQL, and the JSON text one may hold: a chunk ends at whichever comes first. */
const POSTGRES_ROWS_PER_STATEMENT = 2000
/**
 * Characters of JSON per statement at most (a row longer than this goes alone). Text that is itself JSON
 * (params, snapshots) is escaped once more in it, so rows of an import raised to hundreds of MB
 * (IMPORT_BODY_LIMIT_BYTES) would otherwise pass V8's longest string or PostgreSQL's 1 GB per value.
 */
const POSTGRES_CHARS_PER_STATEMENT = 32 * 1024 * 1024

export async function insertMany<T extends keyof DB>(db: Executor, table: T, rows: readonly Insertable<DB[T]>[]): Promise<void> {
  if (rows.length === 0) return
  const columns = sameColumns(rows)
  if (columns && db.getExecutor().adapter instanceof PostgresAdapter) {
    const list = columns.map((c) => `"${c}"`).join(', ')
    // The statement text depends on the table and its columns only: the server's plan cache sees a few.
    const text = `insert into "${table}" (${list}) select ${list} from json_populate_recordset(null::"${table}", $1::json)`
    for (const json of jsonChunks(rows)) await db.executeQuery(CompiledQuery.raw(text, [json]))
    return
  }
  // Rows of different columns (a column left undefined takes its default in Kysely's builder, where the
  // JSON form would give NULL) and SQLite go through the builder.
  for (let i = 0; i < rows.length; i += SQLITE_ROWS_PER_STATEMENT) {
    await db
      .insertInto(table)
      .values(rows.slice(i, i + SQLITE_ROWS_PER_STATEMENT))
      .execute()
  }
}

/**
 * The rows as JSON arrays of at most `maxRows` rows and (but for a lone row) `maxChars` characters each
 * (exported for its test).
 */
export function* jsonChunks(rows: readonly object[], maxRows = POSTGRES_ROWS_PER_STATEMENT, maxChars = POSTGRES_CHARS_PER_STATEMENT): Generator<string> {
  let parts: string[] = []
  let chars = 0
  for (const row of rows) {
    const json = postgresJsonText(row)
    if (parts.length > 0 && (parts.length === maxRows || chars + json.length > maxChars)) {
      yield `[${parts.join(',')}]`
      parts = []
      chars = 0
    }
    parts.push(json)
    chars += json.length + 1
  }
  if (parts.length > 0) yield `[${parts.join(',')}]`
}

/** The columns every row sets (defined), or undefined when rows differ. */
function sameColumns(rows: readonly object[]): string[] | undefined {
  const first = rows[0] as Record<string, unknown>
  const columns = Object.keys(first).filter((key) => first[key] !== undefined)
  for (const row of rows as readonly Record<string, unknown>[]) {
    let count = 0
    for (const key in row) if (row[key] !== undefined) count++
    if (count !== columns.length) return undefined
    for (const column of columns) if (row[column] === undefined) return undefined
  }
  return columns
}

const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g
/** JSON.stringify writes an unpaired surrogate as an escape (`\udXXX`), which PostgreSQL's JSON refuses. */
const SURROGATE_ESCAPE = /\\ud[89a-f]/i

/**
 * `value` as JSON text PostgreSQL's json and jsonb accept, its strings stored as the driver stores text:
 * an unpaired surrogate becomes U+FFFD (as its UTF-8 encoding does). A NUL stays, and fails as it did as a
 * text parameter: PostgreSQL's text cannot hold it (requests refuse both, schema/common.ts).
 */
export function postgresJsonText(value: unknown): string {
  const text = JSON.stringify(value)
  if (!SURROGATE_ESCAPE.test(text)) return text
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? v.replace(UNPAIRED_SURROGATE, '\uFFFD') : v))
}
