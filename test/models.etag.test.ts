/**
 * ETags and If-Match on the model routes (issue #12): GET /model answers the version as a strong ETag,
 * every write answers the new one; update, toggle, access update and both deletes honour If-Match
 * (RFC 9110 §13.1.1: quoted strong tags, lists, `*`; weak tags never match; a malformed header is a
 * 400 naming headers.if-match; a stale one a 412 with current_version, nothing written). A caller who
 * may not write the model never learns its version: 403/404, never 412.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { preset, token, userGrant } from './support/factories.js'
import type { Harness, InjectOptions, Reply, TestAccount } from './support/harness.js'
import type { ModelOut } from './support/model-types.js'
import { versionsApi } from './support/model-versions.js'
import { createModelsWorld, M, modelsApi } from './support/models.js'
import { expectError } from './support/requests.js'

type Write = 'update' | 'toggle' | 'access' | 'delete' | 'delete (legacy)'
const WRITES: Write[] = ['update', 'toggle', 'access', 'delete', 'delete (legacy)']

describe.each(DIALECTS)('model ETags and If-Match on %s', (dialect) => {
  let h: Harness
  let creator: TestAccount
  let plain: TestAccount
  let pending: TestAccount
  /** A user with a read grant on the models of this file. */
  let reader: TestAccount
  /** A user with a write grant on the models of this file. */
  let writer: TestAccount
  const { send, create, tryGet, db } = modelsApi(() => h)
  const { historyOf, liveVersion, countVersions, countAudit, expectGapless } = versionsApi(() => h)

  beforeAll(async () => {
    ;({ h, creator, plain, pending } = await createModelsWorld(dialect))
    reader = await h.createUser('user', 'Reader')
    writer = await h.createUser('user', 'Writer')
  })
  afterAll(async () => h?.close())

  /** A model of `creator` at version `version` (created, then renamed), readable by `reader`, writable by `writer`. */
  async function modelAt(version: number): Promise<string> {
    const id = `etag-${token()}`
    await create(creator, preset(id, { access_grants: [userGrant(reader.id, 'read'), userGrant(writer.id, 'write')] }))
    for (let v = 2; v <= version; v++) {
      const res = await send(creator, { method: 'POST', url: `${M}/model/update`, payload: { id, name: `v${v}` } })
      expect(res.statusCode, res.body).toBe(200)
    }
    expect(await liveVersion(id)).toBe(version)
    return id
  }

  /** The request of one write of `kind` on `id` with the given If-Match (none: undefined). */
  function writeRequest(kind: Write, id: string, ifMatch?: string): InjectOptions {
    const headers: Record<string, string> = ifMatch === undefined ? {} : { 'if-match': ifMatch }
    const options: Record<Write, InjectOptions> = {
      update: { method: 'POST', url: `${M}/model/update`, headers, payload: { id, name: `renamed ${token()}` } },
      toggle: { method: 'POST', url: `${M}/model/toggle`, headers, query: { id } },
      // The grants the model already has: a write anyone who may write it may make.
      access: {
        method: 'POST',
        url: `${M}/model/access/update`,
        headers,
        payload: { id, access_grants: [userGrant(reader.id, 'read'), userGrant(writer.id, 'write')] },
      },
      delete: { method: 'POST', url: `${M}/model/delete`, headers, payload: { id } },
      'delete (legacy)': { method: 'DELETE', url: `${M}/model/delete`, headers, query: { id } },
    }
    return options[kind]
  }
  const write = (kind: Write, who: TestAccount, id: string, ifMatch?: string): Promise<Reply> => send(who, writeRequest(kind, id, ifMatch))

  /** The row, grants and history of `id`, to compare before and after a refused write. */
  async function state(id: string) {
    const row = await db().selectFrom('models').selectAll().where('id', '=', id).executeTakeFirst()
    const grants = await db()
      .selectFrom('model_grants')
      .select(['principal_type', 'principal_id', 'permission'])
      .where('model_id', '=', id)
      .orderBy('id')
      .execute()
    return JSON.parse(JSON.stringify({ row, grants, history: await historyOf(id), versions: await countVersions(), audit: await countAudit() })) as unknown
  }

  it('GET /model answers the version as a strong ETag; a write changes it', async () => {
    const id = await modelAt(3)
    const read = await tryGet(creator, id)
    expect(read.statusCode, read.body).toBe(200)
    expect(read.headers['etag']).toBe('"3"')
    expect(read.json<ModelOut>().version).toBe(3)
    // Every reader sees the same ETag.
    expect((await tryGet(reader, id)).headers['etag']).toBe('"3"')
    const toggled = await write('toggle', writer, id)
    expect(toggled.statusCode, toggled.body).toBe(200)
    // The single-model cache does not serve the old ETag after a write.
    const again = await tryGet(reader, id)
    expect(again.headers['etag']).toBe('"4"')
    expect(again.json<ModelOut>().version).toBe(4)
  })

  it.each(['update', 'toggle', 'access'] as const)('%s answers the new version in its body and its ETag', async (kind) => {
    const id = await modelAt(2)
    const res = await write(kind, creator, id)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json<ModelOut>().version).toBe(3)
    expect(res.headers['etag']).toBe('"3"')
    // The answered ETag is good for the next write.
    const next = await write(kind, creator, id, String(res.headers['etag']))
    expect(next.statusCode, next.body).toBe(200)
    expect(next.headers['etag']).toBe('"4"')
  })

  it('create answers version 1 and ETag "1"', async () => {
    const res = await send(creator, { method: 'POST', url: `${M}/create`, payload: preset(`etag-new-${token()}`) })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json<ModelOut>().version).toBe(1)
    expect(res.headers['etag']).toBe('"1"')
  })

  describe.each(WRITES)('%s with If-Match', (kind) => {
    it.each([['"3"'], ['"1", "3"'], ['"9","3"'], ['*'], ['W/"2", "3"'], [' "3" ']])('%s (matching the current version 3) → 200', async (header) => {
      const id = await modelAt(3)
      const res = await write(kind, creator, id, header)
      expect(res.statusCode, res.body).toBe(200)
      if (kind.startsWith('delete')) {
        expect(await liveVersion(id)).toBeUndefined()
        expect(await historyOf(id)).toEqual(['1:create:route', '2:update:route', '3:update:route', '4:delete:route'])
      } else {
        expect(res.headers['etag']).toBe('"4"')
        expect(await liveVersion(id)).toBe(4)
        await expectGapless(id)
      }
    })

    it.each([['"2"'], ['"1", "2"'], ['W/"3"'], ['"03"'], ['"abc"'], ['"4"']])(
      '%s (stale or never matching) → 412 with current_version 3, nothing written',
      async (header) => {
        const id = await modelAt(3)
        const before = await state(id)
        const res = await write(kind, writer, id, header)
        expectError(res, 412, 'PRECONDITION_FAILED')
        expect(res.json().current_version).toBe(3)
        expect(res.headers['etag']).toBe('"3"')
        expect(await state(id)).toEqual(before)
      },
    )

    it.each([['3'], ['"3'], ['W/3'], ['w/"3"'], ['"3" "4"'], ['*, "3"'], ['']])(
      '%j (malformed) → 400 naming headers.if-match, nothing written',
      async (header) => {
        const id = await modelAt(3)
        const before = await state(id)
        const res = await write(kind, creator, id, header)
        expectError(res, 400, 'VALIDATION_ERROR')
        expect(res.json().errors).toEqual([expect.objectContaining({ path: 'headers.if-match' })])
        expect(await state(id)).toEqual(before)
      },
    )

    it('without If-Match the write goes through as before', async () => {
      const id = await modelAt(3)
      const res = await write(kind, writer, id)
      expect(res.statusCode, res.body).toBe(200)
      expect(await historyOf(id)).toHaveLength(4)
    })

    it('a caller who may not write the model gets 403 or 404, never 412, whatever the If-Match', async () => {
      const id = await modelAt(3)
      const before = await state(id)
      for (const header of ['"1"', '"3"', '*', 'W/"3"', '"999"']) {
        // A reader: 403 (may read, may not change); the 403 does not carry the version.
        const asReader = await write(kind, reader, id, header)
        expectError(asReader, 403, 'ACCESS_PROHIBITED')
        expect(asReader.json().current_version).toBeUndefined()
        expect(asReader.headers['etag']).toBeUndefined()
        // A stranger: the 404 of an unknown id.
        const asStranger = await write(kind, plain, id, header)
        expectError(asStranger, 404, 'MODEL_NOT_FOUND')
        expect(asStranger.json().current_version).toBeUndefined()
        expect(asStranger.headers['etag']).toBeUndefined()
        // Pending accounts and anonymous callers are stopped before anything is looked up.
        expectError(await write(kind, pending, id, header), 403, 'ACCESS_PROHIBITED')
        const anonymous = await h.request(writeRequest(kind, id, header))
        expectError(anonymous, 401, 'UNAUTHORIZED')
      }
      expect(await state(id)).toEqual(before)
    })

    it('an unknown id with If-Match is a 404, even for the admin', async () => {
      const id = `etag-missing-${token()}`
      for (const header of ['"1"', '*']) {
        const res = await write(kind, h.admin, id, header)
        expectError(res, 404, 'MODEL_NOT_FOUND')
      }
      expect(await liveVersion(id)).toBeUndefined()
      expect(await historyOf(id)).toEqual([])
    })
  })

  it('a deleted model is not brought back by an access update with If-Match (the admin gets 404)', async () => {
    const id = await modelAt(2)
    expect((await write('delete', creator, id)).statusCode).toBe(200)
    const res = await send(h.admin, { method: 'POST', url: `${M}/model/access/update`, headers: { 'if-match': '"2"' }, payload: { id, access_grants: [] } })
    expectError(res, 404, 'MODEL_NOT_FOUND')
    expect(await liveVersion(id)).toBeUndefined()
    expect(await historyOf(id)).toEqual(['1:create:route', '2:update:route', '3:delete:route'])
    // Without If-Match the admin's access update still creates an override row there (as before).
    const created = await send(h.admin, { method: 'POST', url: `${M}/model/access/update`, payload: { id, access_grants: [] } })
    expect(created.statusCode, created.body).toBe(200)
    expect(created.json<ModelOut>().version).toBe(4)
    expect(await historyOf(id)).toEqual(['1:create:route', '2:update:route', '3:delete:route', '4:create:route'])
  })

  it('If-Match "0" names a row older than history; its write records the baseline first', async () => {
    const id = `etag-legacy-${token()}`
    const now = Math.floor(Date.now() / 1000)
    await db()
      .insertInto('models')
      .values({ id, user_id: creator.id, base_model_id: 'base-llm', name: 'Legacy', params: '{}', meta: '{}', is_active: 1, created_at: now, updated_at: now })
      .execute()
    expect((await tryGet(creator, id)).headers['etag']).toBe('"0"')
    expectError(await write('toggle', creator, id, '"1"'), 412, 'PRECONDITION_FAILED')
    expect(await historyOf(id)).toEqual([])
    const res = await write('toggle', creator, id, '"0"')
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers['etag']).toBe('"2"')
    expect(await historyOf(id)).toEqual(['1:baseline:system', '2:toggle:route'])
  })

  it('done when: A edits twice, B (write grant) edits with the stale ETag → 412; the history holds the versions in order', async () => {
    const id = `story-${token()}`
    const created = await send(creator, { method: 'POST', url: `${M}/create`, payload: preset(id, { access_grants: [userGrant(writer.id, 'write')] }) })
    expect(created.statusCode, created.body).toBe(200)
    // B reads the preset and keeps its ETag.
    const bRead = await tryGet(writer, id)
    const staleEtag = bRead.headers['etag'] as string
    expect(staleEtag).toBe('"1"')
    // A edits twice, each time with the ETag of the previous answer.
    const first = await send(creator, {
      method: 'POST',
      url: `${M}/model/update`,
      headers: { 'if-match': created.headers['etag'] as string },
      payload: { id, name: 'A1' },
    })
    expect(first.statusCode, first.body).toBe(200)
    const second = await send(creator, {
      method: 'POST',
      url: `${M}/model/update`,
      headers: { 'if-match': first.headers['etag'] as string },
      payload: { id, params: { temperature: 0.2 } },
    })
    expect(second.statusCode, second.body).toBe(200)
    expect(second.headers['etag']).toBe('"3"')
    // B's edit from the stale read is refused and tells B the current version.
    const stale = await send(writer, { method: 'POST', url: `${M}/model/update`, headers: { 'if-match': staleEtag }, payload: { id, name: 'B overwrites' } })
    expectError(stale, 412, 'PRECONDITION_FAILED')
    expect(stale.json().current_version).toBe(3)
    expect((await tryGet(creator, id)).json<ModelOut>().name).toBe('A1')
    // B reloads and edits knowingly.
    const reloaded = await tryGet(writer, id)
    const bWrite = await send(writer, {
      method: 'POST',
      url: `${M}/model/update`,
      headers: { 'if-match': reloaded.headers['etag'] as string },
      payload: { id, name: 'B' },
    })
    expect(bWrite.statusCode, bWrite.body).toBe(200)
    const versions = await expectGapless(id)
    expect(versions.map((v) => [v.version, v.action, v.user_id, v.snapshot.name, v.snapshot.params])).toEqual([
      [1, 'create', creator.id, `Model ${id}`, {}],
      [2, 'update', creator.id, 'A1', {}],
      [3, 'update', creator.id, 'A1', { temperature: 0.2 }],
      [4, 'update', writer.id, 'B', { temperature: 0.2 }],
    ])
  })
})
