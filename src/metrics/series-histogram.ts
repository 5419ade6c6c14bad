/**
 * A Prometheus histogram for the request path, written like prom-client's and registered in its
 * registry, but observed through a handle per label set: prom-client's `observe` checks the labels and
 * hashes them on every call, even through `labels(…)`'s child (~5 µs each, two or three per chat request;
 * docs/performance.md, "Gateway hot path"). Here a series is found once, then an observation is a bucket
 * scan and two additions.
 */
import type { Registry } from 'prom-client'

interface Series {
  labels: Record<string, string>
  counts: number[]
  sum: number
  count: number
}

export class SeriesHistogram {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  private readonly series = new Map<string, Series>()

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
    registers: Registry[],
  ) {
    for (const registry of registers) registry.registerMetric(this as never)
  }

  /** The observer of one label set (keep it: finding it again joins the label values). */
  observer(labels: Record<string, string>): (value: number) => void {
    const key = Object.keys(labels)
      .sort()
      .map((name) => `${name}=${labels[name]}`)
      .join('\u0000')
    let series = this.series.get(key)
    if (!series) this.series.set(key, (series = { labels: { ...labels }, counts: this.buckets.map(() => 0), sum: 0, count: 0 }))
    const { buckets } = this
    const target = series
    return (value) => {
      if (!Number.isFinite(value)) return
      target.sum += value
      target.count += 1
      for (let i = 0; i < buckets.length; i++) {
        if (value <= (buckets[i] as number)) {
          ;(target.counts[i] as number) += 1
          break
        }
      }
    }
  }

  reset(): void {
    for (const series of this.series.values()) {
      series.counts.fill(0)
      series.sum = 0
      series.count = 0
    }
  }

  /** prom-client's histogram values, in its order: cumulative buckets (`le`, then `+Inf`), `_sum`, `_count` per series. */
  get() {
    type Value = { labels: Record<string, string | number>; sharedLabels: Record<string, string>; value: number; metricName: string }
    const values: Value[] = []
    const bucket = `${this.name}_bucket`
    for (const { labels, counts, sum, count } of this.series.values()) {
      let cumulative = 0
      this.buckets.forEach((bound, i) => {
        cumulative += counts[i] as number
        values.push({ labels: { le: bound }, sharedLabels: labels, value: cumulative, metricName: bucket })
      })
      values.push({ labels: { le: '+Inf' }, sharedLabels: labels, value: count, metricName: bucket })
      values.push({ labels: {}, sharedLabels: labels, value: sum, metricName: `${this.name}_sum` })
      values.push({ labels: {}, sharedLabels: labels, value: count, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }
}
