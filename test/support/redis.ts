/**
 * The Redis of the tests: REDIS_URL_TEST (CI sets it), default redis://127.0.0.1:6379. As in
 * model-catalog.test.ts, a test that needs it fails with a clear message when it does not answer: it
 * never skips silently.
 */
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'

export const REDIS_TEST_URL = process.env['REDIS_URL_TEST'] || 'redis://127.0.0.1:6379'

/** A key prefix of its own for one test run, so parallel runs sharing a Redis never meet. */
export const uniqueRedisPrefix = (tag: string) => `modelgate-test:${tag}:${randomBytes(6).toString('hex')}:`

/** Resolves when Redis answers PING; rejects naming REDIS_URL_TEST otherwise. */
export async function requireRedis(): Promise<void> {
  const client = new Redis(REDIS_TEST_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.ping()
  } catch (error) {
    throw new Error(`Redis at ${REDIS_TEST_URL} is unreachable (set REDIS_URL_TEST): ${(error as Error).message}`, { cause: error })
  } finally {
    client.disconnect()
  }
}

/** Deletes every key under `prefix` (after a test). */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const client = new Redis(REDIS_TEST_URL, { maxRetriesPerRequest: 1 })
  client.on('error', () => undefined)
  try {
    const keys = await client.keys(`${prefix}*`)
    if (keys.length > 0) await client.del(...keys)
  } finally {
    client.disconnect()
  }
}
