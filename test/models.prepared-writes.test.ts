/**
 * The single-model write path's compiled statements (models.repo.ts, model-grants.repo.ts): each must
 * answer what Kysely's builder answered for the same call, on both dialects, whatever the values; and the
 * SQLite file's checkpoint interval (database.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ModelGrantsRepo } from '../src/access/model-grants.repo.js'
import { createDatabase } from '../src/db/database.js'
import { ModelsRepo, type ModelRow } from '../src/models/models.repo.js'
import { DIALECTS } from './support/databases.js'
import { createHarness, type Harness } from './support/harness.js'

describe.each(DIALECTS)('compiled single-model statements on %s', (dialect) => {
  let h: Harness
  let repo: ModelsRepo
  let owner: string

  beforeAll(async () => {
    h = await createHarness(dialect)
    repo = new ModelsRepo(h.database.db)
    owner = (await h.createUser('admin')).id
  })
  afterAll(async () => h?.close())

  const row = (id: string, overrides: Partial<Omit<ModelRow, 'version'>> = {}): Omit<ModelRow, 'version'> => ({
    id,
    user_id: owner,
    base_model_id: null,
    name: `Name of ${id}`,
    params: '{"temperature":0.5}',
    meta: '{}',
    is_active: 1,
    created_at: 1_700_000_000,
    updated_at: 1_700_000_001,
    template_id: null,
    ...overrides,
  })

  const built = (ids: string[]) => h.database.db.selectFrom('models').selectAll().where('id', 'in', ids).orderBy('id').execute()

  it('insertAtNextVersion stores every column as given and continues the id’s numbering', async () => {
    const version = await repo.insertAtNextVersion(row('pw-a', { base_model_id: 'llama3', is_active: 0, template_id: null }))
    expect(version).toBe(1)
    const [stored] = await built(['pw-a'])
    expect(stored).toMatchObject({ id: 'pw-a', user_id: owner, base_model_id: 'llama3', name: 'Name of pw-a', is_active: 0, version: 1 })
    expect(Number(stored?.created_at)).toBe(1_700_000_000)
    expect(Number(stored?.updated_at)).toBe(1_700_000_001)
    // An id with history (a model deleted at version 3) continues at 4.
    await h.database.db
      .insertInto('model_versions')
      .values({ model_id: 'pw-b', version: 3, created_at: 1, user_id: owner, action: 'delete', source: 'route', owner_id: owner, snapshot: '{}' })
      .execute()
    expect(await repo.insertAtNextVersion(row('pw-b'))).toBe(4)
  })

  it('a second insert of one id fails on the primary key (the create’s 409), the first row unchanged', async () => {
    await expect(repo.insertAtNextVersion(row('pw-a', { name: 'Other' }))).rejects.toThrow()
    expect((await repo.findById('pw-a'))?.name).toBe('Name of pw-a')
  })

  it('findById, findByIds (one, two, three ids) and findByIdForUpdate answer what the builder answers', async () => {
    await repo.insertAtNextVersion(row('pw-c'))
    expect(await repo.findById('pw-a')).toEqual((await built(['pw-a']))[0])
    expect(await repo.findById('pw-missing')).toBeUndefined()
    const sorted = (rows: ModelRow[]) => [...rows].sort((a, b) => a.id.localeCompare(b.id))
    expect(await repo.findByIds(['pw-a'])).toEqual(await built(['pw-a']))
    expect(sorted(await repo.findByIds(['pw-c', 'pw-a']))).toEqual(await built(['pw-a', 'pw-c']))
    expect(sorted(await repo.findByIds(['pw-c', 'pw-missing']))).toEqual(await built(['pw-c']))
    expect(sorted(await repo.findByIds(['pw-a', 'pw-b', 'pw-c']))).toEqual(await built(['pw-a', 'pw-b', 'pw-c']))
    const locked = await h.database.db.transaction().execute((trx) => new ModelsRepo(trx).findByIdForUpdate('pw-c', dialect))
    expect(locked).toEqual((await built(['pw-c']))[0])
  })

  it('update sets exactly the columns of each patch, whatever set of columns came before', async () => {
    await repo.update('pw-c', { name: 'Renamed', updated_at: 5, version: 2 })
    await repo.update('pw-c', { params: '{"top_p":0.9}', updated_at: 6, version: 3 })
    await repo.update('pw-c', { name: 'Renamed again', updated_at: 7, version: 4 })
    await repo.update('pw-a', { name: 'Only a', updated_at: 8, version: 2 })
    const [a, c] = await built(['pw-a', 'pw-c'])
    expect(c).toMatchObject({ name: 'Renamed again', params: '{"top_p":0.9}', meta: '{}', version: 4 })
    expect(Number(c?.updated_at)).toBe(7)
    expect(a).toMatchObject({ name: 'Only a', params: '{"temperature":0.5}', version: 2 })
    // A column given as undefined is left as it is (the builder skipped it), never set to NULL.
    await repo.update('pw-a', { name: 'Only a, again', base_model_id: undefined, meta: undefined, updated_at: 9, version: 3 })
    const [after] = await built(['pw-a'])
    expect(after).toMatchObject({ name: 'Only a, again', base_model_id: 'llama3', meta: '{}', version: 3 })
  })

  it('insertTags of one tag and of several stores each once, by its key', async () => {
    await repo.insertTags('pw-a', ['Chat'])
    await repo.insertTags('pw-b', ['Code', 'code', 'Fast'])
    const tags = await h.database.db
      .selectFrom('model_tags')
      .select(['model_id', 'tag_key', 'name'])
      .where('model_id', 'in', ['pw-a', 'pw-b'])
      .orderBy('model_id')
      .orderBy('tag_key')
      .execute()
    expect(tags).toEqual([
      { model_id: 'pw-a', tag_key: 'chat', name: 'Chat' },
      { model_id: 'pw-b', tag_key: 'code', name: 'code' },
      { model_id: 'pw-b', tag_key: 'fast', name: 'Fast' },
    ])
  })

  it('grantsOf one model answers the rows and order of grantsOf many', async () => {
    const grants = new ModelGrantsRepo(h.database.db)
    await grants.replace(
      'pw-a',
      [
        { principal_type: 'user', principal_id: 'u-2', permission: 'write' },
        { principal_type: 'group', principal_id: 'g-1', permission: 'read' },
        { principal_type: 'user', principal_id: 'u-1', permission: 'read' },
      ],
      1,
    )
    const one = (await grants.grantsOf(['pw-a'])).get('pw-a')
    const many = (await grants.grantsOf(['pw-a', 'pw-c'])).get('pw-a')
    expect(one).toEqual(many)
    expect(one?.map((g) => `${g.principal_type}:${g.principal_id}:${g.permission}`)).toEqual(['group:g-1:read', 'user:u-1:read', 'user:u-2:write'])
    expect((await grants.grantsOf(['pw-missing'])).get('pw-missing')).toEqual([])
  })
})

describe('the SQLite file’s checkpoint interval', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-wal-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('is 4,000 pages in WAL mode (SQLite’s default is 1,000)', async () => {
    const database = createDatabase({ dialect: 'sqlite', path: join(dir, 'db.sqlite') })
    try {
      const { rows } = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(database.db)
      expect(rows[0]?.wal_autocheckpoint).toBe(4000)
      const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(database.db)
      expect(mode.rows[0]?.journal_mode).toBe('wal')
    } finally {
      await database.close()
    }
  })
})
