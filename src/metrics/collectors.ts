/**
 * The collectors behind GET /metrics (docs/metrics.md lists each metric). Label values are bounded: route
 * patterns (never raw URLs: no ids, no query strings), connection ids (never URLs: they can carry keys),
 * fixed words. On the request path the cost is one histogram observation; counters of the hot paths are
 * plain numbers read on scrape; the hot histograms are SeriesHistograms (series-histogram.ts).
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import { VersionedCache } from '../cache/versioned-cache.js'
import type { Database } from '../db/database.js'
import { statementCount } from '../db/statement-counter.js'
import { SeriesHistogram } from './series-histogram.js'
import type { GatewayObserver } from '../gateway/gateway-observer.js'

/** Seconds: from a cached answer (sub-millisecond) to a long provider call. Fixed, so observing is a short scan. */
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
const UPSTREAM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

/** The route label of a request no route matched (404s, malformed URLs): one series, whatever was asked. */
export const UNMATCHED_ROUTE = 'unmatched'

type Observe = (seconds: number) => void

/** `modelgate_http_request_duration_seconds{method, route, status}`. */
export class RequestDurations {
  private readonly histogram: SeriesHistogram
  /** route → method → status → the series' observer: no label object or string is built per request after the first. */
  private readonly series = new Map<string, Map<string, Map<number, Observe>>>()

  constructor(registry: Registry) {
    this.histogram = new SeriesHistogram(
      'modelgate_http_request_duration_seconds',
      'Time to answer an HTTP request, by method, route pattern and status.',
      REQUEST_BUCKETS,
      [registry],
    )
  }

  /** `route`: the matched route's pattern (`/v1/models/*`), undefined when none matched. */
  observe(method: string, route: string | undefined, status: number, milliseconds: number): void {
    const pattern = route ?? UNMATCHED_ROUTE
    let byMethod = this.series.get(pattern)
    if (!byMethod) this.series.set(pattern, (byMethod = new Map<string, Map<number, Observe>>()))
    let byStatus = byMethod.get(method)
    if (!byStatus) byMethod.set(method, (byStatus = new Map<number, Observe>()))
    let observe = byStatus.get(status)
    if (!observe) {
      observe = this.histogram.observer({ method, route: pattern, status: String(status) })
      byStatus.set(status, observe)
    }
    observe(milliseconds / 1000)
  }
}

/**
 * Provider calls by connection: `modelgate_gateway_upstream_duration_seconds`,
 * `modelgate_gateway_upstream_first_chunk_seconds`, `modelgate_gateway_provider_errors_total{kind}`, and
 * `modelgate_gateway_connection_info{connection, name}` to show names. Calls the caller cancelled are not
 * the provider's: not counted.
 */
export function gatewayCollector(registry: Registry): GatewayObserver {
  const registers = [registry]
  const latency = new SeriesHistogram(
    'modelgate_gateway_upstream_duration_seconds',
    'Provider calls: from sending the request to the end of the answer (or the failure), by connection id.',
    UPSTREAM_BUCKETS,
    registers,
  )
  const firstChunk = new SeriesHistogram(
    'modelgate_gateway_upstream_first_chunk_seconds',
    "Streamed provider calls: from sending the request to the answer's first chunk, by connection id.",
    UPSTREAM_BUCKETS,
    registers,
  )
  const errors = new Counter({
    name: 'modelgate_gateway_provider_errors_total',
    help: 'Failed provider calls by connection id and kind (timeout, unreachable, rate_limited, http_4xx, http_5xx, bad_answer, stream_broken, stream_error).',
    labelNames: ['connection', 'kind'],
    registers,
  })
  const info = new Gauge({
    name: 'modelgate_gateway_connection_info',
    help: 'The name of each connection id seen in provider calls (always 1; join on `connection`).',
    labelNames: ['connection', 'name'],
    registers,
  })
  /** Each connection's series, found without building labels; its name as last shown in `info`. */
  const series = new Map<string, { name: string; latency: Observe; firstChunk: Observe }>()
  return {
    onUpstream(call) {
      if (call.error === 'cancelled') return
      const connection = call.connectionId
      let known = series.get(connection)
      if (known?.name !== call.connectionName) {
        if (known) info.remove(connection, known.name)
        info.labels(connection, call.connectionName).set(1)
        known = { name: call.connectionName, latency: latency.observer({ connection }), firstChunk: firstChunk.observer({ connection }) }
        series.set(connection, known)
      }
      known.latency(call.latencyMs / 1000)
      if (call.firstChunkMs !== undefined) known.firstChunk(call.firstChunkMs / 1000)
      if (call.error) errors.labels(connection, call.error).inc()
    },
  }
}

/** `modelgate_cache_requests_total{cache, result}` of every VersionedCache; answers the function that stops listening. */
export function cacheCollector(registry: Registry): () => void {
  const counts = new Map<string, { hit: number; miss: number }>()
  new Counter({
    name: 'modelgate_cache_requests_total',
    help: 'Lookups of the answer caches by cache and result (hit: a fresh entry; miss: computed anew).',
    labelNames: ['cache', 'result'],
    registers: [registry],
    collect() {
      this.reset()
      for (const [cache, count] of counts) {
        this.inc({ cache, result: 'hit' }, count.hit)
        this.inc({ cache, result: 'miss' }, count.miss)
      }
    },
  })
  return VersionedCache.listen((cache, hit) => {
    let count = counts.get(cache)
    if (!count) counts.set(cache, (count = { hit: 0, miss: 0 }))
    if (hit) count.hit += 1
    else count.miss += 1
  })
}

/**
 * `modelgate_db_pool_connections{state}` (PostgreSQL: total, idle, waiting clients of the pool; SQLite:
 * its one connection as total) and `modelgate_db_statements_total`, read on scrape.
 */
export function databaseCollectors(registry: Registry, database: Database): void {
  const registers = [registry]
  new Gauge({
    name: 'modelgate_db_pool_connections',
    help: 'Database connections by state: total and idle connections of the pool, and queries waiting for one (PostgreSQL); SQLite has one connection.',
    labelNames: ['state', 'dialect'],
    registers,
    collect() {
      const dialect = database.dialect
      const stats = database.poolStats?.()
      if (!stats) {
        this.set({ state: 'total', dialect }, 1)
        return
      }
      this.set({ state: 'total', dialect }, stats.total)
      this.set({ state: 'idle', dialect }, stats.idle)
      this.set({ state: 'waiting', dialect }, stats.waiting)
    },
  })
  new Counter({
    name: 'modelgate_db_statements_total',
    help: 'SQL statements sent to the database by this process (BEGIN and COMMIT excluded).',
    registers,
    collect() {
      this.reset()
      this.inc(statementCount())
    },
  })
}
