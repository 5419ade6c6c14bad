/**
 * What a browser (e2e) test needs around Chromium: the build (`npm run build` when dist/ or web/dist is
 * missing or older than its sources), a real server process on a fresh data directory, and a fake
 * OpenAI-compatible provider serving one base model. The same steps as workspace, history and
 * governance e2e tests take (those keep their own copies for now); new e2e tests use this module.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const CHROMIUM = '/usr/bin/chromium'
/** Where every e2e test keeps its screenshots (an artifact of the run). */
export const SHOTS = join(ROOT, 'test-artifacts', 'screenshots')

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  let newest = stat.mtimeMs
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)))
  return newest
}

function isStale(): boolean {
  const server = join(ROOT, 'dist', 'main.js')
  const web = join(ROOT, 'web', 'dist', 'index.html')
  const serverStale = !existsSync(server) || newestMtime(join(ROOT, 'src')) > statSync(server).mtimeMs
  const webSources = Math.max(
    newestMtime(join(ROOT, 'web', 'src')),
    newestMtime(join(ROOT, 'web', 'index.html')),
    newestMtime(join(ROOT, 'web', 'public')),
    newestMtime(join(ROOT, 'sdk', 'src')),
  )
  const webStale = !existsSync(web) || webSources > statSync(web).mtimeMs
  return serverStale || webStale
}

/**
 * One build at a time across the processes of a run (the background build of global-setup.ts, e2e files
 * in parallel workers): a directory created atomically, holding the builder's pid so that a lock left by
 * a killed process is taken over.
 */
const LOCK = join(ROOT, 'test-artifacts', '.build-lock')
const LOCK_OWNER = join(LOCK, 'pid')

/** Takes the lock for `owner` (the process that builds), or answers false while a live process holds it. */
function tryLock(owner = process.pid): boolean {
  mkdirSync(dirname(LOCK), { recursive: true })
  try {
    mkdirSync(LOCK)
  } catch {
    const holder = Number(readFileOr(LOCK_OWNER, '0'))
    if (holder && isAlive(holder)) return false
    // Just taken, its pid not written yet: held. Otherwise its holder died: take it over.
    if (!holder && Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? 0) < 2000) return false
    rmSync(LOCK, { recursive: true, force: true })
    return tryLock(owner)
  }
  writeFileSync(LOCK_OWNER, String(owner))
  return true
}

const unlock = () => rmSync(LOCK, { recursive: true, force: true })

function readFileOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return fallback
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4))
/** ensureBuilt() is synchronous (its callers' API): it waits for another builder by blocking sleeps. */
const sleepSync = (ms: number) => Atomics.wait(pause, 0, 0, ms)

// vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
const BUILD_ENV = { ...process.env, NODE_ENV: 'production' }

/** Builds the server and the web app when either is missing or older than its sources. */
export function ensureBuilt(): void {
  const deadline = Date.now() + 300_000
  for (;;) {
    // A build under way rewrites dist/ and then web/dist/ (Vite empties it first): never start a server
    // meanwhile, even when what it wrote first already looks fresh (only src/ changed: dist/ is new, and
    // web/dist/ is being emptied).
    if (buildInProgress()) {
      if (Date.now() > deadline) throw new Error(`waited 300 s for the build of another process (${LOCK})`)
      sleepSync(250)
      continue
    }
    if (!isStale()) return
    if (!tryLock()) continue
    try {
      if (!isStale()) return
      execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'pipe', timeout: 170_000, env: BUILD_ENV })
    } catch (error) {
      const output = error as { stdout?: Buffer; stderr?: Buffer }
      throw new Error(`npm run build failed before the e2e test:\n${String(output.stdout ?? '')}\n${String(output.stderr ?? '')}`, { cause: error })
    } finally {
      unlock()
    }
    return
  }
}

/** Whether a live process holds the build lock (or has just taken it and not yet written its pid). */
function buildInProgress(): boolean {
  if (!existsSync(LOCK)) return false
  const holder = Number(readFileOr(LOCK_OWNER, '0'))
  if (holder) return isAlive(holder)
  return Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? 0) < 2000
}

/**
 * global-setup.ts: starts the build when it is stale, without waiting, so that it overlaps the first test
 * files; ensureBuilt() waits for it. A failed background build leaves the tree stale, and the first
 * e2e file builds again and reports the error.
 */
export function startBuildInBackground(): void {
  if (!isStale() || !tryLock()) return
  const child = spawn('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'ignore', env: BUILD_ENV })
  // The build may outlive this process (a run that ends first): the lock names the build itself.
  if (child.pid) writeFileSync(LOCK_OWNER, String(child.pid))
  child.once('error', unlock)
  child.once('exit', unlock)
}

export interface RunningServer {
  process: ChildProcess
  log: () => string
}

/** `node dist/main.js` on 127.0.0.1:`port` with its own data directory (and `env` besides), once /health answers. */
export async function startServer(port: number, dataDir: string, env: Record<string, string> = {}): Promise<RunningServer> {
  let output = ''
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? tmpdir(),
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`The server exited (${child.exitCode}) before answering:\n${output}`)
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health`)
      if (response.ok) return { process: child, log: () => output }
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 150))
  }
  child.kill('SIGKILL')
  throw new Error(`The server did not answer /health within 30 s:\n${output}`)
}

/** Ends the server (SIGTERM, then gives up waiting after 5 s). */
export async function stopServer(server: RunningServer | undefined): Promise<void> {
  if (!server || server.process.exitCode !== null) return
  const exited = new Promise((resolve) => server.process.once('exit', resolve))
  server.process.kill('SIGTERM')
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))])
}

/** A stand-in for vLLM serving `baseModel` at `/v1/models`. */
export async function startFakeProvider(baseModel: string): Promise<{ server: Server; url: string }> {
  const server = createHttpServer((request, response) => {
    if (request.method === 'GET' && request.url === '/v1/models') {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ object: 'list', data: [{ id: baseModel, object: 'model', created: 0, owned_by: 'fake-lab' }] }))
      return
    }
    response.writeHead(404, { 'content-type': 'application/json' })
    response.end('{"error":"not found"}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return { server, url: `http://127.0.0.1:${port}/v1` }
}

/**
 * A JSON call to the server under test (GET without a body, POST with one) that expects `status` (200
 * unless given) and names the path and the answer when it gets another. `base` is read at each call:
 * the tests learn their server's address in beforeAll.
 */
export function jsonApi(base: () => string) {
  return async function api(path: string, token: string | null, body?: unknown, status = 200): Promise<Record<string, unknown>> {
    const response = await fetch(`${base()}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
    const text = await response.text()
    expect(response.status, `${path}: ${text}`).toBe(status)
    return JSON.parse(text) as Record<string, unknown>
  }
}
