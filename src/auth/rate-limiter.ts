/**
 * Counts failed sign-ins per key (account, address) in fixed windows. In memory, per instance: several
 * instances behind a balancer each apply the limit (documented in docs/auth.md).
 */
export class FailureRateLimiter {
  private readonly failures = new Map<string, { count: number; resetAt: number }>()

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `key` may try again, or 0 when it may try now. */
  retryAfterSeconds(key: string): number {
    const entry = this.failures.get(key)
    if (!entry) return 0
    const remaining = entry.resetAt - this.now()
    if (remaining <= 0) {
      this.failures.delete(key)
      return 0
    }
    return entry.count >= this.maxFailures ? Math.ceil(remaining / 1000) : 0
  }

  recordFailure(key: string): void {
    const now = this.now()
    const entry = this.failures.get(key)
    if (!entry || entry.resetAt <= now) {
      if (this.failures.size >= 100_000) this.prune(now)
      this.failures.set(key, { count: 1, resetAt: now + this.windowMs })
    } else {
      entry.count += 1
    }
  }

  reset(key: string): void {
    this.failures.delete(key)
  }

  private prune(now: number): void {
    for (const [key, entry] of this.failures) if (entry.resetAt <= now) this.failures.delete(key)
  }
}
