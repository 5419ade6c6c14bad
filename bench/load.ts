/** What the benchmark runners share: autocannon in a process of its own, waiting for a server, the token secret. */
import { execFileSync, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const AUTOCANNON = fileURLToPath(new URL('../node_modules/autocannon/autocannon.js', import.meta.url))
const LOAD_PATHS = fileURLToPath(new URL('./load-paths.ts', import.meta.url))

/** The WEBUI_SECRET_KEY the benchmark's servers run with (the runners sign their callers' tokens with it). */
export const BENCH_SECRET = 'bench-secret-key-0123456789abcdef'

export interface LoadResult {
  rps: number
  p50: number
  p99: number
  non2xx: number
  errors: number
  requests: number
}

/**
 * Runs autocannon in its own process and reads its JSON report. With `paths`, GETs those paths of
 * `url`'s server in turn (bench/load-paths.ts) instead of repeating `url`.
 */
export function load(
  url: string,
  options: { connections: number; seconds: number; headers?: Record<string, string>; method?: string; body?: string; paths?: string[] },
): LoadResult {
  let out: string
  if (options.paths) {
    const config = { url, paths: options.paths, connections: options.connections, seconds: options.seconds, headers: options.headers }
    out = execFileSync(process.execPath, ['--import', 'tsx', LOAD_PATHS], { input: JSON.stringify(config), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  } else {
    const args = [`${AUTOCANNON}`, '-j', '-c', String(options.connections), '-d', String(options.seconds)]
    for (const [key, value] of Object.entries(options.headers ?? {})) args.push('-H', `${key}=${value}`)
    if (options.method) args.push('-m', options.method)
    if (options.body) args.push('-b', options.body, '-I', '-H', 'content-type=application/json')
    args.push(url)
    out = execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  }
  const report = JSON.parse(out.trim().split('\n').pop() ?? '{}') as {
    requests: { average: number; total: number }
    latency: { p50: number; p99: number }
    non2xx: number
    errors: number
    timeouts: number
  }
  return {
    rps: report.requests.average,
    p50: report.latency.p50,
    p99: report.latency.p99,
    non2xx: report.non2xx,
    errors: report.errors + report.timeouts,
    requests: report.requests.total,
  }
}

export async function waitReady(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`)
    try {
      if ((await fetch(`${url}/ready`)).ok) return
    } catch {
      // not yet listening
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('server did not become ready')
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2
}
