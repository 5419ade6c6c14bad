/**
 * The sdk's history, concurrency, audit and explanation calls against a real modelgate on 127.0.0.1
 * (in-memory SQLite): If-Match through `ifMatch` and the typed 412, versions, diffs, restore, the trash,
 * the audit log (pages, cursor walk, NDJSON export read line by line) and access explanations.
 */
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHarness, PASSWORD, type Harness, type TestAccount } from '../../test/support/harness.js'
import { ForbiddenError, NotFoundError, PreconditionFailedError, ValidationError, createModelgate, type Modelgate } from '../src/index.js'

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a failure, got an answer')
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = []
  for await (const item of iterable) items.push(item)
  return items
}

describe('@modelgate/sdk: history, concurrency, audit, explanations', () => {
  let h: Harness
  let admin: Modelgate
  let user: Modelgate
  let userAccount: TestAccount
  const id = `sdk-history-${Date.now()}`

  beforeAll(async () => {
    h = await createHarness('sqlite')
    await h.app.listen({ port: 0, host: '127.0.0.1' })
    const baseUrl = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`
    admin = createModelgate({ baseUrl })
    await admin.auth.signIn({ email: h.admin.email, password: PASSWORD })
    userAccount = await h.createUser('user', 'Una User')
    user = createModelgate({ baseUrl, token: userAccount.token })
    await h.shareBase('base-llm')
  })
  afterAll(async () => h?.close())

  it('writes with ifMatch, and a stale version throws PreconditionFailedError with the current version', async () => {
    const created = await admin.models.create({ id, name: 'SDK one', base_model_id: 'base-llm', params: {}, meta: {} })
    expect(created.version).toBe(1)
    const updated = await admin.models.update({ id, name: 'SDK two' }, { ifMatch: 1 })
    expect(updated.version).toBe(2)
    const stale = await failure(admin.models.update({ id, name: 'SDK lost' }, { ifMatch: 1 }))
    expect(stale).toBeInstanceOf(PreconditionFailedError)
    expect((stale as PreconditionFailedError).currentVersion).toBe(2)
    expect((stale as PreconditionFailedError).code).toBe('PRECONDITION_FAILED')
    expect((await admin.models.get(id)).name).toBe('SDK two')
    const toggled = await admin.models.toggle(id, { ifMatch: 2 })
    expect(toggled.version).toBe(3)
    const access = await admin.models.updateAccess(id, [{ principal_type: 'user', principal_id: userAccount.id, permission: 'read' }], { ifMatch: 3 })
    expect(access.version).toBe(4)
  })

  it('reads history (a page and every page), one version, a diff, and restores a version', async () => {
    const page = await admin.models.history({ id, limit: 2 })
    expect(page.total).toBe(4)
    expect(page.items.map((item) => item.version)).toEqual([4, 3])
    const all = await collect(admin.models.historyAll(id, 1))
    expect(all.map((item) => `${item.version}:${item.action}`)).toEqual(['4:access_update', '3:toggle', '2:update', '1:create'])
    const first = await admin.models.version(id, 1)
    expect(first.snapshot.name).toBe('SDK one')
    const diff = await admin.models.diff(id, 1, 2)
    expect(diff.changes).toContainEqual({ path: 'name', op: 'changed', old: 'SDK one', new: 'SDK two' })
    // A reader sees the history without grants.
    const seen = await user.models.version(id, 4)
    expect(seen.snapshot.access_grants).toBeNull()
    // Version 1's content and access come back: the reader's grant did not exist then.
    const restored = await admin.models.restore(id, 1, { ifMatch: 4 })
    expect(restored).toMatchObject({ name: 'SDK one', version: 5, access_grants: [] })
    expect(await failure(user.models.version(id, 4))).toBeInstanceOf(NotFoundError)
    expect(await failure(admin.models.version(id, 99))).toBeInstanceOf(NotFoundError)
  })

  it('deletes with ifMatch, lists the trash and brings the model back', async () => {
    expect(await failure(admin.models.delete(id, { ifMatch: 1 }))).toBeInstanceOf(PreconditionFailedError)
    await admin.models.delete(id, { ifMatch: 5 })
    const trash = await admin.models.trash()
    expect(trash.items.map((item) => item.id)).toContain(id)
    expect((await user.models.trash()).items.map((item) => item.id)).not.toContain(id)
    const back = await admin.models.restore(id)
    expect(back).toMatchObject({ id, name: 'SDK one', version: 7 })
  })

  it('explains access and lists who can read', async () => {
    await admin.models.updateAccess(id, [{ principal_type: 'user', principal_id: userAccount.id, permission: 'read' }])
    const explanation = await admin.models.explainAccess(id, userAccount.id)
    expect(explanation.read).toEqual({ allowed: true, reasons: [{ kind: 'user_grant', permission: 'read' }] })
    expect(explanation.write.allowed).toBe(false)
    const effective = await admin.models.effectiveAccess(id)
    expect(effective.items.map((item) => item.user_id).sort()).toEqual([h.admin.id, userAccount.id].sort())
    expect(await failure(user.models.explainAccess(id, userAccount.id))).toBeInstanceOf(ForbiddenError)
  })

  it('reads the audit log: a filtered page, every page through the cursor, and the NDJSON export', async () => {
    const page = await admin.audit.list({ target_id: id, limit: 3 })
    expect(page.items).toHaveLength(3)
    expect(page.next_cursor).toEqual(expect.any(String))
    const walked = await collect(admin.audit.listAll({ target_id: id, limit: 2 }))
    const actions = walked.map((entry) => entry.action)
    expect(actions).toEqual(expect.arrayContaining(['model.create', 'model.update', 'model.toggle', 'model.access_update', 'model.restore', 'model.delete']))
    expect(new Set(walked.map((entry) => entry.id)).size).toBe(walked.length)
    const exported = await collect(admin.audit.export({ target_id: id }))
    expect(exported.map((entry) => entry.id)).toEqual(walked.map((entry) => entry.id).reverse())
    expect(await failure(user.audit.list())).toBeInstanceOf(ForbiddenError)
    expect(await failure(admin.audit.list({ limit: 1000 }))).toBeInstanceOf(ValidationError)
  })
})
