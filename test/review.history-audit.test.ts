/**
 * Review of issue #12 / #13 part 3 (history, audit, explain): each test states the behaviour the
 * review expects; a failing test is a finding of the review report (the lead fixes the source).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGroup } from './support/accounts.js'
import { DIALECTS } from './support/databases.js'
import { preset, token, uniqueEmail } from './support/factories.js'
import { createHarness, type Harness, type TestAccount } from './support/harness.js'
import { historyApi } from './support/history.js'
import { M, modelsApi } from './support/models.js'

describe.each(DIALECTS)('review: restore and explain on %s', (dialect) => {
  let h: Harness
  const models = modelsApi(() => h)
  const api = historyApi(() => h)

  beforeAll(async () => {
    h = await createHarness(dialect)
    await h.shareBase(['base-llm'])
  })
  afterAll(async () => h?.close())

  it('restoring a deleted model is a create: refused once the owner lost workspace.models', async () => {
    const owner = await h.createUser('user', 'Former Creator')
    const group = await createGroup(h, `Creators ${token()}`, { workspace: { models: true } }, [owner.id])
    const id = `revoked-${token()}`
    await models.create(owner, preset(id))
    await api.deleteModel(owner, id)
    const removed = await h.send(h.admin, { method: 'POST', url: `/api/v1/groups/id/${group}/users/remove`, payload: { user_ids: [owner.id] } })
    expect(removed.statusCode, removed.body).toBe(200)
    // A create is refused now...
    expect((await models.tryCreate(owner, preset(`other-${token()}`))).statusCode).toBe(403)
    // ...so the create a restore of a deleted model is (docs/history.md "It is a create on the id, with a create's checks") must be too.
    const res = await api.tryRestore(owner, { id })
    expect(res.statusCode, res.body).toBe(403)
    expect(await models.rowExists(id)).toBe(false)
  })

  it("a non-admin model writer learns no admin's email through effective access", async () => {
    const creator: TestAccount = await h.createUser('user', 'Curious Creator')
    await createGroup(h, `Creators ${token()}`, { workspace: { models: true } }, [creator.id])
    const id = `private-${token()}`
    await models.create(creator, preset(id))
    const res = await h.send(creator, { method: 'GET', url: `${M}/model/access/effective`, query: { id } })
    expect(res.statusCode, res.body).toBe(200)
    // The user directory (/api/v1/users) is admin-only; a private model of one's own must not list the admins' emails.
    const emails = (res.json().items as { email: string }[]).map((item) => item.email)
    expect(emails).not.toContain(h.admin.email)
  })
})

describe.each(DIALECTS)('review: audit flooding on %s', (dialect) => {
  let h: Harness
  beforeAll(async () => {
    // One attempt per account, five per client address and window.
    h = await createHarness(dialect, { SIGNIN_MAX_ATTEMPTS: '1', SIGNIN_WINDOW_SECONDS: '300' })
  })
  afterAll(async () => h?.close())

  it('an anonymous client past its address limit cannot write one audit row per request', async () => {
    const ip = '203.0.113.77'
    const signin = (email: string) =>
      h.app.inject({ method: 'POST', url: '/api/v1/auths/signin', remoteAddress: ip, payload: { email, password: 'wrong-password-1' } })
    for (let i = 0; i < 5; i++) expect((await signin(uniqueEmail('spray'))).statusCode).toBe(401)
    const statuses: number[] = []
    for (let i = 0; i < 30; i++) statuses.push((await signin(uniqueEmail('flood'))).statusCode)
    expect(new Set(statuses)).toEqual(new Set([429]))
    const rows = await h.services.database.db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('ip', '=', ip)
      .where('action', '=', 'auth.signin_rate_limited')
      .executeTakeFirstOrThrow()
    // The refusals cost the attacker nothing (no password hash): they must not each cost a row.
    expect(Number(rows.n)).toBeLessThanOrEqual(1)
  })
})

describe.each(DIALECTS)('review: bad input never 500 on %s', (dialect) => {
  let h: Harness
  beforeAll(async () => {
    h = await createHarness(dialect)
  })
  afterAll(async () => h?.close())

  it('odd query strings and bodies answer 4xx on history, trash, explain and audit routes', async () => {
    const owner = await h.createUser('user', 'Odd Input')
    const cases: { method: 'GET' | 'POST'; url: string; headers?: Record<string, string>; payload?: unknown }[] = [
      { method: 'GET', url: `${M}/model/history?id=a&id=b` },
      { method: 'GET', url: `${M}/model/history?id=x&page=1e400` },
      { method: 'GET', url: `${M}/model/history?id=x&limit=-1` },
      { method: 'GET', url: `${M}/model/history/version?id=x&version=NaN` },
      { method: 'GET', url: `${M}/model/history/version?id=x&version=1&version=2` },
      { method: 'GET', url: `${M}/model/history/diff?id=x&from=0x10&to=1` },
      { method: 'GET', url: `${M}/model/history/diff?id=%00&from=1&to=1` },
      { method: 'GET', url: `${M}/trash?page=99999999999999999999` },
      { method: 'POST', url: `${M}/model/history/restore`, payload: { id: 'x', version: 1.5 } },
      { method: 'POST', url: `${M}/model/history/restore`, payload: { id: ['x'], version: 1 } },
      { method: 'POST', url: `${M}/model/history/restore`, payload: { id: 'x' }, headers: { 'if-match': '"' + '9'.repeat(40) + '"' } },
      { method: 'POST', url: `${M}/model/history/restore`, payload: { id: 'x' }, headers: { 'if-match': 'W/' } },
      { method: 'GET', url: `${M}/model/access/effective?id=x&page=1000000&limit=200` },
      { method: 'GET', url: `${M}/model/access/explain?id=x&user_id=%F0%9F%98%80` },
    ]
    for (const c of cases) {
      const res = await h.send(owner, {
        method: c.method,
        url: c.url,
        ...(c.headers && { headers: c.headers }),
        ...(c.payload !== undefined && { payload: c.payload }),
      })
      expect(res.statusCode, `${c.method} ${c.url} ${res.body}`).toBeGreaterThanOrEqual(400)
      expect(res.statusCode, `${c.method} ${c.url} ${res.body}`).toBeLessThan(500)
    }
    const audit = [
      '/api/v1/audit?since=abc',
      '/api/v1/audit?since=1&since=2',
      '/api/v1/audit?action=model.%25',
      "/api/v1/audit?action=model.update'--",
      '/api/v1/audit?cursor=0000000000000-0000-zzzzzzzz',
      '/api/v1/audit?limit=100000',
      '/api/v1/audit?until=-5',
      '/api/v1/audit/export?actor_id=' + 'a'.repeat(300),
    ]
    for (const url of audit) {
      const res = await h.send(h.admin, { method: 'GET', url })
      expect(res.statusCode, `${url} ${res.body}`).toBe(400)
    }
  })
})
