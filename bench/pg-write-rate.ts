/**
 * Model creates and updates per second (the benchmark's S6a and S6b: c=32, same bodies) against one or
 * more built checkouts taking turns, each on a fresh database of its own (issue #17, item 4):
 *
 *   npx tsx bench/pg-write-rate.ts --dialect postgres --roots /tmp/before,/work/main --rounds 2
 *
 * Each root must hold `dist/` (`npx tsc -p tsconfig.build.json`; another checkout also needs
 * `node_modules` linked). Per round and root it seeds the benchmark dataset (`--models`, 10k by default)
 * migrated by that root's own migrations, starts `node dist/main.js` with the fake provider, counts the
 * SQL statements of 100 sequential writes of each kind (from /metrics), then runs `--seconds` of c=32
 * creates and of updates of one model, printing req/s, p50 and the server's CPU µs per request.
 *
 *   npx tsx bench/pg-write-rate.ts --in-process --rounds 3
 *
 * `--in-process`: no HTTP, no build: this checkout's services on a fresh schema (2k models), 32 loops of
 * `ModelWrites.create` / `.update` for `--seconds` (4 by default), taking turns with the registry's bump
 * put back in the write's transaction (as before the change of docs/performance.md, "PostgreSQL writes
 * and deep pages"): writes/s and this process's CPU µs per write.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { sql } from 'kysely'
import { Agent, request } from 'undici'
import { TokenSigner } from '../src/auth/tokens.js'
import { ModelGrantsRepo } from '../src/access/model-grants.repo.js'
import { loadConfig } from '../src/config/env.js'
import { migrateToLatest as migrateHere } from '../src/db/migrator.js'
import { ModelVersions } from '../src/models/model-versions.js'
import { ModelsRepo } from '../src/models/models.repo.js'
import { ModelFormSchema, ModelUpdateSchema } from '../src/models/models.schema.js'
import type { Registry } from '../src/models/registry.js'
import { createServices } from '../src/services.js'
import type * as MigratorModule from '../src/db/migrator.js'
import { SERVER_NODE_FLAGS } from '../scripts/server-node-flags.js'
import { freePort } from '../test/support/timing.js'
import { freshBenchDatabase } from './databases.js'
import { generateDataset } from './dataset.js'
import { BENCH_SECRET, load, median, waitReady } from './load.js'
import { cpuSeconds, startBenchScript } from './processes.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback
}
const dialect = arg('--dialect', 'postgres') as 'sqlite' | 'postgres'
const roots = arg('--roots', ROOT).split(',')
const size = Number(arg('--models', '10000'))
const seconds = Number(arg('--seconds', '5'))
const rounds = Number(arg('--rounds', '1'))
const connections = Number(arg('--connections', '32'))
/** Extra flags for the servers' node (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`), comma-separated. */
const nodeFlags = arg('--node-flags', '').split(',').filter(Boolean)
const METRICS_TOKEN = 'bench-metrics-token-0123456789'

const agent = new Agent({ pipelining: 0 })

async function statements(base: string): Promise<number> {
  const res = await request(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` }, dispatcher: agent })
  const text = await res.body.text()
  return Number(/^modelgate_db_statements_total (\d+)/m.exec(text)?.[1] ?? NaN)
}

async function post(url: string, headers: Record<string, string>, body: string): Promise<void> {
  const res = await request(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body, dispatcher: agent })
  await res.body.text()
  if (res.statusCode >= 300) throw new Error(`${url}: HTTP ${res.statusCode}`)
}

interface Row {
  root: string
  round: number
  kind: string
  rps: number
  p50: number
  non2xx: number
  cpuUs: number
  sqlPerWrite: number
}

async function measureRoot(root: string, index: number, round: number, providerUrl: string): Promise<Row[]> {
  const { url, database } = await freshBenchDatabase(dialect, `pgwr_${index}`)
  const { migrateToLatest } = (await import(`${root}/dist/db/migrator.js`)) as typeof MigratorModule
  await migrateToLatest(database)
  const data = await generateDataset(database.db, { models: size })
  if (dialect === 'postgres') await sql`analyze`.execute(database.db)
  await database.close()
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const server = spawn(process.execPath, [...SERVER_NODE_FLAGS, ...nodeFlags, `${root}/dist/main.js`], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: url,
      WEBUI_SECRET_KEY: BENCH_SECRET,
      LOG_LEVEL: 'warn',
      BENCH_ROUTES: 'true',
      OPENAI_API_BASE_URLS: `${providerUrl}/v1`,
      OPENAI_API_KEYS: '',
      REDIS_URL: '',
      METRICS_TOKEN,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
    cwd: root,
  })
  const pid = server.pid ?? 0
  const rows: Row[] = []
  try {
    await waitReady(base, server)
    const token = (await new TokenSigner(BENCH_SECRET, 3_600_000).sign(data.adminId)).token
    const admin = { authorization: `Bearer ${token}` }
    // The benchmark's S6a and S6b bodies (bench/run.ts).
    const createBody = (id: string) =>
      JSON.stringify({ id, base_model_id: 'llama3.1:8b', name: `New ${id}`, meta: { tags: ['bench'] }, params: { temperature: 0.5 } })
    const updateBody = (n: string) => JSON.stringify({ id: 'm0000003', name: `Renamed ${n}`, params: { temperature: 0.3 } })
    const kinds: [string, string, (n: string) => string][] = [
      ['create (S6a)', `${base}/api/v1/models/create`, (n) => createBody(`bench-new-${n}`)],
      ['update (S6b)', `${base}/api/v1/models/model/update`, updateBody],
    ]
    for (const [kind, target, body] of kinds) {
      // Warm-up, then SQL statements per write (sequential, so nothing else runs SQL meanwhile).
      for (let i = 0; i < 20; i++) await post(target, admin, body(`warm-${i}`))
      const idle = await statements(base)
      const before = await statements(base)
      for (let i = 0; i < 100; i++) await post(target, admin, body(`seq-${i}`))
      // Less what reading /metrics itself runs.
      const sqlPerWrite = ((await statements(base)) - before - (before - idle)) / 100
      const cpu = cpuSeconds(pid)
      const r = load(target, { connections, seconds, headers: admin, method: 'POST', body: body('[<id>]') })
      const cpuUs = ((cpuSeconds(pid) - cpu) / r.requests) * 1e6
      rows.push({ root, round, kind, rps: r.rps, p50: r.p50, non2xx: r.non2xx + r.errors, cpuUs, sqlPerWrite })
      console.error(
        `${root} round ${round} ${kind}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, ${cpuUs.toFixed(0)} µs CPU, ${sqlPerWrite} SQL/write, non-2xx ${r.non2xx + r.errors}`,
      )
    }
  } finally {
    server.kill('SIGTERM')
    await new Promise((resolve) => server.once('exit', resolve))
  }
  return rows
}

/** Writes/s in this process, the bump after commit (this checkout) against the bump in the transaction. */
async function inProcess(): Promise<void> {
  const { url, database } = await freshBenchDatabase(dialect, 'pgwr_inproc')
  await migrateHere(database)
  const data = await generateDataset(database.db, { models: 2000 })
  if (dialect === 'postgres') await sql`analyze`.execute(database.db)
  const config = loadConfig({ LOG_LEVEL: 'silent', WEBUI_SECRET_KEY: BENCH_SECRET, DATABASE_URL: url, REDIS_URL: '' })
  const services = createServices(config, database, BENCH_SECRET)
  const registry = services.models.registry as Registry & { inTransaction: Registry['inTransaction'] }
  const after = registry.inTransaction.bind(registry)
  // As before: the bump is the transaction's last statement.
  const before: Registry['inTransaction'] = (work) =>
    registry.database.db.transaction().execute(async (trx) => {
      const models = new ModelsRepo(trx)
      const grants = new ModelGrantsRepo(trx)
      const versions = new ModelVersions(trx, models, grants, registry.historyMaxVersions)
      const result = await work({ models, grants, access: registry.access.on(trx), versions, executor: trx })
      await models.bumpVersion()
      return result
    })
  const admin = { id: data.adminId, role: 'admin' as const }
  const span = Number(arg('--seconds', '4'))
  let n = 0
  const results = new Map<string, number[]>()
  for (let round = 1; round <= rounds; round++) {
    for (const [mode, inTransaction] of [
      ['bump in the transaction', before],
      ['bump after commit', after],
    ] as const) {
      registry.inTransaction = inTransaction
      for (const kind of ['create', 'update']) {
        const end = performance.now() + span * 1000
        let done = 0
        const cpu = process.cpuUsage()
        await Promise.all(
          Array.from({ length: connections }, async () => {
            while (performance.now() < end) {
              const id = `ip-${++n}`
              if (kind === 'create') {
                await services.models.writes.create(
                  admin,
                  ModelFormSchema.parse({
                    id,
                    base_model_id: 'llama3.1:8b',
                    name: `New ${id}`,
                    meta: { tags: [{ name: 'bench' }] },
                    params: { temperature: 0.5 },
                  }),
                )
              } else {
                await services.models.writes.update(
                  admin,
                  undefined,
                  ModelUpdateSchema.parse({ id: 'm0000003', name: `Renamed ${id}`, params: { temperature: 0.3 } }),
                )
              }
              done++
            }
          }),
        )
        const used = process.cpuUsage(cpu)
        const key = `${mode}, ${kind}`
        results.set(key, [...(results.get(key) ?? []), done / span])
        console.error(`round ${round} ${key}: ${(done / span).toFixed(0)}/s, ${((used.user + used.system) / done).toFixed(0)} µs CPU/write`)
      }
    }
  }
  await database.close()
  console.log(`${dialect}, in process, 2,000 models, ${connections} loops, ${span} s, ${rounds} round(s), ${new Date().toISOString()}`)
  for (const [key, values] of results) console.log(`${key}: median ${median(values).toFixed(0)}/s (${values.map((v) => v.toFixed(0)).join(' / ')})`)
}

async function main(): Promise<void> {
  if (process.argv.includes('--in-process')) return inProcess()
  const provider = await startBenchScript('provider.ts')
  const rows: Row[] = []
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const [index, root] of roots.entries()) rows.push(...(await measureRoot(root, index, round, provider.url)))
    }
  } finally {
    provider.child.kill('SIGTERM')
    await agent.close()
  }
  const lines = [
    `${dialect}, ${size} models, c=${connections}, ${seconds} s, ${rounds} round(s), ${new Date().toISOString()}`,
    '| root | kind | req/s (median; each round) | p50 ms | server CPU µs/req | SQL statements/write | non-2xx |',
    '|---|---|---|---|---|---|---|',
  ]
  for (const root of roots) {
    for (const kind of new Set(rows.map((row) => row.kind))) {
      const mine = rows.filter((row) => row.root === root && row.kind === kind)
      const each = mine.map((row) => row.rps.toFixed(0)).join(' / ')
      lines.push(
        `| ${root} | ${kind} | ${median(mine.map((row) => row.rps)).toFixed(0)} (${each}) | ${median(mine.map((row) => row.p50))} | ` +
          `${median(mine.map((row) => row.cpuUs)).toFixed(0)} | ${median(mine.map((row) => row.sqlPerWrite)).toFixed(2)} | ${mine.reduce((n, row) => n + row.non2xx, 0)} |`,
      )
    }
  }
  console.log(lines.join('\n'))
}

await main()
