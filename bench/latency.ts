/**
 * Latency at concurrency 1 in microseconds (issue #17): autocannon's millisecond histogram reads 0.00
 * for the gateway's added cost, so these loops time each request with process.hrtime.bigint() over one
 * kept-alive connection per target. Targets take turns in blocks, so a noisy second on the shared
 * machine falls on all of them rather than on one.
 */
import { Agent, Client, fetch } from 'undici'

export interface Target {
  name: string
  url: string
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  /** `[<id>]` is replaced by the request's number, as autocannon's `-I` does. */
  body?: string
}

export interface Percentiles {
  p50: number
  p90: number
  p99: number
}

export interface StreamTimes {
  firstChunk: number
  lastByte: number
}

const micros = (start: bigint) => Number(process.hrtime.bigint() - start) / 1000

function percentiles(samples: number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99) }
}

async function withClients<T>(targets: Target[], run: (clients: Client[]) => Promise<T>): Promise<T> {
  const clients = targets.map((t) => new Client(new URL(t.url).origin, { keepAliveTimeout: 60_000, pipelining: 1 }))
  try {
    return await run(clients)
  } finally {
    await Promise.all(clients.map((c) => c.close()))
  }
}

function send(client: Client, target: Target, n: number) {
  const { pathname, search } = new URL(target.url)
  return client.request({
    path: pathname + search,
    method: target.method ?? (target.body ? 'POST' : 'GET'),
    headers: { ...(target.body && { 'content-type': 'application/json' }), ...target.headers },
    body: target.body?.replace('[<id>]', String(n)),
  })
}

async function check(name: string, statusCode: number, body: { text(): Promise<string> }): Promise<void> {
  if (statusCode >= 200 && statusCode < 300) return
  throw new Error(`${name}: HTTP ${statusCode} ${(await body.text()).slice(0, 200)}`)
}

/** Each target's p50/p90/p99 in µs over `requests` sequential requests after `warmup` untimed ones. */
export async function latencyLoop(targets: Target[], requests = 2000, warmup = 200, block = 100): Promise<Map<string, Percentiles>> {
  return withClients(targets, async (clients) => {
    const samples = targets.map(() => [] as number[])
    for (let done = -warmup; done < requests; done += block) {
      for (const [k, target] of targets.entries()) {
        const client = clients[k] as Client
        for (let i = 0; i < block; i++) {
          const start = process.hrtime.bigint()
          const { statusCode, body } = await send(client, target, done + i)
          await check(target.name, statusCode, body)
          await body.dump()
          if (done >= 0) samples[k]?.push(micros(start))
        }
      }
    }
    return new Map(targets.map((t, k) => [t.name, percentiles(samples[k] ?? [])]))
  })
}

/** Each streaming target's p50 time to the first body chunk and to the last byte, in µs. */
export async function streamLoop(targets: Target[], requests = 200, warmup = 20, block = 20): Promise<Map<string, StreamTimes>> {
  return withClients(targets, async (clients) => {
    const first = targets.map(() => [] as number[])
    const last = targets.map(() => [] as number[])
    for (let done = -warmup; done < requests; done += block) {
      for (const [k, target] of targets.entries()) {
        for (let i = 0; i < block; i++) {
          const start = process.hrtime.bigint()
          const { statusCode, body } = await send(clients[k] as Client, target, done + i)
          await check(target.name, statusCode, body)
          let firstChunk = -1
          for await (const _chunk of body) if (firstChunk < 0) firstChunk = micros(start)
          if (done >= 0) {
            first[k]?.push(firstChunk)
            last[k]?.push(micros(start))
          }
        }
      }
    }
    return new Map(targets.map((t, k) => [t.name, { firstChunk: percentiles(first[k] ?? []).p50, lastByte: percentiles(last[k] ?? []).p50 }]))
  })
}

/**
 * SQL statements per request: `modelgate_db_statements_total` (summed over its labels) on the server's
 * `GET /metrics` before and after `requests` sequential requests. Null when the server has no such
 * counter (yet).
 */
export async function statementsPerRequest(metricsUrl: string, metricsToken: string, target: Target, requests = 100): Promise<number | null> {
  const oneShot = new Agent({ pipelining: 0 })
  const read = async (): Promise<number | null> => {
    try {
      const response = await fetch(metricsUrl, { headers: { authorization: `Bearer ${metricsToken}` }, dispatcher: oneShot })
      if (!response.ok) return null
      let total: number | null = null
      for (const line of (await response.text()).split('\n')) {
        if (!line.startsWith('modelgate_db_statements_total')) continue
        total = (total ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1))
      }
      return total
    } catch {
      return null
    }
  }
  const before = await read()
  if (before === null) return null
  await latencyLoop([target], requests, 0, requests)
  const after = await read()
  return after === null ? null : (after - before) / requests
}
