/**
 * Groups kept by SCIM (issue #15; docs/sso.md, "SCIM"): a group SCIM creates, or takes over with PUT or
 * PATCH, is marked `managed_by: "scim"`, and its members and name are refused to hand edits (409
 * CONFLICT) by the same rule as OpenID Connect's groups (`requireHandManagedGroup` in src/access);
 * description and permissions stay the admin's, SCIM keeps changing members, and a sign-in that syncs
 * groups by name leaves the SCIM marker in place.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { token } from './support/factories.js'
import { createHarness, type Harness, type TestAccount } from './support/harness.js'
import { expectError } from './support/requests.js'

const SCIM = '/api/v1/scim/v2'
const TOKEN = 'scim-managed-groups-token-0123456789'
const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const G = '/api/v1/groups'

interface GroupOut {
  id: string
  name: string
  description: string
  user_ids: string[]
  managed_by: 'oidc' | 'scim' | null
}

describe.each(DIALECTS)('groups managed by SCIM on %s', (dialect) => {
  let h: Harness
  let member: TestAccount
  let other: TestAccount
  let plain: TestAccount

  const scim = (method: 'POST' | 'PUT' | 'PATCH', path: string, payload: unknown) =>
    h.request({
      method,
      url: `${SCIM}${path}`,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' },
      payload: JSON.stringify(payload),
    })
  const scimGroup = async (name: string, members: string[]): Promise<string> => {
    const res = await scim('POST', '/Groups', { schemas: [GROUP_URN], displayName: name, members: members.map((value) => ({ value })) })
    expect(res.statusCode, res.body).toBe(201)
    return res.json<{ id: string }>().id
  }
  const group = async (id: string): Promise<GroupOut> => {
    const res = await h.send(h.admin, { method: 'GET', url: `${G}/id/${id}` })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<GroupOut>()
  }
  const handGroup = async (name: string, userIds: string[] = []): Promise<string> => {
    const res = await h.send(h.admin, { method: 'POST', url: `${G}/create`, payload: { name, description: '', permissions: {}, user_ids: userIds } })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<GroupOut>().id
  }

  beforeAll(async () => {
    h = await createHarness(dialect, { ENABLE_SCIM: 'true', SCIM_TOKEN: TOKEN })
    member = await h.createUser('user')
    other = await h.createUser('user')
    plain = await h.createUser('user')
  })
  afterAll(() => h.close())

  it('a group SCIM creates is managed_by "scim" in the admin list, the group and a member\'s own view', async () => {
    const id = await scimGroup(`Provisioned ${token()}`, [member.id])
    expect((await group(id)).managed_by).toBe('scim')
    const all = (await h.send(h.admin, { method: 'GET', url: `${G}/` })).json<GroupOut[]>()
    expect(all.find((g) => g.id === id)?.managed_by).toBe('scim')
    const own = await h.send(member, { method: 'GET', url: `${G}/id/${id}/info` })
    expect(own.statusCode, own.body).toBe(200)
    expect(own.json<GroupOut>().managed_by).toBe('scim')
  })

  it('hand edits of its members or name are refused (409 CONFLICT naming SCIM), nothing changes; description and permissions stay editable', async () => {
    const name = `Kept by SCIM ${token()}`
    const id = await scimGroup(name, [member.id])
    const refusals = [
      await h.send(h.admin, { method: 'POST', url: `${G}/id/${id}/users/add`, payload: { user_ids: [other.id] } }),
      await h.send(h.admin, { method: 'POST', url: `${G}/id/${id}/users/remove`, payload: { user_ids: [member.id] } }),
      await h.send(h.admin, { method: 'POST', url: `${G}/id/${id}/update`, payload: { user_ids: [other.id] } }),
      await h.send(h.admin, { method: 'POST', url: `${G}/id/${id}/update`, payload: { name: `${name} renamed` } }),
    ]
    for (const res of refusals) {
      expectError(res, 409, 'CONFLICT')
      expect(res.json<{ detail: string }>().detail).toContain('SCIM')
    }
    expect(await group(id)).toMatchObject({ name, user_ids: [member.id], managed_by: 'scim' })

    const edited = await h.send(h.admin, {
      method: 'POST',
      url: `${G}/id/${id}/update`,
      payload: { name, description: 'Set by the admin', permissions: { workspace: { models: true } } },
    })
    expect(edited.statusCode, edited.body).toBe(200)
    expect(edited.json<GroupOut>()).toMatchObject({ description: 'Set by the admin', user_ids: [member.id], managed_by: 'scim' })
  })

  it('the least-privileged account cannot change it either (admin routes)', async () => {
    const id = await scimGroup(`Guarded ${token()}`, [member.id])
    for (const res of [
      await h.send(plain, { method: 'POST', url: `${G}/id/${id}/users/add`, payload: { user_ids: [plain.id] } }),
      await h.send(member, { method: 'POST', url: `${G}/id/${id}/update`, payload: { name: 'mine now' } }),
    ]) {
      expectError(res, 403, 'ACCESS_PROHIBITED')
    }
    expect((await group(id)).user_ids).toEqual([member.id])
  })

  it('SCIM itself keeps changing members and name', async () => {
    const id = await scimGroup(`Synced ${token()}`, [member.id])
    const renamed = `Synced renamed ${token()}`
    const patched = await scim('PATCH', `/Groups/${id}`, {
      schemas: [PATCH_URN],
      Operations: [
        { op: 'add', path: 'members', value: [{ value: other.id }] },
        { op: 'replace', path: 'displayName', value: renamed },
      ],
    })
    expect(patched.statusCode, patched.body).toBe(200)
    expect(await group(id)).toMatchObject({ name: renamed, managed_by: 'scim' })
    expect((await group(id)).user_ids.sort()).toEqual([member.id, other.id].sort())
  })

  it("a hand-made group SCIM takes over (PUT) becomes SCIM's; a hand-made group it never touched stays editable", async () => {
    const taken = await handGroup(`Taken over ${token()}`, [member.id])
    const untouched = await handGroup(`Untouched ${token()}`, [member.id])
    const put = await scim('PUT', `/Groups/${taken}`, { schemas: [GROUP_URN], displayName: (await group(taken)).name, members: [{ value: other.id }] })
    expect(put.statusCode, put.body).toBe(200)
    expect(await group(taken)).toMatchObject({ user_ids: [other.id], managed_by: 'scim' })
    expectError(await h.send(h.admin, { method: 'POST', url: `${G}/id/${taken}/users/add`, payload: { user_ids: [member.id] } }), 409, 'CONFLICT')

    expect((await group(untouched)).managed_by).toBeNull()
    const added = await h.send(h.admin, { method: 'POST', url: `${G}/id/${untouched}/users/add`, payload: { user_ids: [other.id] } })
    expect(added.statusCode, added.body).toBe(200)
  })

  it('a sign-in that syncs groups by name (OpenID Connect) joins a SCIM group without taking its marker', async () => {
    const name = `Both ${token()}`
    const id = await scimGroup(name, [])
    const db = h.services.database.db
    await db.transaction().execute((trx) =>
      h.services.groups.syncMemberships(trx, { id: member.id, role: 'user', origin: { ip: '127.0.0.1', requestId: 'test' } }, [name], {
        create: false,
        blocked: [],
        source: 'oidc',
      }),
    )
    expect(await group(id)).toMatchObject({ user_ids: [member.id], managed_by: 'scim' })
  })
})
