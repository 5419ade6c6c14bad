import type { MigrationResultSet } from 'kysely'
import { describe, expect, it } from 'vitest'
import { retryConcurrentSchemaDrop } from './migrator.js'

/** A run answering each result in turn (the last one again when exhausted), counting its calls. */
function runs(...results: MigrationResultSet[]) {
  let calls = 0
  const run = () => Promise.resolve(results[Math.min(calls++, results.length - 1)] as MigrationResultSet)
  return { run, calls: () => calls }
}

const dropped = (code = '3F000'): MigrationResultSet => ({ error: Object.assign(new Error('schema "t_x" does not exist'), { code }) })
const applied: MigrationResultSet = { results: [{ migrationName: '0001_init', direction: 'Up', status: 'Success' }] }

describe('retryConcurrentSchemaDrop', () => {
  it('tries again while the catalog query fails on a schema, table or column dropped meanwhile, then answers the success', async () => {
    const r = runs(dropped(), dropped('42P01'), dropped('42703'), applied)
    expect(await retryConcurrentSchemaDrop(r.run)).toBe(applied)
    expect(r.calls()).toBe(4)
  })

  it('gives up after five attempts, answering the last failure', async () => {
    const r = runs(dropped())
    const result = await retryConcurrentSchemaDrop(r.run)
    expect((result.error as { code?: string }).code).toBe('3F000')
    expect(r.calls()).toBe(5)
  })

  it('never retries another error, nor one raised by a migration (results present: something may have run)', async () => {
    const other = runs({ error: Object.assign(new Error('syntax error'), { code: '42601' }) })
    await retryConcurrentSchemaDrop(other.run)
    expect(other.calls()).toBe(1)
    const inMigration = runs({
      error: Object.assign(new Error('gone'), { code: '3F000' }),
      results: [{ migrationName: '0002_x', direction: 'Up', status: 'Error' }],
    })
    await retryConcurrentSchemaDrop(inMigration.run)
    expect(inMigration.calls()).toBe(1)
  })
})
