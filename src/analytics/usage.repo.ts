/**
 * The usage ledger's SQL (migration 0013): batched inserts, pruning, and the aggregates the analytics
 * routes answer with. Every read is one range of `created_at` (indexed), narrowed to one account or to the
 * current members of one group. Percentiles are exact, through window functions both dialects have.
 */
import { CompiledQuery, sql, type ExpressionBuilder, type SelectQueryBuilder } from 'kysely'
import type { Database, DialectName } from '../db/database.js'
import type { DB, UsageEventsTable } from '../db/types.js'
import { postgresJsonText } from '../db/insert-many.js'

export type UsageRow = UsageEventsTable

/** The columns of a row in the order of a flat batch (`USAGE_COLUMNS.length` values per row, see `flatten`). */
export const USAGE_COLUMNS = [
  'created_at',
  'user_id',
  'model_id',
  'base_model_id',
  'connection_id',
  'endpoint',
  'stream',
  'status',
  'error',
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'latency_ms',
  'first_chunk_ms',
] as const satisfies readonly (keyof UsageRow)[]

/** A usage batch as one flat array: each row's values in `USAGE_COLUMNS` order, row after row. */
export type UsageValues = (string | number | null)[]

export function flatten(rows: readonly UsageRow[]): UsageValues {
  const values: UsageValues = []
  for (const row of rows) for (const column of USAGE_COLUMNS) values.push(row[column])
  return values
}

/** `insert into usage_events (…) values (…), …` for `rows` rows, with the dialect's placeholders. */
export function insertSql(dialect: DialectName, rows: number): string {
  const width = USAGE_COLUMNS.length
  const tuples: string[] = []
  for (let r = 0; r < rows; r++) {
    const marks = USAGE_COLUMNS.map((_, c) => (dialect === 'postgres' ? `$${r * width + c + 1}` : '?'))
    tuples.push(`(${marks.join(', ')})`)
  }
  return `insert into "usage_events" (${USAGE_COLUMNS.map((c) => `"${c}"`).join(', ')}) values ${tuples.join(', ')}`
}

/** Each column's PostgreSQL type, for the casts of the batch insert (migration 0013). */
const POSTGRES_TYPES: Record<(typeof USAGE_COLUMNS)[number], string> = {
  created_at: 'bigint',
  user_id: 'text',
  model_id: 'text',
  base_model_id: 'text',
  connection_id: 'text',
  endpoint: 'text',
  stream: 'integer',
  status: 'integer',
  error: 'text',
  prompt_tokens: 'integer',
  completion_tokens: 'integer',
  total_tokens: 'integer',
  latency_ms: 'integer',
  first_chunk_ms: 'integer',
}

/**
 * PostgreSQL's batch insert: `$1` is the flat batch as a JSON array, row `i`'s column `k` its element
 * `i × width + k` (a jsonb array's element is reached by index without a scan). One statement: atomic.
 */
const POSTGRES_BATCH_INSERT = (() => {
  const width = USAGE_COLUMNS.length
  const columns = USAGE_COLUMNS.map((c) => `"${c}"`).join(', ')
  const fields = USAGE_COLUMNS.map((c, k) => `(batch.v ->> (i * ${width} + ${k}))::${POSTGRES_TYPES[c]}`).join(', ')
  return `insert into "usage_events" (${columns}) select ${fields} from (select $1::jsonb as v) as batch, generate_series(0, jsonb_array_length(batch.v) / ${width} - 1) as i`
})()

/**
 * The batch as JSON PostgreSQL accepts (src/db/insert-many.ts: an unpaired surrogate becomes U+FFFD). A NUL,
 * which its text cannot hold, becomes U+FFFD too, rather than failing the whole batch (ids are checked on
 * the way in; this is a safety net for a ledger written off the request's path).
 */
function jsonbText(values: UsageValues): string {
  const text = postgresJsonText(values)
  if (!text.includes('\\u0000')) return text
  return postgresJsonText(values.map((v) => (typeof v === 'string' ? v.replaceAll('\0', '\uFFFD') : v)))
}

/** The rows a query reads: [start, end) in epoch seconds, one account's, or one group's members'. */
export interface UsageFilter {
  start: number
  end: number
  userId: string | null
  groupId: string | null
}

/**
 * Rows per INSERT statement at most: 14 columns × 256 stays far below both dialects' bound on parameters.
 * A batch is cut into chunks of 256, 128, …, 1 rows, so at most nine statement texts exist (each built
 * once, and prepared once by the SQLite statement cache).
 */
const INSERT_CHUNK = 256

export interface ModelAggregate {
  model_id: string
  base_model_id: string
  count: number
  unique_users: number
  errors: number
  input_tokens: number
  output_tokens: number
  total_tokens: number
}

export interface Percentiles {
  p50: number | null
  p95: number | null
}

const num = (value: unknown) => Number(value ?? 0)

export class UsageRepo {
  private readonly statements = new Map<number, string>()

  constructor(private readonly database: Database) {}

  get dialect(): DialectName {
    return this.database.dialect
  }

  /** One transaction: the batch is written whole or not at all. */
  insert(rows: readonly UsageRow[]): Promise<void> {
    return this.insertValues(flatten(rows))
  }

  /**
   * A flat batch (`flatten`), in one transaction. The statements are sent as compiled text: building a
   * multi-row INSERT through the query builder cost more than the database's own work (docs/analytics.md).
   * On PostgreSQL the whole batch is one statement with one JSON parameter, unpacked by the server: the
   * driver's work per parameter (thousands per batch) ran on the gateway's thread, ~4.5 ms per 500 rows
   * against ~0.7 ms for one `JSON.stringify` (docs/analytics.md, "What recording costs").
   */
  async insertValues(values: UsageValues): Promise<void> {
    const width = USAGE_COLUMNS.length
    const rows = values.length / width
    if (rows === 0) return
    if (this.database.dialect === 'postgres') {
      await this.database.db.executeQuery(CompiledQuery.raw(POSTGRES_BATCH_INSERT, [jsonbText(values)]))
      return
    }
    await this.database.db.transaction().execute(async (trx) => {
      for (let done = 0; done < rows;) {
        let n = INSERT_CHUNK
        while (n > rows - done) n >>= 1
        let text = this.statements.get(n)
        if (text === undefined) this.statements.set(n, (text = insertSql(this.database.dialect, n)))
        await trx.executeQuery(CompiledQuery.raw(text, values.slice(done * width, (done + n) * width)))
        done += n
      }
    })
  }

  /** The SQLite file this database lives in; null in memory and on PostgreSQL. */
  async sqliteFile(): Promise<string | null> {
    if (this.database.dialect !== 'sqlite') return null
    const { rows } = await sql<{ file: string | null }>`select file from pragma_database_list where name = 'main'`.execute(this.database.db)
    return rows[0]?.file || null
  }

  /** Deletes rows older than `before` (epoch seconds); answers how many. */
  async prune(before: number): Promise<number> {
    const result = await this.database.db.deleteFrom('usage_events').where('created_at', '<', before).executeTakeFirst()
    return Number(result.numDeletedRows)
  }

  async groupExists(groupId: string): Promise<boolean> {
    return (await this.database.db.selectFrom('groups').select('id').where('id', '=', groupId).executeTakeFirst()) !== undefined
  }

  private rows(filter: UsageFilter): SelectQueryBuilder<DB, 'usage_events', object> {
    let query = this.database.db
      .selectFrom('usage_events')
      .where('usage_events.created_at', '>=', filter.start)
      .where('usage_events.created_at', '<', filter.end)
    if (filter.userId !== null) query = query.where('usage_events.user_id', '=', filter.userId)
    if (filter.groupId !== null) {
      const groupId = filter.groupId
      query = query.where('usage_events.user_id', 'in', (eb) =>
        eb.selectFrom('group_members').select('group_members.user_id').where('group_members.group_id', '=', groupId),
      )
    }
    return query
  }

  async totals(filter: UsageFilter) {
    const row = await this.rows(filter)
      .select((eb) => [
        eb.fn.countAll<number>().as('count'),
        eb.fn.count<number>('error').as('errors'),
        eb.fn.sum<number>('prompt_tokens').as('input_tokens'),
        eb.fn.sum<number>('completion_tokens').as('output_tokens'),
        eb.fn.sum<number>('total_tokens').as('total_tokens'),
        eb.fn.count<number>('model_id').distinct().as('models'),
        eb.fn.count<number>('user_id').distinct().as('users'),
      ])
      .executeTakeFirstOrThrow()
    return {
      count: num(row.count),
      errors: num(row.errors),
      input_tokens: num(row.input_tokens),
      output_tokens: num(row.output_tokens),
      total_tokens: num(row.total_tokens),
      models: num(row.models),
      users: num(row.users),
    }
  }

  /** Per (model, base model), most calls first. */
  async byModel(filter: UsageFilter): Promise<ModelAggregate[]> {
    const rows = await this.rows(filter)
      .select((eb) => [
        'model_id',
        'base_model_id',
        eb.fn.countAll<number>().as('count'),
        eb.fn.count<number>('user_id').distinct().as('unique_users'),
        eb.fn.count<number>('error').as('errors'),
        eb.fn.sum<number>('prompt_tokens').as('input_tokens'),
        eb.fn.sum<number>('completion_tokens').as('output_tokens'),
        eb.fn.sum<number>('total_tokens').as('total_tokens'),
      ])
      .groupBy(['model_id', 'base_model_id'])
      .orderBy('count', 'desc')
      .orderBy('model_id')
      .execute()
    return rows.map((r) => ({
      model_id: r.model_id,
      base_model_id: r.base_model_id,
      count: num(r.count),
      unique_users: num(r.unique_users),
      errors: num(r.errors),
      input_tokens: num(r.input_tokens),
      output_tokens: num(r.output_tokens),
      total_tokens: num(r.total_tokens),
    }))
  }

  /**
   * p50 and p95 of `column` per (model, base model), or over every row (`perModel` false): the value at
   * rank ⌈p·n⌉ in each partition's order (nearest rank), computed in integers on both dialects.
   */
  async percentiles(filter: UsageFilter, column: 'latency_ms' | 'first_chunk_ms', perModel: boolean): Promise<Map<string, Percentiles>> {
    let inner = this.rows(filter)
    if (column === 'first_chunk_ms') inner = inner.where('first_chunk_ms', 'is not', null)
    const partition = perModel ? sql`partition by model_id, base_model_id` : sql``
    const ranked = inner
      .select([
        perModel ? 'model_id' : sql<string>`''`.as('model_id'),
        perModel ? 'base_model_id' : sql<string>`''`.as('base_model_id'),
        sql<number>`${sql.ref(column)}`.as('value'),
        sql<number>`row_number() over (${partition} order by ${sql.ref(column)})`.as('rn'),
        sql<number>`count(*) over (${partition})`.as('n'),
      ])
      .as('ranked')
    const rows = await this.database.db
      .selectFrom(ranked)
      .selectAll()
      .where((eb: ExpressionBuilder<{ ranked: { rn: number; n: number } }, 'ranked'>) =>
        eb.or([eb('rn', '=', sql<number>`(n * 50 + 99) / 100`), eb('rn', '=', sql<number>`(n * 95 + 99) / 100`)]),
      )
      .execute()
    const out = new Map<string, Percentiles>()
    for (const row of rows) {
      const key = modelKey(row.model_id, row.base_model_id)
      const entry = out.get(key) ?? { p50: null, p95: null }
      const n = num(row.n)
      const rn = num(row.rn)
      if (rn === Math.floor((n * 50 + 99) / 100)) entry.p50 = num(row.value)
      if (rn === Math.floor((n * 95 + 99) / 100)) entry.p95 = num(row.value)
      out.set(key, entry)
    }
    return out
  }

  /** The `limit` accounts with the most calls, with their names (null once deleted). */
  async topUsers(filter: UsageFilter, limit: number) {
    const rows = await this.rows(filter)
      .leftJoin('users', 'users.id', 'usage_events.user_id')
      .select((eb) => [
        'usage_events.user_id',
        eb.fn.max('users.name').as('name'),
        eb.fn.max('users.email').as('email'),
        eb.fn.countAll<number>().as('count'),
        eb.fn.sum<number>('prompt_tokens').as('input_tokens'),
        eb.fn.sum<number>('completion_tokens').as('output_tokens'),
        eb.fn.sum<number>('usage_events.total_tokens').as('total_tokens'),
      ])
      .groupBy('usage_events.user_id')
      .orderBy('count', 'desc')
      .orderBy('usage_events.user_id')
      .limit(limit)
      .execute()
    return rows.map((r) => ({
      user_id: r.user_id,
      name: r.name ?? null,
      email: r.email ?? null,
      count: num(r.count),
      input_tokens: num(r.input_tokens),
      output_tokens: num(r.output_tokens),
      total_tokens: num(r.total_tokens),
    }))
  }

  /** Per account of `userIds`, per (model, base model). */
  async userModels(filter: UsageFilter, userIds: readonly string[]) {
    if (userIds.length === 0) return []
    const rows = await this.rows(filter)
      .where('usage_events.user_id', 'in', userIds)
      .select((eb) => [
        'user_id',
        'model_id',
        'base_model_id',
        eb.fn.countAll<number>().as('count'),
        eb.fn.sum<number>('prompt_tokens').as('input_tokens'),
        eb.fn.sum<number>('completion_tokens').as('output_tokens'),
        eb.fn.sum<number>('total_tokens').as('total_tokens'),
      ])
      .groupBy(['user_id', 'model_id', 'base_model_id'])
      .orderBy('count', 'desc')
      .execute()
    return rows.map((r) => ({
      user_id: r.user_id,
      model_id: r.model_id,
      base_model_id: r.base_model_id,
      count: num(r.count),
      input_tokens: num(r.input_tokens),
      output_tokens: num(r.output_tokens),
      total_tokens: num(r.total_tokens),
    }))
  }

  /** Per group the callers are members of now, most calls first. */
  async topGroups(filter: UsageFilter, limit: number) {
    const rows = await this.rows(filter)
      .innerJoin('group_members', 'group_members.user_id', 'usage_events.user_id')
      .innerJoin('groups', 'groups.id', 'group_members.group_id')
      .select((eb) => [
        'groups.id as group_id',
        eb.fn.max('groups.name').as('name'),
        eb.fn.countAll<number>().as('count'),
        eb.fn.count<number>('usage_events.user_id').distinct().as('unique_users'),
        eb.fn.sum<number>('usage_events.total_tokens').as('total_tokens'),
      ])
      .groupBy('groups.id')
      .orderBy('count', 'desc')
      .orderBy('groups.id')
      .limit(limit)
      .execute()
    return rows.map((r) => ({
      group_id: r.group_id,
      name: r.name ?? '',
      count: num(r.count),
      unique_users: num(r.unique_users),
      total_tokens: num(r.total_tokens),
    }))
  }

  /** Calls, tokens and errors per bucket (`bucketSeconds` long, from the epoch) and model id. */
  async series(filter: UsageFilter, bucketSeconds: number) {
    const bucket = sql<number>`(created_at - created_at % ${sql.lit(bucketSeconds)})`
    const rows = await this.rows(filter)
      .select((eb) => [
        bucket.as('bucket'),
        'model_id',
        eb.fn.countAll<number>().as('count'),
        eb.fn.sum<number>('total_tokens').as('total_tokens'),
        eb.fn.count<number>('error').as('errors'),
      ])
      .groupBy([bucket, 'model_id'])
      .orderBy('bucket')
      .execute()
    return rows.map((r) => ({ bucket: num(r.bucket), model_id: r.model_id, count: num(r.count), total_tokens: num(r.total_tokens), errors: num(r.errors) }))
  }
}

export const modelKey = (modelId: string, baseModelId: string) => JSON.stringify([modelId, baseModelId])
