/**
 * "Why can this user see this model?" (issue #13): GET /api/v1/models/model/access/explain and
 * /effective. Worked cases for every reason kind and for who may ask, then a property test: on random
 * worlds (roles, groups, memberships, owners, user / group / public grants, admin bypass on and off)
 * the explanation agrees with the decision the API really makes (GET /model as that user: 200 or 404,
 * and its write_access), and `effective` lists exactly the users whose GET succeeds.
 */
import { randomUUID } from 'node:crypto'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGroup } from './support/accounts.js'
import { DIALECTS } from './support/databases.js'
import { preset, token } from './support/factories.js'
import { createHarness, type Harness, type TestAccount } from './support/harness.js'
import { M } from './support/models.js'
import { expectError } from './support/requests.js'

const EXPLAIN = `${M}/model/access/explain`
const EFFECTIVE = `${M}/model/access/effective`
const FEATURES = { USER_PERMISSIONS_WORKSPACE_MODELS_ACCESS: 'true', USER_PERMISSIONS_WORKSPACE_MODELS_ALLOW_SHARING: 'true' }

interface Reason {
  kind: string
  permission?: string
  group_id?: string
  group_name?: string | null
  needs?: string
  granted?: boolean
}
interface Explanation {
  model_id: string
  user: { id: string; name: string; role: string }
  read: { allowed: boolean; reasons: Reason[] }
  write: { allowed: boolean; reasons: Reason[] }
  share: { allowed: boolean; reasons: Reason[] }
}
interface Effective {
  items: { user_id: string; name: string; email: string | null; read: boolean; write: boolean; reasons: Reason[] }[]
  total: number
}

describe.each(DIALECTS)('access explain on %s', (dialect) => {
  describe('worked cases', () => {
    let h: Harness
    let owner: TestAccount
    let member: TestAccount
    let reader: TestAccount
    let stranger: TestAccount
    let pending: TestAccount
    let groupId: string
    const modelId = `explained-${token()}`

    const explain = (who: TestAccount, id: string, userId: string) => h.send(who, { method: 'GET', url: EXPLAIN, query: { id, user_id: userId } })
    const explained = async (who: TestAccount, userId: string): Promise<Explanation> => {
      const res = await explain(who, modelId, userId)
      expect(res.statusCode, res.body).toBe(200)
      return res.json<Explanation>()
    }

    beforeAll(async () => {
      h = await createHarness(dialect, FEATURES)
      owner = await h.createUser('user', 'Olive Owner')
      member = await h.createUser('user', 'Milo Member')
      reader = await h.createUser('user', 'Rita Reader')
      stranger = await h.createUser('user', 'Sam Stranger')
      pending = await h.createUser('pending', 'Pat Pending')
      groupId = await createGroup(h, 'Support', undefined, [member.id])
      await h.shareBase('base-llm')
      const created = await h.send(owner, {
        method: 'POST',
        url: `${M}/create`,
        payload: preset(modelId, {
          access_grants: [
            { principal_type: 'group', principal_id: groupId, permission: 'write' },
            { principal_type: 'user', principal_id: reader.id, permission: 'read' },
          ],
        }),
      })
      expect(created.statusCode, created.body).toBe(200)
    })
    afterAll(async () => h?.close())

    it('names the owner, a group write grant (with the group name) and a user read grant', async () => {
      const ofOwner = await explained(owner, owner.id)
      expect(ofOwner.read).toEqual({ allowed: true, reasons: [{ kind: 'owner' }] })
      expect(ofOwner.write).toEqual({ allowed: true, reasons: [{ kind: 'owner' }] })

      const ofMember = await explained(owner, member.id)
      const groupReason = { kind: 'group_grant', group_id: groupId, group_name: 'Support', permission: 'write' }
      expect(ofMember.read).toEqual({ allowed: true, reasons: [groupReason] })
      expect(ofMember.write).toEqual({ allowed: true, reasons: [groupReason] })

      const ofReader = await explained(owner, reader.id)
      expect(ofReader.read).toEqual({ allowed: true, reasons: [{ kind: 'user_grant', permission: 'read' }] })
      expect(ofReader.write).toEqual({ allowed: false, reasons: [{ kind: 'no_grant', needs: 'write' }] })
      expect(ofReader.share.allowed).toBe(false)
    })

    it('names the missing piece for refusals: no grant, a pending account', async () => {
      const ofStranger = await explained(owner, stranger.id)
      expect(ofStranger.read).toEqual({ allowed: false, reasons: [{ kind: 'no_grant', needs: 'read' }] })
      const ofPending = await explained(owner, pending.id)
      expect(ofPending.read).toEqual({ allowed: false, reasons: [{ kind: 'pending_account' }] })
      expect(ofPending.user).toEqual({ id: pending.id, name: 'Pat Pending', role: 'pending' })
    })

    it('share: write plus a sharing permission, each permission named with whether the account has it', async () => {
      const ofMember = await explained(h.admin, member.id)
      expect(ofMember.share.allowed).toBe(true)
      expect(ofMember.share.reasons).toContainEqual({ kind: 'feature_permission', permission: 'sharing.models', granted: true })
      expect(ofMember.share.reasons).toContainEqual({ kind: 'feature_permission', permission: 'sharing.public_models', granted: false })
    })

    it('admin bypass is a reason of its own, next to ownership', async () => {
      const ofAdmin = await explained(owner, h.admin.id)
      expect(ofAdmin.read.reasons).toEqual([{ kind: 'admin_bypass' }])
    })

    it('public read is named as such', async () => {
      const id = `public-${token()}`
      expect((await h.send(h.admin, { method: 'POST', url: `${M}/create`, payload: preset(id, { access_control: null }) })).statusCode).toBe(200)
      const res = await explain(h.admin, id, stranger.id)
      expect(res.json<Explanation>().read).toEqual({ allowed: true, reasons: [{ kind: 'public', permission: 'read' }] })
    })

    it('effective lists everyone who can read, with write and reasons, by name, paged', async () => {
      const res = await h.send(h.admin, { method: 'GET', url: EFFECTIVE, query: { id: modelId } })
      expect(res.statusCode, res.body).toBe(200)
      const page = res.json<Effective>()
      expect(page.items.map((item) => [item.name, item.write])).toEqual(
        [
          ['Milo Member', true],
          ['Olive Owner', true],
          ['Rita Reader', false],
          [h.admin.name, true],
        ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      )
      expect(page.total).toBe(4)
      const second = (await h.send(h.admin, { method: 'GET', url: EFFECTIVE, query: { id: modelId, page: '2', limit: '3' } })).json<Effective>()
      expect(second.items).toHaveLength(1)
      expect(second.total).toBe(4)
    })

    it('a writer who is no admin sees who the model is shared with: no emails, not the admins reading through their bypass', async () => {
      const res = await h.send(owner, { method: 'GET', url: EFFECTIVE, query: { id: modelId } })
      expect(res.statusCode, res.body).toBe(200)
      const page = res.json<Effective>()
      expect(page.items.map((item) => item.name)).toEqual(['Milo Member', 'Olive Owner', 'Rita Reader'])
      expect(page.items.every((item) => item.email === null)).toBe(true)
      expect(page.total).toBe(3)
    })

    it('only admins and writers may ask: a reader gets 403, a stranger the 404 of an unknown model', async () => {
      expectError(await explain(reader, modelId, reader.id), 403, 'ACCESS_PROHIBITED')
      const hidden = await explain(stranger, modelId, stranger.id)
      const unknown = await explain(stranger, `nothing-${token()}`, stranger.id)
      expectError(hidden, 404, 'MODEL_NOT_FOUND')
      expect(hidden.json<{ detail: string }>().detail).toBe(unknown.json<{ detail: string }>().detail.replace(/nothing-[a-z0-9]+/, modelId))
      expectError(await h.send(stranger, { method: 'GET', url: EFFECTIVE, query: { id: modelId } }), 404, 'MODEL_NOT_FOUND')
      expectError(await h.send(pending, { method: 'GET', url: EFFECTIVE, query: { id: modelId } }), 403, 'ACCESS_PROHIBITED')
      expectError(await h.request({ method: 'GET', url: EFFECTIVE, query: { id: modelId } }), 401, 'UNAUTHORIZED')
    })

    it('bad input: unknown user 404, missing user_id and a huge page size 400 naming the field', async () => {
      expectError(await explain(owner, modelId, `ghost-${token()}`), 404, 'NOT_FOUND')
      const missing = await h.send(owner, { method: 'GET', url: EXPLAIN, query: { id: modelId } })
      expectError(missing, 400, 'VALIDATION_ERROR')
      expect(missing.json().detail).toContain('user_id')
      const huge = await h.send(owner, { method: 'GET', url: EFFECTIVE, query: { id: modelId, limit: '100000' } })
      expectError(huge, 400, 'VALIDATION_ERROR')
      expect(huge.json().detail).toContain('limit')
    })
  })

  describe.each([true, false])('agrees with the real decision on random worlds (admin bypass %s)', (bypass) => {
    const POOL = 5
    let h: Harness
    let accounts: TestAccount[]

    beforeAll(async () => {
      h = await createHarness(dialect, { ...FEATURES, BYPASS_ADMIN_ACCESS_CONTROL: String(bypass) })
      accounts = [h.admin]
      for (let i = 0; i < POOL; i++) accounts.push(await h.createUser('user'))
    })
    afterAll(async () => h?.close())
    const idOf = (index: number) => accounts[index]?.id ?? ''

    const grant = fc.record({
      kind: fc.constantFrom('user', 'group', 'public'),
      who: fc.nat({ max: POOL }),
      group: fc.nat({ max: 2 }),
      permission: fc.constantFrom('read' as const, 'write' as const),
    })
    const world = fc.record({
      roles: fc.array(fc.constantFrom('pending' as const, 'user' as const, 'admin' as const), { minLength: POOL, maxLength: POOL }),
      groups: fc.array(fc.uniqueArray(fc.nat({ max: POOL }), { maxLength: 3 }), { minLength: 3, maxLength: 3 }),
      models: fc.array(fc.record({ owner: fc.nat({ max: POOL }), grants: fc.array(grant, { maxLength: 4 }) }), { minLength: 1, maxLength: 3 }),
    })

    it('explain read/write = GET /model status and write_access for every user; effective = the users who can GET', async () => {
      await fc.assert(
        fc.asyncProperty(world, async (u) => {
          const db = h.services.database.db
          await db.deleteFrom('model_grants').execute()
          await db.deleteFrom('models').execute()
          await db.deleteFrom('group_members').execute()
          await db.deleteFrom('groups').execute()
          for (const [i, role] of u.roles.entries()) {
            await db
              .updateTable('users')
              .set({ role })
              .where('id', '=', idOf(i + 1))
              .execute()
          }
          await db
            .insertInto('groups')
            .values(
              u.groups.map((_, g) => ({ id: `grp${g}`, user_id: h.admin.id, name: `g${g}`, description: '', permissions: '{}', created_at: 1, updated_at: 1 })),
            )
            .execute()
          const members = u.groups.flatMap((who, g) => who.map((i) => ({ group_id: `grp${g}`, user_id: idOf(i), created_at: 1 })))
          if (members.length > 0) await db.insertInto('group_members').values(members).execute()
          const models = u.models.map((spec, m) => ({ spec, id: `m${m}-${token()}` }))
          const ids = models.map((model) => model.id)
          await db
            .insertInto('models')
            .values(
              models.map(({ spec, id }) => ({
                id,
                user_id: idOf(spec.owner),
                base_model_id: 'base-llm',
                name: id,
                params: '{}',
                meta: '{}',
                is_active: 1,
                created_at: 1,
                updated_at: 1,
              })),
            )
            .execute()
          const grants = new Map<
            string,
            { id: string; model_id: string; principal_type: 'user' | 'group'; principal_id: string; permission: 'read' | 'write'; created_at: number }
          >()
          for (const [m, { spec, id }] of models.entries()) {
            for (const g of spec.grants) {
              const type = g.kind === 'group' ? ('group' as const) : ('user' as const)
              const principal = g.kind === 'group' ? `grp${g.group}` : g.kind === 'public' ? '*' : idOf(g.who)
              grants.set(`${m}:${type}:${principal}:${g.permission}`, {
                id: randomUUID(),
                model_id: id,
                principal_type: type,
                principal_id: principal,
                permission: g.permission,
                created_at: 1,
              })
            }
          }
          if (grants.size > 0) {
            await db
              .insertInto('model_grants')
              .values([...grants.values()])
              .execute()
          }
          await db
            .updateTable('registry_state')
            .set((eb) => ({ version: eb('version', '+', 1) }))
            .where('key', '=', 'models')
            .execute()

          for (const id of ids) {
            const effective = await h.send(h.admin, { method: 'GET', url: EFFECTIVE, query: { id, limit: '200' } })
            expect(effective.statusCode, effective.body).toBe(200)
            const listed = new Map(effective.json<Effective>().items.map((item) => [item.user_id, item.write]))
            for (const account of accounts) {
              const res = await h.send(h.admin, { method: 'GET', url: EXPLAIN, query: { id, user_id: account.id } })
              expect(res.statusCode, res.body).toBe(200)
              const explanation = res.json<Explanation>()
              const real = await h.send(account, { method: 'GET', url: `${M}/model`, query: { id } })
              const pendingNow = account !== h.admin && u.roles[accounts.indexOf(account) - 1] === 'pending'
              // A pending account is refused before any model rule (403); the rule itself says no read.
              const readsReally = real.statusCode === 200
              expect(real.statusCode, real.body).toBe(pendingNow ? 403 : readsReally ? 200 : 404)
              expect(explanation.read.allowed).toBe(readsReally)
              expect(explanation.write.allowed).toBe(readsReally && real.json().write_access === true)
              expect(listed.has(account.id)).toBe(readsReally)
              if (readsReally) expect(listed.get(account.id)).toBe(explanation.write.allowed)
              expect(explanation.read.reasons.length).toBeGreaterThan(0)
            }
          }
        }),
        { numRuns: 6 },
      )
    })
  })
})
