import { z } from 'zod'
import { KNOWN_PARAMS, ModelIdSchema } from '../models/models.schema.js'
import { text } from '../schema/common.js'

const { system: _system, custom_params: _custom, locked: _locked, ...REQUEST_PARAMS } = KNOWN_PARAMS

/** An OpenAI chat request: the fields modelgate reads are checked, everything else passes through. */
export const ChatRequestSchema = z.looseObject({
  model: ModelIdSchema.describe('A preset id, or a provider model id you may use.'),
  messages: z.array(z.looseObject({ role: text().min(1), content: z.unknown() })).min(1, 'must hold at least one message'),
  stream: z.boolean().optional(),
  ...REQUEST_PARAMS,
})

/**
 * The same contract as a loose object schema, checked faster: such a schema has no check that spans two
 * fields, so a body passes it exactly when each field of its shape passes its own schema (an absent one
 * as `undefined`). This checks only the fields present (which absent fields refuse `undefined` is known up
 * front) and builds the output as zod does (the shape's fields in its order, then the others as sent).
 * Undefined means "not known to pass": the full schema then decides and names every failure. (Measured
 * in the running server: the chat body's full parse runs the 26 params' checks on `undefined` each time.)
 */
export function fieldwiseCheck(schema: z.ZodObject<z.core.$ZodShape>): (data: unknown) => { value: Record<string, unknown> } | undefined {
  const def = schema._zod.def
  if ((def.checks?.length ?? 0) > 0 || def.catchall?._zod.def.type !== 'unknown') throw new Error('fieldwiseCheck: a loose object without checks only')
  const fields = Object.entries(def.shape)
  const required = new Set(fields.filter(([, field]) => !z.safeParse(field, undefined).success).map(([key]) => key))
  return (data) => {
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined
    const body = data as Record<string, unknown>
    const value: Record<string, unknown> = {}
    for (const [key, field] of fields) {
      if (!Object.hasOwn(body, key)) {
        if (required.has(key)) return undefined
        continue
      }
      const result = z.safeParse(field, body[key])
      if (!result.success) return undefined
      value[key] = result.data
    }
    for (const key of Object.keys(body)) {
      // An own `__proto__` key (JSON.parse makes one) would set the output's prototype: zod decides.
      if (key === '__proto__') return undefined
      if (!Object.hasOwn(def.shape, key)) value[key] = body[key]
    }
    return { value }
  }
}

const RuntimeFunctionSchema = z.object({ id: z.string(), name: z.string(), description: z.null(), icon: z.null() })

export const RuntimeModelSchema = z.object({
  id: z.string(),
  name: z.string(),
  object: z.literal('model'),
  created: z.number(),
  owned_by: z.string(),
  connection_id: z.string().nullable(),
  preset: z.boolean(),
  base_model_id: z.string().nullable(),
  base_model_missing: z.boolean(),
  info: z.record(z.string(), z.unknown()).nullable(),
  tags: z.array(z.looseObject({ name: z.string() })).describe("meta.tags, then the connection's tags; extra keys (color) kept."),
  connection_type: z.enum(['local', 'external']).nullable().describe("Open WebUI's: the connection's (a preset's: its base's); null when unserved."),
  urlIdx: z.number().int().optional().describe("Open WebUI's index of the connection among those of its kind (provider models only)."),
  actions: z.array(RuntimeFunctionSchema).describe('meta.actionIds as items (ids only: modelgate runs no functions).'),
  filters: z.array(RuntimeFunctionSchema).describe('meta.filterIds as items (ids only).'),
})

export const OpenAiModelSchema = z.object({
  id: z.string(),
  object: z.literal('model'),
  created: z.number(),
  owned_by: z.string(),
  name: z.string(),
})

/**
 * An error event of a chat stream (`data: {"error": …}`): a provider that broke off or reported an
 * error mid-stream (chat.service.ts). Every other event is the provider's own chunk, relayed as is.
 */
export const ChatStreamErrorEventSchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.literal('provider_error'),
    code: z.enum(['PROVIDER_ERROR', 'PROVIDER_TIMEOUT']),
    request_id: z.string().optional(),
  }),
})

export const ChatStreamSchema = z
  .string()
  .describe(
    "Server-sent events: the provider's chunks (`data: {…chat.completion.chunk…}`, then `data: [DONE]`), relayed as is; " +
      'a provider fault mid-stream ends it with `data: {"error": {message, type: "provider_error", code, request_id}}`.',
  )

/**
 * An OpenAI Responses API request (`POST /v1/responses`): the fields modelgate reads are checked, the rest
 * passes through (or is translated, for a provider that speaks only chat completions:
 * responses-translate.ts, which names a field it cannot translate in a 400).
 */
export const ResponsesRequestSchema = z.looseObject({
  model: ModelIdSchema.describe('A preset id, or a provider model id you may use.'),
  input: z
    .union([z.string(), z.array(z.looseObject({}))])
    .describe('A string (one user message), or input items: messages ({role, content}), function_call, function_call_output.'),
  instructions: z.string().nullish(),
  stream: z.boolean().optional(),
  max_output_tokens: z.number().int().positive().nullish(),
  temperature: REQUEST_PARAMS.temperature,
  top_p: REQUEST_PARAMS.top_p,
  tools: z.array(z.looseObject({ type: text().min(1) })).optional(),
})

/** The Response object (`object: "response"`), translated from a chat completion or the provider's own. */
export const ResponseObjectSchema = z
  .looseObject({
    id: z.string(),
    object: z.literal('response'),
    created_at: z.number(),
    status: z.string(),
    model: z.string().describe('The id you called (a preset id), never the provider’s.'),
    output: z.array(z.looseObject({ type: z.string() })),
    usage: z.looseObject({}).nullable().optional(),
  })
  .describe("A Response: the provider's own when it speaks the Responses API, else translated from its chat completion.")

export const ResponsesStreamSchema = z
  .string()
  .describe(
    'Server-sent events of the Responses API (`event: <type>` and `data: {type, sequence_number, …}`): response.created, response.in_progress, ' +
      'response.output_item.added, response.content_part.added, response.output_text.delta, response.output_text.done, response.content_part.done, ' +
      'response.function_call_arguments.delta/.done, response.output_item.done, then response.completed (or response.incomplete); ' +
      'a provider fault mid-stream ends it with `{type: "error", code, message, request_id}`.',
  )

/** `POST /v1/embeddings`: passed through with the model resolved. */
export const EmbeddingsRequestSchema = z.looseObject({
  model: ModelIdSchema.describe('A preset id (its base model embeds), or a provider model id you may use.'),
  input: z.union([z.string(), z.array(z.unknown()).min(1, 'must hold at least one input')]).describe('A string, or a list of strings or token arrays.'),
})

/** `POST /v1/completions` (legacy text completions): passed through with the preset's params applied. */
export const CompletionsRequestSchema = z.looseObject({
  model: ModelIdSchema.describe('A preset id (its params applied, not its system prompt), or a provider model id you may use.'),
  prompt: z.union([z.string(), z.array(z.unknown())]),
  stream: z.boolean().optional(),
  ...REQUEST_PARAMS,
})

export const RelayedJsonSchema = z.unknown().describe("The provider's answer, as it sent it, with `model` set to the id you called.")
export const RelayedStreamSchema = z
  .string()
  .describe("Server-sent events: the provider's, each with `model` set to the id you called; a fault mid-stream ends it with an error event.")
