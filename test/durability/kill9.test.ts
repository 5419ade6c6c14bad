/**
 * kill -9 in the middle of a write storm loses no acknowledged write (issue #10, "Prove it").
 *
 * A real server process (SQLite in a fresh DATA_DIR, or a fresh schema of the real PostgreSQL at
 * TEST_POSTGRES_URL) takes a storm of concurrent writes from 16 workers: model creates, model updates,
 * access (grant) updates and group creates. Once enough writes have been acknowledged (a 2xx received)
 * the process gets SIGKILL. On SQLite the file must then pass `PRAGMA integrity_check` and
 * `foreign_key_check`; a new process restarted on the same data must show every acknowledged write, and
 * each model's content and grants must be the acknowledged version or the one write that was still in
 * flight for it (a worker has at most one request outstanding, and each model belongs to one worker).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeProvider, type FakeProvider } from '../support/fake-provider.js'
import { freshPostgresSchema, PASSWORD, POSTGRES_URL, requirePostgresInCi, signUpAdmin, startServer, type ServerProcess } from './support.js'

requirePostgresInCi()

const WORKERS = 16
/** SIGKILL once this many writes have been acknowledged (or after STORM_MAX_MS, whichever is first). */
const KILL_AFTER_ACKS = 300
const STORM_MAX_MS = 20_000
const BASE_MODEL = 'fake-model'

interface ModelTrack {
  id: string
  createSent: boolean
  createAcked: boolean
  /** Content versions (the name `v<n>`) sent, in order; version 0 is the create. */
  versionsSent: number[]
  ackedVersion: number
  /** Grant sets sent (as canonical keys), in order; index 0 is the create's (no grants). */
  grantsSent: string[]
  ackedGrants: number
}

interface GroupTrack {
  name: string
  acked: boolean
  id: string | null
}

interface StormResult {
  models: Map<string, ModelTrack>
  groups: GroupTrack[]
  acked: number
  sent: number
  failed: string[]
  ackedByKind: Record<string, number>
}

const grantKey = (grants: { principal_type: string; principal_id: string; permission: string }[]) =>
  grants
    .map((g) => `${g.principal_type}:${g.principal_id}:${g.permission}`)
    .sort()
    .join(',')

async function storm(server: ServerProcess, token: string, memberId: string): Promise<StormResult> {
  const models = new Map<string, ModelTrack>()
  const groups: GroupTrack[] = []
  const ackedByKind: Record<string, number> = { 'model create': 0, 'model update': 0, 'access update': 0, 'group create': 0 }
  const failed: string[] = []
  let acked = 0
  let sent = 0
  let killed = false
  const kill = () => {
    if (killed) return
    killed = true
    clearTimeout(killTimer)
    server.child.kill('SIGKILL')
  }
  const ack = (kind: string) => {
    acked += 1
    ackedByKind[kind] = (ackedByKind[kind] ?? 0) + 1
    if (acked >= KILL_AFTER_ACKS) kill()
  }
  const killTimer = setTimeout(kill, STORM_MAX_MS)

  async function worker(w: number): Promise<void> {
    const own: ModelTrack[] = []
    const ownGroups: GroupTrack[] = []
    for (let i = 0; !killed; i++) {
      const step = i % 5
      try {
        if (step === 4) {
          const group: GroupTrack = { name: `grp-${w}-${i}`, acked: false, id: null }
          groups.push(group)
          sent += 1
          const res = await server.request('POST', '/api/v1/groups/create', { token, body: { name: group.name, user_ids: [memberId] } })
          if (res.status !== 200) throw new Error(`group create ${res.status} ${res.body}`)
          group.acked = true
          group.id = res.json<{ id: string }>().id
          ownGroups.push(group)
          ack('group create')
        } else if (step === 0 || own.length === 0) {
          const model: ModelTrack = {
            id: `k-${w}-${i}`,
            createSent: true,
            createAcked: false,
            versionsSent: [0],
            ackedVersion: -1,
            grantsSent: [''],
            ackedGrants: -1,
          }
          models.set(model.id, model)
          sent += 1
          const res = await server.request('POST', '/api/v1/models/create', {
            token,
            body: { id: model.id, base_model_id: BASE_MODEL, name: 'v0', meta: { description: 'v0', tags: ['storm'] }, params: { temperature: 0.5 } },
          })
          if (res.status !== 200) throw new Error(`model create ${res.status} ${res.body}`)
          model.createAcked = true
          model.ackedVersion = 0
          model.ackedGrants = 0
          own.push(model)
          ack('model create')
        } else if (step === 1 || step === 3 || ownGroups.length === 0) {
          const model = own[(i * 7) % own.length] as ModelTrack
          const version = (model.versionsSent.at(-1) ?? 0) + 1
          model.versionsSent.push(version)
          sent += 1
          const res = await server.request('POST', `/api/v1/models/model/update?id=${encodeURIComponent(model.id)}`, {
            token,
            body: { id: model.id, name: `v${version}`, meta: { description: `v${version}`, tags: ['storm'] }, params: { temperature: (version % 10) / 10 } },
          })
          if (res.status !== 200) throw new Error(`model update ${res.status} ${res.body}`)
          model.ackedVersion = version
          ack('model update')
        } else {
          const model = own[(i * 3) % own.length] as ModelTrack
          const grants = ownGroups
            .filter((_, index) => (index + i) % 2 === 0 || index === ownGroups.length - 1)
            .map((g) => ({ principal_type: 'group' as const, principal_id: g.id ?? '', permission: i % 3 === 0 ? 'write' : 'read' }))
          model.grantsSent.push(grantKey(grants))
          sent += 1
          const res = await server.request('POST', '/api/v1/models/model/access/update', { token, body: { id: model.id, access_grants: grants } })
          if (res.status !== 200) throw new Error(`access update ${res.status} ${res.body}`)
          model.ackedGrants = model.grantsSent.length - 1
          ack('access update')
        }
      } catch (error) {
        // After the kill, requests fail (connection reset or refused): expected, and never acknowledged.
        if (!killed) failed.push(`worker ${w}: ${(error as Error).message}`)
        return
      }
    }
  }

  await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)))
  kill()
  return { models, groups, acked, sent, failed, ackedByKind }
}

interface Verification {
  ackedModels: number
  foundModels: number
  inFlightCommitted: number
  problems: string[]
  ackedGroups: number
  foundGroups: number
}

async function verify(server: ServerProcess, token: string, memberId: string, result: StormResult): Promise<Verification> {
  const exported = await server.request('GET', '/api/v1/models/export', { token })
  expect(exported.status).toBe(200)
  const stored = new Map(
    exported
      .json<
        { id: string; name: string; meta: { description?: string }; access_grants: { principal_type: string; principal_id: string; permission: string }[] }[]
      >()
      .map((m) => [m.id, m]),
  )
  const problems: string[] = []
  let ackedModels = 0
  let foundModels = 0
  let inFlightCommitted = 0
  for (const track of result.models.values()) {
    const row = stored.get(track.id)
    if (track.createAcked) {
      ackedModels += 1
      if (!row) {
        problems.push(`${track.id}: acknowledged create missing`)
        continue
      }
      foundModels += 1
    } else if (row) {
      inFlightCommitted += 1
    }
    if (!row) continue
    const version = Number(/^v(\d+)$/.exec(row.name)?.[1] ?? Number.NaN)
    const lastSent = track.versionsSent.at(-1) ?? 0
    if (!(version >= Math.max(track.ackedVersion, 0) && version <= lastSent) || row.meta.description !== row.name) {
      problems.push(`${track.id}: content "${row.name}"/"${row.meta.description}", acknowledged v${track.ackedVersion}, last sent v${lastSent}`)
    }
    const index = track.grantsSent.lastIndexOf(grantKey(row.access_grants))
    if (index < 0 || index < Math.max(track.ackedGrants, 0)) {
      problems.push(`${track.id}: grants [${grantKey(row.access_grants)}] are not the acknowledged set or a later one`)
    }
  }
  const listed = await server.request('GET', '/api/v1/groups/', { token })
  expect(listed.status).toBe(200)
  const groupsById = new Map(listed.json<{ id: string; name: string; user_ids: string[] }[]>().map((g) => [g.id, g]))
  let ackedGroups = 0
  let foundGroups = 0
  for (const group of result.groups) {
    if (!group.acked || !group.id) continue
    ackedGroups += 1
    const row = groupsById.get(group.id)
    if (!row || row.name !== group.name || !row.user_ids.includes(memberId)) problems.push(`group ${group.name}: acknowledged create missing or incomplete`)
    else foundGroups += 1
  }
  return { ackedModels, foundModels, inFlightCommitted, problems, ackedGroups, foundGroups }
}

interface Target {
  dialect: 'sqlite' | 'postgres'
  env: Record<string, string>
  /** Checks on the data left by the killed process, before the restart. */
  afterKill(): Promise<void> | void
  cleanup(): Promise<void>
}

function sqliteTarget(): Target {
  const dir = mkdtempSync(join(tmpdir(), 'mg-kill9-'))
  return {
    dialect: 'sqlite',
    env: { DATA_DIR: dir },
    afterKill() {
      // Opening the file replays the WAL, exactly as the restarted server will.
      const sqlite = new SqliteDatabase(join(dir, 'modelgate.db'))
      try {
        const integrity = sqlite.pragma('integrity_check', { simple: true })
        const foreignKeys = sqlite.pragma('foreign_key_check') as unknown[]
        console.log(`[kill9 sqlite] PRAGMA integrity_check: ${String(integrity)}; foreign_key_check: ${foreignKeys.length} violation(s)`)
        expect(integrity).toBe('ok')
        expect(foreignKeys).toEqual([])
      } finally {
        sqlite.close()
      }
    },
    cleanup: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  }
}

async function postgresTarget(): Promise<Target> {
  const schema = await freshPostgresSchema('mg_kill')
  return { dialect: 'postgres', env: { DATABASE_URL: schema.url }, afterKill: () => undefined, cleanup: () => schema.drop() }
}

/**
 * The two dialects run side by side: a server start is mostly single-threaded CPU work, so on two cores
 * the SQLite and PostgreSQL cases overlap well.
 */
describe('kill -9 mid-storm', () => {
  let provider: FakeProvider
  const targets: Target[] = []
  const servers: ServerProcess[] = []

  beforeAll(async () => {
    provider = await startFakeProvider({ models: [BASE_MODEL] })
  })

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.kill9()))
    await Promise.all(targets.map((t) => t.cleanup().catch(() => undefined)))
    await provider?.close()
  })

  it.concurrent.for(['sqlite', 'postgres'] as const)(
    'on %s: every acknowledged write survives SIGKILL and a restart',
    { timeout: 150_000 },
    async (dialect, { expect, skip }) => {
      if (dialect === 'postgres' && !POSTGRES_URL) return skip()
      const target = dialect === 'sqlite' ? sqliteTarget() : await postgresTarget()
      targets.push(target)
      const env = { ...target.env, OPENAI_API_BASE_URLS: provider.baseUrl, OPENAI_API_KEYS: '' }

      let t = performance.now()
      const first = await startServer(env, { label: `${dialect} server` })
      servers.push(first)
      const startMs = Math.round(performance.now() - t)
      const admin = await signUpAdmin(first)
      const added = await first.request('POST', '/api/v1/auths/add', {
        token: admin.token,
        body: { name: 'Member', email: 'member@example.com', password: PASSWORD, role: 'user' },
      })
      expect(added.status).toBe(200)
      const memberId = added.json<{ id: string }>().id

      const started = performance.now()
      const result = await storm(first, admin.token, memberId)
      await first.kill9()
      const stormMs = Math.round(performance.now() - started)
      expect(first.child.signalCode).toBe('SIGKILL')
      expect(result.failed).toEqual([])
      expect(result.acked).toBeGreaterThan(50)

      await target.afterKill()

      t = performance.now()
      const second = await startServer(env, { label: `${dialect} server (restarted)` })
      servers.push(second)
      const restartMs = Math.round(performance.now() - t)
      const check = await verify(second, admin.token, memberId, result)
      const kinds = Object.entries(result.ackedByKind)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')
      console.log(
        `[kill9 ${dialect}] ${result.sent} writes sent by ${WORKERS} workers in ${stormMs} ms, ${result.acked} acknowledged before SIGKILL (${kinds}); ` +
          `after restart: models ${check.foundModels}/${check.ackedModels} acknowledged creates found, groups ${check.foundGroups}/${check.ackedGroups} found, ` +
          `${check.inFlightCommitted} unacknowledged in-flight create(s) committed, ${check.problems.length} problem(s) ` +
          `(server start ${startMs} ms, restart ${restartMs} ms)`,
      )
      expect(check.problems).toEqual([])
      expect(check.foundModels).toBe(check.ackedModels)
      expect(check.foundGroups).toBe(check.ackedGroups)
      // The restarted server takes writes again.
      const after = await second.request('POST', '/api/v1/models/create', {
        token: admin.token,
        body: { id: 'after-restart', base_model_id: BASE_MODEL, name: 'after' },
      })
      expect(after.status).toBe(200)
      await second.stop()
    },
  )
})
