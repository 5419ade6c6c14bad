/**
 * What the metrics cost on the request path (docs/metrics.md, "Cost"): nanoseconds per request-duration
 * observation, per gateway call report, and per answer-cache lookup with and without the metrics listener.
 * `npx tsx bench/metrics-overhead.ts` (one process, warm-up first, best of five rounds).
 */
import { Registry } from 'prom-client'
import { VersionedCache } from '../src/cache/versioned-cache.js'
import { UpstreamWatch } from '../src/gateway/gateway-observer.js'
import { cacheCollector, gatewayCollector, RequestDurations } from '../src/metrics/collectors.js'

const N = 1_000_000

function nsPerOp(label: string, work: (i: number) => void): void {
  for (let i = 0; i < N / 10; i++) work(i)
  const rounds: number[] = []
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < N; i++) work(i)
    rounds.push(Number(process.hrtime.bigint() - start) / N)
  }
  console.log(
    `${label.padEnd(58)} ${Math.min(...rounds)
      .toFixed(0)
      .padStart(6)} ns/op`,
  )
}

const registry = new Registry()
const durations = new RequestDurations(registry)
const routes = ['/v1/chat/completions', '/v1/models', '/api/v1/models/list', '/api/v1/models/model']
nsPerOp('request duration observed (4 routes, 2 statuses)', (i) => durations.observe('GET', routes[i & 3], i & 4 ? 200 : 404, 1.25))

const gateway = gatewayCollector(registry)
const call = { connectionId: 'c1', connectionName: 'Lab', path: '/chat/completions', userId: 'u', model: 'm', upstreamModel: 'm', stream: true }
nsPerOp('gateway call watched and reported (latency + first chunk)', () => {
  const watch = new UpstreamWatch(gateway, call, 200)
  watch.firstChunk()
  watch.end()
})

const cache = new VersionedCache<number>(100, 60_000, 'bench')
const value = Promise.resolve(1)
const compute = () => value
nsPerOp('cache hit, no listener', (i) => void cache.get(String(i & 15), 'v1', compute))
const stop = cacheCollector(registry)
nsPerOp('cache hit, metrics listening', (i) => void cache.get(String(i & 15), 'v1', compute))
stop()
void registry.metrics().then((text) => console.log(`exposition: ${text.length} bytes`))
