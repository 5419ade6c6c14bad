/** Ports and waiting, for tests that start servers or watch something converge. */
import { createServer } from 'node:net'

/** A port nothing listens on at the moment (bound, then released): for a server to start, or to refuse. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address ? address.port : 0
      probe.close(() => resolve(port))
    })
  })
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `check` until it returns true or `timeoutMs` passes; returns the milliseconds it took, or null. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 10): Promise<number | null> {
  const started = performance.now()
  for (;;) {
    if (await check()) return Math.round(performance.now() - started)
    if (performance.now() - started > timeoutMs) return null
    await sleep(intervalMs)
  }
}
