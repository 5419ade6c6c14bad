/**
 * Shapes of configuration templates (issue #13 part 1, docs/templates.md). A template holds any subset
 * of: a base model, params (with locked keys), meta, and an access configuration (in either access form,
 * converted by the models' own code). Each section is null when the template does not hold it. Ids,
 * params, meta and grants are validated by the models' schemas, with the models' catalogue codes.
 */
import { z } from 'zod'
import type { ErrorCode } from '../errors/app-error.js'
import { DiffChangeSchema } from '../history/history.schema.js'
import {
  AccessControlSchema,
  AccessGrantsSchema,
  BULK_MAX_IDS,
  BulkFilterSchema,
  MetaSchema,
  ModelFormSchema,
  ModelIdSchema,
  ParamsSchema,
} from '../models/models.schema.js'
import { epochSecondsSchema, freeText, pageQuery, text } from '../schema/common.js'

export const TemplateIdSchema = ModelIdSchema.describe('Template id, chosen by the client: the rules of model ids (1..256 characters; / and : allowed).')

const LockedParamsSchema = z
  .array(text().min(1, 'must not be empty').max(256, 'must be at most 256 characters'))
  .max(200, 'at most 200 locked keys')
  .describe('Keys of params the template enforces: applying it always sets them, and only admins may change them on its models.')

const limitQuery = z.coerce.number().int().min(1).max(100).default(30).describe('Page size, 1..100 (default 30).')

/** The body of create. */
export const TemplateCreateSchema = z
  .object({
    id: TemplateIdSchema,
    name: ModelFormSchema.shape.name,
    description: freeText(20_000).default('').describe("The template's own description (what it is for); not applied to models."),
    base_model_id: ModelIdSchema.nullish().describe('The base model the template gives models; absent or null: the template holds no base.'),
    params: ParamsSchema.nullish().describe("Parameters (validated as a model's); absent or null: the template holds none."),
    locked_params: LockedParamsSchema.nullish(),
    meta: MetaSchema.nullish().describe('Meta (description, tags, capabilities, …); absent or null: the template holds none.'),
    access_grants: AccessGrantsSchema.nullish().describe('The access the template applies to models (access_grants form); absent or null: none.'),
    access_control: AccessControlSchema.optional().describe('The same in the seed form (null = public); access_grants wins when both are sent.'),
    template_access_grants: AccessGrantsSchema.optional().describe("The template's own sharing: who may read or change the template (default: private)."),
    from_model_id: ModelIdSchema.optional().describe(
      'Start from a model you may read: its base, params and meta (and its grants when you may write it); explicit fields win.',
    ),
  })
  .meta({ id: 'TemplateCreate' })
export type TemplateCreate = z.infer<typeof TemplateCreateSchema>

/** The body of update: fields left out keep their value; null removes a section (access_grants null too). */
export const TemplateUpdateSchema = z
  .object({
    id: TemplateIdSchema,
    name: ModelFormSchema.shape.name.optional(),
    description: freeText(20_000).optional(),
    base_model_id: TemplateCreateSchema.shape.base_model_id,
    params: TemplateCreateSchema.shape.params,
    locked_params: TemplateCreateSchema.shape.locked_params,
    meta: TemplateCreateSchema.shape.meta,
    access_grants: AccessGrantsSchema.nullish().describe('The access the template applies (access_grants form); null removes the section.'),
    access_control: TemplateCreateSchema.shape.access_control,
    template_access_grants: TemplateCreateSchema.shape.template_access_grants,
  })
  .meta({ id: 'TemplateUpdate' })
export type TemplateUpdate = z.infer<typeof TemplateUpdateSchema>

const PlainGrantSchema = z.object({
  principal_type: z.enum(['user', 'group']),
  principal_id: z.string(),
  permission: z.enum(['read', 'write']),
})

const AccessControlOutSchema = z.union([
  z.null(),
  z.object({
    read: z.object({ group_ids: z.array(z.string()), user_ids: z.array(z.string()) }).optional(),
    write: z.object({ group_ids: z.array(z.string()), user_ids: z.array(z.string()) }).optional(),
  }),
])

/** The owner as template answers show it: id and name only (a template shared with you must not tell you its owner's email). */
export const TemplateOwnerSchema = z
  .object({ id: z.string(), name: z.string() })
  .nullable()
  .describe("The owner's id and name (no email: templates are shared with non-admins); null when the account is gone.")
  .meta({ id: 'TemplateOwner' })

export const TemplateResponseSchema = z
  .object({
    id: z.string(),
    user_id: z.string().describe('The owner.'),
    user: TemplateOwnerSchema,
    name: z.string(),
    description: z.string(),
    base_model_id: z.string().nullable(),
    params: z.record(z.string(), z.unknown()).nullable(),
    locked_params: z.array(z.string()).nullable(),
    meta: z.record(z.string(), z.unknown()).nullable(),
    access_grants: z.array(PlainGrantSchema).nullable().describe('The access the template applies to models; null: the template holds none.'),
    access_control: AccessControlOutSchema.optional().describe('The same in the seed form (null = public); absent when the template holds no access.'),
    template_access_grants: z.array(PlainGrantSchema).describe("The template's own sharing (who may read or change it)."),
    created_at: epochSecondsSchema,
    updated_at: epochSecondsSchema,
    write_access: z.boolean().describe('You may change or delete the template.'),
  })
  .meta({ id: 'Template' })
export type TemplateResponse = z.infer<typeof TemplateResponseSchema>

export const TemplateListQuerySchema = z.object({
  query: text().max(500).optional().describe('Matches name, id and description; % and _ are literal.'),
  page: pageQuery,
  limit: limitQuery,
})
export type TemplateListQuery = z.infer<typeof TemplateListQuerySchema>

export const TemplateListSchema = z.object({ items: z.array(TemplateResponseSchema), total: z.number().int() }).meta({ id: 'TemplateList' })
export type TemplateList = z.infer<typeof TemplateListSchema>

export const TemplateIdQuerySchema = z.object({ id: TemplateIdSchema })
export const TemplateIdBodySchema = z.object({ id: TemplateIdSchema })

export const TemplateModelsQuerySchema = z.object({ id: TemplateIdSchema, page: pageQuery, limit: limitQuery })

export const TemplateModelsSchema = z
  .object({
    items: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        drifted: z.boolean().describe('Applying the template (merge) would change the model.'),
        changes: z.array(DiffChangeSchema).describe('What that apply would change (grants only on models you may write).'),
      }),
    ),
    total: z.number().int(),
  })
  .meta({ id: 'TemplateModels' })
export type TemplateModels = z.infer<typeof TemplateModelsSchema>

export const TemplateApplySchema = z
  .object({
    id: TemplateIdSchema,
    model_ids: z
      .array(ModelIdSchema)
      .min(1, 'must name at least one model')
      .max(BULK_MAX_IDS, `at most ${BULK_MAX_IDS} ids in one apply`)
      .optional()
      .describe(`The models to apply the template to (at most ${BULK_MAX_IDS}). Exactly one of model_ids and filter.`),
    filter: BulkFilterSchema.optional(),
    mode: z
      .enum(['merge', 'replace'])
      .default('merge')
      .describe(
        "merge: deep-merge params and meta (the template wins at leaves, arrays are united), unite grants; replace: each section the template holds replaces the model's.",
      ),
    dry_run: z.boolean().default(false).describe('Answer the report without changing anything.'),
  })
  .superRefine((body, ctx) => {
    if ((body.model_ids === undefined) === (body.filter === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['model_ids'], message: 'send exactly one of model_ids and filter' })
    }
  })
  .meta({ id: 'TemplateApplyRequest' })
export type TemplateApply = z.infer<typeof TemplateApplySchema>

export const APPLY_REFUSAL_CODES = [
  'MODEL_NOT_FOUND',
  'ACCESS_PROHIBITED',
  'MODEL_ID_UNAVAILABLE',
  'BASE_MODEL_UNAVAILABLE',
  'VALIDATION_ERROR',
  'PARAM_LOCKED',
] as const

export const TemplateApplyReportSchema = z
  .object({
    dry_run: z.boolean(),
    changed: z.array(
      z.object({
        id: z.string(),
        changes: z.array(DiffChangeSchema).describe('As the history diff names them; template_id when the model is linked to the template anew.'),
        version: z.number().int().nullable().describe('The version the apply recorded; null in a dry run.'),
      }),
    ),
    unchanged: z.array(z.string()).describe('Models the template would not change (nothing written).'),
    refused: z.array(z.object({ id: z.string(), reason: z.string(), code: z.enum(APPLY_REFUSAL_CODES) })).describe('Models left untouched, with the reason.'),
  })
  .meta({ id: 'TemplateApplyReport' })
export type TemplateApplyReport = z.infer<typeof TemplateApplyReportSchema>

/** The catalogue code of a schema failure in a template request (the models' mapping; locked_params too). */
export function templateValidationCode(path: readonly PropertyKey[], carried: ErrorCode | undefined): ErrorCode {
  if (carried) return carried
  const field = path[0]
  if (field === 'params') return 'INVALID_PARAMS'
  if (field === 'access_control' || field === 'access_grants' || field === 'template_access_grants') return 'INVALID_ACCESS_CONTROL'
  if (field === 'id' || field === 'from_model_id' || field === 'base_model_id') return 'INVALID_MODEL_ID'
  return 'VALIDATION_ERROR'
}
