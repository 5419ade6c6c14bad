import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Group, Permissions } from '@modelgate/sdk'
import { addAccount, badCredentials, createLadder, expectRefusedRungs } from './support/accounts.js'
import { DIALECTS } from './support/databases.js'
import { nowSeconds, sorted } from './support/factories.js'
import { createHarness, PASSWORD, type Harness, type InjectOptions, type TestAccount } from './support/harness.js'

const GROUPS = '/api/v1/groups'
const SESSION = '/api/v1/auths/'

type GroupBody = Group

const NONE: Permissions = {
  workspace: { models: false, models_import: false, models_export: false, templates: false },
  sharing: { models: false, public_models: false },
}
const ALL: Permissions = {
  workspace: { models: true, models_import: true, models_export: true, templates: true },
  sharing: { models: true, public_models: true },
}
/** NONE with some permissions set true, e.g. with('workspace.models'). */
function withTrue(...paths: string[]): Permissions {
  const result = structuredClone(NONE) as unknown as Record<string, Record<string, boolean>>
  for (const path of paths) {
    const [section = '', key = ''] = path.split('.')
    const node = result[section]
    if (!node || !(key in node)) throw new Error(`unknown permission ${path}`)
    node[key] = true
  }
  return result as unknown as Permissions
}

async function createGroup(h: Harness, payload: Record<string, unknown>): Promise<GroupBody> {
  const res = await h.request({ method: 'POST', url: `${GROUPS}/create`, headers: h.admin.auth, payload })
  expect(res.statusCode, res.body).toBe(200)
  return res.json<GroupBody>()
}

async function getGroup(h: Harness, id: string) {
  return h.request({ method: 'GET', url: `${GROUPS}/id/${id}`, headers: h.admin.auth })
}

async function listGroups(h: Harness): Promise<GroupBody[]> {
  const res = await h.request({ method: 'GET', url: `${GROUPS}/`, headers: h.admin.auth })
  expect(res.statusCode).toBe(200)
  return res.json<GroupBody[]>()
}

async function post(h: Harness, url: string, payload: unknown) {
  return h.request({ method: 'POST', url, headers: h.admin.auth, payload })
}

async function permissionsOf(h: Harness, account: TestAccount): Promise<Permissions> {
  const res = await h.request({ method: 'GET', url: SESSION, headers: account.auth })
  expect(res.statusCode, res.body).toBe(200)
  return res.json().permissions as Permissions
}

/** Creates an account without signing it in (for members whose token is not needed). */
async function addUser(h: Harness, name: string): Promise<string> {
  return (await addAccount(h, { name })).id
}

describe.each(DIALECTS)('groups routes on %s', (dialect) => {
  let h: Harness
  let m1: string
  let m2: string
  beforeAll(async () => {
    h = await createHarness(dialect)
    m1 = await addUser(h, 'Member One')
    m2 = await addUser(h, 'Member Two')
  })
  afterAll(async () => h?.close())

  describe('create, list, get', () => {
    it('creates a group with description, permissions and members', async () => {
      const before = nowSeconds()
      const permissions = { workspace: { models: true }, sharing: { public_models: false } }
      const group = await createGroup(h, { name: 'Editors', description: 'People who edit', permissions, user_ids: [m1, m2, m1] })
      expect(group).toMatchObject({ user_id: h.admin.id, name: 'Editors', description: 'People who edit', permissions, member_count: 2 })
      expect(sorted(group.user_ids)).toEqual(sorted([m1, m2]))
      expect(group.created_at).toBeGreaterThanOrEqual(before)
      expect(group.updated_at).toBe(group.created_at)

      const read = await getGroup(h, group.id)
      expect(read.statusCode).toBe(200)
      expect({ ...read.json(), user_ids: sorted(read.json().user_ids) }).toEqual({ ...group, user_ids: sorted(group.user_ids) })
    })

    it('defaults description, permissions and members to empty', async () => {
      const group = await createGroup(h, { name: 'Bare' })
      expect(group).toMatchObject({ name: 'Bare', description: '', permissions: {}, user_ids: [], member_count: 0 })
    })

    it('keeps unknown permission keys so Open WebUI trees round-trip', async () => {
      const permissions = {
        workspace: { models: true, tools: true, knowledge: false },
        chat: { delete: false, file_upload: true },
        features: { web_search: true },
      }
      const group = await createGroup(h, { name: 'Round Trip', permissions })
      expect(group.permissions).toEqual(permissions)
      expect((await getGroup(h, group.id)).json().permissions).toEqual(permissions)
    })

    it('lists every group with its members, by name', async () => {
      const groups = await listGroups(h)
      const names = groups.map((g) => g.name)
      expect(names).toEqual(expect.arrayContaining(['Bare', 'Editors', 'Round Trip']))
      expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' })))
      const editors = groups.find((g) => g.name === 'Editors')
      expect(sorted(editors?.user_ids ?? [])).toEqual(sorted([m1, m2]))
      expect(editors?.member_count).toBe(2)
    })

    it('refuses a member list naming an unknown user with 400 naming the id, creating nothing', async () => {
      const before = await listGroups(h)
      const res = await post(h, `${GROUPS}/create`, { name: 'Ghostly', user_ids: [m1, 'ghost-user-id'] })
      expect(res.statusCode).toBe(400)
      expect(res.json().code).toBe('VALIDATION_ERROR')
      expect(res.json().detail).toContain('ghost-user-id')
      expect(res.json().detail).not.toContain(m1)
      const after = await listGroups(h)
      expect(after).toEqual(before)
      expect(after.some((g) => g.name === 'Ghostly')).toBe(false)
    })

    it('refuses a known permission with a non-boolean value', async () => {
      const before = await listGroups(h)
      const res = await post(h, `${GROUPS}/create`, { name: 'Typo', permissions: { workspace: { models: 'yes' } } })
      expect(res.statusCode).toBe(400)
      expect(res.json().code).toBe('VALIDATION_ERROR')
      expect(res.json().detail).toContain('permissions')
      expect(await listGroups(h)).toEqual(before)
    })
  })

  describe('update', () => {
    let group: GroupBody
    beforeAll(async () => {
      group = await createGroup(h, {
        name: 'Mutable',
        description: 'first',
        permissions: { workspace: { models: true, models_import: true } },
        user_ids: [m1],
      })
    })

    it('changes only the fields given', async () => {
      const res = await post(h, `${GROUPS}/id/${group.id}/update`, { description: 'second' })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({
        id: group.id,
        name: 'Mutable',
        description: 'second',
        permissions: group.permissions,
        user_ids: [m1],
        created_at: group.created_at,
        user_id: h.admin.id,
      })
      expect(res.json().updated_at).toBeGreaterThanOrEqual(group.updated_at)
    })

    it('replaces the permission tree instead of merging it', async () => {
      const res = await post(h, `${GROUPS}/id/${group.id}/update`, { name: 'Renamed', permissions: { sharing: { models: true } } })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({ name: 'Renamed', description: 'second', permissions: { sharing: { models: true } } })
      expect((await getGroup(h, group.id)).json().permissions).toEqual({ sharing: { models: true } })
    })

    it('replaces the member list', async () => {
      const res = await post(h, `${GROUPS}/id/${group.id}/update`, { user_ids: [m2] })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({ user_ids: [m2], member_count: 1, name: 'Renamed' })
      const emptied = await post(h, `${GROUPS}/id/${group.id}/update`, { user_ids: [] })
      expect(emptied.json()).toMatchObject({ user_ids: [], member_count: 0 })
      const refilled = await post(h, `${GROUPS}/id/${group.id}/update`, { user_ids: [m1, m2] })
      expect(sorted(refilled.json().user_ids)).toEqual(sorted([m1, m2]))
    })

    it('refuses an unknown user with 400 and changes nothing at all', async () => {
      const before = (await getGroup(h, group.id)).json()
      const res = await post(h, `${GROUPS}/id/${group.id}/update`, {
        name: 'Must Not Stick',
        permissions: { workspace: { models_export: true } },
        user_ids: [m1, 'nobody-here'],
      })
      expect(res.statusCode).toBe(400)
      expect(res.json()).toMatchObject({ code: 'VALIDATION_ERROR', detail: expect.stringContaining('nobody-here') })
      expect((await getGroup(h, group.id)).json()).toEqual(before)
    })
  })

  describe('members', () => {
    let group: GroupBody
    beforeAll(async () => {
      group = await createGroup(h, { name: 'Members', user_ids: [m1] })
    })

    it('adds members, ignoring those already in', async () => {
      const res = await post(h, `${GROUPS}/id/${group.id}/users/add`, { user_ids: [m1, m2, m2] })
      expect(res.statusCode).toBe(200)
      expect(sorted(res.json().user_ids)).toEqual(sorted([m1, m2]))
      expect(res.json().member_count).toBe(2)
    })

    it('removes members; removing a non-member changes nothing', async () => {
      const res = await post(h, `${GROUPS}/id/${group.id}/users/remove`, { user_ids: [m1] })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({ user_ids: [m2], member_count: 1 })
      const again = await post(h, `${GROUPS}/id/${group.id}/users/remove`, { user_ids: [m1] })
      expect(again.statusCode).toBe(200)
      expect(again.json().user_ids).toEqual([m2])
    })

    it('refuses to add an unknown user (400 naming it), adding no one', async () => {
      const res = await post(h, `${GROUPS}/id/${group.id}/users/add`, { user_ids: [m1, 'phantom-id'] })
      expect(res.statusCode).toBe(400)
      expect(res.json()).toMatchObject({ code: 'VALIDATION_ERROR', detail: expect.stringContaining('phantom-id') })
      expect((await getGroup(h, group.id)).json().user_ids).toEqual([m2])
    })

    it('refuses an empty member list with 400 naming user_ids', async () => {
      for (const action of ['add', 'remove']) {
        const res = await post(h, `${GROUPS}/id/${group.id}/users/${action}`, { user_ids: [] })
        expect(res.statusCode).toBe(400)
        expect(res.json().detail).toContain('user_ids')
      }
    })
  })

  describe('delete', () => {
    it('deletes the group and its memberships', async () => {
      const group = await createGroup(h, { name: 'Short Lived', user_ids: [m1] })
      const res = await h.request({ method: 'DELETE', url: `${GROUPS}/id/${group.id}/delete`, headers: h.admin.auth })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toBe(true)
      expect((await getGroup(h, group.id)).statusCode).toBe(404)
      expect((await listGroups(h)).some((g) => g.id === group.id)).toBe(false)
      const again = await h.request({ method: 'DELETE', url: `${GROUPS}/id/${group.id}/delete`, headers: h.admin.auth })
      expect(again.statusCode).toBe(404)
      // Its members are untouched.
      expect((await h.request({ method: 'GET', url: `/api/v1/users/${m1}`, headers: h.admin.auth })).statusCode).toBe(200)
    })
  })

  describe('unknown group', () => {
    it.each<[string, InjectOptions['method'], string, unknown]>([
      ['GET', 'GET', '', undefined],
      ['update', 'POST', '/update', { name: 'x' }],
      ['users/add', 'POST', '/users/add', { user_ids: ['whoever'] }],
      ['users/remove', 'POST', '/users/remove', { user_ids: ['whoever'] }],
      ['delete', 'DELETE', '/delete', undefined],
    ])('%s answers 404 NOT_FOUND', async (_name, method, suffix, payload) => {
      const res = await h.request({
        method,
        url: `${GROUPS}/id/no-such-group${suffix}`,
        headers: h.admin.auth,
        ...(payload !== undefined && { payload }),
      })
      expect(res.statusCode).toBe(404)
      expect(res.json()).toEqual({ detail: expect.stringContaining('no-such-group'), code: 'NOT_FOUND' })
    })
  })

  describe('feature permissions of members', () => {
    let member: TestAccount
    let pending: TestAccount
    beforeAll(async () => {
      member = await h.createUser('user', 'Permission Member')
      pending = await h.createUser('pending', 'Permission Pending')
    })

    it('resolves groups: any group true wins, removal and deletion take the permission away', async () => {
      expect(await permissionsOf(h, member)).toEqual(NONE)

      const models = await createGroup(h, { name: 'Perm Models', permissions: { workspace: { models: true } }, user_ids: [member.id] })
      expect(await permissionsOf(h, member)).toEqual(withTrue('workspace.models'))

      // A second group OR-merges; its false does not cancel the first group's true.
      const sharing = await createGroup(h, {
        name: 'Perm Sharing',
        permissions: { workspace: { models: false, models_export: true }, sharing: { public_models: true } },
        user_ids: [member.id],
      })
      expect(await permissionsOf(h, member)).toEqual(withTrue('workspace.models', 'workspace.models_export', 'sharing.public_models'))

      // Sign-in answers the same resolved tree.
      const signin = await h.request({ method: 'POST', url: '/api/v1/auths/signin', payload: { email: member.email, password: PASSWORD } })
      expect(signin.json().permissions).toEqual(withTrue('workspace.models', 'workspace.models_export', 'sharing.public_models'))

      const removed = await post(h, `${GROUPS}/id/${models.id}/users/remove`, { user_ids: [member.id] })
      expect(removed.statusCode).toBe(200)
      expect(await permissionsOf(h, member)).toEqual(withTrue('workspace.models_export', 'sharing.public_models'))

      // Changing a group's tree applies at once.
      await post(h, `${GROUPS}/id/${sharing.id}/update`, { permissions: { sharing: { public_models: true } } })
      expect(await permissionsOf(h, member)).toEqual(withTrue('sharing.public_models'))

      const deleted = await h.request({ method: 'DELETE', url: `${GROUPS}/id/${sharing.id}/delete`, headers: h.admin.auth })
      expect(deleted.statusCode).toBe(200)
      expect(await permissionsOf(h, member)).toEqual(NONE)
    })

    it('gives admins every permission, whatever their groups say', async () => {
      expect(await permissionsOf(h, h.admin)).toEqual(ALL)
      const denial = await createGroup(h, {
        name: 'Perm Denial',
        permissions: { workspace: { models: false, models_import: false, models_export: false }, sharing: { models: false, public_models: false } },
        user_ids: [h.admin.id],
      })
      expect(await permissionsOf(h, h.admin)).toEqual(ALL)
      await h.request({ method: 'DELETE', url: `${GROUPS}/id/${denial.id}/delete`, headers: h.admin.auth })
    })

    it('gives pending accounts no permission, even through a group', async () => {
      const grant = await createGroup(h, { name: 'Perm Pending', permissions: { workspace: { models: true } }, user_ids: [pending.id] })
      expect(await permissionsOf(h, pending)).toEqual(NONE)
      await h.request({ method: 'DELETE', url: `${GROUPS}/id/${grant.id}/delete`, headers: h.admin.auth })
    })
  })

  describe('the ladder', () => {
    let pending: TestAccount
    let user: TestAccount
    let revokedKey: string
    let target: GroupBody
    let doomed: GroupBody

    beforeAll(async () => {
      ;({ pending, user, revokedKey } = await createLadder(h, { pending: 'Group Ladder Pending', user: 'Group Ladder User' }))
      target = await createGroup(h, { name: 'Ladder Target', user_ids: [m1] })
      doomed = await createGroup(h, { name: 'Ladder Doomed' })
    })

    const routes: Array<{ name: string; request: (headers: Record<string, string>) => InjectOptions; check: (body: unknown) => void }> = [
      // GET /groups/ answers users too (their own groups): its ladder is in test/compat.owui-accounts.test.ts.
      {
        name: 'POST /groups/create',
        request: (headers) => ({ method: 'POST', url: `${GROUPS}/create`, headers, payload: { name: 'Ladder Created' } }),
        check: (body) => expect((body as GroupBody).name).toBe('Ladder Created'),
      },
      {
        name: 'GET /groups/id/:id',
        request: (headers) => ({ method: 'GET', url: `${GROUPS}/id/${target.id}`, headers }),
        check: (body) => expect((body as GroupBody).id).toBe(target.id),
      },
      {
        name: 'POST /groups/id/:id/update',
        request: (headers) => ({ method: 'POST', url: `${GROUPS}/id/${target.id}/update`, headers, payload: { description: 'ladder' } }),
        check: (body) => expect((body as GroupBody).description).toBe('ladder'),
      },
      {
        name: 'POST /groups/id/:id/users/add',
        request: (headers) => ({ method: 'POST', url: `${GROUPS}/id/${target.id}/users/add`, headers, payload: { user_ids: [m2] } }),
        check: (body) => expect(sorted((body as GroupBody).user_ids)).toEqual(sorted([m1, m2])),
      },
      {
        name: 'POST /groups/id/:id/users/remove',
        request: (headers) => ({ method: 'POST', url: `${GROUPS}/id/${target.id}/users/remove`, headers, payload: { user_ids: [m1] } }),
        check: (body) => expect((body as GroupBody).user_ids).toEqual([m2]),
      },
      {
        name: 'DELETE /groups/id/:id/delete',
        request: (headers) => ({ method: 'DELETE', url: `${GROUPS}/id/${doomed.id}/delete`, headers }),
        check: (body) => expect(body).toBe(true),
      },
    ]

    describe.each(routes)('$name', (route) => {
      it('401 without a valid credential, 403 pending and user, 200 admin; nothing changes before the admin', async () => {
        const before = await listGroups(h)
        await expectRefusedRungs(h, route.request, { credentials: badCredentials(revokedKey), forbidden: [pending, user] })
        expect(await listGroups(h)).toEqual(before)
        const res = await h.request(route.request(h.admin.auth))
        expect(res.statusCode, res.body).toBe(200)
        route.check(res.json())
      })
    })
  })
})

describe.each(DIALECTS)('permission defaults from the environment on %s', (dialect) => {
  let h: Harness
  let member: TestAccount
  beforeAll(async () => {
    h = await createHarness(dialect, { USER_PERMISSIONS_WORKSPACE_MODELS_IMPORT: 'true' })
    member = await h.createUser('user', 'Default Member')
  })
  afterAll(async () => h?.close())

  it('grants the default without any group', async () => {
    expect(await permissionsOf(h, member)).toEqual(withTrue('workspace.models_import'))
  })

  it('is not taken away by a group that sets it false; other group grants add to it', async () => {
    const group = await createGroup(h, {
      name: 'Says No',
      permissions: { workspace: { models_import: false, models: true } },
      user_ids: [member.id],
    })
    expect(await permissionsOf(h, member)).toEqual(withTrue('workspace.models_import', 'workspace.models'))
    await h.request({ method: 'DELETE', url: `${GROUPS}/id/${group.id}/delete`, headers: h.admin.auth })
    expect(await permissionsOf(h, member)).toEqual(withTrue('workspace.models_import'))
  })
})
