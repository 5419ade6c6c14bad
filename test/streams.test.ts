/**
 * Streamed answers against their declared schemas (issue #11): the export (a JSON array streamed one
 * model at a time) and chat's server-sent events, collected whole and validated. Also: the answer check
 * of http/response-schemas.ts does catch an answer that is not what its route declares.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { ChatStreamErrorEventSchema } from '../src/gateway/gateway.schema.js'
import Fastify from 'fastify'
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import { checkResponses, declareErrorResponses, jsonAnswerProblem, streamMismatches } from '../src/http/response-schemas.js'
import { sendJsonText } from '../src/http/route-kit.js'
import { toJsonText } from '../src/schema/json-text.js'
import { ModelResponseSchema } from '../src/models/models.schema.js'
import { DIALECTS } from './support/databases.js'
import { startFakeProvider, type FakeProvider } from './support/fake-provider.js'
import { createHarness, type Harness } from './support/harness.js'

/** The `data:` payloads of an SSE body, in order. */
const sseData = (body: string) =>
  body
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice('data:'.length).trim())

const ChunkSchema = z.looseObject({ object: z.literal('chat.completion.chunk'), choices: z.array(z.unknown()) })

describe.each(DIALECTS)('streamed answers on %s', (dialect) => {
  let h: Harness
  let provider: FakeProvider

  beforeAll(async () => {
    h = await createHarness(dialect)
    provider = await startFakeProvider({ models: ['stream-base'] })
    const connected = await h.request({
      method: 'POST',
      url: '/api/v1/connections/create',
      headers: h.admin.auth,
      payload: { name: 'fake', base_url: provider.baseUrl },
    })
    expect(connected.statusCode, connected.body).toBe(200)
    for (const id of ['s-1', 's-2', 's-3']) {
      const res = await h.request({
        method: 'POST',
        url: '/api/v1/models/create',
        headers: h.admin.auth,
        payload: {
          id,
          base_model_id: 'stream-base',
          name: id,
          meta: { tags: ['t'], description: 'd' },
          params: { temperature: 0.5 },
          access_grants: [{ principal_type: 'user', principal_id: '*', permission: 'read' }],
        },
      })
      expect(res.statusCode, res.body).toBe(200)
    }
  })
  afterAll(async () => {
    await h.close()
    await provider.close()
  })

  it('the export (GET and POST) is what its route declares, checked whole when the stream ends', async () => {
    for (const method of ['GET', 'POST'] as const) {
      const res = await h.request({ method, url: '/api/v1/models/export', headers: h.admin.auth })
      expect(res.statusCode).toBe(200)
      expect(
        z
          .array(ModelResponseSchema)
          .parse(res.json())
          .map((m) => m.id)
          .sort(),
      ).toEqual(['s-1', 's-2', 's-3'])
    }
    expect(streamMismatches).toEqual([])
  })

  it("a chat stream is the provider's chunks, then [DONE]", async () => {
    provider.setBehavior('ok')
    const res = await h.request({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: h.admin.auth,
      payload: { model: 's-1', stream: true, messages: [{ role: 'user', content: 'hi' }] },
    })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/)
    const data = sseData(res.body)
    expect(data.at(-1)).toBe('[DONE]')
    for (const event of data.slice(0, -1)) ChunkSchema.parse(JSON.parse(event))
  })

  it('a provider error mid-stream becomes our declared error event', async () => {
    provider.setBehavior('errorEvent')
    const res = await h.request({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: h.admin.auth,
      payload: { model: 's-1', stream: true, messages: [{ role: 'user', content: 'hi' }] },
    })
    expect(res.statusCode).toBe(200)
    const events = sseData(res.body)
      .filter((event) => event !== '[DONE]')
      .map((event) => JSON.parse(event) as Record<string, unknown>)
    const errors = events.filter((event) => 'error' in event)
    expect(errors).toHaveLength(1)
    expect(ChatStreamErrorEventSchema.parse(errors[0]).error.code).toBe('PROVIDER_ERROR')
    for (const event of events.filter((e) => !('error' in e))) ChunkSchema.parse(event)
    provider.setBehavior('ok')
  })
})

describe('the answer check', () => {
  const response = { 200: z.object({ items: z.array(z.object({ id: z.string() })), total: z.number() }) }

  it('accepts an answer that matches the schema of its status', () => {
    expect(jsonAnswerProblem(response, 200, 'application/json', '{"items":[{"id":"a"}],"total":1}')).toBeUndefined()
  })

  it('names a wrong type, a field the schema does not declare, a status without a schema, and non-JSON', () => {
    expect(jsonAnswerProblem(response, 200, 'application/json', '{"items":[{"id":1}],"total":1}')).toMatch(/items\[0\]\.id|items.0.id/)
    expect(jsonAnswerProblem(response, 200, 'application/json', '{"items":[{"id":"a","secret":"x"}],"total":1}')).toBe(
      'fields the schema does not declare: items[0].secret',
    )
    expect(jsonAnswerProblem(response, 404, 'application/json', '{"detail":"x","code":"NOT_FOUND"}')).toMatch(/no response schema for status 404/)
    expect(jsonAnswerProblem(response, 200, 'application/json', '{"items":')).toBe('the body is not JSON')
  })

  it('fails a request whose prebuilt answer does not match (500), and passes one that does', async () => {
    const app = Fastify({ logger: false }).withTypeProvider<ZodTypeProvider>()
    app.setValidatorCompiler(validatorCompiler)
    app.setSerializerCompiler(serializerCompiler)
    app.addHook('onRoute', declareErrorResponses)
    checkResponses(app)
    app.get('/page', {
      schema: { querystring: z.object({ wrong: z.stringbool().default(false) }), response },
      handler: (request, reply) => {
        // A prebuilt string that the serializer never sees: only the check can catch it.
        sendJsonText(reply, toJsonText(request.query.wrong ? { items: [{ id: 7 }], total: 1 } : { items: [{ id: 'a' }], total: 1 }))
      },
    })
    await app.ready()
    const errors: unknown[] = []
    const original = console.error
    console.error = (...args: unknown[]) => void errors.push(args)
    try {
      expect((await app.inject({ url: '/page' })).statusCode).toBe(200)
      const wrong = await app.inject({ url: '/page?wrong=true' })
      expect(wrong.statusCode).toBe(500)
      expect(String(errors[0])).toMatch(/GET \/page\?wrong=true \(200\) does not match its schema/)
    } finally {
      console.error = original
      await app.close()
    }
  })
})
