/**
 * What usage recording costs the gateway (docs/analytics.md, "What recording costs"): the fake provider and
 * two modelgate processes on the same database, one recording (the default) and one with
 * USAGE_ANALYTICS=false, side by side; then, per round, the two taking turns (the order alternates): c=32
 * chat throughput and the server's CPU µs per request over that run, and CPU µs per request over
 * sequential plain and streamed chat calls (from /proc: the steadiest figure on a shared machine; at c=32
 * also the main thread's alone, the event loop that bounds throughput, without the usage writer's worker). It
 * prints one table, each figure's median over the rounds and the cost (1 − on/off for req/s, on/off − 1
 * for CPU).
 *
 *   npx tsc -p tsconfig.build.json --outDir /tmp/mg/dist && ln -sfn $PWD/node_modules /tmp/mg/node_modules
 *   DIST=/tmp/mg/dist npx tsx bench/usage-cost.ts [--dialect postgres] [--rounds 5]
 *
 * Without DIST the servers run from src/ through tsx. `PROFILE=<dir>` starts both with `--cpu-prof` into
 * that directory and only drives load (the same on each).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Agent, request } from 'undici'
import { latencyLoop, streamLoop, type Target } from './latency.js'
import { freshBenchDatabase } from './databases.js'
import { median, waitReady } from './load.js'
import { callJson, cpuSeconds, killOnExit, startBenchScript } from './processes.js'
import { freePort } from '../test/support/timing.js'
import { SERVER_NODE_FLAGS } from '../scripts/server-node-flags.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DIST = process.env['DIST']
const PROFILE = process.env['PROFILE']
const option = (name: string) => {
  const index = process.argv.indexOf(name)
  return index >= 0 ? process.argv[index + 1] : undefined
}
const ROUNDS = Number(option('--rounds') ?? 5)
const DIALECT = option('--dialect') === 'postgres' ? 'postgres' : 'sqlite'
const TOTAL = Number(option('--requests') ?? 6000)

async function startServer(databaseUrl: string, providerUrl: string, usage: boolean): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort()
  const entry = DIST ? [`${DIST}/main.js`] : ['--import', 'tsx', `${ROOT}/src/main.ts`]
  const profile = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`, `--cpu-prof-name=usage-${usage ? 'on' : 'off'}.cpuprofile`] : []
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, ...profile, ...entry], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      WEBUI_SECRET_KEY: 'bench-usage-cost-secret-0123456789abcdef',
      LOG_LEVEL: 'warn',
      MODELS_CACHE_TTL: '3600',
      OPENAI_API_BASE_URLS: `${providerUrl}/v1`,
      OPENAI_API_KEYS: '',
      REDIS_URL: '',
      USAGE_ANALYTICS: String(usage),
    },
  })
  killOnExit(child)
  const base = `http://127.0.0.1:${port}`
  await waitReady(base, child)
  return { child, base }
}

/** c=32 throughput, and the server's CPU µs per request over the same run (its batches flushed within it). */
async function throughput(target: Target, pid: number, total: number, concurrency = 32): Promise<{ rps: number; cpu: number; main: number }> {
  const dispatcher = new Agent({ connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 })
  const one = async () => {
    const res = await request(target.url, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json', ...target.headers },
      body: target.body ?? null,
    })
    await res.body.dump()
    if (res.statusCode !== 200) throw new Error(`${target.name}: HTTP ${res.statusCode}`)
  }
  for (let i = 0; i < 200; i++) await one()
  let next = 0
  const cpu0 = cpuSeconds(pid)
  const main0 = cpuSeconds(pid, true)
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) await one()
    }),
  )
  const seconds = (performance.now() - t0) / 1000
  // Let the last timer flush land in the window: it is part of the cost of these requests.
  await new Promise((r) => setTimeout(r, 1100))
  const cpu = ((cpuSeconds(pid) - cpu0) / total) * 1e6
  const main = ((cpuSeconds(pid, true) - main0) / total) * 1e6
  await dispatcher.close()
  return { rps: total / seconds, cpu, main }
}

async function cpuPerRequest(pid: number, target: Target, n: number, streamed: boolean): Promise<number> {
  const loop = (count: number) => (streamed ? streamLoop([target], count, 0, count) : latencyLoop([target], count, 0, count))
  await loop(100)
  const before = cpuSeconds(pid)
  await loop(n)
  await new Promise((r) => setTimeout(r, 1100))
  return ((cpuSeconds(pid) - before) / n) * 1e6
}

const provider = await startBenchScript('provider.ts')
const { url: databaseUrl, database } = await freshBenchDatabase(DIALECT, 'usage_cost')
await database.close()
const on = await startServer(databaseUrl, provider.url, true)
const session = await callJson(`${on.base}/api/v1/auths/signup`, { body: { name: 'Bench', email: 'bench@example.com', password: 'bench-password-123' } })
const jwt = { authorization: `Bearer ${String(session['token'])}` }
await callJson(`${on.base}/api/models/base`, { headers: jwt })
await callJson(`${on.base}/api/v1/models/create`, {
  headers: jwt,
  body: { id: 'bench-preset', base_model_id: 'llama3.1:8b', name: 'Bench preset', params: { temperature: 0.5, system: 'Be brief.' } },
})
const key = { authorization: `Bearer ${String((await callJson(`${on.base}/api/v1/auths/api_key`, { method: 'POST', headers: jwt }))['api_key'])}` }
const off = await startServer(databaseUrl, provider.url, false)
await callJson(`${off.base}/api/models/base`, { headers: jwt })
const body = JSON.stringify({ model: 'bench-preset', messages: [{ role: 'user', content: 'hello [<id>]' }] })
const streamed = body.replace('}]}', '}],"stream":true}')
const sides = [
  { name: 'usage on', pid: on.child.pid ?? 0, target: { name: 'on', url: `${on.base}/v1/chat/completions`, headers: key, body } },
  { name: 'USAGE_ANALYTICS=false', pid: off.child.pid ?? 0, target: { name: 'off', url: `${off.base}/v1/chat/completions`, headers: key, body } },
]
try {
  if (PROFILE) {
    for (const side of sides) {
      await latencyLoop([side.target], 5000, 200)
      await streamLoop([{ ...side.target, body: streamed }], 3000, 20)
      await throughput(side.target, side.pid, 20_000)
    }
    console.log(`profile load done; profiles in ${PROFILE} when the servers exit`)
  } else {
    type Figure = 'rps' | 'cpu32' | 'main32' | 'cpu1' | 'cpuStream'
    const FIGURES: [Figure, string][] = [
      ['rps', 'chat c=32 req/s'],
      ['cpu32', 'CPU µs/request, c=32'],
      ['main32', 'main-thread CPU µs/request, c=32'],
      ['cpu1', 'CPU µs/request, c=1'],
      ['cpuStream', 'CPU µs/request, streamed c=1'],
    ]
    const empty = (): Record<Figure, number[]> => ({ rps: [], cpu32: [], main32: [], cpu1: [], cpuStream: [] })
    const figures = sides.map(() => empty())
    const last = (figure: Figure) => figures.map((f) => (f[figure].at(-1) ?? NaN).toFixed(0)).join(' vs ')
    for (let round = 1; round <= ROUNDS; round++) {
      const order = (round % 2 ? [0, 1] : [1, 0]).map((k) => ({ side: sides[k] ?? sides[0], f: figures[k] ?? figures[0] }))
      for (const { side, f } of order) {
        if (!side || !f) continue
        const t = await throughput(side.target, side.pid, TOTAL)
        f.rps.push(t.rps)
        f.cpu32.push(t.cpu)
        f.main32.push(t.main)
      }
      for (const { side, f } of order) if (side && f) f.cpu1.push(await cpuPerRequest(side.pid, side.target, 2000, false))
      for (const { side, f } of order) if (side && f) f.cpuStream.push(await cpuPerRequest(side.pid, { ...side.target, body: streamed }, 1000, true))
      console.log(
        `round ${round} (on vs off): c=32 ${last('rps')} req/s, CPU µs/req c=32 ${last('cpu32')} (main thread ${last('main32')}), ` +
          `c=1 ${last('cpu1')}, streamed ${last('cpuStream')} (load ${loadavg()[0]?.toFixed(1)})`,
      )
    }
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`
    console.log(`\nusage recording cost, ${DIALECT}, median of ${ROUNDS} interleaved rounds (${DIST ? 'built' : 'tsx'}):\n`)
    console.log('| figure | usage on | USAGE_ANALYTICS=false | cost |')
    console.log('|---|---|---|---|')
    for (const [figure, label] of FIGURES) {
      const [a, b] = figures.map((f) => median(f[figure]))
      const cost = figure === 'rps' ? 1 - (a ?? NaN) / (b ?? NaN) : (a ?? NaN) / (b ?? NaN) - 1
      console.log(`| ${label} | ${a?.toFixed(0)} | ${b?.toFixed(0)} | ${pct(cost)} |`)
    }
  }
} finally {
  const exits = [on.child, off.child].map((c) => new Promise((r) => c.once('exit', r)))
  for (const c of [on.child, off.child]) c.kill('SIGTERM')
  await Promise.all(exits)
  provider.child.kill('SIGTERM')
}
