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
  tags: z.array(z.object({ name: z.string() })),
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
