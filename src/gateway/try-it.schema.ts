/**
 * `POST /api/v1/models/model/try` (issue #16 item 2): a short conversation with a model through the
 * gateway, as the web's *Try it* panel holds it, answered as server-sent events that also say what the
 * provider received and when the first token came.
 */
import { z } from 'zod'
import { ModelIdSchema, ParamsSchema } from '../models/models.schema.js'
import { text } from '../schema/common.js'

/** Messages of one try: plain text turns (the panel sends nothing else). */
export const TRY_MAX_MESSAGES = 50
export const TRY_MAX_MESSAGE_CHARS = 32_000

export const TryMessageSchema = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: text().max(TRY_MAX_MESSAGE_CHARS, `must be at most ${TRY_MAX_MESSAGE_CHARS} characters`),
})
export type TryMessage = z.infer<typeof TryMessageSchema>

/** The editor's unsaved fields that change what the provider receives. */
export const TryDraftSchema = z.object({
  base_model_id: ModelIdSchema.nullable().describe('The base model the draft would use; null: the model id itself (an override row of a provider model).'),
  params: ParamsSchema.describe('The draft parameters (system prompt included), as the editor would save them.'),
})
export type TryDraft = z.infer<typeof TryDraftSchema>

export const TryBodySchema = z
  .object({
    id: ModelIdSchema.optional().describe('The model to try (read access is enough). Without a draft it is tried as saved.'),
    draft: TryDraftSchema.optional().describe(
      'Unsaved edits tried instead of the saved preset: needs write access to `id`, or, without `id` (a model not created yet), the workspace.models permission.',
    ),
    messages: z.array(TryMessageSchema).min(1, 'must hold at least one message').max(TRY_MAX_MESSAGES, `at most ${TRY_MAX_MESSAGES} messages`),
  })
  .superRefine((body, ctx) => {
    if (body.id === undefined && body.draft === undefined) ctx.addIssue({ code: 'custom', path: ['id'], message: 'name a model (id), a draft, or both' })
  })
export type TryBody = z.infer<typeof TryBodySchema>

/** What the provider received, as the caller may see it: no credential, no provider URL for non-admins. */
export const ProviderRequestReportSchema = z.object({
  connection: z.string().describe("The connection's name."),
  url: z.string().nullable().describe('Administrators: the URL called, redacted (docs/gateway.md); null for everyone else.'),
  path: z.string().describe('The path under the connection’s OpenAI API (`/chat/completions`).'),
  body: z.record(z.string(), z.unknown()).describe('The exact body sent: system prompt and merged parameters; secrets of the connection redacted.'),
})
export type ProviderRequestReport = z.infer<typeof ProviderRequestReportSchema>

export const TryEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('request'),
    model: z.string().nullable(),
    draft: z.boolean().describe('The unsaved draft was tried, not the saved preset.'),
    request: ProviderRequestReportSchema,
  }),
  z.object({ type: z.literal('first_token'), ms: z.number().describe('Milliseconds from sending the request to the first token.') }),
  z.object({ type: z.literal('delta'), content: z.string() }),
  z.object({
    type: z.literal('done'),
    ms: z.number().describe('Milliseconds from sending the request to the end of the answer.'),
    first_token_ms: z.number().nullable(),
    finish_reason: z.string().nullable(),
  }),
  z.object({ type: z.literal('error'), code: z.string(), message: z.string() }),
])
export type TryEvent = z.infer<typeof TryEventSchema>

export const TryStreamSchema = z
  .string()
  .describe(
    'Server-sent events, one JSON object per `data:` line: `request` (what the provider received), `first_token` ({ms}), ' +
      '`delta` ({content}) as the answer streams, then `done` ({ms, first_token_ms, finish_reason}) or `error` ({code, message}).',
  )
