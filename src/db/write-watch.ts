/**
 * Sees every write at the driver (docs/performance.md, "Gateway caches"): each statement Kysely sends,
 * prepared ones included, passes through `watchDialect`'s connection, whose SQL text names the tables it
 * writes. A write of a watched table invalidates its topic when the statement is sent and again once it
 * is committed, so no write path can forget to invalidate the caches built on these tables.
 *
 * - `accounts`: who a credential is and what it may do (users, keys, groups, memberships, settings);
 * - `registry`: what the registry version guards (models, grants, templates, the version row).
 *
 * The statement-time invalidation stops readers already under way from keeping what they read; the one
 * after commit drops what a reader on another connection read between the statement and the commit.
 */
import type { DatabaseConnection, Dialect, Driver, QueryResult, TransactionSettings } from 'kysely'
import type { CompiledQuery } from 'kysely'
import { countStatement } from './statement-counter.js'

export type WriteTopic = 'accounts' | 'registry'
export const WRITE_TOPICS: readonly WriteTopic[] = ['accounts', 'registry']

const TABLE_TOPICS: Readonly<Record<string, WriteTopic>> = {
  users: 'accounts',
  credentials: 'accounts',
  api_keys: 'accounts',
  groups: 'accounts',
  group_members: 'accounts',
  app_settings: 'accounts',
  registry_state: 'registry',
  models: 'registry',
  model_grants: 'registry',
  model_tags: 'registry',
  templates: 'registry',
  template_grants: 'registry',
}

/**
 * Anywhere in the text (CTEs write too): the verb, an optional schema, the table. Words may be parted by
 * comments as well as spaces, and a quoted name (`"…"`, SQLite's `` `…` `` and `[…]`) may follow its verb
 * with no space at all: both are valid SQL a raw statement may use, and an unseen write would leave a
 * revoked credential cached. A false match only costs a cache miss.
 */
const GAP = String.raw`(?:\s|/\*[\s\S]*?\*/|--[^\n]*(?:\n|$))`
const WORDS = `${GAP}+`
const WRITE_PATTERN = new RegExp(
  String.raw`\b(?:insert${WORDS}(?:or${WORDS}\w+${WORDS})?into|replace${WORDS}into|update(?:${WORDS}or${WORDS}\w+)?|delete${WORDS}from|merge${WORDS}into|truncate(?:${WORDS}table)?|(?:drop|alter)${WORDS}table(?:${WORDS}if${WORDS}exists)?)` +
    String.raw`(?:${GAP}+|(?=["\x60[]))(?:only${WORDS})?(?:["\x60[]?\w+["\x60\]]?${GAP}*\.${GAP}*)?["\x60[]?(\w+)`,
  'gi',
)

/**
 * Writes that change nothing a cache holds: the throttled `last_used_at` touch of an API key (it runs
 * once a minute per key, and would otherwise empty every instance's credential cache each time).
 */
const UNWATCHED_WRITES = [/^update "api_keys" set "last_used_at" = (?:\?|\$1) where "id" = (?:\?|\$2)$/]

/** BEGIN, COMMIT, ROLLBACK sent as statements (not a savepoint's `rollback … to …`: the transaction goes on). */
const RAW_TRANSACTION = /^\s*(begin|start\s+transaction|commit|end|rollback(?![^;]*\bto\b))\b/i

const topicsBySql = new Map<string, readonly WriteTopic[]>()
const NONE: readonly WriteTopic[] = []

/** The topics a statement writes (none for reads). Memoized by text: the shapes are few. */
export function writtenTopics(sqlText: string): readonly WriteTopic[] {
  const known = topicsBySql.get(sqlText)
  if (known) return known
  let topics: readonly WriteTopic[] = NONE
  if (!UNWATCHED_WRITES.some((pattern) => pattern.test(sqlText))) {
    const found = new Set<WriteTopic>()
    for (const match of sqlText.matchAll(WRITE_PATTERN)) {
      const topic = TABLE_TOPICS[(match[1] ?? '').toLowerCase()]
      if (topic) found.add(topic)
    }
    if (found.size > 0) topics = [...found]
  }
  // Texts with inlined values (multi-row inserts) vary: keep the memo bounded.
  if (topicsBySql.size >= 5000) topicsBySql.clear()
  topicsBySql.set(sqlText, topics)
  return topics
}

export type InvalidationSource = 'statement' | 'commit' | 'remote' | 'reconnect'

/**
 * The state the caches of one database trust: a generation per topic (bumped by every invalidation, so a
 * read that started before one never stores its result) and whether invalidations from other instances
 * can be heard (`trusted`: while the bus is down, caches are bypassed).
 */
export class WriteWatch {
  private readonly generations: Record<WriteTopic, number> = { accounts: 0, registry: 0 }
  private readonly listeners = new Set<(topic: WriteTopic, source: InvalidationSource) => void>()
  private isTrusted = true

  generation(topic: WriteTopic): number {
    return this.generations[topic]
  }

  get trusted(): boolean {
    return this.isTrusted
  }

  /**
   * Whether another instance's write can go unheard. Turning untrusted invalidates everything (and
   * caches read SQL until it turns back); turning trusted again invalidates everything once more, since
   * messages sent meanwhile were lost.
   */
  setTrusted(trusted: boolean): void {
    if (trusted === this.isTrusted) return
    this.isTrusted = trusted
    for (const topic of WRITE_TOPICS) this.invalidate(topic, 'reconnect')
  }

  invalidate(topic: WriteTopic, source: InvalidationSource): void {
    this.generations[topic] += 1
    for (const listener of this.listeners) listener(topic, source)
  }

  /** Hears every invalidation; answers the unsubscribe. */
  listen(listener: (topic: WriteTopic, source: InvalidationSource) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}

/** The dialect with every statement counted and every watched write reported to `watch`. */
export function watchDialect(dialect: Dialect, watch: WriteWatch): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createDriver: () => new WatchedDriver(dialect.createDriver(), watch),
  }
}

class WatchedConnection implements DatabaseConnection {
  /** Topics written by the open transaction (undefined outside one): invalidated again after its commit. */
  pending: Set<WriteTopic> | undefined

  constructor(
    readonly inner: DatabaseConnection,
    private readonly watch: WriteWatch,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    countStatement()
    const topics = writtenTopics(query.sql)
    if (topics.length === 0) {
      const control = RAW_TRANSACTION.exec(query.sql)?.[1]?.toLowerCase()
      return control ? this.rawTransaction<R>(query, control) : this.inner.executeQuery<R>(query)
    }
    for (const topic of topics) this.watch.invalidate(topic, 'statement')
    try {
      return await this.inner.executeQuery<R>(query)
    } finally {
      // Outside a transaction the statement committed when it returned (or failed: invalidating is harmless).
      if (this.pending) for (const topic of topics) this.pending.add(topic)
      else for (const topic of topics) this.watch.invalidate(topic, 'commit')
    }
  }

  /**
   * A transaction opened and ended in raw SQL on one connection (`db.connection()`), past the driver's
   * begin/commit: its writes are invalidated again at its COMMIT, as the driver's transactions are;
   * otherwise a reader on another connection before the COMMIT would keep the old row.
   */
  private async rawTransaction<R>(query: CompiledQuery, control: string): Promise<QueryResult<R>> {
    if (control === 'begin' || control.startsWith('start')) {
      const result = await this.inner.executeQuery<R>(query)
      this.pending ??= new Set()
      return result
    }
    const pending = this.pending
    try {
      return await this.inner.executeQuery<R>(query)
    } finally {
      this.pending = undefined
      // After a ROLLBACK too: invalidating is harmless, and it keeps the rule simple.
      for (const topic of pending ?? []) this.watch.invalidate(topic, 'commit')
    }
  }

  async *streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    countStatement()
    const topics = writtenTopics(query.sql)
    for (const topic of topics) this.watch.invalidate(topic, 'statement')
    try {
      yield* this.inner.streamQuery<R>(query, chunkSize)
    } finally {
      if (this.pending) for (const topic of topics) this.pending.add(topic)
      else for (const topic of topics) this.watch.invalidate(topic, 'commit')
    }
  }
}

class WatchedDriver implements Driver {
  private readonly wrapped = new WeakMap<DatabaseConnection, WatchedConnection>()
  savepoint?: Driver['savepoint']
  rollbackToSavepoint?: Driver['rollbackToSavepoint']
  releaseSavepoint?: Driver['releaseSavepoint']

  constructor(
    private readonly inner: Driver,
    private readonly watch: WriteWatch,
  ) {
    // Savepoints run inside a transaction already watched: passed through as the inner driver has them.
    if (inner.savepoint) this.savepoint = (c, name, compile) => inner.savepoint?.(unwrap(c), name, compile) ?? Promise.resolve()
    if (inner.rollbackToSavepoint) this.rollbackToSavepoint = (c, name, compile) => inner.rollbackToSavepoint?.(unwrap(c), name, compile) ?? Promise.resolve()
    if (inner.releaseSavepoint) this.releaseSavepoint = (c, name, compile) => inner.releaseSavepoint?.(unwrap(c), name, compile) ?? Promise.resolve()
  }

  init(): Promise<void> {
    return this.inner.init()
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.inner.acquireConnection()
    let watched = this.wrapped.get(connection)
    if (!watched) {
      watched = new WatchedConnection(connection, this.watch)
      this.wrapped.set(connection, watched)
    }
    return watched
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(unwrap(connection))
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await this.inner.beginTransaction(unwrap(connection), settings)
    if (connection instanceof WatchedConnection) connection.pending = new Set()
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const pending = connection instanceof WatchedConnection ? connection.pending : undefined
    try {
      await this.inner.commitTransaction(unwrap(connection))
    } finally {
      if (connection instanceof WatchedConnection) connection.pending = undefined
      // Also after a failed COMMIT: whether it took effect is unknown, and invalidating is harmless.
      for (const topic of pending ?? []) this.watch.invalidate(topic, 'commit')
    }
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await this.inner.rollbackTransaction(unwrap(connection))
    } finally {
      if (connection instanceof WatchedConnection) connection.pending = undefined
    }
  }

  destroy(): Promise<void> {
    return this.inner.destroy()
  }
}

const unwrap = (connection: DatabaseConnection): DatabaseConnection => (connection instanceof WatchedConnection ? connection.inner : connection)
