/** GET /metrics: Prometheus's text format, for a scraper holding METRICS_TOKEN or an admin (docs/metrics.md). */
import { z } from 'zod'
import type { App, Guards } from '../http/route-kit.js'
import type { Metrics } from './registry.js'

export function registerMetricsRoutes(app: App, deps: { metrics: Metrics; guards: Guards }): void {
  const { metrics, guards } = deps
  app.get('/metrics', {
    onRequest: guards.metrics,
    schema: {
      tags: ['system'],
      security: [{ metricsToken: [] }, { bearerAuth: [] }],
      summary: 'Metrics in the Prometheus text format: METRICS_TOKEN or an admin (docs/metrics.md).',
      response: {
        200: {
          description: 'Prometheus text exposition format 0.0.4.',
          content: { 'text/plain': { schema: z.string().describe('Prometheus text exposition format.') } },
        },
      },
    },
    handler: async (_request, reply) => reply.type(metrics.contentType).send(await metrics.text()),
  })
}
