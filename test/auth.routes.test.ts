import { createSigner } from 'fast-jwt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signin } from './support/accounts.js'
import { DIALECTS } from './support/databases.js'
import { nowSeconds, uniqueEmail } from './support/factories.js'
import { createHarness, PASSWORD, TEST_SECRET, type Harness, type InjectOptions, type TestAccount } from './support/harness.js'
import { bearer } from './support/requests.js'

const SIGNUP = '/api/v1/auths/signup'
const SESSION = '/api/v1/auths/'
const ADD = '/api/v1/auths/add'
const API_KEY = '/api/v1/auths/api_key'

const ALL_FALSE = {
  workspace: { models: false, models_import: false, models_export: false, templates: false },
  sharing: { models: false, public_models: false },
}
const ALL_TRUE = {
  workspace: { models: true, models_import: true, models_export: true, templates: true },
  sharing: { models: true, public_models: true },
}

/** Changes one character in the middle of the signature (the last one may only carry padding bits). */
function tamperSignature(token: string): string {
  const [header, payload, signature = ''] = token.split('.')
  const i = Math.floor(signature.length / 2)
  const replacement = signature[i] === 'A' ? 'B' : 'A'
  return `${header}.${payload}.${signature.slice(0, i)}${replacement}${signature.slice(i + 1)}`
}

/** Keeps the signature but points the payload at another account. */
function swapSubject(token: string, otherId: string): string {
  const [header, , signature] = token.split('.')
  const payload = Buffer.from(JSON.stringify({ id: otherId, sub: otherId, iat: nowSeconds() })).toString('base64url')
  return `${header}.${payload}.${signature}`
}

/** A well-formed HS256 token with a chosen expiry (and key), made independently of src/auth. */
async function signToken(userId: string, options: { exp: number; secret?: string }): Promise<string> {
  const sign = createSigner({ key: options.secret ?? TEST_SECRET, algorithm: 'HS256', noTimestamp: true })
  return Promise.resolve(sign({ id: userId, sub: userId, iat: options.exp - 3600, exp: options.exp }))
}

function unsignedToken(userId: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ id: userId, sub: userId, exp: nowSeconds() + 3600 })}.`
}

async function signup(h: Harness, body: Record<string, unknown>) {
  return h.request({ method: 'POST', url: SIGNUP, payload: body })
}

async function userCount(h: Harness): Promise<number> {
  const res = await h.request({ method: 'GET', url: '/api/v1/users/', headers: h.admin.auth, query: { limit: '1' } })
  expect(res.statusCode).toBe(200)
  return res.json().total as number
}

describe.each(DIALECTS)('auth routes on %s', (dialect) => {
  let h: Harness
  beforeAll(async () => {
    h = await createHarness(dialect)
  })
  afterAll(async () => h?.close())

  describe('POST /auths/signup', () => {
    it('makes the first account admin with every permission', async () => {
      expect(h.admin.role).toBe('admin')
      const me = await h.request({ method: 'GET', url: SESSION, headers: h.admin.auth })
      expect(me.statusCode).toBe(200)
      expect(me.json()).toMatchObject({ id: h.admin.id, role: 'admin', permissions: ALL_TRUE })
    })

    it('gives later accounts the default role pending, with a session and no secrets in the answer', async () => {
      const email = uniqueEmail('later')
      const before = nowSeconds()
      const res = await signup(h, { name: 'Later One', email, password: PASSWORD })
      expect(res.statusCode).toBe(200)
      const body = res.json()
      expect(body).toMatchObject({ name: 'Later One', email, role: 'pending', token_type: 'Bearer', permissions: ALL_FALSE })
      expect(typeof body.id).toBe('string')
      expect((body.token as string).split('.')).toHaveLength(3)
      const fourWeeks = 28 * 24 * 3600
      expect(body.expires_at).toBeGreaterThanOrEqual(before + fourWeeks)
      expect(body.expires_at).toBeLessThanOrEqual(nowSeconds() + fourWeeks)
      expect(res.body).not.toContain(PASSWORD)
      expect(res.body).not.toContain('scrypt')
      expect(body).not.toHaveProperty('password')
      // The token of a pending account identifies it.
      const me = await h.request({ method: 'GET', url: SESSION, headers: bearer(body.token) })
      expect(me.statusCode).toBe(200)
      expect(me.json()).toMatchObject({ id: body.id, email, role: 'pending', permissions: ALL_FALSE })
      expect(me.json()).not.toHaveProperty('token')
    })

    it('trims and lower-cases the email: one account per address, sign-in in any case', async () => {
      const tag = uniqueEmail('MiXeD')
      const res = await signup(h, { name: 'Case', email: `  ${tag.toUpperCase()} `, password: PASSWORD })
      expect(res.statusCode).toBe(200)
      expect(res.json().email).toBe(tag.toLowerCase())
      const again = await signup(h, { name: 'Case 2', email: tag.toLowerCase(), password: PASSWORD })
      expect(again.statusCode).toBe(409)
      expect(again.json().code).toBe('CONFLICT')
      const mixed = tag.replace(/^(.)(.)/, (_m, a: string, b: string) => a.toUpperCase() + b.toLowerCase())
      const login = await signin(h, mixed.toUpperCase(), PASSWORD)
      expect(login.statusCode).toBe(200)
      expect(login.json().id).toBe(res.json().id)
    })

    it('answers 409 CONFLICT for an email already registered, and stores nothing', async () => {
      const before = await userCount(h)
      const res = await signup(h, { name: 'Dup', email: h.admin.email, password: 'another-password' })
      expect(res.statusCode).toBe(409)
      expect(res.json()).toEqual({ detail: expect.stringContaining('already registered'), code: 'CONFLICT' })
      expect(await userCount(h)).toBe(before)
      // The existing account keeps its password.
      expect((await signin(h, h.admin.email, PASSWORD)).statusCode).toBe(200)
    })

    it('refuses a password shorter than PASSWORD_MIN_LENGTH with 400 naming password', async () => {
      const before = await userCount(h)
      const email = uniqueEmail('short')
      const res = await signup(h, { name: 'Short', email, password: 'seven77' })
      expect(res.statusCode).toBe(400)
      expect(res.json().code).toBe('VALIDATION_ERROR')
      expect(res.json().detail).toContain('password')
      expect(await userCount(h)).toBe(before)
      const empty = await signup(h, { name: 'Short', email, password: '' })
      expect(empty.statusCode).toBe(400)
      expect(empty.json().detail).toContain('password')
      expect(await userCount(h)).toBe(before)
    })

    it('lets exactly one of five simultaneous sign-ups with the same email through', async () => {
      const email = uniqueEmail('race')
      const before = await userCount(h)
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) => signup(h, { name: `Racer ${i}`, email, password: PASSWORD })))
      const statuses = results.map((r) => r.statusCode).sort()
      expect(statuses).toEqual([200, 409, 409, 409, 409])
      for (const r of results.filter((x) => x.statusCode === 409)) expect(r.json().code).toBe('CONFLICT')
      expect(await userCount(h)).toBe(before + 1)
      const list = await h.request({ method: 'GET', url: '/api/v1/users/', headers: h.admin.auth, query: { query: email } })
      expect(list.json<{ users: Array<{ email: string }> }>().users.map((u) => u.email)).toEqual([email])
    })
  })

  describe('POST /auths/signin', () => {
    let user: TestAccount
    beforeAll(async () => {
      user = await h.createUser('user', 'Signin User')
    })

    it('answers a session whose token works on GET /auths/', async () => {
      const res = await signin(h, user.email, PASSWORD)
      expect(res.statusCode).toBe(200)
      const body = res.json()
      expect(body).toMatchObject({ id: user.id, email: user.email, name: 'Signin User', role: 'user', token_type: 'Bearer' })
      expect(body.expires_at).toBeGreaterThan(nowSeconds())
      const me = await h.request({ method: 'GET', url: SESSION, headers: bearer(body.token) })
      expect(me.statusCode).toBe(200)
      expect(me.json()).toEqual({
        id: user.id,
        email: user.email,
        name: 'Signin User',
        role: 'user',
        profile_image_url: '',
        permissions: ALL_FALSE,
        token_type: 'Bearer',
        expires_at: body.expires_at,
      })
    })

    it('accepts the token with any case of "Bearer"', async () => {
      const me = await h.request({ method: 'GET', url: SESSION, headers: { authorization: `bearer ${user.token}` } })
      expect(me.statusCode).toBe(200)
      expect(me.json().id).toBe(user.id)
    })

    it('answers 401 with the same detail for a wrong password and an unknown email', async () => {
      const wrong = await signin(h, user.email, 'not-the-password')
      const unknown = await signin(h, uniqueEmail('nobody'), PASSWORD)
      expect(wrong.statusCode).toBe(401)
      expect(unknown.statusCode).toBe(401)
      expect(wrong.json().code).toBe('UNAUTHORIZED')
      expect(unknown.json()).toEqual(wrong.json())
      expect(wrong.body).not.toMatch(/token/)
    })

    it('GET /auths/signout answers status true', async () => {
      const res = await h.request({ method: 'GET', url: '/api/v1/auths/signout' })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toEqual({ status: true })
    })
  })

  describe('POST /auths/add', () => {
    it('creates an account with role user by default, or the role given, that can sign in', async () => {
      const email = uniqueEmail('added')
      const res = await h.request({ method: 'POST', url: ADD, headers: h.admin.auth, payload: { name: 'Added', email, password: PASSWORD } })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({ name: 'Added', email, role: 'user' })
      expect(res.body).not.toContain(PASSWORD)
      expect((await signin(h, email, PASSWORD)).json().role).toBe('user')

      const pendingEmail = uniqueEmail('added-pending')
      const pending = await h.request({
        method: 'POST',
        url: ADD,
        headers: h.admin.auth,
        payload: { name: 'Added P', email: pendingEmail, password: PASSWORD, role: 'pending' },
      })
      expect(pending.statusCode).toBe(200)
      expect(pending.json().role).toBe('pending')
    })

    it('answers 409 CONFLICT for a taken email, in any case', async () => {
      const before = await userCount(h)
      const res = await h.request({
        method: 'POST',
        url: ADD,
        headers: h.admin.auth,
        payload: { name: 'Dup', email: h.admin.email.toUpperCase(), password: PASSWORD },
      })
      expect(res.statusCode).toBe(409)
      expect(res.json().code).toBe('CONFLICT')
      expect(await userCount(h)).toBe(before)
    })

    it('refuses a short password with 400 naming password', async () => {
      const res = await h.request({
        method: 'POST',
        url: ADD,
        headers: h.admin.auth,
        payload: { name: 'Short', email: uniqueEmail('short-add'), password: 'short' },
      })
      expect(res.statusCode).toBe(400)
      expect(res.json()).toMatchObject({ code: 'VALIDATION_ERROR', detail: expect.stringContaining('password') })
    })
  })

  describe('API keys', () => {
    let user: TestAccount
    beforeAll(async () => {
      user = await h.createUser('user', 'Key User')
    })

    it('creates, describes, uses, replaces and revokes a key', async () => {
      const none = await h.request({ method: 'GET', url: API_KEY, headers: user.auth })
      expect(none.statusCode).toBe(404)
      expect(none.json().code).toBe('NOT_FOUND')

      const before = nowSeconds()
      const created = await h.request({ method: 'POST', url: API_KEY, headers: user.auth })
      expect(created.statusCode).toBe(200)
      const {
        api_key: key,
        key_hint: hint,
        created_at: createdAt,
        last_used_at: lastUsed,
      } = created.json<{
        api_key: string
        key_hint: string
        created_at: number
        last_used_at: number | null
      }>()
      expect(key).toMatch(/^sk-[0-9a-f]{48}$/)
      expect(hint).toBe(`${key.slice(0, 6)}…${key.slice(-4)}`)
      expect(createdAt).toBeGreaterThanOrEqual(before)
      expect(createdAt).toBeLessThanOrEqual(nowSeconds())
      expect(lastUsed).toBeNull()

      // Shown once: the description never carries the key.
      const described = await h.request({ method: 'GET', url: API_KEY, headers: user.auth })
      expect(described.statusCode).toBe(200)
      expect(described.json()).toEqual({ key_hint: hint, created_at: createdAt, last_used_at: null })
      expect(described.body).not.toContain(key.slice(6, -4))

      // The key is a credential.
      const me = await h.request({ method: 'GET', url: SESSION, headers: bearer(key) })
      expect(me.statusCode).toBe(200)
      expect(me.json()).toMatchObject({ id: user.id, role: 'user' })
      const used = await h.request({ method: 'GET', url: API_KEY, headers: bearer(key) })
      expect(used.statusCode).toBe(200)
      expect(used.json().last_used_at).toBeGreaterThanOrEqual(createdAt)

      // A new key replaces the old one at once.
      const replaced = await h.request({ method: 'POST', url: API_KEY, headers: user.auth })
      expect(replaced.statusCode).toBe(200)
      const newKey = replaced.json().api_key
      expect(newKey).toMatch(/^sk-[0-9a-f]{48}$/)
      expect(newKey).not.toBe(key)
      const old = await h.request({ method: 'GET', url: SESSION, headers: bearer(key) })
      expect(old.statusCode).toBe(401)
      expect(old.json().code).toBe('UNAUTHORIZED')
      expect((await h.request({ method: 'GET', url: SESSION, headers: bearer(newKey) })).statusCode).toBe(200)
      expect((await h.request({ method: 'GET', url: API_KEY, headers: user.auth })).json().key_hint).toBe(replaced.json().key_hint)

      // Revoked.
      const deleted = await h.request({ method: 'DELETE', url: API_KEY, headers: user.auth })
      expect(deleted.statusCode).toBe(200)
      expect(deleted.json()).toBe(true)
      const revoked = await h.request({ method: 'GET', url: SESSION, headers: bearer(newKey) })
      expect(revoked.statusCode).toBe(401)
      expect(revoked.json().code).toBe('UNAUTHORIZED')
      const again = await h.request({ method: 'DELETE', url: API_KEY, headers: user.auth })
      expect(again.statusCode).toBe(404)
      expect(again.json().code).toBe('NOT_FOUND')
      expect((await h.request({ method: 'GET', url: API_KEY, headers: user.auth })).statusCode).toBe(404)
      // The session token still works after the key is gone.
      expect((await h.request({ method: 'GET', url: SESSION, headers: user.auth })).statusCode).toBe(200)
    })

    it('keeps one key per account: keys of different accounts are independent', async () => {
      const other = await h.request({ method: 'POST', url: API_KEY, headers: h.admin.auth })
      const mine = await h.request({ method: 'POST', url: API_KEY, headers: user.auth })
      const otherKey = other.json().api_key
      const myKey = mine.json().api_key
      expect((await h.request({ method: 'GET', url: SESSION, headers: bearer(otherKey) })).json().id).toBe(h.admin.id)
      expect((await h.request({ method: 'GET', url: SESSION, headers: bearer(myKey) })).json().id).toBe(user.id)
      await h.request({ method: 'DELETE', url: API_KEY, headers: user.auth })
      expect((await h.request({ method: 'GET', url: SESSION, headers: bearer(otherKey) })).statusCode).toBe(200)
      expect((await h.request({ method: 'DELETE', url: API_KEY, headers: h.admin.auth })).statusCode).toBe(200)
    })

    it('answers 401 for a well-formed key that was never issued', async () => {
      const res = await h.request({ method: 'GET', url: SESSION, headers: bearer(`sk-${'0'.repeat(48)}`) })
      expect(res.statusCode).toBe(401)
      expect(res.json().code).toBe('UNAUTHORIZED')
    })
  })

  describe('the credential ladder', () => {
    const routes: Array<{ name: string; request: (extra: Record<string, string>) => InjectOptions; needs: 'authenticated' | 'verified' | 'admin' }> = [
      { name: 'GET /auths/', needs: 'authenticated', request: (headers) => ({ method: 'GET', url: SESSION, headers }) },
      {
        name: 'POST /auths/add',
        needs: 'admin',
        request: (headers) => ({
          method: 'POST',
          url: ADD,
          headers,
          payload: { name: 'Ladder', email: uniqueEmail('ladder'), password: PASSWORD },
        }),
      },
      { name: 'POST /auths/api_key', needs: 'verified', request: (headers) => ({ method: 'POST', url: API_KEY, headers }) },
      { name: 'GET /auths/api_key', needs: 'verified', request: (headers) => ({ method: 'GET', url: API_KEY, headers }) },
      { name: 'DELETE /auths/api_key', needs: 'verified', request: (headers) => ({ method: 'DELETE', url: API_KEY, headers }) },
    ]

    const bad: Record<string, Record<string, string>> = {}
    let pending: TestAccount
    let plainUser: TestAccount

    beforeAll(async () => {
      pending = await h.createUser('pending', 'Ladder Pending')
      plainUser = await h.createUser('user', 'Ladder User')
      const doomed = await h.createUser('user', 'Ladder Doomed')
      const keyOwner = await h.createUser('user', 'Ladder Key Owner')

      const key = (await h.request({ method: 'POST', url: API_KEY, headers: keyOwner.auth })).json().api_key as string
      expect((await h.request({ method: 'GET', url: SESSION, headers: bearer(key) })).statusCode).toBe(200)
      expect((await h.request({ method: 'DELETE', url: API_KEY, headers: keyOwner.auth })).statusCode).toBe(200)

      // The deleted account's token worked before the deletion.
      expect((await h.request({ method: 'GET', url: SESSION, headers: doomed.auth })).statusCode).toBe(200)
      expect((await h.request({ method: 'DELETE', url: `/api/v1/users/${doomed.id}`, headers: h.admin.auth })).statusCode).toBe(200)

      Object.assign(bad, {
        'no Authorization header': {},
        'an empty bearer': { authorization: 'Bearer ' },
        'a non-bearer scheme': { authorization: `Basic ${Buffer.from(`${h.admin.email}:${PASSWORD}`).toString('base64')}` },
        'the token without the scheme': { authorization: h.admin.token },
        'a garbage token': bearer('not-a-token'),
        'a garbage three-part token': bearer('aaa.bbb.ccc'),
        'a token with a tampered signature': bearer(tamperSignature(h.admin.token)),
        "a user's token re-pointed at the admin": bearer(swapSubject(plainUser.token, h.admin.id)),
        'an expired token': bearer(await signToken(h.admin.id, { exp: nowSeconds() - 60 })),
        'a token signed with another secret': bearer(await signToken(h.admin.id, { exp: nowSeconds() + 3600, secret: 'another-secret-0123456789abcdef' })),
        'an unsigned (alg none) token': bearer(unsignedToken(h.admin.id)),
        "a deleted account's token": doomed.auth,
        'a revoked API key': bearer(key),
      })
    })

    it('the forged-token helpers sign valid tokens when nothing is wrong with them', async () => {
      // Proves the expired and wrong-secret tokens fail for that reason alone.
      const fresh = await signToken(h.admin.id, { exp: nowSeconds() + 3600 })
      const res = await h.request({ method: 'GET', url: SESSION, headers: bearer(fresh) })
      expect(res.statusCode).toBe(200)
      expect(res.json().id).toBe(h.admin.id)
    })

    describe.each(routes)('$name', (route) => {
      it('answers 401 UNAUTHORIZED to every bad credential', async () => {
        expect(Object.keys(bad).length).toBeGreaterThanOrEqual(13)
        for (const [what, headers] of Object.entries(bad)) {
          const res = await h.request(route.request(headers))
          expect(res.statusCode, `${route.name} with ${what}: ${res.body}`).toBe(401)
          expect(res.json().code, what).toBe('UNAUTHORIZED')
          expect(typeof res.json().detail).toBe('string')
        }
      })

      it(`answers a pending account ${route.needs === 'authenticated' ? '200' : '403'}`, async () => {
        const res = await h.request(route.request(pending.auth))
        if (route.needs === 'authenticated') {
          expect(res.statusCode).toBe(200)
          expect(res.json()).toMatchObject({ id: pending.id, role: 'pending', permissions: ALL_FALSE })
        } else {
          expect(res.statusCode, res.body).toBe(403)
          expect(res.json().code).toBe('ACCESS_PROHIBITED')
        }
      })

      it(`answers a user ${route.needs === 'admin' ? '403' : 'as allowed'}`, async () => {
        const res = await h.request(route.request(plainUser.auth))
        if (route.needs === 'admin') {
          expect(res.statusCode).toBe(403)
          expect(res.json().code).toBe('ACCESS_PROHIBITED')
        } else {
          // GET/DELETE of a key the user does not have is a 404, which still proves the guard let it in.
          expect([200, 404], res.body).toContain(res.statusCode)
        }
      })

      it('lets the admin in', async () => {
        const res = await h.request(route.request(h.admin.auth))
        expect([200, 404], res.body).toContain(res.statusCode)
        if (res.statusCode === 404) expect(res.json().detail).toMatch(/API key/)
      })
    })

    it('an API key is accepted wherever a session token is (admin key on /auths/add)', async () => {
      const key = (await h.request({ method: 'POST', url: API_KEY, headers: h.admin.auth })).json().api_key as string
      const email = uniqueEmail('via-key')
      const res = await h.request({ method: 'POST', url: ADD, headers: bearer(key), payload: { name: 'Via Key', email, password: PASSWORD } })
      expect(res.statusCode).toBe(200)
      expect(res.json().email).toBe(email)
      const pendingKeyAttempt = await h.request({
        method: 'POST',
        url: ADD,
        headers: pending.auth,
        payload: { name: 'X', email: uniqueEmail('x'), password: PASSWORD },
      })
      expect(pendingKeyAttempt.statusCode).toBe(403)
      await h.request({ method: 'DELETE', url: API_KEY, headers: h.admin.auth })
    })
  })
})

describe.each(DIALECTS)('auth settings on %s', (dialect) => {
  describe('DEFAULT_USER_ROLE=user, JWT_EXPIRES_IN=-1', () => {
    let h: Harness
    beforeAll(async () => {
      h = await createHarness(dialect, { DEFAULT_USER_ROLE: 'user', JWT_EXPIRES_IN: '-1' })
    })
    afterAll(async () => h?.close())

    it('signs later accounts up as user, able to use verified routes, with tokens that never expire', async () => {
      expect(h.admin.role).toBe('admin')
      const res = await signup(h, { name: 'Direct User', email: uniqueEmail('direct'), password: PASSWORD })
      expect(res.statusCode).toBe(200)
      expect(res.json().role).toBe('user')
      expect(res.json().expires_at).toBeNull()
      const token = res.json().token as string
      const [, payload = ''] = token.split('.')
      expect(JSON.parse(Buffer.from(payload, 'base64url').toString())).not.toHaveProperty('exp')
      const key = await h.request({ method: 'POST', url: API_KEY, headers: bearer(token) })
      expect(key.statusCode).toBe(200)
    })
  })

  describe('ENABLE_SIGNUP=false', () => {
    let h: Harness
    beforeAll(async () => {
      h = await createHarness(dialect, { ENABLE_SIGNUP: 'false' })
    })
    afterAll(async () => h?.close())

    it('lets the first account sign up (as admin) but refuses later sign-ups with 403', async () => {
      // The harness signed the first account up through POST /auths/signup.
      expect(h.admin.role).toBe('admin')
      const email = uniqueEmail('blocked')
      const res = await signup(h, { name: 'Blocked', email, password: PASSWORD })
      expect(res.statusCode).toBe(403)
      expect(res.json()).toEqual({ detail: expect.stringMatching(/disabled/i), code: 'ACCESS_PROHIBITED' })
      expect(await userCount(h)).toBe(1)
      expect((await signin(h, email, PASSWORD)).statusCode).toBe(401)
    })

    it('still lets the admin add accounts', async () => {
      const user = await h.createUser('user')
      expect(user.role).toBe('user')
      expect(await userCount(h)).toBe(2)
    })
  })

  describe('SIGNIN_MAX_ATTEMPTS=3', () => {
    let h: Harness
    let user: TestAccount
    beforeAll(async () => {
      h = await createHarness(dialect, { SIGNIN_MAX_ATTEMPTS: '3', SIGNIN_WINDOW_SECONDS: '120' })
      user = await h.createUser('user', 'Limited')
    })
    afterAll(async () => h?.close())

    it('answers 429 RATE_LIMITED with Retry-After after 3 failures, even to the right password', async () => {
      for (let i = 0; i < 3; i++) {
        const res = await signin(h, user.email, `wrong-password-${i}`)
        expect(res.statusCode, `attempt ${i + 1}`).toBe(401)
      }
      const res = await signin(h, user.email, PASSWORD)
      expect(res.statusCode).toBe(429)
      expect(res.json().code).toBe('RATE_LIMITED')
      expect(res.json().detail).toMatch(/try again/i)
      const retryAfter = Number(res.headers['retry-after'])
      expect(Number.isInteger(retryAfter)).toBe(true)
      expect(retryAfter).toBeGreaterThan(0)
      expect(retryAfter).toBeLessThanOrEqual(120)
      expect(res.body).not.toContain('token')
      // The email is matched case-insensitively, so another spelling is limited too.
      const upper = await signin(h, user.email.toUpperCase(), PASSWORD)
      expect(upper.statusCode).toBe(429)
      // Existing sessions are unaffected.
      expect((await h.request({ method: 'GET', url: SESSION, headers: user.auth })).statusCode).toBe(200)
    })
  })
})
