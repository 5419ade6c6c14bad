/**
 * Open WebUI parity of the model configuration (issue #14 item 4; docs/compat.md, "Model configuration"),
 * on every dialect. Requests are exactly what Open WebUI's v0.9.2 client sends
 * (`src/lib/apis/configs/index.ts`: getModelsConfig — GET with `Content-Type: application/json` and a
 * bearer token; setModelsConfig — POST of `{...config}`), and the checks read what its admin Models
 * settings read (the five keys). Applied: the runtime list follows MODEL_ORDER_LIST at once (its caches
 * included), and new presets start from the default meta and params (body > template > defaults).
 * Attacks: non-admins on every admin route, defaults naming a model a user may not read, bad shapes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { startFakeProvider, type FakeProvider } from './support/fake-provider.js'
import { createHarness, type Harness, type InjectOptions, type TestAccount } from './support/harness.js'
import { badCredentials, createGroup, createLadder, expectRefusedRungs, type Ladder } from './support/accounts.js'
import { expectError } from './support/requests.js'

const CONFIGS = '/api/v1/configs/models'

/** The headers Open WebUI's client functions send. */
const owuiHeaders = (token: string) => ({ 'Content-Type': 'application/json', authorization: `Bearer ${token}` })

interface ModelsConfig {
  DEFAULT_MODELS: string | null
  DEFAULT_PINNED_MODELS: string | null
  MODEL_ORDER_LIST: string[] | null
  DEFAULT_MODEL_METADATA: Record<string, unknown> | null
  DEFAULT_MODEL_PARAMS: Record<string, unknown> | null
}

describe.each(DIALECTS)('Open WebUI model configuration on %s', (dialect) => {
  let h: Harness
  let ladder: Ladder
  let provider: FakeProvider
  let creator: TestAccount

  const as = (who: TestAccount, options: InjectOptions) => h.request({ ...options, headers: { ...owuiHeaders(who.token), ...(options.headers ?? {}) } })
  /** Open WebUI's getModelsConfig. */
  const getModelsConfig = async () => {
    const res = await as(h.admin, { method: 'GET', url: CONFIGS })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<ModelsConfig>()
  }
  /** Open WebUI's setModelsConfig: the config spread into the body. */
  const setModelsConfig = (config: Partial<ModelsConfig> | Record<string, unknown>, who: TestAccount = h.admin) =>
    as(who, { method: 'POST', url: CONFIGS, payload: { ...config } })
  const runtimeIds = async (who: TestAccount) => {
    const res = await as(who, { method: 'GET', url: '/api/models' })
    expect(res.statusCode, res.body).toBe(200)
    return { ids: res.json<{ data: { id: string }[] }>().data.map((m) => m.id), body: res.body }
  }
  const openAiIds = async (who: TestAccount) => {
    const res = await as(who, { method: 'GET', url: '/v1/models' })
    expect(res.statusCode, res.body).toBe(200)
    return { ids: res.json<{ data: { id: string }[] }>().data.map((m) => m.id), body: res.body }
  }
  const createModel = async (who: TestAccount, body: Record<string, unknown>) => {
    const res = await as(who, { method: 'POST', url: '/api/v1/models/create', payload: body })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ params: Record<string, unknown>; meta: Record<string, unknown> }>()
  }
  const reset = async () => {
    const res = await setModelsConfig({
      DEFAULT_MODELS: null,
      DEFAULT_PINNED_MODELS: null,
      MODEL_ORDER_LIST: null,
      DEFAULT_MODEL_METADATA: null,
      DEFAULT_MODEL_PARAMS: null,
    })
    expect(res.statusCode, res.body).toBe(200)
  }

  beforeAll(async () => {
    provider = await startFakeProvider({ models: ['alpha', 'beta', 'gamma', 'secret-m'] })
    h = await createHarness(dialect, { OPENAI_API_BASE_URLS: provider.baseUrl, OPENAI_API_KEYS: '' })
    ladder = await createLadder(h, { pending: 'Pending', user: 'Plain user' })
    creator = await h.createUser('user', 'Preset maker')
    await createGroup(h, 'Makers', { workspace: { models: true } }, [creator.id])
    // Users may use these three; `secret-m` stays the admins' (a provider model without a row).
    await h.shareBase(['alpha', 'beta', 'gamma'])
  })
  afterAll(async () => {
    await h?.close()
    await provider?.close()
  })

  it('refuses GET and POST /configs/models to anyone but an admin; the defaults are readable by verified users only', async () => {
    for (const route of [
      { method: 'GET', url: CONFIGS },
      { method: 'POST', url: CONFIGS, payload: { DEFAULT_MODELS: 'alpha', DEFAULT_PINNED_MODELS: null, MODEL_ORDER_LIST: ['beta'] } },
    ] as const) {
      await expectRefusedRungs(h, (headers) => ({ ...route, headers }), {
        credentials: badCredentials(ladder.revokedKey),
        forbidden: [ladder.pending, ladder.user],
      })
    }
    // The refused write changed nothing.
    expect(await getModelsConfig()).toMatchObject({ DEFAULT_MODELS: null, MODEL_ORDER_LIST: null })
    expectError(await as(ladder.pending, { method: 'GET', url: `${CONFIGS}/defaults` }), 403, 'ACCESS_PROHIBITED')
    const defaults = await as(ladder.user, { method: 'GET', url: `${CONFIGS}/defaults` })
    expect(defaults.statusCode, defaults.body).toBe(200)
    expect(defaults.json()).toEqual({ DEFAULT_MODEL_METADATA: {}, DEFAULT_MODEL_PARAMS: {} })
  })

  it('answers getModelsConfig with the five keys, null until set', async () => {
    expect(await getModelsConfig()).toEqual({
      DEFAULT_MODELS: null,
      DEFAULT_PINNED_MODELS: null,
      MODEL_ORDER_LIST: null,
      DEFAULT_MODEL_METADATA: null,
      DEFAULT_MODEL_PARAMS: null,
    })
  })

  it('saves what setModelsConfig sends, answers it, persists it, and audits the change as config.update', async () => {
    const config: ModelsConfig = {
      DEFAULT_MODELS: 'alpha,beta',
      DEFAULT_PINNED_MODELS: 'gamma',
      MODEL_ORDER_LIST: ['gamma', 'alpha'],
      DEFAULT_MODEL_METADATA: { description: 'Started from the defaults', capabilities: { vision: true, citations: true } },
      DEFAULT_MODEL_PARAMS: { temperature: 0.3, max_tokens: -1 },
    }
    const res = await setModelsConfig(config)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toEqual(config)
    expect(await getModelsConfig()).toEqual(config)
    const stored = await h.services.database.db.selectFrom('app_settings').select('value').where('key', '=', 'models.config').executeTakeFirstOrThrow()
    expect(JSON.parse(stored.value)).toEqual(config)
    const audit = await h.services.database.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'config.update')
      .where('target_id', '=', 'models.config')
      .execute()
    expect(audit).toHaveLength(1)
    expect(audit[0]).toMatchObject({ actor_id: h.admin.id, target_type: 'config' })
    expect(JSON.parse(audit[0]?.after ?? '{}')).toMatchObject({ MODEL_ORDER_LIST: ['gamma', 'alpha'], DEFAULT_MODELS: 'alpha,beta' })
    expect(JSON.parse(audit[0]?.before ?? '{}')).toMatchObject({ MODEL_ORDER_LIST: null })
    // Saving the same again changes nothing and writes no entry.
    expect((await setModelsConfig(config)).statusCode).toBe(200)
    expect(await h.services.database.db.selectFrom('audit_log').select('id').where('target_id', '=', 'models.config').execute()).toHaveLength(1)
  })

  it('keeps keys an older client leaves out, and clears a key sent as null', async () => {
    const res = await setModelsConfig({ DEFAULT_MODELS: 'beta', DEFAULT_PINNED_MODELS: null, MODEL_ORDER_LIST: ['gamma', 'alpha'] })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ DEFAULT_MODELS: 'beta', DEFAULT_PINNED_MODELS: null, DEFAULT_MODEL_PARAMS: { temperature: 0.3, max_tokens: -1 } })
  })

  it('orders /api/models and /v1/models by MODEL_ORDER_LIST, and a change reaches the cached lists at once', async () => {
    await setModelsConfig({ MODEL_ORDER_LIST: null })
    const before = (await runtimeIds(h.admin)).ids
    expect(before).toEqual(expect.arrayContaining(['alpha', 'beta', 'gamma', 'secret-m']))
    // Warm every cache, then reorder: the next answers follow at once.
    await openAiIds(h.admin)
    await runtimeIds(ladder.user)
    expect((await setModelsConfig({ MODEL_ORDER_LIST: ['gamma', 'not-a-model', 'alpha'] })).statusCode).toBe(200)
    const rest = before.filter((id) => id !== 'gamma' && id !== 'alpha')
    expect((await runtimeIds(h.admin)).ids).toEqual(['gamma', 'alpha', ...rest])
    expect((await openAiIds(h.admin)).ids).toEqual(['gamma', 'alpha', ...rest])
    expect((await runtimeIds(ladder.user)).ids.slice(0, 2)).toEqual(['gamma', 'alpha'])
    expect((await setModelsConfig({ MODEL_ORDER_LIST: ['beta'] })).statusCode).toBe(200)
    expect((await runtimeIds(h.admin)).ids[0]).toBe('beta')
    expect((await setModelsConfig({ MODEL_ORDER_LIST: null })).statusCode).toBe(200)
    expect((await runtimeIds(h.admin)).ids).toEqual(before)
  })

  it('never shows a user a model they may not read because a default, a pin or the order names it', async () => {
    expect((await runtimeIds(h.admin)).ids).toContain('secret-m')
    const res = await setModelsConfig({ DEFAULT_MODELS: 'secret-m', DEFAULT_PINNED_MODELS: 'secret-m,alpha', MODEL_ORDER_LIST: ['secret-m', 'alpha'] })
    expect(res.statusCode, res.body).toBe(200)
    for (const who of [ladder.user, creator]) {
      const runtime = await runtimeIds(who)
      expect(runtime.ids[0]).toBe('alpha')
      expect(runtime.body).not.toContain('secret-m')
      expect((await openAiIds(who)).body).not.toContain('secret-m')
      expect((await as(who, { method: 'GET', url: `${CONFIGS}/defaults` })).body).not.toContain('secret-m')
      expectError(await as(who, { method: 'GET', url: CONFIGS }), 403, 'ACCESS_PROHIBITED')
    }
    expect((await runtimeIds(h.admin)).ids.slice(0, 2)).toEqual(['secret-m', 'alpha'])
    await reset()
  })

  it.each([
    [{ MODEL_ORDER_LIST: 'alpha' }, 'MODEL_ORDER_LIST'],
    [{ MODEL_ORDER_LIST: ['alpha', 5] }, 'MODEL_ORDER_LIST'],
    [{ MODEL_ORDER_LIST: ['bad\u0000id'] }, 'MODEL_ORDER_LIST'],
    [{ DEFAULT_MODELS: 5 }, 'DEFAULT_MODELS'],
    [{ DEFAULT_PINNED_MODELS: ['alpha'] }, 'DEFAULT_PINNED_MODELS'],
    [{ DEFAULT_MODEL_METADATA: ['x'] }, 'DEFAULT_MODEL_METADATA'],
    [{ DEFAULT_MODEL_PARAMS: 'temperature=1' }, 'DEFAULT_MODEL_PARAMS'],
    [{ DEFAULT_MODEL_PARAMS: { temperature: 5 } }, 'temperature'],
    [{ DEFAULT_MODEL_PARAMS: { max_tokens: -3 } }, 'max_tokens'],
  ])('a bad shape %j → 400 naming %s; nothing saved', async (body, field) => {
    const before = await getModelsConfig()
    const res = await setModelsConfig(body)
    expect(res.statusCode, res.body).toBe(400)
    expect(res.json<{ detail: string }>().detail).toContain(field)
    expect(await getModelsConfig()).toEqual(before)
  })

  it('starts a new preset from the default meta and params: the body wins, then a template, then the defaults', async () => {
    const res = await setModelsConfig({
      DEFAULT_MODEL_METADATA: { description: 'Default description', capabilities: { vision: true, citations: true }, tags: [{ name: 'default' }] },
      DEFAULT_MODEL_PARAMS: { temperature: 0.3, max_tokens: -1, top_p: 0.5, custom_params: { a: '1', b: '2' } },
    })
    expect(res.statusCode, res.body).toBe(200)
    // The defaults endpoint answers them to any verified user (the web editor prefills from it).
    expect((await as(creator, { method: 'GET', url: `${CONFIGS}/defaults` })).json()).toEqual({
      DEFAULT_MODEL_METADATA: { description: 'Default description', capabilities: { vision: true, citations: true }, tags: [{ name: 'default' }] },
      DEFAULT_MODEL_PARAMS: { temperature: 0.3, max_tokens: -1, top_p: 0.5, custom_params: { a: '1', b: '2' } },
    })

    const bare = await createModel(creator, { id: 'from-defaults', base_model_id: 'alpha', name: 'From defaults' })
    expect(bare.params).toEqual({ temperature: 0.3, max_tokens: -1, top_p: 0.5, custom_params: { a: '1', b: '2' } })
    expect(bare.meta).toMatchObject({ description: 'Default description', capabilities: { vision: true, citations: true }, tags: [{ name: 'default' }] })

    const given = await createModel(creator, {
      id: 'body-wins',
      base_model_id: 'alpha',
      name: 'Body wins',
      params: { temperature: 0.9, custom_params: { b: 'mine' } },
      meta: { capabilities: { vision: false }, tags: [{ name: 'own' }] },
    })
    expect(given.params).toEqual({ temperature: 0.9, max_tokens: -1, top_p: 0.5, custom_params: { a: '1', b: 'mine' } })
    expect(given.meta).toMatchObject({ description: 'Default description', capabilities: { vision: false, citations: true }, tags: [{ name: 'own' }] })

    // An admin's override row of a provider model is not a new preset: nothing is filled in.
    const override = await createModel(h.admin, { id: 'secret-m', base_model_id: null, name: 'Secret' })
    expect(override.params).toEqual({})

    // With a template: body > template > defaults.
    const template = await as(h.admin, {
      method: 'POST',
      url: '/api/v1/templates/create',
      payload: { id: 'tpl-cfg', name: 'Template', params: { temperature: 0.6, top_p: 0.7 }, meta: { description: 'Template description' } },
    })
    expect(template.statusCode, template.body).toBe(200)
    const layered = await createModel(h.admin, { id: 'layered', base_model_id: 'alpha', name: 'Layered', template_id: 'tpl-cfg', params: { temperature: 1.1 } })
    expect(layered.params).toEqual({ temperature: 1.1, top_p: 0.7, max_tokens: -1, custom_params: { a: '1', b: '2' } })
    expect(layered.meta).toMatchObject({ description: 'Template description', capabilities: { vision: true, citations: true } })
    await reset()
  })

  it('a create after a save uses the saved defaults (they are kept in memory between saves)', async () => {
    // Each create reads the defaults (cached after the first); each save must retire what was kept.
    for (const [n, params] of [{ temperature: 0.2 }, { temperature: 0.4, top_p: 0.9 }, null].entries()) {
      expect((await setModelsConfig({ DEFAULT_MODEL_PARAMS: params })).statusCode).toBe(200)
      for (const copy of ['a', 'b']) {
        const created = await createModel(creator, { id: `cached-defaults-${n}-${copy}`, base_model_id: 'alpha', name: `Cached ${n}` })
        expect(created.params).toEqual(params ?? {})
      }
    }
    await reset()
  })
})
