/**
 * Where the server's memory peaks (issue #17, item 5: peak RSS < 200 MB through the full profile).
 *
 *   npm run build --silent && tsx bench/memory.ts [--sizes 10000,100000] [--dialects sqlite,postgres] [--seconds 3]
 *
 * Seeds the benchmark's dataset (dataset.ts), starts `node dist/main.js` with a preloaded sampler
 * (process.memoryUsage() every 20 ms, peaks reset at each phase) and runs the phases of bench/run.ts
 * that hold memory: cached and uncached list pages, deep pages, the runtime lists of the "1k" user
 * (S8, S8b), the import of 10k models in one request (S7a), the streamed export (S7b), a template
 * applied to 10k models and a bulk access change on them (S12a, S12b, one request each, with seconds
 * and server CPU) and the chat load through the gateway (S9). Prints, per phase, the peak RSS (VmHWM,
 * reset before the phase) and the peaks of V8's heap, of external memory and of array buffers. The
 * server runs with the deployed node flags (scripts/server-node-flags.ts); `MEMORY_NODE_FLAGS` replaces
 * them (experiments; empty: V8's defaults), `MEMORY_DIST` runs another build than dist/.
 */
import { spawn } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Agent, fetch as undiciFetch } from 'undici'
import { SERVER_NODE_FLAGS } from '../scripts/server-node-flags.js'
import { TokenSigner } from '../src/auth/tokens.js'
import { migrateToLatest } from '../src/db/migrator.js'
import { freePort } from '../test/support/timing.js'
import { freshBenchDatabase } from './databases.js'
import { generateDataset } from './dataset.js'
import { S12_TEMPLATE, s12Ids, s12Requests } from './governance.js'
import { BENCH_SECRET, load, waitReady } from './load.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const agent = new Agent({ pipelining: 0 })
const http = (url: string, init: Parameters<typeof undiciFetch>[1] = {}) => undiciFetch(url, { dispatcher: agent, ...init })

const SAMPLER = `'use strict'
const { writeFileSync } = require('node:fs')
const file = process.env.MEMORY_SAMPLER_FILE
const empty = () => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 })
let peak = empty()
const sample = () => {
  const now = process.memoryUsage()
  for (const key of Object.keys(peak)) if (now[key] > peak[key]) peak[key] = now[key]
}
setInterval(sample, 20).unref()
process.on('SIGUSR2', () => {
  sample()
  writeFileSync(file, JSON.stringify(peak))
  peak = empty()
})
`

interface Peaks {
  rss: number
  heapTotal: number
  heapUsed: number
  external: number
  arrayBuffers: number
}

function value(argv: string[], name: string): string | undefined {
  const index = argv.indexOf(name)
  return index >= 0 ? argv[index + 1] : undefined
}

const mb = (bytes: number) => (bytes / 1048576).toFixed(1)

/** CPU time (user + system) a process has used, in seconds (Linux /proc, clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ')
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / 100
}

function vm(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024
}

async function suite(dialect: 'sqlite' | 'postgres', size: number, seconds: number, providerUrl: string): Promise<void> {
  const { url, database } = await freshBenchDatabase(dialect, `bench_memory_${size}`)
  await migrateToLatest(database)
  const data = await generateDataset(database.db, { models: size })
  if (dialect === 'postgres') await (await import('kysely')).sql`analyze`.execute(database.db)
  await database.close()

  const samplerFile = `/tmp/modelgate-memory-sampler-${process.pid}.cjs`
  const peaksFile = `/tmp/modelgate-memory-peaks-${process.pid}.json`
  writeFileSync(samplerFile, SAMPLER)
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const server = spawn(
    process.execPath,
    [
      ...(process.env['MEMORY_NODE_FLAGS'] ?? SERVER_NODE_FLAGS.join(' ')).split(' ').filter(Boolean),
      '--require',
      samplerFile,
      `${process.env['MEMORY_DIST'] ?? `${ROOT}/dist`}/main.js`,
    ],
    {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: url,
        WEBUI_SECRET_KEY: BENCH_SECRET,
        LOG_LEVEL: 'warn',
        BENCH_ROUTES: 'true',
        MODELS_CACHE_TTL: '3600',
        OPENAI_API_BASE_URLS: `${providerUrl}/v1`,
        OPENAI_API_KEYS: '',
        IMPORT_BODY_LIMIT_BYTES: String(256 * 1024 * 1024),
        REDIS_URL: '',
        MEMORY_SAMPLER_FILE: peaksFile,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  )
  const pid = server.pid ?? 0
  const table: string[] = []
  let overall = 0
  // Requests/s of each load run in the phase (the flags' speed cost shows here).
  let rates: number[] = []
  const run = (url: string, options: Parameters<typeof load>[1]) => rates.push(Math.round(load(url, options).rps))
  // Ends a phase: its peaks (VmHWM since the last reset; the sampler's), then resets both.
  const phase = async (name: string, note = '') => {
    const hwm = vm(pid, 'VmHWM')
    rmSync(peaksFile, { force: true })
    process.kill(pid, 'SIGUSR2')
    let peaks: Peaks | null = null
    for (let i = 0; i < 100 && !peaks; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
      try {
        peaks = JSON.parse(readFileSync(peaksFile, 'utf8')) as Peaks
      } catch {
        // not written yet
      }
    }
    if (!peaks) throw new Error('the sampler did not answer')
    overall = Math.max(overall, hwm)
    table.push(
      `| ${dialect} | ${size} | ${name} | ${mb(hwm)} | ${mb(peaks.heapUsed)} / ${mb(peaks.heapTotal)} | ${mb(peaks.external)} | ${mb(peaks.arrayBuffers)} | ${[note, rates.length ? `${rates.join(', ')} req/s` : ''].filter(Boolean).join('; ')} |`,
    )
    rates = []
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5')
    } catch {
      // not permitted: VmHWM is then the peak since start
    }
  }
  try {
    await waitReady(base, server)
    const signer = new TokenSigner(BENCH_SECRET, 3_600_000)
    const bearer = async (id: string) => ({ authorization: `Bearer ${(await signer.sign(id)).token}` })
    const admin = await bearer(data.adminId)
    const dense = await bearer(data.denseUserId)
    const sparse = await bearer(data.sparseUserId)
    const user1k = await bearer(data.user1kId)
    await http(`${base}/api/models/base`, { headers: admin })
    await phase('start (ready, provider catalog warm)')

    const list = `${base}/api/v1/models/list`
    for (const headers of [admin, dense, sparse]) run(list, { connections: 32, seconds, headers })
    await phase('S1–S3 list page 1, cached')
    const fresh = { 'cache-control': 'no-cache' }
    for (const headers of [admin, dense, sparse]) run(list, { connections: 32, seconds, headers: { ...headers, ...fresh } })
    await phase('S1u–S3u list page 1, uncached')
    // Deep pages: walk 50 pages as the dense reader, then load a spread of pages (the page-boundary cache).
    let cursorPage = 1
    const paths: string[] = []
    for (; cursorPage <= 200; cursorPage += 4) paths.push(`/api/v1/models/list?page=${cursorPage}`)
    run(base, { connections: 32, seconds, headers: dense, paths })
    await phase('S13 pages 1–200, dense reader')
    run(`${list}?query=${data.query}&tag=${data.tag}`, { connections: 32, seconds, headers: dense })
    await phase('S4 text query + tag')

    let bytes = 0
    for (const path of ['/v1/models', '/api/models']) {
      const answer = await http(`${base}${path}`, { headers: user1k })
      bytes = (await answer.arrayBuffer()).byteLength
      run(`${base}${path}`, { connections: 32, seconds, headers: user1k })
      await phase(`${path === '/v1/models' ? 'S8 /v1/models' : 'S8b /api/models'}, user reading 1k`, `${bytes} B`)
    }
    // Every user's runtime list once (many entries in the runtime-list caches), as a gateway with many users sees.
    const users: Record<string, string>[] = []
    for (let i = 4; i < 504; i++) users.push(await bearer(`u${i}`))
    for (let i = 0; i < users.length; i += 16) {
      await Promise.all(users.slice(i, i + 16).map(async (headers) => (await http(`${base}/v1/models`, { headers })).arrayBuffer()))
    }
    await phase('/v1/models for 500 different users')

    const importFile = JSON.stringify({
      models: Array.from({ length: 10_000 }, (_, i) => ({
        id: `imp-${i}`,
        base_model_id: 'llama3.1:8b',
        name: `Imported ${i}`,
        meta: { tags: [{ name: 'imported' }] },
        params: { temperature: 0.7 },
        access_grants: [{ principal_type: 'group', principal_id: 'g-most', permission: 'read' }],
      })),
    })
    let t = performance.now()
    const imported = await http(`${base}/api/v1/models/import`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: importFile })
    const report = (await imported.json()) as { created?: unknown[] }
    if (!imported.ok || report.created?.length !== 10_000) throw new Error(`import: HTTP ${imported.status}`)
    await phase('S7a import 10k models, one request', `${((performance.now() - t) / 1000).toFixed(2)} s, ${(importFile.length / 1e6).toFixed(1)} MB body`)
    t = performance.now()
    const exported = await http(`${base}/api/v1/models/export`, { headers: admin })
    bytes = 0
    for await (const chunk of exported.body ?? []) bytes += (chunk as Uint8Array).byteLength
    await phase('S7b export everything', `${((performance.now() - t) / 1000).toFixed(2)} s, ${(bytes / 1e6).toFixed(1)} MB`)

    // S12 (bench/run.ts governanceAtScale): a template applied to the first 10k models, then a bulk
    // access change on the same 10k, each one request; then S9's chat load through the gateway.
    const ids = s12Ids(size)
    const post = (path: string, body: unknown) =>
      http(`${base}${path}`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const created = await post('/api/v1/templates/create', S12_TEMPLATE)
    if (!created.ok) throw new Error(`S12 template create: HTTP ${created.status} ${await created.text()}`)
    await phase('(template created)')
    const governance = async (name: string, path: string, body: unknown) => {
      const cpuBefore = cpuSeconds(pid)
      const started = performance.now()
      const answer = await post(path, body)
      const text = await answer.text()
      const report = JSON.parse(text) as { changed?: unknown[]; unchanged?: unknown[] }
      if (!answer.ok || (report.changed?.length ?? 0) + (report.unchanged?.length ?? 0) !== ids.length) throw new Error(`${name}: HTTP ${answer.status}`)
      const took = `${((performance.now() - started) / 1000).toFixed(2)} s (server CPU ${(cpuSeconds(pid) - cpuBefore).toFixed(2)} s)`
      await phase(name, `${took}, ${report.changed?.length ?? 0} changed, report ${(text.length / 1e6).toFixed(1)} MB`)
    }
    for (const { scenario, path, body } of s12Requests(ids)) await governance(scenario, path, body)
    const chatBody = JSON.stringify({ model: 'm0000002', messages: [{ role: 'user', content: 'hello [<id>]' }] })
    run(`${base}/v1/chat/completions`, { connections: 32, seconds, headers: admin, method: 'POST', body: chatBody })
    await phase('S9 chat c=32 through the gateway (preset)')
    table.push(`| ${dialect} | ${size} | **peak over all phases** | **${mb(overall)}** | | | | |`)
  } finally {
    server.kill('SIGTERM')
    await new Promise((resolve) => server.once('exit', resolve))
    rmSync(samplerFile, { force: true })
    rmSync(peaksFile, { force: true })
  }
  console.log(table.join('\n'))
}

const argv = process.argv.slice(2)
const sizes = (value(argv, '--sizes') ?? '10000').split(',').map(Number)
const dialects = (value(argv, '--dialects') ?? 'sqlite,postgres').split(',') as ('sqlite' | 'postgres')[]
const seconds = Number(value(argv, '--seconds') ?? 3)
const provider = spawn(process.execPath, ['--import', 'tsx', `${ROOT}/bench/provider.ts`], { stdio: ['ignore', 'pipe', 'inherit'] })
const providerUrl = await new Promise<string>((resolve) => provider.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())))
try {
  console.log('| dialect | models | phase | peak RSS MB | heap used / total MB | external MB | array buffers MB | note |')
  console.log('|---|---|---|---|---|---|---|---|')
  for (const size of sizes) for (const dialect of dialects) await suite(dialect, size, seconds, providerUrl)
} finally {
  provider.kill('SIGTERM')
}
