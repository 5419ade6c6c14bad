/**
 * Open WebUI's model configuration (`/api/v1/configs/models`, issue #14 item 4; docs/compat.md, "Model
 * configuration"): the default and pinned models of new chats, the order of the runtime list, and the
 * meta and params every new preset starts from.
 */
import { z } from 'zod'
import { text } from '../schema/common.js'
import { MetaSchema, ModelIdSchema, ParamsSchema } from './models.schema.js'

/** At most this many ids in `MODEL_ORDER_LIST`. */
export const MODEL_ORDER_MAX = 10_000

/** Open WebUI's comma-separated list of model ids (`DEFAULT_MODELS`, `DEFAULT_PINNED_MODELS`). */
const IdListText = text().max(65_536, 'at most 65536 characters')

export const ModelsConfigSchema = z.object({
  DEFAULT_MODELS: z.string().nullable().describe('Comma-separated ids of the models a new chat starts with; null: none.'),
  DEFAULT_PINNED_MODELS: z.string().nullable().describe('Comma-separated ids of the models pinned for every user; null: none.'),
  MODEL_ORDER_LIST: z
    .array(z.string())
    .nullable()
    .describe('The order of the runtime list (`/api/models`, `/v1/models`): these ids first, in this order, the rest after.'),
  DEFAULT_MODEL_METADATA: z.record(z.string(), z.unknown()).nullable().describe('The meta a new preset starts from (its own keys win).'),
  DEFAULT_MODEL_PARAMS: z.record(z.string(), z.unknown()).nullable().describe('The params a new preset starts from (its own keys win).'),
})
export type ModelsConfig = z.infer<typeof ModelsConfigSchema>

/**
 * The body of `POST /configs/models`, as Open WebUI's `setModelsConfig` sends it. A key left out keeps
 * its value (older clients do not send the metadata and params keys); null clears it.
 */
export const ModelsConfigUpdateSchema = z.object({
  DEFAULT_MODELS: IdListText.nullish(),
  DEFAULT_PINNED_MODELS: IdListText.nullish(),
  MODEL_ORDER_LIST: z.array(ModelIdSchema).max(MODEL_ORDER_MAX, `at most ${MODEL_ORDER_MAX} ids`).nullish(),
  DEFAULT_MODEL_METADATA: MetaSchema.nullish(),
  DEFAULT_MODEL_PARAMS: ParamsSchema.nullish(),
})
export type ModelsConfigUpdate = z.infer<typeof ModelsConfigUpdateSchema>

/** `GET /configs/models/defaults`: what a new preset starts from ({} when unset). */
export const ModelDefaultsSchema = z.object({
  DEFAULT_MODEL_METADATA: z.record(z.string(), z.unknown()),
  DEFAULT_MODEL_PARAMS: z.record(z.string(), z.unknown()),
})
export type ModelDefaults = z.infer<typeof ModelDefaultsSchema>
