/**
 * What the focused scripts (hot-path, usage-cost, pg-write-rate) share: helper processes that print their
 * URL on start (the fake provider, the bare proxy, a server), killed when the script exits; a built
 * modelgate on a fresh SQLite file; a process's CPU time from /proc; one JSON call.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'
import { waitReady } from './load.js'

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url))
const children: ChildProcess[] = []
process.on('exit', () => children.forEach((child) => child.kill('SIGTERM')))

/** Kills `child` when the script exits (the helpers below do this for the processes they start). */
export function killOnExit(child: ChildProcess): ChildProcess {
  children.push(child)
  return child
}

/** Starts `node <args>` and resolves with the first `http://127.0.0.1:<port>` it prints. */
export function startUrlProcess(args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  const child = killOnExit(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } }))
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const url = /http:\/\/127\.0\.0\.1:\d+/.exec(out)?.[0]
      if (url) resolve({ child, url })
    })
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)))
  })
}

/** A script of bench/ (provider.ts, bare-proxy.ts) as a process of its own. */
export const startBenchScript = (script: string, ...args: string[]) => startUrlProcess(['--import', 'tsx', `${BENCH_DIR}${script}`, ...args])

/** User + system CPU seconds so far (Linux /proc; clock ticks of 10 ms) of a process, or of its main thread only. */
export function cpuSeconds(pid: number, mainThread = false): number {
  const fields =
    readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8')
      .split(') ')[1]
      ?.split(' ') ?? []
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / 100
}

/** One request with an optional JSON body (POST when it has one); the JSON answer, or an error naming the status. */
export async function callJson(url: string, init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: unknown } = {}) {
  const res = await request(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { ...(init.body !== undefined && { 'content-type': 'application/json' }), ...init.headers },
    body: init.body === undefined ? null : JSON.stringify(init.body),
  })
  const text = await res.body.text()
  if (res.statusCode >= 300) throw new Error(`${url}: HTTP ${res.statusCode} ${text.slice(0, 300)}`)
  return JSON.parse(text) as Record<string, unknown>
}

/**
 * A built modelgate (`<dist>/main.js`) on a fresh SQLite file in a temporary DATA_DIR, served by the fake
 * provider at `providerUrl`, as the focused scripts run it (hot-path, gateway-ab, analytics-day); resolves
 * once it answers. `env` adds to or overrides the defaults; `nodeFlags` go before the entry point.
 */
export async function startSqliteServer(
  dist: string,
  providerUrl: string,
  options: { env?: Record<string, string>; nodeFlags?: string[]; stdio?: StdioOptions } = {},
): Promise<{ child: ChildProcess; base: string; dataDir: string }> {
  const port = 20000 + Math.floor(Math.random() * 20000)
  const dataDir = mkdtempSync(join(tmpdir(), 'mg-bench-'))
  const child = killOnExit(
    spawn(process.execPath, [...(options.nodeFlags ?? []), `${dist}/main.js`], {
      stdio: options.stdio ?? ['ignore', 'inherit', 'inherit'],
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: `sqlite://${dataDir}/db.sqlite`,
        DATA_DIR: dataDir,
        WEBUI_SECRET_KEY: 'bench-server-secret-0123456789abcdef',
        LOG_LEVEL: 'warn',
        MODELS_CACHE_TTL: '3600',
        OPENAI_API_BASE_URLS: `${providerUrl}/v1`,
        OPENAI_API_KEYS: '',
        REDIS_URL: '',
        ...options.env,
      },
    }),
  )
  const base = `http://127.0.0.1:${port}`
  await waitReady(base, child)
  return { child, base, dataDir }
}
