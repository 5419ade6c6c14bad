import { describe, expect, it } from 'vitest'
import { fillBuckets, OTHER, rangeFilters, seriesOf } from './series'

const entry = (date: string, models: Record<string, number>) => ({ date, models, tokens: models, costs: {}, errors: {} })

describe('analytics series', () => {
  it('fills the days of a range without calls, keeping the ones with calls', () => {
    const start = Date.UTC(2026, 0, 1) / 1000
    const filled = fillBuckets([entry('2026-01-02', { a: 3 })], start, start + 3 * 86_400, false)
    expect(filled.map((e) => [e.date, e.models])).toEqual([
      ['2026-01-01', {}],
      ['2026-01-02', { a: 3 }],
      ['2026-01-03', {}],
    ])
    expect(fillBuckets([], start, start + 2 * 3600, true).map((e) => e.date)).toEqual(['2026-01-01 00:00', '2026-01-01 01:00'])
  })

  it('keys series by position (no model id can collide with `date`), the busiest first, the rest as other', () => {
    const models = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [i === 0 ? 'date' : `m${i}`, 10 - i]))
    const { rows, series } = seriesOf([entry('2026-01-01', models)], 'models')
    expect(series.map((s) => s.name)).toEqual(['date', 'm1', 'm2', 'm3', 'm4', 'm5', OTHER])
    expect(rows[0]).toMatchObject({ date: '2026-01-01', s0: 10, s5: 5, s6: 4 + 3 + 2 })
  })

  it('orders the tokens series by calls too: a model has the same series (colour) in both charts', () => {
    const data = [{ date: '2026-01-01', models: { busy: 9, wordy: 2 }, tokens: { busy: 100, wordy: 5000 }, costs: {}, errors: {} }]
    const calls = seriesOf(data, 'models')
    const tokens = seriesOf(data, 'tokens')
    expect(tokens.series).toEqual(calls.series)
    expect(tokens.series.map((s) => s.name)).toEqual(['busy', 'wordy'])
    expect(tokens.rows[0]).toMatchObject({ s0: 100, s1: 5000 })
  })

  it('ends a range at the next whole minute', () => {
    expect(rangeFilters('24h', 90_000)).toEqual({ start_date: 120 - 86_400, end_date: 120 })
  })
})
