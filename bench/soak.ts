/**
 * modelgate's soak profile: a real server process (`node dist/main.js`) and a fake provider, under
 * steady-rate mixed traffic for a while; it prints, per kind of request, the count, errors, p50/p99/max
 * latency, and the server's RSS at the start, at the end and its peak.
 *
 *   npm run bench:soak                          # quick: 25 s on SQLite at 40 requests/s (CI runs it)
 *   npm run bench:soak -- --minutes 10          # the long profile
 *   npm run bench:soak -- --db postgres --rate 80 --seconds 60
 *
 * The load is open-loop: request n is sent at n / rate seconds whatever the previous ones are doing, so
 * a slow server shows as latency, never as a lower rate. Fails (exit 1) on any 5xx, any other non-2xx,
 * any network error or cut stream: the error rate must be 0.
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freshPostgresSchema, PASSWORD, signUpAdmin, startServer, type ServerProcess } from '../test/durability/support.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BASE_MODEL = 'llama3.1:8b'
const SEED_PRESETS = 200
const PG_URL = process.env['BENCH_POSTGRES_URL'] ?? process.env['TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'

interface Options {
  seconds: number
  rate: number
  db: 'sqlite' | 'postgres'
  profile: string
}

function parseArgs(argv: string[]): Options {
  const value = (name: string) => {
    const index = argv.indexOf(name)
    return index >= 0 ? argv[index + 1] : undefined
  }
  const minutes = value('--minutes')
  const seconds = minutes !== undefined ? Number(minutes) * 60 : Number(value('--seconds') ?? 25)
  const db = value('--db') ?? 'sqlite'
  if (db !== 'sqlite' && db !== 'postgres') throw new Error(`--db must be sqlite or postgres, got "${db}"`)
  const rate = Number(value('--rate') ?? 40)
  if (!(seconds > 0) || !(rate > 0)) throw new Error('--seconds/--minutes and --rate must be positive numbers')
  return { seconds, rate, db, profile: minutes !== undefined ? `${minutes} min` : `${seconds} s` }
}

/** What one kind of request does; `weight` is its share of the traffic. */
interface Kind {
  name: string
  weight: number
  run(): Promise<void>
}

interface Stats {
  latencies: number[]
  errors: number
  fiveHundreds: number
  samples: string[]
}

class RequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message)
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2))
  const provider = spawn(process.execPath, ['--import', 'tsx', `${ROOT}/bench/provider.ts`], { stdio: ['ignore', 'pipe', 'inherit'] })
  const providerUrl = await new Promise<string>((resolve, reject) => {
    provider.stdout?.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()))
    provider.once('exit', (code) => reject(new Error(`fake provider exited with ${code}`)))
  })

  let cleanup: () => Promise<void>
  let env: Record<string, string>
  if (options.db === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'mg-soak-'))
    env = { DATA_DIR: dir }
    cleanup = () => Promise.resolve(rmSync(dir, { recursive: true, force: true }))
  } else {
    const schema = await freshPostgresSchema('mg_soak', PG_URL)
    env = { DATABASE_URL: schema.url }
    cleanup = () => schema.drop()
  }

  let server: ServerProcess | undefined
  const failures: string[] = []
  let report = ''
  try {
    server = await startServer(
      { ...env, OPENAI_API_BASE_URLS: `${providerUrl}/v1`, OPENAI_API_KEYS: '', LOG_LEVEL: 'warn', REDIS_URL: '' },
      { entry: 'dist', label: 'server' },
    )
    const s = server
    let serverExit = ''
    s.child.once('exit', (code, signal) => (serverExit = `the server exited (code ${code}, signal ${signal})`))

    // ─── Setup: an admin, a member of a group that may create presets, 200 presets shared with it ───
    const admin = (await signUpAdmin(s)).token
    const expectOk = async (what: string, answer: Promise<{ status: number; body: string }>) => {
      const res = await answer
      if (res.status !== 200) throw new Error(`setup: ${what}: ${res.status} ${res.body}`)
      return res
    }
    const added = await expectOk(
      'add user',
      s.request('POST', '/api/v1/auths/add', { token: admin, body: { name: 'Soak user', email: 'soak@example.com', password: PASSWORD, role: 'user' } }),
    )
    const userId = (JSON.parse(added.body) as { id: string }).id
    const group = await expectOk(
      'group',
      s.request('POST', '/api/v1/groups/create', { token: admin, body: { name: 'Soakers', permissions: { workspace: { models: true } }, user_ids: [userId] } }),
    )
    const groupId = (JSON.parse(group.body) as { id: string }).id
    // The provider model is admin-only until an admin registers it; users build their presets on it.
    await expectOk(
      'share base',
      s.request('POST', '/api/v1/models/model/access/update', {
        token: admin,
        body: { id: BASE_MODEL, access_grants: [{ principal_type: 'user', principal_id: '*', permission: 'read' }] },
      }),
    )
    const signin = await expectOk('sign-in', s.request('POST', '/api/v1/auths/signin', { body: { email: 'soak@example.com', password: PASSWORD } }))
    const user = (JSON.parse(signin.body) as { token: string }).token
    for (let i = 0; i < SEED_PRESETS; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, (_, j) =>
          expectOk(
            'seed',
            s.request('POST', '/api/v1/models/create', {
              token: admin,
              body: {
                id: `seed-${i + j}`,
                base_model_id: BASE_MODEL,
                name: `Seed preset ${i + j}`,
                meta: { description: 'soak seed', tags: [`t${(i + j) % 10}`] },
                params: { system: 'You are terse.', temperature: 0.3 },
                access_grants: [{ principal_type: 'group', principal_id: groupId, permission: 'read' }],
              },
            }),
          ),
        ),
      )
    }

    // The user's own presets, which updates and deletes work on (creates add more).
    for (let i = 0; i < 30; i++) {
      await expectOk(
        'own preset',
        s.request('POST', '/api/v1/models/create', {
          token: user,
          body: { id: `own-${i}`, base_model_id: BASE_MODEL, name: `Own ${i}`, meta: { tags: ['soak'] } },
        }),
      )
    }

    // ─── The traffic ───
    const call = async (method: string, path: string, token: string, body?: unknown) => {
      const res = await s.request(method, path, { token, ...(body !== undefined && { body }) })
      if (res.status < 200 || res.status > 299) throw new RequestError(`${method} ${path}: ${res.status} ${res.body.slice(0, 200)}`, res.status)
      return res
    }
    let sequence = 0
    /** The user's own presets that no request is using now (updates and deletes take one out while they run). */
    const idle: string[] = Array.from({ length: 30 }, (_, i) => `own-${i}`)
    const seed = (n: number) => `seed-${n % SEED_PRESETS}`
    const kinds: Kind[] = [
      { name: 'list (user)', weight: 20, run: async () => void (await call('GET', `/api/v1/models/list?page=${1 + (sequence % 3)}`, user)) },
      {
        name: 'list search (user)',
        weight: 5,
        run: async () => void (await call('GET', `/api/v1/models/list?query=preset%20${sequence % 50}&tag=t${sequence % 10}`, user)),
      },
      { name: 'get (user)', weight: 15, run: async () => void (await call('GET', `/api/v1/models/model?id=${seed(sequence * 7)}`, user)) },
      { name: 'GET /v1/models (user)', weight: 10, run: async () => void (await call('GET', '/v1/models', user)) },
      { name: 'GET /api/models (admin)', weight: 5, run: async () => void (await call('GET', '/api/models', admin)) },
      {
        name: 'create (user)',
        weight: 6,
        run: async () => {
          const id = `soak-${sequence}-${Math.random().toString(36).slice(2, 8)}`
          await call('POST', '/api/v1/models/create', user, {
            id,
            base_model_id: BASE_MODEL,
            name: `Soak ${id}`,
            meta: { tags: ['soak'] },
            params: { temperature: 0.5 },
          })
          idle.push(id)
        },
      },
      {
        name: 'update (user)',
        weight: 8,
        run: async () => {
          const id = idle.shift()
          if (!id) return void (await call('GET', `/api/v1/models/model?id=${seed(sequence)}`, user))
          try {
            await call('POST', `/api/v1/models/model/update?id=${encodeURIComponent(id)}`, user, {
              id,
              name: `Soak ${id} #${sequence}`,
              params: { temperature: (sequence % 10) / 10 },
            })
          } finally {
            idle.push(id)
          }
        },
      },
      {
        name: 'delete (user)',
        weight: 6,
        run: async () => {
          // As many deletes as creates: the data set keeps its size, so memory growth is not data growth.
          // The oldest idle preset goes; the pool (30 at the start) never drops below 20.
          const id = idle.length > 20 ? idle.shift() : undefined
          if (!id) return void (await call('GET', `/api/v1/models/model?id=${seed(sequence + 3)}`, user))
          await call('POST', '/api/v1/models/model/delete', user, { id })
        },
      },
      {
        name: 'chat (user)',
        weight: 15,
        run: async () => {
          const res = await call('POST', '/v1/chat/completions', user, {
            model: seed(sequence * 13),
            messages: [{ role: 'user', content: `hello ${sequence}` }],
          })
          if (!res.body.includes('"choices"')) throw new RequestError(`chat without choices: ${res.body.slice(0, 200)}`, 200)
        },
      },
      {
        name: 'chat stream (user)',
        weight: 10,
        run: async () => {
          const res = await call('POST', '/v1/chat/completions', user, {
            model: seed(sequence * 17),
            stream: true,
            messages: [{ role: 'user', content: `stream ${sequence}` }],
          })
          if (!res.body.includes('data: [DONE]') || res.body.includes('"error"')) {
            throw new RequestError(`stream did not end cleanly: ${res.body.slice(-200)}`, 200)
          }
        },
      },
    ]
    const stats = new Map<string, Stats>(kinds.map((k) => [k.name, { latencies: [], errors: 0, fiveHundreds: 0, samples: [] }]))
    const totalWeight = kinds.reduce((sum, k) => sum + k.weight, 0)
    // A fixed, interleaved schedule of kinds (deterministic: the same mix every run).
    const schedule: Kind[] = []
    for (const kind of kinds) for (let i = 0; i < kind.weight; i++) schedule.push(kind)
    for (let i = schedule.length - 1; i > 0; i--) {
      const j = (i * 7919) % (i + 1)
      ;[schedule[i], schedule[j]] = [schedule[j] as Kind, schedule[i] as Kind]
    }

    // Warm-up (caches, JIT, provider lists), then the RSS baseline.
    for (const kind of kinds) await kind.run().catch(() => undefined)
    await new Promise((resolve) => setTimeout(resolve, 500))
    const rssStart = s.rssMb()
    let rssPeak = rssStart
    const rssSamples: number[] = [rssStart]

    const started = performance.now()
    const total = Math.round(options.seconds * options.rate)
    let inFlight = 0
    let maxInFlight = 0
    const pending = new Set<Promise<void>>()
    /** Latencies by 10-second window of sending: shows whether latency drifts or stalls come and go. */
    const windows: number[][] = []
    const windowText = (w: number[] | undefined) => {
      const sorted = [...(w ?? [])].sort((x, y) => x - y)
      return `p99 ${percentile(sorted, 99).toFixed(0)} / max ${(sorted.at(-1) ?? Number.NaN).toFixed(0)} ms`
    }
    let lastReport = started
    console.log(
      `soak: ${options.db}, ${options.profile} at ${options.rate} requests/s (${total} requests), ${kinds.length} kinds (${totalWeight} weight units)`,
    )
    for (let n = 0; n < total; n++) {
      const due = started + (n * 1000) / options.rate
      const wait = due - performance.now()
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
      if (serverExit) break
      const kind = schedule[n % schedule.length] as Kind
      const stat = stats.get(kind.name) as Stats
      sequence = n
      inFlight += 1
      maxInFlight = Math.max(maxInFlight, inFlight)
      const t0 = performance.now()
      const window = windows[Math.floor((t0 - started) / 10_000)] ?? (windows[Math.floor((t0 - started) / 10_000)] = [])
      const request = kind
        .run()
        .then(
          () => {
            stat.latencies.push(performance.now() - t0)
            window.push(performance.now() - t0)
          },
          (error: unknown) => {
            stat.latencies.push(performance.now() - t0)
            window.push(performance.now() - t0)
            stat.errors += 1
            if (error instanceof RequestError && error.status >= 500) stat.fiveHundreds += 1
            if (stat.samples.length < 3) stat.samples.push((error as Error).message)
          },
        )
        .finally(() => {
          inFlight -= 1
          pending.delete(request)
        })
      pending.add(request)
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now()
        const rss = s.rssMb()
        rssSamples.push(rss)
        rssPeak = Math.max(rssPeak, rss)
        const previous = windows[Math.floor((lastReport - started) / 10_000) - 1]
        console.log(
          `  ${Math.round((lastReport - started) / 1000)} s: ${n + 1} requests sent, ${inFlight} in flight, RSS ${rss} MB; previous 10 s: ${windowText(previous)}`,
        )
      }
      if (n % 50 === 0) rssPeak = Math.max(rssPeak, s.rssMb())
    }
    await Promise.all(pending)
    const elapsed = (performance.now() - started) / 1000
    const rssEnd = s.rssMb()
    rssPeak = Math.max(rssPeak, rssEnd)
    if (serverExit) failures.push(serverExit)

    // ─── The table ───
    const fmt = (v: number) => (Number.isNaN(v) ? '–' : v.toFixed(1))
    const lines = ['| kind | requests | errors | 5xx | error rate | p50 ms | p99 ms | max ms |', '|---|---|---|---|---|---|---|---|']
    const all: number[] = []
    let requests = 0
    let errors = 0
    let fiveHundreds = 0
    for (const kind of kinds) {
      const stat = stats.get(kind.name) as Stats
      const sorted = [...stat.latencies].sort((x, y) => x - y)
      all.push(...sorted)
      requests += sorted.length
      errors += stat.errors
      fiveHundreds += stat.fiveHundreds
      lines.push(
        `| ${kind.name} | ${sorted.length} | ${stat.errors} | ${stat.fiveHundreds} | ${sorted.length ? ((100 * stat.errors) / sorted.length).toFixed(2) : '0.00'}% | ${fmt(percentile(sorted, 50))} | ${fmt(percentile(sorted, 99))} | ${fmt(sorted.at(-1) ?? Number.NaN)} |`,
      )
      for (const sample of stat.samples) failures.push(`${kind.name}: ${sample}`)
    }
    all.sort((x, y) => x - y)
    lines.push(
      `| **all** | ${requests} | ${errors} | ${fiveHundreds} | ${requests ? ((100 * errors) / requests).toFixed(2) : '0.00'}% | ${fmt(percentile(all, 50))} | ${fmt(percentile(all, 99))} | ${fmt(all.at(-1) ?? Number.NaN)} |`,
    )
    const growth = rssEnd - rssStart
    const summary = [
      `- achieved rate: ${(requests / elapsed).toFixed(1)} requests/s over ${elapsed.toFixed(1)} s (target ${options.rate}); at most ${maxInFlight} in flight`,
      `- server RSS: ${rssStart} MB at the start (after set-up and warm-up), ${rssEnd} MB at the end, peak ${rssPeak} MB; growth ${growth.toFixed(1)} MB (${((100 * growth) / (rssStart || 1)).toFixed(0)}%)`,
      `- RSS every 10 s: ${rssSamples.join(', ')} MB`,
      `- p99 / max latency by 10 s window: ${windows.map((w) => windowText(w).replace('p99 ', '').replace(' / max', ' /').replace(' ms', '')).join(', ')} ms`,
    ]
    if (errors > 0) failures.unshift(`${errors} error(s), ${fiveHundreds} of them 5xx`)
    if (requests < total) failures.push(`only ${requests} of ${total} requests ran`)

    const commit = (() => {
      try {
        const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
        const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim() !== ''
        return dirty ? `${head} + uncommitted changes` : head
      } catch {
        return 'unknown'
      }
    })()
    const machine = `${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`
    report =
      `# modelgate soak\n\n- date: ${new Date().toISOString()}\n- commit: ${commit}\n- machine: ${machine}\n` +
      `- command: \`npm run bench:soak -- ${process.argv.slice(2).join(' ')}\` (${options.db}, ${options.profile} at ${options.rate} requests/s, ${SEED_PRESETS} seed presets)\n\n` +
      `${lines.join('\n')}\n\n${summary.join('\n')}\n`
    console.log(`\n${lines.join('\n')}\n\n${summary.join('\n')}`)
  } catch (error) {
    failures.push((error as Error).message)
    console.error(error)
  } finally {
    await server?.stop()
    provider.kill('SIGTERM')
    await cleanup().catch(() => undefined)
  }
  if (report) {
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true })
    const file = join(ROOT, 'bench', 'results', `${new Date().toISOString().slice(0, 10)}-soak-${options.profile.replace(' ', '')}-${options.db}.md`)
    writeFileSync(file, report + (failures.length ? `\n## Failures\n\n${failures.map((f) => `- ${f}`).join('\n')}\n` : ''))
    console.log(`\nResults written to ${file}`)
  }
  if (failures.length > 0) {
    console.error(`\nsoak FAILED:\n${failures.join('\n')}`)
    process.exitCode = 1
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
