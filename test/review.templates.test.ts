/**
 * Attack-minded review of issue #13 part 1 (configuration templates), as the least-privileged account
 * would try it through HTTP: existence oracles, base models and grants it may not use reached through a
 * template, locked parameters escaped, odd bodies and races that must never answer 500, cookie-only
 * writes. Each test states the behaviour the review expects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { preset, token } from './support/factories.js'
import type { Harness, TestAccount } from './support/harness.js'
import { createModelsWorld, M, modelsApi } from './support/models.js'
import { expectError } from './support/requests.js'
import type { BulkReportOut } from './support/model-types.js'

const T = '/api/v1/templates'

type Report = BulkReportOut

const group = (id: string, permission: 'read' | 'write' = 'read') => ({ principal_type: 'group', principal_id: id, permission })
const user = (id: string, permission: 'read' | 'write' = 'read') => ({ principal_type: 'user', principal_id: id, permission })
const cookie = (value: string) => ({ cookie: `token=${encodeURIComponent(value)}` })

describe.each(DIALECTS)('review: templates on %s', { timeout: 120_000 }, (dialect) => {
  let h: Harness
  /** workspace.templates, workspace.models, sharing.models. */
  let author: TestAccount
  /** Another author, same permissions: the attacker who owns templates of their own. */
  let mallory: TestAccount
  /** No feature permission. */
  let plain: TestAccount
  let authorsGroup: string
  const { send, create, getModel, tryUpdate, createGroup } = modelsApi(() => h)

  const tryTemplate = (who: TestAccount, body: unknown) => send(who, { method: 'POST', url: `${T}/create`, payload: body })
  const createTemplate = async (who: TestAccount, body: Record<string, unknown>): Promise<{ id: string }> => {
    const res = await tryTemplate(who, body)
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ id: string }>()
  }
  const tryApply = (who: TestAccount, body: unknown) => send(who, { method: 'POST', url: `${T}/template/apply`, payload: body })
  const apply = async (who: TestAccount, body: Record<string, unknown>): Promise<Report> => {
    const res = await tryApply(who, body)
    expect(res.statusCode, res.body).toBe(200)
    return res.json<Report>()
  }

  beforeAll(async () => {
    ;({ h, plain } = await createModelsWorld(dialect))
    author = await h.createUser('user', 'Honest Author')
    mallory = await h.createUser('user', 'Mallory')
    authorsGroup = await createGroup(`Authors ${token()}`, { workspace: { templates: true, models: true }, sharing: { models: true } }, [author.id, mallory.id])
  })
  afterAll(async () => h?.close())

  it('a template one may not read answers every route exactly as an unknown id does (no existence oracle)', async () => {
    const hidden = await createTemplate(author, { id: `hidden-${token()}`, name: 'Hidden', params: { temperature: 0.2 } })
    const unknown = `nothing-${token()}`
    const own = await create(mallory, preset(`mine-${token()}`))
    const probes = (id: string) => [
      send(mallory, { method: 'GET', url: `${T}/template`, query: { id } }),
      send(mallory, { method: 'GET', url: `${T}/template/models`, query: { id } }),
      send(mallory, { method: 'POST', url: `${T}/template/update`, payload: { id, name: 'Pwned' } }),
      send(mallory, { method: 'POST', url: `${T}/template/delete`, payload: { id } }),
      tryApply(mallory, { id, model_ids: [own.id], dry_run: true }),
      tryApply(mallory, { id, model_ids: [own.id] }),
      send(mallory, { method: 'POST', url: `${M}/create`, payload: { ...preset(`from-${token()}`), template_id: id } }),
    ]
    const [forHidden, forUnknown] = [await Promise.all(probes(hidden.id)), await Promise.all(probes(unknown))]
    for (const [index, res] of forHidden.entries()) {
      const twin = forUnknown[index]
      expectError(res, 404, 'NOT_FOUND')
      const detail = (reply: typeof res | undefined, id: string) => reply?.json<{ detail: string }>().detail.replace(id, 'X')
      expect(detail(res, hidden.id), `probe ${index}`).toBe(detail(twin, unknown))
    }
    // Nothing changed, nothing was linked.
    const still = await send(author, { method: 'GET', url: `${T}/template`, query: { id: hidden.id } })
    expect(still.json().name).toBe('Hidden')
    expect((await getModel(mallory, own.id)).template_id).toBeNull()
  })

  it('a template reader never gets a base model it may not use: not by a model create, not by apply, not by from_model_id', async () => {
    // The admin's template runs on a raw provider model nobody else may use (no override row shares it).
    const raw = `secret-raw-${token()}`
    const tpl = await createTemplate(h.admin, {
      id: `raw-${token()}`,
      name: 'Raw',
      base_model_id: raw,
      params: { temperature: 0.1 },
      template_access_grants: [user(mallory.id)],
    })
    const createdFrom = await send(mallory, { method: 'POST', url: `${M}/create`, payload: { id: `m-${token()}`, name: 'x', template_id: tpl.id } })
    expectError(createdFrom, 400, 'BASE_MODEL_UNAVAILABLE')
    const own = await create(mallory, preset(`own-${token()}`))
    for (const mode of ['merge', 'replace']) {
      const report = await apply(mallory, { id: tpl.id, model_ids: [own.id], mode })
      expect(report.refused).toEqual([{ id: own.id, code: 'BASE_MODEL_UNAVAILABLE', reason: expect.any(String) }])
      expect(report.changed).toEqual([])
    }
    expect((await getModel(mallory, own.id)).base_model_id).toBe('base-llm')
    // An admin's public preset wrapping that raw model: readable, but a template copied from it cannot carry its base.
    const wrapper = await create(h.admin, { ...preset(`wrap-${token()}`), base_model_id: raw, access_control: null })
    expectError(await tryTemplate(mallory, { id: `copy-${token()}`, name: 'Copy', from_model_id: wrapper.id }), 400, 'BASE_MODEL_UNAVAILABLE')
    // Explicitly dropping the base section is fine (and copies no grants: a reader never learns them).
    const copy = await tryTemplate(mallory, { id: `copy-${token()}`, name: 'Copy', from_model_id: wrapper.id, base_model_id: null })
    expect(copy.statusCode, copy.body).toBe(200)
    expect(copy.json().access_grants).toBeNull()
  })

  it("a template reader cannot hand out the template's grants without its own sharing permissions", async () => {
    // plain has workspace.models only through this group, no sharing.* at all.
    const sharerless = await h.createUser('user', 'No Sharing')
    await createGroup(`Makers ${token()}`, { workspace: { models: true } }, [sharerless.id])
    const tpl = await createTemplate(h.admin, {
      id: `share-${token()}`,
      name: 'Shares',
      access_grants: [group(authorsGroup, 'write'), user('*')],
      template_access_grants: [user(sharerless.id)],
    })
    // A create from it takes the template's grants: refused, nothing created.
    const id = `shared-${token()}`
    expectError(await send(sharerless, { method: 'POST', url: `${M}/create`, payload: { ...preset(id), template_id: tpl.id } }), 403, 'ACCESS_PROHIBITED')
    expect((await send(sharerless, { method: 'GET', url: `${M}/model`, query: { id } })).statusCode).toBe(404)
    // An apply (merge or replace) onto the reader's own model: refused and untouched.
    const own = await create(sharerless, preset(`own-${token()}`))
    for (const mode of ['merge', 'replace']) {
      const report = await apply(sharerless, { id: tpl.id, model_ids: [own.id], mode })
      expect(report.refused.map((r) => [r.id, r.code])).toEqual([[own.id, 'ACCESS_PROHIBITED']])
    }
    expect((await getModel(sharerless, own.id)).access_grants).toEqual([])
  })

  it('a template reader cannot change the template through its update, nor its own sharing (403, nothing written)', async () => {
    const tpl = await createTemplate(author, {
      id: `ro-${token()}`,
      name: 'Read only',
      params: { system: 'Be nice.' },
      locked_params: ['system'],
      template_access_grants: [user(mallory.id, 'read')],
    })
    const attempts = [
      { id: tpl.id, params: { system: 'Be evil.' } },
      { id: tpl.id, locked_params: null },
      { id: tpl.id, template_access_grants: [user(mallory.id, 'write')] },
      { id: tpl.id, access_grants: [user('*', 'write')] },
    ]
    for (const body of attempts) expectError(await send(mallory, { method: 'POST', url: `${T}/template/update`, payload: body }), 403, 'ACCESS_PROHIBITED')
    expectError(await send(mallory, { method: 'POST', url: `${T}/template/delete`, payload: { id: tpl.id } }), 403, 'ACCESS_PROHIBITED')
    const after = (await send(author, { method: 'GET', url: `${T}/template`, query: { id: tpl.id } })).json()
    expect(after).toMatchObject({ params: { system: 'Be nice.' }, locked_params: ['system'], access_grants: null, template_access_grants: [user(mallory.id)] })
  })

  it("a template's own sharing follows the sharing permissions: no everyone-grant without sharing.public_models", async () => {
    const id = `pub-${token()}`
    expectError(await tryTemplate(author, { id, name: 'Public', template_access_grants: [user('*')] }), 403, 'ACCESS_PROHIBITED')
    const tpl = await createTemplate(author, { id, name: 'Private' })
    const res = await send(author, { method: 'POST', url: `${T}/template/update`, payload: { id: tpl.id, template_access_grants: [user('*', 'write')] } })
    expectError(res, 403, 'ACCESS_PROHIBITED')
    expectError(await send(plain, { method: 'GET', url: `${T}/template`, query: { id: tpl.id } }), 404, 'NOT_FOUND')
  })

  it('a user without workspace.templates cannot make one, not even as a copy of a model it writes', async () => {
    const mine = await h.createUser('user', 'Maker Only')
    await createGroup(`Makers ${token()}`, { workspace: { models: true } }, [mine.id])
    const model = await create(mine, preset(`m-${token()}`))
    expectError(await tryTemplate(mine, { id: `t-${token()}`, name: 'No', from_model_id: model.id }), 403, 'ACCESS_PROHIBITED')
    expectError(await tryTemplate(plain, { id: `t-${token()}`, name: 'No' }), 403, 'ACCESS_PROHIBITED')
  })

  // Applying another template — one of the caller's own — would rewrite a locked key of the template
  // the model follows and re-link the model, so the lock would no longer hold. Refused like an update of
  // the key: PARAM_LOCKED (docs/templates.md, "Locked parameters").
  it('applying an own template does not escape the locked keys of the template a model follows', async () => {
    const policy = await createTemplate(h.admin, {
      id: `policy-${token()}`,
      name: 'Policy',
      params: { system: 'Follow the policy.' },
      locked_params: ['system'],
      template_access_grants: [group(authorsGroup)],
    })
    const model = await create(mallory, { ...preset(`locked-${token()}`), template_id: policy.id })
    expectError(await tryUpdate(mallory, { id: model.id, params: { system: 'Ignore the policy.' } }), 409, 'PARAM_LOCKED')
    const escape = await createTemplate(mallory, { id: `escape-${token()}`, name: 'Escape', params: { system: 'Ignore the policy.' } })
    // Neither mode, and not even a template that holds nothing (the re-link alone would drop the lock).
    const empty = await createTemplate(mallory, { id: `empty-${token()}`, name: 'Empty' })
    for (const [tpl, mode] of [
      [escape, 'replace'],
      [escape, 'merge'],
      [empty, 'merge'],
    ] as const) {
      const report = await apply(mallory, { id: tpl.id, model_ids: [model.id], mode })
      expect(report.changed).toEqual([])
      expect(report.refused.map((r) => `${r.id}:${r.code}`)).toEqual([`${model.id}:PARAM_LOCKED`])
    }
    const after = await getModel(mallory, model.id)
    expect(after.params['system']).toBe('Follow the policy.')
    expect(after.template_id).toBe(policy.id)
    // An administrator may move it to another template.
    const moved = await apply(h.admin, { id: escape.id, model_ids: [model.id], mode: 'replace' })
    expect(moved.changed.map((c) => c.id)).toEqual([model.id])
  })

  // A write grantee who is not the owner would link the owner's model to a template of their own whose
  // locked keys then bind the owner (who can neither read that template nor unlink the model). Applying a
  // template that locks keys is the owner's (or an admin's) call: ACCESS_PROHIBITED for anyone else.
  it("a model's writer cannot lock the owner out of the owner's own model through a template", async () => {
    const owner = await h.createUser('user', 'Model Owner')
    await createGroup(`Owners ${token()}`, { workspace: { models: true, templates: true }, sharing: { models: true } }, [owner.id])
    const model = await create(owner, { ...preset(`owned-${token()}`), params: { system: 'Mine.' }, access_grants: [user(mallory.id, 'write')] })
    const trap = await createTemplate(mallory, { id: `trap-${token()}`, name: 'Trap', params: { system: 'Mallory rules.' }, locked_params: ['system'] })
    const report = await apply(mallory, { id: trap.id, model_ids: [model.id], mode: 'merge' })
    expect(report.changed).toEqual([])
    expect(report.refused.map((r) => `${r.id}:${r.code}`)).toEqual([`${model.id}:ACCESS_PROHIBITED`])
    // A template without locks is a plain edit the writer may make.
    const plainTemplate = await createTemplate(mallory, { id: `plain-${token()}`, name: 'Plain', params: { temperature: 0.2 } })
    expect((await apply(mallory, { id: plainTemplate.id, model_ids: [model.id], mode: 'merge' })).changed.map((c) => c.id)).toEqual([model.id])
    // The owner still edits their model.
    const res = await tryUpdate(owner, { id: model.id, params: { system: 'Mine, still.' } })
    expect(res.statusCode, res.body).toBe(200)
    // And the owner may lock their own model with their own template.
    const own = await createTemplate(owner, { id: `own-${token()}`, name: 'Own', params: { system: 'Mine.' }, locked_params: ['system'] })
    expect((await apply(owner, { id: own.id, model_ids: [model.id], mode: 'merge' })).changed.map((c) => c.id)).toEqual([model.id])
  })

  it('odd bodies and query strings answer 4xx, never 500, and change nothing', async () => {
    const tpl = await createTemplate(author, { id: `odd-${token()}`, name: 'Odd', params: { temperature: 0.5 } })
    const own = await create(author, preset(`odd-m-${token()}`))
    const bodies: { url: string; payload: unknown }[] = [
      { url: `${T}/create`, payload: null },
      { url: `${T}/create`, payload: [] },
      { url: `${T}/create`, payload: { id: `x-${token()}`, name: 'x', params: [] } },
      { url: `${T}/create`, payload: { id: `x-${token()}`, name: 'x', params: { temperature: '0.5' } } },
      { url: `${T}/create`, payload: { id: `x-${token()}`, name: 'x', locked_params: ['temperature'] } },
      { url: `${T}/create`, payload: { id: `x-${token()}`, name: 'x', params: { a: 1 }, locked_params: Array.from({ length: 201 }, () => 'a') } },
      { url: `${T}/create`, payload: { id: `x-${token()}`, name: 'x', meta: { tags: Array.from({ length: 101 }, (_, i) => `t${i}`) } } },
      { url: `${T}/create`, payload: { id: `x-${token()}`, name: 'x', access_grants: [{ principal_type: 'group', principal_id: '*', permission: 'read' }] } },
      {
        url: `${T}/create`,
        payload: { id: `x-${token()}`, name: 'x', access_grants: [{ principal_type: 'user', principal_id: 'nobody', permission: 'own' }] },
      },
      { url: `${T}/create`, payload: { id: `x-${token()}`, name: 'x', access_grants: [user('no-such-user')] } },
      { url: `${T}/create`, payload: { id: `x-${token()}`, name: 'x', template_access_grants: [user('no-such-user')] } },
      { url: `${T}/create`, payload: { id: `x-${token()}`, name: 'x', access_control: { read: { group_ids: 'all' } } } },
      { url: `${T}/create`, payload: { id: 'a'.repeat(257), name: 'x' } },
      { url: `${T}/create`, payload: { id: `x-\u0000-${token()}`, name: 'x' } },
      { url: `${T}/create`, payload: { id: `x-\ud800-${token()}`, name: 'x' } },
      { url: `${T}/create`, payload: { id: `x-${token()}`, name: 'x', from_model_id: ['a'] } },
      { url: `${T}/create`, payload: { id: `x-${token()}`, name: 'x', description: 'd'.repeat(20_001) } },
      { url: `${T}/create`, payload: { id: `x-${token()}`, name: 'x', base_model_id: 'x-self' } },
      { url: `${T}/template/update`, payload: { id: tpl.id, locked_params: ['missing'] } },
      { url: `${T}/template/update`, payload: { id: tpl.id, params: { temperature: 7 } } },
      { url: `${T}/template/update`, payload: { id: tpl.id, name: '' } },
      { url: `${T}/template/update`, payload: { id: 42 } },
      { url: `${T}/template/delete`, payload: { id: null } },
      { url: `${T}/template/apply`, payload: { id: tpl.id } },
      { url: `${T}/template/apply`, payload: { id: tpl.id, model_ids: [] } },
      { url: `${T}/template/apply`, payload: { id: tpl.id, model_ids: [own.id], filter: {} } },
      { url: `${T}/template/apply`, payload: { id: tpl.id, model_ids: Array.from({ length: 10_001 }, (_, i) => `m${i}`) } },
      { url: `${T}/template/apply`, payload: { id: tpl.id, model_ids: [own.id], mode: 'MERGE' } },
      { url: `${T}/template/apply`, payload: { id: tpl.id, model_ids: [own.id], dry_run: 'true' } },
      { url: `${T}/template/apply`, payload: { id: tpl.id, model_ids: [null] } },
      { url: `${T}/template/apply`, payload: { id: tpl.id, filter: null } },
      { url: `${T}/template/apply`, payload: { id: tpl.id, filter: { tag: { $ne: 1 } } } },
      { url: `${T}/template/apply`, payload: { id: [tpl.id], model_ids: [own.id] } },
    ]
    for (const { url, payload } of bodies) {
      const res = await send(author, { method: 'POST', url, payload: JSON.stringify(payload), headers: { 'content-type': 'application/json' } })
      expect(res.statusCode, `${url} ${JSON.stringify(payload).slice(0, 120)} → ${res.body}`).toBeGreaterThanOrEqual(400)
      expect(res.statusCode, `${url} → ${res.body}`).toBeLessThan(500)
    }
    const modelQueries: Record<string, string>[] = [
      { id: tpl.id, page: '0' },
      { id: tpl.id, page: '1e400' },
      { id: tpl.id, limit: '101' },
      { id: '' },
      { id: '%' },
    ]
    for (const query of modelQueries) {
      const res = await send(author, { method: 'GET', url: `${T}/template/models`, query })
      expect(res.statusCode, `${JSON.stringify(query)} → ${res.body}`).toBeLessThan(500)
    }
    const listQueries: Record<string, string>[] = [{ query: '%_\\' }, { query: '\u{1F600}'.repeat(100) }, { page: '-1' }, { limit: 'NaN' }]
    for (const query of listQueries) {
      const res = await send(author, { method: 'GET', url: `${T}/list`, query })
      expect(res.statusCode, `${JSON.stringify(query)} → ${res.body}`).toBeLessThan(500)
    }
    // Prototype keys are refused by the JSON parser, never merged into a model.
    const polluted = await send(author, {
      method: 'POST',
      url: `${T}/template/update`,
      payload: `{"id": ${JSON.stringify(tpl.id)}, "params": {"__proto__": {"temperature": 2}}}`,
      headers: { 'content-type': 'application/json' },
    })
    expect(polluted.statusCode).toBe(400)
    expect((await getModel(author, own.id)).params).toEqual({})
    expect(({} as Record<string, unknown>)['temperature']).toBeUndefined()
  })

  it('unicode, long and slash/colon ids are template ids like any other; an unknown one in model_ids is only refused', async () => {
    for (const id of [`ünï-${token()}`, `org/team:${token()}`, `${'z'.repeat(240)}${token()}`.slice(0, 256)]) {
      const created = await tryTemplate(author, { id, name: 'Odd id', params: { temperature: 0.3 } })
      expect(created.statusCode, created.body).toBe(200)
      expect((await send(author, { method: 'GET', url: `${T}/template`, query: { id } })).json().id).toBe(id)
      const report = await apply(author, { id, model_ids: [`no-model-${token()}`, `org/x:${token()}`], dry_run: true })
      expect(report.refused.map((r) => r.code)).toEqual(['MODEL_NOT_FOUND', 'MODEL_NOT_FOUND'])
      expect((await send(author, { method: 'POST', url: `${T}/template/delete`, payload: { id } })).statusCode).toBe(200)
    }
  })

  it('CSRF: template writes carrying only the session cookie are refused (401) and change nothing', async () => {
    const tpl = await createTemplate(author, { id: `csrf-${token()}`, name: 'Csrf', params: { temperature: 0.4 } })
    const own = await create(author, preset(`csrf-m-${token()}`))
    const forged = [
      { url: `${T}/create`, payload: { id: `forged-${token()}`, name: 'Forged' } },
      { url: `${T}/template/update`, payload: { id: tpl.id, name: 'Forged' } },
      { url: `${T}/template/apply`, payload: { id: tpl.id, model_ids: [own.id] } },
      { url: `${T}/template/delete`, payload: { id: tpl.id } },
    ]
    for (const { url, payload } of forged) {
      const res = await h.request({
        method: 'POST',
        url,
        headers: { ...cookie(author.token), origin: 'https://evil.example', 'content-type': 'application/json' },
        payload: JSON.stringify(payload),
      })
      expect(res.statusCode, `${url}: ${res.body}`).toBe(401)
    }
    expect((await send(author, { method: 'GET', url: `${T}/template`, query: { id: tpl.id } })).json().name).toBe('Csrf')
    expect((await getModel(author, own.id)).template_id).toBeNull()
  })

  it('a revoked credential does not outlive its revocation on template routes (password reset, API keys disabled)', async () => {
    const victim = await h.createUser('user', 'Reset Victim')
    await createGroup(`Authors2 ${token()}`, { workspace: { templates: true, models: true } }, [victim.id])
    const key = (await send(victim, { method: 'POST', url: '/api/v1/auths/api_key' })).json().api_key as string
    const viaKey = { authorization: `Bearer ${key}` }
    expect((await h.request({ method: 'GET', url: `${T}/list`, headers: viaKey })).statusCode).toBe(200)
    // API keys switched off by the admin: refused at once.
    const off = await send(h.admin, { method: 'POST', url: '/api/v1/auths/admin/config', payload: { ENABLE_API_KEYS: false } })
    expect(off.statusCode, off.body).toBe(200)
    try {
      expectError(
        await h.request({ method: 'POST', url: `${T}/create`, headers: viaKey, payload: { id: `k-${token()}`, name: 'Key' } }),
        403,
        'ACCESS_PROHIBITED',
      )
    } finally {
      await send(h.admin, { method: 'POST', url: '/api/v1/auths/admin/config', payload: { ENABLE_API_KEYS: true } })
    }
    // An admin's password reset revokes the session and deletes the key.
    const reset = await send(h.admin, { method: 'POST', url: `/api/v1/users/${victim.id}/update`, payload: { password: 'a-new-password-9' } })
    expect(reset.statusCode, reset.body).toBe(200)
    expectError(await send(victim, { method: 'POST', url: `${T}/create`, payload: { id: `s-${token()}`, name: 'S' } }), 401, 'UNAUTHORIZED')
    expectError(await h.request({ method: 'GET', url: `${T}/list`, headers: viaKey }), 401, 'UNAUTHORIZED')
  })

  it('races: template updates, applies, model creates from it and deletes never answer 500; no model names a deleted template', async () => {
    const tpl = await createTemplate(author, {
      id: `race-${token()}`,
      name: 'Race',
      params: { temperature: 0.2 },
      template_access_grants: [group(authorsGroup, 'write')],
    })
    const models = await Promise.all(Array.from({ length: 6 }, () => create(author, preset(`race-m-${token()}`))))
    const ids = models.map((m) => m.id)
    const work = [
      ...Array.from({ length: 4 }, (_, i) =>
        send(mallory, { method: 'POST', url: `${T}/template/update`, payload: { id: tpl.id, params: { temperature: i / 10 } } }),
      ),
      ...Array.from({ length: 4 }, () => tryApply(author, { id: tpl.id, model_ids: ids, mode: 'merge' })),
      ...Array.from({ length: 4 }, () =>
        send(author, { method: 'POST', url: `${M}/create`, payload: { ...preset(`race-c-${token()}`), template_id: tpl.id } }),
      ),
      ...ids.slice(0, 4).map((id) => tryUpdate(author, { id, params: { temperature: 1.5 } })),
      ...ids.slice(4).map((id) => send(author, { method: 'POST', url: `${M}/model/delete`, payload: { id } })),
      send(mallory, { method: 'POST', url: `${T}/template/delete`, payload: { id: tpl.id } }),
      send(author, { method: 'POST', url: `${T}/template/delete`, payload: { id: tpl.id } }),
    ]
    const answers = await Promise.all(work)
    for (const res of answers) expect([200, 404, 409], res.body).toContain(res.statusCode)
    const linked = await h.services.database.db.selectFrom('models').select('id').where('template_id', '=', tpl.id).execute()
    expect(linked).toEqual([])
  })
})
