import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { User } from '@modelgate/sdk'
import { addAccount, badCredentials, createLadder, expectRefusedRungs, signin } from './support/accounts.js'
import { DIALECTS } from './support/databases.js'
import { uniqueEmail } from './support/factories.js'
import { createHarness, PASSWORD, type Harness, type InjectOptions, type TestAccount } from './support/harness.js'
import { bearer } from './support/requests.js'

const USERS = '/api/v1/users/'
const SESSION = '/api/v1/auths/'

type UserBody = User

/** Creates an account through the admin API without signing it in (one password hash). */
const addUser = (h: Harness, fields: Parameters<typeof addAccount>[1]) => addAccount<UserBody>(h, fields)

async function list(h: Harness, query: Record<string, string>) {
  const res = await h.request({ method: 'GET', url: USERS, headers: h.admin.auth, query })
  expect(res.statusCode, res.body).toBe(200)
  return res.json<{ users: UserBody[]; total: number }>()
}

async function update(h: Harness, id: string, payload: Record<string, unknown>, headers = h.admin.auth) {
  return h.request({ method: 'POST', url: `${USERS}${id}/update`, headers, payload })
}

describe.each(DIALECTS)('users routes on %s', (dialect) => {
  let h: Harness
  beforeAll(async () => {
    h = await createHarness(dialect)
  })
  afterAll(async () => h?.close())

  describe('GET /users/', () => {
    const pagerNames = ['Pager Echo', 'Pager Alpha', 'Pager Delta', 'Pager Charlie', 'Pager Bravo']
    let pagers: UserBody[] = []
    beforeAll(async () => {
      pagers = []
      for (const name of pagerNames) {
        pagers.push(await addUser(h, { name, email: uniqueEmail(`pgr${name.split(' ')[1]?.toLowerCase()}`) }))
      }
    })

    it('lists accounts with their public fields and a total, never a secret', async () => {
      const page = await list(h, {})
      expect(page.total).toBe(pagers.length + 1)
      expect(page.users).toHaveLength(pagers.length + 1)
      const admin = page.users.find((u) => u.id === h.admin.id)
      expect(admin).toMatchObject({ id: h.admin.id, email: h.admin.email, name: 'Admin', role: 'admin', profile_image_url: '' })
      for (const user of page.users) {
        expect(Object.keys(user).sort()).toEqual(['created_at', 'email', 'group_ids', 'id', 'name', 'profile_image_url', 'role', 'updated_at'])
      }
      const raw = await h.request({ method: 'GET', url: USERS, headers: h.admin.auth })
      expect(raw.body).not.toContain('scrypt')
    })

    it('pages with page and limit; total counts every match', async () => {
      const seen: string[] = []
      for (let page = 1; page <= 3; page++) {
        const res = await list(h, { query: 'pager', order_by: 'name', direction: 'asc', page: String(page), limit: '2' })
        expect(res.total).toBe(5)
        expect(res.users.length).toBe(page < 3 ? 2 : 1)
        seen.push(...res.users.map((u) => u.name))
      }
      expect(seen).toEqual([...pagerNames].sort())
      const beyond = await list(h, { query: 'pager', page: '4', limit: '2' })
      expect(beyond).toEqual({ users: [], total: 5 })
    })

    it('sorts by created_at ascending (then id) by default', async () => {
      const res = await list(h, {})
      const created = res.users.map((u) => u.created_at)
      expect(created).toEqual([...created].sort((a, b) => a - b))
      const explicit = await list(h, { order_by: 'created_at', direction: 'asc' })
      expect(res.users.map((u) => u.id)).toEqual(explicit.users.map((u) => u.id))
      const desc = await list(h, { direction: 'desc' })
      expect(desc.users.map((u) => u.id)).toEqual(explicit.users.map((u) => u.id).reverse())
    })

    it('matches the query against name or email, case-insensitively', async () => {
      const byName = await list(h, { query: 'PAGER dElTa' })
      expect(byName.users.map((u) => u.name)).toEqual(['Pager Delta'])
      expect(byName.total).toBe(1)
      const delta = pagers.find((u) => u.name === 'Pager Delta')
      // The email (pgrdelta-…@example.com) is not in the name, so this matches on the email.
      const byEmail = await list(h, { query: delta?.email.split('@')[0]?.toUpperCase() ?? 'x' })
      expect(byEmail.users.map((u) => u.id)).toEqual([delta?.id])
      expect((await list(h, { query: 'pgr' })).total).toBe(5)
      expect(await list(h, { query: 'no-such-person-anywhere' })).toEqual({ users: [], total: 0 })
    })

    it('orders by name, email or created_at in either direction', async () => {
      const nameAsc = (await list(h, { query: 'pager', order_by: 'name' })).users.map((u) => u.name)
      expect(nameAsc).toEqual([...pagerNames].sort())
      const nameDesc = (await list(h, { query: 'pager', order_by: 'name', direction: 'desc' })).users.map((u) => u.name)
      expect(nameDesc).toEqual([...pagerNames].sort().reverse())
      const emailDesc = (await list(h, { query: 'pager', order_by: 'email', direction: 'desc' })).users.map((u) => u.email)
      expect(emailDesc).toEqual(
        pagers
          .map((u) => u.email)
          .sort()
          .reverse(),
      )
      const createdAsc = (await list(h, { query: 'pager', order_by: 'created_at', direction: 'asc' })).users.map((u) => u.id)
      const createdDesc = (await list(h, { query: 'pager', order_by: 'created_at', direction: 'desc' })).users.map((u) => u.id)
      expect(createdDesc).toEqual([...createdAsc].reverse())
      expect(new Set(createdAsc)).toEqual(new Set(pagers.map((u) => u.id)))
    })

    it('filters by role', async () => {
      const admins = await list(h, { role: 'admin' })
      expect(admins.users.map((u) => u.id)).toEqual([h.admin.id])
      expect(admins.total).toBe(1)
    })

    it('treats % _ and \\ in the query literally', async () => {
      const percent = await addUser(h, { name: 'Lit 100% sure' })
      const percentDecoy = await addUser(h, { name: 'Lit 1000 sure' })
      const underscore = await addUser(h, { name: 'Lit snake_case' })
      const underscoreDecoy = await addUser(h, { name: 'Lit snakeXcase' })
      const backslash = await addUser(h, { name: 'Lit back\\slash' })
      const ids = (page: { users: UserBody[] }) => page.users.map((u) => u.id)

      expect(ids(await list(h, { query: '100%' }))).toEqual([percent.id])
      expect(ids(await list(h, { query: '%' }))).toEqual([percent.id])
      expect(ids(await list(h, { query: 'snake_' }))).toEqual([underscore.id])
      expect(ids(await list(h, { query: 'e_c' }))).toEqual([underscore.id])
      expect(ids(await list(h, { query: 'back\\s' }))).toEqual([backslash.id])
      expect(ids(await list(h, { query: '\\' }))).toEqual([backslash.id])
      // The decoys are found by their own text, so the search itself works.
      expect(ids(await list(h, { query: 'lit 1000' }))).toEqual([percentDecoy.id])
      expect(ids(await list(h, { query: 'snakexcase' }))).toEqual([underscoreDecoy.id])
      expect((await list(h, { query: 'lit ' })).total).toBe(5)
    })

    it.each([
      ['limit', '0'],
      ['limit', '101'],
      ['limit', 'ten'],
      ['page', '0'],
      ['order_by', 'password_hash'],
      ['direction', 'sideways'],
      ['role', 'root'],
    ])('answers 400 naming %s when it is %s', async (name, value) => {
      const res = await h.request({ method: 'GET', url: USERS, headers: h.admin.auth, query: { [name]: value } })
      expect(res.statusCode).toBe(400)
      expect(res.json().code).toBe('VALIDATION_ERROR')
      expect(res.json().detail).toContain(`querystring.${name}`)
    })
  })

  describe('GET /users/:id', () => {
    it('answers the account', async () => {
      const user = await addUser(h, { name: 'Single' })
      const res = await h.request({ method: 'GET', url: `${USERS}${user.id}`, headers: h.admin.auth })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toEqual(user)
    })

    it('answers 404 NOT_FOUND for an unknown id', async () => {
      const res = await h.request({ method: 'GET', url: `${USERS}no-such-user`, headers: h.admin.auth })
      expect(res.statusCode).toBe(404)
      expect(res.json()).toEqual({ detail: expect.stringContaining('no-such-user'), code: 'NOT_FOUND' })
    })
  })

  describe('POST /users/:id/update', () => {
    it('changes the name and picture, keeps the rest, and bumps updated_at', async () => {
      const user = await addUser(h, { name: 'Before Rename' })
      const res = await update(h, user.id, { name: 'After Rename', profile_image_url: 'data:image/png;base64,AAAA' })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({
        id: user.id,
        name: 'After Rename',
        email: user.email,
        role: 'user',
        profile_image_url: 'data:image/png;base64,AAAA',
        created_at: user.created_at,
      })
      expect(res.json().updated_at).toBeGreaterThanOrEqual(user.updated_at)
      const read = await h.request({ method: 'GET', url: `${USERS}${user.id}`, headers: h.admin.auth })
      expect(read.json()).toEqual(res.json())
    })

    it('applies a role change on the account’s next request', async () => {
      const account = await h.createUser('pending', 'Promotee')
      const verifiedRoute: InjectOptions = { method: 'POST', url: '/api/v1/auths/api_key', headers: account.auth }
      expect((await h.request(verifiedRoute)).statusCode).toBe(403)

      const promoted = await update(h, account.id, { role: 'user' })
      expect(promoted.statusCode).toBe(200)
      expect(promoted.json().role).toBe('user')
      // Same token, new role.
      const key = await h.request(verifiedRoute)
      expect(key.statusCode).toBe(200)
      expect((await h.request({ method: 'GET', url: SESSION, headers: account.auth })).json().role).toBe('user')
      expect((await h.request({ method: 'GET', url: USERS, headers: account.auth })).statusCode).toBe(403)

      expect((await update(h, account.id, { role: 'admin' })).statusCode).toBe(200)
      expect((await h.request({ method: 'GET', url: USERS, headers: account.auth })).statusCode).toBe(200)
      // The API key follows the role too.
      expect((await h.request({ method: 'GET', url: USERS, headers: bearer(key.json().api_key) })).statusCode).toBe(200)

      // A demotion to pending revokes the sessions and the API key (issue #10, docs/auth.md).
      expect((await update(h, account.id, { role: 'pending' })).statusCode).toBe(200)
      expect((await h.request({ method: 'GET', url: USERS, headers: account.auth })).statusCode).toBe(401)
      expect((await h.request({ method: 'GET', url: SESSION, headers: bearer(key.json().api_key) })).statusCode).toBe(401)
      const again = await signin(h, account.email, PASSWORD)
      expect(again.statusCode).toBe(200)
      const me = await h.request({ method: 'GET', url: SESSION, headers: bearer(again.json().token) })
      expect(me.statusCode).toBe(200)
      expect(me.json().role).toBe('pending')
      expect((await h.request({ ...verifiedRoute, headers: bearer(again.json().token) })).statusCode).toBe(403)
    })

    it('refuses to demote the last admin with 409, and allows it once there is another', async () => {
      for (const role of ['user', 'pending'] as const) {
        const res = await update(h, h.admin.id, { role })
        expect(res.statusCode).toBe(409)
        expect(res.json()).toEqual({ detail: expect.stringContaining('last administrator'), code: 'CONFLICT' })
      }
      expect((await h.request({ method: 'GET', url: `${USERS}${h.admin.id}`, headers: h.admin.auth })).json().role).toBe('admin')
      // Keeping the role, or changing other fields, is fine.
      expect((await update(h, h.admin.id, { role: 'admin', name: 'Admin' })).statusCode).toBe(200)

      const second = await addUser(h, { name: 'Second Admin', role: 'admin' })
      const demoted = await update(h, second.id, { role: 'user' })
      expect(demoted.statusCode).toBe(200)
      expect(demoted.json().role).toBe('user')
      // Now the first admin is the last one again.
      expect((await update(h, h.admin.id, { role: 'user' })).statusCode).toBe(409)
    })

    it('answers 409 for an email that is taken (in any case), and changes nothing', async () => {
      const user = await addUser(h, { name: 'Email Taker' })
      const res = await update(h, user.id, { email: h.admin.email.toUpperCase(), name: 'Should Not Stick' })
      expect(res.statusCode).toBe(409)
      expect(res.json().code).toBe('CONFLICT')
      const read = await h.request({ method: 'GET', url: `${USERS}${user.id}`, headers: h.admin.auth })
      expect(read.json()).toMatchObject({ email: user.email, name: 'Email Taker' })
      // Setting the account's own email again is not a conflict.
      expect((await update(h, user.id, { email: user.email })).statusCode).toBe(200)
    })

    it('changes email and password: the account signs in with the new ones only', async () => {
      const account = await h.createUser('user', 'Credential Changer')
      const newEmail = uniqueEmail('Changed')
      const newPassword = 'a-brand-new-password'
      const res = await update(h, account.id, { email: newEmail.toUpperCase(), password: newPassword })
      expect(res.statusCode).toBe(200)
      expect(res.json().email).toBe(newEmail.toLowerCase())
      expect(res.body).not.toContain(newPassword)

      const ok = await signin(h, newEmail, newPassword)
      expect(ok.statusCode).toBe(200)
      expect(ok.json().id).toBe(account.id)
      expect((await signin(h, newEmail, PASSWORD)).statusCode).toBe(401)
      expect((await signin(h, account.email, newPassword)).statusCode).toBe(401)
    })

    it('refuses a short password with 400 naming password, keeping the old one', async () => {
      const user = await addUser(h, { name: 'Short Pw' })
      const res = await update(h, user.id, { password: 'short', name: 'Not Applied' })
      expect(res.statusCode).toBe(400)
      expect(res.json()).toMatchObject({ code: 'VALIDATION_ERROR', detail: expect.stringContaining('password') })
      expect((await signin(h, user.email, PASSWORD)).statusCode).toBe(200)
      expect((await h.request({ method: 'GET', url: `${USERS}${user.id}`, headers: h.admin.auth })).json().name).toBe('Short Pw')
    })

    it('answers 404 for an unknown id', async () => {
      const res = await update(h, 'no-such-user', { name: 'Ghost' })
      expect(res.statusCode).toBe(404)
      expect(res.json().code).toBe('NOT_FOUND')
    })
  })

  describe('DELETE /users/:id', () => {
    it('refuses to let an admin delete themself (403)', async () => {
      const res = await h.request({ method: 'DELETE', url: `${USERS}${h.admin.id}`, headers: h.admin.auth })
      expect(res.statusCode).toBe(403)
      expect(res.json().code).toBe('ACCESS_PROHIBITED')
      expect((await h.request({ method: 'GET', url: SESSION, headers: h.admin.auth })).statusCode).toBe(200)
    })

    it('deletes the account: its token and key stop working, it leaves its groups, and a second delete is 404', async () => {
      const doomed = await h.createUser('user', 'Doomed')
      const stays = await addUser(h, { name: 'Stays' })
      const key = (await h.request({ method: 'POST', url: '/api/v1/auths/api_key', headers: doomed.auth })).json().api_key as string
      const group = await h.request({
        method: 'POST',
        url: '/api/v1/groups/create',
        headers: h.admin.auth,
        payload: { name: 'Doomed Group', user_ids: [doomed.id, stays.id] },
      })
      expect(group.json().member_count).toBe(2)

      const res = await h.request({ method: 'DELETE', url: `${USERS}${doomed.id}`, headers: h.admin.auth })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toBe(true)

      expect((await h.request({ method: 'GET', url: SESSION, headers: doomed.auth })).statusCode).toBe(401)
      expect((await h.request({ method: 'GET', url: SESSION, headers: bearer(key) })).statusCode).toBe(401)
      expect((await signin(h, doomed.email, PASSWORD)).statusCode).toBe(401)
      expect((await h.request({ method: 'GET', url: `${USERS}${doomed.id}`, headers: h.admin.auth })).statusCode).toBe(404)
      const after = await h.request({ method: 'GET', url: `/api/v1/groups/id/${group.json().id}`, headers: h.admin.auth })
      expect(after.json()).toMatchObject({ user_ids: [stays.id], member_count: 1 })

      const again = await h.request({ method: 'DELETE', url: `${USERS}${doomed.id}`, headers: h.admin.auth })
      expect(again.statusCode).toBe(404)
      expect(again.json().code).toBe('NOT_FOUND')
    })

    it('keeps the groups an admin created when that admin is deleted', async () => {
      const other = await h.createUser('admin', 'Other Admin')
      const group = await h.request({ method: 'POST', url: '/api/v1/groups/create', headers: other.auth, payload: { name: 'Orphan Group' } })
      expect(group.json().user_id).toBe(other.id)
      expect((await h.request({ method: 'DELETE', url: `${USERS}${other.id}`, headers: h.admin.auth })).statusCode).toBe(200)
      const after = await h.request({ method: 'GET', url: `/api/v1/groups/id/${group.json().id}`, headers: h.admin.auth })
      expect(after.statusCode).toBe(200)
      expect(after.json()).toMatchObject({ name: 'Orphan Group', user_id: null })
    })

    it('answers 404 for an unknown id', async () => {
      const res = await h.request({ method: 'DELETE', url: `${USERS}no-such-user`, headers: h.admin.auth })
      expect(res.statusCode).toBe(404)
      expect(res.json().code).toBe('NOT_FOUND')
    })
  })

  describe('the ladder', () => {
    let pending: TestAccount
    let user: TestAccount
    let target: UserBody
    let deleteTarget: UserBody
    let revokedKey: string

    beforeAll(async () => {
      ;({ pending, user, revokedKey } = await createLadder(h, { pending: 'Ladder Pending', user: 'Ladder User' }))
      target = await addUser(h, { name: 'Ladder Target' })
      deleteTarget = await addUser(h, { name: 'Ladder Delete Target' })
    })

    const routes: Array<{ name: string; request: (headers: Record<string, string>) => InjectOptions; check: (body: unknown) => void }> = [
      {
        name: 'GET /users/',
        request: (headers) => ({ method: 'GET', url: USERS, headers }),
        check: (body) => expect((body as { total: number }).total).toBeGreaterThan(0),
      },
      {
        name: 'GET /users/:id',
        request: (headers) => ({ method: 'GET', url: `${USERS}${target.id}`, headers }),
        check: (body) => expect((body as UserBody).id).toBe(target.id),
      },
      {
        name: 'POST /users/:id/update',
        request: (headers) => ({ method: 'POST', url: `${USERS}${target.id}/update`, headers, payload: { name: 'Ladder Renamed' } }),
        check: (body) => expect((body as UserBody).name).toBe('Ladder Renamed'),
      },
      {
        name: 'DELETE /users/:id',
        request: (headers) => ({ method: 'DELETE', url: `${USERS}${deleteTarget.id}`, headers }),
        check: (body) => expect(body).toBe(true),
      },
    ]

    describe.each(routes)('$name', (route) => {
      it('401 without a token, with a bad token or a revoked API key; 403 pending and user; 200 admin', async () => {
        await expectRefusedRungs(h, route.request, { credentials: badCredentials(revokedKey), forbidden: [pending, user] })
        // Nothing happened before the admin's request.
        if (route.name.startsWith('POST')) {
          expect((await h.request({ method: 'GET', url: `${USERS}${target.id}`, headers: h.admin.auth })).json().name).toBe('Ladder Target')
        }
        expect((await h.request({ method: 'GET', url: `${USERS}${deleteTarget.id}`, headers: h.admin.auth })).statusCode).toBe(200)
        const res = await h.request(route.request(h.admin.auth))
        expect(res.statusCode, res.body).toBe(200)
        route.check(res.json())
      })
    })
  })
})
