/**
 * The audit log under attack (issue #12), on every dialect: nobody but an admin reads it, no secret
 * ever reaches it (passwords, session tokens, API keys and their hashes, provider keys, credentials in
 * provider URLs), and an anonymous caller cannot grow it without bound.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { badCredentials, createLadder, expectRefusedRungs, type Ladder } from './support/accounts.js'
import { DIALECTS } from './support/databases.js'
import { uniqueEmail } from './support/factories.js'
import { createHarness, type Harness } from './support/harness.js'
import { bearer, expectError } from './support/requests.js'

const AUDIT = '/api/v1/audit'
const EXPORT = '/api/v1/audit/export'

describe.each(DIALECTS)('audit log under attack on %s', (dialect) => {
  let h: Harness
  let ladder: Ladder

  beforeAll(async () => {
    h = await createHarness(dialect, { SIGNIN_MAX_ATTEMPTS: '3', SIGNIN_WINDOW_SECONDS: '300', DEFAULT_USER_ROLE: 'user' })
    ladder = await createLadder(h, { pending: 'Pending Snoop', user: 'User Snoop' })
  })
  afterAll(async () => h?.close())

  it('only admins read the log or its export: 401 without a credential, 403 for pending and users (API keys too)', async () => {
    const key = (await h.send(ladder.user, { method: 'POST', url: '/api/v1/auths/api_key' })).json().api_key as string
    for (const url of [AUDIT, `${AUDIT}?action=auth.*`, EXPORT, `${EXPORT}?actor_id=${h.admin.id}`]) {
      await expectRefusedRungs(h, (headers) => ({ method: 'GET', url, headers }), {
        credentials: badCredentials(ladder.revokedKey),
        forbidden: [ladder.pending, ladder.user],
      })
      expectError(await h.request({ method: 'GET', url, headers: bearer(key) }), 403, 'ACCESS_PROHIBITED')
    }
    // A bad query from a non-admin is refused before validation: the guard speaks first.
    expectError(await h.send(ladder.user, { method: 'GET', url: AUDIT, query: { limit: '0' } }), 403, 'ACCESS_PROHIBITED')
    // The log has no write route.
    for (const method of ['POST', 'DELETE', 'PUT'] as const) {
      expect((await h.send(h.admin, { method, url: AUDIT, payload: {} })).statusCode).toBe(404)
    }
  })

  it('no secret reaches the log: passwords, tokens, API keys, provider keys, URL credentials', async () => {
    const secrets: Record<string, string> = {}
    // Sign-up and sign-in with a password; a failed sign-in with another one; a password change.
    const email = uniqueEmail('secretive')
    secrets['signup password'] = 'Signup-Pa55word-secret'
    const signup = await h.request({ method: 'POST', url: '/api/v1/auths/signup', payload: { name: 'Secretive', email, password: secrets['signup password'] } })
    expect(signup.statusCode, signup.body).toBe(200)
    secrets['signup token'] = signup.json().token
    secrets['wrong password'] = 'Wrong-Pa55word-secret'
    expect((await h.request({ method: 'POST', url: '/api/v1/auths/signin', payload: { email, password: secrets['wrong password'] } })).statusCode).toBe(401)
    const signin = await h.request({ method: 'POST', url: '/api/v1/auths/signin', payload: { email, password: secrets['signup password'] } })
    expect(signin.statusCode).toBe(200)
    secrets['signin token'] = signin.json().token
    secrets['new password'] = 'Changed-Pa55word-secret'
    const changed = await h.request({
      method: 'POST',
      url: '/api/v1/auths/update/password',
      headers: bearer(signin.json<{ token: string }>().token),
      payload: { password: secrets['signup password'], new_password: secrets['new password'] },
    })
    expect(changed.statusCode, changed.body).toBe(200)
    const token = changed.json().token as string
    secrets['changed token'] = token
    // An API key, used, then signed out with.
    const created = await h.request({ method: 'POST', url: '/api/v1/auths/api_key', headers: bearer(token) })
    secrets['api key'] = created.json().api_key
    expect((await h.request({ method: 'GET', url: '/api/v1/auths/', headers: bearer(created.json<{ api_key: string }>().api_key) })).statusCode).toBe(200)
    expect((await h.request({ method: 'GET', url: '/api/v1/auths/signout', headers: bearer(token) })).statusCode).toBe(200)
    // An admin's reset and account creation with passwords.
    secrets['reset password'] = 'Reset-Pa55word-secret'
    expect(
      (await h.send(h.admin, { method: 'POST', url: `/api/v1/users/${signup.json().id}/update`, payload: { password: secrets['reset password'] } })).statusCode,
    ).toBe(200)
    secrets['added password'] = 'Added-Pa55word-secret'
    const added = await h.send(h.admin, {
      method: 'POST',
      url: '/api/v1/auths/add',
      payload: { name: 'Added', email: uniqueEmail('added'), password: secrets['added password'] },
    })
    expect(added.statusCode).toBe(200)
    // A connection with a key and a URL carrying credentials in its query string (userinfo is refused).
    secrets['provider key'] = 'sk-provider-SECRET-4711'
    secrets['query key'] = 'QUERYSECRET0815'
    secrets['query sig'] = 'SIGSECRET2342'
    const connection = await h.send(h.admin, {
      method: 'POST',
      url: '/api/v1/connections/create',
      payload: {
        name: 'Leaky',
        base_url: `http://127.0.0.1:9/v1?api-key=${secrets['query key']}&sig=${secrets['query sig']}`,
        api_key: secrets['provider key'],
      },
    })
    expect(connection.statusCode, connection.body).toBe(200)
    const connectionId = connection.json().id as string
    secrets['userinfo password'] = 'USERINFOSECRET99'
    const withUserinfo = await h.send(h.admin, {
      method: 'POST',
      url: '/api/v1/connections/create',
      payload: { base_url: `http://svc:${secrets['userinfo password']}@127.0.0.1:9/v1` },
    })
    expectError(withUserinfo, 400, 'VALIDATION_ERROR')
    secrets['new provider key'] = 'sk-provider-SECRET-2nd'
    secrets['new query key'] = 'NEWQUERYSECRET77'
    const updated = await h.send(h.admin, {
      method: 'POST',
      url: `/api/v1/connections/id/${connectionId}/update`,
      payload: { base_url: `http://127.0.0.1:9/v2?key=${secrets['new query key']}`, api_key: secrets['new provider key'] },
    })
    expect(updated.statusCode, updated.body).toBe(200)
    expect((await h.send(h.admin, { method: 'DELETE', url: `/api/v1/connections/id/${connectionId}/delete` })).statusCode).toBe(200)

    const exported = await h.send(h.admin, { method: 'GET', url: EXPORT })
    expect(exported.statusCode).toBe(200)
    // What the database itself holds, not only what the API shows.
    const rows = JSON.stringify(await h.services.database.db.selectFrom('audit_log').selectAll().execute())
    for (const [what, secret] of Object.entries(secrets)) {
      expect(secret.length, what).toBeGreaterThan(8)
      expect(exported.body.includes(secret), `${what} in the export`).toBe(false)
      expect(rows.includes(secret), `${what} in audit_log`).toBe(false)
    }
    // The stored hashes and the sealed provider key are no better.
    const hashes = await h.services.database.db.selectFrom('credentials').select('password_hash').execute()
    for (const { password_hash } of hashes) expect(rows.includes(password_hash)).toBe(false)

    // The events are there all the same, with what may be shown.
    const about = (action: string) =>
      exported.body
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { action: string; target_id: string | null; before: unknown; after: unknown })
        .filter((e) => e.action === action && e.target_id === connectionId)
    expect(about('connection.create')[0]?.after).toMatchObject({ base_url: 'http://127.0.0.1:9/v1?***', has_api_key: true })
    expect(about('connection.update')[0]?.after).toEqual({ base_url: 'http://127.0.0.1:9/v2?***', api_key_changed: true })
    expect(exported.body).toContain(created.json().key_hint)
  })

  it('an anonymous caller cannot grow the log without bound', async () => {
    const count = async () => (await h.send(h.admin, { method: 'GET', url: EXPORT })).body.split('\n').length
    const before = await count()
    // Sign-outs without a valid credential write nothing.
    for (let i = 0; i < 5; i++) await h.request({ method: 'GET', url: '/api/v1/auths/signout', headers: bearer(`forged-${i}`) })
    expect(await count()).toBe(before)
    // Hammering a locked account writes its failures (bounded by the limit) and one refusal, not one per request.
    const victim = await h.createUser('user', 'Victim')
    const afterSetup = await count()
    const statuses: number[] = []
    for (let i = 0; i < 15; i++) {
      statuses.push((await h.request({ method: 'POST', url: '/api/v1/auths/signin', payload: { email: victim.email, password: `guess-${i}-pw` } })).statusCode)
    }
    expect(statuses.filter((s) => s === 401)).toHaveLength(3)
    expect(statuses.filter((s) => s === 429)).toHaveLength(12)
    expect((await count()) - afterSetup).toBe(3 + 1)
    // A request that fails validation writes nothing.
    expect((await h.request({ method: 'POST', url: '/api/v1/auths/signin', payload: { email: 'not-an-email', password: 'x' } })).statusCode).toBe(400)
    expect((await count()) - afterSetup).toBe(4)
  })

  it('filters are values, never SQL or patterns: LIKE characters in ids match literally', async () => {
    const all = (await h.send(h.admin, { method: 'GET', url: AUDIT, query: { limit: '200' } })).json().items.length as number
    expect(all).toBeGreaterThan(5)
    for (const query of [{ target_id: '%' }, { actor_id: '%' }, { target_id: "' or 1=1 --" }, { actor_id: '_' }] as Record<string, string>[]) {
      const res = await h.send(h.admin, { method: 'GET', url: AUDIT, query })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json().items).toEqual([])
    }
    // A cursor from the far future or past is a valid bound, not an error.
    expect((await h.send(h.admin, { method: 'GET', url: AUDIT, query: { cursor: '9999999999999-9999-ffffffff', limit: '200' } })).json().items.length).toBe(all)
    expect((await h.send(h.admin, { method: 'GET', url: AUDIT, query: { cursor: '0000000000000-0000-00000000' } })).json()).toEqual({
      items: [],
      next_cursor: null,
    })
  })
})
