/**
 * Writes and deep pages on one dialect (issue #17, items 3–5): creates and updates per second through
 * the HTTP API at concurrency 8, the import of 10k models, page 1 against page 1,000 of the list
 * (uncached, p50 of a keep-alive loop) for each reader shape, and the server's peak RSS.
 *
 *   npx tsx bench/pg-writes.ts --dialect postgres --models 40000 --seconds 5 [--only writes,import,pages] [--node-flags --cpu-prof,--cpu-prof-dir=DIR]
 *
 * The server runs from source (`node --import tsx src/main.ts`), so no build is needed.
 */
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Agent, request } from 'undici'
import { sql } from 'kysely'
import { TokenSigner } from '../src/auth/tokens.js'
import type { migrateToLatest } from '../src/db/migrator.js'
import { freshBenchDatabase } from './databases.js'
import { generateDataset } from './dataset.js'
import { freePort } from '../test/support/timing.js'
import { BENCH_SECRET, load, median, waitReady } from './load.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback
}
const dialect = arg('--dialect', 'postgres') as 'sqlite' | 'postgres'
const size = Number(arg('--models', '40000'))
const seconds = Number(arg('--seconds', '5'))
const only = arg('--only', 'writes,import,pages').split(',')
/** Another checkout's sources to serve (an A/B against an older build), else this one. */
const serverRoot = arg('--root', ROOT)
const tag = arg('--tag', '')
/** Node flags for the server, comma-separated (`--cpu-prof,--cpu-prof-dir=/tmp/prof`). */
const nodeFlags = arg('--node-flags', '').split(',').filter(Boolean)

const peakRss = (pid: number) => Math.round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024)
/** CPU time (user + system) of a process, in seconds (Linux /proc, clock ticks of 10 ms). */
const cpuSeconds = (pid: number) => {
  const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ')
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / 100
}
const agent = new Agent({ keepAliveTimeout: 1000 })

/** p50 in ms of `n` sequential GETs of `url` (keep-alive). */
async function p50(url: string, headers: Record<string, string>, n: number): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint()
    const res = await request(url, { headers, dispatcher: agent })
    await res.body.text()
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode}`)
    times.push(Number(process.hrtime.bigint() - t) / 1e6)
  }
  return median(times)
}

async function main(): Promise<void> {
  const { url, database } = await freshBenchDatabase(dialect, `pgw_${size}${tag}`)
  // The served checkout's own migrations (an older build refuses a database migrated past it).
  const migrator = (await import(`${serverRoot}/src/db/migrator.ts`)) as { migrateToLatest: typeof migrateToLatest }
  await migrator.migrateToLatest(database)
  const data = await generateDataset(database.db, { models: size })
  if (dialect === 'postgres') await sql`analyze`.execute(database.db)
  await database.close()
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const server = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', `${serverRoot}/src/main.ts`], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: url,
      WEBUI_SECRET_KEY: BENCH_SECRET,
      LOG_LEVEL: 'warn',
      BENCH_ROUTES: 'true',
      OPENAI_API_BASE_URLS: '',
      OPENAI_API_KEYS: '',
      IMPORT_BODY_LIMIT_BYTES: String(256 * 1024 * 1024),
      REDIS_URL: '',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
    cwd: serverRoot,
  })
  const pid = server.pid ?? 0
  try {
    await waitReady(base, server)
    const signer = new TokenSigner(BENCH_SECRET, 3_600_000)
    const bearer = async (id: string) => ({ authorization: `Bearer ${(await signer.sign(id)).token}` })
    const admin = await bearer(data.adminId)
    const out: string[] = [`${dialect}, ${size} models, server ${serverRoot}, ${new Date().toISOString()}`]
    if (only.includes('writes')) {
      const createBody = JSON.stringify({ id: 'w-new-[<id>]', name: 'New [<id>]', meta: { tags: ['bench'] }, params: { temperature: 0.5 } })
      let cpu = cpuSeconds(pid)
      const c = load(`${base}/api/v1/models/create`, { connections: 8, seconds, headers: admin, method: 'POST', body: createBody })
      const createCpu = ((cpuSeconds(pid) - cpu) / c.requests) * 1e6
      const updateBody = JSON.stringify({ id: 'm0000003', name: 'Renamed [<id>]', params: { temperature: 0.3 } })
      cpu = cpuSeconds(pid)
      const u = load(`${base}/api/v1/models/model/update`, { connections: 8, seconds, headers: admin, method: 'POST', body: updateBody })
      const updateCpu = ((cpuSeconds(pid) - cpu) / u.requests) * 1e6
      out.push(`creates/s c=8: ${c.rps.toFixed(0)} (non-2xx ${c.non2xx}, errors ${c.errors}); p50 ${c.p50} ms; server CPU ${createCpu.toFixed(0)} µs/write`)
      out.push(`updates/s c=8: ${u.rps.toFixed(0)} (non-2xx ${u.non2xx}, errors ${u.errors}); p50 ${u.p50} ms; server CPU ${updateCpu.toFixed(0)} µs/write`)
    }
    if (only.includes('import')) {
      const body = JSON.stringify({
        models: Array.from({ length: 10_000 }, (_, i) => ({
          id: `imp-${i}`,
          base_model_id: 'llama3.1:8b',
          name: `Imported ${i}`,
          meta: { tags: [{ name: 'imported' }] },
          params: { temperature: 0.7 },
          access_grants: [{ principal_type: 'group', principal_id: 'g-most', permission: 'read' }],
        })),
      })
      for (const label of ['new', 'update']) {
        const t = performance.now()
        const res = await request(`${base}/api/v1/models/import`, {
          method: 'POST',
          headers: { ...admin, 'content-type': 'application/json' },
          body,
          dispatcher: agent,
        })
        await res.body.text()
        out.push(`import 10k (${label}): ${((performance.now() - t) / 1000).toFixed(2)} s, HTTP ${res.statusCode}`)
      }
    }
    if (only.includes('pages')) {
      const shapes: [string, string][] = [
        ['admin', data.adminId],
        ['dense (~90%)', data.denseUserId],
        ['sparse (~13)', data.sparseUserId],
        ['user 1k', data.user1kId],
      ]
      const fresh = { 'cache-control': 'no-cache' }
      for (const [label, id] of shapes) {
        const headers = { ...(await bearer(id)), ...fresh }
        const list = `${base}/api/v1/models/list`
        const first = await p50(`${list}?page=1`, headers, 30)
        // Deep pages walked once in order (keyset boundaries are then known), then timed.
        const deep = Math.min(1000, Math.floor(size / 30 / 2))
        const deepTimes = await p50(`${list}?page=${deep}`, headers, 30)
        out.push(`${label}: page 1 p50 ${first.toFixed(2)} ms, page ${deep} p50 ${deepTimes.toFixed(2)} ms`)
      }
    }
    out.push(`server peak RSS ${peakRss(pid)} MB`)
    console.log(out.join('\n'))
    writeFileSync(`/tmp/pg-writes-${dialect}-${size}${tag}.txt`, out.join('\n') + '\n')
  } finally {
    server.kill()
    await agent.close()
  }
}

await main()
