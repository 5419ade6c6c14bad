/**
 * Where the recorder's batches are written (docs/analytics.md, "What recording costs"). On a SQLite file,
 * a worker thread with a connection of its own writes them (and prunes): better-sqlite3 runs every
 * statement synchronously, so a batch written on the main thread stopped every request for its duration
 * (each row maintains the table's indexes). WAL lets the two connections work side by side; a write of
 * one waits for the other's (busy_timeout). Elsewhere (PostgreSQL, whose driver is asynchronous, and an
 * in-memory SQLite database no second connection can open) the repo writes them through Kysely.
 *
 * The worker is unref'd (it never keeps the process alive) and stopped by `close()`, after its last batch.
 * If it dies, its pending batches fail (the recorder counts them as dropped) and later ones are written
 * on the main thread.
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { insertSql, USAGE_COLUMNS, type UsageRepo, type UsageValues } from './usage.repo.js'

export interface UsageWriter {
  /** Writes a flat batch in one transaction: whole or not at all. */
  write(values: UsageValues): Promise<void>
  /** Deletes rows older than `before` (epoch seconds); answers how many. */
  prune(before: number): Promise<number>
  close(): Promise<void>
}

/** The main thread, through the repo (Kysely). */
export function repoWriter(repo: UsageRepo): UsageWriter {
  return { write: (values) => repo.insertValues(values), prune: (before) => repo.prune(before), close: () => Promise.resolve() }
}

/**
 * The worker's code, plain JavaScript run with `eval` (so that the same code runs from src/ under tsx and
 * vitest and from dist/). One message at a time, in order: `write` (one transaction), `prune`, `close`.
 */
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.path)
db.pragma('busy_timeout = 10000')
db.pragma('synchronous = NORMAL')
const width = workerData.width
const one = db.prepare(workerData.insert)
const many = db.prepare(workerData.insertMany)
const manyRows = workerData.manyRows
const remove = db.prepare('delete from "usage_events" where "created_at" < ?')
// manyRows rows a statement while they last, then one by one: a third less CPU per row than one by one.
const write = db.transaction((values) => {
  let i = 0
  for (; i + manyRows * width <= values.length; i += manyRows * width) many.run(values.slice(i, i + manyRows * width))
  for (; i < values.length; i += width) one.run(values.slice(i, i + width))
})
parentPort.on('message', (m) => {
  try {
    if (m.type === 'write') {
      write(m.values)
      parentPort.postMessage({ id: m.id })
    } else if (m.type === 'prune') {
      parentPort.postMessage({ id: m.id, count: remove.run(m.before).changes })
    } else if (m.type === 'close') {
      db.close()
      parentPort.close()
    }
  } catch (error) {
    parentPort.postMessage({ id: m.id, error: String((error && error.message) || error) })
  }
})
`

/** Rows per multi-row INSERT in the worker (14 columns × 100 stays far below SQLite's bound on parameters). */
const MANY_ROWS = 100

interface Pending {
  resolve(count: number): void
  reject(error: Error): void
}

/** Writes and prunes on a worker thread with its own connection to the SQLite file `path`. */
export class SqliteWorkerWriter implements UsageWriter {
  private readonly worker: Worker
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private closed: Promise<void> | undefined
  private failure: Error | undefined

  constructor(path: string) {
    this.worker = new Worker(WORKER_CODE, {
      eval: true,
      workerData: {
        path,
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
        insert: insertSql('sqlite', 1),
        insertMany: insertSql('sqlite', MANY_ROWS),
        manyRows: MANY_ROWS,
        width: USAGE_COLUMNS.length,
      },
    })
    this.worker.unref()
    this.worker.on('message', (m: { id: number; count?: number; error?: string }) => {
      const pending = this.pending.get(m.id)
      this.pending.delete(m.id)
      if (m.error === undefined) pending?.resolve(m.count ?? 0)
      else pending?.reject(new Error(`usage writer: ${m.error}`))
    })
    this.worker.on('error', (error) => this.fail(error))
    this.worker.on('exit', (code) => this.fail(new Error(`usage writer exited (${code})`)))
  }

  /** Whether the worker still runs (after a failure the recorder writes on the main thread). */
  get alive(): boolean {
    return this.failure === undefined
  }

  write(values: UsageValues): Promise<void> {
    return this.send({ type: 'write', values }).then(() => undefined)
  }

  prune(before: number): Promise<number> {
    return this.send({ type: 'prune', before })
  }

  /** Stops the worker after what was sent before (messages are handled in order). */
  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      if (this.failure) return resolve()
      this.worker.once('exit', () => resolve())
      this.worker.postMessage({ type: 'close' })
    })
    return this.closed
  }

  private send(message: Record<string, unknown>): Promise<number> {
    if (this.failure) return Promise.reject(this.failure)
    if (this.closed) return Promise.reject(new Error('usage writer: closed'))
    const id = this.nextId++
    return new Promise<number>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.worker.postMessage({ ...message, id })
    })
  }

  private fail(error: Error): void {
    this.failure ??= error
    for (const pending of this.pending.values()) pending.reject(this.failure)
    this.pending.clear()
  }
}

/**
 * The writer for the repo's database, chosen on first use: a worker on a SQLite file, else the repo.
 * A worker that failed is replaced by the repo for what follows.
 */
export class UsageWriterSelector implements UsageWriter {
  private chosen: Promise<UsageWriter> | undefined
  private closed = false

  constructor(
    private readonly repo: UsageRepo,
    private readonly options: { worker?: boolean } = {},
  ) {}

  /** The writer in use ('worker' or 'main'); chooses it if not yet done. */
  async kind(): Promise<'worker' | 'main'> {
    return (await this.writer()) instanceof SqliteWorkerWriter ? 'worker' : 'main'
  }

  async write(values: UsageValues): Promise<void> {
    return (await this.writer()).write(values)
  }

  async prune(before: number): Promise<number> {
    return (await this.writer()).prune(before)
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.chosen) await (await this.chosen).close()
  }

  private async writer(): Promise<UsageWriter> {
    if (this.closed) throw new Error('usage writer: closed')
    this.chosen ??= this.choose()
    const writer = await this.chosen
    if (writer instanceof SqliteWorkerWriter && !writer.alive) {
      this.chosen = Promise.resolve(repoWriter(this.repo))
      return this.chosen
    }
    return writer
  }

  private async choose(): Promise<UsageWriter> {
    const file = this.options.worker === false ? null : await this.repo.sqliteFile()
    return file ? new SqliteWorkerWriter(file) : repoWriter(this.repo)
  }
}
