/**
 * A version bump shared by the writes that need one at the same time (docs/performance.md, "PostgreSQL
 * writes and deep pages"): the registry version moves after a write's transaction has committed, and
 * every write committed before one bump *starts* is covered by it. So at most one bump is in flight and
 * one queued: writes arriving while one runs wait for the queued one (which starts once the running one
 * ends, hence after their commit), and a queued bump is shared by every write that arrives before it starts.
 *
 * A write never joins a bump already sent: that UPDATE may have run before the write's commit, and a
 * reader seeing its version could then cache the state from before the write under it.
 */
export class CoalescedBump {
  private running: Promise<void> | undefined
  private queued: Promise<void> | undefined

  /** `send`: runs the bump (one statement, outside any transaction). */
  constructor(private readonly send: () => Promise<void>) {}

  /** Resolves once a bump that started after this call has completed (rejects if that bump failed). */
  bump(): Promise<void> {
    if (this.queued) return this.queued
    const running = this.running
    if (!running) return this.start()
    const queued = running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined
        return this.start()
      })
    this.queued = queued
    return queued
  }

  private start(): Promise<void> {
    const run = this.send().finally(() => {
      if (this.running === run) this.running = undefined
    })
    this.running = run
    return run
  }
}
