/**
 * The gateway's chat path against the bare proxy (docs/performance.md, "Gateway hot path"): the fast fake
 * provider, the bare proxy and a built modelgate (SQLite, a preset with params, an API key), each a process
 * of its own; then, per round: CPU µs per request of each server process (from /proc, the steadiest figure
 * on a shared machine), c=32 throughput, the c=1 keep-alive loop (p50 µs) and the streamed first chunk, as
 * ratios to the proxy. The build may live outside the checkout (so as not to touch dist/) if a
 * node_modules link sits next to it:
 *
 *   npx tsc -p tsconfig.build.json --outDir /tmp/mg/dist && ln -s $PWD/node_modules /tmp/mg/node_modules
 *   DIST=/tmp/mg/dist npx tsx bench/hot-path.ts
 *
 * `ROUNDS=3` rounds (default); `PROFILE=<dir>` starts modelgate with `--cpu-prof` into that directory and
 * only drives load (30k chat requests, a third streamed; `PROFILE_LOAD=json` or `stream`: 10k sequential of that kind only); `HOLD=<ms>` prints the URLs and the key and
 * keeps the servers up that long (for probes by hand).
 */
import { fileURLToPath } from 'node:url'
import { Agent, request } from 'undici'
import { latencyLoop, streamLoop, type Target } from './latency.js'
import { callJson, cpuSeconds, startBenchScript, startSqliteServer } from './processes.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DIST = process.env['DIST'] ?? `${ROOT}/dist`
const ROUNDS = Number(process.env['ROUNDS'] ?? 3)
const PROFILE = process.env['PROFILE']

async function throughput(target: Target, total = 4000, concurrency = 32): Promise<number> {
  const dispatcher = new Agent({ connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 })
  const body = target.body
  const one = async () => {
    const res = await request(target.url, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json', ...target.headers },
      body: body ?? null,
    })
    await res.body.dump()
    if (res.statusCode !== 200) throw new Error(`${target.name}: HTTP ${res.statusCode}`)
  }
  for (let i = 0; i < 200; i++) await one()
  let next = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) await one()
    }),
  )
  const rps = total / ((performance.now() - t0) / 1000)
  await dispatcher.close()
  return rps
}

/** CPU µs per request of the process serving `target`, over `n` sequential requests (less noisy than req/s on a shared machine). */
async function cpuPerRequest(pid: number, target: Target, n: number): Promise<number> {
  await latencyLoop([target], 200, 0, 200)
  const before = cpuSeconds(pid)
  await latencyLoop([target], n, 0, n)
  return ((cpuSeconds(pid) - before) / n) * 1e6
}

const provider = await startBenchScript('provider.ts')
const proxy = await startBenchScript('bare-proxy.ts', `${provider.url}/v1`)
const server = await startSqliteServer(DIST, provider.url, { nodeFlags: PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`] : [] })
const base = server.base
try {
  const session = await callJson(`${base}/api/v1/auths/signup`, { body: { name: 'Bench', email: 'bench@example.com', password: 'bench-password-123' } })
  const jwt = { authorization: `Bearer ${String(session['token'])}` }
  await callJson(`${base}/api/models/base`, { headers: jwt })
  await callJson(`${base}/api/v1/models/create`, {
    headers: jwt,
    body: { id: 'bench-preset', base_model_id: 'llama3.1:8b', name: 'Bench preset', params: { temperature: 0.5, system: 'Be brief.' } },
  })
  const key = String((await callJson(`${base}/api/v1/auths/api_key`, { method: 'POST', headers: jwt }))['api_key'])
  const chat = JSON.stringify({ model: 'bench-preset', messages: [{ role: 'user', content: 'hello [<id>]' }] })
  const direct = JSON.stringify({ model: 'llama3.1:8b', messages: [{ role: 'user', content: 'hello [<id>]' }] })
  const targets: Target[] = [
    { name: 'proxy', url: `${proxy.url}/v1/chat/completions`, headers: { authorization: 'Bearer bench-proxy-key' }, body: direct },
    { name: 'modelgate', url: `${base}/v1/chat/completions`, headers: { authorization: `Bearer ${key}` }, body: chat },
  ]
  const streaming = targets.map((t) => ({ ...t, body: (t.body ?? '').replace('}]}', '}],"stream":true}') }))
  if (process.env['HOLD']) {
    console.log(JSON.stringify({ proxy: proxy.url, base, key }))
    await new Promise((r) => setTimeout(r, Number(process.env['HOLD'])))
  }
  if (PROFILE) {
    // PROFILE_LOAD=json or stream: only sequential requests of that kind (a cleaner profile of one path).
    const load = process.env['PROFILE_LOAD'] ?? 'all'
    if (load !== 'stream') await latencyLoop([targets[1] as Target], 10_000, 200)
    if (load !== 'json') await streamLoop([streaming[1] as Target], 10_000, 20)
    if (load === 'all') await throughput(targets[1] as Target, 10_000)
    console.log('profile load done')
  } else {
    for (let round = 1; round <= ROUNDS; round++) {
      const rps: number[] = []
      for (const t of round % 2 ? targets : [...targets].reverse()) rps[targets.indexOf(t)] = await throughput(t)
      const lat = await latencyLoop(targets, 2000, 200)
      const str = await streamLoop(streaming, 400, 40)
      const [p, g] = [lat.get('proxy')?.p50 ?? NaN, lat.get('modelgate')?.p50 ?? NaN]
      const [fp, fg] = [str.get('proxy')?.firstChunk ?? NaN, str.get('modelgate')?.firstChunk ?? NaN]
      const pids = [proxy.child.pid ?? 0, server.child.pid ?? 0]
      const cpu = await (async () => {
        const out: number[] = []
        for (const k of [0, 1]) out.push(await cpuPerRequest(pids[k] ?? 0, targets[k] as Target, 3000))
        for (const k of [0, 1]) out.push(await cpuPerRequest(pids[k] ?? 0, streaming[k] as Target, 1000))
        return out
      })()
      console.log(
        `round ${round}: CPU per request: proxy ${cpu[0]?.toFixed(0)} µs, modelgate ${cpu[1]?.toFixed(0)} µs (${((cpu[1] ?? 0) / (cpu[0] ?? 1)).toFixed(2)}×); ` +
          `streamed: proxy ${cpu[2]?.toFixed(0)} µs, modelgate ${cpu[3]?.toFixed(0)} µs (${((cpu[3] ?? 0) / (cpu[2] ?? 1)).toFixed(2)}×)`,
      )
      console.log(
        `round ${round}: c=32 proxy ${rps[0]?.toFixed(0)} req/s, modelgate ${rps[1]?.toFixed(0)} req/s (${((rps[1] ?? 0) / (rps[0] ?? 1)).toFixed(2)}×); ` +
          `c=1 p50 proxy ${p.toFixed(0)} µs, modelgate ${g.toFixed(0)} µs (added ${(g - p).toFixed(0)} µs); ` +
          `first chunk proxy ${fp.toFixed(0)} µs, modelgate ${fg.toFixed(0)} µs (${(fg / fp).toFixed(2)}×)`,
      )
    }
  }
} finally {
  for (const child of [server.child, proxy.child, provider.child]) child.kill('SIGTERM')
}
