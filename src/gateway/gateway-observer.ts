/**
 * What the gateway tells observers about each provider call (metrics, usage analytics): one report per
 * call, when it is over (the JSON body read, the stream's last chunk relayed, or the failure). Observers
 * run on the request's path: they must be cheap and never throw (queue the work, do not await it).
 *
 * A second observer is wired in services.ts with `combineObservers(first, second)`.
 */

/** Why a call failed, a small fixed set (a metrics label). */
export type UpstreamErrorKind =
  /** No answer in time (headers, or between two chunks). */
  | 'timeout'
  /** Could not connect, or the connection closed before the answer's headers. */
  | 'unreachable'
  /** HTTP 429. */
  | 'rate_limited'
  /** Any other non-2xx status. */
  | 'http_4xx'
  | 'http_5xx'
  /** A 2xx answer that is not what was asked for (not JSON). */
  | 'bad_answer'
  /** The stream broke off in the middle. */
  | 'stream_broken'
  /** The provider sent an error event inside its stream. */
  | 'stream_error'
  /** The caller hung up first: not the provider's fault. */
  | 'cancelled'

export interface UpstreamCall {
  /** The connection's id (never its URL: URLs can carry keys) and its name. */
  connectionId: string
  connectionName: string
  /** The OpenAI path called: `/chat/completions`, `/responses`, `/embeddings`, `/completions`. */
  path: string
  /** The caller's account id, the model id called (a preset or a provider model), the provider's model id. */
  userId: string
  model: string
  upstreamModel: string
  stream: boolean
  /** The provider's HTTP status; 0 when none came (unreachable, timeout before the headers). */
  status: number
  /** Milliseconds from sending the request to the end of the answer (or the failure). */
  latencyMs: number
  /** Milliseconds from sending the request to the first chunk of a streamed answer. */
  firstChunkMs?: number
  /** Set when the call failed. */
  error?: UpstreamErrorKind
  /** The provider's token counts (its `usage`), when it sent them (usage analytics, docs/analytics.md). */
  usage?: TokenUsage
}

export interface TokenUsage {
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
}

/** A provider's `usage` object as counts: chat and completions (`prompt_tokens`…), Responses (`input_tokens`…), embeddings. */
export function tokenUsageOf(usage: unknown): TokenUsage | undefined {
  if (typeof usage !== 'object' || usage === null) return undefined
  const u = usage as Record<string, unknown>
  const count = (...values: unknown[]) => {
    for (const v of values) if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.min(Math.round(v), 2_000_000_000)
    return 0
  }
  const prompt = count(u['prompt_tokens'], u['input_tokens'])
  const completion = count(u['completion_tokens'], u['output_tokens'])
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: count(u['total_tokens']) || prompt + completion }
}

export interface GatewayObserver {
  onUpstream(call: UpstreamCall): void
}

export const NO_OBSERVER: GatewayObserver = { onUpstream: () => undefined }

/** One observer that reports to each of `observers` in turn (one failing does not stop the others). */
export function combineObservers(...observers: GatewayObserver[]): GatewayObserver {
  if (observers.length === 1 && observers[0]) return observers[0]
  return {
    onUpstream(call) {
      for (const observer of observers) {
        try {
          observer.onUpstream(call)
        } catch {
          // an observer's bug must not fail the caller's request
        }
      }
    },
  }
}

/**
 * One provider call being watched: created when the request is sent, told of the first chunk and of the
 * end, reports once.
 */
export class UpstreamWatch {
  private readonly started = performance.now()
  private firstChunkMs: number | undefined
  private error: UpstreamErrorKind | undefined
  private reported = false
  private tokens: TokenUsage | undefined

  constructor(
    private readonly observer: GatewayObserver,
    private readonly call: Omit<UpstreamCall, 'status' | 'latencyMs' | 'firstChunkMs' | 'error'>,
    private status = 0,
  ) {}

  answered(status: number): void {
    this.status = status
  }

  firstChunk(): void {
    if (this.firstChunkMs === undefined) this.firstChunkMs = performance.now() - this.started
  }

  /** The provider's `usage` (the last one sent wins: a stream's final usage chunk). */
  usage(raw: unknown): void {
    this.tokens = tokenUsageOf(raw) ?? this.tokens
  }

  /** A fault that does not end the call at once (an error event mid-stream): reported with the end. */
  fault(kind: UpstreamErrorKind): void {
    this.error ??= kind
  }

  end(error?: UpstreamErrorKind): void {
    if (this.reported) return
    this.reported = true
    const kind = this.error ?? error
    // Built field by field: on Node 20 `{...call, more}` costs microseconds (measured: bench/metrics-overhead.ts).
    const c = this.call
    const report: UpstreamCall = {
      connectionId: c.connectionId,
      connectionName: c.connectionName,
      path: c.path,
      userId: c.userId,
      model: c.model,
      upstreamModel: c.upstreamModel,
      stream: c.stream,
      status: this.status,
      latencyMs: performance.now() - this.started,
    }
    if (this.firstChunkMs !== undefined) report.firstChunkMs = this.firstChunkMs
    if (kind !== undefined) report.error = kind
    if (this.tokens !== undefined) report.usage = this.tokens
    this.observer.onUpstream(report)
  }
}

/** The kind of a failed call's error: our AppError's code and the provider's status. */
export function errorKindOf(code: string | undefined, status: number): UpstreamErrorKind {
  if (code === 'PROVIDER_TIMEOUT') return 'timeout'
  if (status === 429) return 'rate_limited'
  if (status >= 500) return 'http_5xx'
  if (status >= 400) return 'http_4xx'
  if (status >= 200 && status < 300) return 'bad_answer'
  return 'unreachable'
}
