/**
 * The deployment files (docs/deploy.md) checked without a Docker daemon: the CI machine has the docker
 * CLI but no daemon and no registry, so the image is never built here. What can be checked is checked:
 * the Dockerfile builds as CI does and runs as a non-root user with a working health check, compose.yaml
 * has the documented topology and passes only variables the server knows, and the proxy configurations
 * point at the instances' readiness and stream answers. The two-instance behaviour itself is
 * test/durability/two-instances.test.ts.
 */
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { SERVER_NODE_FLAGS } from '../scripts/server-node-flags.js'
import { loadConfig } from '../src/config/env.js'
import { createHarness, type Harness } from './support/harness.js'
import { freePort } from './support/timing.js'

const ROOT = join(import.meta.dirname, '..')
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8')

interface Instruction {
  keyword: string
  args: string
}

/** Dockerfile instructions in order: continuation lines joined, comments dropped. */
function instructions(text: string): Instruction[] {
  const lines = text.split('\n').filter((line) => !/^\s*#/.test(line))
  return lines
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/)
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') }
    })
}

/** The build stages, each the instructions from its FROM to the next. */
function stages(all: Instruction[]): { name: string; steps: Instruction[] }[] {
  const result: { name: string; steps: Instruction[] }[] = []
  for (const step of all) {
    if (step.keyword === 'FROM') result.push({ name: /\bAS\s+(\S+)/i.exec(step.args)?.[1] ?? '', steps: [] })
    else result.at(-1)?.steps.push(step)
  }
  return result
}

/** Compose's interpolation: `${X}`, `${X:-default}`, `${X:?error}` from `env`. */
function interpolate(value: unknown, env: Record<string, string>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g, (_, name: string, kind?: string, rest?: string) => {
      const set = env[name]
      if (set !== undefined && set !== '') return set
      if (kind === '?') throw new Error(`compose needs ${name}: ${rest}`)
      return kind === '-' ? (rest ?? '') : ''
    })
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env))
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]))
  return value
}

/** The variables src/config/env.ts reads: its schema's keys and its direct `env['…']` reads. */
function knownVariables(): Set<string> {
  const source = read('src/config/env.ts')
  const names = new Set<string>()
  for (const match of source.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)) names.add(match[1] ?? '')
  for (const match of source.matchAll(/env\['([A-Z][A-Z0-9_]*)'\]/g)) names.add(match[1] ?? '')
  return names
}

interface ComposeService {
  image?: string
  build?: unknown
  command?: string[]
  environment?: Record<string, string>
  ports?: string[]
  volumes?: string[]
  depends_on?: Record<string, { condition: string }> | string[]
  healthcheck?: unknown
}

const dockerfile = stages(instructions(read('Dockerfile')))
const build = dockerfile[0]
const runtime = dockerfile.at(-1)
const SAMPLE_ENV = { POSTGRES_PASSWORD: 'pg-password-for-the-test', WEBUI_SECRET_KEY: 'a-secret-key-of-32-characters-xx' }
const compose = interpolate(parse(read('compose.yaml'), { merge: true }), SAMPLE_ENV) as { services: Record<string, ComposeService> }
const services = compose.services
/** The modelgate services: built from this Dockerfile. */
const modelgateServices = Object.entries(services).filter(([, service]) => service.build === '.')
const instances = modelgateServices.filter(([, service]) => !service.command?.includes('dist/db/migrate.js'))

describe('Dockerfile', () => {
  it('builds in a stage of its own with the commands CI runs, and keeps only what runs', () => {
    expect(dockerfile.length).toBeGreaterThanOrEqual(2)
    const runs = build?.steps.filter((s) => s.keyword === 'RUN').map((s) => s.args) ?? []
    // .ci/run installs with `npm ci`; the build is package.json's `build` script (tsc → dist/, vite → web/dist).
    expect(read('.ci/run')).toMatch(/^npm ci\b/m)
    expect(runs.some((run) => /\bnpm ci\b/.test(run))).toBe(true)
    expect(runs.some((run) => /\bnpm run build\b/.test(run))).toBe(true)
    expect((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts['build']).toMatch(/tsc -p tsconfig\.build\.json.*vite build/)
    const copiedFromBuild = runtime?.steps.filter((s) => s.keyword === 'COPY' && s.args.includes(`--from=${build?.name}`)).map((s) => s.args) ?? []
    for (const built of ['/app/dist', '/app/web/dist', '/app/node_modules']) expect(copiedFromBuild.some((args) => args.includes(`${built} `))).toBe(true)
    // The runtime stage installs nothing: no compiler, no dev dependency.
    expect(runtime?.steps.some((s) => s.keyword === 'RUN' && /npm (ci|install)|apt-get install/.test(s.args))).toBe(false)
  })

  it('copies every source the build reads, none of them ignored by .dockerignore', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'))
    const isIgnored = (path: string) =>
      ignored.some((pattern) => (pattern.startsWith('*') ? path.endsWith(pattern.slice(1)) : path === pattern || path.startsWith(`${pattern}/`)))
    const sources = (build?.steps ?? [])
      .filter((s) => s.keyword === 'COPY' && !s.args.includes('--from'))
      .flatMap((s) =>
        s.args
          .split(/\s+/)
          .filter((word) => !word.startsWith('--'))
          .slice(0, -1),
      )
    for (const source of sources) {
      expect(existsSync(join(ROOT, source)), source).toBe(true)
      expect(isIgnored(source), source).toBe(false)
    }
    // What `npm run build` reads: both tsconfigs, the server, the web app and the sdk it imports.
    for (const needed of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'web', 'sdk']) {
      expect(sources, needed).toContain(needed)
    }
    // Nothing built, installed or secret reaches the build context.
    for (const kept of ['node_modules', 'dist', 'web/dist', '.git', '.env', 'data', 'coverage']) expect(isIgnored(kept), kept).toBe(true)
  })

  it('npm start runs the server with the same V8 flags as the image', () => {
    const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start
    expect(start).toContain(`node ${SERVER_NODE_FLAGS.join(' ')} dist/main.js`)
  })

  it('runs node dist/main.js as a non-root user, listening beyond loopback, with DATA_DIR a volume', () => {
    const steps = runtime?.steps ?? []
    const user = steps.filter((s) => s.keyword === 'USER').at(-1)?.args
    expect(user).toBeDefined()
    expect(['root', '0', '0:0']).not.toContain(user)
    const command = JSON.parse(steps.filter((s) => s.keyword === 'CMD').at(-1)?.args ?? '[]') as string[]
    expect(command).toEqual(['node', ...SERVER_NODE_FLAGS, 'dist/main.js'])
    const env = steps.filter((s) => s.keyword === 'ENV').map((s) => s.args)
    expect(env.join(' ')).toMatch(/HOST=0\.0\.0\.0/)
    const dataDir = /DATA_DIR=(\S+)/.exec(env.join(' '))?.[1]
    expect(dataDir).toBeDefined()
    expect(steps.find((s) => s.keyword === 'VOLUME')?.args).toContain(`"${dataDir}"`)
  })

  describe('its HEALTHCHECK', () => {
    let h: Harness
    let port: number
    beforeAll(async () => {
      h = await createHarness('sqlite')
      port = await freePort()
      await h.app.listen({ port, host: '127.0.0.1' })
    })
    afterAll(() => h?.close())

    /** The check's exit code; run asynchronously, since the server it asks lives in this process. */
    const exitCode = (args: string[], env: Record<string, string>) =>
      new Promise<number | null>((resolve, reject) => {
        const child = spawn(process.execPath, args, { env, stdio: 'ignore', timeout: 10_000 })
        child.once('error', reject)
        child.once('exit', (code) => resolve(code))
      })

    const healthcheck = () => {
      const args = runtime?.steps.find((s) => s.keyword === 'HEALTHCHECK')?.args ?? ''
      const command = /\bCMD\s+(\[.*\])$/.exec(args)?.[1]
      expect(command, 'HEALTHCHECK CMD ["…"]').toBeDefined()
      return JSON.parse(command ?? '[]') as string[]
    }

    it('asks /health, and passes while the server answers', async () => {
      const [program, ...args] = healthcheck()
      expect(program).toBe('node')
      expect(args.join(' ')).toContain('/health')
      expect(await exitCode(args, { PORT: String(port) })).toBe(0)
    })

    it('fails when nothing answers on the port', async () => {
      const [, ...args] = healthcheck()
      expect(await exitCode(args, { PORT: String(await freePort()) })).toBe(1)
    })
  })
})

describe('compose.yaml', () => {
  it('has the documented topology: PostgreSQL, Redis, a one-off migration, two instances, one proxy', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['postgres', 'redis', 'migrate', 'caddy']))
    expect(instances.length).toBeGreaterThanOrEqual(2)
    expect(services['migrate']?.command).toEqual(['node', 'dist/db/migrate.js'])
    expect(existsSync(join(ROOT, 'src/db/migrate.ts'))).toBe(true)
    for (const [name, service] of instances) {
      expect(service.depends_on, name).toMatchObject({ migrate: { condition: 'service_completed_successfully' } })
      // Only the proxy is published: an instance reached directly would let a client write its own X-Forwarded-For.
      expect(service.ports, name).toBeUndefined()
    }
    expect(services['caddy']?.ports).toEqual(expect.arrayContaining(['443:443']))
  })

  it('passes every instance only variables the server reads, and a configuration it accepts', () => {
    const known = knownVariables()
    for (const [name, service] of modelgateServices) {
      const env = service.environment ?? {}
      for (const variable of Object.keys(env)) expect(known, `${name}: ${variable} is not read by src/config/env.ts`).toContain(variable)
      const config = loadConfig(env)
      expect(config.database.dialect, name).toBe('postgres')
      expect(config.redisUrl, name).toBe('redis://redis:6379')
      expect(config.secretKey, name).toBe(SAMPLE_ENV.WEBUI_SECRET_KEY)
      expect(config.trustProxy, name).toBe(1)
      expect(config.host, name).toBe('0.0.0.0')
    }
  })

  it('gives every instance the same database, Redis and secret key', () => {
    const shared = (service: ComposeService) => {
      const env = service.environment ?? {}
      return [env['DATABASE_URL'], env['REDIS_URL'], env['WEBUI_SECRET_KEY']]
    }
    const first = shared(instances[0]?.[1] ?? {})
    for (const [name, service] of instances) expect(shared(service), name).toEqual(first)
  })

  it('is documented in docs/deploy.md, which points to the executable proof of two instances', () => {
    const doc = read('docs/deploy.md')
    for (const name of ['compose.yaml', 'Dockerfile', 'deploy/Caddyfile', 'deploy/nginx.conf', 'test/durability/two-instances.test.ts']) {
      expect(doc, name).toContain(name)
      expect(existsSync(join(ROOT, name)), name).toBe(true)
    }
  })

  it('refuses to start without the secrets (no default password or key)', () => {
    expect(() => interpolate(parse(read('compose.yaml'), { merge: true }), {})).toThrow(/POSTGRES_PASSWORD|WEBUI_SECRET_KEY/)
    expect(() => interpolate(parse(read('compose.yaml'), { merge: true }), { POSTGRES_PASSWORD: 'x' })).toThrow(/WEBUI_SECRET_KEY/)
  })
})

describe('proxy configurations', () => {
  it('Caddy balances over every instance, checks /ready and flushes streams', () => {
    const mount = services['caddy']?.volumes?.find((volume) => volume.endsWith(':/etc/caddy/Caddyfile:ro'))
    expect(mount).toBeDefined()
    const caddyfile = readFileSync(join(ROOT, (mount ?? '').split(':')[0] ?? ''), 'utf8')
    const upstreams = /reverse_proxy\s+([^{]+)\{/.exec(caddyfile)?.[1]?.trim().split(/\s+/) ?? []
    expect(upstreams.sort()).toEqual(instances.map(([name, service]) => `${name}:${service.environment?.['PORT']}`).sort())
    expect(caddyfile).toMatch(/health_uri \/ready/)
    expect(caddyfile).toMatch(/flush_interval -1/)
  })

  it('nginx streams, forwards the client and the scheme, and takes an import of the default size', () => {
    const nginx = read('deploy/nginx.conf')
    expect(nginx).toMatch(/proxy_buffering off;/)
    expect(nginx).toMatch(/X-Forwarded-For \$proxy_add_x_forwarded_for;/)
    expect(nginx).toMatch(/X-Forwarded-Proto \$scheme;/)
    const bodyMb = Number(/client_max_body_size (\d+)m;/.exec(nginx)?.[1])
    expect(bodyMb * 1024 * 1024).toBeGreaterThanOrEqual(loadConfig({}).importBodyLimitBytes)
  })
})
