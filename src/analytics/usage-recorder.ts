/**
 * Records each gateway call as a usage row, off the request's path (docs/analytics.md): the gateway's
 * observer hook only appends to a bounded in-memory queue; a timer (every `flushMs`) or a full batch
 * writes the queue with multi-row INSERTs in one transaction. A full queue drops the call and counts it,
 * so a slow or unreachable database never makes the process grow; a failed write drops its batch (counted
 * too) rather than retrying into a growing backlog. `close()` writes what is left (shutdown).
 */
import type { GatewayObserver, UpstreamCall } from '../gateway/gateway-observer.js'
import type { UsageRepo, UsageRow } from './usage.repo.js'

export interface RecorderOptions {
  /** Calls waiting to be written; beyond it calls are dropped (and counted). */
  maxQueue?: number
  /** Rows per flush; a queue this long is flushed at once instead of waiting for the timer. */
  batchSize?: number
  flushMs?: number
  /** USAGE_RETENTION_DAYS; 0 keeps every row. */
  retentionDays: number
  pruneEveryMs?: number
  onError?: (error: Error) => void
}

export interface RecorderStats {
  queued: number
  written: number
  dropped: number
}

export class UsageRecorder implements GatewayObserver {
  private queue: UsageRow[] = []
  private flushing: Promise<void> | undefined
  private timers: NodeJS.Timeout[] = []
  private readonly maxQueue: number
  private readonly batchSize: number
  private written = 0
  private dropped = 0

  constructor(
    private readonly repo: UsageRepo,
    private readonly options: RecorderOptions,
  ) {
    this.maxQueue = options.maxQueue ?? 10_000
    this.batchSize = options.batchSize ?? 500
  }

  /** Starts the flush and prune timers (unref'd: they never keep the process alive). */
  start(): void {
    this.timers.push(setInterval(() => void this.flush(), this.options.flushMs ?? 1000).unref())
    if (this.options.retentionDays > 0) {
      this.timers.push(setInterval(() => void this.prune().catch((e: unknown) => this.report(e)), this.options.pruneEveryMs ?? 3_600_000).unref())
    }
  }

  onUpstream(call: UpstreamCall): void {
    // The Responses API probe of a connection that turned out not to speak it (404/405/501 without an
    // error, then retried as chat completions, chat.service.ts): the retry is the call, not the probe.
    if (call.path === '/responses' && call.error === undefined && (call.status === 404 || call.status === 405 || call.status === 501)) return
    if (this.queue.length >= this.maxQueue) {
      this.dropped += 1
      return
    }
    this.queue.push(toRow(call, Date.now()))
    if (this.queue.length >= this.batchSize && !this.flushing) setImmediate(() => void this.flush())
  }

  /** Writes every queued row (batch after batch); one flush at a time, a second call joins the first. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => (this.flushing = undefined))
    return this.flushing
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.batchSize)
      try {
        await this.repo.insert(batch)
        this.written += batch.length
      } catch (error) {
        this.dropped += batch.length
        this.report(error)
        return
      }
    }
  }

  /** Deletes rows older than the retention; answers how many (0 when every row is kept). */
  async prune(now = Date.now()): Promise<number> {
    if (this.options.retentionDays <= 0) return 0
    return this.repo.prune(Math.floor(now / 1000) - this.options.retentionDays * 86_400)
  }

  stats(): RecorderStats {
    return { queued: this.queue.length, written: this.written, dropped: this.dropped }
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer)
    this.timers = []
    await this.flush()
  }

  private report(error: unknown): void {
    this.options.onError?.(error instanceof Error ? error : new Error(String(error)))
  }
}

const ENDPOINTS: Record<string, string> = {
  '/chat/completions': 'chat',
  '/responses': 'responses',
  '/embeddings': 'embeddings',
  '/completions': 'completions',
}

/** The token columns are 32-bit integers on PostgreSQL: one row out of range would fail its whole batch. */
const MAX_TOKENS = 2_000_000_000
const tokens = (value: number): number => (Number.isFinite(value) && value > 0 ? Math.min(Math.round(value), MAX_TOKENS) : 0)

function toRow(call: UpstreamCall, now: number): UsageRow {
  const usage = call.usage
  const prompt = tokens(usage?.prompt_tokens ?? 0)
  const completion = tokens(usage?.completion_tokens ?? 0)
  return {
    // When the call started, so a long stream counts in the bucket it began in.
    created_at: Math.floor((now - call.latencyMs) / 1000),
    user_id: call.userId,
    model_id: call.model,
    base_model_id: call.upstreamModel,
    connection_id: call.connectionId,
    endpoint: ENDPOINTS[call.path] ?? call.path,
    stream: call.stream ? 1 : 0,
    status: call.status,
    error: call.error ?? null,
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: tokens(usage?.total_tokens ?? prompt + completion),
    latency_ms: Math.round(call.latencyMs),
    first_chunk_ms: call.firstChunkMs === undefined ? null : Math.round(call.firstChunkMs),
  }
}
