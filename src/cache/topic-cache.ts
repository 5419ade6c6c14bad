/**
 * A bounded LRU of rows read on every request (the account behind a credential, a caller's groups, the
 * registry version), valid until a write of its topic invalidates it (docs/performance.md, "Gateway
 * caches"). The invalidations come from the database driver (every write of a watched table, on this
 * instance) and the invalidation bus (other instances); `maxAgeMs` is only a safety bound.
 *
 * - A read that started before an invalidation never stores its result (generation check), and callers
 *   arriving after one never share a read that started before it.
 * - While invalidations from other instances may go unheard (`trusted` false: the bus is down), every
 *   call reads anew: a missed message must never leave a revoked credential usable.
 */

/** What a topic cache trusts: the database's write watch (src/db/write-watch.ts) fits. */
export interface Invalidations {
  readonly trusted: boolean
  generation(topic: string): number
  listen(listener: (topic: string) => void): () => void
}

/** How stale an entry's place in the LRU order may be. */
const RECENCY_MS = 1000

export class TopicCache<V> {
  private readonly entries = new Map<string, { value: V; at: number; usedAt: number }>()
  private readonly loading = new Map<string, { generation: number; value: Promise<V> }>()
  private readonly unlisten: () => void

  constructor(
    private readonly source: Invalidations,
    private readonly topic: string,
    private readonly maxEntries: number,
    private readonly maxAgeMs = 60_000,
  ) {
    this.unlisten = source.listen((changed) => {
      if (changed === topic) this.clear()
    })
  }

  /** The value of `key`, read by `load` when missing; `keep` decides whether a value read is stored. */
  async get(key: string, load: () => Promise<V>, keep: (value: V) => boolean = () => true): Promise<V> {
    if (!this.source.trusted) return load()
    const now = Date.now()
    const hit = this.entries.get(key)
    if (hit && now - hit.at < this.maxAgeMs) {
      // Most recently used last, moved at most once a second: three of these caches answer every
      // chat request, and re-inserting a key on each hit was most of their cost.
      if (now - hit.usedAt >= RECENCY_MS) {
        hit.usedAt = now
        this.entries.delete(key)
        this.entries.set(key, hit)
      }
      return hit.value
    }
    const generation = this.source.generation(this.topic)
    const flight = this.loading.get(key)
    if (flight && flight.generation === generation) return flight.value
    const value = load()
    const mine = { generation, value }
    this.loading.set(key, mine)
    try {
      const resolved = await value
      if (this.source.trusted && this.source.generation(this.topic) === generation && keep(resolved)) {
        this.entries.delete(key)
        this.entries.set(key, { value: resolved, at: now, usedAt: now })
        if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value ?? '')
      }
      return resolved
    } finally {
      if (this.loading.get(key) === mine) this.loading.delete(key)
    }
  }

  /** Drops one key (its next read goes to the database). */
  delete(key: string): void {
    this.entries.delete(key)
    this.loading.delete(key)
  }

  clear(): void {
    this.entries.clear()
    this.loading.clear()
  }

  get size(): number {
    return this.entries.size
  }

  /** Stops listening (services built and dropped on one database, as tests do). */
  close(): void {
    this.unlisten()
    this.clear()
  }
}
