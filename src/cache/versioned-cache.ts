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
 * A bounded LRU of computed answers, each valid while the version it was built at is current (and for
 * at most `maxAgeMs`, a bound on staleness should a change ever not bump the version). Used for answers
 * that are read far more often than the registry changes: list pages, single models, list totals, runtime
 * lists. It is the one cache of answers in the app: a second hand-rolled map would drift from its rules.
 * Concurrent misses of one key share a single computation (no stampede when a popular entry expires).
 */
export class VersionedCache<T> {
  private readonly entries = new Map<string, { version: string; at: number; value: Promise<T> }>()

  /**
   * `name` is the cache's label in metrics (`modelgate_cache_requests_total{cache}`): a fixed word, never
   * data.
   */
  constructor(
    private readonly maxEntries: number,
    private readonly maxAgeMs: number,
    readonly name = 'answers',
  ) {}

  /** Hears every cache's hits and misses until the returned function is called. */
  static listen(listener: CacheListener): () => void {
    listeners.add(listener)
    return () => listeners.delete(listener)
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
    const entry = { version, at: now, value }
    this.entries.delete(key)
    this.entries.set(key, entry)
    // A failed computation is not kept: the next caller tries again. Nor is one `keep` refuses.
    value.then(
      (resolved) => {
        if (!keep(resolved) && this.entries.get(key) === entry) this.entries.delete(key)
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key)
      },
    )
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value ?? '')
    return value
  }
}
