/**
 * src/db/insert-many.ts: many rows into one table, on PostgreSQL as one JSON parameter unpacked by the
 * server, on SQLite as multi-row INSERTs. What goes in must come back as it went in (quotes, backslashes,
 * JSON-looking text, emoji, NULLs, epoch milliseconds), whole or not at all, inside the caller's
 * transaction, and rows of different columns still take their defaults.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Insertable } from 'kysely'
import { insertMany, jsonChunks, postgresJsonText } from '../src/db/insert-many.js'
import { migrateToLatest } from '../src/db/migrator.js'
import type { AuditLogTable } from '../src/db/types.js'
import { DIALECTS, openTestDatabase, type TestDatabase } from './support/databases.js'

const ODD = ['it\'s "quoted"', 'back\\slash \\u0041', '{"json": [1, 2], "x": null}', 'emoji 🤖, ñ, 中文', 'tab\tnew\nline\u0001', '', '$1 ?? :x']

function auditRow(i: number, prefix: string): Insertable<AuditLogTable> {
  const text = ODD[i % ODD.length] ?? ''
  return {
    id: `${prefix}-${String(i).padStart(5, '0')}`,
    at: 1_765_000_000_000 + i,
    actor_id: i % 3 === 0 ? null : text,
    action: 'model.update',
    target_type: 'model',
    target_id: `m/${text}`,
    ip: null,
    request_id: i % 2 ? `req-${i}` : null,
    before: i % 5 === 0 ? null : JSON.stringify({ text, n: i }),
    after: text,
  }
}

describe('postgresJsonText', () => {
  it('is JSON.stringify for ordinary text, and turns only unpaired surrogates into U+FFFD', () => {
    const value = [{ a: 'plain 🤖 \\ud800 as text' }, 1, null]
    expect(postgresJsonText(value)).toBe(JSON.stringify(value))
    expect(JSON.parse(postgresJsonText(['lone \ud800 high', 'lone \udc00 low', 'pair 🤖']))).toEqual(['lone \ufffd high', 'lone \ufffd low', 'pair 🤖'])
  })
})

describe('jsonChunks (PostgreSQL statements of bounded rows and text)', () => {
  const rows = [{ a: 'x'.repeat(10) }, { a: 'y'.repeat(30) }, { a: 'z' }, { a: 'w'.repeat(100) }, { a: 'v' }]

  it('cuts at the row count or the text budget, whichever comes first; a row over the budget goes alone', () => {
    const chunks = [...jsonChunks(rows, 2, 60)]
    expect(chunks.map((c) => (JSON.parse(c) as unknown[]).length)).toEqual([2, 1, 1, 1])
    expect(chunks.flatMap((c) => JSON.parse(c) as unknown[])).toEqual(rows)
    for (const chunk of chunks) if ((JSON.parse(chunk) as unknown[]).length > 1) expect(chunk.length).toBeLessThanOrEqual(60)
  })

  it('keeps every row, in order, under the default bounds', () => {
    const many = Array.from({ length: 4_321 }, (_, i) => ({ i }))
    const chunks = [...jsonChunks(many)]
    expect(chunks.map((c) => (JSON.parse(c) as unknown[]).length)).toEqual([2000, 2000, 321])
    expect(chunks.flatMap((c) => JSON.parse(c) as unknown[])).toEqual(many)
  })
})

describe.each(DIALECTS)('insertMany on %s', (dialect) => {
  let database: TestDatabase

  beforeAll(async () => {
    database = await openTestDatabase(dialect)
    await migrateToLatest(database)
  })
  afterAll(async () => {
    await database.close()
  })

  const rowsOf = (prefix: string) => database.db.selectFrom('audit_log').selectAll().where('id', 'like', `${prefix}-%`).orderBy('id').execute()

  it('stores every value as given, over more rows than one statement takes', async () => {
    const rows = Array.from({ length: 2_345 }, (_, i) => auditRow(i, 'many'))
    await insertMany(database.db, 'audit_log', rows)
    expect(await rowsOf('many')).toEqual(rows)
  })

  it('writes inside the caller transaction: rolled back with it', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => auditRow(i, 'rolled'))
    await expect(
      database.db.transaction().execute(async (trx) => {
        await insertMany(trx, 'audit_log', rows)
        expect(await trx.selectFrom('audit_log').select('id').where('id', 'like', 'rolled-%').execute()).toHaveLength(30)
        throw new Error('abort')
      }),
    ).rejects.toThrow('abort')
    expect(await rowsOf('rolled')).toEqual([])
  })

  it('writes nothing when one row breaks a constraint', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => auditRow(i, 'dup'))
    rows.push({ ...auditRow(7, 'dup') }) // the same primary key twice
    await expect(insertMany(database.db, 'audit_log', rows)).rejects.toThrow()
    expect(await rowsOf('dup')).toEqual([])
  })

  it('treats a column one row leaves out as the query builder does (PostgreSQL: its default)', async () => {
    // models.version defaults to 0 (audit_log has no defaults).
    await database.db
      .insertInto('users')
      .values({ id: 'insert-many-owner', email: 'insert-many@example.com', name: 'O', role: 'user', profile_image_url: '', created_at: 1, updated_at: 1 })
      .execute()
    const base = { user_id: 'insert-many-owner', base_model_id: null, name: 'n', params: '{}', meta: '{}', is_active: 1, created_at: 1, updated_at: 1 }
    const rows = [
      { ...base, id: 'insert-many-a', version: 3 },
      { ...base, id: 'insert-many-b' },
    ]
    if (dialect === 'sqlite') {
      // Kysely writes NULL for it on SQLite (which has no DEFAULT in VALUES): the builder's behaviour, kept.
      await expect(insertMany(database.db, 'models', rows)).rejects.toThrow(/NOT NULL/)
      return
    }
    await insertMany(database.db, 'models', rows)
    const back = await database.db.selectFrom('models').select(['id', 'version']).where('id', 'like', 'insert-many-%').orderBy('id').execute()
    expect(back.map((r) => [r.id, Number(r.version)])).toEqual([
      ['insert-many-a', 3],
      ['insert-many-b', 0],
    ])
  })

  it('stores a lone surrogate as replacement characters, as a text parameter did', async () => {
    await insertMany(database.db, 'audit_log', [auditRow(1, 'surrogate'), { ...auditRow(2, 'surrogate'), after: 'lone \ud800 here' }])
    const back = await rowsOf('surrogate')
    expect(back).toHaveLength(2)
    expect(back[1]?.after).toMatch(/^lone \ufffd+ here$/)
  })
})
