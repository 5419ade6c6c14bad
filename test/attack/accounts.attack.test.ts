/**
 * Issue #14's accounts, users and groups, as a hostile least-privileged account would try them through
 * HTTP: reading others' groups and details, the cookie as a CSRF vehicle, password changes with a wrong
 * current password or a stolen session, pending accounts, admin settings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGroup } from '../support/accounts.js'
import { DIALECTS } from '../support/databases.js'
import { createHarness, PASSWORD, type Harness, type TestAccount } from '../support/harness.js'
import { bearer, expectError } from '../support/requests.js'

const API = '/api/v1'
const cookie = (token: string) => ({ cookie: `token=${encodeURIComponent(token)}` })

describe.each(DIALECTS)('accounts attacks on %s', { timeout: 120_000 }, (dialect) => {
  let h: Harness
  let mallory: TestAccount
  let alice: TestAccount
  let pending: TestAccount
  let aliceGroup: string
  let malloryGroup: string

  beforeAll(async () => {
    h = await createHarness(dialect)
    mallory = await h.createUser('user', 'Mallory')
    alice = await h.createUser('user', 'Alice Secret')
    pending = await h.createUser('pending', 'Pending Pete')
    aliceGroup = await createGroup(h, 'Alice Only', { workspace: { models: true } }, [alice.id])
    malloryGroup = await createGroup(h, 'Shared Team', undefined, [mallory.id, alice.id])
  })
  afterAll(async () => h?.close())

  const get = (who: TestAccount | undefined, url: string, headers: Record<string, string> = {}) =>
    h.request({ method: 'GET', url: `${API}${url}`, headers: { ...(who && who.auth), ...headers } })

  it("a user cannot read another account's info or groups: 404, as an id that does not exist", async () => {
    for (const url of [`/users/${alice.id}/info`, `/users/${alice.id}/groups`, `/users/${h.admin.id}/info`, '/users/nobody/info']) {
      const res = await get(mallory, url)
      expectError(res, 404, 'NOT_FOUND')
      expect(res.body).not.toContain('Alice Only')
      expect(res.body).not.toContain(alice.email)
    }
  })

  it('a user never sees groups that are not theirs, nor the members of their own', async () => {
    for (const url of ['/groups/', '/groups/?share=true', '/groups/?share=false', '/users/groups', `/users/${mallory.id}/groups`]) {
      const res = await get(mallory, url)
      expect(res.statusCode, res.body).toBe(200)
      expect(res.body).not.toContain(aliceGroup)
      expect(res.body).not.toContain(alice.id)
    }
    expectError(await get(mallory, `/groups/id/${aliceGroup}/info`), 404, 'NOT_FOUND')
    expectError(await get(mallory, `/groups/id/${aliceGroup}`), 403, 'ACCESS_PROHIBITED')
    const info = await get(mallory, `/groups/id/${malloryGroup}/info`)
    expect(info.statusCode).toBe(200)
    expect(info.body).not.toContain(alice.id)
  })

  it('user search cannot test emails nor read them: matches names only, answers id, name and picture', async () => {
    const byEmail = await get(mallory, `/users/search?query=${encodeURIComponent(alice.email)}`)
    expect(byEmail.json()).toEqual({ users: [], total: 0 })
    const byName = await get(mallory, '/users/search?query=Alice')
    expect(byName.json().users).toEqual([{ id: alice.id, name: 'Alice Secret', profile_image_url: '' }])
    expect(byName.body).not.toContain(alice.email)
    // A LIKE wildcard is literal: "%" does not list everybody.
    expect((await get(mallory, '/users/search?query=%25')).json().total).toBe(0)
  })

  it('admin-only user routes stay admin-only', async () => {
    for (const url of ['/users/', '/users/all', `/users/${alice.id}`, '/users/default/permissions', '/auths/admin/config', '/auths/signup/enabled']) {
      expectError(await get(mallory, url), 403, 'ACCESS_PROHIBITED')
    }
  })

  it('a pending account reads only its session and whom to ask', async () => {
    expect((await get(pending, '/auths/')).statusCode).toBe(200)
    expect((await get(pending, '/auths/admin/details')).statusCode).toBe(200)
    for (const url of ['/users/search?query=a', `/users/${pending.id}/info`, '/users/groups', '/groups/', `/groups/id/${malloryGroup}/info`]) {
      expectError(await get(pending, url), 403, 'ACCESS_PROHIBITED')
    }
    const res = await h.request({ method: 'POST', url: `${API}/auths/update/profile`, headers: pending.auth, payload: { name: 'Approved?' } })
    expectError(res, 403, 'ACCESS_PROHIBITED')
  })

  it('CSRF: a state-changing request carrying only the cookie is refused (401) and changes nothing', async () => {
    const forged = [
      { method: 'POST' as const, url: '/auths/update/password', payload: { password: PASSWORD, new_password: 'attacker-chosen-1' } },
      { method: 'POST' as const, url: '/auths/update/profile', payload: { name: 'Pwned' } },
      { method: 'POST' as const, url: '/auths/api_key' },
      { method: 'DELETE' as const, url: '/auths/api_key' },
      { method: 'POST' as const, url: '/auths/admin/config', payload: { ENABLE_SIGNUP: true, DEFAULT_USER_ROLE: 'admin' } },
      { method: 'POST' as const, url: '/users/default/permissions', payload: { workspace: { models: true } } },
      { method: 'POST' as const, url: `/users/${mallory.id}/update`, payload: { role: 'admin' } },
      { method: 'POST' as const, url: '/groups/create', payload: { name: 'Forged' } },
    ]
    for (const request of forged) {
      for (const victim of [alice, h.admin]) {
        const res = await h.request({
          method: request.method,
          url: `${API}${request.url}`,
          headers: { ...cookie(victim.token), origin: 'https://evil.example', 'content-type': 'application/json' },
          ...(request.payload && { payload: JSON.stringify(request.payload) }),
        })
        expect(res.statusCode, `${request.url}: ${res.body}`).toBe(401)
      }
    }
    // Reads other than the session check do not take the cookie either.
    expectError(await get(undefined, '/users/', cookie(h.admin.token)), 401, 'UNAUTHORIZED')
    expectError(await get(undefined, '/groups/', cookie(alice.token)), 401, 'UNAUTHORIZED')
    // Nothing changed.
    expect((await h.request({ method: 'POST', url: `${API}/auths/signin`, payload: { email: alice.email, password: PASSWORD } })).statusCode).toBe(200)
    expect((await get(alice, '/auths/')).json().name).toBe('Alice Secret')
    expect((await get(h.admin, '/auths/admin/config')).json().DEFAULT_USER_ROLE).toBe('pending')
    expect((await get(mallory, '/auths/')).json().role).toBe('user')
  })

  it('a password change with a wrong current password is 400 and revokes nothing; rate limited like sign-in', async () => {
    const victim = await h.createUser('user', 'Wrong Current')
    const res = await h.request({
      method: 'POST',
      url: `${API}/auths/update/password`,
      headers: victim.auth,
      payload: { password: 'guess', new_password: 'a-new-password-9' },
    })
    expectError(res, 400, 'VALIDATION_ERROR')
    expect(res.json().detail).toMatch(/current password/i)
    expect((await get(victim, '/auths/')).statusCode).toBe(200)
  })

  it('after a password change the old sessions elsewhere are revoked; an admin reset then revokes the kept one too', async () => {
    const victim = await h.createUser('user', 'Kept Then Reset')
    const stolen = (await h.request({ method: 'POST', url: `${API}/auths/signin`, payload: { email: victim.email, password: PASSWORD } })).json()
      .token as string
    const changed = await h.request({
      method: 'POST',
      url: `${API}/auths/update/password`,
      headers: victim.auth,
      payload: { password: PASSWORD, new_password: 'owner-new-password' },
    })
    expect(changed.statusCode).toBe(200)
    expectError(await h.request({ method: 'GET', url: `${API}/auths/`, headers: bearer(stolen) }), 401, 'UNAUTHORIZED')
    // The stolen session can neither change the password back nor mint a key.
    expect(
      (
        await h.request({
          method: 'POST',
          url: `${API}/auths/update/password`,
          headers: bearer(stolen),
          payload: { password: 'owner-new-password', new_password: 'thief-password-1' },
        })
      ).statusCode,
    ).toBe(401)
    expect((await h.request({ method: 'POST', url: `${API}/auths/api_key`, headers: bearer(stolen) })).statusCode).toBe(401)
    expect((await get(victim, '/auths/')).statusCode).toBe(200)
    const reset = await h.request({ method: 'POST', url: `${API}/users/${victim.id}/update`, headers: h.admin.auth, payload: { password: 'admin-reset-pass' } })
    expect(reset.statusCode).toBe(200)
    expectError(await get(victim, '/auths/'), 401, 'UNAUTHORIZED')
    expectError(await h.request({ method: 'GET', url: `${API}/auths/`, headers: bearer(changed.json().token as string) }), 401, 'UNAUTHORIZED')
  })

  it('a kept token is the caller’s only: a second change keeps the new caller and drops the first kept token', async () => {
    const victim = await h.createUser('user', 'Two Changes')
    const second = (await h.request({ method: 'POST', url: `${API}/auths/signin`, payload: { email: victim.email, password: PASSWORD } })).json()
      .token as string
    const first = await h.request({
      method: 'POST',
      url: `${API}/auths/update/password`,
      headers: victim.auth,
      payload: { password: PASSWORD, new_password: 'first-new-pass' },
    })
    expect(first.statusCode).toBe(200)
    const fresh = first.json().token as string
    const again = await h.request({
      method: 'POST',
      url: `${API}/auths/update/password`,
      headers: bearer(fresh),
      payload: { password: 'first-new-pass', new_password: 'second-new-pass' },
    })
    expect(again.statusCode).toBe(200)
    expect((await h.request({ method: 'GET', url: `${API}/auths/`, headers: bearer(fresh) })).statusCode).toBe(200)
    expectError(await get(victim, '/auths/'), 401, 'UNAUTHORIZED')
    expectError(await h.request({ method: 'GET', url: `${API}/auths/`, headers: bearer(second) }), 401, 'UNAUTHORIZED')
  })

  it('the default-permissions tree cannot be used to smuggle bad values (400) and a non-admin cannot change it', async () => {
    for (const bad of [{ workspace: { models: 1 } }, { sharing: { public_models: 'true' } }, [] as unknown, 'x' as unknown]) {
      const res = await h.request({
        method: 'POST',
        url: `${API}/users/default/permissions`,
        headers: { ...h.admin.auth, 'content-type': 'application/json' },
        payload: JSON.stringify(bad),
      })
      expect(res.statusCode, res.body).toBe(400)
    }
    expectError(
      await h.request({ method: 'POST', url: `${API}/users/default/permissions`, headers: mallory.auth, payload: { workspace: { models: true } } }),
      403,
      'ACCESS_PROHIBITED',
    )
    expect((await get(mallory, '/auths/')).json().permissions.workspace.models).toBe(false)
  })
})
