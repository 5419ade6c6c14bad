/**
 * Records each gateway call as a usage row, off the request's path (docs/analytics.md): the gateway's
 * observer hook only appends the row's values to a bounded in-memory queue (one flat array, no object per
 * call); a timer (every `flushMs`) or a full batch hands the queue to the writer (usage-writer.ts: a worker
 * thread on a SQLite file, else multi-row INSERTs in one transaction). A full queue drops the call and
 * counts it, so a slow or unreachable database never makes the process grow; a failed write drops its
 * batch (counted too) rather than retrying into a growing backlog. `close()` writes what is left and stops
 * the writer (shutdown).
 */
import type { GatewayObserver, UpstreamCall } from '../gateway/gateway-observer.js'
import { USAGE_COLUMNS, type UsageRepo, type UsageValues } from './usage.repo.js'
import { UsageWriterSelector, type UsageWriter } from './usage-writer.js'

const WIDTH = USAGE_COLUMNS.length

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
  /** Where batches go; default: a worker thread on a SQLite file, else the repo (usage-writer.ts). */
  writer?: UsageWriter
}

export interface RecorderStats {
  queued: number
  written: number
  dropped: number
}

export class UsageRecorder implements GatewayObserver {
  /** The queued rows' values, `USAGE_COLUMNS.length` per row. */
  private queue: UsageValues = []
  private readonly writer: UsageWriter
  private flushing: Promise<void> | undefined
  private timers: NodeJS.Timeout[] = []
  private readonly maxQueue: number
  private readonly batchSize: number
  private written = 0
  private dropped = 0

  constructor(
    repo: UsageRepo,
    private readonly options: RecorderOptions,
  ) {
    this.maxQueue = options.maxQueue ?? 10_000
    this.batchSize = options.batchSize ?? 500
    this.writer = options.writer ?? new UsageWriterSelector(repo)
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
    if (this.queue.length >= this.maxQueue * WIDTH) {
      this.dropped += 1
      return
    }
    pushRow(this.queue, call, Date.now())
    if (this.queue.length >= this.batchSize * WIDTH && !this.flushing) setImmediate(() => void this.flush())
  }

  /** Writes every queued row (batch after batch); one flush at a time, a second call joins the first. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => (this.flushing = undefined))
    return this.flushing
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.length <= this.batchSize * WIDTH ? this.queue : this.queue.slice(0, this.batchSize * WIDTH)
      this.queue = batch === this.queue ? [] : this.queue.slice(batch.length)
      const rows = batch.length / WIDTH
      try {
        await this.writer.write(batch)
        this.written += rows
      } catch (error) {
        this.dropped += rows
        this.report(error)
        return
      }
    }
  }

  /** Deletes rows older than the retention; answers how many (0 when every row is kept). */
  async prune(now = Date.now()): Promise<number> {
    if (this.options.retentionDays <= 0) return 0
    return this.writer.prune(Math.floor(now / 1000) - this.options.retentionDays * 86_400)
  }

  stats(): RecorderStats {
    return { queued: this.queue.length / WIDTH, written: this.written, dropped: this.dropped }
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer)
    this.timers = []
    await this.flush()
    await this.writer.close()
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

/** Appends the call's row to `queue`, in `USAGE_COLUMNS` order. */
function pushRow(queue: UsageValues, call: UpstreamCall, now: number): void {
  const usage = call.usage
  const prompt = tokens(usage?.prompt_tokens ?? 0)
  const completion = tokens(usage?.completion_tokens ?? 0)
  queue.push(
    // When the call started, so a long stream counts in the bucket it began in.
    Math.floor((now - call.latencyMs) / 1000),
    call.userId,
    call.model,
    call.upstreamModel,
    call.connectionId,
    ENDPOINTS[call.path] ?? call.path,
    call.stream ? 1 : 0,
    call.status,
    call.error ?? null,
    prompt,
    completion,
    tokens(usage?.total_tokens ?? prompt + completion),
    Math.round(call.latencyMs),
    call.firstChunkMs === undefined ? null : Math.round(call.firstChunkMs),
  )
}
