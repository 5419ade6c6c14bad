/**
 * CPU per chat request of several builds side by side (docs/performance.md, "Gateway hot path"): one fake
 * provider, the bare proxy, and a modelgate server per build (SQLite, a preset with params and a system
 * prompt, an API key), then rounds in which each takes its turn (the order alternates) at `N` sequential
 * JSON requests and N/2 streamed ones; CPU from /proc (user + system of the whole process). On a shared
 * machine this is steadier than req/s; compare builds within one run only.
 *
 *   npx tsc -p tsconfig.build.json --outDir /tmp/after/dist && ln -s $PWD/node_modules /tmp/after/node_modules
 *   git worktree add /tmp/before <commit> && ln -s $PWD/node_modules /tmp/before/ && (cd /tmp/before && npx tsc -p tsconfig.build.json)
 *   ROUNDS=10 N=1500 npx tsx bench/gateway-ab.ts /tmp/before/dist /tmp/after/dist
 */
import { latencyLoop, type Target } from './latency.js'
import { median } from './load.js'
import { callJson, cpuSeconds, startBenchScript, startSqliteServer } from './processes.js'

const ROUNDS = Number(process.env['ROUNDS'] ?? 8)
const N = Number(process.env['N'] ?? 2000)

const provider = await startBenchScript('provider.ts')
const proxy = await startBenchScript('bare-proxy.ts', `${provider.url}/v1`)

interface Server {
  name: string
  pid: number
  target: Target
}

async function startBuild(dist: string): Promise<Server> {
  const { child, base } = await startSqliteServer(dist, provider.url)
  const session = await callJson(`${base}/api/v1/auths/signup`, { body: { name: 'Bench', email: 'bench@example.com', password: 'bench-password-123' } })
  const jwt = { authorization: `Bearer ${String(session['token'])}` }
  await callJson(`${base}/api/models/base`, { headers: jwt })
  await callJson(`${base}/api/v1/models/create`, {
    headers: jwt,
    body: { id: 'bench-preset', base_model_id: 'llama3.1:8b', name: 'Bench preset', params: { temperature: 0.5, system: 'Be brief.' } },
  })
  const key = String((await callJson(`${base}/api/v1/auths/api_key`, { method: 'POST', headers: jwt }))['api_key'])
  const body = JSON.stringify({ model: 'bench-preset', messages: [{ role: 'user', content: 'hello [<id>]' }] })
  return { name: dist, pid: child.pid ?? 0, target: { name: dist, url: `${base}/v1/chat/completions`, headers: { authorization: `Bearer ${key}` }, body } }
}

const servers: Server[] = [
  {
    name: 'bare proxy',
    pid: proxy.child.pid ?? 0,
    target: {
      name: 'proxy',
      url: `${proxy.url}/v1/chat/completions`,
      headers: { authorization: 'Bearer bench-proxy-key' },
      body: JSON.stringify({ model: 'llama3.1:8b', messages: [{ role: 'user', content: 'hello [<id>]' }] }),
    },
  },
]
for (const dist of process.argv.slice(2)) servers.push(await startBuild(dist))

const streamed = (target: Target): Target => ({ ...target, body: (target.body ?? '').replace('}]}', '}],"stream":true}') })

/** CPU µs per request of `server` over `count` sequential requests to `target`, after a warm-up. */
async function cpuPerRequest(server: Server, target: Target, count: number): Promise<number> {
  await latencyLoop([target], Math.max(100, count / 10), 0, count)
  const before = cpuSeconds(server.pid)
  await latencyLoop([target], count, 0, count)
  return ((cpuSeconds(server.pid) - before) / count) * 1e6
}

const json = servers.map(() => [] as number[])
const stream = servers.map(() => [] as number[])
for (let round = 1; round <= ROUNDS; round++) {
  const order = round % 2 ? servers : [...servers].reverse()
  for (const server of order) {
    const i = servers.indexOf(server)
    json[i]?.push(await cpuPerRequest(server, server.target, N))
    stream[i]?.push(await cpuPerRequest(server, streamed(server.target), N / 2))
  }
  console.log(`round ${round}: ` + servers.map((s, i) => `${s.name} ${json[i]?.at(-1)?.toFixed(0)} / ${stream[i]?.at(-1)?.toFixed(0)} µs`).join(' | '))
}
console.log('\n| CPU µs per chat request (median of rounds) | JSON | streamed | JSON ÷ proxy | streamed ÷ proxy |')
console.log('|---|---|---|---|---|')
const [proxyJson, proxyStream] = [median(json[0] ?? []), median(stream[0] ?? [])]
for (const [i, server] of servers.entries()) {
  const [j, s] = [median(json[i] ?? []), median(stream[i] ?? [])]
  console.log(`| ${server.name} | ${j.toFixed(0)} | ${s.toFixed(0)} | ${(j / proxyJson).toFixed(2)} | ${(s / proxyStream).toFixed(2)} |`)
}
process.exit(0)
