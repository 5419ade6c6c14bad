/**
 * The audit log of issue #12 (docs/audit.md), through HTTP on every dialect: every event family outside
 * the models writes its entry (actor, target, client address, request id), the filters, the cursor
 * pages and the NDJSON export.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { recordAudit } from '../src/audit/audit-log.js'
import { AuditEntrySchema, type AuditEntry } from '../src/audit/audit.schema.js'
import { DIALECTS } from './support/databases.js'
import { uniqueEmail } from './support/factories.js'
import { createHarness, PASSWORD, type Harness, type InjectOptions, type Reply, type TestAccount } from './support/harness.js'
import { bearer, expectError } from './support/requests.js'

const AUDIT = '/api/v1/audit'
const EXPORT = '/api/v1/audit/export'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

describe.each(DIALECTS)('audit log on %s', (dialect) => {
  let h: Harness
  /** Each request from its own client address, so entries are matched to the request that made them. */
  let addressSeq = 0
  const nextAddress = () => `198.51.100.${++addressSeq}`

  /** inject() as `who` from `remoteAddress`; answers the parsed reply. */
  async function from(remoteAddress: string, who: TestAccount | undefined, options: InjectOptions): Promise<Reply> {
    const res: Reply = await h.app.inject({
      method: options.method,
      url: options.url,
      remoteAddress,
      headers: { ...(who?.auth ?? {}), ...(options.headers ?? {}) },
      ...(options.payload !== undefined && { payload: options.payload as object }),
    })
    return res
  }

  /** Every entry matching `query`, walking the pages (newest first). */
  async function walk(query: Record<string, string>, limit = 200): Promise<AuditEntry[]> {
    const all: AuditEntry[] = []
    let cursor: string | null = null
    for (let pages = 0; pages < 1000; pages++) {
      const res = await h.send(h.admin, { method: 'GET', url: AUDIT, query: { ...query, limit: String(limit), ...(cursor && { cursor }) } })
      expect(res.statusCode, res.body).toBe(200)
      const body = res.json<{ items: AuditEntry[]; next_cursor: string | null }>()
      all.push(...body.items)
      cursor = body.next_cursor
      if (!cursor) return all
    }
    throw new Error('the pages never end')
  }

  /** The one entry of `action` about `targetId` (fails on none or several). */
  async function only(action: string, targetId?: string): Promise<AuditEntry> {
    const found = await walk({ action, ...(targetId !== undefined && { target_id: targetId }) })
    expect(found, `${action} ${targetId}`).toHaveLength(1)
    return found[0] as AuditEntry
  }

  /** The entry was written by the request from `address`, with a request id of its own. */
  function expectRequest(entry: AuditEntry, address: string): void {
    expect(entry.ip).toBe(address)
    expect(entry.request_id).toMatch(UUID)
  }

  beforeAll(async () => {
    h = await createHarness(dialect, { SIGNIN_MAX_ATTEMPTS: '2', SIGNIN_WINDOW_SECONDS: '120', DEFAULT_USER_ROLE: 'user' })
  })
  afterAll(async () => h?.close())

  describe('auth events', () => {
    it('sign-up: auth.signup by the new account, its email, name and role', async () => {
      const ip = nextAddress()
      const email = uniqueEmail('signup')
      const res = await from(ip, undefined, { method: 'POST', url: '/api/v1/auths/signup', payload: { name: 'Signer', email, password: PASSWORD } })
      expect(res.statusCode, res.body).toBe(200)
      const id = res.json().id as string
      const entry = await only('auth.signup', id)
      expect(entry).toMatchObject({
        actor_id: id,
        actor: { id, name: 'Signer' },
        target_type: 'user',
        after: { email, name: 'Signer', role: 'user' },
        before: null,
      })
      expectRequest(entry, ip)
      // The harness's admin signed up first: its entry says admin.
      expect((await only('auth.signup', h.admin.id)).after).toMatchObject({ role: 'admin' })
    })

    it('sign-in success, wrong password, unknown email: the failure has no actor and the email tried', async () => {
      const user = await h.createUser('user', 'Signin Target')
      const okIp = nextAddress()
      expect(
        (await from(okIp, undefined, { method: 'POST', url: '/api/v1/auths/signin', payload: { email: user.email, password: PASSWORD } })).statusCode,
      ).toBe(200)
      const signins = await walk({ action: 'auth.signin', target_id: user.id })
      // createUser signed in once too; the newest is ours.
      expect(signins.length).toBe(2)
      expect(signins[0]).toMatchObject({ actor_id: user.id, target_type: 'user', target_id: user.id })
      expectRequest(signins[0] as AuditEntry, okIp)

      const wrongIp = nextAddress()
      expect(
        (await from(wrongIp, undefined, { method: 'POST', url: '/api/v1/auths/signin', payload: { email: user.email, password: 'not-the-password' } }))
          .statusCode,
      ).toBe(401)
      const wrong = await only('auth.signin_failed', user.id)
      expect(wrong).toMatchObject({ actor_id: null, actor: null, target_type: 'user', after: { email: user.email, reason: 'invalid_credentials' } })
      expectRequest(wrong, wrongIp)

      const unknownIp = nextAddress()
      const ghost = uniqueEmail('ghost')
      expect(
        (await from(unknownIp, undefined, { method: 'POST', url: '/api/v1/auths/signin', payload: { email: ghost, password: 'whatever-1' } })).statusCode,
      ).toBe(401)
      const [unknown] = (await walk({ action: 'auth.signin_failed' })).filter((e) => (e.after as { email?: string }).email === ghost)
      expect(unknown).toMatchObject({ actor_id: null, target_type: null, target_id: null })
      expectRequest(unknown as AuditEntry, unknownIp)
    })

    it('rate-limited sign-ins: one auth.signin_rate_limited per account and client per window, however many refusals', async () => {
      const email = uniqueEmail('limited')
      const ip = nextAddress()
      const statuses: number[] = []
      for (let i = 0; i < 6; i++) {
        statuses.push((await from(ip, undefined, { method: 'POST', url: '/api/v1/auths/signin', payload: { email, password: `wrong-${i}-pass` } })).statusCode)
      }
      expect(statuses).toEqual([401, 401, 429, 429, 429, 429])
      const limited = (await walk({ action: 'auth.signin_rate_limited' })).filter((e) => (e.after as { email?: string }).email === email)
      expect(limited).toHaveLength(1)
      expect(limited[0]).toMatchObject({ actor_id: null, after: { email } })
      expect((limited[0]?.after as { retry_after_s: number }).retry_after_s).toBeGreaterThan(0)
      expectRequest(limited[0] as AuditEntry, ip)
      expect((await walk({ action: 'auth.signin_failed' })).filter((e) => (e.after as { email?: string }).email === email)).toHaveLength(2)
    })

    it('sign-out: audited with a valid credential, not without one', async () => {
      const user = await h.createUser('user', 'Leaver')
      const ip = nextAddress()
      expect((await from(ip, user, { method: 'GET', url: '/api/v1/auths/signout' })).statusCode).toBe(200)
      const entry = await only('auth.signout', user.id)
      expect(entry).toMatchObject({ actor_id: user.id, target_type: 'user' })
      expectRequest(entry, ip)
      const before = (await walk({ action: 'auth.signout' })).length
      expect((await h.request({ method: 'GET', url: '/api/v1/auths/signout' })).statusCode).toBe(200)
      expect((await h.request({ method: 'GET', url: '/api/v1/auths/signout', headers: bearer('garbage') })).statusCode).toBe(200)
      expect((await walk({ action: 'auth.signout' })).length).toBe(before)
    })

    it('a password change: user.update by the account itself, a flag only', async () => {
      const user = await h.createUser('user', 'Changer')
      const ip = nextAddress()
      const res = await from(ip, user, {
        method: 'POST',
        url: '/api/v1/auths/update/password',
        payload: { password: PASSWORD, new_password: 'another-good-password' },
      })
      expect(res.statusCode, res.body).toBe(200)
      const entry = await only('user.update', user.id)
      expect(entry).toMatchObject({ actor_id: user.id, after: { password_changed: true, sessions_revoked: true } })
      expectRequest(entry, ip)
      // A wrong current password (a stolen session guessing) is a failed sign-in by that account.
      const fresh = { ...user, auth: bearer(res.json<{ token: string }>().token) }
      const guessIp = nextAddress()
      const guess = await from(guessIp, fresh, {
        method: 'POST',
        url: '/api/v1/auths/update/password',
        payload: { password: 'a-wrong-guess', new_password: 'x-good-password' },
      })
      expectError(guess, 400, 'VALIDATION_ERROR')
      const failed = await only('auth.signin_failed', user.id)
      expect(failed).toMatchObject({ actor_id: user.id, after: { email: user.email, reason: 'wrong_current_password' } })
      expectRequest(failed, guessIp)
      expect(await walk({ action: 'user.update', target_id: user.id })).toHaveLength(1)
    })

    it('API keys: api_key.create (the hint only, a replaced key in before) and api_key.delete', async () => {
      const user = await h.createUser('user', 'Keyholder')
      const ip = nextAddress()
      const first = await from(ip, user, { method: 'POST', url: '/api/v1/auths/api_key' })
      expect(first.statusCode).toBe(200)
      const created = (await walk({ action: 'api_key.create', actor_id: user.id }))[0] as AuditEntry
      expect(created).toMatchObject({ target_type: 'api_key', before: null, after: { user_id: user.id, key_hint: first.json().key_hint } })
      expectRequest(created, ip)
      const second = await h.send(user, { method: 'POST', url: '/api/v1/auths/api_key' })
      const replaced = (await walk({ action: 'api_key.create', actor_id: user.id }))[0] as AuditEntry
      expect(replaced.before).toEqual({ id: created.target_id, key_hint: first.json().key_hint })
      expect(replaced.after).toEqual({ user_id: user.id, key_hint: second.json().key_hint })
      expect((await h.send(user, { method: 'DELETE', url: '/api/v1/auths/api_key' })).statusCode).toBe(200)
      const deleted = await only('api_key.delete', replaced.target_id ?? '')
      expect(deleted).toMatchObject({ actor_id: user.id, before: { user_id: user.id, key_hint: second.json().key_hint }, after: null })
      // Nothing to delete: 404 and no entry.
      expect((await h.send(user, { method: 'DELETE', url: '/api/v1/auths/api_key' })).statusCode).toBe(404)
      expect(await walk({ action: 'api_key.delete', actor_id: user.id })).toHaveLength(1)
    })
  })

  describe('account administration', () => {
    it('user.create, user.update (role before/after, a password reset as a flag), user.delete', async () => {
      const ip = nextAddress()
      const email = uniqueEmail('managed')
      const added = await from(ip, h.admin, { method: 'POST', url: '/api/v1/auths/add', payload: { name: 'Managed', email, password: PASSWORD, role: 'user' } })
      expect(added.statusCode, added.body).toBe(200)
      const id = added.json().id as string
      const created = await only('user.create', id)
      expect(created).toMatchObject({
        actor_id: h.admin.id,
        actor: { id: h.admin.id, name: 'Admin' },
        target_type: 'user',
        after: { email, name: 'Managed', role: 'user' },
      })
      expectRequest(created, ip)

      const promoteIp = nextAddress()
      expect(
        (await from(promoteIp, h.admin, { method: 'POST', url: `/api/v1/users/${id}/update`, payload: { role: 'admin', name: 'Managed' } })).statusCode,
      ).toBe(200)
      const promoted = await only('user.update', id)
      // The unchanged name is not listed.
      expect(promoted).toMatchObject({ actor_id: h.admin.id, before: { role: 'user' }, after: { role: 'admin' } })
      expectRequest(promoted, promoteIp)

      await h.send(h.admin, { method: 'POST', url: `/api/v1/users/${id}/update`, payload: { password: 'reset-password-1' } })
      const reset = (await walk({ action: 'user.update', target_id: id }))[0] as AuditEntry
      expect(reset.before).toEqual({})
      expect(reset.after).toEqual({ password_changed: true, sessions_revoked: true })

      // A no-op update changes nothing and writes nothing.
      await h.send(h.admin, { method: 'POST', url: `/api/v1/users/${id}/update`, payload: { role: 'admin' } })
      expect(await walk({ action: 'user.update', target_id: id })).toHaveLength(2)

      const deleteIp = nextAddress()
      expect((await from(deleteIp, h.admin, { method: 'DELETE', url: `/api/v1/users/${id}` })).statusCode).toBe(200)
      const deleted = await only('user.delete', id)
      expect(deleted).toMatchObject({ actor_id: h.admin.id, before: { email, name: 'Managed', role: 'admin' }, after: null })
      expectRequest(deleted, deleteIp)
    })

    it('a refused change (last admin, unknown user) writes no entry', async () => {
      const count = (await walk({ action: 'user.*' })).length
      expect((await h.send(h.admin, { method: 'POST', url: `/api/v1/users/${h.admin.id}/update`, payload: { role: 'user' } })).statusCode).toBe(409)
      expect((await h.send(h.admin, { method: 'DELETE', url: '/api/v1/users/nobody' })).statusCode).toBe(404)
      expect((await walk({ action: 'user.*' })).length).toBe(count)
    })

    it('the actor of an entry stays when the account is deleted; actor becomes null', async () => {
      const doomed = await h.createUser('user', 'Doomed Actor')
      await h.send(doomed, { method: 'POST', url: '/api/v1/auths/api_key' })
      expect((await h.send(h.admin, { method: 'DELETE', url: `/api/v1/users/${doomed.id}` })).statusCode).toBe(200)
      const [entry] = await walk({ action: 'api_key.create', actor_id: doomed.id })
      expect(entry).toMatchObject({ actor_id: doomed.id, actor: null })
    })
  })

  describe('groups', () => {
    it('group.create, group.update (+ permissions.update), members add and remove, group.delete', async () => {
      const a = await h.createUser('user', 'Member A')
      const b = await h.createUser('user', 'Member B')
      const ip = nextAddress()
      const created = await from(ip, h.admin, {
        method: 'POST',
        url: '/api/v1/groups/create',
        payload: { name: 'Auditors', description: 'd', user_ids: [a.id] },
      })
      expect(created.statusCode, created.body).toBe(200)
      const id = created.json().id as string
      const create = await only('group.create', id)
      expect(create).toMatchObject({ actor_id: h.admin.id, target_type: 'group', after: { name: 'Auditors', description: 'd', user_ids: [a.id] } })
      expectRequest(create, ip)

      const permissions = {
        workspace: { models: true, models_import: false, models_export: false },
        sharing: { models: false, public_models: false },
      }
      const updateIp = nextAddress()
      const updated = await from(updateIp, h.admin, { method: 'POST', url: `/api/v1/groups/id/${id}/update`, payload: { name: 'Auditors 2', permissions } })
      expect(updated.statusCode, updated.body).toBe(200)
      const update = await only('group.update', id)
      expect(update.before).toEqual({ name: 'Auditors', permissions: create.after && (create.after as { permissions: unknown }).permissions })
      expect(update.after).toEqual({ name: 'Auditors 2', permissions: updated.json().permissions })
      const permissionChange = await only('permissions.update', id)
      expect(permissionChange).toMatchObject({ actor_id: h.admin.id, target_type: 'group', after: { permissions: updated.json().permissions } })
      // One request, one request id and address on both entries.
      expect(permissionChange.request_id).toBe(update.request_id)
      expect(create.request_id).not.toBe(update.request_id)
      expectRequest(permissionChange, updateIp)

      const addIp = nextAddress()
      await from(addIp, h.admin, { method: 'POST', url: `/api/v1/groups/id/${id}/users/add`, payload: { user_ids: [a.id, b.id] } })
      const add = await only('group.members_add', id)
      // a was a member already: only b was added.
      expect(add).toMatchObject({ actor_id: h.admin.id, after: { user_ids: [b.id] } })
      expectRequest(add, addIp)
      await h.send(h.admin, { method: 'POST', url: `/api/v1/groups/id/${id}/users/remove`, payload: { user_ids: [a.id, 'not-a-member'] } })
      expect((await only('group.members_remove', id)).before).toEqual({ user_ids: [a.id] })

      const deleteIp = nextAddress()
      expect((await from(deleteIp, h.admin, { method: 'DELETE', url: `/api/v1/groups/id/${id}/delete` })).statusCode).toBe(200)
      const deleted = await only('group.delete', id)
      expect(deleted).toMatchObject({ actor_id: h.admin.id, before: { name: 'Auditors 2', user_ids: [b.id] }, after: null })
      expectRequest(deleted, deleteIp)
    })
  })

  it('an action prefix filter answers the same entries whether the prefix is rare or common (both query plans)', async () => {
    // More entries under one prefix than the seek threshold (2,000), and a rare one, written straight
    // to the log with ids of a time far in the future, so they are the newest.
    const db = h.services.database.db
    const at = Date.now() + 1e9
    const row = (i: number, action: string) => ({
      id: `${String(at + i).padStart(13, '0')}-0000-0badcafe`,
      at: at + i,
      actor_id: null,
      action,
      target_type: null,
      target_id: `prefix-${i}`,
      ip: null,
      request_id: null,
      before: null,
      after: null,
    })
    const rows = Array.from({ length: 2100 }, (_, i) => row(i, i % 700 === 0 ? 'zzrare.event' : 'zzcommon.event'))
    for (let i = 0; i < rows.length; i += 300) {
      await db
        .insertInto('audit_log')
        .values(rows.slice(i, i + 300))
        .execute()
    }
    const common = await walk({ action: 'zzcommon.*' }, 100)
    expect(common).toHaveLength(2097)
    expect(common.map((e) => e.id)).toEqual([...common.map((e) => e.id)].sort().reverse())
    const rare = await walk({ action: 'zzrare.*' }, 2)
    expect(rare.map((e) => e.target_id)).toEqual(['prefix-1400', 'prefix-700', 'prefix-0'])
    // Gone again: the other tests walk the whole log.
    await db.deleteFrom('audit_log').where('id', 'like', '%-0000-0badcafe').execute()
  })

  it('concurrent requests: each entry carries its own request’s address and id', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `Concurrent ${i}`)
    const addresses = names.map(() => nextAddress())
    const answers = await Promise.all(
      names.map((name, i) => from(addresses[i] as string, h.admin, { method: 'POST', url: '/api/v1/groups/create', payload: { name } })),
    )
    const requestIds = new Set<string>()
    for (const [i, res] of answers.entries()) {
      expect(res.statusCode, res.body).toBe(200)
      const entry = await only('group.create', res.json<{ id: string }>().id)
      expect((entry.after as { name: string }).name).toBe(names[i])
      expectRequest(entry, addresses[i] as string)
      requestIds.add(entry.request_id ?? '')
    }
    expect(requestIds.size).toBe(names.length)
  })

  describe('connections', () => {
    it('connection.create, connection.update (changed fields, a new key as a flag), connection.delete', async () => {
      const ip = nextAddress()
      const created = await from(ip, h.admin, {
        method: 'POST',
        url: '/api/v1/connections/create',
        payload: { name: 'Audited', base_url: 'http://127.0.0.1:9/v1', api_key: 'sk-provider-secret-1', enabled: false },
      })
      expect(created.statusCode, created.body).toBe(200)
      const id = created.json().id as string
      const create = await only('connection.create', id)
      expect(create).toMatchObject({
        actor_id: h.admin.id,
        target_type: 'connection',
        after: { name: 'Audited', kind: 'openai', base_url: 'http://127.0.0.1:9/v1', prefix_id: null, enabled: false, has_api_key: true },
      })
      expectRequest(create, ip)

      await h.send(h.admin, { method: 'POST', url: `/api/v1/connections/id/${id}/update`, payload: { name: 'Audited 2', api_key: 'sk-provider-secret-2' } })
      const update = await only('connection.update', id)
      expect(update.before).toEqual({ name: 'Audited' })
      expect(update.after).toEqual({ name: 'Audited 2', api_key_changed: true })

      await h.send(h.admin, { method: 'POST', url: `/api/v1/connections/id/${id}/update`, payload: { api_key: null } })
      const removal = (await walk({ action: 'connection.update', target_id: id }))[0] as AuditEntry
      expect(removal.before).toEqual({ has_api_key: true })
      expect(removal.after).toEqual({ has_api_key: false })

      const deleteIp = nextAddress()
      expect((await from(deleteIp, h.admin, { method: 'DELETE', url: `/api/v1/connections/id/${id}/delete` })).statusCode).toBe(200)
      const deleted = await only('connection.delete', id)
      expect(deleted).toMatchObject({ actor_id: h.admin.id, before: { name: 'Audited 2', has_api_key: false }, after: null })
      expectRequest(deleted, deleteIp)
    })
  })

  describe('filters and pages', () => {
    let actor: TestAccount
    let groupIds: string[]
    let startedAt: number

    beforeAll(async () => {
      actor = await h.createUser('admin', 'Filter Admin')
      startedAt = Date.now()
      groupIds = []
      for (let i = 0; i < 5; i++) {
        const res = await h.send(actor, { method: 'POST', url: '/api/v1/groups/create', payload: { name: `Filter ${i}` } })
        groupIds.push(res.json().id as string)
      }
      await h.send(actor, { method: 'POST', url: `/api/v1/groups/id/${groupIds[0]}/update`, payload: { description: 'changed' } })
      await h.send(actor, { method: 'POST', url: '/api/v1/auths/api_key' })
    })

    it('actor_id: only that account’s entries', async () => {
      const entries = await walk({ actor_id: actor.id })
      expect(entries.every((e) => e.actor_id === actor.id)).toBe(true)
      // Its sign-in (createUser), five creates, one update, one key.
      expect(entries.map((e) => e.action).sort()).toEqual(['api_key.create', 'auth.signin', ...Array(5).fill('group.create'), 'group.update'].sort())
    })

    it('action: exact, or a prefix with .* (an underscore in it is no wildcard)', async () => {
      const exact = await walk({ action: 'group.create', actor_id: actor.id })
      expect(exact).toHaveLength(5)
      const prefix = await walk({ action: 'group.*', actor_id: actor.id })
      expect(prefix.map((e) => e.action).sort()).toEqual([...Array(5).fill('group.create'), 'group.update'].sort())
      const keys = await walk({ action: 'api_key.*' })
      expect(keys.length).toBeGreaterThan(0)
      expect(keys.every((e) => e.action.startsWith('api_key.'))).toBe(true)
      // `group.*` is not `group*`: no action merely starting with "group" text.
      expect(await walk({ action: 'grou.*' })).toEqual([])
      expect(await walk({ action: 'group' })).toEqual([])
    })

    it('target_id: every entry about one target', async () => {
      const entries = await walk({ target_id: groupIds[0] as string })
      expect(entries.map((e) => e.action)).toEqual(['group.update', 'group.create'])
    })

    it('since (inclusive) and until (exclusive), epoch milliseconds', async () => {
      const mine = await walk({ actor_id: actor.id, action: 'group.*' })
      const oldest = mine[mine.length - 1] as AuditEntry
      const newest = mine[0] as AuditEntry
      expect(oldest.at).toBeGreaterThanOrEqual(startedAt)
      const since = await walk({ actor_id: actor.id, action: 'group.*', since: String(newest.at) })
      expect(since.length).toBeGreaterThanOrEqual(1)
      expect(since.every((e) => e.at >= newest.at)).toBe(true)
      const until = await walk({ actor_id: actor.id, action: 'group.*', until: String(newest.at) })
      expect(until.every((e) => e.at < newest.at)).toBe(true)
      expect(until.length + since.length).toBe(mine.length)
      expect(await walk({ actor_id: actor.id, since: String(Date.now() + 60_000) })).toEqual([])
      expect(await walk({ actor_id: actor.id, since: String(oldest.at), until: String(oldest.at) })).toEqual([])
    })

    it('the cursor walks every entry exactly once, newest first, at any page size', async () => {
      const whole = await walk({}, 200)
      const ids = whole.map((e) => e.id)
      expect(new Set(ids).size).toBe(ids.length)
      expect([...ids].sort().reverse()).toEqual(ids)
      for (const limit of [1, 7, 50]) expect((await walk({}, limit)).map((e) => e.id)).toEqual(ids)
      for (const entry of whole) expect(AuditEntrySchema.safeParse(entry).success).toBe(true)
    })

    it('a page of a filtered walk stops with next_cursor null; the default limit is 50', async () => {
      const res = await h.send(h.admin, { method: 'GET', url: AUDIT })
      expect(res.statusCode).toBe(200)
      expect(res.json().items.length).toBe(50)
      expect(res.json().next_cursor).toBe(res.json().items[49].id)
      const filtered = await h.send(h.admin, { method: 'GET', url: AUDIT, query: { actor_id: actor.id, action: 'group.create', limit: '5' } })
      expect(filtered.json().items).toHaveLength(5)
      expect(filtered.json().next_cursor).toBeNull()
    })

    it('bad types, limits and cursors: 400 VALIDATION_ERROR naming the field', async () => {
      const cases: [Record<string, string>, string][] = [
        [{ limit: '0' }, 'querystring.limit'],
        [{ limit: '201' }, 'querystring.limit'],
        [{ limit: 'ten' }, 'querystring.limit'],
        [{ limit: '2.5' }, 'querystring.limit'],
        [{ since: 'yesterday' }, 'querystring.since'],
        [{ until: '1.5' }, 'querystring.until'],
        [{ since: '-1' }, 'querystring.since'],
        [{ cursor: 'garbage' }, 'querystring.cursor'],
        [{ cursor: "1' or '1'='1" }, 'querystring.cursor'],
        [{ action: 'model.%' }, 'querystring.action'],
        [{ action: '*' }, 'querystring.action'],
        [{ action: 'Model.Update' }, 'querystring.action'],
        [{ actor_id: '' }, 'querystring.actor_id'],
      ]
      for (const [query, field] of cases) {
        const res = await h.send(h.admin, { method: 'GET', url: AUDIT, query })
        expectError(res, 400, 'VALIDATION_ERROR')
        const paths = res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)
        expect(paths, JSON.stringify(query)).toContain(field)
        if (!('cursor' in query) && !('limit' in query)) {
          const exported = await h.send(h.admin, { method: 'GET', url: EXPORT, query })
          expectError(exported, 400, 'VALIDATION_ERROR')
          expect(exported.json().detail).toContain(field)
        }
      }
    })

    it('export: NDJSON, every line an entry, oldest first, the same entries as the pages, filters applied', async () => {
      const res = await h.send(h.admin, { method: 'GET', url: EXPORT })
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/)
      expect(res.headers['content-disposition']).toMatch(/^attachment; filename="audit-.*\.ndjson"$/)
      expect(res.body.endsWith('\n')).toBe(true)
      const lines = res.body.trimEnd().split('\n')
      const entries = lines.map((line) => AuditEntrySchema.parse(JSON.parse(line)))
      const ids = entries.map((e) => e.id)
      expect([...ids].sort()).toEqual(ids)
      // The export runs after the walk's entries were written: the walk (newest first) reversed is its prefix.
      const walked = (await walk({})).map((e) => e.id).reverse()
      expect(ids.slice(0, walked.length)).toEqual(walked)

      const filtered = await h.send(h.admin, { method: 'GET', url: EXPORT, query: { actor_id: actor.id, action: 'group.*' } })
      const filteredEntries = filtered.body
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as AuditEntry)
      expect(filteredEntries.map((e) => e.id)).toEqual((await walk({ actor_id: actor.id, action: 'group.*' })).map((e) => e.id).reverse())
      const none = await h.send(h.admin, { method: 'GET', url: EXPORT, query: { action: 'nothing.here' } })
      expect(none.statusCode).toBe(200)
      expect(none.body).toBe('')
    })

    it('export streams a log larger than one read (pages of 500) in full and in order', async () => {
      const events = Array.from({ length: 1234 }, (_, i) => ({
        action: 'test.bulk',
        actorId: actor.id,
        targetType: 'config' as const,
        targetId: `bulk-${i}`,
        after: { i },
      }))
      await recordAudit(h.services.database.db, events, undefined)
      const res = await h.send(h.admin, { method: 'GET', url: EXPORT, query: { action: 'test.bulk' } })
      const lines = res.body
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as AuditEntry)
      expect(lines).toHaveLength(1234)
      expect(lines.map((e) => (e.after as { i: number }).i)).toEqual(events.map((_, i) => i))
      // The queries' own pages, smaller still.
      const read: string[] = []
      for await (const entry of h.services.audit.export({ action: 'test.bulk' }, 100)) read.push(entry.id)
      expect(read).toEqual(lines.map((e) => e.id))
    })
  })
})
