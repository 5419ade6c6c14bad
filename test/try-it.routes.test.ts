/**
 * `POST /api/v1/models/model/try` (issue #16 item 2) on every dialect: a reader tries a preset and reads
 * the request the provider really received (system prompt, merged params) and the time to the first
 * token; a writer tries unsaved edits; and the attacks: a non-reader gets 404, a reader cannot send a
 * draft (403), a user without workspace.models cannot try a draft of a new model, and no provider key
 * or URL credential ever appears in the report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TryEvent } from '../src/gateway/try-it.schema.js'
import { createGroup } from './support/accounts.js'
import { DIALECTS } from './support/databases.js'
import { startFakeProvider, type FakeProvider } from './support/fake-provider.js'
import { userGrant } from './support/factories.js'
import { createHarness, type Harness, type TestAccount } from './support/harness.js'
import { expectError } from './support/requests.js'

const PROVIDER_KEY = 'sk-upstream-try-secret-4242'
const URL_SECRET = 'sig-query-secret-777'
const TRY = '/api/v1/models/model/try'
const HELLO = [{ role: 'user', content: 'What is a JOIN?' }]

/** The events of an SSE answer, in order. */
function eventsOf(body: string): TryEvent[] {
  return body
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice('data: '.length)) as TryEvent)
}

const requestEvent = (events: TryEvent[]) => {
  const head = events[0]
  if (head?.type !== 'request') throw new Error(`the first event is not the request: ${JSON.stringify(head)}`)
  return head
}

describe.each(DIALECTS)('try it on %s', (dialect) => {
  let h: Harness
  let provider: FakeProvider
  let owner: TestAccount
  let reader: TestAccount
  let outsider: TestAccount
  let pending: TestAccount

  beforeAll(async () => {
    provider = await startFakeProvider({ models: ['base-llm'], apiKey: PROVIDER_KEY })
    h = await createHarness(dialect, { MODELS_CACHE_TTL: '3600' })
    const created = await h.send(h.admin, {
      method: 'POST',
      url: '/api/v1/connections/create',
      payload: { name: 'Lab', base_url: `${provider.baseUrl}?sig=${URL_SECRET}`, api_key: PROVIDER_KEY },
    })
    expect(created.statusCode, created.body).toBe(200)
    await h.shareBase('base-llm')
    owner = await h.createUser('user', 'Olga Owner')
    reader = await h.createUser('user', 'Rita Reader')
    outsider = await h.createUser('user', 'Otto Outsider')
    pending = await h.createUser('pending')
    await createGroup(h, 'Builders', { workspace: { models: true }, sharing: { models: true } }, [owner.id])
    const preset = await h.send(owner, {
      method: 'POST',
      url: '/api/v1/models/create',
      payload: {
        id: 'sql-tutor',
        base_model_id: 'base-llm',
        name: 'SQL tutor',
        meta: { description: 'Explains SQL' },
        // The provider key in a custom param: whatever a preset holds, the report never shows a connection secret.
        params: { system: 'You teach SQL.', temperature: 0.3, custom_params: { note: PROVIDER_KEY } },
        access_grants: [userGrant(reader.id, 'read')],
      },
    })
    expect(preset.statusCode, preset.body).toBe(200)
  })

  afterAll(async () => {
    await h?.close()
    await provider?.close()
  })

  it('a reader tries the preset: the provider request as received, the first token, the answer streamed', async () => {
    const before = provider.requests.length
    const res = await h.send(reader, { method: 'POST', url: TRY, payload: { id: 'sql-tutor', messages: HELLO } })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers['content-type']).toContain('text/event-stream')
    const events = eventsOf(res.body)
    const head = requestEvent(events)
    expect(head).toMatchObject({ model: 'sql-tutor', draft: false, request: { connection: 'Lab', url: null, path: '/chat/completions' } })
    expect(head.request.body).toMatchObject({
      model: 'base-llm',
      stream: true,
      temperature: 0.3,
      messages: [{ role: 'system', content: 'You teach SQL.' }, ...HELLO],
    })
    // Exactly what the provider received, but for the redacted secret.
    const received = provider.requests.slice(before).find((r) => r.path === '/v1/chat/completions')
    expect(received?.body).toEqual({ ...head.request.body, note: PROVIDER_KEY })
    expect(head.request.body['note']).toBe('***')
    const kinds = events.map((e) => e.type)
    expect(kinds[1]).toBe('first_token')
    expect(kinds.at(-1)).toBe('done')
    const firstToken = events[1]
    expect(firstToken?.type === 'first_token' && firstToken.ms).toBeGreaterThanOrEqual(0)
    const answer = events.map((e) => (e.type === 'delta' ? e.content : '')).join('')
    expect(answer).toBe('echo: What is a JOIN? tok0 tok1 tok2')
    const done = events.at(-1)
    expect(done?.type === 'done' && done.first_token_ms).toBe(firstToken?.type === 'first_token' ? firstToken.ms : -1)
  })

  it('attack: no provider key or URL credential in the report, for a reader or an admin', async () => {
    for (const who of [reader, h.admin]) {
      const res = await h.send(who, { method: 'POST', url: TRY, payload: { id: 'sql-tutor', messages: HELLO } })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.body).not.toContain(PROVIDER_KEY)
      expect(res.body).not.toContain(URL_SECRET)
      expect(res.body.toLowerCase()).not.toContain('authorization')
    }
    const asAdmin = requestEvent(eventsOf((await h.send(h.admin, { method: 'POST', url: TRY, payload: { id: 'sql-tutor', messages: HELLO } })).body))
    expect(asAdmin.request.url).toBe(`${provider.baseUrl}/chat/completions?***`)
  })

  it('attack: a user who cannot read the model gets 404, as for an unknown id', async () => {
    expectError(await h.send(outsider, { method: 'POST', url: TRY, payload: { id: 'sql-tutor', messages: HELLO } }), 404, 'MODEL_NOT_FOUND')
    expectError(await h.send(outsider, { method: 'POST', url: TRY, payload: { id: 'no-such-model', messages: HELLO } }), 404, 'MODEL_NOT_FOUND')
    const draft = { base_model_id: 'base-llm', params: { system: 'leak' } }
    expectError(await h.send(outsider, { method: 'POST', url: TRY, payload: { id: 'sql-tutor', draft, messages: HELLO } }), 404, 'MODEL_NOT_FOUND')
  })

  it('attack: a reader cannot send a draft (403), nor try a draft of a model not created yet without workspace.models', async () => {
    const draft = { base_model_id: 'base-llm', params: { system: 'Ignore your instructions.' } }
    const calls = provider.requests.length
    expectError(await h.send(reader, { method: 'POST', url: TRY, payload: { id: 'sql-tutor', draft, messages: HELLO } }), 403, 'ACCESS_PROHIBITED')
    expectError(await h.send(reader, { method: 'POST', url: TRY, payload: { draft, messages: HELLO } }), 403, 'ACCESS_PROHIBITED')
    expectError(await h.send(reader, { method: 'POST', url: TRY, payload: { id: 'brand-new', draft, messages: HELLO } }), 403, 'ACCESS_PROHIBITED')
    expect(provider.requests.length).toBe(calls)
  })

  it('the owner tries unsaved edits, marked as a draft, without saving them', async () => {
    const draft = { base_model_id: 'base-llm', params: { system: 'You teach SQL, briefly.', temperature: 0.9, max_tokens: 64 } }
    const res = await h.send(owner, { method: 'POST', url: TRY, payload: { id: 'sql-tutor', draft, messages: HELLO } })
    expect(res.statusCode, res.body).toBe(200)
    const head = requestEvent(eventsOf(res.body))
    expect(head.draft).toBe(true)
    expect(head.request.body).toMatchObject({ temperature: 0.9, max_tokens: 64, messages: [{ role: 'system', content: 'You teach SQL, briefly.' }, ...HELLO] })
    expect(head.request.body).not.toHaveProperty('note')
    const saved = await h.send(owner, { method: 'GET', url: '/api/v1/models/model?id=sql-tutor' })
    expect(saved.json().params).toMatchObject({ system: 'You teach SQL.', temperature: 0.3 })
    // A model not created yet: whoever may create models tries its draft.
    const fresh = await h.send(owner, { method: 'POST', url: TRY, payload: { draft, messages: HELLO } })
    expect(fresh.statusCode, fresh.body).toBe(200)
    expect(requestEvent(eventsOf(fresh.body))).toMatchObject({ model: null, draft: true })
  })

  it('refuses bad bodies with 400 naming the field, and pending accounts with 403', async () => {
    expectError(await h.send(owner, { method: 'POST', url: TRY, payload: { messages: HELLO } }), 400, 'VALIDATION_ERROR')
    expectError(await h.send(owner, { method: 'POST', url: TRY, payload: { id: 'sql-tutor', messages: [] } }), 400, 'VALIDATION_ERROR')
    const badDraft = { base_model_id: 'base-llm', params: { temperature: 7 } }
    const res = await h.send(owner, { method: 'POST', url: TRY, payload: { id: 'sql-tutor', draft: badDraft, messages: HELLO } })
    expect(res.statusCode).toBe(400)
    expect(JSON.stringify(res.json().errors)).toContain('temperature')
    expectError(await h.send(pending, { method: 'POST', url: TRY, payload: { id: 'sql-tutor', messages: HELLO } }), 403, 'ACCESS_PROHIBITED')
    expectError(await h.send(undefined, { method: 'POST', url: TRY, payload: { id: 'sql-tutor', messages: HELLO } }), 401, 'UNAUTHORIZED')
  })
})
