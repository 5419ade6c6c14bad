/**
 * Open WebUI parity of connections, the runtime list's shape and the chat passthrough (issue #14 items
 * 5, 6 and 8), on every dialect, against real HTTP fake providers. Requests are exactly what Open WebUI's
 * v0.9.2 client functions send (`src/lib/apis/openai/index.ts`: getOpenAIConfig, updateOpenAIConfig,
 * getOpenAIModels, verifyOpenAIConnection; `src/lib/apis/ollama/index.ts`: getOllamaConfig,
 * updateOllamaConfig, verifyOllamaConnection; its Connections page posting back the config it read), and
 * the checks read what those functions and pages read. Attacks: a non-admin on every route, keys in no
 * answer and no log line, bad URLs and masked keys as 4xx, a bad entry leaving everything unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { startFakeProvider, type FakeProvider } from './support/fake-provider.js'
import { createHarness, type Harness, type InjectOptions, type TestAccount } from './support/harness.js'
import { badCredentials, createLadder, expectRefusedRungs, type Ladder } from './support/accounts.js'
import { expectError } from './support/requests.js'

const KEY = 'sk-owui-upstream-secret-4242'
const OLLAMA_KEY = 'ollama-secret-key-7777'
const ENV_KEY = 'sk-env-secret-5151'
const ENV = { PROVIDER_LIST_TIMEOUT_MS: '1000', MODELS_CACHE_TTL: '3600', LOG_LEVEL: 'info' }

/** The headers Open WebUI's client functions send. */
const owuiHeaders = (token: string) => ({ Accept: 'application/json', 'Content-Type': 'application/json', authorization: `Bearer ${token}` })

interface OpenAiConfig {
  ENABLE_OPENAI_API: boolean
  OPENAI_API_BASE_URLS: string[]
  OPENAI_API_KEYS: string[]
  OPENAI_API_CONFIGS: Record<string, Record<string, unknown>>
}
interface OllamaConfig {
  ENABLE_OLLAMA_API: boolean
  OLLAMA_BASE_URLS: string[]
  OLLAMA_API_CONFIGS: Record<string, Record<string, unknown>>
}

describe.each(DIALECTS)('Open WebUI connections, runtime list and chat passthrough on %s', (dialect) => {
  let h: Harness
  let ladder: Ladder
  let keyed: FakeProvider
  let other: FakeProvider
  let viaEnv: FakeProvider
  let ollama: FakeProvider
  const lines: string[] = []
  const answers: string[] = []

  const as = async (who: TestAccount, options: InjectOptions) => {
    const res = await h.request({ ...options, headers: { ...owuiHeaders(who.token), ...(options.headers ?? {}) } })
    answers.push(res.body)
    return res
  }
  const getOpenAIConfig = async () => {
    const res = await as(h.admin, { method: 'GET', url: '/openai/config' })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<OpenAiConfig>()
  }
  const updateOpenAIConfig = (config: OpenAiConfig) => as(h.admin, { method: 'POST', url: '/openai/config/update', payload: { ...config } })
  const getOllamaConfig = async () => {
    const res = await as(h.admin, { method: 'GET', url: '/ollama/config' })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<OllamaConfig>()
  }
  const updateOllamaConfig = (config: OllamaConfig) => as(h.admin, { method: 'POST', url: '/ollama/config/update', payload: { ...config } })
  const stored = async () =>
    (await as(h.admin, { method: 'GET', url: '/api/v1/connections/' })).json<{ id: string; kind: string; base_url: string; source: string }[]>()
  const runtime = async (who: TestAccount) => (await as(who, { method: 'GET', url: '/api/models' })).json<{ data: Record<string, unknown>[] }>().data

  /** What Open WebUI's Connections page posts when an admin adds a connection. */
  const added = (config: OpenAiConfig, url: string, key: string, extra: Record<string, unknown> = {}): OpenAiConfig => {
    const index = config.OPENAI_API_BASE_URLS.length
    return {
      ...config,
      OPENAI_API_BASE_URLS: [...config.OPENAI_API_BASE_URLS, url],
      OPENAI_API_KEYS: [...config.OPENAI_API_KEYS, key],
      OPENAI_API_CONFIGS: {
        ...config.OPENAI_API_CONFIGS,
        [String(index)]: { enable: true, tags: [], prefix_id: '', model_ids: [], connection_type: 'external', auth_type: 'bearer', ...extra },
      },
    }
  }

  beforeAll(async () => {
    keyed = await startFakeProvider({ models: ['keyed-m'], apiKey: KEY })
    other = await startFakeProvider({ models: ['other-m'] })
    viaEnv = await startFakeProvider({ models: ['env-m'], apiKey: ENV_KEY })
    ollama = await startFakeProvider({ kind: 'ollama', models: ['llama3:8b', 'qwen:7b'], apiKey: OLLAMA_KEY })
    h = await createHarness(
      dialect,
      { ...ENV, OPENAI_API_BASE_URLS: viaEnv.baseUrl, OPENAI_API_KEYS: ENV_KEY },
      { logStream: { write: (line) => void lines.push(line) } },
    )
    ladder = await createLadder(h, { pending: 'Pending', user: 'Plain user' })
  })
  afterAll(async () => {
    await h?.close()
    for (const p of [keyed, other, viaEnv, ollama]) await p?.close()
  })

  it('refuses every new route to anyone but an admin (401 without a valid credential, 403 for pending and user accounts)', async () => {
    const routes: Omit<InjectOptions, 'headers'>[] = [
      { method: 'GET', url: '/openai/config' },
      { method: 'POST', url: '/openai/config/update', payload: { OPENAI_API_BASE_URLS: [], OPENAI_API_KEYS: [], OPENAI_API_CONFIGS: {} } },
      { method: 'GET', url: '/openai/models' },
      { method: 'GET', url: '/openai/models/0' },
      { method: 'POST', url: '/openai/verify', payload: { url: other.baseUrl, key: '' } },
      { method: 'GET', url: '/ollama/config' },
      { method: 'POST', url: '/ollama/config/update', payload: { OLLAMA_BASE_URLS: [], OLLAMA_API_CONFIGS: {} } },
      { method: 'POST', url: '/ollama/verify', payload: { url: ollama.baseUrl, key: OLLAMA_KEY } },
    ]
    for (const route of routes) {
      await expectRefusedRungs(h, (headers) => ({ ...route, headers }), {
        credentials: badCredentials(ladder.revokedKey),
        forbidden: [ladder.pending, ladder.user],
      })
    }
    // Nothing was changed by the refused writes.
    expect((await stored()).filter((c) => c.source === 'api')).toEqual([])
  })

  it('reads the environment connection with its key as a hint only', async () => {
    const config = await getOpenAIConfig()
    expect(config).toEqual({
      ENABLE_OPENAI_API: true,
      OPENAI_API_BASE_URLS: [viaEnv.baseUrl],
      OPENAI_API_KEYS: [expect.stringContaining('…')],
      OPENAI_API_CONFIGS: { '0': { enable: true, tags: [], prefix_id: '', model_ids: [], connection_type: 'external' } },
    })
    expect(JSON.stringify(config)).not.toContain(ENV_KEY)
  })

  it('adds a connection as the Connections page does, keeps its key when the masked config is posted back, and audits without the key', async () => {
    const before = await getOpenAIConfig()
    const res = await updateOpenAIConfig(added(before, `${keyed.baseUrl}/`, KEY, { tags: [{ name: 'paid', color: '#f00' }], prefix_id: 'k' }))
    expect(res.statusCode, res.body).toBe(200)
    const config = res.json<OpenAiConfig>()
    expect(config.OPENAI_API_BASE_URLS).toEqual([viaEnv.baseUrl, keyed.baseUrl])
    expect(config.OPENAI_API_KEYS[1]).toBe('sk-o…4242')
    expect(config.OPENAI_API_CONFIGS['1']).toEqual({
      enable: true,
      tags: [{ name: 'paid', color: '#f00' }],
      prefix_id: 'k',
      model_ids: [],
      connection_type: 'external',
    })
    const [connection] = (await stored()).filter((c) => c.source === 'api')
    expect(connection).toMatchObject({ kind: 'openai', base_url: keyed.baseUrl })

    // Open WebUI posts back everything it read, masked key included: the stored key stays.
    const again = await updateOpenAIConfig(await getOpenAIConfig())
    expect(again.statusCode, again.body).toBe(200)
    expect((await stored()).filter((c) => c.source === 'api').map((c) => c.id)).toEqual([connection?.id])
    const models = await as(h.admin, { method: 'GET', url: '/openai/models/1' })
    expect(models.statusCode, models.body).toBe(200)
    expect(models.json()).toEqual({ object: 'list', data: [expect.objectContaining({ id: 'keyed-m', object: 'model' })] })
    // The provider was called with the stored key (it refuses any other).
    expect(keyed.requests.at(-1)?.headers['authorization']).toBe(`Bearer ${KEY}`)

    const audit = await as(h.admin, { method: 'GET', url: `/api/v1/audit?action=connection.*&target_id=${connection?.id}` })
    expect(audit.statusCode, audit.body).toBe(200)
    const entries = audit.json<{ items: { action: string; after: Record<string, unknown> | null }[] }>().items
    // One create; posting the same configuration back changed nothing, so nothing more is recorded.
    expect(entries.map((e) => e.action)).toEqual(['connection.create'])
    expect(entries[0]?.after).toMatchObject({ has_api_key: true, prefix_id: 'k' })
  })

  it('treats an edited URL at the same position with the masked key as the same connection (the key kept)', async () => {
    const config = await getOpenAIConfig()
    const [connection] = (await stored()).filter((c) => c.source === 'api')
    const res = await updateOpenAIConfig({ ...config, OPENAI_API_BASE_URLS: [viaEnv.baseUrl, `${keyed.url}/v1/`] })
    expect(res.statusCode, res.body).toBe(200)
    const after = (await stored()).filter((c) => c.source === 'api')
    expect(after.map((c) => c.id)).toEqual([connection?.id])
    const verify = await as(h.admin, {
      method: 'POST',
      url: '/openai/verify',
      payload: { url: `${keyed.url}/v1`, key: 'sk-o…4242', config: { auth_type: 'bearer' } },
    })
    expect(verify.statusCode, verify.body).toBe(200)
    expect(verify.json()).toMatchObject({ data: [{ id: 'keyed-m' }] })
  })

  it('answers 400 for a masked key on a new URL, a bad URL, a bad prefix or type, and changes nothing', async () => {
    const config = await getOpenAIConfig()
    const before = await stored()
    const cases: [string, OpenAiConfig][] = [
      ['masked key for a new URL', added(config, other.baseUrl, 'sk-o…4242')],
      ['not a URL', added(config, 'not a url', '')],
      ['a file URL', added(config, 'file:///etc/passwd', '')],
      ['credentials in the URL', added(config, other.baseUrl.replace('http://', 'http://u:p@'), '')],
      ['a bad prefix', added(config, other.baseUrl, '', { prefix_id: 'has space' })],
      ['a bad connection type', added(config, other.baseUrl, '', { connection_type: 'nearby' })],
      ['bad model_ids', added(config, other.baseUrl, '', { model_ids: [{}] })],
    ]
    for (const [what, body] of cases) {
      const res = await updateOpenAIConfig(body)
      expect(res.statusCode, `${what}: ${res.body}`).toBe(400)
      expectError(res, 400, 'VALIDATION_ERROR')
      expect(res.json().detail, what).toContain('OPENAI_API_BASE_URLS.2')
    }
    // A good new entry next to a bad one: nothing is written (one transaction, checked before).
    const mixed = added(added(config, other.baseUrl, ''), 'ftp://nope', '')
    expect((await updateOpenAIConfig(mixed)).statusCode).toBe(400)
    expect(await stored()).toEqual(before)
    const badVerify = await as(h.admin, { method: 'POST', url: '/openai/verify', payload: { url: 'javascript:alert(1)', key: '' } })
    expectError(badVerify, 400, 'VALIDATION_ERROR')
    const maskedVerify = await as(h.admin, { method: 'POST', url: '/openai/verify', payload: { url: other.baseUrl, key: 'sk-o…4242' } })
    expectError(maskedVerify, 400, 'VALIDATION_ERROR')
    expectError(await as(h.admin, { method: 'GET', url: '/openai/models/9' }), 404, 'NOT_FOUND')
    expectError(await as(h.admin, { method: 'GET', url: '/openai/models/x' }), 400, 'VALIDATION_ERROR')
  })

  it('keeps environment connections: posted back they are unchanged, left out the update answers 409', async () => {
    const config = await getOpenAIConfig()
    const res = await updateOpenAIConfig({
      ...config,
      OPENAI_API_BASE_URLS: config.OPENAI_API_BASE_URLS.slice(1),
      OPENAI_API_KEYS: config.OPENAI_API_KEYS.slice(1),
      OPENAI_API_CONFIGS: { '0': config.OPENAI_API_CONFIGS['1'] ?? {} },
    })
    expectError(res, 409, 'CONFLICT')
  })

  it('shows the runtime list as Open WebUI reads it: owned_by, connection_type, urlIdx, tags with extra keys, actions and filters', async () => {
    // A second connection, local, with its models listed by id (not asked of the provider).
    const res = await updateOpenAIConfig(added(await getOpenAIConfig(), other.baseUrl, '', { connection_type: 'local', model_ids: ['listed-only'] }))
    expect(res.statusCode, res.body).toBe(200)
    const override = await as(h.admin, {
      method: 'POST',
      url: '/api/v1/models/create',
      payload: {
        id: 'k.keyed-m',
        name: 'Keyed',
        meta: { tags: [{ name: 'fast', color: 'green' }, 'Paid'], actionIds: ['summarize'], filterIds: ['moderate'] },
        params: {},
      },
    })
    expect(override.statusCode, override.body).toBe(200)
    const preset = await as(h.admin, {
      method: 'POST',
      url: '/api/v1/models/create',
      payload: { id: 'local-preset', base_model_id: 'listed-only', name: 'Local', meta: {}, params: {} },
    })
    expect(preset.statusCode, preset.body).toBe(200)
    const models = await runtime(h.admin)
    const keyedModel = models.find((m) => m.id === 'k.keyed-m')
    expect(keyedModel).toMatchObject({
      owned_by: 'openai',
      connection_type: 'external',
      urlIdx: 1,
      // meta.tags first ({name, color} kept), then the connection's tags not already there.
      tags: [{ name: 'fast', color: 'green' }, { name: 'Paid' }],
      actions: [{ id: 'summarize', name: 'summarize', description: null, icon: null }],
      filters: [{ id: 'moderate', name: 'moderate', description: null, icon: null }],
    })
    expect(models.find((m) => m.id === 'listed-only')).toMatchObject({ owned_by: 'openai', connection_type: 'local', urlIdx: 2, actions: [], filters: [] })
    const localPreset = models.find((m) => m.id === 'local-preset')
    expect(localPreset).toMatchObject({ preset: true, owned_by: 'openai', connection_type: 'local', base_model_missing: false })
    expect(localPreset).not.toHaveProperty('urlIdx')
    // /v1/models keeps the provider's own word.
    const v1 = await as(h.admin, { method: 'GET', url: '/v1/models' })
    expect(v1.json<{ data: { id: string; owned_by: string }[] }>().data.find((m) => m.id === 'k.keyed-m')?.owned_by).toBe('fake')
    // GET /openai/models: every OpenAI-kind model as Open WebUI merges them.
    const all = await as(h.admin, { method: 'GET', url: '/openai/models' })
    expect(all.statusCode, all.body).toBe(200)
    expect(all.json<{ data: unknown[] }>().data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: 'env-m', owned_by: 'openai', urlIdx: 0, connection_type: 'external' }),
        expect.objectContaining({ id: 'k.keyed-m', urlIdx: 1, tags: [{ name: 'paid', color: '#f00' }] }),
        expect.objectContaining({ id: 'listed-only', urlIdx: 2, connection_type: 'local' }),
      ]),
    )
  })

  it('switches the whole OpenAI API off and on (ENABLE_OPENAI_API), for every caller of the runtime list', async () => {
    const config = await getOpenAIConfig()
    const off = await updateOpenAIConfig({ ...config, ENABLE_OPENAI_API: false })
    expect(off.statusCode, off.body).toBe(200)
    expect(off.json<OpenAiConfig>().ENABLE_OPENAI_API).toBe(false)
    expect((await runtime(h.admin)).map((m) => m.id)).not.toContain('k.keyed-m')
    const on = await updateOpenAIConfig({ ...(await getOpenAIConfig()), ENABLE_OPENAI_API: true })
    expect(on.statusCode, on.body).toBe(200)
    expect((await runtime(h.admin)).map((m) => m.id)).toContain('k.keyed-m')
  })

  it('removes a connection left out of the lists', async () => {
    const config = await getOpenAIConfig()
    const res = await updateOpenAIConfig({
      ...config,
      OPENAI_API_BASE_URLS: config.OPENAI_API_BASE_URLS.slice(0, 2),
      OPENAI_API_KEYS: config.OPENAI_API_KEYS.slice(0, 2),
      OPENAI_API_CONFIGS: { '0': config.OPENAI_API_CONFIGS['0'] ?? {}, '1': config.OPENAI_API_CONFIGS['1'] ?? {} },
    })
    expect(res.statusCode, res.body).toBe(200)
    expect((await stored()).filter((c) => c.source === 'api').map((c) => c.base_url)).toEqual([`${keyed.url}/v1`])
    expect((await runtime(h.admin)).map((m) => m.id)).not.toContain('listed-only')
  })

  it('manages Ollama connections through /ollama/config (key in the config, masked when read) and verifies them', async () => {
    const before = await getOllamaConfig()
    expect(before).toEqual({ ENABLE_OLLAMA_API: true, OLLAMA_BASE_URLS: [], OLLAMA_API_CONFIGS: {} })
    const verify = await as(h.admin, { method: 'POST', url: '/ollama/verify', payload: { url: ollama.baseUrl, key: OLLAMA_KEY } })
    expect(verify.statusCode, verify.body).toBe(200)
    expect(verify.json()).toEqual({ version: '0.0.0-fake' })
    const res = await updateOllamaConfig({
      ENABLE_OLLAMA_API: true,
      OLLAMA_BASE_URLS: [ollama.baseUrl],
      OLLAMA_API_CONFIGS: { '0': { enable: true, key: OLLAMA_KEY, tags: [], prefix_id: '', model_ids: ['llama3:8b'], connection_type: 'local' } },
    })
    expect(res.statusCode, res.body).toBe(200)
    const config = res.json<OllamaConfig>()
    expect(config.OLLAMA_API_CONFIGS['0']).toEqual({
      enable: true,
      key: 'olla…7777',
      tags: [],
      prefix_id: '',
      model_ids: ['llama3:8b'],
      connection_type: 'local',
    })
    // Posted back as read: the key is kept (the provider refuses any other), model_ids is an allowlist.
    expect((await updateOllamaConfig(await getOllamaConfig())).statusCode).toBe(200)
    const models = await runtime(h.admin)
    expect(models.filter((m) => m.owned_by === 'ollama').map((m) => [m.id, m.connection_type, m.urlIdx])).toEqual([['llama3:8b', 'local', 0]])
    expect(ollama.requests.filter((r) => r.path === '/api/tags').at(-1)?.headers['authorization']).toBe(`Bearer ${OLLAMA_KEY}`)
    // The masked key verifies the stored connection; a bad URL is a 400.
    expect((await as(h.admin, { method: 'POST', url: '/ollama/verify', payload: { url: ollama.baseUrl, key: 'olla…7777' } })).statusCode).toBe(200)
    expectError(await as(h.admin, { method: 'POST', url: '/ollama/verify', payload: { url: 'nonsense' } }), 400, 'VALIDATION_ERROR')
  })

  it("strips what only Open WebUI's chat pipeline uses before the provider", async () => {
    await h.shareBase('k.keyed-m')
    const res = await as(ladder.user, {
      method: 'POST',
      url: '/api/chat/completions',
      payload: {
        model: 'k.keyed-m',
        messages: [{ role: 'user', content: 'hi' }],
        stream: false,
        temperature: 0.5,
        id: 'msg-1',
        parent_id: 'msg-0',
        user_message: { id: 'msg-0', content: 'hi' },
        parent_message: { id: 'p' },
        folder_id: 'folder-1',
        message_ids: ['a'],
        skill_ids: ['s'],
        terminal_id: 't',
        chat_id: 'chat-1',
        session_id: 'sess-1',
        background_tasks: { title_generation: true },
        features: { web_search: false },
        variables: { '{{USER_NAME}}': 'x' },
        tool_servers: [],
        tool_ids: ['t1'],
        filter_ids: ['f1'],
        files: [],
        model_item: { id: 'k.keyed-m' },
        params: { function_calling: 'native', stream_response: true },
      },
    })
    expect(res.statusCode, res.body).toBe(200)
    const sent = keyed.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)?.body
    expect(sent).toEqual({ model: 'keyed-m', messages: [{ role: 'user', content: 'hi' }], stream: false, temperature: 0.5 })
  })

  it('answers unknown paths under /api, /openai and /ollama with a JSON 404, never the web app', async () => {
    for (const url of ['/api', '/api/nope', '/api/v1/nope', '/openai', '/openai/nope', '/openai/config/nope', '/ollama', '/ollama/api/tags', '/ollama/nope']) {
      const res = await as(h.admin, { method: 'GET', url })
      expect(res.statusCode, url).toBe(404)
      expect(res.headers['content-type'], url).toContain('application/json')
      expectError(res, 404, 'NOT_FOUND')
    }
  })

  it('never shows a key in any answer or log line', () => {
    for (const secret of [KEY, OLLAMA_KEY, ENV_KEY]) {
      expect(answers.filter((body) => body.includes(secret))).toEqual([])
      expect(lines.filter((line) => line.includes(secret))).toEqual([])
    }
  })
})
