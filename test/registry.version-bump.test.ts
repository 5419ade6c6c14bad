/**
 * The registry version moves after a write commits, not in its transaction (docs/performance.md,
 * "PostgreSQL writes and deep pages"). What must hold, on both dialects:
 *
 * - a read after the write's answer, on the instance that wrote, sees the write: list pages and GET
 *   /model (body and ETag) cached before the write are retired, and If-Match with the old ETag is a 412;
 * - between the commit and the bump (the write not answered yet) a reader may get the old answer cached
 *   under the old version, or build and cache the new state under the old version: the bump retires both;
 * - concurrent writes share bumps, and each is seen once it is answered.
 *
 * The window between commit and bump is held open by gating the bump statement.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { CoalescedBump } from '../src/cache/coalesced-bump.js'
import { DIALECTS } from './support/databases.js'
import { preset, token, userGrant } from './support/factories.js'
import type { Harness, TestAccount } from './support/harness.js'
import { createModelsWorld, M, modelsApi } from './support/models.js'

describe.each(DIALECTS)('registry version bumped after commit on %s', (dialect) => {
  let h: Harness
  let creator: TestAccount
  let reader: TestAccount
  let other: TestAccount
  const { send, create, list } = modelsApi(() => h)

  beforeAll(async () => {
    ;({ h, creator } = await createModelsWorld(dialect))
    reader = await h.createUser('user', 'Reader')
    other = await h.createUser('user', 'Other reader')
  })
  afterAll(async () => h?.close())

  const registryVersion = async () =>
    Number((await h.database.db.selectFrom('registry_state').select('version').where('key', '=', 'models').executeTakeFirstOrThrow()).version)
  const storedName = async (id: string) => (await h.database.db.selectFrom('models').select('name').where('id', '=', id).executeTakeFirst())?.name
  const getModel = (who: TestAccount, id: string) => send(who, { method: 'GET', url: `${M}/model`, query: { id } })
  const namesListed = async (who: TestAccount, id: string) => (await list(who, { query: id })).items.map((item: { name: string }) => item.name)

  /** Holds every bump of the registry version until `release` (`entered` resolves when one is held). */
  function gateBumps() {
    const repo = h.services.models.registry.models
    const original = repo.bumpVersion.bind(repo)
    let release!: () => void
    const opened = new Promise<void>((resolve) => (release = resolve))
    let entered!: () => void
    const held = new Promise<void>((resolve) => (entered = resolve))
    const spy = vi.spyOn(repo, 'bumpVersion').mockImplementation(async () => {
      entered()
      await opened
      return original()
    })
    return { held, release, restore: () => spy.mockRestore(), calls: () => spy.mock.calls.length }
  }

  it('retires answers cached before the write, and ones built in the window, by the time the write answers', async () => {
    const id = `bump-${token()}`
    await create(creator, preset(id, { name: 'Before', access_grants: [userGrant(reader.id, 'read'), userGrant(other.id, 'read')] }))
    // Cached at the current version: the creator's list and model, the reader's model.
    expect(await namesListed(creator, id)).toEqual(['Before'])
    const before = await getModel(reader, id)
    expect(before.headers.etag).toBe('"1"')
    expect((await getModel(creator, id)).json().name).toBe('Before')
    const version = await registryVersion()

    const gate = gateBumps()
    try {
      const update = send(creator, { method: 'POST', url: `${M}/model/update`, payload: { id, name: 'After' } })
      await gate.held
      // Committed, not bumped: the write is not answered yet.
      expect(await storedName(id)).toBe('After')
      expect(await registryVersion()).toBe(version)
      // An answer cached before the write is still served in the window (at the old version) …
      expect((await getModel(reader, id)).json().name).toBe('Before')
      // … and a reader with nothing cached builds the new state and caches it under the old version.
      const fresh = await getModel(other, id)
      expect(fresh.json().name).toBe('After')
      expect(fresh.headers.etag).toBe('"2"')
      gate.release()
      const answered = await update
      expect(answered.statusCode, answered.body).toBe(200)
      expect(answered.headers.etag).toBe('"2"')
    } finally {
      gate.release()
      gate.restore()
    }
    expect(await registryVersion()).toBeGreaterThan(version)
    // Once answered, every cached answer of the old version is gone.
    expect(await namesListed(creator, id)).toEqual(['After'])
    const after = await getModel(reader, id)
    expect(after.json().name).toBe('After')
    expect(after.headers.etag).toBe('"2"')
    expect((await getModel(other, id)).json().name).toBe('After')
    // The old ETag is stale: If-Match checks the row, whatever the caches held.
    const stale = await send(creator, { method: 'POST', url: `${M}/model/update`, headers: { 'if-match': '"1"' }, payload: { id, name: 'Lost' } })
    expect(stale.statusCode, stale.body).toBe(412)
    expect(await storedName(id)).toBe('After')
  })

  it('a create is listed once answered, though the list was cached before it committed', async () => {
    const word = `bumplist${token()}`
    await create(creator, preset(`${word}-a`))
    expect(await namesListed(creator, word)).toEqual([`Model ${word}-a`])
    await create(creator, preset(`${word}-b`))
    expect((await namesListed(creator, word)).sort()).toEqual([`Model ${word}-a`, `Model ${word}-b`])
  })

  it('writes during a held bump share the next one, and each is seen once answered', async () => {
    const word = `bumpmany${token()}`
    const ids = Array.from({ length: 6 }, (_, i) => `${word}-${i}`)
    await create(creator, preset(ids[0] ?? ''))
    expect(await namesListed(creator, word)).toHaveLength(1)
    const version = await registryVersion()
    const gate = gateBumps()
    const asked = vi.spyOn(CoalescedBump.prototype, 'bump')
    try {
      const first = send(creator, { method: 'POST', url: `${M}/model/update`, payload: { id: ids[0], name: 'Renamed 0' } })
      await gate.held
      // Committed while the first bump is held: they wait for one bump started after their commits.
      const creates = ids.slice(1).map((id) => send(creator, { method: 'POST', url: `${M}/create`, payload: preset(id) }))
      // Each create has committed and asked for its bump.
      await vi.waitFor(() => expect(asked.mock.calls.length).toBe(ids.length), { timeout: 10_000 })
      for (const id of ids.slice(1)) expect(await storedName(id)).toBe(`Model ${id}`)
      gate.release()
      expect((await first).statusCode).toBe(200)
      for (const res of (await Promise.all(creates)) as { statusCode: number; body: string }[]) expect(res.statusCode, res.body).toBe(200)
      // One bump for the update, one shared by the five creates.
      expect(gate.calls()).toBe(2)
    } finally {
      gate.release()
      gate.restore()
      asked.mockRestore()
    }
    expect(await registryVersion()).toBe(version + 2)
    expect((await namesListed(creator, word)).sort()).toEqual(
      ['Model ' + ids[1], 'Model ' + ids[2], 'Model ' + ids[3], 'Model ' + ids[4], 'Model ' + ids[5], 'Renamed 0'].sort(),
    )
  })
})
