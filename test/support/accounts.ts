/**
 * Accounts beyond the harness's admin: groups that grant feature permissions, revoked API keys, and the
 * auth ladder every route is climbed with (no credential, bad ones, pending, non-admin, then 200).
 */
import { expect } from 'vitest'
import { uniqueEmail } from './factories.js'
import { PASSWORD, type Harness, type InjectOptions, type TestAccount } from './harness.js'
import { bearer, expectError } from './requests.js'

/** The admin creates a group (with feature `permissions`, none given: the defaults) and its members; answers its id. */
export async function createGroup(
  h: Harness,
  name: string,
  permissions: Record<string, unknown> | undefined,
  userIds: readonly string[] = [],
): Promise<string> {
  const payload = { name, ...(permissions !== undefined && { permissions }), user_ids: userIds }
  const res = await h.send(h.admin, { method: 'POST', url: '/api/v1/groups/create', payload })
  expect(res.statusCode, res.body).toBe(200)
  return res.json().id as string
}

/** The admin adds an account without signing it in (one password hash, no token); answers the account. */
export async function addAccount<T = { id: string; name: string; email: string; role: string }>(
  h: Harness,
  fields: { name: string; email?: string; role?: 'pending' | 'user' | 'admin' },
): Promise<T> {
  const res = await h.send(h.admin, {
    method: 'POST',
    url: '/api/v1/auths/add',
    payload: { email: uniqueEmail('u'), password: PASSWORD, role: 'user', ...fields },
  })
  expect(res.statusCode, res.body).toBe(200)
  return res.json<T>()
}

export function signin(h: Harness, email: string, password: string) {
  return h.request({ method: 'POST', url: '/api/v1/auths/signin', payload: { email, password } })
}

/** An API key of `account` that worked (on `probeUrl`) and was then revoked. */
export async function revokedApiKey(h: Harness, account: TestAccount, probeUrl = '/api/v1/auths/'): Promise<string> {
  const created = await h.send(account, { method: 'POST', url: '/api/v1/auths/api_key' })
  if (created.statusCode !== 200) throw new Error(`api key: ${created.body}`)
  const key = created.json().api_key as string
  const live = await h.request({ method: 'GET', url: probeUrl, headers: bearer(key) })
  if (live.statusCode !== 200) throw new Error(`a live API key must work on ${probeUrl}: ${live.body}`)
  const revoked = await h.send(account, { method: 'DELETE', url: '/api/v1/auths/api_key' })
  if (revoked.statusCode !== 200) throw new Error(`revoke: ${revoked.body}`)
  return key
}

/** The rungs below the admin: a pending account, a verified user, and a revoked API key of that user. */
export interface Ladder {
  pending: TestAccount
  user: TestAccount
  revokedKey: string
}

export async function createLadder(h: Harness, names: { pending: string; user: string }): Promise<Ladder> {
  const pending = await h.createUser('pending', names.pending)
  const user = await h.createUser('user', names.user)
  return { pending, user, revokedKey: await revokedApiKey(h, user) }
}

/** Headers that authenticate nobody: none, garbage, a malformed JWT, a Basic pair, a revoked API key. */
export function badCredentials(revokedKey: string): Record<string, Record<string, string>> {
  return {
    'no token': {},
    'a garbage token': bearer('garbage'),
    'a malformed JWT': bearer('eyJhbGciOiJIUzI1NiJ9.e30.xxxx'),
    'a Basic authorization': { authorization: 'Basic dXNlcjpwYXNz' },
    'a revoked API key': bearer(revokedKey),
  }
}

/**
 * The refused rungs of the ladder: every bad credential → 401 UNAUTHORIZED, every account of
 * `forbidden` → 403 ACCESS_PROHIBITED (each with a readable detail).
 */
export async function expectRefusedRungs(
  h: Harness,
  request: (headers: Record<string, string>) => InjectOptions,
  rungs: { credentials: Record<string, Record<string, string>>; forbidden: readonly TestAccount[] },
): Promise<void> {
  for (const [what, headers] of Object.entries(rungs.credentials)) {
    const res = await h.request(request(headers))
    expect(res.statusCode, `${what}: ${res.body}`).toBe(401)
    expectError(res, 401, 'UNAUTHORIZED')
  }
  for (const account of rungs.forbidden) {
    const res = await h.request(request(account.auth))
    expect(res.statusCode, `${account.name}: ${res.body}`).toBe(403)
    expectError(res, 403, 'ACCESS_PROHIBITED')
  }
}
