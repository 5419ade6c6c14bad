/**
 * A day of gateway traffic for the Analytics page (issue #17; docs/analytics.md, "A day of benchmark
 * traffic"): the fake provider (bench/provider.ts: five base models, one flaky, each with a speed of its
 * own, usage counted from the request) and a built modelgate on SQLite in a temp DATA_DIR (usage recording
 * on); an admin creates ten accounts in three groups (and one in none), five presets shared with the groups
 * (one public) and grants on two base models; then a seeded day of `/v1/chat/completions` calls, hour after
 * hour, more in the (UTC) afternoon than at night: presets and base models, JSON and streamed (asking for
 * usage), some failing (the flaky models answer 500, the gateway 502). It waits for the usage batches,
 * spreads the rows' times over the last 24 hours (below), reads `/api/v1/analytics/*`, prints a markdown
 * table, checks that the analytics count exactly the calls it made (calls, errors, tokens, per model,
 * user and hour; exit 1 when they differ) and photographs `/workspace/analytics` (last 24 hours) in
 * Chromium at 1280 and 390 px.
 *
 *   npm run bench:analytics                                      # tsc, then this (web/dist built when missing or stale)
 *   DIST=/tmp/mg/dist npx tsx bench/analytics-day.ts [--requests 3000] [--concurrency 16] [--seed 17] [--no-spread]
 *
 * The calls take a minute or so of real time, so their recorded times would all fall in one hour. With the
 * default spread, the rows of simulated hour h (their order in the table is the order the calls ended, and
 * the hours are sent one after the other) get times in that hour of the last 24, by an UPDATE on the
 * SQLite file after the last batch is written; `--no-spread` keeps the real times. Everything else
 * (counts, tokens, latency, errors) is what the gateway recorded. A DIST outside the checkout needs the web
 * build next to it (`<DIST>/../web/dist`, e.g. a symlink to web/dist) for the screenshots.
 *
 * Writes bench/results/<date>-analytics-day.md, bench/results/analytics-day-desktop.png and
 * bench/results/analytics-day-phone.png (overwritten each run).
 */
import { execFileSync } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { chromium } from 'playwright-core'
import { Agent, request } from 'undici'
import { callJson, startBenchScript, startSqliteServer } from './processes.js'

const started = performance.now()
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DIST = process.env['DIST'] ?? join(ROOT, 'dist')
const RESULTS = join(ROOT, 'bench', 'results')
const CHROMIUM = '/usr/bin/chromium'
const option = (name: string) => {
  const index = process.argv.indexOf(name)
  return index >= 0 ? process.argv[index + 1] : undefined
}
const TOTAL = Number(option('--requests') ?? 3000)
const CONCURRENCY = Number(option('--concurrency') ?? 16)
const SEED = Number(option('--seed') ?? 17)
const SPREAD = !process.argv.includes('--no-spread')
const PASSWORD = 'bench-password-123'

// ── The day's cast ──────────────────────────────────────────────────────────────────────────────────────
/** The provider's models: ms per completion token (a 70B model is slower), and the flaky ones' failure period. */
const PROVIDER = {
  models: ['llama3.1:8b', 'qwen2.5:7b', 'mistral:7b', 'gemma2:9b', 'llama3.3:70b'],
  chunks: 3,
  countTokens: true,
  msPerToken: { 'llama3.1:8b': 0.04, 'qwen2.5:7b': 0.05, 'mistral:7b': 0.04, 'gemma2:9b': 0.06, 'llama3.3:70b': 0.15 },
  // gemma2:9b fails one call in 9 (a bad replica), llama3.3:70b one in 40 (overloaded now and then).
  failEvery: { 'gemma2:9b': 9, 'llama3.3:70b': 40 },
}
const GROUPS = ['Support', 'Engineering', 'Research'] as const
type Group = (typeof GROUPS)[number]
/** Presets: base model, params, who may read them (groups, or everyone). */
const PRESETS = [
  {
    id: 'support-bot',
    base: 'llama3.1:8b',
    groups: ['Support'],
    params: { system: 'You answer customer questions politely.', temperature: 0.3, max_tokens: 250 },
  },
  { id: 'code-helper', base: 'qwen2.5:7b', groups: ['Engineering'], params: { system: 'You are a senior engineer.', temperature: 0.2 } },
  { id: 'summarizer', base: 'mistral:7b', groups: '*', params: { system: 'Summarize the text.', max_tokens: 200 } },
  { id: 'research-assistant', base: 'llama3.3:70b', groups: ['Research'], params: { system: 'Cite your sources.', temperature: 0.7 } },
  { id: 'translator', base: 'gemma2:9b', groups: ['Support', 'Research'], params: { system: 'Translate faithfully.' } },
] as const
/**
 * Grants on base models (override rows): Engineering calls both directly. Support is granted llama3.1:8b
 * too, because a registered base must be readable by whoever calls a preset on it (support-bot;
 * docs/access-control.md, "Base models").
 */
const DIRECT: Record<string, Group[]> = { 'llama3.1:8b': ['Engineering', 'Support'], 'qwen2.5:7b': ['Engineering'] }
/** What each group calls, by weight; the output lengths its work asks for (max_tokens: median, spread). */
const HABITS: Record<Group | 'none' | 'admin', { models: [string, number][]; tokens: [number, number] }> = {
  Support: {
    models: [
      ['support-bot', 6],
      ['translator', 2],
      ['summarizer', 2],
    ],
    tokens: [180, 0.5],
  },
  Engineering: {
    models: [
      ['code-helper', 6],
      ['qwen2.5:7b', 2],
      ['llama3.1:8b', 1],
      ['summarizer', 1],
    ],
    tokens: [400, 0.8],
  },
  Research: {
    models: [
      ['research-assistant', 5],
      ['summarizer', 2],
      ['translator', 1],
    ],
    tokens: [700, 0.7],
  },
  none: { models: [['summarizer', 1]], tokens: [150, 0.4] },
  admin: {
    models: [
      ['research-assistant', 1],
      ['llama3.1:8b', 1],
    ],
    tokens: [300, 0.6],
  },
}
/** Accounts: name, group, how busy (relative calls per hour). */
const PEOPLE: { name: string; group: Group | 'none'; weight: number }[] = [
  { name: 'Ella Engineer', group: 'Engineering', weight: 5 },
  { name: 'Kenji Tanaka', group: 'Engineering', weight: 3 },
  { name: 'Priya Raman', group: 'Engineering', weight: 1.5 },
  { name: 'Marco Rossi', group: 'Support', weight: 4 },
  { name: 'Lena Vogel', group: 'Support', weight: 2 },
  { name: 'Tom Baker', group: 'Support', weight: 1 },
  { name: 'Noor Haddad', group: 'Research', weight: 3 },
  { name: 'Felix Wong', group: 'Research', weight: 1.2 },
  { name: 'Chris Contractor', group: 'none', weight: 0.6 },
]
const ADMIN = { name: 'Ada Admin', email: 'ada@example.com', weight: 0.4 }
const STREAM_SHARE = 0.45
const WORDS = 'the gateway model answer please explain why this query returns nothing and how to fix it in production today'.split(' ')

/** A seeded generator (mulberry32): the same day on every run with the same --seed. */
function rng(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const random = rng(SEED)
const pick = <T>(items: readonly [T, number][]): T => {
  let r = random() * items.reduce((sum, [, w]) => sum + w, 0)
  for (const [item, w] of items) if ((r -= w) < 0) return item
  return items[items.length - 1]?.[0] as T
}
const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
const text = (words: number) => Array.from({ length: words }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ')

// ── Builds ──────────────────────────────────────────────────────────────────────────────────────────────
function newest(path: string): number {
  if (!existsSync(path)) return 0
  const stat = statSync(path)
  return stat.isDirectory() ? Math.max(stat.mtimeMs, ...readdirSync(path).map((entry) => newest(join(path, entry)))) : stat.mtimeMs
}
if (!existsSync(join(DIST, 'main.js'))) throw new Error(`${DIST}/main.js is missing: npx tsc -p tsconfig.build.json (or npm run bench:analytics)`)
const webIndex = join(DIST, '..', 'web', 'dist', 'index.html')
if (DIST === join(ROOT, 'dist')) {
  const sources = Math.max(newest(join(ROOT, 'web', 'src')), newest(join(ROOT, 'web', 'index.html')), newest(join(ROOT, 'sdk', 'src')))
  if (!existsSync(webIndex) || sources > statSync(webIndex).mtimeMs) {
    console.log('web/dist is missing or older than web/src: vite build …')
    // NODE_ENV=production: React's production build, as `npm run build` makes it.
    execFileSync('npx', ['vite', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, NODE_ENV: 'production' },
    })
  }
} else if (!existsSync(webIndex)) {
  throw new Error(`${webIndex} is missing: the server serves the web app from there (ln -s ${ROOT}web ${join(DIST, '..', 'web')}, after npm run build)`)
}

// ── Processes ───────────────────────────────────────────────────────────────────────────────────────────
const provider = await startBenchScript('provider.ts', JSON.stringify(PROVIDER))
const {
  child: server,
  base,
  dataDir,
} = await startSqliteServer(DIST, provider.url, {
  env: { USAGE_ANALYTICS: 'true' },
  stdio: ['ignore', 'pipe', 'pipe'],
})
// The server's warnings (a line per failed provider call) go to a file, not the table.
const serverLog = join(dataDir, 'server.log')
const logStream = createWriteStream(serverLog)
server.stdout?.pipe(logStream)
server.stderr?.pipe(logStream)

interface Call {
  hour: number
  user: string
  model: string
  stream: boolean
  status: number
  tokens: number
  problem?: string
}

interface ModelRow {
  model_id: string
  base_model_id: string | null
  count: number
  errors: number
  error_rate: number
  input_tokens: number
  output_tokens: number
  total_tokens: number
  latency_p50_ms: number | null
  latency_p95_ms: number | null
  first_chunk_p50_ms: number | null
}

let failed = false
try {
  // ── Set-up: accounts, groups, presets, grants, API keys ─────────────────────────────────────────────
  const session = await callJson(`${base}/api/v1/auths/signup`, { body: { ...ADMIN, password: PASSWORD } })
  const jwt = { authorization: `Bearer ${String(session['token'])}` }
  await callJson(`${base}/api/models/base`, { headers: jwt })
  const accounts: { id: string; name: string; group: Group | 'none' | 'admin'; weight: number; key: string }[] = []
  const adminKey = String((await callJson(`${base}/api/v1/auths/api_key`, { method: 'POST', headers: jwt }))['api_key'])
  accounts.push({ id: String(session['id']), name: ADMIN.name, group: 'admin', weight: ADMIN.weight, key: adminKey })
  for (const person of PEOPLE) {
    const email = `${person.name.split(' ')[0]?.toLowerCase()}@example.com`
    const added = await callJson(`${base}/api/v1/auths/add`, { headers: jwt, body: { name: person.name, email, password: PASSWORD, role: 'user' } })
    const signedIn = await callJson(`${base}/api/v1/auths/signin`, { body: { email, password: PASSWORD } })
    const key = await callJson(`${base}/api/v1/auths/api_key`, { method: 'POST', headers: { authorization: `Bearer ${String(signedIn['token'])}` } })
    accounts.push({ id: String(added['id']), name: person.name, group: person.group, weight: person.weight, key: String(key['api_key']) })
  }
  const groupIds = new Map<Group, string>()
  for (const group of GROUPS) {
    const members = accounts.filter((a) => a.group === group).map((a) => a.id)
    const created = await callJson(`${base}/api/v1/groups/create`, { headers: jwt, body: { name: group, description: `${group} team`, user_ids: members } })
    groupIds.set(group, String(created['id']))
  }
  const grantsFor = (groups: readonly Group[] | '*') =>
    groups === '*'
      ? [{ principal_type: 'user', principal_id: '*', permission: 'read' }]
      : groups.map((g) => ({ principal_type: 'group', principal_id: groupIds.get(g), permission: 'read' }))
  for (const preset of PRESETS) {
    await callJson(`${base}/api/v1/models/create`, {
      headers: jwt,
      body: {
        id: preset.id,
        base_model_id: preset.base,
        name: preset.id,
        params: preset.params,
        meta: { description: `${preset.id} (bench)` },
        access_grants: grantsFor(preset.groups),
      },
    })
  }
  for (const [model, groups] of Object.entries(DIRECT)) {
    await callJson(`${base}/api/v1/models/model/access/update`, { headers: jwt, body: { id: model, access_grants: grantsFor(groups) } })
  }

  // ── The day: 24 hours, sent one after the other, each at CONCURRENCY ─────────────────────────────────
  // Calls per UTC hour of day: a night floor and an afternoon peak (14:00 UTC).
  const lastHours = (now: number) => Array.from({ length: 24 }, (_, h) => Math.floor(now / 3600) * 3600 - (23 - h) * 3600)
  const shape = lastHours(Date.now() / 1000).map((start) => 0.08 + Math.exp(-((((start / 3600) % 24) - 14) ** 2) / (2 * 3.2 ** 2)))
  const scale = TOTAL / shape.reduce((a, b) => a + b, 0)
  const perHour = shape.map((s) => Math.round(s * scale))
  const dispatcher = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 60_000 })
  const calls: Call[] = []

  async function oneCall(hour: number): Promise<void> {
    const account = pick(accounts.map((a) => [a, a.weight] as [typeof a, number]))
    const habit = HABITS[account.group]
    const model = pick(habit.models)
    const stream = random() < STREAM_SHARE
    const turns = 1 + Math.floor(random() * random() * 6)
    const messages = Array.from({ length: turns * 2 - 1 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: text(8 + Math.floor(random() * 120)) }))
    const maxTokens = Math.max(16, Math.min(4000, Math.round(habit.tokens[0] * Math.exp(habit.tokens[1] * gauss()))))
    const body = { model, messages, max_tokens: maxTokens, ...(stream && { stream: true, stream_options: { include_usage: true } }) }
    const call: Call = { hour, user: account.id, model, stream, status: 0, tokens: 0 }
    calls.push(call)
    try {
      const res = await request(`${base}/v1/chat/completions`, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${account.key}` },
        body: JSON.stringify(body),
      })
      const answer = await res.body.text()
      call.status = res.statusCode
      if (res.statusCode !== 200) {
        if (res.statusCode !== 502) call.problem = `HTTP ${res.statusCode}: ${answer.slice(0, 200)}`
        return
      }
      if (!stream) {
        call.tokens = (JSON.parse(answer) as { usage?: { total_tokens?: number } }).usage?.total_tokens ?? 0
        return
      }
      // The usage chunk we asked for (stream_options.include_usage), then [DONE].
      for (const line of answer.split('\n')) {
        if (!line.startsWith('data: {')) continue
        const usage = (JSON.parse(line.slice(6)) as { usage?: { total_tokens?: number } | null }).usage
        if (usage) call.tokens = usage.total_tokens ?? 0
      }
      if (!answer.trimEnd().endsWith('data: [DONE]')) call.problem = 'stream did not end with [DONE]'
    } catch (error) {
      call.problem = `network: ${(error as Error).message}`
    }
  }

  const trafficStart = performance.now()
  for (const [hour, count] of perHour.entries()) {
    let next = 0
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, count) }, async () => {
        while (next++ < count) await oneCall(hour)
      }),
    )
  }
  const trafficSeconds = (performance.now() - trafficStart) / 1000
  await dispatcher.close()
  const sent = calls.length
  const errors = calls.filter((c) => c.status !== 200).length
  const problems = calls.filter((c) => c.problem)
  const tokens = calls.reduce((sum, c) => sum + c.tokens, 0)
  console.log(`${sent} calls in ${trafficSeconds.toFixed(1)} s (${(sent / trafficSeconds).toFixed(0)}/s at c=${CONCURRENCY}), ${errors} failed (502)`)
  if (problems.length > 0) console.log(`unexpected answers: ${problems.length}, e.g. ${problems[0]?.problem}`)

  // ── Wait for the usage batches (written every second, docs/analytics.md) ──────────────────────────────
  const get = (path: string) => callJson(`${base}/api/v1/analytics/${path}`, { headers: jwt })
  const deadline = Date.now() + 20_000
  let summary = await get('summary')
  while (Number(summary['total_messages']) < sent && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250))
    summary = await get('summary')
  }

  // ── Spread the rows over the last 24 hours: hour h's calls ended before hour h+1's began ────────────
  const nowSeconds = Math.floor(Date.now() / 1000)
  const slots = lastHours(nowSeconds)
  if (SPREAD && Number(summary['total_messages']) === sent) {
    const db = new Database(join(dataDir, 'db.sqlite'))
    db.pragma('busy_timeout = 5000')
    const rowids = (db.prepare('SELECT rowid AS id FROM usage_events ORDER BY rowid').all() as { id: number }[]).map((r) => r.id)
    const update = db.prepare('UPDATE usage_events SET created_at = ? WHERE rowid = ?')
    db.transaction(() => {
      let row = 0
      for (const [hour, count] of perHour.entries()) {
        // The first hour starts 5 minutes late and the last ends now: every row stays inside the page's "last 24 hours".
        const from = Math.max(slots[hour] ?? 0, nowSeconds - 86_400 + 300)
        const span = Math.min((slots[hour] ?? 0) + 3600, nowSeconds) - from
        for (let i = 0; i < count; i++) update.run(from + Math.floor(((i + random()) / count) * span), rowids[row++])
      }
    })()
    db.close()
    summary = await get('summary')
  }

  // ── What the analytics say ──────────────────────────────────────────────────────────────────────────
  const range = `start_date=${nowSeconds + 60 - 86_400}&end_date=${nowSeconds + 60}`
  const models = (await get('models')) as unknown as { models: ModelRow[] }
  const users = (await get('users?limit=50')) as unknown as {
    users: { user_id: string; name: string; count: number; total_tokens: number; models: { model_id: string; count: number }[] }[]
  }
  const groups = (await get('groups')) as unknown as { groups: { name: string; count: number; unique_users: number; total_tokens: number }[] }
  const hourly = (await get(`daily?granularity=hourly&${range}`)) as unknown as {
    data: { date: string; models: Record<string, number>; errors: Record<string, number> }[]
  }
  const tokenRoute = await get('tokens')

  const n = (value: unknown) => Number(value).toLocaleString('en-US')
  const pct = (value: number) => `${(value * 100).toFixed(1)}%`
  const msText = (value: unknown) => (value === null ? '–' : `${Math.round(Number(value))}`)
  const lines: string[] = []
  const out = (line = '') => lines.push(line)
  out('| calls | errors | error rate | tokens in / out | total tokens | p50 ms | p95 ms | models / users |')
  out('|---|---|---|---|---|---|---|---|')
  out(
    `| ${n(summary['total_messages'])} | ${n(summary['total_errors'])} | ${pct(Number(summary['error_rate']))} | ${n(summary['input_tokens'])} / ${n(summary['output_tokens'])} | ` +
      `${n(summary['total_tokens'])} | ${msText(summary['latency_p50_ms'])} | ${msText(summary['latency_p95_ms'])} | ${n(summary['total_models'])} / ${n(summary['total_users'])} |`,
  )
  out()
  out('| model | base model | calls | errors | error rate | tokens | p50 ms | p95 ms | first chunk p50 ms |')
  out('|---|---|---|---|---|---|---|---|---|')
  for (const m of models.models) {
    out(
      `| ${m.model_id} | ${m.base_model_id ?? '–'} | ${n(m.count)} | ${n(m.errors)} | ${pct(m.error_rate)} | ${n(m.total_tokens)} | ` +
        `${msText(m.latency_p50_ms)} | ${msText(m.latency_p95_ms)} | ${msText(m.first_chunk_p50_ms)} |`,
    )
  }
  out()
  out('| top users | group | calls | tokens | busiest model |')
  out('|---|---|---|---|---|')
  for (const u of users.users.slice(0, 10)) {
    const group = accounts.find((a) => a.id === u.user_id)?.group ?? '?'
    out(`| ${u.name} | ${group} | ${n(u.count)} | ${n(u.total_tokens)} | ${[...u.models].sort((a, b) => b.count - a.count)[0]?.model_id ?? '–'} |`)
  }
  out()
  out('| group | calls | users | tokens |')
  out('|---|---|---|---|')
  for (const g of groups.groups) out(`| ${g.name} | ${n(g.count)} | ${n(g.unique_users)} | ${n(g.total_tokens)} |`)
  out()
  const hourCalls = (entry: { models: Record<string, number> }) => Object.values(entry.models).reduce((a, b) => a + b, 0)
  out(`Calls per hour (UTC, last 24 hours): ${hourly.data.map((d) => `${d.date.slice(11, 13)}h ${hourCalls(d)}`).join(', ')}`)
  out()

  // ── Consistency: the analytics count exactly the calls made ──────────────────────────────────────────
  const checks: [string, number | string, number | string][] = [
    ['calls (summary.total_messages)', sent, Number(summary['total_messages'])],
    ['failed calls (summary.total_errors)', errors, Number(summary['total_errors'])],
    ['tokens of the answers (summary.total_tokens)', tokens, Number(summary['total_tokens'])],
    ['tokens (/tokens total_tokens)', tokens, Number(tokenRoute['total_tokens'])],
    ['calls not recorded (summary.dropped)', 0, Number(summary['dropped'])],
    ['unexpected answers (not 200 or 502, broken streams)', 0, problems.length],
    ['calls in the last 24 h (/daily hourly)', sent, hourly.data.reduce((sum, d) => sum + hourCalls(d), 0)],
    ['calls of all users (/users)', sent, users.users.reduce((sum, u) => sum + u.count, 0)],
  ]
  const tally = (key: (c: Call) => string) => {
    const map = new Map<string, { calls: number; errors: number }>()
    for (const c of calls) {
      const entry = map.get(key(c)) ?? { calls: 0, errors: 0 }
      entry.calls += 1
      entry.errors += c.status === 200 ? 0 : 1
      map.set(key(c), entry)
    }
    return map
  }
  const byModel = tally((c) => c.model)
  const recordedModels = new Map<string, { calls: number; errors: number }>()
  for (const m of models.models) {
    const entry = recordedModels.get(m.model_id) ?? { calls: 0, errors: 0 }
    recordedModels.set(m.model_id, { calls: entry.calls + m.count, errors: entry.errors + m.errors })
  }
  const pairs = (a: Map<string, { calls: number; errors: number }>) =>
    [...a.entries()]
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([k, v]) => `${k} ${v.calls}/${v.errors}`)
      .join(', ')
  checks.push(['calls/errors per model (/models)', pairs(byModel), pairs(recordedModels)])
  const byUser = tally((c) => c.user)
  const userMismatch = users.users.filter((u) => byUser.get(u.user_id)?.calls !== u.count).length + (byUser.size - users.users.length)
  checks.push(['users whose calls differ (/users)', 0, userMismatch])
  if (SPREAD) {
    const sentPerHour = perHour.map((count, h) => `${new Date((slots[h] ?? 0) * 1000).toISOString().slice(11, 13)}h ${count}`).filter((s) => !s.endsWith(' 0'))
    const recordedPerHour = hourly.data.map((d) => `${d.date.slice(11, 13)}h ${hourCalls(d)}`)
    checks.push(['calls per hour (/daily hourly)', sentPerHour.join(', '), recordedPerHour.join(', ')])
  }
  out('| check | the script | the analytics | |')
  out('|---|---|---|---|')
  for (const [what, expected, got] of checks) {
    const ok = expected === got
    if (!ok) failed = true
    const show = (v: number | string) => (typeof v === 'number' ? n(v) : v.length > 60 ? `${v.slice(0, 57)}…` : v)
    out(`| ${what} | ${show(expected)} | ${show(got)} | ${ok ? '✔' : '✘'} |`)
    if (!ok && typeof expected === 'string') console.error(`${what}:\n  script:    ${expected}\n  analytics: ${got}`)
  }

  // ── Screenshots of /workspace/analytics, the last 24 hours ──────────────────────────────────────────
  mkdirSync(RESULTS, { recursive: true })
  const shots = { desktop: join(RESULTS, 'analytics-day-desktop.png'), phone: join(RESULTS, 'analytics-day-phone.png') }
  const browserNotes: string[] = []
  if (!existsSync(CHROMIUM)) {
    browserNotes.push(`no screenshots: ${CHROMIUM} is missing (apt-get install -y chromium)`)
    failed = true
  } else {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    })
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
      context.setDefaultTimeout(20_000)
      const page = await context.newPage()
      page.on('pageerror', (error) => browserNotes.push(`page error: ${error.message}`))
      page.on('console', (message) => {
        if (message.type() === 'error') browserNotes.push(`console error: ${message.text()}`)
      })
      await page.goto(`${base}/signin`)
      await page.getByLabel('Email').fill(ADMIN.email)
      await page.getByLabel('Password').fill(PASSWORD)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.getByRole('heading', { name: /^Models/, level: 1 }).waitFor()
      await page.getByRole('link', { name: 'Analytics' }).click()
      await page.getByRole('heading', { name: 'Analytics', level: 1 }).waitFor()
      await page.getByLabel('Range', { exact: true }).selectOption('24h')
      await page.getByRole('region', { name: 'Calls per hour, by model' }).locator('svg .recharts-bar-rectangle path').first().waitFor()
      await page.getByRole('region', { name: 'Top groups' }).locator('tbody tr').first().waitFor()
      await page.waitForTimeout(300)
      await page.screenshot({ path: shots.desktop, fullPage: true })
      await page.setViewportSize({ width: 390, height: 844 })
      await page.waitForTimeout(500)
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth')
      if (overflow > 0) browserNotes.push(`the page scrolls sideways by ${overflow} px at 390 px`)
      await page.screenshot({ path: shots.phone, fullPage: true })
    } finally {
      await browser.close()
    }
  }

  // ── Report ──────────────────────────────────────────────────────────────────────────────────────────
  const seconds = (performance.now() - started) / 1000
  const date = new Date().toISOString().slice(0, 10)
  const commit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    } catch {
      return 'unknown'
    }
  })()
  const args = process.argv.slice(2).join(' ')
  const header = [
    `# A day of benchmark traffic (${date})`,
    '',
    `\`${DIST === join(ROOT, 'dist') ? '' : `DIST=${DIST} `}npx tsx bench/analytics-day.ts${args ? ` ${args}` : ''}\` (bench/analytics-day.ts; docs/analytics.md, "A day of benchmark traffic")`,
    '',
    `Commit ${commit}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}, Node ${process.version}. SQLite, seed ${SEED}, ${sent} calls at c=${CONCURRENCY} in ${trafficSeconds.toFixed(1)} s ` +
      `(${SPREAD ? 'times spread over the last 24 hours, hour by hour as sent' : 'real times'}); whole run ${seconds.toFixed(0)} s.`,
    '',
  ]
  const footer = [
    '',
    `Screenshots (last 24 hours, admin): ${relative(ROOT, shots.desktop)} (1280 px), ${relative(ROOT, shots.phone)} (390 px).` +
      (browserNotes.length ? ` Browser: ${browserNotes.join('; ')}.` : ''),
    '',
    failed ? '**✘ the analytics differ from the calls made.**' : '✔ the analytics count exactly the calls made.',
  ]
  const report = [...header, ...lines, ...footer].join('\n')
  console.log(`\n${report}`)
  const file = join(RESULTS, `${date}-analytics-day.md`)
  writeFileSync(file, `${report}\n`)
  console.log(`\nwritten: ${relative(ROOT, file)}`)
} catch (error) {
  failed = true
  console.error(error)
  console.error(`server log (${serverLog}), last lines:\n${readFileSync(serverLog, 'utf8').split('\n').slice(-20).join('\n')}`)
} finally {
  const exited = new Promise((resolve) => server.once('exit', resolve))
  server.kill('SIGTERM')
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))])
  provider.child.kill('SIGTERM')
  if (!failed) rmSync(dataDir, { recursive: true, force: true })
  else console.error(`kept ${dataDir} (database and server.log)`)
}
process.exitCode = failed ? 1 : 0
