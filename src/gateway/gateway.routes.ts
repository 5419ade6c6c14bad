/**
 * The runtime model list (`/api/models`, Open WebUI's) and the OpenAI-compatible endpoints
 * (`/v1/models`, `/v1/chat/completions`, also `/api/chat/completions`, `/v1/responses`,
 * `/v1/embeddings`, `/v1/completions`).
 */
import { Readable } from 'node:stream'
import { z } from 'zod'
import { accountOf, BEARER, callerOf, sendJsonText, validationFormatter, type App, type Guards } from '../http/route-kit.js'
import { modelNotFound } from '../access/access.service.js'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyRouteSchemaDef } from 'fastify/types/schema.js'
import type { ChatAnswer, ChatContext, ChatService } from './chat.service.js'
import {
  fieldwiseCheck,
  ChatRequestSchema,
  ChatStreamSchema,
  CompletionsRequestSchema,
  EmbeddingsRequestSchema,
  OpenAiModelSchema,
  RelayedJsonSchema,
  RelayedStreamSchema,
  ResponseObjectSchema,
  ResponsesRequestSchema,
  ResponsesStreamSchema,
  RuntimeModelSchema,
} from './gateway.schema.js'
import { ModelIdSchema } from '../models/models.schema.js'
import { toOpenAiModel, type RuntimeModelsService } from './runtime-models.service.js'
import { incomingTrace } from './trace-context.js'
import { CallerGone } from '../providers/provider-client.js'
import { validatorCompiler } from '../http/validation.js'
import { findUnstorableText } from '../schema/common.js'

export function registerGatewayRoutes(app: App, deps: { runtime: RuntimeModelsService; chat: ChatService; guards: Guards }): void {
  const { runtime, chat, guards } = deps

  for (const url of ['/api/models', '/api/v1/models', '/api/v1/models/']) {
    app.get(url, {
      onRequest: guards.verified,
      schema: {
        tags: ['gateway'],
        security: BEARER,
        summary: 'The models you may use now: provider models and active presets ({data: [...]}). Admins may pass refresh=true.',
        querystring: z.object({ refresh: z.stringbool().default(false) }),
        response: { 200: z.object({ data: z.array(RuntimeModelSchema) }) },
      },
      handler: async (request, reply) => {
        const account = accountOf(request)
        if (request.query.refresh) await runtime.refreshFor(account)
        // Pre-serialized (cached) JSON of the response schema's type (checked against it under test).
        return sendJsonText(reply, await runtime.listJson(account, 'runtime'))
      },
    })
  }

  app.get('/api/models/base', {
    onRequest: guards.admin,
    schema: {
      tags: ['gateway'],
      security: BEARER,
      summary: 'Admin: the raw provider model list.',
      response: {
        200: z.object({
          data: z.array(
            z.object({ id: z.string(), upstream_id: z.string(), name: z.string(), owned_by: z.string(), created: z.number(), connection_id: z.string() }),
          ),
        }),
      },
    },
    handler: async () => ({ data: [...(await runtime.providerModels())] }),
  })

  app.get('/v1/models', {
    onRequest: guards.verified,
    schema: {
      tags: ['openai'],
      security: BEARER,
      summary: 'OpenAI model list: the models you may call.',
      response: { 200: z.object({ object: z.literal('list'), data: z.array(OpenAiModelSchema) }) },
    },
    handler: async (request, reply) => sendJsonText(reply, await runtime.listJson(accountOf(request), 'openai')),
  })

  // Model ids may contain "/" (meta-llama/Llama-3.1-8B), so the rest of the path is the id. Fastify has
  // already percent-decoded it, once: decoding again would turn `a%252Fb` into `a/b` and `%25` into a 500.
  app.get('/v1/models/*', {
    onRequest: guards.verified,
    schema: {
      tags: ['openai'],
      security: BEARER,
      summary: 'OpenAI model retrieve.',
      params: z.object({ '*': ModelIdSchema.describe('The model id, percent-encoded once ("/" may stay as is).') }),
      response: { 200: OpenAiModelSchema },
    },
    handler: async (request) => {
      const id = request.params['*']
      const model = (await runtime.list(accountOf(request))).find((m) => m.id === id && !m.base_model_missing)
      if (!model) throw modelNotFound(id)
      return toOpenAiModel(model)
    },
  })

  for (const url of ['/v1/chat/completions', '/api/chat/completions', '/api/v1/chat/completions']) {
    app.post(url, {
      onRequest: guards.verified,
      schemaErrorFormatter: paramsFormatter,
      validatorCompiler: chatValidatorCompiler,
      schema: {
        tags: ['openai'],
        security: BEARER,
        summary: 'OpenAI chat completion through a preset (its params, locks and system prompt applied) or a provider model. Streams with stream=true.',
        body: ChatRequestSchema,
        response: {
          // The provider's status and answer, relayed (test/streams.test.ts checks the stream).
          '2xx': {
            description: "The provider's answer: a chat completion, or with stream=true server-sent events.",
            content: {
              'application/json': { schema: z.unknown().describe("The provider's chat completion, as it sent it.") },
              'text/event-stream': { schema: ChatStreamSchema },
            },
          },
        },
      },
      handler: (request, reply) => answer(request, reply, (signal, context) => chat.complete(callerOf(request), request.body, signal, context)),
    })
  }

  const openAiCall = (summary: string, body: z.ZodType, json: z.ZodType, stream: z.ZodType, formatter = validationFormatter()) => ({
    onRequest: guards.verified,
    schemaErrorFormatter: formatter,
    schema: {
      tags: ['openai'],
      security: BEARER,
      summary,
      body,
      response: {
        '2xx': {
          description: 'The answer, or with stream=true server-sent events.',
          content: { 'application/json': { schema: json }, 'text/event-stream': { schema: stream } },
        },
      },
    },
  })

  app.post(
    '/v1/responses',
    openAiCall(
      'OpenAI Responses API through a preset (its params, locks and system prompt applied) or a provider model: passed through to providers that speak it, translated to chat completions for the others. Streams with stream=true.',
      ResponsesRequestSchema,
      ResponseObjectSchema,
      ResponsesStreamSchema,
      paramsFormatter,
    ),
    (request, reply) =>
      answer(request, reply, (signal, context) => chat.respond(callerOf(request), request.body as z.infer<typeof ResponsesRequestSchema>, signal, context)),
  )

  app.post(
    '/v1/embeddings',
    openAiCall(
      'OpenAI embeddings of a model you may use (a preset embeds with its base model), passed through.',
      EmbeddingsRequestSchema,
      RelayedJsonSchema,
      RelayedStreamSchema,
    ),
    (request, reply) =>
      answer(request, reply, (signal, context) =>
        chat.passThrough(callerOf(request), '/embeddings', request.body as z.infer<typeof EmbeddingsRequestSchema>, signal, context),
      ),
  )

  app.post(
    '/v1/completions',
    openAiCall(
      'OpenAI legacy text completion of a model you may use (a preset: its base model with its params), passed through. Streams with stream=true.',
      CompletionsRequestSchema,
      RelayedJsonSchema,
      RelayedStreamSchema,
      paramsFormatter,
    ),
    (request, reply) =>
      answer(request, reply, (signal, context) =>
        chat.passThrough(callerOf(request), '/completions', request.body as z.infer<typeof CompletionsRequestSchema>, signal, context),
      ),
  )
}

const chatBodyCheck = fieldwiseCheck(ChatRequestSchema)

/**
 * The app's validator (http/validation.ts), with ChatRequestSchema checked field by field first
 * (gateway.schema.ts, `fieldwiseCheck`: the same contract, only the fields sent). A body that fails either
 * that or the text check goes to the full validator, which answers exactly as before.
 */
const chatValidatorCompiler = <S>(route: FastifyRouteSchemaDef<S>) => {
  const full = validatorCompiler(route as unknown as FastifyRouteSchemaDef<z.ZodType>)
  if (route.httpPart !== 'body') return full
  return (data: unknown) => {
    const checked = findUnstorableText(data).length === 0 ? chatBodyCheck(data) : undefined
    return checked ?? full(data)
  }
}

/** Request fields other than the model and the conversation are parameters: INVALID_PARAMS names them. */
const paramsFormatter = validationFormatter(
  (path, carried) => carried ?? (path[0] && !['model', 'messages', 'input', 'prompt'].includes(String(path[0])) ? 'INVALID_PARAMS' : 'VALIDATION_ERROR'),
)

/**
 * Runs a provider call for the request and sends its answer: JSON as is, a stream chunk by chunk. The
 * caller hanging up cancels the provider call.
 */
async function answer(
  request: FastifyRequest,
  reply: FastifyReply,
  run: (signal: CallerGone, context: ChatContext) => Promise<ChatAnswer>,
): Promise<FastifyReply> {
  const callerGone = new CallerGone()
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) callerGone.abort(new Error('caller disconnected'))
  })
  let result: ChatAnswer
  try {
    result = await run(callerGone, {
      requestId: request.id,
      onStreamFault: (fault) => request.log.warn({ err: fault }, 'provider stream failed'),
      ...traceOf(request.headers),
    })
  } catch (error) {
    // Nobody is listening any more: nothing to answer, nothing went wrong on our side.
    if (callerGone.aborted) {
      request.log.debug('caller hung up before the provider answered')
      return reply
    }
    throw error
  }
  // Serialized here: the route's 2xx JSON schema is `unknown`, so the serializer would only check nothing and stringify.
  if (result.kind === 'json') return reply.status(result.status).type('application/json; charset=utf-8').send(JSON.stringify(result.body))
  void reply.status(result.status).headers({
    'content-type': result.contentType,
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  })
  return reply.send(result.chunks instanceof Readable ? result.chunks : Readable.from(result.chunks, { objectMode: false }))
}

/** The caller's trace context (W3C `traceparent`), when it sent a valid one. */
function traceOf(headers: FastifyRequest['headers']): { trace?: NonNullable<ChatContext['trace']> } {
  const trace = incomingTrace(headers)
  return trace ? { trace } : {}
}
