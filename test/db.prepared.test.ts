import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrateToLatest } from '../src/db/migrator.js'
import { PreparedQuery } from '../src/db/prepared.js'
import { DIALECTS, openTestDatabase, type TestDatabase } from './support/databases.js'

const byEmailAndName = new PreparedQuery<[string, string], { id: string }>(2, (db, email, name) =>
  db.selectFrom('users').select('id').where('email', '=', email).where('name', '=', name).where('role', '!=', 'pending'),
)

describe.each(DIALECTS)('PreparedQuery (%s): compiled once, run with each call’s values', (dialect) => {
  let database: TestDatabase
  beforeAll(async () => {
    database = await openTestDatabase(dialect)
    await migrateToLatest(database)
    const now = 1_700_000_000
    await database.db
      .insertInto('users')
      .values(
        ['a', 'b'].map((id) => ({
          id,
          email: `${id}@example.com`,
          name: id,
          role: id === 'a' ? 'admin' : 'user',
          profile_image_url: '',
          created_at: now,
          updated_at: now,
        })),
      )
      .execute()
  })
  afterAll(() => database.close())

  it('answers each call with its own values, constants kept as compiled', async () => {
    expect(await byEmailAndName.execute(database.db, 'a@example.com', 'a')).toEqual([{ id: 'a' }])
    expect(await byEmailAndName.execute(database.db, 'b@example.com', 'b')).toEqual([{ id: 'b' }])
    expect(await byEmailAndName.first(database.db, 'b@example.com', 'a')).toBeUndefined()
  })

  it('runs inside a transaction on the transaction’s connection', async () => {
    const seen = await database.db.transaction().execute(async (trx) => {
      await trx.updateTable('users').set({ name: 'renamed' }).where('id', '=', 'b').execute()
      return byEmailAndName.first(trx, 'b@example.com', 'renamed')
    })
    expect(seen).toEqual({ id: 'b' })
  })

  it('refuses a builder that does not use a placeholder as a parameter', async () => {
    const broken = new PreparedQuery<[string], { id: string }>(1, (db) => db.selectFrom('users').select('id'))
    await expect(broken.execute(database.db, 'x')).rejects.toThrow(/placeholder/)
  })
})
