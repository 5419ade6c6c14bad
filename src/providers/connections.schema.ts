import { z } from 'zod'
import { epochSecondsSchema, idText, lineText, text } from '../schema/common.js'

export const BaseUrlSchema = text()
  .trim()
  .max(2000)
  .refine((url) => {
    try {
      const parsed = new URL(url)
      return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && !parsed.username && !parsed.password
    } catch {
      return false
    }
  }, 'must be an http(s) URL without credentials (put the key in api_key)')
  .transform((url) => url.replace(/\/+$/, ''))
  .describe('OpenAI-compatible: the URL /models and /chat/completions hang off (e.g. http://host:8000/v1). Ollama: its root URL.')

export const PrefixSchema = text()
  .trim()
  .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1 to 32 letters, digits, _ or -')
  .nullish()
  .describe('Shown before the provider\'s model ids as "<prefix>.<id>".')

/** Open WebUI's `model_ids`: OpenAI kind, the ids served without asking the provider; Ollama kind, an allowlist. */
export const ModelIdsSchema = z
  .array(text().trim().min(1).max(256))
  .max(1000)
  .describe('OpenAI kind: the models served as listed, without asking the provider; Ollama kind: an allowlist. Empty: what the provider lists.')

/** Open WebUI's connection tags: `[{name, …}]` (strings become `{name}`), extra keys kept. */
export const ConnectionTagsSchema = z
  .array(z.union([text().trim().min(1).max(100), z.looseObject({ name: text().trim().min(1).max(100) })]))
  .max(100)
  .transform((tags) => tags.map((tag) => (typeof tag === 'string' ? { name: tag } : tag)))
  .describe('Added to every model of the connection in the runtime list.')

export const ConnectionTypeSchema = z.enum(['local', 'external']).describe('What Open WebUI shows; defaults: Ollama local, OpenAI external.')

export const ConnectionCreateSchema = z.object({
  name: lineText(100).optional().describe('Defaults to the URL host.'),
  kind: z.enum(['openai', 'ollama']).default('openai'),
  base_url: BaseUrlSchema,
  api_key: text().min(1).max(4000).nullish().describe('Sent as a bearer token to the provider; stored encrypted, never returned.'),
  prefix_id: PrefixSchema,
  enabled: z.boolean().default(true),
  model_ids: ModelIdsSchema.optional(),
  tags: ConnectionTagsSchema.optional(),
  connection_type: ConnectionTypeSchema.nullish(),
})
export type ConnectionCreate = z.infer<typeof ConnectionCreateSchema>

export const ConnectionUpdateSchema = z.object({
  name: lineText(100).optional(),
  base_url: BaseUrlSchema.optional(),
  api_key: text().min(1).max(4000).nullish().describe('A new key; null removes the key; absent keeps it.'),
  prefix_id: PrefixSchema,
  enabled: z.boolean().optional(),
  model_ids: ModelIdsSchema.optional(),
  tags: ConnectionTagsSchema.optional(),
  connection_type: ConnectionTypeSchema.nullish().describe("null: the kind's default."),
})
export type ConnectionUpdate = z.infer<typeof ConnectionUpdateSchema>

export const ConnectionIdParamsSchema = z.object({ id: idText(100) })

export const ConnectionStatusSchema = z.object({
  ok: z.boolean().nullable().describe('null until the first fetch ends.'),
  stale: z.boolean(),
  model_count: z.number().int(),
  error: z.string().nullable(),
  fetched_at: epochSecondsSchema.nullable(),
})

export const ConnectionResponseSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(['openai', 'ollama']),
  base_url: z.string(),
  prefix_id: z.string().nullable(),
  enabled: z.boolean(),
  source: z.enum(['api', 'env']).describe('env: given by OPENAI_API_BASE_URLS / OLLAMA_BASE_URLS, read-only here.'),
  key_hint: z.string().nullable(),
  model_ids: z.array(z.string()),
  tags: z.array(z.looseObject({ name: z.string() })),
  connection_type: ConnectionTypeSchema,
  created_at: epochSecondsSchema,
  updated_at: epochSecondsSchema,
  status: ConnectionStatusSchema,
})
export type ConnectionResponse = z.infer<typeof ConnectionResponseSchema>

export const ConnectionTestSchema = z.object({
  ok: z.boolean(),
  model_count: z.number().int(),
  models: z.array(z.string()),
  error: z.string().nullable(),
  latency_ms: z.number(),
})
export type ConnectionTest = z.infer<typeof ConnectionTestSchema>

export const ProviderModelResponseSchema = z.object({ id: z.string(), name: z.string(), owned_by: z.string() })
