/**
 * Issue #16 item 8: the gateway for every OpenAI client. Real clients (the official `openai` client,
 * the Vercel AI SDK's default calls, LangChain's ChatOpenAI) drive a modelgate listening on 127.0.0.1
 * against fake providers: one that speaks only chat completions (the Responses API translated), one
 * that speaks the Responses API (passed through). Presets apply as for chat, answers carry the id
 * called, and the least-privileged callers are refused in the OpenAI error shape.
 */
import type { AddressInfo } from 'node:net'
import { createOpenAI } from '@ai-sdk/openai'
import { ChatOpenAI } from '@langchain/openai'
import { generateText, streamText } from 'ai'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { startFakeProvider, type FakeProvider, type RecordedRequest } from './support/fake-provider.js'
import { createHarness, type Harness, type TestAccount } from './support/harness.js'

const READ_BY = (userId: string) => [{ principal_type: 'user', principal_id: userId, permission: 'read' }]

describe.each(DIALECTS)('OpenAI clients through the gateway on %s', (dialect) => {
  let h: Harness
  let chatOnly: FakeProvider
  let speaks: FakeProvider
  let baseURL: string
  let member: TestAccount
  let outsider: TestAccount
  let memberKey: string
  let client: OpenAI

  /** What a provider received on `path` since `from` (an index into its requests). */
  const received = (provider: FakeProvider, path: string, from = 0): RecordedRequest[] => provider.requests.slice(from).filter((r) => r.path === path)
  const lastBody = (provider: FakeProvider, path: string) => received(provider, path).at(-1)?.body ?? {}

  beforeAll(async () => {
    chatOnly = await startFakeProvider({ models: ['chat-base', 'embed-base'] })
    speaks = await startFakeProvider({ models: ['resp-base'], responsesApi: true })
    h = await createHarness(dialect)
    await h.app.listen({ port: 0, host: '127.0.0.1' })
    baseURL = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}/v1`
    member = await h.createUser('user', 'Member')
    outsider = await h.createUser('user', 'Outsider')
    const key = await h.send(member, { method: 'POST', url: '/api/v1/auths/api_key' })
    expect(key.statusCode, key.body).toBe(200)
    memberKey = key.json<{ api_key: string }>().api_key
    client = new OpenAI({ baseURL, apiKey: memberKey, maxRetries: 0 })

    for (const [name, provider] of [
      ['Chat only', chatOnly],
      ['Speaks responses', speaks],
    ] as const) {
      const res = await h.send(h.admin, { method: 'POST', url: '/api/v1/connections/create', payload: { name, kind: 'openai', base_url: provider.baseUrl } })
      expect(res.statusCode, res.body).toBe(200)
    }
    const presets = [
      {
        id: 'helper',
        base_model_id: 'chat-base',
        name: 'Helper',
        params: { system: 'You are terse.', temperature: 0.3, max_tokens: 50, locked: ['temperature'], custom_params: { seed: '7' } },
        access_grants: READ_BY(member.id),
      },
      { id: 'embedder', base_model_id: 'embed-base', name: 'Embedder', params: { temperature: 0.1 }, access_grants: READ_BY(member.id) },
      {
        id: 'resp-helper',
        base_model_id: 'resp-base',
        name: 'Responses helper',
        params: { system: 'Be brief.', max_tokens: 40, top_p: 0.5, stop: ['x'], locked: ['top_p'] },
        access_grants: READ_BY(member.id),
      },
      // Nobody but the admin may read it.
      { id: 'secret', base_model_id: 'chat-base', name: 'Secret', params: { system: 'secret prompt' }, access_grants: [] },
    ]
    for (const preset of presets) {
      const res = await h.send(h.admin, { method: 'POST', url: '/api/v1/models/create', payload: { meta: {}, ...preset } })
      expect(res.statusCode, res.body).toBe(200)
    }
  })

  afterAll(async () => {
    await h?.close()
    await chatOnly?.close()
    await speaks?.close()
  })

  describe('the official openai client', () => {
    it('chats through a preset: the answer carries the preset id, the provider got the preset applied', async () => {
      const completion = await client.chat.completions.create({ model: 'helper', temperature: 0.9, messages: [{ role: 'user', content: 'hi' }] })
      expect(completion.model).toBe('helper')
      expect(completion.choices[0]?.message.content).toBe('echo: hi')
      expect(lastBody(chatOnly, '/v1/chat/completions')).toMatchObject({
        model: 'chat-base',
        temperature: 0.3,
        max_tokens: 50,
        seed: 7,
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: 'hi' },
        ],
      })
    })

    it('streams a chat with the preset id in every chunk', async () => {
      const stream = await client.chat.completions.create({ model: 'helper', stream: true, messages: [{ role: 'user', content: 'yo' }] })
      const models = new Set<string>()
      let text = ''
      for await (const chunk of stream) {
        models.add(chunk.model)
        text += chunk.choices[0]?.delta.content ?? ''
      }
      expect([...models]).toEqual(['helper'])
      expect(text).toBe('echo: yo tok0 tok1 tok2')
    })

    it('creates a response through a chat-only provider: translated both ways, the preset applied as for chat', async () => {
      const from = chatOnly.requests.length
      const response = await client.responses.create({
        model: 'helper',
        instructions: 'Answer in English.',
        input: [
          { role: 'user', content: 'first' },
          { type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'answer', annotations: [] }] },
          { role: 'user', content: [{ type: 'input_text', text: 'second' }] },
        ],
        temperature: 0.9,
        max_output_tokens: 20,
      })
      expect(response).toMatchObject({ object: 'response', status: 'completed', model: 'helper' })
      expect(response.output_text).toBe('echo: second')
      expect(response.usage).toMatchObject({ input_tokens: 1, output_tokens: 1, total_tokens: 2 })
      // Tried once on /responses (no such route), then through chat completions with the preset applied.
      expect(received(chatOnly, '/v1/responses', from)).toHaveLength(1)
      expect(received(chatOnly, '/v1/chat/completions', from)).toHaveLength(1)
      expect(lastBody(chatOnly, '/v1/chat/completions')).toEqual({
        model: 'chat-base',
        messages: [
          { role: 'system', content: 'You are terse.\n\nAnswer in English.' },
          { role: 'user', content: 'first' },
          { role: 'assistant', content: 'answer' },
          { role: 'user', content: 'second' },
        ],
        temperature: 0.3, // locked by the preset
        max_tokens: 20, // the request's own value wins over the preset's default
        seed: 7,
      })
      // The connection is now known to speak chat only: no second try.
      const again = chatOnly.requests.length
      await client.responses.create({ model: 'helper', input: 'once more' })
      expect(received(chatOnly, '/v1/responses', again)).toHaveLength(0)
    })

    it('streams a response through a chat-only provider as the Responses API events', async () => {
      const stream = client.responses.stream({ model: 'helper', input: 'stream me' })
      const types: string[] = []
      let deltas = ''
      for await (const event of stream) {
        types.push(event.type)
        if (event.type === 'response.output_text.delta') deltas += event.delta
      }
      const final = await stream.finalResponse()
      expect(types.slice(0, 4)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added'])
      expect(types.slice(-4)).toEqual(['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed'])
      expect(deltas).toBe('echo: stream me tok0 tok1 tok2')
      expect(final).toMatchObject({ model: 'helper', status: 'completed', output_text: deltas })
      expect(lastBody(chatOnly, '/v1/chat/completions')).toMatchObject({ stream: true, stream_options: { include_usage: true } })
    })

    it('translates function tools: the call comes back as a function_call item, its output goes back as a tool message', async () => {
      const tools = [{ type: 'function' as const, name: 'lookup', description: 'Looks up', parameters: { type: 'object', properties: {} }, strict: false }]
      const first = await client.responses.create({ model: 'helper', input: 'find cats', tools })
      expect(first.output).toEqual([
        expect.objectContaining({ type: 'function_call', call_id: 'call_fake', name: 'lookup', arguments: '{"q":"find cats"}', status: 'completed' }),
      ])
      expect(lastBody(chatOnly, '/v1/chat/completions')['tools']).toEqual([
        { type: 'function', function: { name: 'lookup', description: 'Looks up', parameters: { type: 'object', properties: {} }, strict: false } },
      ])
      const second = await client.responses.create({
        model: 'helper',
        tools,
        input: [
          { role: 'user', content: 'find cats' },
          { type: 'function_call', call_id: 'call_fake', name: 'lookup', arguments: '{"q":"find cats"}' },
          { type: 'function_call_output', call_id: 'call_fake', output: 'three cats' },
        ],
      })
      expect(second.output_text).toBe('echo: three cats')
      expect(lastBody(chatOnly, '/v1/chat/completions')['messages']).toEqual([
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'find cats' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_fake', type: 'function', function: { name: 'lookup', arguments: '{"q":"find cats"}' } }] },
        { role: 'tool', tool_call_id: 'call_fake', content: 'three cats' },
      ])

      // Streamed, the arguments arrive in pieces and are whole in the final response.
      const stream = client.responses.stream({ model: 'helper', input: 'find dogs', tools })
      const pieces: string[] = []
      for await (const event of stream) if (event.type === 'response.function_call_arguments.delta') pieces.push(event.delta)
      expect(pieces.length).toBeGreaterThan(1)
      expect((await stream.finalResponse()).output).toEqual([expect.objectContaining({ type: 'function_call', arguments: '{"q":"find dogs"}' })])
    })

    it('passes a response through to a provider that speaks the Responses API, the preset applied in its terms', async () => {
      const response = await client.responses.create({ model: 'resp-helper', instructions: 'Use French.', input: 'bonjour', top_p: 0.9 })
      expect(response.model).toBe('resp-helper')
      expect(response.output_text).toBe('echo: bonjour')
      expect(lastBody(speaks, '/v1/responses')).toEqual({
        model: 'resp-base',
        input: 'bonjour',
        instructions: 'Be brief.\n\nUse French.',
        max_output_tokens: 40,
        top_p: 0.5, // locked
      })
      expect(received(speaks, '/v1/chat/completions')).toHaveLength(0)

      const stream = client.responses.stream({ model: 'resp-helper', input: 'salut' })
      const created: string[] = []
      for await (const event of stream) if (event.type === 'response.created' || event.type === 'response.completed') created.push(event.response.model)
      expect(created).toEqual(['resp-helper', 'resp-helper'])
      expect((await stream.finalResponse()).output_text).toBe('echo: salut')
    })

    it('embeds through a preset with its base model (the client asks for base64 and decodes it)', async () => {
      const result = await client.embeddings.create({ model: 'embedder', input: ['ab', 'abcd'] })
      expect(result.model).toBe('embedder')
      expect(result.data.map((d) => d.embedding)).toEqual([
        [4, 0.5, -0.25],
        [6, 0.5, -0.25],
      ])
      // Only the model changes: a preset's chat params mean nothing to an embedding.
      expect(lastBody(chatOnly, '/v1/embeddings')).toEqual({ model: 'embed-base', input: ['ab', 'abcd'], encoding_format: 'base64' })
    })

    it('completes text through a preset (its params, not its system prompt), whole and streamed', async () => {
      const completion = await client.completions.create({ model: 'helper', prompt: 'once upon', temperature: 1.5 })
      expect(completion.model).toBe('helper')
      expect(completion.choices[0]?.text).toBe('echo: once upon')
      expect(lastBody(chatOnly, '/v1/completions')).toEqual({ model: 'chat-base', prompt: 'once upon', temperature: 0.3, max_tokens: 50, seed: 7 })

      const stream = await client.completions.create({ model: 'helper', prompt: 'twice', stream: true })
      let text = ''
      for await (const chunk of stream) {
        expect(chunk.model).toBe('helper')
        text += chunk.choices[0]?.text ?? ''
      }
      expect(text).toBe('echo: twice more')
    })
  })

  describe('the Vercel AI SDK (default provider calls: the Responses API)', () => {
    it('generateText and streamText through a preset on a chat-only provider', async () => {
      const openai = createOpenAI({ baseURL, apiKey: memberKey })
      const from = chatOnly.requests.length
      const generated = await generateText({ model: openai('helper'), prompt: 'hello sdk', maxRetries: 0 })
      expect(generated.text).toBe('echo: hello sdk')
      expect(generated.response.modelId).toBe('helper')
      expect(generated.finishReason).toBe('stop')
      // The default call is the Responses API, translated for this provider.
      expect(lastBody(chatOnly, '/v1/chat/completions')).toMatchObject({ model: 'chat-base', temperature: 0.3 })
      expect(received(chatOnly, '/v1/chat/completions', from)).toHaveLength(1)

      const streamed = streamText({ model: openai('helper'), system: 'Be nice.', prompt: 'stream sdk', maxRetries: 0 })
      let text = ''
      for await (const delta of streamed.textStream) text += delta
      expect(text).toBe('echo: stream sdk tok0 tok1 tok2')
      expect((await streamed.response).modelId).toBe('helper')
      expect(lastBody(chatOnly, '/v1/chat/completions')['messages']).toEqual([
        { role: 'system', content: 'You are terse.\n\nBe nice.' },
        { role: 'user', content: 'stream sdk' },
      ])
    })

    it('generateText and streamText through a preset on a provider that speaks the Responses API', async () => {
      const openai = createOpenAI({ baseURL, apiKey: memberKey })
      const generated = await generateText({ model: openai('resp-helper'), prompt: 'hi', maxRetries: 0 })
      expect(generated.text).toContain('echo: ')
      expect(generated.response.modelId).toBe('resp-helper')
      expect(lastBody(speaks, '/v1/responses')).toMatchObject({ model: 'resp-base', instructions: 'Be brief.', max_output_tokens: 40 })

      const streamed = streamText({ model: openai('resp-helper'), prompt: 'hey', maxRetries: 0 })
      let text = ''
      for await (const delta of streamed.textStream) text += delta
      expect(text).toContain('hey')
    })

    it('reports a preset the caller may not read as an error, not an answer', async () => {
      const openai = createOpenAI({ baseURL, apiKey: memberKey })
      await expect(generateText({ model: openai('secret'), prompt: 'hi', maxRetries: 0 })).rejects.toMatchObject({ statusCode: 404 })
    })
  })

  describe('LangChain ChatOpenAI', () => {
    it('invokes and streams through a preset', async () => {
      const model = new ChatOpenAI({ model: 'helper', apiKey: memberKey, configuration: { baseURL }, maxRetries: 0 })
      const answer = await model.invoke('hello chain')
      expect(answer.content).toBe('echo: hello chain')
      expect(answer.response_metadata['model_name'] ?? answer.response_metadata['model']).toBe('helper')
      expect(lastBody(chatOnly, '/v1/chat/completions')).toMatchObject({ model: 'chat-base', temperature: 0.3 })

      let text = ''
      for await (const chunk of await model.stream('stream chain')) text += typeof chunk.content === 'string' ? chunk.content : ''
      expect(text).toBe('echo: stream chain tok0 tok1 tok2')
    })
  })

  describe('attacks', () => {
    const ROUTES = [
      { url: '/v1/responses', payload: (model: string) => ({ model, input: 'hi' }) },
      { url: '/v1/embeddings', payload: (model: string) => ({ model, input: 'hi' }) },
      { url: '/v1/completions', payload: (model: string) => ({ model, prompt: 'hi' }) },
    ]

    it('answers a caller who may not read a preset 404 MODEL_NOT_FOUND in the OpenAI shape, like an unknown id, on every route', async () => {
      for (const route of ROUTES) {
        const denied = await h.send(outsider, { method: 'POST', url: route.url, payload: route.payload('helper') })
        const unknown = await h.send(outsider, { method: 'POST', url: route.url, payload: route.payload('no-such-model') })
        for (const res of [denied, unknown]) {
          expect(res.statusCode, `${route.url}: ${res.body}`).toBe(404)
          expect(res.json()).toMatchObject({ code: 'MODEL_NOT_FOUND', error: { code: 'MODEL_NOT_FOUND', type: 'invalid_request_error' } })
          expect(res.body).not.toContain('You are terse')
        }
        expect(denied.json<{ detail: string }>().detail).toBe(unknown.json<{ detail: string }>().detail.replace('no-such-model', 'helper'))
      }
      // The official client reports it as NotFoundError.
      const outsiderClient = new OpenAI({ baseURL, apiKey: outsider.token, maxRetries: 0 })
      await expect(outsiderClient.responses.create({ model: 'secret', input: 'hi' })).rejects.toBeInstanceOf(OpenAI.NotFoundError)
      await expect(outsiderClient.embeddings.create({ model: 'embedder', input: 'hi' })).rejects.toBeInstanceOf(OpenAI.NotFoundError)
      await expect(outsiderClient.completions.create({ model: 'secret', prompt: 'hi' })).rejects.toBeInstanceOf(OpenAI.NotFoundError)
      // The member too, for a preset not shared with them: nothing reached a provider for it. (Calls only: a
      // background refresh of the model list, GET /models, may land in between on a loaded machine.)
      const calls = () => chatOnly.requests.filter((r) => r.method === 'POST').length
      const before = calls()
      const res = await h.send(member, { method: 'POST', url: '/v1/responses', payload: { model: 'secret', input: 'hi', stream: true } })
      expect(res.statusCode).toBe(404)
      expect(calls()).toBe(before)
    })

    it('refuses a revoked API key on every route', async () => {
      const victim = await h.createUser('user', 'Revoker')
      const created = await h.send(victim, { method: 'POST', url: '/api/v1/auths/api_key' })
      const key = created.json<{ api_key: string }>().api_key
      const asKey = { authorization: `Bearer ${key}` }
      expect((await h.request({ method: 'POST', url: '/v1/completions', headers: asKey, payload: { model: 'x', prompt: 'hi' } })).statusCode).toBe(404)
      const revoked = await h.send(victim, { method: 'DELETE', url: '/api/v1/auths/api_key' })
      expect(revoked.statusCode, revoked.body).toBe(200)
      for (const route of ROUTES) {
        const res = await h.request({ method: 'POST', url: route.url, headers: asKey, payload: route.payload('helper') })
        expect(res.statusCode, route.url).toBe(401)
        expect(res.json()).toMatchObject({ code: 'UNAUTHORIZED', error: { code: 'UNAUTHORIZED' } })
      }
    })

    it('answers huge and invalid bodies with 4xx, never 5xx', async () => {
      const huge = 'x'.repeat(2 * 1024 * 1024)
      const cases: { url: string; payload: unknown; headers?: Record<string, string>; status: number; code?: string }[] = []
      for (const route of ROUTES) {
        cases.push(
          { url: route.url, payload: route.payload(huge.slice(0, 100_000)), status: 400 },
          { url: route.url, payload: { ...route.payload('helper'), input: huge, prompt: huge }, status: 413, code: 'PAYLOAD_TOO_LARGE' },
          { url: route.url, payload: '{"model": "helper", ', headers: { 'content-type': 'application/json' }, status: 400 },
          { url: route.url, payload: [1, 2, 3], status: 400 },
          { url: route.url, payload: { model: 'helper' }, status: 400, code: 'VALIDATION_ERROR' },
          { url: route.url, payload: { ...route.payload('helper'), model: 42 }, status: 400 },
        )
      }
      const responses = (payload: Record<string, unknown>, code = 'VALIDATION_ERROR') => ({
        url: '/v1/responses',
        payload: { model: 'helper', ...payload },
        status: 400,
        code,
      })
      cases.push(
        responses({ input: 5 }),
        responses({ input: [42] }),
        responses({ input: [{ role: 'robot', content: 'hi' }] }),
        responses({ input: [{ type: 'item_reference', id: 'msg_1' }] }),
        responses({ input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] }),
        responses({ input: 'hi', previous_response_id: 'resp_1' }),
        responses({ input: 'hi', tools: [{ type: 'web_search' }] }),
        responses({ input: 'hi', tool_choice: { type: 'mystery' } }),
        responses({ input: 'hi', text: { format: { type: 'xml' } } }),
        responses({ input: 'hi', temperature: 'hot' }, 'INVALID_PARAMS'),
        responses({ input: 'hi', max_output_tokens: -1 }, 'INVALID_PARAMS'),
        { url: '/v1/completions', payload: { model: 'helper', prompt: 'hi', max_tokens: 'lots' }, status: 400, code: 'INVALID_PARAMS' },
        { url: '/v1/embeddings', payload: { model: 'embedder', input: [] }, status: 400, code: 'VALIDATION_ERROR' },
      )
      for (const c of cases) {
        const res = await h.send(member, { method: 'POST', url: c.url, payload: c.payload, ...(c.headers && { headers: c.headers }) })
        const what = `${c.url} ${JSON.stringify(c.payload).slice(0, 120)}`
        expect(res.statusCode, `${what}: ${res.body.slice(0, 300)}`).toBe(c.status)
        expect(res.json(), what).toMatchObject({ error: { message: expect.any(String) }, ...(c.code && { code: c.code }) })
      }
    })
  })
})
