/**
 * Usage analytics (issue #17, docs/analytics.md): calls and tokens per day and model, latency p50/p95 and
 * error rate per model, top users and groups. Admins see everyone's usage, narrowed by group if they
 * choose; others see their own (the server decides: the same routes answer them with their usage only).
 */
import { useId, useMemo, useState, type ReactNode } from 'react'
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import type { AnalyticsDaily, AnalyticsFilters, AnalyticsModels, Granularity } from '../../api/client'
import { Empty, ErrorState, Loading } from '../../components/States'
import { useUser } from '../../lib/session'
import { useAnalyticsDaily, useAnalyticsGroups, useAnalyticsModels, useAnalyticsSummary, useAnalyticsUsers, useGroups } from '../../lib/queries'
import { fillBuckets, seriesOf, RANGES, rangeFilters, type RangeKey } from './series'

const COLORS = ['#3b5bdb', '#2b8a3e', '#e8590c', '#9c36b5', '#0c8599', '#c2255c', '#5c940d', '#868e96']

const numberFormat = new Intl.NumberFormat()
// Axis ticks: "300K" fits the axis's 48 px where "300,000" was cut off.
const compact = new Intl.NumberFormat(undefined, { notation: 'compact' })
const tickNumber = (value: number) => compact.format(value)
/** Model ids on the per-model axis, cut to what the axis has room for (the tooltip names the whole id). */
const tickModel = (id: string) => (id.length > 18 ? `${id.slice(0, 17)}…` : id)
const percent = (value: number) => `${(value * 100).toFixed(value > 0 && value < 0.01 ? 2 : 1)}%`
const ms = (value: number | null) => (value === null ? '–' : `${numberFormat.format(Math.round(value))} ms`)

export function AnalyticsPage() {
  const user = useUser()
  const admin = user.role === 'admin'
  // The range's end is fixed when it is chosen, so every chart reads the same window (and one cache entry).
  const [range, setRange] = useState<{ key: RangeKey; at: number }>(() => ({ key: '7d', at: Date.now() }))
  const [groupId, setGroupId] = useState('')
  const prefix = useId()
  const filters = useMemo<AnalyticsFilters>(() => ({ ...rangeFilters(range.key, range.at), ...(groupId && { group_id: groupId }) }), [range, groupId])
  const granularity: Granularity = range.key === '24h' ? 'hourly' : 'daily'

  const groups = useGroups(admin)
  const summary = useAnalyticsSummary(filters)
  const daily = useAnalyticsDaily(filters, granularity)
  const models = useAnalyticsModels(filters)
  const users = useAnalyticsUsers(filters)
  const topGroups = useAnalyticsGroups(filters, admin)

  return (
    <section className="page analytics">
      <div className="page-header">
        <h1 tabIndex={-1}>Analytics</h1>
        <p className="hint">{admin ? 'Usage of every account through the gateway.' : 'Your usage through the gateway.'}</p>
      </div>

      <form className="filters" aria-label="Analytics range" onSubmit={(event) => event.preventDefault()}>
        <div className="field">
          <label htmlFor={`${prefix}-range`}>Range</label>
          <select id={`${prefix}-range`} value={range.key} onChange={(event) => setRange({ key: event.target.value as RangeKey, at: Date.now() })}>
            {RANGES.map((r) => (
              <option key={r.key} value={r.key}>
                {r.label}
              </option>
            ))}
          </select>
        </div>
        {admin ? (
          <div className="field">
            <label htmlFor={`${prefix}-group`}>Group</label>
            <select id={`${prefix}-group`} value={groupId} onChange={(event) => setGroupId(event.target.value)}>
              <option value="">Everyone</option>
              {groups.data?.map((group) => (
                <option key={group.id} value={group.id}>
                  {group.name}
                </option>
              ))}
            </select>
          </div>
        ) : null}
      </form>

      {summary.isError ? (
        <ErrorState error={summary.error} title="Could not load the analytics" onRetry={() => void summary.refetch()} />
      ) : !summary.data ? (
        <Loading />
      ) : (
        <>
          <dl className="analytics-tiles" aria-label="Totals">
            <Tile label="Calls" value={numberFormat.format(summary.data.total_messages)} />
            <Tile label="Tokens" value={numberFormat.format(summary.data.total_tokens)} />
            <Tile label="Error rate" value={percent(summary.data.error_rate)} />
            <Tile label="Latency p50 / p95" value={`${ms(summary.data.latency_p50_ms)} / ${ms(summary.data.latency_p95_ms)}`} />
            {admin ? <Tile label="Models / users" value={`${summary.data.total_models} / ${summary.data.total_users}`} /> : null}
          </dl>
          {!summary.data.recording ? <p className="status-warning">Recording is off (USAGE_ANALYTICS=false): no new calls are counted.</p> : null}
          {summary.data.total_messages === 0 ? <Empty title="No calls in this range" /> : null}
        </>
      )}

      <div className="analytics-grid">
        <Panel title={granularity === 'hourly' ? 'Calls per hour, by model' : 'Calls per day, by model'}>
          <DailyChart daily={daily.data} value="models" filters={filters} hourly={granularity === 'hourly'} />
        </Panel>
        <Panel title={granularity === 'hourly' ? 'Tokens per hour, by model' : 'Tokens per day, by model'}>
          <DailyChart daily={daily.data} value="tokens" filters={filters} hourly={granularity === 'hourly'} />
        </Panel>
        <Panel title="Latency by model (ms)">
          <ModelChart models={models.data} kind="latency" />
        </Panel>
        <Panel title="Error rate by model (%)">
          <ModelChart models={models.data} kind="errors" />
        </Panel>
        <Panel title={admin ? 'Top users' : 'Your usage'}>
          {users.data && users.data.users.length > 0 ? (
            <table className="table table-compact">
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">Calls</th>
                  <th scope="col">Tokens</th>
                </tr>
              </thead>
              <tbody>
                {users.data.users.map((u) => (
                  <tr key={u.user_id}>
                    <td data-label="User">{u.name ?? <span className="hint">Deleted account</span>}</td>
                    <td data-label="Calls">{numberFormat.format(u.count)}</td>
                    <td data-label="Tokens">{numberFormat.format(u.total_tokens)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="hint">No calls.</p>
          )}
        </Panel>
        {admin ? (
          <Panel title="Top groups">
            {topGroups.data && topGroups.data.groups.length > 0 ? (
              <table className="table table-compact">
                <thead>
                  <tr>
                    <th scope="col">Group</th>
                    <th scope="col">Calls</th>
                    <th scope="col">Users</th>
                    <th scope="col">Tokens</th>
                  </tr>
                </thead>
                <tbody>
                  {topGroups.data.groups.map((g) => (
                    <tr key={g.group_id}>
                      <td data-label="Group">{g.name}</td>
                      <td data-label="Calls">{numberFormat.format(g.count)}</td>
                      <td data-label="Users">{numberFormat.format(g.unique_users)}</td>
                      <td data-label="Tokens">{numberFormat.format(g.total_tokens)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p className="hint">No calls by members of a group.</p>
            )}
          </Panel>
        ) : null}
      </div>
    </section>
  )
}

function Tile({ label, value }: { label: string; value: string }) {
  return (
    <div className="analytics-tile">
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  )
}

function Panel({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="panel analytics-panel" aria-label={title}>
      <h2>{title}</h2>
      {children}
    </section>
  )
}

/** Stacked bars: one bar per bucket, one segment per model (the busiest few; the rest as "other"). */
function DailyChart({
  daily,
  value,
  filters,
  hourly,
}: {
  daily: AnalyticsDaily | undefined
  value: 'models' | 'tokens'
  filters: AnalyticsFilters
  hourly: boolean
}) {
  const { rows, series } = useMemo(
    () => seriesOf(fillBuckets(daily?.data ?? [], filters.start_date ?? 0, filters.end_date ?? 0, hourly), value),
    [daily, value, filters, hourly],
  )
  if (!daily) return <Loading />
  if (series.length === 0) return <p className="hint">No calls.</p>
  return (
    <div className="analytics-chart">
      <ResponsiveContainer width="100%" height={260}>
        <BarChart data={rows} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          {/* Hourly buckets show their hour only ("14:00"): the range is the last 24 hours, and more labels fit. */}
          <XAxis dataKey="date" tick={{ fontSize: 12 }} tickFormatter={hourly ? (date: string) => date.slice(11) : undefined} />
          <YAxis allowDecimals={false} tick={{ fontSize: 12 }} width={48} tickFormatter={tickNumber} />
          <Tooltip />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          {series.map((s, index) => (
            <Bar key={s.dataKey} dataKey={s.dataKey} name={s.name} stackId="models" fill={COLORS[index % COLORS.length]} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </div>
  )
}

/**
 * Per model: latency p50 and p95 side by side, or the error rate. Horizontal bars, the model ids on the
 * vertical axis: under the bars, the axis hid every other id (they overlapped), at 1280 px as at 390.
 */
function ModelChart({ models, kind }: { models: AnalyticsModels | undefined; kind: 'latency' | 'errors' }) {
  const rows = useMemo(() => {
    // One bar per model id (its base models merged: the busiest one's figures stand for it).
    const seen = new Map<string, { model: string; p50: number; p95: number; errors: number }>()
    for (const m of models?.models ?? []) {
      if (seen.has(m.model_id)) continue
      seen.set(m.model_id, { model: m.model_id, p50: m.latency_p50_ms ?? 0, p95: m.latency_p95_ms ?? 0, errors: Math.round(m.error_rate * 1000) / 10 })
    }
    return [...seen.values()].slice(0, 12)
  }, [models])
  if (!models) return <Loading />
  if (rows.length === 0) return <p className="hint">No calls.</p>
  return (
    <div className="analytics-chart">
      <ResponsiveContainer width="100%" height={70 + rows.length * (kind === 'latency' ? 34 : 24)}>
        <BarChart data={rows} layout="vertical" margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" horizontal={false} />
          <XAxis type="number" tick={{ fontSize: 12 }} tickFormatter={tickNumber} />
          <YAxis type="category" dataKey="model" tick={{ fontSize: 12 }} width={124} interval={0} tickFormatter={tickModel} />
          <Tooltip />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          {kind === 'latency' ? (
            <>
              <Bar dataKey="p50" name="p50" fill={COLORS[0]} isAnimationActive={false} />
              <Bar dataKey="p95" name="p95" fill={COLORS[2]} isAnimationActive={false} />
            </>
          ) : (
            <Bar dataKey="errors" name="errors %" fill="#c92a2a" isAnimationActive={false} />
          )}
        </BarChart>
      </ResponsiveContainer>
    </div>
  )
}
