/**
 * An in-process modelgate on a fresh database of one dialect, with helpers to create accounts. Tests
 * talk to it through app.inject(), the whole stack but the socket.
 */
import type { LightMyRequestResponse } from 'fastify'
import { loadConfig, type Config } from '../../src/config/env.js'
import type { DialectName } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrator.js'
import { buildApp } from '../../src/http/app.js'
import type { App } from '../../src/http/route-kit.js'
import { createServices, type Services } from '../../src/services.js'
import { openTestDatabase, type TestDatabase } from './databases.js'

export const TEST_SECRET = 'test-secret-key-0123456789abcdef'
export const PASSWORD = 'a-good-password'

export interface TestAccount {
  id: string
  email: string
  name: string
  role: 'pending' | 'user' | 'admin'
  token: string
  /** `{authorization: 'Bearer …'}` for inject(). */
  auth: { authorization: string }
}

export interface Harness {
  app: App
  services: Services
  database: TestDatabase
  config: Readonly<Config>
  /** The first account: the admin. */
  admin: TestAccount
  /** Creates an account of a role (through the admin API) and signs it in. */
  createUser(role?: 'pending' | 'user' | 'admin', name?: string): Promise<TestAccount>
  /**
   * The admin registers each of `baseIds` as a base-model override row readable by everyone (or by
   * `grants`), through the access-update route: what a non-admin needs before building a preset on a
   * provider model (docs/access-control.md, "Base models").
   */
  shareBase(baseIds: string | readonly string[], grants?: readonly unknown[]): Promise<void>
  /** inject() that also parses the JSON body. */
  request(options: InjectOptions): Promise<Reply>
  /** request() as `who` (none: anonymous); headers of `options` are added to (and win over) its credential. */
  send(who: TestAccount | undefined, options: InjectOptions): Promise<Reply>
  close(): Promise<void>
}

export type Reply = LightMyRequestResponse & { body: string; json: () => any }

export interface InjectOptions {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH'
  url: string
  headers?: Record<string, string>
  payload?: unknown
  query?: Record<string, string>
}

let counter = 0

export interface HarnessOptions {
  /** Receives every log line (JSON text) instead of no logger at all; set LOG_LEVEL in env too. */
  logStream?: { write(line: string): void }
  /** Use this database (e.g. one shared by two harnesses) instead of a fresh one; not closed by close(). */
  database?: TestDatabase
}

export async function createHarness(dialect: DialectName, env: Record<string, string> = {}, options: HarnessOptions = {}): Promise<Harness> {
  const config = loadConfig({ LOG_LEVEL: 'silent', WEBUI_SECRET_KEY: TEST_SECRET, ...env })
  const database = options.database ?? (await openTestDatabase(dialect))
  await migrateToLatest(database)
  const services = createServices(config, database, TEST_SECRET)
  const app = await buildApp(services, options.logStream ? { logStream: options.logStream } : { logger: false })
  await app.ready()

  const request: Harness['request'] = (options) =>
    app.inject({
      method: options.method,
      url: options.url,
      ...(options.headers && { headers: options.headers }),
      ...(options.query && { query: options.query }),
      ...(options.payload !== undefined && { payload: options.payload as string | object }),
    })

  const send: Harness['send'] = (who, options) => request({ ...options, headers: { ...(who?.auth ?? {}), ...(options.headers ?? {}) } })

  const signupRes = await request({
    method: 'POST',
    url: '/api/v1/auths/signup',
    payload: { name: 'Admin', email: `admin${++counter}@example.com`, password: PASSWORD },
  })
  const admin = toAccount(signupRes.json())

  async function createUser(role: 'pending' | 'user' | 'admin' = 'user', name?: string): Promise<TestAccount> {
    const n = ++counter
    const email = `user${n}-${Math.random().toString(36).slice(2, 8)}@example.com`
    const added = await request({
      method: 'POST',
      url: '/api/v1/auths/add',
      headers: admin.auth,
      payload: { name: name ?? `User ${n}`, email, password: PASSWORD, role },
    })
    if (added.statusCode !== 200) throw new Error(`createUser failed: ${added.body}`)
    const signin = await request({ method: 'POST', url: '/api/v1/auths/signin', payload: { email, password: PASSWORD } })
    if (signin.statusCode !== 200) throw new Error(`signin failed: ${signin.body}`)
    return toAccount(signin.json())
  }

  async function shareBase(
    baseIds: string | readonly string[],
    grants: readonly unknown[] = [{ principal_type: 'user', principal_id: '*', permission: 'read' }],
  ): Promise<void> {
    for (const id of typeof baseIds === 'string' ? [baseIds] : baseIds) {
      const res = await request({ method: 'POST', url: '/api/v1/models/model/access/update', headers: admin.auth, payload: { id, access_grants: grants } })
      if (res.statusCode !== 200) throw new Error(`shareBase(${id}) failed: ${res.body}`)
    }
  }

  return {
    app,
    services,
    database,
    config,
    admin,
    createUser,
    shareBase,
    request,
    send,
    async close() {
      await app.close()
      if (!options.database) await database.close()
    },
  }
}

function toAccount(body: { id: string; email: string; name: string; role: TestAccount['role']; token: string }): TestAccount {
  return {
    id: body.id,
    email: body.email,
    name: body.name,
    role: body.role,
    token: body.token,
    auth: { authorization: `Bearer ${body.token}` },
  }
}
