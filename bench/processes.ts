/**
 * What the focused scripts (hot-path, usage-cost, pg-write-rate) share: helper processes that print their
 * URL on start (the fake provider, the bare proxy, a server), killed when the script exits; a process's
 * CPU time from /proc; one JSON call.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'

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
