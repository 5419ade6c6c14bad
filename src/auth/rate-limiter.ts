/**
 * Sign-in attempt limits that hold under concurrency (issue #10, hole 5).
 *
 * An attempt is *reserved* before the slow password check: "is the key under its limit?" and "count
 * this attempt" are one atomic step, so 200 parallel requests cannot all pass a limit of 10 while the
 * first ones are still hashing. In-flight attempts count; a failed attempt simply stays counted until
 * its window ends; a successful one gives its reservation back (and may clear its key's failures).
 *
 * One interface, two stores: `MemoryAttemptLimiter` (one instance; atomic because nothing awaits
 * between the check and the count) and `RedisAttemptLimiter` (shared by every instance that has
 * REDIS_URL; one Lua script per decision, so check, INCR and PEXPIRE are one round trip and atomic).
 * `FallbackAttemptLimiter` asks Redis and, while Redis does not answer, the memory store: the limit then
 * holds per instance instead of failing every sign-in (docs/auth.md).
 */
import { createHash } from 'node:crypto'
import { Redis } from 'ioredis'

export interface AttemptKey {
  /** What is counted, e.g. `account:ada@x.org` or `address:10.0.0.1`. */
  key: string
  /** Attempts allowed per window (in flight and failed). */
  limit: number
  /** On success: `reset` forgets every failure counted against the key; `release` gives back this attempt only. */
  onSuccess: 'reset' | 'release'
}

export type Reservation =
  | {
      granted: true
      /** The attempt succeeded. A failed attempt needs no call: it stays counted. Never throws. */
      succeed(): Promise<void>
    }
  | { granted: false; retryAfterSeconds: number }

export interface AttemptLimiter {
  /** Counts one attempt against every key if all of them are under their limit, else counts nothing. */
  reserve(keys: readonly AttemptKey[]): Promise<Reservation>
  close(): Promise<void>
}

const refused = (waitMs: number): Reservation => ({ granted: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) })

/** Fixed windows in this process's memory. */
export class MemoryAttemptLimiter implements AttemptLimiter {
  private readonly counts = new Map<string, { count: number; resetAt: number; limit: number }>()

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 100_000,
  ) {}

  reserve(keys: readonly AttemptKey[]): Promise<Reservation> {
    // Synchronous from the check to the count: no other request can run in between.
    const now = this.now()
    let waitMs = 0
    for (const { key, limit } of keys) {
      const entry = this.live(key, now)
      if (entry && entry.count >= limit) waitMs = Math.max(waitMs, entry.resetAt - now)
    }
    if (waitMs > 0) return Promise.resolve(refused(waitMs))
    const taken = keys.map((spec) => {
      let entry = this.live(spec.key, now)
      if (!entry) {
        if (this.counts.size >= this.maxKeys) this.evict(now)
        entry = { count: 0, resetAt: now + this.windowMs, limit: spec.limit }
        this.counts.set(spec.key, entry)
      }
      entry.count += 1
      return { spec, entry }
    })
    return Promise.resolve({
      granted: true,
      succeed: () => {
        for (const { spec, entry } of taken) {
          // The window this attempt was counted in has ended: nothing left to give back.
          if (this.counts.get(spec.key) !== entry) continue
          if (spec.onSuccess === 'reset' || entry.count <= 1) this.counts.delete(spec.key)
          else entry.count -= 1
        }
        return Promise.resolve()
      },
    })
  }

  close(): Promise<void> {
    return Promise.resolve()
  }

  private live(key: string, now: number) {
    const entry = this.counts.get(key)
    if (entry && entry.resetAt <= now) {
      this.counts.delete(key)
      return undefined
    }
    return entry
  }

  /**
   * Drops ended windows, then (memory stays bounded whatever is sent) the oldest counters still under
   * their limit, and only then the oldest blocked ones: flooding the table with fresh keys (one attempt
   * from each of many addresses) must not free an account that is locked out.
   */
  private evict(now: number): void {
    const target = this.maxKeys * 0.9
    for (const [key, entry] of this.counts) if (entry.resetAt <= now) this.counts.delete(key)
    for (const [key, entry] of this.counts) {
      if (this.counts.size < target) return
      if (entry.count < entry.limit) this.counts.delete(key)
    }
    for (const key of this.counts.keys()) {
      if (this.counts.size < target) return
      this.counts.delete(key)
    }
  }
}

/**
 * KEYS: the counters; ARGV[1]: window in ms; ARGV[1 + i]: the limit of KEYS[i].
 * Returns 0 when the attempt was counted against every key, else the ms until the fullest key frees up.
 */
const RESERVE_SCRIPT = `
local wait = 0
for i, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= tonumber(ARGV[i + 1]) then
    local ttl = redis.call('PTTL', key)
    if ttl < 0 then
      redis.call('PEXPIRE', key, ARGV[1])
      ttl = tonumber(ARGV[1])
    end
    if ttl > wait then wait = ttl end
  end
end
if wait > 0 then return wait end
for _, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
end
return 0
`

/** KEYS: the counters; ARGV[i]: `reset` or `release` for KEYS[i]. Never creates a key. */
const SUCCEED_SCRIPT = `
for i, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if ARGV[i] == 'reset' or count <= 1 then
    redis.call('DEL', key)
  else
    redis.call('DECR', key)
  end
end
return 0
`

type ScriptedRedis = Redis & {
  modelgateReserve(numKeys: number, ...args: (string | number)[]): Promise<number>
  modelgateSucceed(numKeys: number, ...args: string[]): Promise<number>
}

export interface RedisLimiterOptions {
  windowMs: number
  /** Prefix of every counter key (tests use one of their own). */
  keyPrefix?: string
  /** How long one decision may take before the caller falls back (ms). */
  commandTimeoutMs?: number
  onError?: (error: Error) => void
}

/** Fixed windows in Redis, shared by every instance that uses the same Redis and prefix. */
export class RedisAttemptLimiter implements AttemptLimiter {
  private readonly redis: ScriptedRedis
  private readonly keyPrefix: string
  private readonly onError: (error: Error) => void

  constructor(
    url: string,
    private readonly options: RedisLimiterOptions,
  ) {
    this.keyPrefix = options.keyPrefix ?? 'modelgate:signin:'
    this.onError = options.onError ?? (() => undefined)
    const timeout = options.commandTimeoutMs ?? 1000
    this.redis = new Redis(url, {
      // A decision waits at most `timeout`, then the caller falls back to memory.
      commandTimeout: timeout,
      connectTimeout: Math.max(timeout, 2000),
      maxRetriesPerRequest: 1,
      enableOfflineQueue: true,
    }) as ScriptedRedis
    this.redis.on('error', this.onError)
    this.redis.defineCommand('modelgateReserve', { lua: RESERVE_SCRIPT })
    this.redis.defineCommand('modelgateSucceed', { lua: SUCCEED_SCRIPT })
  }

  async reserve(keys: readonly AttemptKey[]): Promise<Reservation> {
    const names = keys.map((k) => this.keyName(k.key))
    const waitMs = Number(await this.redis.modelgateReserve(names.length, ...names, this.options.windowMs, ...keys.map((k) => k.limit)))
    if (waitMs > 0) return refused(waitMs)
    return {
      granted: true,
      succeed: async () => {
        try {
          await this.redis.modelgateSucceed(names.length, ...names, ...keys.map((k) => k.onSuccess))
        } catch (error) {
          // The attempt stays counted until its window ends: stricter, never looser.
          this.onError(error as Error)
        }
      },
    }
  }

  close(): Promise<void> {
    this.redis.disconnect()
    return Promise.resolve()
  }

  /** Counter names are hashed: emails and addresses are not written to Redis in clear. */
  private keyName(key: string): string {
    return this.keyPrefix + createHash('sha256').update(key).digest('base64url')
  }
}

/** Redis first; the memory store for the decisions Redis could not make (unreachable, timed out). */
export class FallbackAttemptLimiter implements AttemptLimiter {
  constructor(
    private readonly primary: AttemptLimiter,
    private readonly fallback: AttemptLimiter,
    private readonly onError: (error: Error) => void = () => undefined,
  ) {}

  async reserve(keys: readonly AttemptKey[]): Promise<Reservation> {
    try {
      return await this.primary.reserve(keys)
    } catch (error) {
      this.onError(error as Error)
      return this.fallback.reserve(keys)
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.primary.close(), this.fallback.close()])
  }
}

/** The limiter a service uses: shared through Redis when REDIS_URL is set, in memory otherwise. */
export function createAttemptLimiter(options: {
  redisUrl: string | null
  windowMs: number
  keyPrefix?: string
  onError?: (error: Error) => void
}): AttemptLimiter {
  const memory = new MemoryAttemptLimiter(options.windowMs)
  if (!options.redisUrl) return memory
  const redis = new RedisAttemptLimiter(options.redisUrl, {
    windowMs: options.windowMs,
    ...(options.keyPrefix !== undefined && { keyPrefix: options.keyPrefix }),
    ...(options.onError && { onError: options.onError }),
  })
  return new FallbackAttemptLimiter(redis, memory, options.onError)
}
