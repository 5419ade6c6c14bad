import { afterEach, describe, expect, it, vi } from 'vitest'
import { manualInvalidations } from '../../test/support/factories.js'
import { TopicCache } from './topic-cache.js'

describe('TopicCache', () => {
  afterEach(() => vi.useRealTimers())

  it('keeps the most recently used entries, their order refreshed at most once a second', async () => {
    vi.useFakeTimers({ now: 1_000_000 })
    const cache = new TopicCache<string>(manualInvalidations(), 'accounts', 2)
    const loads: string[] = []
    const get = (key: string) =>
      cache.get(key, () => {
        loads.push(key)
        return Promise.resolve(`value of ${key}`)
      })
    await get('a')
    await get('b')
    vi.advanceTimersByTime(1_500)
    expect(await get('a')).toBe('value of a') // a hit, more than a second after a was stored: a moves last
    await get('c') // evicts the least recently used: b
    await get('a')
    await get('b')
    expect(loads).toEqual(['a', 'b', 'c', 'b'])
  })

  it('a hit within the second does not reorder (the price of not re-inserting on every request), and nothing stale is served', async () => {
    vi.useFakeTimers({ now: 1_000_000 })
    const source = manualInvalidations()
    const cache = new TopicCache<number>(source, 'accounts', 2)
    let version = 1
    const get = (key: string) => cache.get(key, () => Promise.resolve(version))
    await get('a')
    await get('b')
    await get('a') // within the second: a stays first in order
    await get('c') // evicts a
    version = 2
    expect(await get('a')).toBe(2) // read anew
    source.bump('accounts')
    expect(await get('b')).toBe(2) // the invalidation cleared every entry
  })
})
