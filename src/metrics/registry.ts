/**
 * The metrics of one app (its own prom-client Registry: tests build many apps in one process) and the
 * process's own (CPU, memory, GC, event-loop lag: prom-client's default metrics, collected once per
 * process because they describe the process). GET /metrics answers both, in Prometheus's text format.
 */
import { collectDefaultMetrics, Registry } from 'prom-client'
import type { Database } from '../db/database.js'
import type { GatewayObserver } from '../gateway/gateway-observer.js'
import { cacheCollector, databaseCollectors, gatewayCollector, RequestDurations } from './collectors.js'

export const METRICS_PREFIX = 'modelgate_'

let processRegistry: Registry | undefined

function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry, prefix: METRICS_PREFIX })
  }
  return processRegistry
}

export class Metrics {
  private readonly registry = new Registry()
  private readonly exposed: Registry
  /** Request durations by route pattern, method and status (recorded by src/http/request-metrics.ts). */
  readonly requests: RequestDurations
  /** Provider calls: latency, first chunk, errors by connection (wired into the ChatService in services.ts). */
  readonly gateway: GatewayObserver
  private readonly stopCacheListening: () => void

  constructor(database: Database) {
    this.requests = new RequestDurations(this.registry)
    this.gateway = gatewayCollector(this.registry)
    this.stopCacheListening = cacheCollector(this.registry)
    databaseCollectors(this.registry, database)
    this.exposed = Registry.merge([this.registry, processMetrics()])
  }

  get contentType(): string {
    return this.exposed.contentType
  }

  /** Every metric, in Prometheus's text exposition format (collectors that read on scrape run now). */
  text(): Promise<string> {
    return this.exposed.metrics()
  }

  close(): void {
    this.stopCacheListening()
  }
}
