/**
 * Attack-minded review of issue #14 (Open WebUI admin parity), as the least-privileged account would try
 * it through HTTP: the `token` cookie where it must not count, credentials that outlive their revocation,
 * the user directory as an oracle of emails and roles, groups that are not one's own, connection keys in
 * answers, odd bodies and concurrent admin saves that must never answer 500. Each test states the
 * behaviour the review expects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGroup } from './support/accounts.js'
import { DIALECTS } from './support/databases.js'
import { PASSWORD, createHarness, type Harness, type TestAccount } from './support/harness.js'
import { bearer, expectError } from './support/requests.js'

const API = '/api/v1'
const cookie = (value: string) => ({ cookie: `token=${encodeURIComponent(value)}` })

describe.each(DIALECTS)('review: Open WebUI parity on %s', { timeout: 120_000 }, (dialect) => {
  let h: Harness
  let mallory: TestAccount
  let alice: TestAccount

  beforeAll(async () => {
    h = await createHarness(dialect)
    mallory = await h.createUser('user', 'Mallory')
    alice = await h.createUser('user', 'Alice')
  })
  afterAll(async () => h?.close())

  const get = (who: TestAccount | undefined, url: string, headers: Record<string, string> = {}, query?: Record<string, string>) =>
    h.request({ method: 'GET', url, headers: { ...(who && who.auth), ...headers }, ...(query && { query }) })
  const post = (who: TestAccount | undefined, url: string, payload: unknown) => h.send(who, { method: 'POST', url, payload })

  describe('the user directory', () => {
    it('a non-admin cannot sort the search by email or role: the hidden fields leak no order', async () => {
      const tag = `Probe${Math.random().toString(36).slice(2, 8)}`
      // Names sort one way, emails the other way, roles a third: each order is recognisable.
      const accounts = [
        { name: `${tag} A`, email: `zz-${tag.toLowerCase()}@example.com`, role: 'admin' },
        { name: `${tag} B`, email: `mm-${tag.toLowerCase()}@example.com`, role: 'user' },
        { name: `${tag} C`, email: `aa-${tag.toLowerCase()}@example.com`, role: 'pending' },
      ]
      for (const a of accounts) {
        const res = await post(h.admin, `${API}/auths/add`, { ...a, password: PASSWORD })
        expect(res.statusCode, res.body).toBe(200)
      }
      const search = async (who: TestAccount, order_by: string, direction = 'asc') => {
        const res = await get(who, `${API}/users/search`, {}, { query: tag, order_by, direction })
        expect(res.statusCode, res.body).toBe(200)
        return (res.json().users as { name: string }[]).map((u) => u.name)
      }
      // Admins may sort by anything.
      expect(await search(h.admin, 'email')).toEqual([`${tag} C`, `${tag} B`, `${tag} A`])
      // Others: the order never follows a field they may not read.
      const byName = await search(mallory, 'name')
      expect(byName).toEqual([`${tag} A`, `${tag} B`, `${tag} C`])
      for (const field of ['email', 'role', 'updated_at', 'last_active_at']) {
        expect(await search(mallory, field), field).toEqual(byName)
        expect(await search(mallory, field, 'desc'), field).toEqual([...byName].reverse())
      }
    })

    it("a non-admin learns no other account's email, role or groups from any user route", async () => {
      const group = await createGroup(h, `Alice private ${Math.random().toString(36).slice(2, 8)}`, undefined, [alice.id])
      const routes = [
        `${API}/users/search?query=Alice`,
        `${API}/users/${alice.id}/info`,
        `${API}/users/${alice.id}/groups`,
        `${API}/users/groups`,
        `${API}/groups/`,
        `${API}/groups/?share=true`,
        `${API}/groups/?share=false`,
        `${API}/groups/id/${group}/info`,
      ]
      for (const url of routes) {
        const res = await get(mallory, url)
        expect(res.statusCode, `${url} ${res.body}`).toBeLessThan(500)
        expect(res.body, url).not.toContain(alice.email)
        expect(res.body, url).not.toContain(h.admin.email)
        // The group's id may only come back as the caller's own input (the 404's text names what was asked).
        if (!url.includes(group)) expect(res.body, url).not.toContain(group)
      }
      // A group one is not in reads exactly as one that does not exist.
      const detail = async (id: string) => (await get(mallory, `${API}/groups/id/${id}/info`)).json<{ detail: string }>().detail.replace(id, 'X')
      expect(await detail(group)).toBe(await detail('no-such-group'))
    })

    it('a group offered to everyone (data.config.share: true) is not listed to a non-member, nor are its members', async () => {
      const open = await post(h.admin, `${API}/groups/create`, { name: 'Open share', data: { config: { share: true } }, user_ids: [alice.id] })
      expect(open.statusCode, open.body).toBe(200)
      const listed = await get(mallory, `${API}/groups/`, {}, { share: 'true' })
      expect(listed.statusCode, listed.body).toBe(200)
      expect(listed.json<{ id: string }[]>().map((g) => g.id)).not.toContain(open.json<{ id: string }>().id)
    })

    it('the profile route changes only name and picture: never role, email or password', async () => {
      const victim = await h.createUser('user', 'Profile Owner')
      const res = await post(victim, `${API}/auths/update/profile`, {
        name: 'Renamed',
        role: 'admin',
        email: 'takeover@example.com',
        password: 'attacker-password-1',
        token_version: 0,
      })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json()).toMatchObject({ name: 'Renamed', role: 'user', email: victim.email })
      const signin = await post(undefined, `${API}/auths/signin`, { email: victim.email, password: PASSWORD })
      expect(signin.statusCode).toBe(200)
      expect(signin.json().role).toBe('user')
    })
  })

  describe('the token cookie and revoked credentials', () => {
    it('the cookie is accepted by the session check and the picture only; an API key in the cookie by none', async () => {
      const reads = [
        `${API}/users/groups`,
        `${API}/users/search?query=a`,
        `${API}/groups/`,
        `${API}/templates/list`,
        `${API}/models/list`,
        `${API}/models/export`,
        `${API}/configs/models/defaults`,
        `${API}/configs/models`,
        `${API}/auths/admin/config`,
        `${API}/auths/admin/details`,
        `${API}/auths/api_key`,
        '/openai/config',
        '/ollama/config',
        '/api/models',
        '/v1/models',
      ]
      for (const url of reads) {
        for (const who of [mallory, h.admin]) {
          const res = await get(undefined, url, cookie(who.token))
          expect(res.statusCode, `${url} ${res.body}`).toBe(401)
        }
      }
      expect((await get(undefined, `${API}/auths/`, cookie(mallory.token))).statusCode).toBe(200)
      const key = (await post(mallory, `${API}/auths/api_key`, undefined)).json().api_key as string
      expect((await get(undefined, `${API}/auths/`, bearer(key))).statusCode).toBe(200)
      expectError(await get(undefined, `${API}/auths/`, cookie(key)), 401, 'UNAUTHORIZED')
      expect((await get(undefined, `${API}/models/model/profile/image?id=nothing`, cookie(key))).statusCode).toBe(401)
    })

    it('login CSRF: a cross-site form (text/plain or urlencoded) cannot sign a browser in, nor set the cookie', async () => {
      const victimOfLogin = await h.createUser('user', 'Login Target')
      const bodies = [
        { type: 'text/plain', payload: JSON.stringify({ email: victimOfLogin.email, password: PASSWORD }) },
        { type: 'application/x-www-form-urlencoded', payload: `email=${encodeURIComponent(victimOfLogin.email)}&password=${PASSWORD}` },
        { type: 'multipart/form-data; boundary=x', payload: `--x\r\nContent-Disposition: form-data; name="email"\r\n\r\n${victimOfLogin.email}\r\n--x--` },
      ]
      for (const url of [`${API}/auths/signin`, `${API}/auths/signup`]) {
        for (const { type, payload } of bodies) {
          const res = await h.request({ method: 'POST', url, headers: { 'content-type': type, origin: 'https://evil.example' }, payload })
          expect(res.statusCode, `${url} ${type} ${res.body}`).toBe(415)
          expect(res.headers['set-cookie'], `${url} ${type}`).toBeUndefined()
        }
      }
    })

    it("after a password change, another session's token is refused in the header and in the cookie", async () => {
      const owner = await h.createUser('user', 'Changer')
      const other = await post(undefined, `${API}/auths/signin`, { email: owner.email, password: PASSWORD })
      const stolen = other.json().token as string
      expect((await get(undefined, `${API}/auths/`, cookie(stolen))).statusCode).toBe(200)
      const changed = await post(owner, `${API}/auths/update/password`, { password: PASSWORD, new_password: 'another-password-2' })
      expect(changed.statusCode, changed.body).toBe(200)
      expectError(await get(undefined, `${API}/auths/`, bearer(stolen)), 401, 'UNAUTHORIZED')
      expectError(await get(undefined, `${API}/auths/`, cookie(stolen)), 401, 'UNAUTHORIZED')
      expect((await get(undefined, `${API}/models/model/profile/image?id=x`, cookie(stolen))).statusCode).toBe(401)
      // The stolen session cannot change the password back either.
      expectError(
        await h.request({
          method: 'POST',
          url: `${API}/auths/update/password`,
          headers: bearer(stolen),
          payload: { password: 'another-password-2', new_password: 'x-password-33' },
        }),
        401,
        'UNAUTHORIZED',
      )
    })

    it('API keys switched off by the admin are refused everywhere they were accepted, and come back when switched on', async () => {
      const holder = await h.createUser('user', 'Key Holder')
      const key = (await post(holder, `${API}/auths/api_key`, undefined)).json().api_key as string
      const urls = [`${API}/auths/`, `${API}/models/list`, '/api/models', '/v1/models', `${API}/users/groups`]
      for (const url of urls) expect((await get(undefined, url, bearer(key))).statusCode, url).toBe(200)
      expect((await post(h.admin, `${API}/auths/admin/config`, { ENABLE_API_KEY: false })).statusCode).toBe(200)
      try {
        for (const url of urls) expectError(await get(undefined, url, bearer(key)), 403, 'ACCESS_PROHIBITED')
        expectError(await post(holder, `${API}/auths/api_key`, undefined), 403, 'ACCESS_PROHIBITED')
        // Not through the signout route's audit either, nor as the cookie.
        expectError(await get(undefined, `${API}/auths/`, cookie(key)), 401, 'UNAUTHORIZED')
      } finally {
        expect((await post(h.admin, `${API}/auths/admin/config`, { ENABLE_API_KEYS: true })).statusCode).toBe(200)
      }
      expect((await get(undefined, `${API}/auths/`, bearer(key))).statusCode).toBe(200)
    })
  })

  describe('connections', () => {
    it('a short provider key is never shown in part: its hint hides it whole (Open WebUI view and connections API)', async () => {
      const config = (await get(h.admin, '/openai/config')).json()
      const shortKey = 'llama-key9'
      const mediumKey = 'sk-abcdefghijk'
      const body = {
        ...config,
        OPENAI_API_BASE_URLS: [...config.OPENAI_API_BASE_URLS, 'http://127.0.0.1:9/short/v1', 'http://127.0.0.1:9/medium/v1'],
        OPENAI_API_KEYS: [...config.OPENAI_API_KEYS, shortKey, mediumKey],
        OPENAI_API_CONFIGS: {},
      }
      const saved = await post(h.admin, '/openai/config/update', body)
      expect(saved.statusCode, saved.body).toBe(200)
      const answers = [saved.body, (await get(h.admin, '/openai/config')).body, (await get(h.admin, `${API}/connections/`)).body]
      for (const text of answers) {
        for (const secret of [shortKey, mediumKey]) {
          // Not the key, nor any 4 characters of it beyond a public "sk-" prefix.
          const secretPart = secret.replace(/^sk-/, '')
          for (let i = 0; i + 4 <= secretPart.length; i++) expect(text, secretPart.slice(i, i + 4)).not.toContain(secretPart.slice(i, i + 4))
        }
      }
      // Posted back as read, the keys are kept (the hint still identifies the connection by its URL).
      const again = await post(h.admin, '/openai/config/update', (await get(h.admin, '/openai/config')).json())
      expect(again.statusCode, again.body).toBe(200)
      const audit = await get(h.admin, `${API}/audit?action=connection.*`)
      for (const secret of [shortKey, mediumKey]) expect(audit.body).not.toContain(secret)
    })

    it("a masked key cannot be pointed at another connection's URL by verify", async () => {
      const config = (await get(h.admin, '/openai/config')).json<{ OPENAI_API_BASE_URLS: string[]; OPENAI_API_KEYS: string[] }>()
      const hintOf = (url: string) => config.OPENAI_API_KEYS[config.OPENAI_API_BASE_URLS.indexOf(url)]
      const res = await post(h.admin, '/openai/verify', { url: 'http://127.0.0.1:9/elsewhere/v1', key: hintOf('http://127.0.0.1:9/medium/v1') })
      expectError(res, 400, 'VALIDATION_ERROR')
    })

    it('odd connection bodies answer 4xx, never 500', async () => {
      const bodies: [string, unknown][] = [
        ['/openai/config/update', null],
        ['/openai/config/update', { OPENAI_API_BASE_URLS: 'http://x', OPENAI_API_KEYS: [], OPENAI_API_CONFIGS: {} }],
        [
          '/openai/config/update',
          { OPENAI_API_BASE_URLS: Array.from({ length: 101 }, (_, i) => `http://h${i}.example`), OPENAI_API_KEYS: [], OPENAI_API_CONFIGS: {} },
        ],
        ['/openai/config/update', { OPENAI_API_BASE_URLS: ['javascript:alert(1)'], OPENAI_API_KEYS: [''], OPENAI_API_CONFIGS: {} }],
        ['/openai/config/update', { OPENAI_API_BASE_URLS: ['http://\u{1F600}.example'], OPENAI_API_KEYS: [null], OPENAI_API_CONFIGS: {} }],
        [
          '/openai/config/update',
          { OPENAI_API_BASE_URLS: ['http://ok.example/v1'], OPENAI_API_KEYS: ['k'], OPENAI_API_CONFIGS: { '0': { model_ids: [1, {}] } } },
        ],
        [
          '/openai/config/update',
          { OPENAI_API_BASE_URLS: ['http://ok.example/v1'], OPENAI_API_KEYS: ['k'], OPENAI_API_CONFIGS: { '0': { tags: [{ name: '' }] } } },
        ],
        [
          '/openai/config/update',
          { OPENAI_API_BASE_URLS: ['http://ok.example/v1'], OPENAI_API_KEYS: ['k'], OPENAI_API_CONFIGS: { '0': { prefix_id: 'a b/c' } } },
        ],
        ['/openai/config/update', { OPENAI_API_BASE_URLS: ['http://ok.example/v1'], OPENAI_API_KEYS: ['…'], OPENAI_API_CONFIGS: { '0': 'x' } }],
        ['/ollama/config/update', { OLLAMA_BASE_URLS: ['http://ok.example'], OLLAMA_API_CONFIGS: { '0': { key: 5 } } }],
        ['/openai/verify', { url: '' }],
        ['/openai/verify', { url: 'file:///etc/passwd', key: 'x' }],
        ['/ollama/verify', { url: 'gopher://x', key: null }],
      ]
      const before = (await get(h.admin, '/openai/config')).body
      for (const [url, payload] of bodies) {
        const res = await h.send(h.admin, { method: 'POST', url, payload: JSON.stringify(payload), headers: { 'content-type': 'application/json' } })
        expect(res.statusCode, `${url} ${JSON.stringify(payload).slice(0, 100)} → ${res.body}`).toBeGreaterThanOrEqual(400)
        expect(res.statusCode, `${url} → ${res.body}`).toBeLessThan(500)
      }
      expect((await get(h.admin, '/openai/config')).body).toBe(before)
      for (const url of ['/openai/models/1001', '/openai/models/-1', '/openai/models/abc', '/openai/models/99']) {
        const res = await get(h.admin, url)
        expect(res.statusCode, `${url} ${res.body}`).toBeGreaterThanOrEqual(400)
        expect(res.statusCode, `${url} ${res.body}`).toBeLessThan(500)
      }
    })
  })

  describe('admin settings and model configuration', () => {
    it('odd admin config, default permissions and model configuration bodies answer 4xx, never 500', async () => {
      const cases: [string, unknown][] = [
        [`${API}/auths/admin/config`, { JWT_EXPIRES_IN: '9999999w' }],
        [`${API}/auths/admin/config`, { JWT_EXPIRES_IN: '0s' }],
        [`${API}/auths/admin/config`, { JWT_EXPIRES_IN: 3600 }],
        [`${API}/auths/admin/config`, { DEFAULT_USER_ROLE: 'root' }],
        [`${API}/auths/admin/config`, { ENABLE_SIGNUP: 'yes' }],
        [`${API}/auths/admin/config`, '{"__proto__": {"ENABLE_SIGNUP": true}}'],
        [`${API}/auths/admin/config`, '{"constructor": {"prototype": {"ENABLE_SIGNUP": true}}}'],
        [`${API}/auths/admin/config`, { WEBUI_URL: { nested: true } }],
        [`${API}/auths/admin/config`, { lowercase: 1 }],
        [`${API}/auths/admin/config`, Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`EXTRA_${i}`, i]))],
        [`${API}/auths/admin/config`, { WEBUI_URL: 'x'.repeat(10_001) }],
        [`${API}/users/default/permissions`, { workspace: { models: 'true' } }],
        [`${API}/users/default/permissions`, []],
        [`${API}/configs/models`, { MODEL_ORDER_LIST: Array.from({ length: 10_001 }, (_, i) => `m${i}`) }],
        [`${API}/configs/models`, { MODEL_ORDER_LIST: ['ok', null] }],
        [`${API}/configs/models`, { DEFAULT_MODELS: 'x'.repeat(65_537) }],
        [`${API}/configs/models`, { DEFAULT_MODEL_PARAMS: { temperature: 9 } }],
        [`${API}/configs/models`, { DEFAULT_MODEL_METADATA: { tags: Array.from({ length: 101 }, (_, i) => `t${i}`) } }],
        [`${API}/configs/models`, { DEFAULT_MODEL_PARAMS: [] }],
      ]
      for (const [url, payload] of cases) {
        const text = typeof payload === 'string' ? payload : JSON.stringify(payload)
        const res = await h.send(h.admin, { method: 'POST', url, payload: text, headers: { 'content-type': 'application/json' } })
        expect(res.statusCode, `${url} ${text.slice(0, 80)} → ${res.body}`).toBeGreaterThanOrEqual(400)
        expect(res.statusCode, `${url} → ${res.body}`).toBeLessThan(500)
      }
      // A user may not read the model configuration, only the defaults of a new preset (which name no model).
      expectError(await get(mallory, `${API}/configs/models`), 403, 'ACCESS_PROHIBITED')
      const saved = await post(h.admin, `${API}/configs/models`, { DEFAULT_MODELS: 'private-admin-model', MODEL_ORDER_LIST: ['private-admin-model'] })
      expect(saved.statusCode, saved.body).toBe(200)
      const defaults = await get(mallory, `${API}/configs/models/defaults`)
      expect(defaults.statusCode).toBe(200)
      expect(defaults.body).not.toContain('private-admin-model')
    })

    it('concurrent admin saves never answer 500 and leave one of the saved values', async () => {
      const saves = Array.from({ length: 12 }, (_, i) =>
        post(h.admin, `${API}/auths/admin/config`, { ENABLE_SIGNUP: i % 2 === 0, JWT_EXPIRES_IN: `${i + 1}h`, [`REVIEW_KEY_${i}`]: i }),
      )
      const perms = Array.from({ length: 6 }, (_, i) => post(h.admin, `${API}/users/default/permissions`, { workspace: { models: i % 2 === 0 } }))
      const configs = Array.from({ length: 6 }, (_, i) => post(h.admin, `${API}/configs/models`, { DEFAULT_PINNED_MODELS: `pin-${i}` }))
      const answers = await Promise.all([...saves, ...perms, ...configs])
      for (const res of answers) expect(res.statusCode, res.body).toBe(200)
      const config = (await get(h.admin, `${API}/auths/admin/config`)).json()
      // Every save merged over the one before it: all the kept keys are there.
      for (let i = 0; i < 12; i++) expect(config[`REVIEW_KEY_${i}`]).toBe(i)
      expect(config.JWT_EXPIRES_IN).toMatch(/^\d+h$/)
      expect((await get(h.admin, `${API}/configs/models`)).json().DEFAULT_PINNED_MODELS).toMatch(/^pin-\d$/)
    })
  })

  describe('both access forms on update', () => {
    it('a user without sharing.public_models cannot publish by sending access_control null beside the echoed access_grants', async () => {
      await h.shareBase('base-llm')
      const creator = await h.createUser('user', 'Creator')
      await createGroup(h, `Creators ${Math.random().toString(36).slice(2, 8)}`, { workspace: { models: true }, sharing: { models: true } }, [creator.id])
      const id = `forms-${Math.random().toString(36).slice(2, 8)}`
      const created = await post(creator, `${API}/models/create`, { id, base_model_id: 'base-llm', name: 'Private', meta: {}, params: {} })
      expect(created.statusCode, created.body).toBe(200)
      const model = (await get(creator, `${API}/models/model?id=${id}`)).json()
      for (const url of [`${API}/models/model/update`, `${API}/models/model/access/update`]) {
        expectError(await post(creator, url, { ...model, access_control: null }), 403, 'ACCESS_PROHIBITED')
      }
      expect((await get(mallory, `${API}/models/model?id=${id}`)).statusCode).toBe(404)
    })
  })
})
