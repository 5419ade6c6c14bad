/** Model history's API (issue #12, docs/history.md): versions, diffs, restore, the trash, pruning. */
import { z } from 'zod'
import { epochSecondsSchema, pageQuery } from '../schema/common.js'
import { ModelIdSchema } from '../models/models.schema.js'

const versionNumber = (what: string) =>
  z.coerce
    .number({ error: 'must be an integer' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(1_000_000_000, 'must be at most 1000000000')
    .describe(what)

const pageLimit = (fallback: number) =>
  z.coerce
    .number({ error: 'must be an integer' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(100, 'must be at most 100')
    .default(fallback)
    .describe(`Page size, 1..100 (default ${fallback}).`)

export const HistoryListQuerySchema = z.object({ id: ModelIdSchema, page: pageQuery, limit: pageLimit(50) })
export type HistoryListQuery = z.infer<typeof HistoryListQuerySchema>

export const VersionQuerySchema = z.object({ id: ModelIdSchema, version: versionNumber('The version to read.') })
export const DiffQuerySchema = z.object({ id: ModelIdSchema, from: versionNumber('The older side.'), to: versionNumber('The newer side.') })

export const RestoreBodySchema = z.object({
  id: ModelIdSchema,
  version: versionNumber(
    'The version whose content becomes the model again; for a deleted model it defaults to the last (its deletion, holding its last state).',
  ).optional(),
})
export type RestoreBody = z.infer<typeof RestoreBodySchema>

export const TrashQuerySchema = z.object({ page: pageQuery, limit: pageLimit(50) })

export const PruneBodySchema = z.object({
  keep: z
    .number({ error: 'must be an integer' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(1_000_000)
    .describe('How many of the newest versions of each model stay.'),
  model_id: ModelIdSchema.optional().describe('Only this model (absent: every model).'),
})
export type PruneBody = z.infer<typeof PruneBodySchema>

const VersionAction = z.enum(['baseline', 'create', 'update', 'toggle', 'access_update', 'delete', 'restore'])
const VersionSource = z.enum(['route', 'import', 'sync', 'system', 'bulk', 'template'])

const SnapshotGrantSchema = z.object({
  principal_type: z.enum(['user', 'group']),
  principal_id: z.string(),
  permission: z.enum(['read', 'write']),
})

export const ModelSnapshotSchema = z
  .object({
    id: z.string(),
    user_id: z.string().describe('The owner at this version.'),
    base_model_id: z.string().nullable(),
    name: z.string(),
    params: z.record(z.string(), z.unknown()),
    meta: z.record(z.string(), z.unknown()),
    is_active: z.boolean(),
    access_grants: z.array(SnapshotGrantSchema).nullable().describe('The grants at this version; null for callers who may read the model but not write it.'),
  })
  .meta({ id: 'ModelSnapshot' })
export type ModelSnapshotOut = z.infer<typeof ModelSnapshotSchema>

export const HistoryItemSchema = z
  .object({
    version: z.number().int(),
    created_at: epochSecondsSchema,
    user_id: z
      .string()
      .nullable()
      .describe('Who made the change; null for the system, or hidden from readers who may not write the model (other than the owner and yourself).'),
    user: z.object({ id: z.string(), name: z.string() }).nullable().describe('That account as it is now; null when hidden or deleted.'),
    action: VersionAction,
    source: VersionSource.describe(
      'route: a model route; import, sync: those endpoints; bulk: a bulk access change; template: a template applied; system: account or group deletion, or a baseline.',
    ),
    template_id: z.string().nullable().describe('The template this version was written from (an apply, docs/templates.md); null otherwise.'),
  })
  .meta({ id: 'ModelVersionItem' })
export type HistoryItem = z.infer<typeof HistoryItemSchema>

export const HistoryPageSchema = z
  .object({ items: z.array(HistoryItemSchema).describe('Newest first.'), total: z.number().int() })
  .meta({ id: 'ModelHistoryPage' })
export type HistoryPage = z.infer<typeof HistoryPageSchema>

export const VersionDetailSchema = HistoryItemSchema.extend({ snapshot: ModelSnapshotSchema }).meta({ id: 'ModelVersion' })
export type VersionDetail = z.infer<typeof VersionDetailSchema>

export const DiffChangeSchema = z.object({
  path: z.string().describe('name, base_model_id, is_active, params.<key…>, meta.<key…>, access_grants.<principal_type>:<principal_id>:<permission>'),
  op: z.enum(['added', 'removed', 'changed']),
  old: z.unknown().describe('The value at `from` (null when added).'),
  new: z.unknown().describe('The value at `to` (null when removed).'),
})
export type DiffChange = z.infer<typeof DiffChangeSchema>

export const ModelDiffSchema = z
  .object({ id: z.string(), from: z.number().int(), to: z.number().int(), changes: z.array(DiffChangeSchema) })
  .meta({ id: 'ModelDiff' })
export type ModelDiff = z.infer<typeof ModelDiffSchema>

export const TrashItemSchema = z.object({
  id: z.string(),
  name: z.string(),
  user_id: z.string().describe('The owner when it was deleted.'),
  deleted_at: epochSecondsSchema,
  deleted_by: z.string().nullable().describe('Who deleted it; null for the system.'),
  version: z.number().int().describe('The deletion version (what a restore without `version` brings back; If-Match names it).'),
})
export type TrashItem = z.infer<typeof TrashItemSchema>

export const TrashPageSchema = z
  .object({ items: z.array(TrashItemSchema).describe('Latest deletion first.'), total: z.number().int() })
  .meta({ id: 'ModelTrash' })
export type TrashPage = z.infer<typeof TrashPageSchema>

export const PruneResponseSchema = z.object({ deleted: z.number().int().describe('How many versions were removed.') })
