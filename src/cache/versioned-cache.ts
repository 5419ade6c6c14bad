/** Hears one lookup of the cache named `cache`: a hit (a fresh entry) or a miss (computed anew). */
export type CacheListener = (cache: string, hit: boolean) => void

/** Told of every lookup (metrics: src/metrics); process-wide, as the caches are built deep inside features. */
const listeners = new Set<CacheListener>()

/**
 * Tells the listeners of one lookup of a cache: every VersionedCache's, and other caches' that want to be
 * counted alike (the provider catalog's). `cache` is a fixed word, never data.
 */
export function noteCacheLookup(cache: string, hit: boolean): void {
  if (listeners.size > 0) for (const listener of listeners) listener(cache, hit)
}

/**
 * What an entry's value weighs, for the byte bound: serialized answers (JsonText is a Buffer) their
 * length; lists an estimate per item (runtime entries carry name, meta and params: ~1 kB); anything
 * else a small constant. An estimate is enough: the bound is about not pinning hundreds of MB.
 */
export function estimateBytes(value: unknown): number {
  if (Buffer.isBuffer(value)) return value.length
  if (Array.isArray(value)) return 256 + value.length * 1024
  return 256
}

/** Default byte bound of one cache: a few of them together stay far below the process's memory target. */
export const DEFAULT_CACHE_BYTES = 16 * 1024 * 1024

/**
 * A bounded LRU of computed answers, each valid while the version it was built at is current (and for
 * at most `maxAgeMs`, a bound on staleness should a change ever not bump the version). Used for answers
 * that are read far more often than the registry changes: list pages, single models, list totals, runtime
 * lists. It is the one cache of answers in the app: a second hand-rolled map would drift from its rules.
 * Concurrent misses of one key share a single computation (no stampede when a popular entry expires).
 * Bounded by entries and by bytes (`maxBytes`, values weighed by `estimateBytes`): a count alone lets a
 * cache of thousand-model answers pin gigabytes (issue #17, item 5).
 */
export class VersionedCache<T> {
  private readonly entries = new Map<string, Entry<T>>()
  private bytes = 0

  /**
   * `name` is the cache's label in metrics (`modelgate_cache_requests_total{cache}`): a fixed word, never
   * data.
   */
  constructor(
    private readonly maxEntries: number,
    private readonly maxAgeMs: number,
    readonly name = 'answers',
    private readonly maxBytes = DEFAULT_CACHE_BYTES,
  ) {}

  /** Hears every cache's hits and misses until the returned function is called. */
  static listen(listener: CacheListener): () => void {
    listeners.add(listener)
    return () => listeners.delete(listener)
  }

  /** Bytes the resolved entries weigh now (tests, metrics). */
  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes }
  }

  /**
   * The value for `key` built at `version`, computing and keeping it when missing or outdated.
   * `keep` decides whether a computed value is worth its memory (it is dropped once resolved if not).
   */
  get(key: string, version: string, compute: () => Promise<T>, keep: (value: T) => boolean = () => true): Promise<T> {
    const now = Date.now()
    const hit = this.entries.get(key)
    const fresh = hit !== undefined && hit.version === version && now - hit.at < this.maxAgeMs
    noteCacheLookup(this.name, fresh)
    if (fresh) return hit.value
    const value = compute()
    const entry: Entry<T> = { version, at: now, value, bytes: 0 }
    if (hit) this.remove(key, hit)
    this.entries.set(key, entry)
    // A failed computation is not kept: the next caller tries again. Nor is one `keep` refuses, nor one
    // larger than the whole byte bound.
    value.then(
      (resolved) => {
        if (this.entries.get(key) !== entry) return
        const bytes = estimateBytes(resolved)
        if (!keep(resolved) || bytes > this.maxBytes) return this.remove(key, entry)
        entry.bytes = bytes
        this.bytes += bytes
        // Least recently set first; never the entry just kept (it fits on its own).
        for (const [oldKey, old] of this.entries) {
          if (this.bytes <= this.maxBytes) break
          if (old !== entry) this.remove(oldKey, old)
        }
      },
      () => {
        if (this.entries.get(key) === entry) this.remove(key, entry)
      },
    )
    if (this.entries.size > this.maxEntries) {
      const [oldKey, old] = this.entries.entries().next().value ?? []
      if (oldKey !== undefined && old) this.remove(oldKey, old)
    }
    return value
  }

  private remove(key: string, entry: Entry<T>): void {
    this.entries.delete(key)
    this.bytes -= entry.bytes
  }
}

interface Entry<T> {
  version: string
  at: number
  value: Promise<T>
  /** Weighed once resolved; 0 while computing. */
  bytes: number
}
