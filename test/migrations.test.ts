import { randomBytes } from 'node:crypto'
import { NO_MIGRATIONS, sql } from 'kysely'
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createDatabase } from '../src/db/database.js'
import { createMigrator, migrateToLatest, MIGRATIONS } from '../src/db/migrator.js'
import { DIALECTS, freshPostgresSchema, openTestDatabase, type TestDatabase } from './support/databases.js'

const FOUNDATION_TABLES = ['api_keys', 'credentials', 'group_members', 'groups', 'users']
const ALL_MIGRATIONS = Object.keys(MIGRATIONS)

/** Base tables in the database's current schema (the per-test schema on a PostgreSQL server). */
async function tableNames(database: TestDatabase): Promise<string[]> {
  if (database.dialect === 'postgres') {
    // Only this schema: Kysely's introspection reads every schema, and other test files drop theirs meanwhile.
    const { rows } = await sql<{ name: string }>`select table_name as name from information_schema.tables
      where table_schema = current_schema() and table_type = 'BASE TABLE' and table_name not like 'kysely_%'`.execute(database.db)
    return rows.map((r) => r.name).sort()
  }
  const tables = await database.db.introspection.getTables()
  return tables
    .filter((t) => !t.isView && !t.name.startsWith('kysely_'))
    .map((t) => t.name)
    .sort()
}

/** Inserts one account with everything hanging off it, and reads it back through joins. */
async function roundTrip(database: TestDatabase, suffix: string) {
  const { db } = database
  const userId = `user-${suffix}`
  const groupId = `group-${suffix}`
  await db
    .insertInto('users')
    .values({
      id: userId,
      email: `${suffix}@example.com`,
      name: 'Ada',
      role: 'admin',
      profile_image_url: '',
      created_at: 1_700_000_000,
      updated_at: 1_700_000_001,
    })
    .execute()
  await db.insertInto('credentials').values({ user_id: userId, password_hash: 'scrypt$x' }).execute()
  await db
    .insertInto('api_keys')
    .values({ id: `key-${suffix}`, user_id: userId, key_hash: `hash-${suffix}`, key_hint: 'sk-ab…cdef', created_at: 1_700_000_002, last_used_at: null })
    .execute()
  await db
    .insertInto('groups')
    .values({ id: groupId, user_id: userId, name: 'G', description: '', permissions: '{"workspace":{"models":true}}', created_at: 1, updated_at: 2 })
    .execute()
  await db.insertInto('group_members').values({ group_id: groupId, user_id: userId, created_at: 3 }).execute()

  const row = await db
    .selectFrom('users')
    .innerJoin('credentials', 'credentials.user_id', 'users.id')
    .innerJoin('api_keys', 'api_keys.user_id', 'users.id')
    .innerJoin('group_members', 'group_members.user_id', 'users.id')
    .innerJoin('groups', 'groups.id', 'group_members.group_id')
    .select(['users.id', 'users.email', 'users.created_at', 'credentials.password_hash', 'api_keys.key_hint', 'api_keys.last_used_at', 'groups.permissions'])
    .where('users.id', '=', userId)
    .executeTakeFirstOrThrow()
  expect(row).toEqual({
    id: userId,
    email: `${suffix}@example.com`,
    // bigint columns come back as numbers on both dialects.
    created_at: 1_700_000_000,
    password_hash: 'scrypt$x',
    key_hint: 'sk-ab…cdef',
    last_used_at: null,
    permissions: '{"workspace":{"models":true}}',
  })
}

describe.each(DIALECTS)('migrations on %s', (dialect) => {
  let database: TestDatabase
  beforeEach(async () => {
    database = await openTestDatabase(dialect)
  })
  afterEach(async () => database?.close())

  it('applies 0001_foundation (and every later migration, in order) to an empty database', async () => {
    expect(await tableNames(database)).toEqual([])
    const applied = await migrateToLatest(database)
    expect(applied[0]).toBe('0001_foundation')
    expect(applied).toEqual(ALL_MIGRATIONS)
    expect(ALL_MIGRATIONS).toEqual([...ALL_MIGRATIONS].sort())
    expect(await tableNames(database)).toEqual(expect.arrayContaining(FOUNDATION_TABLES))
    await roundTrip(database, 'first')
  })

  it('applies nothing the second time and keeps the data', async () => {
    await migrateToLatest(database)
    await roundTrip(database, 'kept')
    expect(await migrateToLatest(database)).toEqual([])
    const migrations = await (await createMigrator(database)).getMigrations()
    expect(migrations.map((m) => m.name)).toEqual(ALL_MIGRATIONS)
    expect(migrations.every((m) => m.executedAt instanceof Date)).toBe(true)
    expect(await database.db.selectFrom('users').select('id').execute()).toEqual([{ id: 'user-kept' }])
  })

  it('enforces the foundation constraints', async () => {
    await migrateToLatest(database)
    await roundTrip(database, 'c')
    const { db } = database
    // Unique email.
    await expect(
      db
        .insertInto('users')
        .values({ id: 'other', email: 'c@example.com', name: 'B', role: 'user', profile_image_url: '', created_at: 1, updated_at: 1 })
        .execute(),
    ).rejects.toThrow()
    // A membership must point at an existing user.
    await expect(db.insertInto('group_members').values({ group_id: 'group-c', user_id: 'nobody', created_at: 1 }).execute()).rejects.toThrow()
    // Deleting the user cascades to credentials, keys and memberships, and clears the group's creator.
    await db.deleteFrom('users').where('id', '=', 'user-c').execute()
    for (const table of ['credentials', 'api_keys', 'group_members'] as const) {
      expect(await db.selectFrom(table).selectAll().execute(), table).toEqual([])
    }
    expect(await db.selectFrom('groups').select(['id', 'user_id']).execute()).toEqual([{ id: 'group-c', user_id: null }])
  })

  it('migrates down and back up', async () => {
    const migrator = await createMigrator(database)
    await migrateToLatest(database)

    // One step down undoes exactly the newest migration.
    const down = await migrator.migrateDown()
    expect(down.error).toBeUndefined()
    expect(down.results?.map((r) => [r.migrationName, r.direction, r.status])).toEqual([[ALL_MIGRATIONS.at(-1), 'Down', 'Success']])
    expect(await migrateToLatest(database)).toEqual([ALL_MIGRATIONS.at(-1)])

    // All the way down removes every table, 0001_foundation's included.
    const bottom = await migrator.migrateTo(NO_MIGRATIONS)
    expect(bottom.error).toBeUndefined()
    expect(bottom.results?.map((r) => r.migrationName)).toEqual([...ALL_MIGRATIONS].reverse())
    expect(await tableNames(database)).toEqual([])

    // And up again: a working schema.
    expect(await migrateToLatest(database)).toEqual(ALL_MIGRATIONS)
    expect(await tableNames(database)).toEqual(expect.arrayContaining(FOUNDATION_TABLES))
    await roundTrip(database, 'again')
  })
})

/**
 * Kysely finds its bookkeeping tables by introspecting every schema of the database; schemas dropped
 * meanwhile by other sessions (parallel test files, a benchmark) used to fail a migration with "schema …
 * does not exist" before anything was applied (seen in CI). Real server only: PGlite has one session.
 */
describe('migrations while other sessions drop schemas (PostgreSQL server)', () => {
  const serverIt = process.env['TEST_POSTGRES_URL'] ? it : it.skip

  serverIt(
    'migrate every time, with no error, while 40 other schemas are dropped around them (4 rounds)',
    async () => {
      const admin = new pg.Client({ connectionString: process.env['TEST_POSTGRES_URL'] })
      await admin.connect()
      try {
        for (let round = 0; round < 4; round++) {
          const others = Array.from({ length: 10 }, (_, i) => `mg_churn_${round}_${i}_${randomBytes(4).toString('hex')}`)
          for (const name of others) await admin.query(`create schema ${name}; create table ${name}.t (id serial primary key, note text)`)
          const target = await freshPostgresSchema('mg_migr')
          const database = createDatabase({ dialect: 'postgres', url: target.url }, { pgPoolSize: 2 })
          try {
            const dropping = (async () => {
              for (const name of others) await admin.query(`drop schema ${name} cascade`)
            })()
            const [applied] = await Promise.all([migrateToLatest(database), dropping])
            expect(applied).toEqual(ALL_MIGRATIONS)
          } finally {
            await database.close()
            await target.drop()
          }
        }
      } finally {
        await admin.end()
      }
    },
    60_000,
  )
})
