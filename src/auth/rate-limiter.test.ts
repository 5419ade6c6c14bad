import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deleteRedisKeys, REDIS_TEST_URL, requireRedis, uniqueRedisPrefix } from '../../test/support/redis.js'
import { FallbackAttemptLimiter, MemoryAttemptLimiter, RedisAttemptLimiter, type AttemptKey, type AttemptLimiter, type Reservation } from './rate-limiter.js'

const WINDOW_MS = 60_000
const account = (name: string, limit = 3): AttemptKey => ({ key: `account:${name}`, limit, onSuccess: 'reset' })
const address = (ip: string, limit = 5): AttemptKey => ({ key: `address:${ip}`, limit, onSuccess: 'release' })

function granted(reservation: Reservation) {
  if (!reservation.granted) throw new Error(`refused, retry after ${reservation.retryAfterSeconds} s`)
  return reservation
}

/** The behaviour both stores share; `advance` moves the clock past the window. */
function limiterContract(make: () => AttemptLimiter, tag: () => string) {
  it('counts reservations atomically: 50 parallel reservations, exactly the limit granted', async () => {
    const limiter = make()
    const t = tag()
    const results = await Promise.all(Array.from({ length: 50 }, () => limiter.reserve([account(`${t}-a`, 3)])))
    expect(results.filter((r) => r.granted)).toHaveLength(3)
    const refusal = results.find((r) => !r.granted)
    expect(refusal && !refusal.granted && refusal.retryAfterSeconds).toBeGreaterThan(0)
    expect(refusal && !refusal.granted && refusal.retryAfterSeconds).toBeLessThanOrEqual(WINDOW_MS / 1000)
  })

  it('counts nothing when one key is over its limit (all keys or none)', async () => {
    const limiter = make()
    const t = tag()
    const ip = `${t}-ip1`
    for (let i = 0; i < 2; i++) granted(await limiter.reserve([account(`${t}-b${i}`), address(ip, 2)]))
    expect((await limiter.reserve([account(`${t}-c`), address(ip, 2)])).granted).toBe(false)
    // The account key of the refused attempt was not counted: it still has its 3 attempts.
    for (let i = 0; i < 3; i++) granted(await limiter.reserve([account(`${t}-c`)]))
    expect((await limiter.reserve([account(`${t}-c`)])).granted).toBe(false)
  })

  it('success resets an account key and releases only its own attempt on an address key', async () => {
    const limiter = make()
    const t = tag()
    const ip = `${t}-ip2`
    const user = `${t}-d`
    granted(await limiter.reserve([account(user), address(ip, 3)])) // a failure: stays counted
    granted(await limiter.reserve([account(user), address(ip, 3)])) // a failure: stays counted
    await granted(await limiter.reserve([account(user), address(ip, 3)])).succeed()
    // Account: back to zero (3 new attempts). Address: the two failures remain, one attempt left.
    granted(await limiter.reserve([address(ip, 3)]))
    expect((await limiter.reserve([address(ip, 3)])).granted).toBe(false)
    for (let i = 0; i < 3; i++) granted(await limiter.reserve([account(user)]))
  })
}

describe('MemoryAttemptLimiter', () => {
  let clock = 1_000_000
  let n = 0
  limiterContract(
    () => new MemoryAttemptLimiter(WINDOW_MS, () => clock),
    () => `m${++n}`,
  )

  it('opens again when the window ends, and Retry-After counts down to it', async () => {
    const limiter = new MemoryAttemptLimiter(WINDOW_MS, () => clock)
    for (let i = 0; i < 3; i++) granted(await limiter.reserve([account('w')]))
    clock += 20_000
    expect(await limiter.reserve([account('w')])).toEqual({ granted: false, retryAfterSeconds: 40 })
    clock += 40_000
    granted(await limiter.reserve([account('w')]))
  })

  it('a success in a later window does not give back to the new window', async () => {
    const limiter = new MemoryAttemptLimiter(WINDOW_MS, () => clock)
    const old = granted(await limiter.reserve([address('late', 2)]))
    clock += WINDOW_MS
    granted(await limiter.reserve([address('late', 2)]))
    granted(await limiter.reserve([address('late', 2)]))
    await old.succeed()
    expect((await limiter.reserve([address('late', 2)])).granted).toBe(false)
  })

  it('stays bounded in memory, whatever keys are sent', async () => {
    const limiter = new MemoryAttemptLimiter(WINDOW_MS, () => clock, 100)
    for (let i = 0; i < 1000; i++) granted(await limiter.reserve([account(`flood-${i}`)]))
    expect((limiter as unknown as { counts: Map<string, unknown> }).counts.size).toBeLessThanOrEqual(100)
  })

  it('a flood of fresh keys does not evict a locked-out account', async () => {
    const limiter = new MemoryAttemptLimiter(WINDOW_MS, () => clock, 100)
    for (let i = 0; i < 3; i++) granted(await limiter.reserve([account('victim')]))
    expect((await limiter.reserve([account('victim')])).granted).toBe(false)
    // One attempt from each of a thousand addresses fills the table ten times over.
    for (let i = 0; i < 1000; i++) granted(await limiter.reserve([address(`flood-${i}`)]))
    expect((await limiter.reserve([account('victim')])).granted).toBe(false)
  })
})

describe('RedisAttemptLimiter', () => {
  const prefix = uniqueRedisPrefix('limiter-unit')
  const limiters: AttemptLimiter[] = []
  const make = () => {
    const limiter = new RedisAttemptLimiter(REDIS_TEST_URL, { windowMs: WINDOW_MS, keyPrefix: prefix })
    limiters.push(limiter)
    return limiter
  }
  beforeAll(requireRedis)
  afterAll(async () => {
    await Promise.all(limiters.map((l) => l.close()))
    await deleteRedisKeys(prefix)
  })
  let n = 0

  describe(`on ${REDIS_TEST_URL}`, () => {
    limiterContract(make, () => `r${++n}`)

    it('two limiters (two instances) share one count', async () => {
      const [a, b] = [make(), make()]
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).reserve([account('shared', 4)])))
      expect(results.filter((r) => r.granted)).toHaveLength(4)
    })

    it('writes no email or address in clear, and every counter expires', async () => {
      const limiter = make()
      granted(await limiter.reserve([account('secret@example.com')]))
      const { Redis } = await import('ioredis')
      const client = new Redis(REDIS_TEST_URL)
      try {
        const keys = await client.keys(`${prefix}*`)
        expect(keys.length).toBeGreaterThan(0)
        expect(keys.join(' ')).not.toContain('secret')
        for (const key of keys) {
          const ttl = await client.pttl(key)
          expect(ttl).toBeGreaterThan(0)
          expect(ttl).toBeLessThanOrEqual(WINDOW_MS)
        }
      } finally {
        client.disconnect()
      }
    })
  })
})

describe('FallbackAttemptLimiter', () => {
  let errors: Error[]
  let limiter: AttemptLimiter
  beforeAll(() => {
    errors = []
    // Nothing listens on port 1: every Redis decision fails (within the command timeout).
    const unreachable = new RedisAttemptLimiter('redis://127.0.0.1:1', { windowMs: WINDOW_MS, commandTimeoutMs: 200, onError: () => undefined })
    limiter = new FallbackAttemptLimiter(unreachable, new MemoryAttemptLimiter(WINDOW_MS), (error) => errors.push(error))
  })
  afterAll(async () => limiter.close())

  it('keeps limiting in memory while Redis is unreachable, and reports it', async () => {
    const started = Date.now()
    const results = await Promise.all(Array.from({ length: 20 }, () => limiter.reserve([account('down', 3)])))
    expect(results.filter((r) => r.granted)).toHaveLength(3)
    expect(errors.length).toBeGreaterThan(0)
    expect(Date.now() - started).toBeLessThan(5000)
  })
})
