/**
 * A/B of two builds on the warm read scenarios (S1–S5, S8), the writes (S6) and the import of 10k
 * models (S7a), interleaved:
 *
 *   npm run bench:compare -- --before /path/to/other/checkout [--rounds 3] [--seconds 3] [--out file.md]
 *
 * "Not worse than before" cannot be read off two `npm run bench` runs minutes apart on a shared machine
 * (the ceiling itself moved by 25% between two such runs). This runner starts the `before` build and
 * this checkout's build side by side, with the same fake provider, and loads them with the same
 * autocannon scenarios taking turns. Each side gets a fresh SQLite dataset of its own, migrated by its
 * own build (the two may differ in schema: a build without migration 0006 gets no history rows) and
 * changed only by its own writes. It prints the median and range of each side's CPU time per request
 * (the server's own, read from /proc: what the build costs, whatever else the machine does) and
 * requests/s, and their ratios; for the import, its seconds. `--before` is a checkout of the older
 * commit with `dist/main.js` built (`git worktree add /tmp/before <commit> && cd /tmp/before && ln -s
 * $PWD/node_modules && npx tsc -p tsconfig.build.json`).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { cpus, loadavg, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Agent, fetch as undiciFetch } from 'undici'
import { TokenSigner } from '../src/auth/tokens.js'
import type * as DatabaseModule from '../src/db/database.js'
import type * as MigratorModule from '../src/db/migrator.js'
import { generateDataset, type Dataset } from './dataset.js'
import { freePort } from '../test/support/timing.js'
import { load, median, waitReady, BENCH_SECRET } from './load.js'
import { SERVER_NODE_FLAGS } from '../scripts/server-node-flags.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
type Side = 'before' | 'after'

function commitOf(checkout: string): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: checkout, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: checkout, encoding: 'utf8' }).trim()
    return dirty ? `${commit}+changes` : commit
  } catch {
    return 'unknown'
  }
}

/** User + system CPU time of a process so far, in microseconds (Linux /proc; clock ticks of 10 ms). */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(fields[11]) + Number(fields[12])) * 10_000
}

function option(name: string): string | undefined {
  const index = process.argv.indexOf(name)
  return index >= 0 ? process.argv[index + 1] : undefined
}

/** A fresh SQLite dataset for one build, migrated by that build's own migrations. */
async function prepareSide(build: string, path: string, size: number): Promise<Dataset> {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true })
  const { createDatabase } = (await import(`${build}/dist/db/database.js`)) as typeof DatabaseModule
  const { migrateToLatest } = (await import(`${build}/dist/db/migrator.js`)) as typeof MigratorModule
  const database = createDatabase({ dialect: 'sqlite', path })
  await migrateToLatest(database)
  const history = existsSync(`${build}/dist/db/migrations/0006_history_audit.js`)
  // The before build's Kysely<DB> is typed as this checkout's; the dataset writes only columns both have.
  const data = await generateDataset(database.db, { models: size, history })
  await database.close()
  return data
}

interface Samples {
  rps: number[]
  cpuUs: number[]
}

const range = (values: readonly number[], digits = 0) => `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`
const cell = (values: readonly number[], digits = 0) => `${median(values).toFixed(digits)} (${range(values, digits)})`

async function main(): Promise<void> {
  const before = option('--before')
  if (!before || !existsSync(`${before}/dist/main.js`)) throw new Error('--before <checkout with dist/main.js built> is required')
  const rounds = Number(option('--rounds') ?? 3)
  const seconds = Number(option('--seconds') ?? 3)
  const size = Number(option('--size') ?? 10_000)
  const out = option('--out')
  // `--only S6` runs the scenarios whose name matches (a regular expression) and skips the import unless it matches S7.
  const only = option('--only') ? new RegExp(option('--only') as string) : undefined
  const builds: Record<Side, string> = { before, after: ROOT }
  const loadAtStart = loadavg()
  const started = new Date()

  const dir = '/tmp/modelgate-bench-compare'
  mkdirSync(dir, { recursive: true })
  const datasets: Partial<Record<Side, Dataset>> = {}
  for (const side of ['before', 'after'] as const) datasets[side] = await prepareSide(builds[side], `${dir}/${side}.db`, size)
  const data = datasets.after as Dataset

  const provider = spawn(process.execPath, ['--import', 'tsx', `${ROOT}/bench/provider.ts`], { stdio: ['ignore', 'pipe', 'inherit'] })
  const providerUrl = await new Promise<string>((resolve, reject) => {
    provider.stdout?.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()))
    provider.once('exit', (code) => reject(new Error(`fake provider exited with ${code}`)))
  })
  const signer = new TokenSigner(BENCH_SECRET, 3_600_000)
  const bearer = async (userId: string) => ({ authorization: `Bearer ${(await signer.sign(userId)).token}` })
  const [admin, dense, sparse, user1k] = await Promise.all([data.adminId, data.denseUserId, data.sparseUserId, data.user1kId].map(bearer))
  if (!admin || !dense || !sparse || !user1k) throw new Error('tokens')

  const results = new Map<string, Record<Side, Samples>>()
  const record = (name: string, side: Side, rps: number, cpuUs: number) => {
    const entry = results.get(name) ?? { before: { rps: [], cpuUs: [] }, after: { rps: [], cpuUs: [] } }
    entry[side].rps.push(rps)
    entry[side].cpuUs.push(cpuUs)
    results.set(name, entry)
  }
  const imports: Record<Side, { seconds: number[]; cpuMs: number[] }> = { before: { seconds: [], cpuMs: [] }, after: { seconds: [], cpuMs: [] } }
  const servers: ChildProcess[] = []
  try {
    // Both builds run side by side and take turns scenario by scenario (the order swapped every
    // round), so a noisy minute on the machine falls on both rather than on one side's whole run.
    const bases: Record<Side, string> = { before: '', after: '' }
    const pids: Record<Side, number> = { before: 0, after: 0 }
    for (const side of ['before', 'after'] as const) {
      const port = await freePort()
      bases[side] = `http://127.0.0.1:${port}`
      const server = spawn(process.execPath, [...SERVER_NODE_FLAGS, `${builds[side]}/dist/main.js`], {
        env: {
          ...process.env,
          PORT: String(port),
          HOST: '127.0.0.1',
          DATABASE_URL: `sqlite://${dir}/${side}.db`,
          WEBUI_SECRET_KEY: BENCH_SECRET,
          LOG_LEVEL: 'warn',
          BENCH_ROUTES: 'true',
          MODELS_CACHE_TTL: '3600',
          OPENAI_API_BASE_URLS: `${providerUrl}/v1`,
          OPENAI_API_KEYS: '',
          IMPORT_BODY_LIMIT_BYTES: String(256 * 1024 * 1024),
          REDIS_URL: '',
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      })
      servers.push(server)
      pids[side] = server.pid ?? 0
      await waitReady(bases[side], server)
      await fetch(`${bases[side]}/api/models/base`, { headers: admin })
    }
    type Scenario = [string, string, Record<string, string>, { method?: string; body?: string }?]
    const scenarios: Scenario[] = [
      ['S1 list, admin', '/api/v1/models/list', admin],
      ['S2 list, user reading ~90%', '/api/v1/models/list', dense],
      ['S3 list, user reading ~10', '/api/v1/models/list', sparse],
      ['S4 list, query + tag', `/api/v1/models/list?query=${data.query}&tag=${data.tag}`, dense],
      ['S5 GET /model', '/api/v1/models/model?id=m0000001', dense],
      ['S8 GET /v1/models, user reading 1k', '/v1/models', user1k],
      // Writes: each side's own database (a version and an audit entry per write on the history build).
      [
        'S6a create',
        '/api/v1/models/create',
        admin,
        {
          method: 'POST',
          body: JSON.stringify({
            id: 'bench-new-[<id>]',
            base_model_id: 'llama3.1:8b',
            name: 'New [<id>]',
            meta: { tags: ['bench'] },
            params: { temperature: 0.5 },
          }),
        },
      ],
      [
        'S6b update',
        '/api/v1/models/model/update',
        admin,
        { method: 'POST', body: JSON.stringify({ id: 'm0000003', name: 'Renamed [<id>]', params: { temperature: 0.3 } }) },
      ],
    ]
    const chosen = only ? scenarios.filter(([name]) => only.test(name)) : scenarios
    const runImport = !only || only.test('S7a import')
    for (let round = 1; round <= rounds; round++) {
      const order: Side[] = round % 2 ? ['before', 'after'] : ['after', 'before']
      for (const [name, path, headers, write] of chosen) {
        for (const side of order) {
          const cpuBefore = cpuMicros(pids[side])
          const result = load(bases[side] + path, { connections: 32, seconds, headers, ...write })
          const cpuUs = (cpuMicros(pids[side]) - cpuBefore) / result.requests
          if (result.non2xx || result.errors) throw new Error(`${side} ${name}: ${result.non2xx} non-2xx, ${result.errors} errors`)
          record(name, side, result.rps, cpuUs)
        }
      }
      console.error(`round ${round}/${rounds} scenarios done`)
      if (!runImport) continue
      // S7a: 10k new models in one request (new ids every round, the same on both sides).
      const importFile = JSON.stringify({
        models: Array.from({ length: 10_000 }, (_, i) => ({
          id: `imp-r${round}-${i}`,
          base_model_id: 'llama3.1:8b',
          name: `Imported ${i}`,
          meta: { tags: [{ name: 'imported' }] },
          params: { temperature: 0.7 },
          access_grants: [{ principal_type: 'group', principal_id: 'g-most', permission: 'read' }],
        })),
      })
      for (const side of order) {
        const cpuBefore = cpuMicros(pids[side])
        const t = performance.now()
        // A connection of its own: a kept-alive socket from an earlier request may be closing (EPIPE).
        const agent = new Agent()
        const response = await undiciFetch(`${bases[side]}/api/v1/models/import`, {
          method: 'POST',
          headers: { ...admin, 'content-type': 'application/json' },
          body: importFile,
          dispatcher: agent,
        })
        const report = (await response.json()) as { created?: unknown[] }
        await agent.close()
        imports[side].seconds.push((performance.now() - t) / 1000)
        imports[side].cpuMs.push((cpuMicros(pids[side]) - cpuBefore) / 1000)
        if (!response.ok || report.created?.length !== 10_000) throw new Error(`${side} import: HTTP ${response.status}, created ${report.created?.length}`)
      }
      console.error(`round ${round}/${rounds} done`)
    }
  } finally {
    for (const server of servers) server.kill('SIGTERM')
    provider.kill('SIGTERM')
  }

  const machine = `${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`
  const loads = (values: number[]) => values.map((v) => v.toFixed(2)).join(' / ')
  const lines = [
    `# A/B: ${commitOf(before)} (before) vs ${commitOf(ROOT)} (after), SQLite ${size.toLocaleString('en-US')} models, ${rounds} rounds × ${seconds} s, c=32`,
    '',
    `- date: ${started.toISOString()} to ${new Date().toISOString()}`,
    `- command: \`npm run bench:compare -- ${process.argv.slice(2).join(' ')}\``,
    `- machine: ${machine}; load average (1/5/15 min) ${loads(loadAtStart)} at the start, ${loads(loadavg())} at the end`,
    `- datasets: each side its own, migrated by its own build; history rows (5 versions and 2 audit entries per model): before ${datasets.before?.history ? 'yes' : 'no'}, after ${datasets.after?.history ? 'yes' : 'no'}`,
    '',
    'Cells are the median over the rounds, with the range (min–max) in brackets. CPU µs per request: the server process’s user + system CPU',
    'time over a scenario divided by the requests it answered (autocannon runs in its own process; /proc counts in 10 ms ticks). It is what',
    'the build costs; requests/s also moves with whatever else the machine is doing. Writes accumulate on each side’s own database',
    '(S6a adds rows every round; S6b rewrites one model, so the history side adds one version per update).',
    '',
    '| scenario | before CPU µs/request | after CPU µs/request | after / before | before req/s | after req/s | after / before |',
    '|---|---|---|---|---|---|---|',
  ]
  for (const [name, { before: b, after: a }] of results) {
    const cpu = [median(b.cpuUs), median(a.cpuUs)] as const
    const rps = [median(b.rps), median(a.rps)] as const
    lines.push(
      `| ${name} | ${cell(b.cpuUs)} | ${cell(a.cpuUs)} | ${(cpu[1] / cpu[0]).toFixed(2)} | ${cell(b.rps)} | ${cell(a.rps)} | ${(rps[1] / rps[0]).toFixed(2)} |`,
    )
  }
  const [bi, ai] = [imports.before, imports.after]
  if (bi.seconds.length) {
    lines.push(
      '',
      '| S7a import of 10k new models, one request | before | after | after / before |',
      '|---|---|---|---|',
      `| seconds | ${cell(bi.seconds, 2)} | ${cell(ai.seconds, 2)} | ${(median(ai.seconds) / median(bi.seconds)).toFixed(2)} |`,
      `| server CPU ms | ${cell(bi.cpuMs)} | ${cell(ai.cpuMs)} | ${(median(ai.cpuMs) / median(bi.cpuMs)).toFixed(2)} |`,
    )
  }
  const report = `${lines.join('\n')}\n`
  console.log(report)
  mkdirSync(`${ROOT}/bench/results`, { recursive: true })
  const file = out ?? `${ROOT}/bench/results/${new Date().toISOString().slice(0, 10)}-compare-${commitOf(before)}-${commitOf(ROOT)}.md`
  writeFileSync(file, report)
  console.log(`Results written to ${file}`)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
