/**
 * What one model write costs the database, counted rather than timed: the SQLite pages a create, an
 * update, a toggle and an access update append to the write-ahead log, and the statements they run.
 *
 *   npx tsx bench/write-pages.ts [--writes 500]
 *
 * Pages are what a SQLite commit writes (each modified page once per transaction); on a loaded, shared
 * machine they are a steadier measure of a write's I/O than its time. Run it on two checkouts to compare
 * builds (it needs only `src/`). Automatic checkpoints are off while counting, so the log only grows.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import Database from 'better-sqlite3'
import { loadConfig } from '../src/config/env.js'
import { createDatabase } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrator.js'
import { buildApp } from '../src/http/app.js'
import { createServices } from '../src/services.js'

const { values } = parseArgs({ options: { writes: { type: 'string', default: '500' } } })
const writes = Number(values.writes)

const dir = mkdtempSync(join(tmpdir(), 'modelgate-write-pages-'))
const path = join(dir, 'db.sqlite')
const secret = 'bench-secret-0123456789abcdef0123'
const database = createDatabase({ dialect: 'sqlite', path })
await migrateToLatest(database)
const app = await buildApp(createServices(loadConfig({ LOG_LEVEL: 'silent', WEBUI_SECRET_KEY: secret }), database, secret), { logger: false })
await app.ready()

// Every statement the server runs goes through a better-sqlite3 statement: count them.
let statements = 0
const statementProto = Object.getPrototypeOf(new Database(':memory:').prepare('select 1')) as Record<string, (...args: unknown[]) => unknown>
for (const name of ['all', 'run', 'get', 'iterate']) {
  const original = statementProto[name]
  if (!original) continue
  statementProto[name] = function (this: unknown, ...args: unknown[]) {
    statements++
    return original.apply(this, args)
  }
}

const signup = await app.inject({
  method: 'POST',
  url: '/api/v1/auths/signup',
  payload: { name: 'Admin', email: 'admin@example.com', password: 'a-good-password' },
})
const auth = { authorization: `Bearer ${signup.json<{ token: string }>().token}` }
const post = async (url: string, payload: unknown) => {
  const res = await app.inject({ method: 'POST', url, headers: auth, payload: payload as object })
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`)
}
await post('/api/v1/models/create', { id: 'base', name: 'Base', base_model_id: null, params: {}, meta: {} })
// A second connection reads the log's frame count. The server's connection checkpoints on its own after
// 1,000 frames, so writes are counted in batches far below that, each after a full checkpoint.
const raw = new Database(path)
const BATCH = 20
const checkpoint = () => raw.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[]
const framesInLog = () => (raw.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0]?.log ?? 0
const scenarios: [string, (i: number) => Promise<void>][] = [
  [
    'create',
    (i) =>
      post('/api/v1/models/create', {
        id: `m-${i}`,
        name: `Model ${i}`,
        base_model_id: 'base',
        params: { temperature: 0.3 },
        meta: { description: 'd', tags: [{ name: 'a' }] },
      }),
  ],
  ['update', (i) => post('/api/v1/models/model/update', { id: 'm-0', name: `Renamed ${i}`, params: { temperature: 0.4 } })],
  ['toggle', () => post('/api/v1/models/model/toggle?id=m-0', {})],
  [
    'access update',
    (i) =>
      post('/api/v1/models/model/access/update', {
        id: 'm-0',
        access_grants: i % 2 ? [{ principal_type: 'user', principal_id: '*', permission: 'read' }] : [],
      }),
  ],
]
const rows: string[] = []
for (const [name, write] of scenarios) {
  let frames = 0
  let counted = 0
  const before = statements
  for (let i = 0; i < writes; i += BATCH) {
    checkpoint()
    for (let j = i; j < Math.min(writes, i + BATCH); j++) await write(j)
    frames += framesInLog()
    counted = Math.min(writes, i + BATCH)
  }
  rows.push(`| ${name} | ${(frames / counted).toFixed(1)} | ${((statements - before) / counted).toFixed(1)} |`)
}
console.log(`Model writes on SQLite (${writes} of each, one connection, WAL; \`npx tsx bench/write-pages.ts --writes ${writes}\`)\n`)
console.log('| write | WAL pages per write | SQL statements per write (request included) |')
console.log('|---|---|---|')
console.log(rows.join('\n'))
raw.close()
await app.close()
rmSync(dir, { recursive: true, force: true })
