/**
 * The per-request access log (issue #16 item 7). Fastify's own "incoming request" and "request completed"
 * lines are off (`disableRequestLogging`): at info they were two lines for every request, the bulk of any
 * log. Instead each answered request is one `debug` line (method, path without its query, status, time),
 * and one request in `ACCESS_LOG_SAMPLE` is also written at `info` with `sampled: N`, so an info log still
 * shows traffic without growing with it. Failures are logged where they happen (the error handler, at
 * warn or error), whatever the level. docs/web.md ("Server log") and README's LOG_LEVEL describe it.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'

/** Whether debug lines are written (a logger without the question, as Fastify's silent one, is asked to write). */
function debugOn(log: FastifyBaseLogger): boolean {
  const pinoLog = log as FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean }
  return typeof pinoLog.isLevelEnabled === 'function' ? pinoLog.isLevelEnabled('debug') : true
}

/** One request in this many is also logged at info. */
export const ACCESS_LOG_SAMPLE = 100

export function registerAccessLog(app: FastifyInstance): void {
  let seen = 0
  app.addHook('onResponse', (request, reply, done) => {
    seen = (seen + 1) % ACCESS_LOG_SAMPLE
    // The line is only built when it is written (above debug, 99 requests in 100 write nothing).
    if (seen === 0 || debugOn(request.log)) {
      const line = { method: request.method, path: request.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }
      if (seen === 0) request.log.info({ ...line, sampled: ACCESS_LOG_SAMPLE }, 'request')
      else request.log.debug(line, 'request')
    }
    done()
  })
}
