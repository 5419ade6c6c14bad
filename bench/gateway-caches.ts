/**
 * The gateway caches before and after (docs/performance.md, "Gateway caches"): SQL statements per chat
 * request, a 2,000-request keep-alive loop at c=1 and 4,000 requests at c=32, with the caches bypassed (as
 * while the bus is down: what every request cost before) and on, alternating. `D=postgres` with
 * TEST_POSTGRES_URL for PostgreSQL: `npx tsx bench/gateway-caches.ts`.
 */
import { request, Agent } from 'undici'
import { statementCount } from '../src/db/statement-counter.js'
import { createHarness } from '../test/support/harness.js'
import { startFakeProvider } from '../test/support/fake-provider.js'
const dialect = (process.env['D'] ?? 'sqlite') as 'sqlite' | 'postgres'
const h = await createHarness(dialect, { MODELS_CACHE_TTL: '3600', SETTINGS_CHECK_INTERVAL_MS: '3600000', USAGE_ANALYTICS: 'false' })
const provider = await startFakeProvider({ models: ['m-1'] })
await h.request({ method: 'POST', url: '/api/v1/connections/create', headers: h.admin.auth, payload: { name: 'Main', base_url: provider.baseUrl } })
await h.request({ method: 'GET', url: '/api/models/base', headers: h.admin.auth })
await h.shareBase('m-1')
const user = await h.createUser('user')
const key = (await h.request({ method: 'POST', url: '/api/v1/auths/api_key', headers: user.auth })).json<{ api_key: string }>().api_key
await h.app.listen({ port: 0, host: '127.0.0.1' })
const url = `http://127.0.0.1:${(h.app.server.address() as { port: number }).port}/v1/chat/completions`
const dispatcher = new Agent({ connections: 32, pipelining: 1 })
const body = JSON.stringify({ model: 'm-1', messages: [{ role: 'user', content: 'hi' }] })
const one = async () => {
  const res = await request(url, { method: 'POST', dispatcher, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body })
  await res.body.text()
  if (res.statusCode !== 200) throw new Error(String(res.statusCode))
}
async function round(label: string) {
  for (let i = 0; i < 200; i++) await one()
  const s0 = statementCount()
  const lat: number[] = []
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < 2000; i++) {
    const a = process.hrtime.bigint()
    await one()
    lat.push(Number(process.hrtime.bigint() - a) / 1000)
  }
  const seqS = Number(process.hrtime.bigint() - t0) / 1e9
  const perReq = (statementCount() - s0) / 2000
  lat.sort((a, b) => a - b)
  const t1 = process.hrtime.bigint()
  let next = 0
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next++ < 4000) await one()
    }),
  )
  const c32 = 4000 / (Number(process.hrtime.bigint() - t1) / 1e9)
  console.log(
    `${dialect} ${label}: ${perReq} SQL/request; c=1 loop of 2000: ${(2000 / seqS).toFixed(0)} req/s, p50 ${(lat[1000] ?? 0).toFixed(0)} µs, p99 ${(lat[1980] ?? 0).toFixed(0)} µs; c=32: ${c32.toFixed(0)} req/s`,
  )
}
for (let r = 0; r < 2; r++) {
  h.database.watch.setTrusted(false)
  await round('caches bypassed (before)')
  h.database.watch.setTrusted(true)
  await round('caches on (after)')
}
await h.close()
await provider.close()
await dispatcher.close()
