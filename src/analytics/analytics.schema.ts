/**
 * Usage analytics' API (issue #17 item 7, docs/analytics.md): Open WebUI's `/api/v1/analytics/*` query
 * parameters and answer shapes, with modelgate's additions (errors, latency percentiles, groups).
 * Fields Open WebUI fills from what modelgate does not have (chats, prices) are kept, as 0 or null.
 */
import { z } from 'zod'
import { idText } from '../schema/common.js'

/** Epoch seconds as a query string value. */
const epochSecondsQuery = (what: string) =>
  z.coerce
    .number({ error: 'must be an integer (epoch seconds)' })
    .int('must be an integer (epoch seconds)')
    .min(0, 'must be at least 0')
    .max(99_999_999_999, 'must be at most 99999999999')
    .optional()
    .describe(what)

/** What every analytics route filters on (Open WebUI's names, plus `user_id`). */
export const AnalyticsFiltersSchema = z.object({
  start_date: epochSecondsQuery('From this time, epoch seconds (default: 30 days before `end_date`).'),
  end_date: epochSecondsQuery('Until this time (exclusive), epoch seconds (default: now).'),
  group_id: idText(256).optional().describe('Admins: only the usage of the members of this group (its members now).'),
  user_id: idText(256).optional().describe("Admins: only this account's usage. Others may name only themselves."),
})
export type AnalyticsFilters = z.infer<typeof AnalyticsFiltersSchema>

export const AnalyticsLimitQuerySchema = AnalyticsFiltersSchema.extend({
  limit: z.coerce.number({ error: 'must be an integer' }).int('must be an integer').min(1, 'must be at least 1').max(500, 'must be at most 500').default(50),
})

export const AnalyticsDailyQuerySchema = AnalyticsFiltersSchema.extend({
  granularity: z.enum(['daily', 'hourly']).default('daily').describe('Buckets of a UTC day (`YYYY-MM-DD`) or hour (`YYYY-MM-DD HH:00`).'),
})

const count = z.number().int()
const ms = z.number().nullable()

export const AnalyticsSummarySchema = z
  .object({
    total_messages: count.describe('Calls (Open WebUI counts chat messages; here every gateway call).'),
    total_chats: count.describe('Always 0: modelgate keeps no chats.'),
    total_models: count.describe('Distinct model ids called.'),
    total_users: count.describe('Distinct accounts that called.'),
    total_errors: count,
    error_rate: z.number().describe('total_errors / total_messages (0 without calls).'),
    input_tokens: count,
    output_tokens: count,
    total_tokens: count,
    latency_p50_ms: ms,
    latency_p95_ms: ms,
    start_date: count.describe('The range answered, epoch seconds.'),
    end_date: count,
    recording: z.boolean().describe('USAGE_ANALYTICS: whether calls are being recorded.'),
    retention_days: count.describe('USAGE_RETENTION_DAYS: older rows are pruned; 0 keeps every row.'),
    dropped: count.nullable().describe('Admins: calls not recorded since start because the queue was full; null for others.'),
  })
  .meta({ id: 'AnalyticsSummary' })

export const AnalyticsModelSchema = z.object({
  model_id: z.string(),
  base_model_id: z.string().nullable().describe("The provider's own id of the model that served it."),
  count,
  unique_users: count,
  unique_chats: count.describe('Always 0: modelgate keeps no chats.'),
  input_tokens: count,
  output_tokens: count,
  total_tokens: count,
  errors: count,
  error_rate: z.number(),
  latency_p50_ms: ms,
  latency_p95_ms: ms,
  first_chunk_p50_ms: ms.describe('Median time to the first chunk of streamed answers; null without streams.'),
})
export const AnalyticsModelsSchema = z.object({ models: z.array(AnalyticsModelSchema) }).meta({ id: 'AnalyticsModels' })

const UserModelUsageSchema = z.object({
  model_id: z.string(),
  base_model_id: z.string().nullable(),
  count,
  unique_chats: count,
  input_tokens: count,
  cached_tokens: count,
  output_tokens: count,
  total_tokens: count,
  cost: z.number().nullable().describe('Always null: modelgate knows no prices.'),
})
export const AnalyticsUserSchema = z.object({
  user_id: z.string(),
  name: z.string().nullable().describe('Null for a deleted account.'),
  email: z.string().nullable(),
  count,
  input_tokens: count,
  output_tokens: count,
  total_tokens: count,
  cost: z.number().nullable(),
  models: z.array(UserModelUsageSchema),
})
export const AnalyticsUsersSchema = z.object({ users: z.array(AnalyticsUserSchema) }).meta({ id: 'AnalyticsUsers' })

export const AnalyticsGroupSchema = z.object({
  group_id: z.string(),
  name: z.string(),
  count,
  unique_users: count,
  total_tokens: count,
})
export const AnalyticsGroupsSchema = z
  .object({ groups: z.array(AnalyticsGroupSchema).describe("Usage of each group's current members, most calls first.") })
  .meta({ id: 'AnalyticsGroups' })

export const AnalyticsDailySchema = z
  .object({
    data: z.array(
      z.object({
        date: z.string().describe('`YYYY-MM-DD` (daily) or `YYYY-MM-DD HH:00` (hourly), UTC.'),
        models: z.record(z.string(), count).describe('Calls per model id.'),
        tokens: z.record(z.string(), count).describe('Total tokens per model id.'),
        costs: z.record(z.string(), z.number()).describe('Always empty: modelgate knows no prices.'),
        errors: z.record(z.string(), count).describe('Failed calls per model id (modelgate).'),
      }),
    ),
  })
  .meta({ id: 'AnalyticsDaily' })

const CostBreakdownSchema = z
  .object({ input: z.number().nullable(), cached: z.number().nullable(), output: z.number().nullable(), reasoning: z.number().nullable() })
  .nullable()

export const AnalyticsTokensSchema = z
  .object({
    models: z.array(
      z.object({
        model_id: z.string(),
        base_model_id: z.string().nullable(),
        input_tokens: count,
        output_tokens: count,
        cached_tokens: count,
        reasoning_tokens: count,
        total_tokens: count,
        message_count: count,
        cost: z.number().nullable(),
        cost_breakdown: CostBreakdownSchema,
      }),
    ),
    total_input_tokens: count,
    total_output_tokens: count,
    total_cached_tokens: count,
    total_reasoning_tokens: count,
    total_tokens: count,
    total_cost: z.number().nullable(),
    cost_breakdown: CostBreakdownSchema,
    currency: z.string().nullable(),
    unpriced_models: count,
  })
  .meta({ id: 'AnalyticsTokens' })

export type AnalyticsSummary = z.infer<typeof AnalyticsSummarySchema>
export type AnalyticsModels = z.infer<typeof AnalyticsModelsSchema>
export type AnalyticsUsers = z.infer<typeof AnalyticsUsersSchema>
export type AnalyticsGroups = z.infer<typeof AnalyticsGroupsSchema>
export type AnalyticsDaily = z.infer<typeof AnalyticsDailySchema>
export type AnalyticsTokens = z.infer<typeof AnalyticsTokensSchema>
