/**
 * Real server processes for the durability tests (kill -9, two instances) and the soak profile.
 *
 * The server runs from its sources (`node --import tsx src/main.ts`): no build step, so the tests always
 * run the code of the working tree and never race another process writing dist/. Measured on the 2-core
 * CI machine, a start costs about 2 s more CPU than `node dist/main.js`, less than the ~12 s CPU of the
 * `tsc` build it saves (and a stale or half-written dist/ cannot be picked up).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Agent, fetch as undiciFetch } from 'undici'
import { freePort, sleep } from '../support/timing.js'

export { freePort, sleep, waitFor } from '../support/timing.js'
export { freshPostgresSchema } from '../support/databases.js'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const SECRET = 'durability-secret-key-0123456789'
export const PASSWORD = 'correct horse battery'
export const POSTGRES_URL = process.env['TEST_POSTGRES_URL']
export const REDIS_URL = process.env['REDIS_URL_TEST'] || 'redis://127.0.0.1:6379'

/** With CI=true the PostgreSQL cases fail, never skip, when TEST_POSTGRES_URL is missing. */
export function requirePostgresInCi(): void {
  if (process.env['CI'] === 'true' && !POSTGRES_URL) {
    throw new Error('CI=true but TEST_POSTGRES_URL is not set: the durability tests need a real PostgreSQL in CI.')
  }
}

export interface HttpAnswer {
  status: number
  body: string
  json<T = any>(): T
}

export interface ServerProcess {
  url: string
  pid: number
  child: ChildProcess
  /** stdout and stderr so far. */
  log(): string
  /** A request through this server's own keep-alive pool. Throws on network errors. */
  request(method: string, path: string, options?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<HttpAnswer>
  /** SIGKILL, then waits for the exit. */
  kill9(): Promise<void>
  /** SIGTERM (graceful), SIGKILL after 5 s; idempotent. */
  stop(): Promise<void>
  /** Resident memory now, in MB (Linux /proc). */
  rssMb(): number
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null

/** Every server this process started: killed when it exits, however it exits, so none outlives a run. */
const children = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of children) if (!exited(child)) child.kill('SIGKILL')
})

function waitExit(child: ChildProcess): Promise<void> {
  return exited(child) ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()))
}

/**
 * Spawns the server with a clean environment (nothing from the caller's but PATH and HOME) plus `env`,
 * on a free port, and waits until /ready answers (the database is reachable and migrations ran).
 * `entry: 'source'` (default) runs `node --import tsx src/main.ts`; `'dist'` runs the built
 * `node dist/main.js` (the benchmark and the soak profile, which build first).
 */
export async function startServer(
  env: Record<string, string>,
  options: { label?: string; readyTimeoutMs?: number; entry?: 'source' | 'dist' } = {},
): Promise<ServerProcess> {
  const port = await freePort()
  let output = ''
  const args = options.entry === 'dist' ? ['dist/main.js'] : ['--import', 'tsx', 'src/main.ts']
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? tmpdir(),
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      WEBUI_SECRET_KEY: SECRET,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  child.once('exit', () => children.delete(child))
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)))
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)))
  const url = `http://127.0.0.1:${port}`
  const agent = new Agent({ connections: 64, keepAliveTimeout: 2000, keepAliveMaxTimeout: 2000 })
  const label = options.label ?? 'server'

  const request: ServerProcess['request'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers }
    if (opts.token) headers['authorization'] = `Bearer ${opts.token}`
    if (opts.body !== undefined) headers['content-type'] = 'application/json'
    const response = await undiciFetch(`${url}${path}`, {
      method,
      headers,
      dispatcher: agent,
      ...(opts.body !== undefined && { body: JSON.stringify(opts.body) }),
    })
    const body = await response.text()
    return { status: response.status, body, json: <T>() => JSON.parse(body) as T }
  }

  const server: ServerProcess = {
    url,
    pid: child.pid ?? 0,
    child,
    log: () => output,
    request,
    async kill9() {
      if (!exited(child)) child.kill('SIGKILL')
      await waitExit(child)
      await agent.destroy().catch(() => undefined)
    },
    async stop() {
      if (!exited(child)) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await waitExit(child)
        clearTimeout(timer)
      }
      await agent.destroy().catch(() => undefined)
    },
    rssMb() {
      try {
        const status = readFileSync(`/proc/${child.pid ?? 0}/status`, 'utf8')
        return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 102.4) / 10
      } catch {
        return 0
      }
    },
  }

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000)
  while (Date.now() < deadline) {
    if (exited(child)) throw new Error(`${label} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output}`)
    try {
      if ((await request('GET', '/ready')).status === 200) return server
    } catch {
      // not listening yet
    }
    await sleep(100)
  }
  await server.kill9()
  throw new Error(`${label} was not ready within ${options.readyTimeoutMs ?? 60_000} ms:\n${output}`)
}

/** Signs up the first account (the admin) and returns its token. */
export async function signUpAdmin(server: ServerProcess, email = 'admin@example.com'): Promise<{ id: string; token: string }> {
  const res = await server.request('POST', '/api/v1/auths/signup', { body: { name: 'Admin', email, password: PASSWORD } })
  if (res.status !== 200) throw new Error(`sign-up failed: ${res.status} ${res.body}`)
  const { id, token } = res.json<{ id: string; token: string }>()
  return { id, token }
}
