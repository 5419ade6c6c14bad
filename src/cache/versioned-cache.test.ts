import { describe, expect, it } from 'vitest'
import { VersionedCache } from './versioned-cache.js'

const text = (bytes: number) => Buffer.alloc(bytes, 'x')
const settle = () => new Promise((resolve) => setImmediate(resolve))

describe('VersionedCache bounds', () => {
  it('evicts the least recently set entries once the byte bound is passed, whatever the entry count', async () => {
    const cache = new VersionedCache<Buffer>(1000, 60_000, 'test', 10_000)
    for (let i = 0; i < 5; i++) await cache.get(`k${i}`, 'v1', () => Promise.resolve(text(3000)))
    await settle()
    expect(cache.size).toEqual({ entries: 3, bytes: 9000 })
    let computed = 0
    const again = (key: string) =>
      cache.get(key, 'v1', () => {
        computed++
        return Promise.resolve(text(3000))
      })
    await again('k4') // kept
    await again('k2') // kept
    expect(computed).toBe(0)
    await again('k0') // evicted: computed anew
    expect(computed).toBe(1)
  })

  it('does not keep a value larger than the whole bound, and keeps the others', async () => {
    const cache = new VersionedCache<Buffer>(1000, 60_000, 'test', 10_000)
    await cache.get('small', 'v1', () => Promise.resolve(text(100)))
    const big = await cache.get('big', 'v1', () => Promise.resolve(text(20_000)))
    await settle()
    expect(big.length).toBe(20_000) // answered all the same
    expect(cache.size).toEqual({ entries: 1, bytes: 100 })
  })

  it('counts a replaced or refused entry out of the bytes', async () => {
    const cache = new VersionedCache<Buffer>(1000, 60_000, 'test', 10_000)
    await cache.get('k', 'v1', () => Promise.resolve(text(4000)))
    await settle()
    await cache.get('k', 'v2', () => Promise.resolve(text(1000))) // new version replaces it
    await settle()
    expect(cache.size).toEqual({ entries: 1, bytes: 1000 })
    await cache.get(
      'k',
      'v3',
      () => Promise.resolve(text(1000)),
      () => false,
    )
    await settle()
    expect(cache.size).toEqual({ entries: 0, bytes: 0 })
    await cache.get('k', 'v4', () => Promise.reject(new Error('boom'))).catch(() => undefined)
    await settle()
    expect(cache.size).toEqual({ entries: 0, bytes: 0 })
  })

  it('still bounds the entry count', async () => {
    const cache = new VersionedCache<number>(2, 60_000, 'test')
    for (let i = 0; i < 4; i++) await cache.get(`k${i}`, 'v1', () => Promise.resolve(i))
    await settle()
    expect(cache.size.entries).toBe(2)
    expect(cache.size.bytes).toBe(512)
  })
})
