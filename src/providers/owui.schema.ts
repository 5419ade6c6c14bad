/** Open WebUI's connection settings (`/openai/*`, `/ollama/*`): its shapes, on modelgate's connections. */
import { z } from 'zod'
import { text } from '../schema/common.js'

/**
 * One connection's config as Open WebUI posts it. The keys modelgate keeps are checked where they are
 * applied (owui-connections.ts, each failure a 400 naming its place); the others Open WebUI may send
 * (`auth_type`, `headers`, `azure`, `api_version`, …) are accepted and not stored (docs/compat.md).
 */
export const OwuiConnectionConfigSchema = z.looseObject({
  enable: z.boolean().nullish(),
  key: text().max(4000).nullish().describe('Ollama only: the key; its hint as read back means "keep the stored key".'),
  prefix_id: text().max(100).nullish(),
  model_ids: z.array(z.unknown()).nullish(),
  tags: z.array(z.unknown()).nullish(),
  connection_type: text().max(20).nullish(),
})
export type OwuiConnectionConfig = z.infer<typeof OwuiConnectionConfigSchema>

const ConfigsSchema = z.record(text().max(2100), OwuiConnectionConfigSchema).describe('By index ("0", "1", …) or, as Open WebUI\'s legacy form, by URL.')
const UrlsSchema = z.array(text().max(2000)).max(100)

export const OpenAiConfigUpdateSchema = z.looseObject({
  ENABLE_OPENAI_API: z.boolean().nullish(),
  OPENAI_API_BASE_URLS: UrlsSchema,
  OPENAI_API_KEYS: z.array(text().max(4000)).max(100).describe('By position; a key\'s hint as read back means "keep the stored key"; "" means no key.'),
  OPENAI_API_CONFIGS: ConfigsSchema,
  ENABLE_API_DEBUG_LOGGING: z.boolean().nullish().describe('Accepted and ignored.'),
})
export type OpenAiConfigUpdate = z.infer<typeof OpenAiConfigUpdateSchema>

export const OllamaConfigUpdateSchema = z.looseObject({
  ENABLE_OLLAMA_API: z.boolean().nullish(),
  OLLAMA_BASE_URLS: UrlsSchema,
  OLLAMA_API_CONFIGS: ConfigsSchema,
})
export type OllamaConfigUpdate = z.infer<typeof OllamaConfigUpdateSchema>

const TagSchema = z.looseObject({ name: z.string() })
const ConfigAnswerSchema = z.object({
  enable: z.boolean(),
  tags: z.array(TagSchema),
  prefix_id: z.string(),
  model_ids: z.array(z.string()),
  connection_type: z.enum(['local', 'external']),
})

export const OpenAiConfigSchema = z.object({
  ENABLE_OPENAI_API: z.boolean(),
  OPENAI_API_BASE_URLS: z.array(z.string()).describe('Redacted (credentials and query strings as ***); posted back unchanged, the stored URL is kept.'),
  OPENAI_API_KEYS: z.array(z.string()).describe('Never the keys: their hints ("sk-a…wxyz"), "" for none.'),
  OPENAI_API_CONFIGS: z.record(z.string(), ConfigAnswerSchema),
})

export const OllamaConfigSchema = z.object({
  ENABLE_OLLAMA_API: z.boolean(),
  OLLAMA_BASE_URLS: z.array(z.string()),
  OLLAMA_API_CONFIGS: z.record(z.string(), ConfigAnswerSchema.extend({ key: z.string().optional().describe("The key's hint, never the key.") })),
})

export const VerifySchema = z.looseObject({
  url: text().min(1).max(2000),
  key: text().max(4000).nullish(),
  config: z.record(z.string(), z.unknown()).nullish(),
})

const ListedModelSchema = z.object({ id: z.string(), object: z.literal('model'), created: z.number(), owned_by: z.string(), name: z.string() })
export const ProviderListSchema = z.object({ object: z.literal('list'), data: z.array(ListedModelSchema) })

export const OpenAiModelsSchema = z.object({
  data: z.array(
    ListedModelSchema.extend({
      owned_by: z.literal('openai'),
      connection_type: z.enum(['local', 'external']),
      urlIdx: z.number().int(),
      tags: z.array(TagSchema).optional(),
    }),
  ),
})

export const OllamaVersionSchema = z.object({ version: z.string() })

export const UrlIdxParamsSchema = z.object({ idx: z.coerce.number().int().min(0).max(1000) })
