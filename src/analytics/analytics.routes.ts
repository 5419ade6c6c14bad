/**
 * `/api/v1/analytics/*` (docs/analytics.md): Open WebUI's usage analytics routes. Admins read everyone's
 * usage (filter by `user_id` or `group_id`); other accounts the same routes over their own usage only.
 */
import { accountOf, BEARER, type App, type Guards } from '../http/route-kit.js'
import type { AnalyticsService } from './analytics.service.js'
import {
  AnalyticsDailyQuerySchema,
  AnalyticsDailySchema,
  AnalyticsFiltersSchema,
  AnalyticsGroupsSchema,
  AnalyticsLimitQuerySchema,
  AnalyticsModelsSchema,
  AnalyticsSummarySchema,
  AnalyticsTokensSchema,
  AnalyticsUsersSchema,
} from './analytics.schema.js'

export function registerAnalyticsRoutes(app: App, deps: { analytics: AnalyticsService; guards: Guards }): void {
  const { analytics, guards } = deps
  const common = { tags: ['analytics'], security: BEARER }
  const scope = ' Admins: everyone (filter by user_id or group_id); others: their own usage.'

  app.get('/api/v1/analytics/summary', {
    onRequest: guards.verified,
    schema: {
      ...common,
      summary: `Calls, tokens, errors and latency over a range.${scope}`,
      querystring: AnalyticsFiltersSchema,
      response: { 200: AnalyticsSummarySchema },
    },
    handler: (request) => analytics.summary(accountOf(request), request.query),
  })

  app.get('/api/v1/analytics/models', {
    onRequest: guards.verified,
    schema: {
      ...common,
      summary: `Usage per model and base model: calls, users, tokens, error rate, latency p50/p95.${scope}`,
      querystring: AnalyticsFiltersSchema,
      response: { 200: AnalyticsModelsSchema },
    },
    handler: (request) => analytics.models(accountOf(request), request.query),
  })

  app.get('/api/v1/analytics/users', {
    onRequest: guards.verified,
    schema: {
      ...common,
      summary: `The accounts with the most calls, with tokens per model.${scope}`,
      querystring: AnalyticsLimitQuerySchema,
      response: { 200: AnalyticsUsersSchema },
    },
    handler: (request) => analytics.users(accountOf(request), request.query),
  })

  app.get('/api/v1/analytics/groups', {
    onRequest: guards.verified,
    schema: {
      ...common,
      summary: `Usage per group (of its current members), most calls first.${scope}`,
      querystring: AnalyticsLimitQuerySchema,
      response: { 200: AnalyticsGroupsSchema },
    },
    handler: (request) => analytics.groups(accountOf(request), request.query),
  })

  app.get('/api/v1/analytics/daily', {
    onRequest: guards.verified,
    schema: {
      ...common,
      summary: `Calls, tokens and errors per day (or hour) and model.${scope}`,
      querystring: AnalyticsDailyQuerySchema,
      response: { 200: AnalyticsDailySchema },
    },
    handler: (request) => analytics.daily(accountOf(request), request.query),
  })

  app.get('/api/v1/analytics/tokens', {
    onRequest: guards.verified,
    schema: {
      ...common,
      summary: `Tokens per model and base model, with totals.${scope}`,
      querystring: AnalyticsFiltersSchema,
      response: { 200: AnalyticsTokensSchema },
    },
    handler: (request) => analytics.tokens(accountOf(request), request.query),
  })
}
