/**
 * Issue #17's targets, read off one run's results: one row per target (and dialect and size where it
 * applies) with what was measured, its ratio to the target, and ✔/✘. A target the run cannot measure
 * says why ("full only", "not run"). ✘ never fails the run: the shared machine is noisy.
 */
import type { Row, SuiteResult } from './run.js'
import { median } from './load.js'

type Status = '✔' | '✘' | 'full only' | 'not run' | 'n/a'

interface TargetRow {
  target: string
  where: string
  measured: string
  ratio: string
  status: Status
}

const LARGE = 1_000_000
const us = (value: number) => `${value.toFixed(0)} µs`
const ms = (value: number) => `${(value / 1000).toFixed(2)} ms`
const times = (value: number) => `${value.toFixed(2)}×`
const check = (ok: boolean | null): Status => (ok === null ? 'n/a' : ok ? '✔' : '✘')
const row = (suite: SuiteResult, key: string): Row | undefined => suite.rows.find((r) => r.key === key)

export function targetsTable(suites: SuiteResult[], full: boolean): string {
  const out: TargetRow[] = []
  const add = (target: string, where: string, measured: string, ratio: string, status: Status) => out.push({ target, where, measured, ratio, status })
  const where = (s: SuiteResult) => `${s.dialect} ${s.size.toLocaleString('en-US')}`

  for (const s of suites) {
    const proxy = s.anchors.get('proxy')
    const gateway = s.anchors.get('gateway')
    if (gateway?.rps && proxy?.rps) {
      const r = gateway.rps / proxy.rps
      add('gateway throughput ≥ 0.8× the bare proxy (c=32)', where(s), `${gateway.rps.toFixed(0)} vs ${proxy.rps.toFixed(0)} req/s`, times(r), check(r >= 0.8))
    } else add('gateway throughput ≥ 0.8× the bare proxy (c=32)', where(s), 'not measured', '–', 'n/a')
    if (gateway?.latency && proxy?.latency) {
      const added = gateway.latency.p50 - proxy.latency.p50
      add(
        'added p50 at c=1 ≤ 150 µs over the proxy',
        where(s),
        `${us(added)} (${us(gateway.latency.p50)} vs ${us(proxy.latency.p50)})`,
        times(added / 150),
        check(added <= 150),
      )
    } else add('added p50 at c=1 ≤ 150 µs over the proxy', where(s), 'not measured', '–', 'n/a')
    if (gateway?.stream && proxy?.stream) {
      const r = gateway.stream.firstChunk / proxy.stream.firstChunk
      add(
        'first streamed chunk ≤ 1.3× the proxy (p50, c=1)',
        where(s),
        `${ms(gateway.stream.firstChunk)} vs ${ms(proxy.stream.firstChunk)}`,
        times(r),
        check(r <= 1.3),
      )
    } else add('first streamed chunk ≤ 1.3× the proxy (p50, c=1)', where(s), 'not measured', '–', 'n/a')
    for (const [key, label] of [
      ['S8', '/v1/models'],
      ['S8b', '/api/models'],
    ] as const) {
      const r = row(s, key)
      const name = `${label} ≥ 0.7× a bare server sending the same bytes`
      if (r?.ratio != null) add(name, where(s), `${(r.rps ?? 0).toFixed(0)} req/s`, times(r.ratio), check(r.ratio >= 0.7))
      else add(name, where(s), 'not measured', '–', 'n/a')
    }
    for (const page of s.pages) {
      if (page.deepPage <= 1) continue
      const r = page.deep / page.page1
      add(
        `page ${page.deepPage.toLocaleString('en-US')} costs ≤ page 1 (uncached, p50 c=1), ${page.reader}`,
        where(s),
        `${ms(page.deep)} vs ${ms(page.page1)}`,
        times(r),
        check(r <= 1),
      )
    }
    if (s.size >= LARGE) {
      const worst = Math.max(...s.pages.map((p) => p.page1))
      add(
        'uncached first pages at 1M: p50 ≤ 10 ms, every reader',
        where(s),
        s.pages.map((p) => `${p.reader} ${ms(p.page1)}`).join(', '),
        times(worst / 10_000),
        check(worst <= 10_000),
      )
    }
    if (s.dialect === 'postgres') {
      const imported = row(s, 'S7a')
      if (imported?.p50 != null) {
        const seconds = imported.p50 / 1000
        add('PostgreSQL import of 10k models < 2 s', where(s), `${seconds.toFixed(2)} s`, times(seconds / 2), check(seconds < 2))
      }
    }
    for (const [key, label] of [
      ['S6a', 'creates'],
      ['S6b', 'updates'],
    ] as const) {
      const r = row(s, key)
      if (r?.rps != null) add(`${label} ≥ 2,000/s`, where(s), `${r.rps.toFixed(0)}/s`, times(r.rps / 2000), check(r.rps >= 2000))
    }
    const peak = Math.max(...s.rows.map((r) => r.rssMb))
    add(
      'peak RSS of the server < 200 MB (full profile, 1M)',
      where(s),
      `${peak.toFixed(1)} MB`,
      times(peak / 200),
      s.size >= LARGE ? check(peak < 200) : 'full only',
    )
    if (s.usage && s.usage.rounds.length > 0) {
      // Each round's cost from its own pair (both sides measured back to back): the median of those.
      const costs = s.usage.rounds.map((r) => 1 - r.on / r.off)
      const cpu = s.usage.rounds.map((r) => r.onCpuUs / r.offCpuUs - 1)
      const pct = (v: number) => `${(v * 100).toFixed(1)}%`
      const cost = median(costs)
      add(
        'usage recording costs ≤ 5% of gateway throughput',
        where(s),
        `${s.usage.rounds.length} paired rounds, on vs off: req/s ${pct(cost)} (${pct(Math.min(...costs))} to ${pct(Math.max(...costs))}); CPU per request ${pct(median(cpu))}`,
        pct(cost),
        check(cost <= 0.05),
      )
    } else add('usage recording costs ≤ 5% of gateway throughput', where(s), 'not measured', '–', 'n/a')
  }

  // PostgreSQL's ratios to the ceiling against SQLite's, for the cached reads (same size, same run).
  for (const pg of suites.filter((s) => s.dialect === 'postgres')) {
    const lite = suites.find((s) => s.dialect === 'sqlite' && s.size === pg.size)
    if (!lite) continue
    for (const key of ['S1', 'S2', 'S3', 'S4', 'S5', 'S8']) {
      const [p, q] = [row(pg, key)?.ratio, row(lite, key)?.ratio]
      if (p == null || q == null) continue
      const r = p / q
      add(
        `${key} on PostgreSQL within 20% of SQLite's ratio`,
        `${pg.size.toLocaleString('en-US')}`,
        `${(p * 100).toFixed(0)}% vs ${(q * 100).toFixed(0)}%`,
        times(r),
        check(r >= 0.8),
      )
    }
  }
  if (!suites.some((s) => s.size >= LARGE)) {
    add('uncached first pages at 1M: p50 ≤ 10 ms, every reader', '–', full ? 'no 1M size in this run' : 'full profile only', '–', 'not run')
  }

  const lines = ['| target | where | measured | ratio | ✔/✘ |', '|---|---|---|---|---|']
  for (const t of out) lines.push(`| ${t.target} | ${t.where} | ${t.measured} | ${t.ratio} | ${t.status} |`)
  return lines.join('\n')
}
