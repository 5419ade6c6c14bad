/**
 * The analytics answers (docs/analytics.md): the range and scope of a request checked (whose usage is
 * `usageScope`'s decision, src/access), then the repository's aggregates in Open WebUI's shapes.
 */
import { usageScope } from '../access/analytics-access.js'
import type { Actor } from '../access/actor.js'
import { AppError } from '../errors/app-error.js'
import type {
  AnalyticsDaily,
  AnalyticsFilters,
  AnalyticsGroups,
  AnalyticsModels,
  AnalyticsSummary,
  AnalyticsTokens,
  AnalyticsUsers,
} from './analytics.schema.js'
import type { UsageRecorder } from './usage-recorder.js'
import { modelKey, type UsageFilter, type UsageRepo } from './usage.repo.js'

const DAY = 86_400
/** The default range, and the longest one answered (hourly buckets: a month). */
export const DEFAULT_RANGE_DAYS = 30
export const MAX_RANGE_DAYS = 400
export const MAX_HOURLY_RANGE_DAYS = 31

export interface AnalyticsSettings {
  recording: boolean
  retentionDays: number
}

export class AnalyticsService {
  constructor(
    private readonly repo: UsageRepo,
    private readonly settings: AnalyticsSettings,
    private readonly recorder: UsageRecorder | null,
  ) {}

  /** The rows a request may read, or a 400/403 naming what is wrong. */
  async filterFor(actor: Actor, filters: AnalyticsFilters, maxDays = MAX_RANGE_DAYS): Promise<UsageFilter & { admin: boolean }> {
    const scope = usageScope(actor, filters)
    const end = filters.end_date ?? Math.floor(Date.now() / 1000) + 1
    const start = filters.start_date ?? Math.max(0, end - DEFAULT_RANGE_DAYS * DAY)
    if (end < start) throw new AppError('VALIDATION_ERROR', 'end_date must not be before start_date.')
    if (end - start > maxDays * DAY) throw new AppError('VALIDATION_ERROR', `The range may span at most ${maxDays} days; narrow start_date and end_date.`)
    if (scope.groupId !== null && !(await this.repo.groupExists(scope.groupId))) {
      throw new AppError('VALIDATION_ERROR', `No group with id "${scope.groupId}".`)
    }
    return { start, end, userId: scope.userId, groupId: scope.groupId, admin: scope.admin }
  }

  async summary(actor: Actor, filters: AnalyticsFilters): Promise<AnalyticsSummary> {
    const filter = await this.filterFor(actor, filters)
    const [totals, latency] = await Promise.all([this.repo.totals(filter), this.repo.percentiles(filter, 'latency_ms', false)])
    const overall = latency.get(modelKey('', ''))
    return {
      total_messages: totals.count,
      total_chats: 0,
      total_models: totals.models,
      total_users: totals.users,
      total_errors: totals.errors,
      error_rate: rate(totals.errors, totals.count),
      input_tokens: totals.input_tokens,
      output_tokens: totals.output_tokens,
      total_tokens: totals.total_tokens,
      latency_p50_ms: overall?.p50 ?? null,
      latency_p95_ms: overall?.p95 ?? null,
      start_date: filter.start,
      end_date: filter.end,
      recording: this.settings.recording,
      retention_days: this.settings.retentionDays,
      dropped: filter.admin ? (this.recorder?.stats().dropped ?? 0) : null,
    }
  }

  async models(actor: Actor, filters: AnalyticsFilters): Promise<AnalyticsModels> {
    const filter = await this.filterFor(actor, filters)
    const [rows, latency, firstChunk] = await Promise.all([
      this.repo.byModel(filter),
      this.repo.percentiles(filter, 'latency_ms', true),
      this.repo.percentiles(filter, 'first_chunk_ms', true),
    ])
    return {
      models: rows.map((r) => {
        const key = modelKey(r.model_id, r.base_model_id)
        return {
          ...r,
          unique_chats: 0,
          error_rate: rate(r.errors, r.count),
          latency_p50_ms: latency.get(key)?.p50 ?? null,
          latency_p95_ms: latency.get(key)?.p95 ?? null,
          first_chunk_p50_ms: firstChunk.get(key)?.p50 ?? null,
        }
      }),
    }
  }

  async users(actor: Actor, filters: AnalyticsFilters & { limit: number }): Promise<AnalyticsUsers> {
    const filter = await this.filterFor(actor, filters)
    const top = await this.repo.topUsers(filter, filters.limit)
    const perModel = await this.repo.userModels(
      filter,
      top.map((u) => u.user_id),
    )
    return {
      users: top.map((u) => ({
        ...u,
        cost: null,
        models: perModel
          .filter((m) => m.user_id === u.user_id)
          .map((m) => ({
            model_id: m.model_id,
            base_model_id: m.base_model_id,
            count: m.count,
            unique_chats: 0,
            input_tokens: m.input_tokens,
            cached_tokens: 0,
            output_tokens: m.output_tokens,
            total_tokens: m.total_tokens,
            cost: null,
          })),
      })),
    }
  }

  async groups(actor: Actor, filters: AnalyticsFilters & { limit: number }): Promise<AnalyticsGroups> {
    const filter = await this.filterFor(actor, filters)
    return { groups: await this.repo.topGroups(filter, filters.limit) }
  }

  async daily(actor: Actor, filters: AnalyticsFilters & { granularity: 'daily' | 'hourly' }): Promise<AnalyticsDaily> {
    const hourly = filters.granularity === 'hourly'
    const filter = await this.filterFor(actor, filters, hourly ? MAX_HOURLY_RANGE_DAYS : MAX_RANGE_DAYS)
    const buckets = new Map<number, AnalyticsDaily['data'][number]>()
    for (const row of await this.repo.series(filter, hourly ? 3600 : DAY)) {
      let entry = buckets.get(row.bucket)
      if (!entry) {
        entry = { date: bucketLabel(row.bucket, hourly), models: {}, tokens: {}, costs: {}, errors: {} }
        buckets.set(row.bucket, entry)
      }
      entry.models[row.model_id] = row.count
      entry.tokens[row.model_id] = row.total_tokens
      entry.errors[row.model_id] = row.errors
    }
    return { data: [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([, entry]) => entry) }
  }

  async tokens(actor: Actor, filters: AnalyticsFilters): Promise<AnalyticsTokens> {
    const filter = await this.filterFor(actor, filters)
    const rows = (await this.repo.byModel(filter)).sort((a, b) => b.total_tokens - a.total_tokens)
    const models = rows.map((r) => ({
      model_id: r.model_id,
      base_model_id: r.base_model_id,
      input_tokens: r.input_tokens,
      output_tokens: r.output_tokens,
      cached_tokens: 0,
      reasoning_tokens: 0,
      total_tokens: r.total_tokens,
      message_count: r.count,
      cost: null,
      cost_breakdown: null,
    }))
    const sum = (pick: (m: (typeof models)[number]) => number) => models.reduce((total, m) => total + pick(m), 0)
    return {
      models,
      total_input_tokens: sum((m) => m.input_tokens),
      total_output_tokens: sum((m) => m.output_tokens),
      total_cached_tokens: 0,
      total_reasoning_tokens: 0,
      total_tokens: sum((m) => m.total_tokens),
      total_cost: null,
      cost_breakdown: null,
      currency: null,
      unpriced_models: models.length,
    }
  }
}

const rate = (part: number, whole: number) => (whole === 0 ? 0 : part / whole)

function bucketLabel(seconds: number, hourly: boolean): string {
  const iso = new Date(seconds * 1000).toISOString()
  return hourly ? `${iso.slice(0, 10)} ${iso.slice(11, 13)}:00` : iso.slice(0, 10)
}
