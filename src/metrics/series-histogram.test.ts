import { Histogram, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { SeriesHistogram } from './series-histogram.js'

const BUCKETS = [0.001, 0.01, 0.1, 1]

describe('SeriesHistogram', () => {
  it("writes exactly prom-client's histogram text for the same observations", async () => {
    const theirs = new Registry()
    const ours = new Registry()
    const reference = new Histogram({
      name: 'h_seconds',
      help: 'A "help" text\\ with odd characters.',
      labelNames: ['route', 'status'],
      buckets: BUCKETS,
      registers: [theirs],
    })
    const histogram = new SeriesHistogram('h_seconds', 'A "help" text\\ with odd characters.', BUCKETS, [ours])
    const observations: [Record<'route' | 'status', string>, number][] = [
      [{ route: '/v1/chat/completions', status: '200' }, 0.0004],
      [{ route: '/v1/chat/completions', status: '200' }, 0.05],
      [{ route: '/v1/chat/completions', status: '200' }, 7],
      [{ route: '/a "quoted"\nroute', status: '500' }, 0.01],
      [{ route: '/a "quoted"\nroute', status: '500' }, 0.5],
    ]
    const observers = new Map<string, (value: number) => void>()
    for (const [labels, value] of observations) {
      reference.labels(labels).observe(value)
      const key = JSON.stringify(labels)
      if (!observers.has(key)) observers.set(key, histogram.observer(labels))
      observers.get(key)?.(value)
    }
    expect(await ours.metrics()).toBe(await theirs.metrics())
    expect(await ours.metrics()).toContain('h_seconds_bucket{le="+Inf",route="/v1/chat/completions",status="200"} 3')
  })

  it('ignores values that are not finite numbers, and reset empties every series but keeps it', async () => {
    const registry = new Registry()
    const histogram = new SeriesHistogram('h2_seconds', 'help', BUCKETS, [registry])
    const observe = histogram.observer({ connection: 'c1' })
    observe(Number.NaN)
    observe(Number.POSITIVE_INFINITY)
    observe(0.002)
    expect(await registry.metrics()).toContain('h2_seconds_count{connection="c1"} 1')
    registry.resetMetrics()
    observe(0.2)
    const text = await registry.metrics()
    expect(text).toContain('h2_seconds_count{connection="c1"} 1')
    expect(text).toContain('h2_seconds_bucket{le="0.01",connection="c1"} 0')
    expect(text).toContain('h2_seconds_bucket{le="1",connection="c1"} 1')
  })
})
