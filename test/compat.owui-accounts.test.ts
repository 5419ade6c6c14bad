/**
 * Open WebUI compatibility of accounts, users and groups (issue #14, items 1 to 3): each test sends what
 * the functions of Open WebUI's client (src/lib/apis/{auths,users,groups}/index.ts, v0.9.2) send (method,
 * path, headers, body) and checks the fields they read back. The attacks of a least-privileged user on
 * the same routes are in test/attack/accounts.attack.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGroup } from './support/accounts.js'
import { DIALECTS } from './support/databases.js'
import { uniqueEmail } from './support/factories.js'
import { createHarness, PASSWORD, type Harness, type Reply, type TestAccount } from './support/harness.js'
import { bearer, expectError } from './support/requests.js'

/** WEBUI_API_BASE_URL */
const API = '/api/v1'

/** A request as Open WebUI's client sends it: JSON content type always, the token as `Authorization: Bearer`. */
function owui(
  h: Harness,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  token?: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return h.request({
    method,
    url: `${API}${path}`,
    headers: { 'content-type': 'application/json', ...(token !== undefined && bearer(token)), ...headers },
    ...(body !== undefined && { payload: JSON.stringify(body) }),
  })
}

/** The `token` cookie a response sets (its attributes), or undefined. */
function tokenCookieOf(res: Reply): string | undefined {
  const header = res.headers['set-cookie']
  const all = Array.isArray(header) ? header : header === undefined ? [] : [String(header)]
  return all.find((cookie) => cookie.startsWith('token='))
}

/** The ids of a list answer. */
const idsOf = (res: Reply): string[] => res.json<{ id: string }[]>().map((item) => item.id)

const cookieHeader = (token: string) => ({ cookie: `token=${encodeURIComponent(token)}` })
const nowSeconds = () => Math.floor(Date.now() / 1000)

describe.each(DIALECTS)('Open WebUI accounts, users and groups on %s', (dialect) => {
  let h: Harness
  let user: TestAccount
  let other: TestAccount
  let pending: TestAccount

  beforeAll(async () => {
    h = await createHarness(dialect)
    user = await h.createUser('user', 'Compat User')
    other = await h.createUser('user', 'Compat Other')
    pending = await h.createUser('pending', 'Compat Pending')
  })
  afterAll(async () => h?.close())

  describe('auths', () => {
    it('userSignIn: the session answer with token, token_type and expires_at, and the token cookie (HttpOnly, SameSite=Lax)', async () => {
      const res = await owui(h, 'POST', '/auths/signin', undefined, { email: user.email, password: PASSWORD })
      expect(res.statusCode).toBe(200)
      const body = res.json()
      expect(body).toMatchObject({ id: user.id, email: user.email, name: 'Compat User', role: 'user', profile_image_url: '', token_type: 'Bearer' })
      expect(typeof body.token).toBe('string')
      expect(body.expires_at).toBeGreaterThan(nowSeconds())
      expect(body.permissions.workspace.models).toBe(false)
      const cookie = tokenCookieOf(res)
      expect(cookie).toContain(`token=${encodeURIComponent(body.token as string)}`)
      expect(cookie).toMatch(/; HttpOnly/)
      expect(cookie).toMatch(/; SameSite=Lax/)
      expect(cookie).toMatch(/; Path=\//)
      expect(cookie).toMatch(/; Max-Age=\d+/)
      expect(cookie).not.toMatch(/Secure/)
    })

    it('userSignUp sets the cookie too', async () => {
      const res = await owui(h, 'POST', '/auths/signup', undefined, { name: 'Signed Up', email: uniqueEmail('su'), password: PASSWORD, profile_image_url: '' })
      expect(res.statusCode).toBe(200)
      expect(res.json().role).toBe('pending')
      expect(tokenCookieOf(res)).toContain(`token=${encodeURIComponent(res.json().token as string)}`)
    })

    it('getSessionUser (Bearer, credentials: include): token_type and expires_at, and the header token becomes the cookie', async () => {
      const signin = await owui(h, 'POST', '/auths/signin', undefined, { email: other.email, password: PASSWORD })
      const token = signin.json().token as string
      const res = await owui(h, 'GET', '/auths/', token)
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({ id: other.id, role: 'user', token_type: 'Bearer', expires_at: signin.json().expires_at })
      expect(res.json()).not.toHaveProperty('token')
      expect(tokenCookieOf(res)).toContain(`token=${encodeURIComponent(token)}`)
    })

    it('getSessionUser by the cookie alone (pending accounts too): the session, never the token, no cookie set again', async () => {
      for (const account of [user, pending]) {
        const res = await h.request({ method: 'GET', url: `${API}/auths/`, headers: cookieHeader(account.token) })
        expect(res.statusCode, res.body).toBe(200)
        expect(res.json()).toMatchObject({ id: account.id, role: account.role, token_type: 'Bearer' })
        expect(res.body).not.toContain(account.token)
        expect(tokenCookieOf(res)).toBeUndefined()
      }
      // An API key is a header credential: GET /auths/ answers expires_at null and sets no cookie.
      const key = (await owui(h, 'POST', '/auths/api_key', user.token)).json().api_key as string
      const byKey = await owui(h, 'GET', '/auths/', key)
      expect(byKey.statusCode).toBe(200)
      expect(byKey.json().expires_at).toBeNull()
      expect(tokenCookieOf(byKey)).toBeUndefined()
      // ... and is never taken from a cookie.
      expectError(await h.request({ method: 'GET', url: `${API}/auths/`, headers: cookieHeader(key) }), 401, 'UNAUTHORIZED')
      await owui(h, 'DELETE', '/auths/api_key', user.token)
    })

    it('behind a trusted HTTPS proxy the cookie is Secure', async () => {
      const proxied = await createHarness(dialect, { TRUST_PROXY: 'true' })
      try {
        const res = await proxied.request({
          method: 'POST',
          url: `${API}/auths/signin`,
          headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
          payload: JSON.stringify({ email: proxied.admin.email, password: PASSWORD }),
        })
        expect(res.statusCode).toBe(200)
        expect(tokenCookieOf(res)).toMatch(/; Secure/)
      } finally {
        await proxied.close()
      }
    })

    it('userSignOut (cookie only, no Authorization): {status: true}, the cookie cleared, the sign-out audited', async () => {
      const res = await h.request({ method: 'GET', url: `${API}/auths/signout`, headers: { 'content-type': 'application/json', ...cookieHeader(other.token) } })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toEqual({ status: true })
      expect(tokenCookieOf(res)).toMatch(/^token=; .*Max-Age=0/)
      const audit = await owui(h, 'GET', `/audit?action=auth.signout&actor_id=${other.id}`, h.admin.token)
      expect(audit.statusCode, audit.body).toBe(200)
      expect(audit.body).toContain('auth.signout')
    })

    it('updateUserProfile: {name, profile_image_url, bio, gender, date_of_birth} → the user; pending accounts 403', async () => {
      const account = await h.createUser('user', 'Profile Before')
      const res = await owui(h, 'POST', '/auths/update/profile', account.token, {
        name: 'Profile After',
        profile_image_url: 'data:image/png;base64,iVBORw0KGgo=',
        bio: 'kept nowhere',
        gender: null,
        date_of_birth: null,
      })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json()).toMatchObject({ id: account.id, name: 'Profile After', profile_image_url: 'data:image/png;base64,iVBORw0KGgo=', role: 'user' })
      expect((await owui(h, 'GET', '/auths/', account.token)).json().name).toBe('Profile After')
      expectError(await owui(h, 'POST', '/auths/update/profile', pending.token, { name: 'Nope', profile_image_url: '' }), 403, 'ACCESS_PROHIBITED')
      // A bad name is a clear 400, not a 500.
      expectError(await owui(h, 'POST', '/auths/update/profile', account.token, { name: 42, profile_image_url: '' }), 400, 'VALIDATION_ERROR')
    })

    it("updateUserPassword: truthy answer; the caller's token keeps working, other sessions are revoked", async () => {
      const account = await h.createUser('user', 'Password Changer')
      const elsewhere = (await owui(h, 'POST', '/auths/signin', undefined, { email: account.email, password: PASSWORD })).json().token as string
      const res = await owui(h, 'POST', '/auths/update/password', account.token, { password: PASSWORD, new_password: 'a-brand-new-password' })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toBeTruthy()
      expect((await owui(h, 'GET', '/auths/', account.token)).statusCode).toBe(200)
      expectError(await owui(h, 'GET', '/auths/', elsewhere), 401, 'UNAUTHORIZED')
      expect((await owui(h, 'GET', '/auths/', res.json().token as string)).statusCode).toBe(200)
      expect(tokenCookieOf(res)).toContain(`token=${encodeURIComponent(res.json().token as string)}`)
    })

    it('getSignUpEnabledStatus: admins read a boolean; users 403', async () => {
      const res = await owui(h, 'GET', '/auths/signup/enabled', h.admin.token)
      expect(res.statusCode).toBe(200)
      expect(res.json()).toBe(true)
      expectError(await owui(h, 'GET', '/auths/signup/enabled', user.token), 403, 'ACCESS_PROHIBITED')
    })

    it('getAdminDetails: pending accounts learn whom to ask (the first admin)', async () => {
      const res = await owui(h, 'GET', '/auths/admin/details', pending.token)
      expect(res.statusCode).toBe(200)
      expect(res.json()).toEqual({ name: 'Admin', email: h.admin.email })
    })

    it("addUser sends role 'pending' (its default): the account is pending", async () => {
      const res = await owui(h, 'POST', '/auths/add', h.admin.token, { name: 'Added', email: uniqueEmail('add'), password: PASSWORD, role: 'pending' })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({ name: 'Added', role: 'pending' })
    })
  })

  describe('users', () => {
    let group: string

    beforeAll(async () => {
      group = await createGroup(h, 'Compat Members', undefined, [user.id, other.id])
    })

    it('getUsers(token, query, orderBy, direction, page): {users, total} with group_ids', async () => {
      const res = await owui(h, 'GET', '/users/?page=1&query=compat&order_by=last_active_at&direction=desc', h.admin.token)
      expect(res.statusCode, res.body).toBe(200)
      const body = res.json()
      expect(body.total).toBeGreaterThanOrEqual(3)
      const found = (body.users as { id: string }[]).find((u) => u.id === user.id)
      expect(found).toMatchObject({ id: user.id, name: 'Compat User', email: user.email, role: 'user', group_ids: [group] })
    })

    it('getAllUsers: every account in {users, total}', async () => {
      const res = await owui(h, 'GET', '/users/all', h.admin.token)
      expect(res.statusCode).toBe(200)
      expect(res.json().total).toBe(res.json().users.length)
      expect((res.json().users as { id: string }[]).map((u) => u.id)).toEqual(expect.arrayContaining([h.admin.id, user.id, other.id, pending.id]))
    })

    it('searchUsers: users see id, name and picture, matched by name; admins every field, by email too', async () => {
      const mine = await owui(h, 'GET', '/users/search?query=Compat%20Other', user.token)
      expect(mine.statusCode).toBe(200)
      expect(mine.json()).toEqual({ users: [{ id: other.id, name: 'Compat Other', profile_image_url: '' }], total: 1 })
      const admin = await owui(h, 'GET', `/users/search?query=${encodeURIComponent(other.email)}`, h.admin.token)
      expect(admin.json().users).toEqual([expect.objectContaining({ id: other.id, email: other.email, role: 'user' })])
    })

    it('getUserInfoById and the groups of an account: admins any, users their own', async () => {
      const info = await owui(h, 'GET', `/users/${user.id}/info`, user.token)
      expect(info.statusCode).toBe(200)
      expect(info.json()).toMatchObject({ id: user.id, name: 'Compat User', group_ids: [group] })
      expect((await owui(h, 'GET', `/users/${other.id}/info`, h.admin.token)).json().group_ids).toEqual([group])
      const groups = await owui(h, 'GET', `/users/${other.id}/groups`, h.admin.token)
      expect(idsOf(groups)).toEqual([group])
      expect((await owui(h, 'GET', `/users/${user.id}/groups`, user.token)).statusCode).toBe(200)
    })

    it('getUserGroups (/users/groups): the caller’s groups, members hidden but the count', async () => {
      const res = await owui(h, 'GET', '/users/groups', user.token)
      expect(res.statusCode).toBe(200)
      expect(res.json()).toEqual([expect.objectContaining({ id: group, name: 'Compat Members', user_ids: [user.id], member_count: 2 })])
      expect((await owui(h, 'GET', '/users/groups', h.admin.token)).json()).toEqual([])
    })

    it('getUserDefaultPermissions / updateUserDefaultPermissions: the whole tree; users feel it at once', async () => {
      const before = await owui(h, 'GET', '/users/default/permissions', h.admin.token)
      expect(before.statusCode).toBe(200)
      expect(before.json().workspace).toMatchObject({ models: false, models_import: false, models_export: false })
      expect(before.json().sharing).toMatchObject({ models: false, public_models: false })
      // What the admin page posts back: Open WebUI's whole USER_PERMISSIONS tree.
      const tree = {
        workspace: { models: true, knowledge: false, prompts: false, tools: false, models_import: false, models_export: false },
        sharing: { models: false, public_models: false, public_knowledge: true },
        chat: { controls: true, file_upload: true, delete: true, temporary: true },
        features: { api_keys: false, web_search: true },
        ui: { interface_settings: true },
      }
      const saved = await owui(h, 'POST', '/users/default/permissions', h.admin.token, tree)
      expect(saved.statusCode, saved.body).toBe(200)
      expect(saved.json()).toMatchObject(tree)
      expect((await owui(h, 'GET', '/users/default/permissions', h.admin.token)).json()).toMatchObject(tree)
      expect((await owui(h, 'GET', '/auths/', user.token)).json().permissions.workspace.models).toBe(true)
      // And back: taken away at once too.
      await owui(h, 'POST', '/users/default/permissions', h.admin.token, { ...tree, workspace: { ...tree.workspace, models: false } })
      expect((await owui(h, 'GET', '/auths/', user.token)).json().permissions.workspace.models).toBe(false)
      expectError(await owui(h, 'POST', '/users/default/permissions', h.admin.token, { workspace: { models: 'yes' } }), 400, 'VALIDATION_ERROR')
    })
  })

  describe('groups', () => {
    let shared: string
    let closed: string
    let foreign: string

    beforeAll(async () => {
      const make = async (name: string, data: unknown, members: string[]) => {
        const res = await owui(h, 'POST', '/groups/create', h.admin.token, { name, description: '', data, user_ids: members })
        expect(res.statusCode, res.body).toBe(200)
        return res.json().id as string
      }
      shared = await make('G Shared', { config: { share: 'members' } }, [user.id, other.id])
      closed = await make('G Closed', { config: { share: false } }, [user.id])
      foreign = await make('G Foreign', { config: { share: true } }, [other.id])
    })

    it('data is stored and returned; an update replaces it', async () => {
      const res = await owui(h, 'GET', `/groups/id/${closed}`, h.admin.token)
      expect(res.json().data).toEqual({ config: { share: false } })
      const updated = await owui(h, 'POST', `/groups/id/${closed}/update`, h.admin.token, { name: 'G Closed', data: { config: { share: false }, note: 'x' } })
      expect(updated.json().data).toEqual({ config: { share: false }, note: 'x' })
    })

    it('getGroups for a user: their own groups only, members hidden; share=true: the ones offered for sharing', async () => {
      const all = await owui(h, 'GET', '/groups/', user.token)
      expect(all.statusCode).toBe(200)
      const ids = idsOf(all)
      expect(ids).toEqual(expect.arrayContaining([shared, closed]))
      expect(ids).not.toContain(foreign)
      for (const g of all.json<{ user_ids: string[] }[]>()) expect(g.user_ids).toEqual([user.id])
      expect(all.json<{ id: string; member_count: number }[]>().find((g) => g.id === shared)?.member_count).toBe(2)
      const offered = idsOf(await owui(h, 'GET', '/groups/?share=true', user.token))
      expect(offered).toContain(shared)
      expect(offered).not.toContain(closed)
      expect(offered).not.toContain(foreign)
      // Admins: every group; share=true: true-groups and the members-groups they are in.
      const adminAll = idsOf(await owui(h, 'GET', '/groups/', h.admin.token))
      expect(adminAll).toEqual(expect.arrayContaining([shared, closed, foreign]))
      const adminOffered = idsOf(await owui(h, 'GET', '/groups/?share=true', h.admin.token))
      expect(adminOffered).toContain(foreign)
      expect(adminOffered).not.toContain(closed)
    })

    it('getGroupInfoById: members get the group without its member list; others 404', async () => {
      const res = await owui(h, 'GET', `/groups/id/${shared}/info`, user.token)
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({ id: shared, name: 'G Shared', member_count: 2 })
      expect(res.json()).not.toHaveProperty('user_ids')
      expectError(await owui(h, 'GET', `/groups/id/${foreign}/info`, user.token), 404, 'NOT_FOUND')
      expect((await owui(h, 'GET', `/groups/id/${foreign}/info`, h.admin.token)).statusCode).toBe(200)
    })

    it('the ladder of GET /groups/: 401 without a credential, 403 pending, 200 users and admins', async () => {
      expectError(await owui(h, 'GET', '/groups/'), 401, 'UNAUTHORIZED')
      expectError(await owui(h, 'GET', '/groups/', pending.token), 403, 'ACCESS_PROHIBITED')
      expectError(await owui(h, 'GET', '/groups/?share=maybe', user.token), 400, 'VALIDATION_ERROR')
    })
  })
})

describe.each(DIALECTS)('Open WebUI admin config on %s', (dialect) => {
  let h: Harness
  let peer: Harness

  beforeAll(async () => {
    h = await createHarness(dialect)
    // A second instance on the same database, re-reading settings on every use.
    peer = await createHarness(dialect, { SETTINGS_CHECK_INTERVAL_MS: '0' }, { database: h.database })
  })
  afterAll(async () => {
    await peer?.close()
    await h?.close()
  })

  it('getAdminConfig: the environment first; updateAdminConfig (whole body, either API-key name) persists and applies at once', async () => {
    const user = await h.createUser('user', 'Config User')
    const key = (await owui(h, 'POST', '/auths/api_key', user.token)).json().api_key as string
    const initial = await owui(h, 'GET', '/auths/admin/config', h.admin.token)
    expect(initial.statusCode).toBe(200)
    expect(initial.json()).toMatchObject({
      ENABLE_SIGNUP: true,
      DEFAULT_USER_ROLE: 'pending',
      ENABLE_API_KEY: true,
      ENABLE_API_KEYS: true,
      JWT_EXPIRES_IN: '4w',
      SHOW_ADMIN_DETAILS: true,
    })

    // What the admin settings page posts: the whole object it read, changed, with Open WebUI's other keys.
    const body = {
      ...initial.json(),
      WEBUI_URL: 'https://chat.example.org',
      ENABLE_SIGNUP: false,
      DEFAULT_USER_ROLE: 'user',
      ENABLE_API_KEY: false,
      JWT_EXPIRES_IN: '1h',
      ENABLE_COMMUNITY_SHARING: false,
      ENABLE_MESSAGE_RATING: true,
      ENABLE_CHANNELS: false,
      PENDING_USER_OVERLAY_TITLE: null,
    }
    const saved = await owui(h, 'POST', '/auths/admin/config', h.admin.token, body)
    expect(saved.statusCode, saved.body).toBe(200)
    expect(saved.json()).toMatchObject({
      ENABLE_SIGNUP: false,
      DEFAULT_USER_ROLE: 'user',
      ENABLE_API_KEY: false,
      ENABLE_API_KEYS: false,
      JWT_EXPIRES_IN: '1h',
      WEBUI_URL: 'https://chat.example.org',
      ENABLE_CHANNELS: false,
    })

    // Applied at once, here and on the other instance.
    for (const instance of [h, peer]) {
      const again = await owui(instance, 'GET', '/auths/admin/config', h.admin.token)
      expect(again.json()).toEqual(saved.json())
      expectError(
        await owui(instance, 'POST', '/auths/signup', undefined, { name: 'Late', email: uniqueEmail('late'), password: PASSWORD }),
        403,
        'ACCESS_PROHIBITED',
      )
      expectError(await owui(instance, 'GET', '/auths/', key), 403, 'ACCESS_PROHIBITED')
      expectError(await owui(instance, 'POST', '/auths/api_key', user.token), 403, 'ACCESS_PROHIBITED')
      const signin = await owui(instance, 'POST', '/auths/signin', undefined, { email: user.email, password: PASSWORD })
      expect(Math.abs((signin.json().expires_at as number) - (nowSeconds() + 3600))).toBeLessThanOrEqual(5)
    }
    // Signed-in tokens from before keep their own expiry; the admin can still add accounts, with the role they choose.
    expect((await owui(h, 'GET', '/auths/', user.token)).statusCode).toBe(200)

    // Both names in one body, disagreeing: the one that differs from the stored value wins.
    const both = await owui(h, 'POST', '/auths/admin/config', h.admin.token, { ENABLE_API_KEY: false, ENABLE_API_KEYS: true })
    expect(both.json()).toMatchObject({ ENABLE_API_KEY: true, ENABLE_API_KEYS: true })
    expect((await owui(h, 'GET', '/auths/', key)).statusCode).toBe(200)

    // Audited.
    const audit = await owui(h, 'GET', '/audit?action=config.update', h.admin.token)
    expect(audit.statusCode, audit.body).toBe(200)
    expect(audit.body).toContain('ENABLE_SIGNUP')
  })

  it('refuses bad values with 400 naming the key, and non-admins with 403', async () => {
    for (const bad of [
      { DEFAULT_USER_ROLE: 'owner' },
      { JWT_EXPIRES_IN: 'forever' },
      { ENABLE_SIGNUP: 'yes' },
      { lower_case: true },
      { WEBUI_URL: { nested: true } },
    ]) {
      const res = await owui(h, 'POST', '/auths/admin/config', h.admin.token, bad)
      expectError(res, 400, 'VALIDATION_ERROR')
      expect(res.body).toContain(Object.keys(bad)[0])
    }
    const user = await h.createUser('user', 'Not Admin')
    expectError(await owui(h, 'GET', '/auths/admin/config', user.token), 403, 'ACCESS_PROHIBITED')
    expectError(await owui(h, 'POST', '/auths/admin/config', user.token, { ENABLE_SIGNUP: true }), 403, 'ACCESS_PROHIBITED')
    expectError(await owui(h, 'GET', '/users/default/permissions', user.token), 403, 'ACCESS_PROHIBITED')
  })

  it('default permissions saved on one instance reach sessions on the other', async () => {
    const user = await h.createUser('user', 'Peer User')
    const tree = { workspace: { models: false, models_import: true }, sharing: {} }
    expect((await owui(h, 'POST', '/users/default/permissions', h.admin.token, tree)).statusCode).toBe(200)
    expect((await owui(peer, 'GET', '/auths/', user.token)).json().permissions.workspace.models_import).toBe(true)
  })
})
