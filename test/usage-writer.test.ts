/**
 * Issue #17 item 7: where usage batches are written (src/analytics/usage-writer.ts). On a SQLite file a
 * worker thread with its own connection writes and prunes them: what was queued is in the table once the
 * recorder (or the whole analytics feature, at shutdown) is closed, the worker stops, retention applies
 * through it, and a worker that cannot work fails its batches (counted as dropped) instead of hanging.
 * Elsewhere (in memory, PostgreSQL) the main thread writes them; a batch of any size is cut into
 * statements the same way on both dialects.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAnalytics } from '../src/analytics/analytics.feature.js'
import { UsageRecorder } from '../src/analytics/usage-recorder.js'
import { flatten, UsageRepo, type UsageRow } from '../src/analytics/usage.repo.js'
import { SqliteWorkerWriter, UsageWriterSelector } from '../src/analytics/usage-writer.js'
import { createDatabase, type Database } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrator.js'
import type { UpstreamCall } from '../src/gateway/gateway-observer.js'
import { DIALECTS, openTestDatabase } from './support/databases.js'

const DAY = 86_400

function call(i: number): UpstreamCall {
  return {
    connectionId: 'conn',
    connectionName: 'Conn',
    path: i % 2 ? '/chat/completions' : '/embeddings',
    userId: `user-${i % 3}`,
    model: 'preset',
    upstreamModel: 'base',
    stream: i % 2 === 1,
    status: 200,
    latencyMs: 12.4,
    ...(i % 2 === 1 && { firstChunkMs: 3.6 }),
    ...(i % 5 === 0 && { error: 'timeout' as const }),
    usage: { prompt_tokens: i, completion_tokens: 2, total_tokens: i + 2 },
  }
}

function row(i: number, createdAt: number): UsageRow {
  return {
    created_at: createdAt,
    user_id: `u${i % 7}`,
    model_id: `m${i % 4}`,
    base_model_id: 'b',
    connection_id: 'c',
    endpoint: 'chat',
    stream: i % 2,
    status: 200,
    error: i % 10 === 0 ? 'http_5xx' : null,
    prompt_tokens: i,
    completion_tokens: 1,
    total_tokens: i + 1,
    latency_ms: i,
    first_chunk_ms: i % 2 ? i : null,
  }
}

describe('usage writer on a SQLite file (worker thread)', () => {
  let dir: string
  let database: Database

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mg-usage-writer-'))
    database = createDatabase({ dialect: 'sqlite', path: join(dir, 'db.sqlite') })
    await migrateToLatest(database)
  })
  afterAll(async () => {
    await database.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const rowsOf = (userPrefix: string) =>
    database.db.selectFrom('usage_events').selectAll().where('user_id', 'like', `${userPrefix}%`).orderBy('prompt_tokens').execute()

  it('chooses the worker for a file, and the recorder writes every queued call through it on close', async () => {
    const repo = new UsageRepo(database)
    const writer = new UsageWriterSelector(repo)
    expect(await writer.kind()).toBe('worker')
    const recorder = new UsageRecorder(repo, { retentionDays: 0, batchSize: 100, writer })
    const calls = Array.from({ length: 250 }, (_, i) => ({ ...call(i), userId: `file-${i % 3}` }))
    for (const c of calls) recorder.onUpstream(c)
    expect(recorder.stats()).toEqual({ queued: 250, written: 0, dropped: 0 })
    await recorder.close()
    expect(recorder.stats()).toEqual({ queued: 0, written: 250, dropped: 0 })
    const rows = await rowsOf('file-')
    expect(rows).toHaveLength(250)
    expect(rows[1]).toMatchObject({
      user_id: 'file-1',
      endpoint: 'chat',
      stream: 1,
      status: 200,
      error: null,
      latency_ms: 12,
      first_chunk_ms: 4,
      total_tokens: 3,
    })
    expect(rows[5]).toMatchObject({ endpoint: 'chat', error: 'timeout', prompt_tokens: 5 })
    expect(rows[0]).toMatchObject({ endpoint: 'embeddings', stream: 0, first_chunk_ms: null, error: 'timeout' })
    // Stopped: nothing more can be written through it.
    await expect(writer.write(flatten([row(1, 0)]))).rejects.toThrow(/closed/)
  })

  it('writes what is queued at shutdown when the analytics feature closes', async () => {
    const analytics = createAnalytics(database, { recording: true, retentionDays: 90 }, { flushMs: 60_000 })
    for (let i = 0; i < 30; i++) analytics.recorder?.onUpstream({ ...call(i), userId: 'shutdown-user' })
    expect(await rowsOf('shutdown-')).toHaveLength(0)
    await analytics.close()
    expect(await rowsOf('shutdown-')).toHaveLength(30)
  })

  it('prunes through the worker: rows older than the retention go, newer ones stay', async () => {
    const repo = new UsageRepo(database)
    const writer = new UsageWriterSelector(repo)
    const recorder = new UsageRecorder(repo, { retentionDays: 90, writer })
    const now = Date.now()
    const at = (days: number) => Math.floor(now / 1000) - days * DAY
    await repo.insert([91, 200, 89, 1].map((days, i) => ({ ...row(i, at(days)), user_id: 'retained-user' })))
    expect(await recorder.prune(now)).toBe(2)
    expect(await writer.kind()).toBe('worker')
    expect((await rowsOf('retained-')).map((r) => r.created_at).sort()).toEqual([at(89), at(1)].sort())
    await recorder.close()
  })

  it('a batch the worker cannot write fails whole, and the worker goes on with the next', async () => {
    const writer = new SqliteWorkerWriter(await new UsageRepo(database).sqliteFile().then((f) => f ?? ''))
    const rows = Array.from({ length: 20 }, (_, i) => ({ ...row(i, 0), user_id: 'bad-batch-user' }))
    const bad = flatten(rows)
    bad[bad.length - 13] = null // the last row's user_id: NOT NULL
    await expect(writer.write(bad)).rejects.toThrow(/usage writer: .*NOT NULL/)
    expect(await rowsOf('bad-batch-')).toEqual([])
    await writer.write(flatten(rows))
    expect(await rowsOf('bad-batch-')).toHaveLength(20)
    expect(writer.alive).toBe(true)
    await writer.close()
  })

  it('a worker that cannot open its database fails its writes instead of hanging', async () => {
    const writer = new SqliteWorkerWriter(join(dir, 'missing', 'nested', 'db.sqlite'))
    await expect(writer.write(flatten([row(1, 0)]))).rejects.toThrow()
    expect(writer.alive).toBe(false)
    await writer.close()
  })
})

describe.each(DIALECTS)('usage writer on %s test databases', (dialect) => {
  let database: Database

  beforeAll(async () => {
    database = await openTestDatabase(dialect)
    await migrateToLatest(database)
  })
  afterAll(async () => {
    await database.close()
  })

  it('writes on the main thread (no file a second connection could open)', async () => {
    expect(await new UsageWriterSelector(new UsageRepo(database)).kind()).toBe('main')
  })

  it('writes a batch of any size whole (SQLite: statements of 256, 128, … rows; PostgreSQL: one statement)', async () => {
    const repo = new UsageRepo(database)
    const rows = Array.from({ length: 701 }, (_, i) => row(i, 1_000 + i))
    await repo.insert(rows)
    const back = await database.db.selectFrom('usage_events').selectAll().where('created_at', '>=', 1_000).orderBy('created_at').execute()
    expect(back).toEqual(rows)
  })

  it('keeps every value as sent: quotes, backslashes, JSON-looking text, emoji, control characters, big counts', async () => {
    const repo = new UsageRepo(database)
    const odd = ['it\'s "quoted"', 'back\\slash\\u0000', '{"json": [1, 2]}', 'emoji 🤖 and ñ', 'tab\tnew\nline\u0001', '', ' spaced ', '$1 ?? :x']
    const rows = odd.map((text, i) => ({
      ...row(i, 7_000 + i),
      user_id: text,
      model_id: `m/${text}`,
      error: text || null,
      total_tokens: 2_000_000_000,
      created_at: 7_000 + i,
    }))
    await repo.insert(rows)
    const back = await database.db
      .selectFrom('usage_events')
      .selectAll()
      .where('created_at', '>=', 7_000)
      .where('created_at', '<', 7_100)
      .orderBy('created_at')
      .execute()
    expect(back).toEqual(rows)
  })

  it('stores a batch holding text the database cannot keep as is (a lone surrogate, NUL) instead of losing it', async () => {
    const repo = new UsageRepo(database)
    const rows = [row(1, 8_000), { ...row(2, 8_001), model_id: 'lone \ud800 surrogate', error: 'nul \u0000 here' }]
    await repo.insert(rows)
    const back = await database.db
      .selectFrom('usage_events')
      .selectAll()
      .where('created_at', '>=', 8_000)
      .where('created_at', '<', 8_100)
      .orderBy('created_at')
      .execute()
    expect(back).toHaveLength(2)
    expect(back[0]).toEqual(rows[0])
    // Each driver stores it as replacement characters (PostgreSQL one, SQLite one per byte of its UTF-8 form).
    expect(back[1]?.model_id).toMatch(/^lone \ufffd+ surrogate$/)
    // SQLite keeps NUL; PostgreSQL's text cannot hold it, so it stands as U+FFFD there.
    expect(back[1]?.error).toBe(dialect === 'sqlite' ? 'nul \u0000 here' : 'nul \ufffd here')
  })

  it('writes nothing of a batch with one bad row', async () => {
    const repo = new UsageRepo(database)
    const rows = Array.from({ length: 300 }, (_, i) => row(i, 5_000))
    const bad = flatten(rows)
    bad[bad.length - 13] = null // the last row's user_id: NOT NULL
    await expect(repo.insertValues(bad)).rejects.toThrow()
    expect(await database.db.selectFrom('usage_events').select('created_at').where('created_at', '=', 5_000).execute()).toEqual([])
  })
})
