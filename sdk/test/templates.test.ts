/**
 * The sdk's template calls against a real modelgate on 127.0.0.1 (in-memory SQLite): create, get, list,
 * update, a model from a template, apply (dry run and real), the models of a template, delete, and the
 * typed errors (404 for a template you may not read, 403 without workspace.templates).
 */
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHarness, PASSWORD, type Harness } from '../../test/support/harness.js'
import { ForbiddenError, NotFoundError, createModelgate, type Modelgate } from '../src/index.js'

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a failure, got an answer')
}

describe('@modelgate/sdk: templates', () => {
  let h: Harness
  let admin: Modelgate
  let user: Modelgate
  const id = `sdk-tpl-${Date.now()}`

  beforeAll(async () => {
    h = await createHarness('sqlite')
    await h.app.listen({ port: 0, host: '127.0.0.1' })
    const baseUrl = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`
    admin = createModelgate({ baseUrl })
    await admin.auth.signIn({ email: h.admin.email, password: PASSWORD })
    user = createModelgate({ baseUrl, token: (await h.createUser('user')).token })
  })
  afterAll(async () => h?.close())

  it('creates, reads, lists, updates, applies and deletes a template with typed answers', async () => {
    const template = await admin.templates.create({ id, name: 'SDK template', params: { temperature: 0.3 }, meta: { tags: ['sdk'] } })
    expect(template).toMatchObject({ id, params: { temperature: 0.3 }, access_grants: null, write_access: true })
    expect((await admin.templates.get(id)).name).toBe('SDK template')
    expect((await admin.templates.list({ query: id })).total).toBe(1)
    expect((await admin.templates.update({ id, description: 'updated' })).description).toBe('updated')

    const model = await admin.models.create({
      id: `${id}-model`,
      base_model_id: 'base',
      name: 'From template',
      meta: {},
      params: { top_p: 0.5 },
      template_id: id,
    })
    expect(model.template_id).toBe(id)
    expect(model.params).toEqual({ temperature: 0.3, top_p: 0.5 })
    const other = await admin.models.create({ id: `${id}-other`, base_model_id: 'base', name: 'Other', meta: {}, params: { temperature: 1 } })

    const dry = await admin.templates.apply({ id, model_ids: [other.id], dry_run: true })
    expect(dry.changed.map((c) => [c.id, c.version])).toEqual([[other.id, null]])
    const real = await admin.templates.apply({ id, model_ids: [other.id, model.id] })
    expect(real.changed.map((c) => c.id)).toEqual([other.id])
    expect(real.unchanged).toEqual([model.id])
    const linked = await admin.templates.models(id)
    expect(linked.items.map((i) => [i.id, i.drifted])).toEqual([
      [model.id, false],
      [other.id, false],
    ])

    expect(await failure(user.templates.get(id))).toBeInstanceOf(NotFoundError)
    expect(await failure(user.templates.create({ id: `${id}-u`, name: 'No' }))).toBeInstanceOf(ForbiddenError)
    expect(await admin.templates.delete(id)).toBe(true)
    expect(await failure(admin.templates.get(id))).toBeInstanceOf(NotFoundError)
  })
})
