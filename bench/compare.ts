/**
 * A/B of two builds on the warm read scenarios (S1–S5, S8) and the writes (S6), interleaved:
 *
 *   npm run bench:compare -- --before /path/to/other/checkout [--rounds 3] [--seconds 3]
 *
 * "Not worse than before" cannot be read off two `npm run bench` runs minutes apart on a shared machine
 * (the ceiling itself moved by 25% between two such runs). This runner generates one SQLite dataset,
 * starts the `before` build and this checkout's build side by side on copies of it, with the same fake
 * provider, and loads them with the same autocannon scenarios taking turns. It prints the median of
 * each side's CPU time per request (the server's own, read from /proc: what the build costs, whatever else
 * the machine does) and requests/s, and their ratios. `--before` is a checkout of the older commit with
 * `dist/main.js` built (`git worktree add /tmp/before <commit> && cd /tmp/before && ln -s
 * $PWD/node_modules && npx tsc -p tsconfig.build.json`); both builds must read the same schema.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { TokenSigner } from '../src/auth/tokens.js'
import { createDatabase } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrator.js'
import { generateDataset } from './dataset.js'
import { freePort } from '../test/support/timing.js'
import { load, median, waitReady, BENCH_SECRET } from './load.js'

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

async function main(): Promise<void> {
  const before = option('--before')
  if (!before || !existsSync(`${before}/dist/main.js`)) throw new Error('--before <checkout with dist/main.js built> is required')
  const rounds = Number(option('--rounds') ?? 3)
  const seconds = Number(option('--seconds') ?? 3)
  const size = Number(option('--size') ?? 10_000)
  const builds = { before, after: ROOT }

  const dir = '/tmp/modelgate-bench-compare'
  mkdirSync(dir, { recursive: true })
  const master = `${dir}/master.db`
  for (const suffix of ['', '-wal', '-shm']) rmSync(master + suffix, { force: true })
  const database = createDatabase({ dialect: 'sqlite', path: master })
  await migrateToLatest(database)
  const data = await generateDataset(database.db, { models: size })
  await database.close()

  const provider = spawn(process.execPath, ['--import', 'tsx', `${ROOT}/bench/provider.ts`], { stdio: ['ignore', 'pipe', 'inherit'] })
  const providerUrl = await new Promise<string>((resolve, reject) => {
    provider.stdout?.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()))
    provider.once('exit', (code) => reject(new Error(`fake provider exited with ${code}`)))
  })
  const signer = new TokenSigner(BENCH_SECRET, 3_600_000)
  const bearer = async (userId: string) => ({ authorization: `Bearer ${(await signer.sign(userId)).token}` })
  const [admin, dense, sparse, user1k] = await Promise.all([data.adminId, data.denseUserId, data.sparseUserId, data.user1kId].map(bearer))
  if (!admin || !dense || !sparse || !user1k) throw new Error('tokens')

  const results = new Map<string, Record<Side, { rps: number[]; cpuUs: number[] }>>()
  const servers: ChildProcess[] = []
  try {
    // Both builds run side by side and take turns scenario by scenario (the order swapped every
    // round), so a noisy minute on the machine falls on both rather than on one side's whole run.
    const bases: Record<Side, string> = { before: '', after: '' }
    const pids: Record<Side, number> = { before: 0, after: 0 }
    for (const side of ['before', 'after'] as const) {
      const path = `${dir}/${side}.db`
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true })
      copyFileSync(master, path)
      const port = await freePort()
      bases[side] = `http://127.0.0.1:${port}`
      const server = spawn(process.execPath, [`${builds[side]}/dist/main.js`], {
        env: {
          ...process.env,
          PORT: String(port),
          HOST: '127.0.0.1',
          DATABASE_URL: `sqlite://${path}`,
          WEBUI_SECRET_KEY: BENCH_SECRET,
          LOG_LEVEL: 'warn',
          BENCH_ROUTES: 'true',
          MODELS_CACHE_TTL: '3600',
          OPENAI_API_BASE_URLS: `${providerUrl}/v1`,
          OPENAI_API_KEYS: '',
          REDIS_URL: '',
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      })
      servers.push(server)
      pids[side] = server.pid ?? 0
      await waitReady(bases[side], server)
      await fetch(`${bases[side]}/api/models/base`, { headers: admin })
    }
    const scenarios: [string, string, Record<string, string>][] = [
      ['S1 list, admin', '/api/v1/models/list', admin],
      ['S2 list, user reading ~90%', '/api/v1/models/list', dense],
      ['S3 list, user reading ~10', '/api/v1/models/list', sparse],
      ['S4 list, query + tag', `/api/v1/models/list?query=${data.query}&tag=${data.tag}`, dense],
      ['S5 GET /model', '/api/v1/models/model?id=m0000001', dense],
      ['S8 GET /v1/models, user reading 1k', '/v1/models', user1k],
    ]
    for (let round = 1; round <= rounds; round++) {
      const order: Side[] = round % 2 ? ['before', 'after'] : ['after', 'before']
      for (const [name, path, headers] of scenarios) {
        for (const side of order) {
          const cpuBefore = cpuMicros(pids[side])
          const result = load(bases[side] + path, { connections: 32, seconds, headers })
          const cpuUs = (cpuMicros(pids[side]) - cpuBefore) / result.requests
          if (result.non2xx || result.errors) throw new Error(`${side} ${name}: ${result.non2xx} non-2xx, ${result.errors} errors`)
          const entry = results.get(name) ?? { before: { rps: [], cpuUs: [] }, after: { rps: [], cpuUs: [] } }
          entry[side].rps.push(result.rps)
          entry[side].cpuUs.push(cpuUs)
          results.set(name, entry)
        }
      }
      console.error(`round ${round}/${rounds} done`)
    }
  } finally {
    for (const server of servers) server.kill('SIGTERM')
    provider.kill('SIGTERM')
  }

  const lines = [
    `# A/B: ${commitOf(before)} (before) vs ${commitOf(ROOT)} (after), on ${new Date().toISOString()}, SQLite ${size.toLocaleString('en-US')} models, ${rounds} rounds × ${seconds} s, c=32`,
    '',
    'CPU µs per request: the server process’s user + system CPU time over a scenario divided by the requests it answered (autocannon runs in',
    'its own process). It is what the build costs; requests/s also moves with whatever else the machine is doing.',
    '',
    '| scenario | before CPU µs/request (median) | after CPU µs/request (median) | after / before | before req/s (median) | after req/s (median) | after / before |',
    '|---|---|---|---|---|---|---|',
  ]
  for (const [name, { before: b, after: a }] of results) {
    const cpu = [median(b.cpuUs), median(a.cpuUs)] as const
    const rps = [median(b.rps), median(a.rps)] as const
    lines.push(
      `| ${name} | ${cpu[0].toFixed(0)} | ${cpu[1].toFixed(0)} | ${(cpu[1] / cpu[0]).toFixed(2)} | ${rps[0].toFixed(0)} | ${rps[1].toFixed(0)} | ${(rps[1] / rps[0]).toFixed(2)} |`,
    )
  }
  const report = `${lines.join('\n')}\n`
  console.log(report)
  mkdirSync(`${ROOT}/bench/results`, { recursive: true })
  const file = `${ROOT}/bench/results/${new Date().toISOString().slice(0, 10)}-compare-${commitOf(before)}-${commitOf(ROOT)}.md`
  writeFileSync(file, report)
  console.log(`Results written to ${file}`)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
