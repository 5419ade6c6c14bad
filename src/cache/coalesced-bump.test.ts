import { describe, expect, it } from 'vitest'
import { CoalescedBump } from './coalesced-bump.js'

/** A bump whose runs are started and finished by hand. */
function manualBump() {
  const runs: { resolve: () => void; reject: (error: Error) => void }[] = []
  const bump = new CoalescedBump(
    () =>
      new Promise<void>((resolve, reject) => {
        runs.push({ resolve, reject })
      }),
  )
  return { bump, runs }
}

const settled = async <T>(promise: Promise<T>) => {
  let state = 'pending'
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  )
  for (let i = 0; i < 10; i++) await Promise.resolve()
  return state
}

describe('CoalescedBump', () => {
  it('starts a bump at once when none runs', async () => {
    const { bump, runs } = manualBump()
    const first = bump.bump()
    expect(runs).toHaveLength(1)
    runs[0]?.resolve()
    await first
  })

  it('never lets a call share a bump sent before it: calls during a run wait for the next one, which they share', async () => {
    const { bump, runs } = manualBump()
    const first = bump.bump()
    const second = bump.bump()
    const third = bump.bump()
    expect(runs).toHaveLength(1)
    runs[0]?.resolve()
    await first
    // The running bump was sent before the second and third calls: they are not done with it.
    expect(await settled(second)).toBe('pending')
    expect(await settled(third)).toBe('pending')
    expect(runs).toHaveLength(2)
    // A call now (the queued bump has started) waits for a third bump.
    const fourth = bump.bump()
    runs[1]?.resolve()
    await Promise.all([second, third])
    expect(await settled(fourth)).toBe('pending')
    expect(runs).toHaveLength(3)
    runs[2]?.resolve()
    await fourth
    expect(runs).toHaveLength(3)
  })

  it('a failed bump fails its own callers only; the queued one still runs and the next call starts anew', async () => {
    const { bump, runs } = manualBump()
    const first = bump.bump()
    const second = bump.bump()
    runs[0]?.reject(new Error('connection lost'))
    await expect(first).rejects.toThrow('connection lost')
    expect(runs).toHaveLength(2)
    runs[1]?.resolve()
    await second
    const third = bump.bump()
    expect(runs).toHaveLength(3)
    runs[2]?.reject(new Error('again'))
    await expect(third).rejects.toThrow('again')
    const fourth = bump.bump()
    expect(runs).toHaveLength(4)
    runs[3]?.resolve()
    await fourth
  })
})
