/**
 * The access log (issue #16 item 7; src/http/access-log.ts): at info, one line per ACCESS_LOG_SAMPLE
 * requests (with `sampled`), never Fastify's two lines per request; at debug, one line per request, with
 * method, path (no query string: ids and searches stay out) and status.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { ACCESS_LOG_SAMPLE } from '../src/http/access-log.js'
import { createHarness, type Harness } from './support/harness.js'

function collect(): { lines: Record<string, unknown>[]; write(line: string): void } {
  const lines: Record<string, unknown>[] = []
  return { lines, write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }
}

describe('access log', () => {
  let h: Harness | undefined
  afterEach(async () => {
    await h?.close()
    h = undefined
  })

  it('at info: one sampled line per ACCESS_LOG_SAMPLE requests, no per-request lines', async () => {
    const log = collect()
    h = await createHarness('sqlite', { LOG_LEVEL: 'info' }, { logStream: log })
    log.lines.length = 0
    for (let i = 0; i < ACCESS_LOG_SAMPLE * 2; i++) await h.request({ method: 'GET', url: `/health?probe=${i}` })
    const requests = log.lines.filter((line) => line['msg'] === 'request')
    expect(requests.length).toBeGreaterThanOrEqual(1)
    expect(requests.length).toBeLessThanOrEqual(2)
    expect(requests[0]).toMatchObject({ level: 30, method: 'GET', path: '/health', status: 200, sampled: ACCESS_LOG_SAMPLE })
    expect(log.lines.filter((line) => line['msg'] === 'incoming request' || line['msg'] === 'request completed')).toEqual([])
  })

  it('at debug: one line per request, without the query string', async () => {
    const log = collect()
    h = await createHarness('sqlite', { LOG_LEVEL: 'debug' }, { logStream: log })
    log.lines.length = 0
    for (let i = 0; i < 5; i++) await h.request({ method: 'GET', url: `/health?secret-search=${i}` })
    const requests = log.lines.filter((line) => line['msg'] === 'request')
    expect(requests.length).toBe(5)
    for (const line of requests) expect(line).toMatchObject({ method: 'GET', path: '/health', status: 200 })
    expect(JSON.stringify(requests)).not.toContain('secret-search')
  })
})
