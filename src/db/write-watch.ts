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

/** Anywhere in the text (CTEs write too): the verb, an optional schema, the table. */
const WRITE_PATTERN =
  /\b(?:insert\s+(?:or\s+\w+\s+)?into|replace\s+into|update(?:\s+or\s+\w+)?|delete\s+from|merge\s+into|truncate(?:\s+table)?|(?:drop|alter)\s+table(?:\s+if\s+exists)?)\s+(?:only\s+)?(?:"?\w+"?\s*\.\s*)?"?(\w+)"?/gi

/**
 * Writes that change nothing a cache holds: the throttled `last_used_at` touch of an API key (it runs
 * once a minute per key, and would otherwise empty every instance's credential cache each time).
 */
const UNWATCHED_WRITES = [/^update "api_keys" set "last_used_at" = (?:\?|\$1) where "id" = (?:\?|\$2)$/]

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
    if (topics.length === 0) return this.inner.executeQuery<R>(query)
    for (const topic of topics) this.watch.invalidate(topic, 'statement')
    try {
      return await this.inner.executeQuery<R>(query)
    } finally {
      // Outside a transaction the statement committed when it returned (or failed: invalidating is harmless).
      if (this.pending) for (const topic of topics) this.pending.add(topic)
      else for (const topic of topics) this.watch.invalidate(topic, 'commit')
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
