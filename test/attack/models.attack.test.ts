/**
 * Issue #10, holes 1, 2, 3, 4, 6 (grant writes) and 13, attacked through HTTP as a hostile user would,
 * on every dialect, against a real HTTP provider. Each test fails on the code before the fix.
 *
 * Cast: `mallory` (a user with workspace.models, models_import and sharing.models, not
 * sharing.public_models), `victim` (a user with workspace.models), the admin. The provider serves a
 * model the admin shares (`llama3.1:8b`), and models nobody shared (admin-only).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGroup } from '../support/accounts.js'
import { DIALECTS } from '../support/databases.js'
import { token, userGrant } from '../support/factories.js'
import { startFakeProvider, type FakeProvider } from '../support/fake-provider.js'
import { createHarness, type Harness, type InjectOptions, type TestAccount } from '../support/harness.js'

const M = '/api/v1/models'
const PUBLIC = [{ principal_type: 'user', principal_id: '*', permission: 'read' }]
const SHARED = 'llama3.1:8b'
const HELLO = [{ role: 'user', content: 'hello' }]
const readBy = (userId: string) => [userGrant(userId)]

describe.each(DIALECTS)('attacks on the model registry (%s)', (dialect) => {
  let h: Harness
  let provider: FakeProvider
  let mallory: TestAccount
  let victim: TestAccount
  let importer: TestAccount
  const served = [SHARED, 'secret-raw', 'squat-me', 'dual-id']

  const send = (who: TestAccount, options: Omit<InjectOptions, 'headers'>) => h.send(who, options)
  const create = (who: TestAccount, body: Record<string, unknown>) =>
    send(who, { method: 'POST', url: `${M}/create`, payload: { meta: {}, params: {}, name: String(body['id']), ...body } })
  const update = (who: TestAccount, body: Record<string, unknown>) => send(who, { method: 'POST', url: `${M}/model/update`, payload: body })
  const importFile = (who: TestAccount, models: unknown[]) => send(who, { method: 'POST', url: `${M}/import`, payload: { models } })
  const chat = (who: TestAccount, model: string) => send(who, { method: 'POST', url: '/v1/chat/completions', payload: { model, messages: HELLO } })
  const runtime = async (who: TestAccount) =>
    (await send(who, { method: 'GET', url: '/api/models' })).json().data as { id: string; preset: boolean; base_model_missing: boolean }[]
  const openAiIds = async (who: TestAccount) => ((await send(who, { method: 'GET', url: '/v1/models' })).json().data as { id: string }[]).map((m) => m.id)
  const rowOf = (id: string) => h.services.database.db.selectFrom('models').selectAll().where('id', '=', id).executeTakeFirst()
  const lastChat = () => provider.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)
  /** Makes the provider serve `models` and has every instance list ask it again. */
  async function serve(models: string[]): Promise<void> {
    provider.setModels(models)
    expect((await send(h.admin, { method: 'GET', url: '/api/models', query: { refresh: 'true' } })).statusCode).toBe(200)
  }
  function ok(res: { statusCode: number; body: string }): void {
    expect(res.statusCode, res.body).toBe(200)
  }

  beforeAll(async () => {
    provider = await startFakeProvider({ models: served })
    h = await createHarness(dialect, { MODELS_CACHE_TTL: '3600', PROVIDER_LIST_TIMEOUT_MS: '2000' })
    ok(await send(h.admin, { method: 'POST', url: '/api/v1/connections/create', payload: { name: 'Fake', base_url: provider.baseUrl } }))
    mallory = await h.createUser('user', 'Mallory')
    victim = await h.createUser('user', 'Victim')
    importer = await h.createUser('user', 'Importer')
    await createGroup(h, 'Builders', { workspace: { models: true, models_import: true }, sharing: { models: true } }, [mallory.id, victim.id])
    await createGroup(h, 'Importers', { workspace: { models_import: true } }, [importer.id])
    // The admin shares one provider model with everyone; the others stay admin-only.
    await h.shareBase(SHARED)
    await serve(served)
  })
  afterAll(async () => {
    await h?.close()
    await provider?.close()
  })

  describe('hole 1: a non-admin cannot take over a provider model id', () => {
    it('create and import of a served id are refused; the provider model stays what it is', async () => {
      const res = await create(mallory, { id: 'squat-me', base_model_id: SHARED, params: { system: 'INJECTED' } })
      expect(res.statusCode).toBe(409)
      expect(res.json().code).toBe('MODEL_ID_UNAVAILABLE')
      const imported = await importFile(mallory, [{ id: 'squat-me', base_model_id: SHARED, name: 'x', meta: {}, params: { system: 'INJECTED' } }])
      expect(imported.json()).toMatchObject({ created: [], skipped: [{ id: 'squat-me' }] })
      expect(await rowOf('squat-me')).toBeUndefined()
      ok(await chat(h.admin, 'squat-me'))
      expect(lastChat()?.body).toMatchObject({ model: 'squat-me' })
      expect(JSON.stringify(lastChat()?.body)).not.toContain('INJECTED')
    })

    it('a row that collides later never shadows the provider model; it cannot be changed, only deleted; admins see the conflict', async () => {
      const id = `late-${token()}`
      ok(await create(mallory, { id, base_model_id: SHARED, params: { system: 'INJECTED' }, access_grants: readBy(victim.id) }))
      ok(await chat(victim, id)) // a preset of mallory's, for now
      await serve([...served, id]) // the provider starts serving that id
      // Admin and everybody else reach the provider's model, untouched.
      ok(await chat(h.admin, id))
      expect(lastChat()?.body).toMatchObject({ model: id })
      expect(JSON.stringify(lastChat()?.body)).not.toContain('INJECTED')
      expect((await runtime(h.admin)).find((m) => m.id === id)).toMatchObject({ preset: false })
      // The conflicting row is neither listed nor callable for its readers: a raw model is admin-only.
      expect((await runtime(victim)).map((m) => m.id)).not.toContain(id)
      expect((await chat(victim, id)).statusCode).toBe(404)
      expect((await chat(mallory, id)).statusCode).toBe(404)
      // Its owner cannot change it (any write), only delete it.
      for (const res of [
        await update(mallory, { id, name: 'still mine', params: { system: 'INJECTED AGAIN' } }),
        await send(mallory, { method: 'POST', url: `${M}/model/toggle`, query: { id } }),
        await send(mallory, { method: 'POST', url: `${M}/model/access/update`, payload: { id, access_grants: [] } }),
      ]) {
        expect(res.statusCode, res.body).toBe(409)
        expect(res.json().code).toBe('MODEL_ID_UNAVAILABLE')
      }
      const reimport = await importFile(mallory, [{ id, base_model_id: SHARED, name: 'x', meta: {}, params: {} }])
      expect(reimport.json()).toMatchObject({ updated: [], skipped: [{ id }] })
      // Admins see it in the API (and only admins).
      expect((await send(mallory, { method: 'GET', url: `${M}/conflicts` })).statusCode).toBe(403)
      const conflicts = await send(h.admin, { method: 'GET', url: `${M}/conflicts` })
      ok(conflicts)
      expect(conflicts.json().items).toContainEqual({
        id,
        name: id,
        user_id: mallory.id,
        owner: { id: mallory.id, name: 'Mallory', email: mallory.email },
        connection_id: expect.any(String),
      })
      ok(await send(mallory, { method: 'POST', url: `${M}/model/delete`, payload: { id } }))
      const after = (await send(h.admin, { method: 'GET', url: `${M}/conflicts` })).json<{ items: { id: string }[] }>()
      expect(after.items.map((c) => c.id)).not.toContain(id)
    })

    it('ids compare exactly: a differently cased id is another model and never shadows the served one', async () => {
      const upper = 'SQUAT-ME'
      ok(await create(mallory, { id: upper, base_model_id: SHARED, params: { system: 'INJECTED' }, access_grants: [] }))
      ok(await chat(h.admin, 'squat-me'))
      expect(lastChat()?.body).toMatchObject({ model: 'squat-me' })
      expect(JSON.stringify(lastChat()?.body)).not.toContain('INJECTED')
      expect((await runtime(h.admin)).find((m) => m.id === 'squat-me')).toMatchObject({ preset: false })
      expect((await create(mallory, { id: 'squat-me', base_model_id: SHARED })).json().code).toBe('MODEL_ID_UNAVAILABLE')
      ok(await send(mallory, { method: 'POST', url: `${M}/model/delete`, payload: { id: upper } }))
    })

    it('deleting the squatter does not revive the squat: the row reaches the admin switched off', async () => {
      const squatter = await h.createUser('user', 'Squatter')
      const builders = { workspace: { models: true } }
      await createGroup(h, `Squat ${token()}`, builders, [squatter.id])
      const id = `revive-${token()}`
      const innocent = `innocent-${token()}`
      ok(await create(squatter, { id, base_model_id: SHARED, params: { system: 'INJECTED' } }))
      ok(await create(squatter, { id: innocent, base_model_id: SHARED }))
      await serve([...served, id])
      ok(await send(h.admin, { method: 'DELETE', url: `/api/v1/users/${squatter.id}` }))
      // Handed to the admin as it was, the row would now override the provider model with the injected
      // prompt for everyone. It arrives switched off instead: nobody's call reaches the injected prompt.
      expect(await rowOf(id)).toMatchObject({ user_id: h.admin.id, is_active: 0 })
      expect((await chat(h.admin, id)).statusCode).toBe(404)
      expect(JSON.stringify(lastChat()?.body)).not.toContain('INJECTED')
      // The account's other models are handed over as they were.
      expect(await rowOf(innocent)).toMatchObject({ user_id: h.admin.id, is_active: 1 })
      // The admin reviews it: deleting the row gives the provider's model back to everyone.
      ok(await send(h.admin, { method: 'POST', url: `${M}/model/delete`, payload: { id } }))
      ok(await chat(h.admin, id))
      expect(lastChat()?.body).toMatchObject({ model: id })
      await serve(served)
    })

    it('an admin demoted to user: their override row stops overriding at once', async () => {
      const admin2 = await h.createUser('admin', 'Second admin')
      ok(await create(admin2, { id: 'secret-raw', base_model_id: null, name: 'Renamed by admin2', access_grants: PUBLIC }))
      expect((await runtime(victim)).find((m) => m.id === 'secret-raw')).toMatchObject({ preset: false })
      ok(await send(h.admin, { method: 'POST', url: `/api/v1/users/${admin2.id}/update`, payload: { role: 'user' } }))
      expect((await runtime(victim)).map((m) => m.id)).not.toContain('secret-raw')
      expect((await chat(victim, 'secret-raw')).statusCode).toBe(404)
      ok(await send(h.admin, { method: 'POST', url: `${M}/model/delete`, payload: { id: 'secret-raw' } }))
    })
  })

  describe('hole 1: a write-grantee of an admin override cannot repoint the provider id', () => {
    it('turning an admin override row (base_model_id null) into a preset is an admin call, by update and by import', async () => {
      const id = `ovr-${token()}`
      await serve([...served, id])
      // The admin shares the provider model and lets mallory edit the override row (write grant).
      ok(
        await send(h.admin, {
          method: 'POST',
          url: `${M}/model/access/update`,
          payload: { id, access_grants: [...PUBLIC, { principal_type: 'user', principal_id: mallory.id, permission: 'write' }] },
        }),
      )
      const evil = `evil-${token()}`
      ok(await create(mallory, { id: evil, base_model_id: SHARED, params: { system: 'INJECTED' }, access_grants: readBy(victim.id) }))
      const byUpdate = await update(mallory, { id, base_model_id: evil })
      expect(byUpdate.statusCode, byUpdate.body).toBe(403)
      expect(byUpdate.json().code).toBe('ACCESS_PROHIBITED')
      const byImport = await importFile(mallory, [{ id, base_model_id: evil }])
      expect(byImport.json()).toMatchObject({ updated: [], skipped: [{ id }] })
      expect((await rowOf(id))?.base_model_id).toBeNull()
      // Everybody still reaches the provider model itself, untouched.
      ok(await chat(victim, id))
      expect(lastChat()?.body).toMatchObject({ model: id })
      expect(JSON.stringify(lastChat()?.body)).not.toContain('INJECTED')
      // What a write grant does allow (editing the override row) works alike by update and import.
      ok(await update(mallory, { id, name: 'Renamed by grantee' }))
      expect((await importFile(mallory, [{ id, name: 'Renamed again' }])).json()).toMatchObject({ updated: [id], skipped: [] })
    })
  })

  describe('hole 2: nobody can reach a base model they may not use through a preset', () => {
    it('create, update and import refuse a base the caller may not use, with one answer for every case', async () => {
      const adminPrivate = `admin-private-${token()}`
      ok(await create(h.admin, { id: adminPrivate, base_model_id: SHARED }))
      const bodies: string[] = []
      for (const base of ['secret-raw', 'nobody-serves-this', adminPrivate]) {
        const res = await create(mallory, { id: `wrap-${token()}`, base_model_id: base, access_grants: readBy(victim.id) })
        expect(res.statusCode, res.body).toBe(400)
        expect(res.json().code).toBe('BASE_MODEL_UNAVAILABLE')
        bodies.push(res.body)
      }
      expect(new Set(bodies).size).toBe(1)

      const mine = `mine-${token()}`
      ok(await create(mallory, { id: mine, base_model_id: SHARED }))
      const retarget = await update(mallory, { id: mine, base_model_id: 'secret-raw' })
      expect(retarget.statusCode).toBe(400)
      expect(retarget.body).toBe(bodies[0])
      expect((await rowOf(mine))?.base_model_id).toBe(SHARED)

      const imported = await importFile(mallory, [
        { id: `imp-${token()}`, base_model_id: 'secret-raw', name: 'a', meta: {}, params: {} },
        { id: mine, base_model_id: 'secret-raw' },
      ])
      expect(imported.json().created).toEqual([])
      expect(imported.json().updated).toEqual([])
      const skipped = imported.json<{ skipped: { reason: string }[] }>().skipped
      expect(new Set(skipped.map((s) => s.reason)).size).toBe(1)
      expect((await rowOf(mine))?.base_model_id).toBe(SHARED)
    })

    it('at call time: a user preset whose raw base became admin-only is unusable; an admin preset may expose it', async () => {
      const raw = `raw-${token()}`
      await serve([...served, raw])
      await h.shareBase(raw) // shared for a while…
      const wrap = `wrap-${token()}`
      ok(await create(mallory, { id: wrap, base_model_id: raw, access_grants: readBy(victim.id) }))
      ok(await chat(victim, wrap))
      // …then the admin takes the share back: the raw model is admin-only again.
      ok(await send(h.admin, { method: 'POST', url: `${M}/model/delete`, payload: { id: raw } }))
      for (const who of [mallory, victim]) {
        const res = await chat(who, wrap)
        expect(res.statusCode).toBe(404)
        expect(res.json().code).toBe('MODEL_NOT_FOUND')
        expect(await openAiIds(who)).not.toContain(wrap)
      }
      // An admin's preset on the same raw model is usable by its readers.
      const adminWrap = `admin-wrap-${token()}`
      ok(await create(h.admin, { id: adminWrap, base_model_id: raw, access_grants: PUBLIC }))
      ok(await chat(victim, adminWrap))
      expect(lastChat()?.body).toMatchObject({ model: raw })
      expect(await openAiIds(victim)).toContain(adminWrap)
    })
  })

  describe('hole 3: import needs what create needs', () => {
    it('a user with workspace.models_import only cannot create models by importing them', async () => {
      const id = `imp3-${token()}`
      const res = await importFile(importer, [{ id, base_model_id: SHARED, name: 'smuggled', meta: {}, params: {} }])
      ok(res)
      expect(res.json().created).toEqual([])
      expect(res.json().skipped).toEqual([{ id, reason: expect.stringContaining('workspace.models') }])
      expect(await rowOf(id)).toBeUndefined()
    })
  })

  describe('hole 4: a refused access part changes nothing', () => {
    it('an import row asking for public sharing without the permission is skipped whole; grants and fields stay', async () => {
      const id = `m4-${token()}`
      const grants = [{ principal_type: 'user', principal_id: victim.id, permission: 'read' }]
      ok(await create(mallory, { id, base_model_id: SHARED, name: 'Original', access_grants: grants }))
      const res = await importFile(mallory, [{ id, base_model_id: SHARED, name: 'Changed', meta: {}, params: {}, access_control: null }])
      ok(res)
      expect(res.json()).toMatchObject({ updated: [], skipped: [{ id, reason: expect.stringContaining('sharing.public_models') }] })
      const model = (await send(mallory, { method: 'GET', url: `${M}/model`, query: { id } })).json<{
        name: string
        access_grants: { principal_id: string }[]
      }>()
      expect(model.name).toBe('Original')
      expect(model.access_grants.map((g) => g.principal_id)).toEqual([victim.id])
    })
  })

  describe('hole 6: writes of one model’s grants are serialised', () => {
    it('concurrent access updates leave exactly one writer’s grant set', async () => {
      const id = `race-${token()}`
      ok(await create(h.admin, { id, base_model_id: SHARED }))
      const users = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => h.createUser('user', `Racer ${i}`)))
      // Writer i grants read to users i and i+1 and write to i+2: every two sets differ, so a mix shows.
      const sets = users.map((_, i) => [
        { principal_type: 'user', principal_id: users[i]?.id ?? '', permission: 'read' },
        { principal_type: 'user', principal_id: users[(i + 1) % users.length]?.id ?? '', permission: 'read' },
        { principal_type: 'user', principal_id: users[(i + 2) % users.length]?.id ?? '', permission: 'write' },
      ])
      const key = (grants: { principal_type: string; principal_id: string; permission: string }[]) =>
        grants
          .map((g) => `${g.principal_type}:${g.principal_id}:${g.permission}`)
          .sort()
          .join(',')
      for (let round = 0; round < 5; round++) {
        const answers = await Promise.all(
          [...sets, ...sets].map((grants) => send(h.admin, { method: 'POST', url: `${M}/model/access/update`, payload: { id, access_grants: grants } })),
        )
        expect(answers.map((a) => a.statusCode)).toEqual(answers.map(() => 200))
        const stored = await h.services.database.db
          .selectFrom('model_grants')
          .select(['principal_type', 'principal_id', 'permission'])
          .where('model_id', '=', id)
          .execute()
        expect(sets.map(key)).toContain(key(stored))
      }
    })

    it('an update racing a delete answers 200 or 404, never 500, and leaves no orphan grants', async () => {
      for (let round = 0; round < 8; round++) {
        const id = `rd-${token()}`
        ok(await create(mallory, { id, base_model_id: SHARED }))
        const [updated, access, deleted] = await Promise.all([
          update(mallory, { id, name: 'renamed', access_grants: [{ principal_type: 'user', principal_id: victim.id, permission: 'read' }] }),
          send(mallory, { method: 'POST', url: `${M}/model/access/update`, payload: { id, access_grants: [] } }),
          send(mallory, { method: 'POST', url: `${M}/model/delete`, payload: { id } }),
        ])
        expect([200, 404], updated.body).toContain(updated.statusCode)
        expect([200, 404], access.body).toContain(access.statusCode)
        expect(deleted.statusCode, deleted.body).toBe(200)
        const orphans = await h.services.database.db.selectFrom('model_grants').select('id').where('model_id', '=', id).execute()
        expect(orphans).toEqual([])
      }
    })
  })

  describe('hole 13: a model you cannot read is indistinguishable from one that does not exist', () => {
    it('create and import: an id held by a private model answers exactly like an id a provider serves', async () => {
      const hidden = `hidden-${token()}`
      ok(await create(victim, { id: hidden, base_model_id: SHARED }))
      const taken = await create(mallory, { id: hidden, base_model_id: SHARED })
      const servedId = await create(mallory, { id: 'dual-id', base_model_id: SHARED })
      expect(taken.statusCode).toBe(409)
      expect(taken.body).toBe(servedId.body)
      expect(taken.json().code).toBe('MODEL_ID_UNAVAILABLE')
      // An id mallory can read is simply taken.
      const readable = `readable-${token()}`
      ok(
        await create(victim, {
          id: readable,
          base_model_id: SHARED,
          access_grants: [{ principal_type: 'user', principal_id: mallory.id, permission: 'read' }],
        }),
      )
      expect((await create(mallory, { id: readable, base_model_id: SHARED })).json().code).toBe('MODEL_ID_TAKEN')

      const report = (
        await importFile(mallory, [
          { id: hidden, base_model_id: SHARED, name: 'x', meta: {}, params: {} },
          { id: 'dual-id', base_model_id: SHARED, name: 'x', meta: {}, params: {} },
        ])
      ).json()
      expect(report.skipped).toHaveLength(2)
      expect(report.skipped[0].reason).toBe(report.skipped[1].reason)
    })

    it('import without workspace.models: a private id, a served id and a free id answer alike', async () => {
      const hidden = `hidden-${token()}`
      ok(await create(victim, { id: hidden, base_model_id: SHARED }))
      const report = (
        await importFile(importer, [
          { id: hidden, base_model_id: SHARED, name: 'x', meta: {}, params: {} },
          { id: 'dual-id', base_model_id: SHARED, name: 'x', meta: {}, params: {} },
          { id: `free-${token()}`, base_model_id: SHARED, name: 'x', meta: {}, params: {} },
        ])
      ).json<{ created: string[]; skipped: { reason: string }[] }>()
      expect(report.created).toEqual([])
      expect(report.skipped).toHaveLength(3)
      expect(new Set(report.skipped.map((s) => s.reason)).size).toBe(1)
    })

    it('a preset whose base the caller cannot read behaves exactly like one whose base does not exist', async () => {
      const top = `top-${token()}`
      const inner = `inner-${token()}`
      ok(await create(h.admin, { id: top, base_model_id: inner, access_grants: PUBLIC }))
      // First the base does not exist…
      const missingChat = await chat(victim, top)
      const missingEntry = (await runtime(victim)).find((m) => m.id === top)
      const missingOpenAi = await openAiIds(victim)
      // …then it exists, private to the admin.
      ok(await create(h.admin, { id: inner, base_model_id: SHARED }))
      const hiddenChat = await chat(victim, top)
      expect(hiddenChat.statusCode).toBe(404)
      expect(hiddenChat.body).toBe(missingChat.body)
      expect((await runtime(victim)).find((m) => m.id === top)).toEqual(missingEntry)
      expect(await openAiIds(victim)).toEqual(missingOpenAi)
      // The admin, who can read the base, uses it.
      ok(await chat(h.admin, top))
    })
  })
})
