/**
 * modelgate's benchmark: `npm run bench` (quick: 10k models, SQLite and PostgreSQL, a few seconds a
 * scenario; CI runs it as a smoke test that fails on errors or non-2xx answers, never on speed) and
 * `npm run bench -- --full` (100k and 1M models on both dialects).
 *
 * Each run generates the dataset, starts the real server (`node dist/main.js`) and a fake provider as
 * their own processes, and loads them with autocannon from a third process. Every scenario is printed
 * with its ratio to a ceiling measured in the same run: GET /bench/ceiling, an in-memory JSON body of
 * the same size as S1's page (and, for S9, the same request sent straight to the provider).
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Agent, fetch as undiciFetch } from 'undici'
import { TokenSigner } from '../src/auth/tokens.js'
import { migrateToLatest } from '../src/db/migrator.js'
import { freshBenchDatabase } from './databases.js'
import { generateDataset, type Dataset } from './dataset.js'
import { S12_TEMPLATE, s12Ids, s12Requests } from './governance.js'
import { freePort } from '../test/support/timing.js'
import { latencyLoop, statementsPerRequest, streamLoop, type Percentiles, type StreamTimes, type Target } from './latency.js'
import { BENCH_SECRET, load, waitReady } from './load.js'
import { cpuSeconds } from './processes.js'
import { startPortkey, type Peer } from './peers.js'
import { targetsTable } from './targets.js'
import { SERVER_NODE_FLAGS } from '../scripts/server-node-flags.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/**
 * The runner's own requests (setup, S7's upload, S12, route probes) each open a connection of their own
 * and close it after (`pipelining: 0` turns keep-alive off). A kept-alive socket could be one the server
 * has closed (Fastify's 72 s keep-alive timeout) while this process sat blocked in autocannon
 * (execFileSync), neither reading the FIN nor running its idle timer: a request written to it fails with
 * EPIPE or "other side closed", and a POST is not retried. The µs loops (latency.ts) keep their
 * connections alive on purpose and use them without pauses.
 */
const runnerAgent = new Agent({ pipelining: 0 })
const http = (url: string, init: Parameters<typeof undiciFetch>[1] = {}) => undiciFetch(url, { dispatcher: runnerAgent, ...init })
const SECRET = BENCH_SECRET

export interface Options {
  full: boolean
  sizes: number[]
  dialects: ('sqlite' | 'postgres')[]
  seconds: number
  /** Start the optional peers (Portkey's gateway) next to the bare proxy in S9. */
  peers: boolean
}

function parseArgs(argv: string[]): Options {
  const full = argv.includes('--full')
  const value = (name: string) => {
    const index = argv.indexOf(name)
    return index >= 0 ? argv[index + 1] : undefined
  }
  return {
    full,
    sizes: (value('--sizes') ?? (full ? '100000,1000000' : '10000')).split(',').map(Number),
    dialects: (value('--dialects') ?? 'sqlite,postgres').split(',') as Options['dialects'],
    seconds: Number(value('--seconds') ?? (full ? 10 : 3)),
    peers: argv.includes('--peers'),
  }
}

/** Peak resident memory of a process since the last reset, in MB (Linux /proc). */
function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
  return Math.round(kb / 102.4) / 10
}

function currentRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 102.4) / 10
}

function resetPeakRss(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
  } catch {
    // not permitted here: peaks are then since start
  }
}

export interface Row {
  /** A short name the targets table finds the row by (S1, S6a, S8b, …). */
  key?: string
  scenario: string
  rps: number | null
  p50: number | null
  p99: number | null
  p50c1: number | null
  rssMb: number
  ratio: number | null
  note: string
}

/** What S9 and S13 measure besides the rows, for the anchors section and the targets table. */
export interface Anchor {
  name: string
  rps: number | null
  latency: Percentiles | null
  stream: StreamTimes | null
}

export interface SuiteResult {
  dialect: 'sqlite' | 'postgres'
  size: number
  rows: Row[]
  failures: string[]
  setup: string
  /** S9: direct, proxy, gateway, gateway without usage recording, and the peers that started. */
  anchors: Map<string, Anchor>
  /** SQL statements per request by request kind (null: the server has no counter). */
  statements: Map<string, number | null>
  /** S13: uncached pages at c=1, p50 µs, by reader: page 1 and the deep page. */
  pages: { reader: string; page1: number; deep: number; deepPage: number }[]
  /** S9: what usage recording costs (null when not measured). */
  usage: UsageCost | null
}

/** S9's usage recording cost: paired rounds of two fresh servers, recording on and off. */
export interface UsageCost {
  rounds: { on: number; off: number; onCpuUs: number; offCpuUs: number }[]
}

/**
 * Usage recording's cost: two servers started together on this database, recording on and off, loaded
 * in turns (c=32, the order alternating each round) so that a drift of the machine hits both alike. The
 * suite's main server is not the "on" side: it has run every scenario before and would be compared, aged,
 * with a fresh one (one sample each way once gave 19% one run and −5% the next; docs/performance.md).
 * Many short pairs rather than a few long ones: this shared machine's speed moved 2× between two 3-second
 * runs (req/s of one server 2,524 then 6,151), so a pair's two halves must be close in time; the cost is
 * the median of the pairs' ratios.
 */
async function usageRecordingCost(
  databaseUrl: string,
  providerUrl: string,
  admin: Record<string, string>,
  chatBody: string,
  options: Options,
  failures: string[],
): Promise<UsageCost> {
  const on = await startServer(databaseUrl, providerUrl)
  const off = await startServer(databaseUrl, providerUrl, { USAGE_ANALYTICS: 'false' })
  try {
    const sides = [on, off] as const
    for (const side of sides) {
      await waitReady(side.base, side.server)
      // Warm-up: the first requests compile and fill the caches (and the first usage batches are written).
      load(`${side.base}/v1/chat/completions`, { connections: 32, seconds: 2, headers: admin, method: 'POST', body: chatBody })
    }
    const rounds: UsageCost['rounds'] = []
    const count = options.full ? 12 : 8
    const seconds = Math.max(1, Math.round(options.seconds / 3))
    for (let round = 0; round < count; round++) {
      const measured = new Map<(typeof sides)[number], { rps: number; cpuUs: number }>()
      for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
        const cpu = cpuSeconds(side.pid)
        const result = load(`${side.base}/v1/chat/completions`, { connections: 32, seconds, headers: admin, method: 'POST', body: chatBody })
        if (result.non2xx > 0 || result.errors > 0 || result.requests === 0) {
          failures.push(`usage recording cost, ${side === on ? 'on' : 'off'}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.requests} requests`)
        }
        measured.set(side, { rps: result.rps, cpuUs: ((cpuSeconds(side.pid) - cpu) / Math.max(1, result.requests)) * 1e6 })
      }
      const [a, b] = [measured.get(on), measured.get(off)]
      if (a && b) rounds.push({ on: a.rps, off: b.rps, onCpuUs: a.cpuUs, offCpuUs: b.cpuUs })
    }
    return { rounds }
  } finally {
    await stopServer(on.server)
    await stopServer(off.server)
  }
}

const METRICS_TOKEN = 'bench-metrics-token-0123456789'

async function startServer(databaseUrl: string, providerUrl: string, extraEnv: Record<string, string> = {}) {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const server = spawn(process.execPath, [...SERVER_NODE_FLAGS, `${ROOT}/dist/main.js`], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      WEBUI_SECRET_KEY: SECRET,
      LOG_LEVEL: 'warn',
      BENCH_ROUTES: 'true',
      MODELS_CACHE_TTL: '3600',
      OPENAI_API_BASE_URLS: `${providerUrl}/v1`,
      OPENAI_API_KEYS: '',
      IMPORT_BODY_LIMIT_BYTES: String(256 * 1024 * 1024),
      REDIS_URL: '',
      METRICS_TOKEN,
      ...extraEnv,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  return { server, base, pid: server.pid ?? 0 }
}

async function stopServer(server: ReturnType<typeof spawn>): Promise<void> {
  if (server.exitCode === null && server.signalCode === null) {
    server.kill('SIGTERM')
    await new Promise((resolve) => server.once('exit', resolve))
  }
}

async function runSuite(
  dialect: 'sqlite' | 'postgres',
  size: number,
  options: Options,
  anchorsUrls: { provider: string; proxy: string; floor: string; peers: Peer[] },
): Promise<SuiteResult> {
  const providerUrl = anchorsUrls.provider
  const started = performance.now()
  const { url: databaseUrl, database } = await freshBenchDatabase(dialect, `bench_${size}`)
  await migrateToLatest(database)
  const data: Dataset = await generateDataset(database.db, { models: size })
  if (dialect === 'postgres') await (await import('kysely')).sql`analyze`.execute(database.db)
  await database.close()
  const setup = `${((performance.now() - started) / 1000).toFixed(1)} s to generate`

  const { server, base, pid } = await startServer(databaseUrl, providerUrl)
  let serverExit = ''
  server.once('exit', (code, signal) => {
    serverExit = `server exited (code ${code}, signal ${signal})`
    console.error(`\n${dialect} ${size}: ${serverExit}`)
  })
  const rows: Row[] = []
  const failures: string[] = []
  const anchors = new Map<string, Anchor>()
  let usage: UsageCost | null = null
  const statements = new Map<string, number | null>()
  const pages: SuiteResult['pages'] = []
  try {
    await waitReady(base, server)
    const signer = new TokenSigner(SECRET, 3_600_000)
    const bearer = async (userId: string) => ({ authorization: `Bearer ${(await signer.sign(userId)).token}` })
    const [admin, dense, sparse, user1k] = await Promise.all([data.adminId, data.denseUserId, data.sparseUserId, data.user1kId].map(bearer))
    if (!admin || !dense || !sparse || !user1k) throw new Error('tokens')
    // Warm the provider cache so S8/S9 measure the registry and the relay, not the first discovery.
    await http(`${base}/api/models/base`, { headers: admin })
    const rssAtStart = currentRssMb(pid)

    const s1Body = await (await http(`${base}/api/v1/models/list`, { headers: admin })).text()
    const measure = (
      scenario: string,
      url: string,
      opts: { headers?: Record<string, string>; method?: string; body?: string; note?: string; paths?: string[]; key?: string; c1?: boolean } = {},
    ): Row => {
      resetPeakRss(pid)
      const c32 = load(url, { connections: 32, seconds: options.seconds, ...opts })
      // Rows whose latency the µs loops measure (S9) skip autocannon's c=1 run (its histogram is in ms).
      const c1 = opts.c1 === false ? null : load(url, { connections: 1, seconds: Math.max(1, Math.round(options.seconds / 2)), ...opts })
      for (const [label, result] of [
        ['c32', c32],
        ['c1', c1],
      ] as const) {
        if (!result) continue
        if (result.non2xx > 0 || result.errors > 0 || result.requests === 0) {
          failures.push(`${dialect} ${size} ${scenario} ${label}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.requests} requests`)
        }
      }
      const row: Row = {
        ...(opts.key && { key: opts.key }),
        scenario,
        rps: c32.rps,
        p50: c32.p50,
        p99: c32.p99,
        p50c1: c1?.p50 ?? null,
        rssMb: peakRssMb(pid),
        ratio: null,
        note: opts.note ?? '',
      }
      rows.push(row)
      return row
    }

    const ceiling = measure('ceiling (in-memory JSON, size of S1 page)', `${base}/bench/ceiling?bytes=${Buffer.byteLength(s1Body)}`, {
      key: 'ceiling',
      note: `${Buffer.byteLength(s1Body)} B`,
    })
    const list = `${base}/api/v1/models/list`
    measure('S1 list page 1, admin', list, { headers: admin, key: 'S1' })
    measure('S2 list page 1, user reading ~90%', list, { headers: dense, key: 'S2' })
    measure('S3 list page 1, user reading ~10', list, { headers: sparse, key: 'S3' })
    // The same pages built anew on every request (the page cache skipped): the query plans' real cost.
    const fresh = { 'cache-control': 'no-cache' }
    measure('S1u list page 1, admin, uncached', list, { headers: { ...admin, ...fresh }, key: 'S1u' })
    measure('S2u list page 1, user reading ~90%, uncached', list, { headers: { ...dense, ...fresh }, key: 'S2u' })
    measure('S3u list page 1, user reading ~10, uncached', list, { headers: { ...sparse, ...fresh }, key: 'S3u' })
    pages.push(...(await deepPages(list, { admin, dense, sparse }, fresh, rows, () => peakRssMb(pid))))
    measure('S4 list, text query + tag (~1% match)', `${list}?query=${data.query}&tag=${data.tag}`, { headers: dense, key: 'S4' })
    measure('S5 GET /model', `${base}/api/v1/models/model?id=m0000001`, { headers: dense, key: 'S5' })
    const createBody = JSON.stringify({
      id: 'bench-new-[<id>]',
      base_model_id: 'llama3.1:8b',
      name: 'New [<id>]',
      meta: { tags: ['bench'] },
      params: { temperature: 0.5 },
    })
    measure('S6a create', `${base}/api/v1/models/create`, { headers: admin, method: 'POST', body: createBody, note: 'writes/s', key: 'S6a' })
    const updateBody = JSON.stringify({ id: 'm0000003', name: 'Renamed [<id>]', params: { temperature: 0.3 } })
    measure('S6b update', `${base}/api/v1/models/model/update`, { headers: admin, method: 'POST', body: updateBody, note: 'writes/s', key: 'S6b' })
    // S8/S8b (issue #17): the runtime lists against a bare server sending the same bytes (their own ceilings).
    const runtimeLists: [string, string, string][] = [
      ['S8', 'S8 GET /v1/models, user reading 1k', '/v1/models'],
      ['S8b', 'S8b GET /api/models, user reading 1k', '/api/models'],
    ]
    for (const [key, scenario, path] of runtimeLists) {
      const answer = await freshGet(`${base}${path}`, user1k)
      if (answer.status !== 200) {
        failures.push(`${dialect} ${size} ${key}: HTTP ${answer.status}`)
        continue
      }
      const bytes = Buffer.byteLength(answer.text)
      const row = measure(scenario, `${base}${path}`, { headers: user1k, key, c1: key === 'S8' })
      const own = measure(`ceiling for ${key} (in-memory JSON, same bytes)`, `${base}/bench/ceiling?bytes=${bytes}`, {
        key: `ceiling-${key}`,
        note: `${bytes} B`,
        c1: false,
      })
      row.note = `ratio to its own ceiling (${bytes} B)`
      row.ratio = own.rps && row.rps !== null ? row.rps / own.rps : null
    }

    // S10/S11 (issue #12): history and audit pages. A route not built yet (the app's 404 NOT_FOUND for
    // an unknown path) gives an "n/a" row instead of a failure.
    const missing = (scenario: string) =>
      rows.push({ scenario, rps: null, p50: null, p99: null, p50c1: null, rssMb: peakRssMb(pid), ratio: null, note: ROUTE_MISSING })
    const ids = readableIds(size, 1000)
    const history = (path: string, query: (id: string, k: number) => string) =>
      ids.map((id, k) => `/api/v1/models/model/history${path}?id=${id}${query(id, k)}`)
    const s10: [string, string[], Record<string, string>][] = [
      ['S10a history page, reader, random ids', history('', () => ''), dense],
      ['S10b history version, reader, random ids', history('/version', (_, k) => `&version=${1 + (k % 5)}`), dense],
      ['S10c history diff 1→5, admin, random ids', history('/diff', () => '&from=1&to=5'), admin],
      ['S10d trash page 1, admin', ['/api/v1/models/trash'], admin],
    ]
    for (const [scenario, paths, headers] of s10) {
      if (await routeMissing(base + (paths[0] ?? ''), headers)) missing(scenario)
      else measure(scenario, base, { headers, paths })
    }
    const audit = `${base}/api/v1/audit`
    if (await routeMissing(audit, admin)) {
      missing('S11a audit page 1, admin')
      missing('S11b audit filtered (action=model.*) page 2 by cursor')
      missing('S11d audit filtered by a rare prefix (action=auth.*, ~1% of entries)')
    } else {
      measure('S11a audit page 1, admin', audit, { headers: admin })
      const first = (await freshGet(`${audit}?action=model.*`, admin)).body as { next_cursor?: string | null } | null
      if (first?.next_cursor) {
        measure('S11b audit filtered (action=model.*) page 2 by cursor', `${audit}?action=model.*&cursor=${encodeURIComponent(first.next_cursor)}`, {
          headers: admin,
        })
      } else failures.push(`${dialect} ${size} S11b: the first filtered audit page has no next_cursor`)
      measure('S11d audit filtered by a rare prefix (action=auth.*, ~1% of entries)', `${audit}?action=auth.*`, { headers: admin })
    }
    for (const row of rows) if (!row.key?.startsWith('ceiling') && row.ratio === null && ceiling.rps && row.rps !== null) row.ratio = row.rps / ceiling.rps

    // S7: import of 10k models in one request, and the complete export.
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
    resetPeakRss(pid)
    const rssBeforeImport = currentRssMb(pid)
    let t = performance.now()
    const imported = await http(`${base}/api/v1/models/import`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: importFile })
    const importSeconds = (performance.now() - t) / 1000
    const report = (await imported.json()) as { created?: unknown[] }
    if (!imported.ok || report.created?.length !== 10_000) {
      failures.push(`${dialect} ${size} S7 import: HTTP ${imported.status}, created ${report.created?.length}`)
    }
    rows.push({
      key: 'S7a',
      scenario: 'S7a import 10k models',
      rps: null,
      p50: importSeconds * 1000,
      p99: null,
      p50c1: null,
      rssMb: peakRssMb(pid),
      ratio: null,
      note: `${importSeconds.toFixed(2)} s, peak RSS growth ${(peakRssMb(pid) - rssBeforeImport).toFixed(1)} MB`,
    })

    resetPeakRss(pid)
    const rssBeforeExport = currentRssMb(pid)
    t = performance.now()
    const exported = await http(`${base}/api/v1/models/export`, { headers: admin })
    let bytes = 0
    for await (const chunk of exported.body ?? []) bytes += (chunk as Uint8Array).byteLength
    const exportSeconds = (performance.now() - t) / 1000
    if (!exported.ok) failures.push(`${dialect} ${size} S7 export: HTTP ${exported.status}`)
    rows.push({
      scenario: 'S7b export everything (streamed)',
      rps: null,
      p50: exportSeconds * 1000,
      p99: null,
      p50c1: null,
      rssMb: peakRssMb(pid),
      ratio: null,
      note: `${exportSeconds.toFixed(2)} s, ${(bytes / 1e6).toFixed(1)} MB, peak RSS growth ${(peakRssMb(pid) - rssBeforeExport).toFixed(1)} MB`,
    })

    // S11c: the whole audit log as NDJSON, streamed (seconds, size, peak RSS growth).
    if (await routeMissing(`${base}/api/v1/audit/export`, admin)) {
      rows.push({
        scenario: 'S11c audit export (streamed)',
        rps: null,
        p50: null,
        p99: null,
        p50c1: null,
        rssMb: peakRssMb(pid),
        ratio: null,
        note: ROUTE_MISSING,
      })
    } else {
      resetPeakRss(pid)
      const rssBeforeAudit = currentRssMb(pid)
      t = performance.now()
      const auditExport = await http(`${base}/api/v1/audit/export`, { headers: admin })
      let auditBytes = 0
      let lines = 0
      for await (const chunk of auditExport.body ?? []) {
        auditBytes += (chunk as Uint8Array).byteLength
        for (const byte of chunk as Uint8Array) if (byte === 10) lines++
      }
      const auditSeconds = (performance.now() - t) / 1000
      if (!auditExport.ok) failures.push(`${dialect} ${size} S11c audit export: HTTP ${auditExport.status}`)
      rows.push({
        scenario: 'S11c audit export (streamed)',
        rps: null,
        p50: auditSeconds * 1000,
        p99: null,
        p50c1: null,
        rssMb: peakRssMb(pid),
        ratio: null,
        note: `${auditSeconds.toFixed(2)} s, ${lines.toLocaleString('en-US')} entries, ${(auditBytes / 1e6).toFixed(1)} MB, peak RSS growth ${(peakRssMb(pid) - rssBeforeAudit).toFixed(1)} MB`,
      })
    }

    // S12 (issue #13): a template applied to 10k models, and a bulk access change on the same 10k, each
    // one request (real run): seconds and the server's peak RSS growth.
    await governanceAtScale(base, pid, admin, size, dialect, rows, failures)

    // S9 (issue #17): a chat completion straight to the provider, through the bare pass-through proxy
    // (the reference), through modelgate (a preset), through a second modelgate with usage recording
    // off (its cost), and through the peers started with --peers.
    const chatBody = JSON.stringify({ model: 'm0000002', messages: [{ role: 'user', content: 'hello [<id>]' }] })
    const preset = (await freshGet(`${base}/api/v1/models/model?id=m0000002`, admin)).body as { base_model_id?: string } | null
    const directBody = JSON.stringify({ model: preset?.base_model_id ?? 'llama3.1:8b', messages: [{ role: 'user', content: 'hello [<id>]' }] })
    const chatTargets: (Target & { key: string })[] = [
      { key: 'direct', name: 'direct to the provider', url: `${providerUrl}/v1/chat/completions`, body: directBody },
      { key: 'proxy', name: 'bare pass-through proxy', url: `${anchorsUrls.proxy}/v1/chat/completions`, headers: PROXY_HEADERS, body: directBody },
      // What Fastify and a preset's merge cost without accounts, access rules, usage or metrics (bench/fastify-floor.ts).
      { key: 'floor', name: 'Fastify floor (presets, no accounts)', url: `${anchorsUrls.floor}/v1/chat/completions`, headers: PROXY_HEADERS, body: directBody },
      { key: 'gateway', name: 'modelgate (preset)', url: `${base}/v1/chat/completions`, headers: admin, body: chatBody },
    ]
    const peerTargets = anchorsUrls.peers.map((peer) => ({ key: peer.name, name: peer.name, url: peer.chatUrl, headers: peer.headers, body: directBody }))
    for (const t of [...chatTargets, ...peerTargets]) {
      const row = measure(`S9 chat c=32: ${t.name}`, t.url, {
        method: 'POST',
        body: t.body,
        ...(t.headers && { headers: t.headers }),
        key: `S9-${t.key}`,
        c1: false,
      })
      anchors.set(t.key, { name: t.name, rps: row.rps, latency: null, stream: null })
    }
    // A peer's errors are printed, not failures of the run (it is optional and not ours).
    for (const peer of peerTargets) {
      const own = failures.filter((f) => f.includes(peer.name))
      for (const f of own) console.error(`${f} (peer: not counted as a failure)`)
      failures.splice(0, failures.length, ...failures.filter((f) => !own.includes(f)))
    }
    usage = await usageRecordingCost(databaseUrl, providerUrl, admin, chatBody, options, failures)
    const streaming = (t: Target) => ({ ...t, body: (t.body ?? '').replace('}]}', '}],"stream":true}') })
    const latency = await latencyLoop(chatTargets, 2000, 200)
    const streams = await streamLoop(chatTargets.map(streaming), 200, 20)
    for (const t of chatTargets) Object.assign(anchors.get(t.key) ?? {}, { latency: latency.get(t.name) ?? null, stream: streams.get(t.name) ?? null })
    // A peer that fails a loop is left out of it, with the reason printed; the run goes on.
    for (const peer of peerTargets) {
      const anchor = anchors.get(peer.key) ?? { name: peer.name, rps: null, latency: null, stream: null }
      try {
        anchor.latency = (await latencyLoop([peer], 2000, 200)).get(peer.name) ?? null
      } catch (error) {
        console.error(`${peer.name}: latency loop failed, left out: ${(error as Error).message}`)
      }
      try {
        anchor.stream = (await streamLoop([streaming(peer)], 200, 20)).get(peer.name) ?? null
      } catch (error) {
        console.error(`${peer.name}: streaming failed, left out: ${(error as Error).message}`)
      }
    }
    const directRps = anchors.get('direct')?.rps
    const proxyRps = anchors.get('proxy')?.rps
    for (const row of rows) {
      if (!row.key?.startsWith('S9-') || row.rps === null) continue
      row.ratio = directRps ? row.rps / directRps : null
      row.note = `ratio vs direct; ${proxyRps ? (row.rps / proxyRps).toFixed(2) : '–'}× the proxy`
    }

    // SQL statements per request (the server's modelgate_db_statements_total on GET /metrics).
    const statementTargets: [string, Target][] = [
      ['chat completion (preset)', { name: 'chat', url: `${base}/v1/chat/completions`, headers: admin, body: chatBody }],
      ['GET /v1/models (user reading 1k)', { name: 'v1-models', url: `${base}/v1/models`, headers: user1k }],
      ['list page 1, cached (user reading ~90%)', { name: 'list', url: list, headers: dense }],
    ]
    for (const [label, target] of statementTargets) statements.set(label, await statementsPerRequest(`${base}/metrics`, METRICS_TOKEN, target, 100))
    rows.push({
      scenario: 'server RSS: after start-up, and after the run',
      rps: null,
      p50: null,
      p99: null,
      p50c1: null,
      rssMb: currentRssMb(pid),
      ratio: null,
      note: `${rssAtStart} MB after start-up and warm-up; peak ${peakRssMb(pid)} MB`,
    })
  } catch (error) {
    failures.push(`${dialect} ${size}: ${serverExit || (error as Error).message}`)
    console.error(error)
  } finally {
    await stopServer(server)
  }
  return { dialect, size, rows, failures, setup, anchors, statements, pages, usage }
}

const ROUTE_MISSING = 'n/a (route missing)'

/**
 * S12a: `POST /api/v1/templates/template/apply` (merge, real run) of a template holding params, meta
 * tags and a group grant to the dataset's first 10k models (every one changes: a version, an audit
 * entry, grants and tags rewritten); S12b: `POST /api/v1/models/access/bulk` on the same 10k (adds a
 * group's read grant, removes g-most's). Each is one request; the row gives its seconds and the server's
 * peak RSS growth over the RSS before it.
 */
async function governanceAtScale(
  base: string,
  pid: number,
  admin: Record<string, string>,
  size: number,
  dialect: string,
  rows: Row[],
  failures: string[],
): Promise<void> {
  const ids = s12Ids(size)
  const headers = { ...admin, 'content-type': 'application/json' }
  const post = (path: string, body: unknown) => http(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify(body) })
  const timed = async (scenario: string, path: string, body: unknown) => {
    resetPeakRss(pid)
    const before = currentRssMb(pid)
    const cpuBefore = cpuSeconds(pid)
    const t = performance.now()
    const response = await post(path, body)
    const text = await response.text()
    const seconds = (performance.now() - t) / 1000
    const cpu = cpuSeconds(pid) - cpuBefore
    const report = JSON.parse(text) as { changed?: unknown[]; unchanged?: unknown[]; refused?: unknown[] }
    const counts = `${report.changed?.length ?? 0} changed, ${report.unchanged?.length ?? 0} unchanged, ${report.refused?.length ?? 0} refused`
    const accounted = (report.changed?.length ?? 0) + (report.unchanged?.length ?? 0)
    if (!response.ok || accounted !== ids.length || (report.changed?.length ?? 0) === 0) {
      failures.push(`${dialect} ${size} ${scenario}: HTTP ${response.status}, ${counts}`)
    }
    rows.push({
      scenario,
      rps: null,
      p50: seconds * 1000,
      p99: null,
      p50c1: null,
      rssMb: peakRssMb(pid),
      ratio: null,
      note: `${seconds.toFixed(2)} s (server CPU ${cpu.toFixed(2)} s), ${counts}, report ${(Buffer.byteLength(text) / 1e6).toFixed(1)} MB, peak RSS growth ${(peakRssMb(pid) - before).toFixed(1)} MB`,
    })
  }
  if (await routeMissing(`${base}/api/v1/templates/list`, admin)) {
    for (const { scenario } of s12Requests(ids)) {
      rows.push({ scenario, rps: null, p50: null, p99: null, p50c1: null, rssMb: peakRssMb(pid), ratio: null, note: ROUTE_MISSING })
    }
    return
  }
  const created = await post('/api/v1/templates/create', S12_TEMPLATE)
  if (!created.ok) {
    failures.push(`${dialect} ${size} S12 template create: HTTP ${created.status} ${await created.text()}`)
    return
  }
  for (const { scenario, path, body } of s12Requests(ids)) await timed(scenario, path, body)
}

/**
 * A GET on a connection of its own (closed after): after minutes of autocannon, a kept-alive socket of
 * the runner's agent was found closed under the request ("other side closed").
 */
async function freshGet(url: string, headers: Record<string, string>): Promise<{ status: number; body: unknown; text: string }> {
  const response = await http(url, { headers })
  const text = await response.text()
  let body: unknown = null
  try {
    body = JSON.parse(text) as unknown
  } catch {
    // not JSON
  }
  return { status: response.status, body, text }
}

/** The bare proxy's one key (bench/bare-proxy.ts). */
const PROXY_HEADERS = { authorization: 'Bearer bench-proxy-key' }

/**
 * S13 (issue #17): uncached list pages timed at c=1 in µs, page 1 for each reader (the target at 1M:
 * p50 ≤ 10 ms) and a deep page for the admin and the ~90% reader (page 1,000, or the last page when
 * the reader has fewer): a deep page must cost no more than page 1.
 */
async function deepPages(
  list: string,
  readers: Record<'admin' | 'dense' | 'sparse', Record<string, string>>,
  fresh: Record<string, string>,
  rows: Row[],
  rssMb: () => number,
): Promise<SuiteResult['pages']> {
  const targets: Target[] = []
  const deepOf = new Map<string, number>()
  for (const [reader, headers] of Object.entries(readers)) {
    const first = (await freshGet(list, headers)).body as { total?: number } | null
    const deep = Math.min(1000, Math.max(1, Math.ceil((first?.total ?? 0) / 30)))
    targets.push({ name: `${reader} 1`, url: `${list}?page=1`, headers: { ...headers, ...fresh } })
    if (deep > 1) {
      deepOf.set(reader, deep)
      targets.push({ name: `${reader} deep`, url: `${list}?page=${deep}`, headers: { ...headers, ...fresh } })
    }
  }
  const times = await latencyLoop(targets, 100, 10, 10)
  const pages: SuiteResult['pages'] = []
  for (const reader of Object.keys(readers)) {
    const page1 = times.get(`${reader} 1`)?.p50 ?? Number.NaN
    const deepPage = deepOf.get(reader)
    const deep = deepPage ? (times.get(`${reader} deep`)?.p50 ?? Number.NaN) : Number.NaN
    pages.push({ reader, page1, deep, deepPage: deepPage ?? 1 })
    const base = { rps: null, p99: null, p50c1: null, rssMb: rssMb(), ratio: null }
    rows.push({ ...base, key: `S13-${reader}`, scenario: `S13 uncached page 1 at c=1 (µs loop), ${reader}`, p50: null, p50c1: page1 / 1000, note: '' })
    if (deepPage) {
      rows.push({
        ...base,
        key: `S13-${reader}-deep`,
        scenario: `S13 uncached page ${deepPage.toLocaleString('en-US')} at c=1 (µs loop), ${reader}`,
        p50: null,
        p50c1: deep / 1000,
        note: `${(deep / page1).toFixed(2)}× page 1`,
      })
    }
  }
  return pages
}

/** True when the app answers its 404 NOT_FOUND for an unknown path (the route is not built yet). */
async function routeMissing(url: string, headers: Record<string, string>): Promise<boolean> {
  const response = await http(url, { headers })
  // Only a 404's body is read: a route that exists may answer an export (2M audit entries at 1M models
  // are more than a string can hold).
  if (response.status !== 404) {
    await response.body?.cancel()
    return false
  }
  const body = (await response.json().catch(() => null)) as { code?: string } | null
  return body?.code === 'NOT_FOUND'
}

/** `count` ids of models the dense user may read (not every 10th), spread over the table in a fixed order. */
function readableIds(size: number, count: number): string[] {
  const ids: string[] = []
  for (let k = 0; k < count * 20 && ids.length < count; k++) {
    const i = (k * 7919 + 13) % size
    if (i % 10 !== 0) ids.push(`m${String(i).padStart(7, '0')}`)
  }
  return ids
}

const fmt = (value: number | null, digits = 1) => (value === null || Number.isNaN(value) ? '–' : value.toFixed(digits))

function table(rows: Row[]): string {
  const lines = [
    '| scenario | req/s c=32 | ratio to ceiling | p50 ms c=32 | p99 ms c=32 | p50 ms c=1 | peak RSS MB | note |',
    '|---|---|---|---|---|---|---|---|',
  ]
  for (const r of rows) {
    lines.push(
      `| ${r.scenario} | ${fmt(r.rps, 0)} | ${r.ratio === null ? '–' : `${(r.ratio * 100).toFixed(0)}%`} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.p50c1, 2)} | ${fmt(r.rssMb)} | ${r.note} |`,
    )
  }
  return lines.join('\n')
}

/** S9's anchors: throughput, latency at c=1 (µs), streaming, each against direct and the proxy. */
function anchorsTable(result: SuiteResult): string {
  const direct = result.anchors.get('direct')
  const proxy = result.anchors.get('proxy')
  const us = (value: number | undefined) => (value === undefined || Number.isNaN(value) ? '–' : value.toFixed(0))
  const ms = (value: number | undefined) => (value === undefined || Number.isNaN(value) ? '–' : (value / 1000).toFixed(2))
  const ratio = (a: number | null | undefined, b: number | null | undefined) => (a && b ? (a / b).toFixed(2) : '–')
  const lines = [
    '| S9 anchor | req/s c=32 | × direct | × proxy | p50 µs c=1 | p90 µs | p99 µs | added p50 over direct µs | added p50 over the proxy µs | first chunk p50 ms | last byte p50 ms | first chunk × proxy |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ]
  for (const [key, a] of result.anchors) {
    const p50 = a.latency?.p50
    lines.push(
      `| ${a.name} | ${fmt(a.rps, 0)} | ${ratio(a.rps, direct?.rps)} | ${ratio(a.rps, proxy?.rps)} | ${us(p50)} | ${us(a.latency?.p90)} | ${us(a.latency?.p99)} | ` +
        `${key === 'direct' || p50 === undefined || !direct?.latency ? '–' : us(p50 - direct.latency.p50)} | ` +
        `${key === 'direct' || key === 'proxy' || p50 === undefined || !proxy?.latency ? '–' : us(p50 - proxy.latency.p50)} | ` +
        `${ms(a.stream?.firstChunk)} | ${ms(a.stream?.lastByte)} | ${ratio(a.stream?.firstChunk, proxy?.stream?.firstChunk)} |`,
    )
  }
  lines.push('', '| SQL statements per request (100 requests, `modelgate_db_statements_total` on /metrics) | statements |', '|---|---|')
  for (const [label, count] of result.statements) lines.push(`| ${label} | ${count === null ? 'n/a (no counter on /metrics)' : count.toFixed(2)} |`)
  return lines.join('\n')
}

/** A process of this checkout's bench/ that prints its URL on its first line. */
async function startHelper(script: string, args: string[] = []): Promise<{ child: ReturnType<typeof spawn>; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', `${ROOT}/bench/${script}`, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()))
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)))
  })
  return { child, url }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2))
  const provider = await startHelper('provider.ts')
  const proxy = await startHelper('bare-proxy.ts', [`${provider.url}/v1`])
  const floor = await startHelper('fastify-floor.ts', [`${provider.url}/v1`])
  const peers: Peer[] = []
  if (options.peers) {
    const portkey = await startPortkey(provider.url)
    if ('why' in portkey) console.error(`Portkey's gateway is left out: ${portkey.why}`)
    else peers.push(portkey)
  }
  const commit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    } catch {
      return 'unknown'
    }
  })()
  const machine = `${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`
  const command = `npm run bench${options.full ? ' -- --full' : ''}`
  let report = `# modelgate benchmark\n\n- date: ${new Date().toISOString()}\n- commit: ${commit}\n- machine: ${machine}\n- command: \`${command}\` (${options.seconds} s per scenario and concurrency)\n`
  const failures: string[] = []
  const results: SuiteResult[] = []
  const started = performance.now()
  try {
    for (const size of options.sizes) {
      for (const dialect of options.dialects) {
        const result = await runSuite(dialect, size, options, { provider: provider.url, proxy: proxy.url, floor: floor.url, peers })
        results.push(result)
        failures.push(...result.failures)
        const section = `\n## ${dialect}, ${size.toLocaleString('en-US')} models (${result.setup})\n\n${table(result.rows)}\n\n${anchorsTable(result)}\n`
        console.log(section)
        report += section
      }
    }
  } finally {
    for (const peer of peers) peer.stop()
    proxy.child.kill('SIGTERM')
    floor.child.kill('SIGTERM')
    provider.child.kill('SIGTERM')
  }
  const targets = `\n## Targets (issue #17)\n\n${targetsTable(results, options.full)}\n\n✘ is reported, never fatal: the run fails only on errors (see bench/README.md).\n`
  console.log(targets)
  report += targets + `\nTotal: ${((performance.now() - started) / 1000).toFixed(0)} s.\n`
  mkdirSync(`${ROOT}/bench/results`, { recursive: true })
  const file = `${ROOT}/bench/results/${new Date().toISOString().slice(0, 10)}-${options.full ? 'full' : 'quick'}-${commit}.md`
  writeFileSync(file, report + (failures.length ? `\n## Failures\n\n${failures.map((f) => `- ${f}`).join('\n')}\n` : ''))
  console.log(`\nResults written to ${file}`)
  if (failures.length > 0) {
    console.error(`\n${failures.length} scenario(s) had errors or non-2xx answers:\n${failures.join('\n')}`)
    process.exitCode = 1
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
