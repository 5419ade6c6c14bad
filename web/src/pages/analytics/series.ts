/** The Analytics page's pure parts: the ranges offered, and the server's buckets as chart rows. */
import type { AnalyticsDaily, AnalyticsFilters } from '../../api/client'

export type RangeKey = '24h' | '7d' | '30d' | '90d'

export const RANGES: { key: RangeKey; label: string; days: number }[] = [
  { key: '24h', label: 'Last 24 hours', days: 1 },
  { key: '7d', label: 'Last 7 days', days: 7 },
  { key: '30d', label: 'Last 30 days', days: 30 },
  { key: '90d', label: 'Last 90 days', days: 90 },
]

/** `start_date`/`end_date` (epoch seconds) of a range ending now (to the minute, so reloads share a cache entry). */
export function rangeFilters(key: RangeKey, nowMs: number): AnalyticsFilters {
  const days = RANGES.find((r) => r.key === key)?.days ?? 7
  const end = Math.ceil(nowMs / 60_000) * 60
  return { start_date: end - days * 86_400, end_date: end }
}

/** Every bucket of [start, end) (epoch seconds, UTC days or hours), those without calls empty: the axis shows the whole range. */
export function fillBuckets(data: AnalyticsDaily['data'], start: number, end: number, hourly: boolean): AnalyticsDaily['data'] {
  const step = hourly ? 3600 : 86_400
  const byDate = new Map(data.map((entry) => [entry.date, entry]))
  const filled: AnalyticsDaily['data'] = []
  for (let t = start - (start % step); t < end; t += step) {
    const iso = new Date(t * 1000).toISOString()
    const date = hourly ? `${iso.slice(0, 10)} ${iso.slice(11, 13)}:00` : iso.slice(0, 10)
    filled.push(byDate.get(date) ?? { date, models: {}, tokens: {}, costs: {}, errors: {} })
  }
  return filled
}

/** How many models get a colour of their own; the rest are summed as "other". */
const MAX_SERIES = 7
export const OTHER = 'other'

/**
 * One row per bucket (`date`, then `s0`, `s1`… one number per series), and the series: the busiest models
 * first, the rest summed as "other". Series are keyed by position, so no model id can collide with `date`.
 * Busiest means most calls for the tokens chart too, so a model keeps its colour (and its place in
 * "other") from one chart to the other.
 */
export function seriesOf(
  data: AnalyticsDaily['data'],
  value: 'models' | 'tokens',
): { rows: Record<string, string | number>[]; series: { dataKey: string; name: string }[] } {
  const totals = new Map<string, number>()
  for (const entry of data) for (const [model, n] of Object.entries(entry.models)) totals.set(model, (totals.get(model) ?? 0) + n)
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([model]) => model)
  const shown = ranked.length > MAX_SERIES ? ranked.slice(0, MAX_SERIES - 1) : ranked
  const names = ranked.length > MAX_SERIES ? [...shown, OTHER] : shown
  const series = names.map((name, index) => ({ dataKey: `s${index}`, name }))
  const rows = data.map((entry) => {
    const row: Record<string, string | number> = { date: entry.date }
    for (const s of series) row[s.dataKey] = 0
    for (const [model, n] of Object.entries(entry[value])) {
      const index = shown.indexOf(model)
      const key = `s${index === -1 ? shown.length : index}`
      row[key] = Number(row[key] ?? 0) + n
    }
    return row
  })
  return { rows, series }
}
