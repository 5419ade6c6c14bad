import type { CompiledQuery, Compilable } from 'kysely'
import type { Executor } from './executor.js'

/**
 * A hot read built and compiled by Kysely once per dialect, then run with new parameter values. On the
 * per-request path (the account behind a token, the caller's groups, the registry version) Kysely's
 * builder and compiler cost more than SQLite spends running the query; the SQL text does not change
 * between requests, only the values do.
 *
 * `build` receives one placeholder per parameter and must use each exactly where the value goes (as
 * the right-hand side of a comparison); the compiled parameters holding a placeholder are swapped for
 * the values at run time. Any other parameter the builder adds (a constant) is kept as compiled.
 */
export class PreparedQuery<Params extends readonly unknown[], Row> {
  /** Compiled SQL per dialect: keyed by the executor's adapter, which a transaction shares with its database. */
  private readonly compiled = new WeakMap<object, { query: CompiledQuery<Row>; slots: number[] }>()
  private readonly placeholders: string[]

  constructor(
    arity: Params['length'],
    private readonly build: (db: Executor, ...placeholders: string[]) => Compilable<Row>,
  ) {
    this.placeholders = Array.from({ length: arity }, (_, i) => `\u0000prepared-parameter-${i}\u0000`)
  }

  async execute(db: Executor, ...values: Params): Promise<Row[]> {
    const adapter = db.getExecutor().adapter
    let entry = this.compiled.get(adapter)
    if (!entry) {
      const query = this.build(db, ...this.placeholders).compile()
      const slots = query.parameters.map((parameter) => this.placeholders.indexOf(parameter as string))
      if (this.placeholders.some((_, i) => !slots.includes(i))) throw new Error('PreparedQuery: a placeholder is not a parameter of the query')
      entry = { query, slots }
      this.compiled.set(adapter, entry)
    }
    const { query, slots } = entry
    const parameters = query.parameters.map((parameter, i) => {
      const slot = slots[i] ?? -1
      return slot >= 0 ? values[slot] : parameter
    })
    const result = await db.executeQuery<Row>({ ...query, parameters })
    return result.rows
  }

  async first(db: Executor, ...values: Params): Promise<Row | undefined> {
    return (await this.execute(db, ...values))[0]
  }
}
