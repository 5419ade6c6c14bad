/**
 * Every answered request's duration into `modelgate_http_request_duration_seconds` (src/metrics), labelled
 * with the matched route's pattern, never the URL: ids and query strings would make a series per value.
 */
import type { FastifyInstance } from 'fastify'
import type { RequestDurations } from '../metrics/collectors.js'

export function registerRequestMetrics(app: FastifyInstance, durations: RequestDurations): void {
  app.addHook('onResponse', (request, reply, done) => {
    durations.observe(request.method, request.is404 ? undefined : request.routeOptions.url, reply.statusCode, reply.elapsedTime)
    done()
  })
}
