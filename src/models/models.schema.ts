/**
 * Shapes of the model registry (design.md §2.1, Open WebUI names). Validation failures carry the
 * catalogue code they map to (`params.appCode`), so a bad id answers MODEL_ID_TOO_LONG or
 * INVALID_MODEL_ID, a bad parameter INVALID_PARAMS, a bad access form INVALID_ACCESS_CONTROL.
 */
import { z } from 'zod'
import type { ErrorCode } from '../errors/app-error.js'
import {
  epochSecondsSchema,
  freeText,
  ID_CHARS_MESSAGE,
  ID_FORBIDDEN_CHARS,
  idText,
  isStorableText,
  pageQuery,
  text,
  UNSTORABLE_MESSAGE,
} from '../schema/common.js'
import { UserResponseSchema } from '../users/users.schema.js'

export const MODEL_ID_MAX = 256

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

/** An issue that names its catalogue code. */
function fail(ctx: z.core.$RefinementCtx, message: string, appCode: ErrorCode, path: PropertyKey[] = []): void {
  ctx.addIssue({ code: 'custom', message, path, params: { appCode } })
}

/**
 * A model id: 1..256 characters (code points), no surrounding whitespace, none of the characters that
 * make two ids look alike or that a database cannot store: control, zero-width and bidirectional-control
 * characters (schema/common.ts ID_FORBIDDEN_CHARS), NUL, lone surrogates. `/`, `:` and any other
 * printable character are allowed (`meta-llama/Llama-3.1-8B`, `llama3.1:8b`). Every place an id comes in
 * uses it: create, update, import items, `?id=`, `/v1/models/{id}`, `base_model_id`, chat `model`.
 */
export const ModelIdSchema = z
  .string({ error: 'must be a string' })
  .superRefine((id, ctx) => {
    // Characters are code points; a string is never longer in them than in UTF-16 units, so only a long
    // one is counted (the spread copies the string into an array: on every chat request's model).
    const length = id.length > MODEL_ID_MAX ? [...id].length : id.length
    if (length < 1 || length > MODEL_ID_MAX) {
      fail(ctx, `must be 1 to ${MODEL_ID_MAX} characters (got ${length})`, 'MODEL_ID_TOO_LONG')
    } else if (!isStorableText(id)) {
      fail(ctx, UNSTORABLE_MESSAGE, 'INVALID_MODEL_ID')
    } else if (ID_FORBIDDEN_CHARS.test(id) || id.trim() !== id) {
      fail(ctx, `${ID_CHARS_MESSAGE}, and must not start or end with whitespace`, 'INVALID_MODEL_ID')
    }
  })
  .describe('Model id, 1..256 characters; may contain / and :; no control, zero-width or bidi characters.')

const number = (min: number | null, max: number | null, integer = false) =>
  z
    .unknown()
    .optional()
    .superRefine((value, ctx) => {
      if (value === null || value === undefined) return
      const range = min !== null && max !== null ? ` between ${min} and ${max}` : min !== null ? ` at least ${min}` : ''
      const kind = integer ? 'an integer' : 'a number'
      const isNumber = typeof value === 'number' && Number.isFinite(value)
      if (!isNumber || (integer && !Number.isInteger(value)) || (min !== null && value < min) || (max !== null && value > max)) {
        fail(ctx, `must be ${kind}${range}${isNumber ? ` (got ${value})` : ` (got ${JSON.stringify(value) ?? typeof value})`}`, 'INVALID_PARAMS')
      }
    })

const typed = (check: (value: unknown) => boolean, expected: string) =>
  z
    .unknown()
    .optional()
    .superRefine((value, ctx) => {
      if (value !== null && value !== undefined && !check(value)) fail(ctx, `must be ${expected}`, 'INVALID_PARAMS')
    })

const isString = (v: unknown) => typeof v === 'string'
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

const isBoolean = (v: unknown) => typeof v === 'boolean'

/**
 * Known parameters with their ranges (design.md §2.1; the table with each range's source is in
 * docs/models.md, "Parameter ranges"): every value Open WebUI's model editor lets a user set is accepted
 * (its sliders and number fields, src/lib/components/chat/Settings/Advanced/AdvancedParams.svelte), and
 * every value Ollama documents. `-1` for `max_tokens`/`num_predict`/`num_ctx` means "no limit" (`-2`:
 * Ollama's "until the context is full"); unknown keys are kept as given. `null` means "not set" and is
 * accepted for every key.
 */
export const KNOWN_PARAMS = {
  system: typed(isString, 'a string'),
  temperature: number(0, 2),
  top_p: number(0, 1),
  top_k: number(0, null),
  min_p: number(0, 1),
  max_tokens: number(-2, null, true),
  num_predict: number(-2, null, true),
  frequency_penalty: number(-2, 2),
  presence_penalty: number(-2, 2),
  repeat_penalty: number(-2, null),
  repeat_last_n: number(-1, null, true),
  seed: number(null, null, true),
  stop: typed((v) => isString(v) || (Array.isArray(v) && v.every(isString)), 'a string or an array of strings'),
  num_ctx: number(-1, null, true),
  num_keep: number(-1, null, true),
  num_batch: number(1, null, true),
  num_thread: number(0, null, true),
  num_gpu: number(-1, null, true),
  mirostat: number(0, 2, true),
  mirostat_eta: number(0, null),
  mirostat_tau: number(0, null),
  tfs_z: number(0, null),
  use_mmap: typed(isBoolean, 'a boolean'),
  use_mlock: typed(isBoolean, 'a boolean'),
  stream_response: typed(isBoolean, 'a boolean'),
  stream_delta_chunk_size: number(1, null, true),
  reasoning_effort: typed(isString, 'a string'),
  custom_params: typed(isPlainObject, 'an object'),
  locked: typed((v) => Array.isArray(v) && v.every(isString), 'an array of parameter names'),
} as const

export const ParamsSchema = z
  .unknown()
  .superRefine((value, ctx) => {
    if (!isPlainObject(value)) fail(ctx, 'must be an object', 'INVALID_PARAMS')
  })
  .pipe(z.looseObject(KNOWN_PARAMS))
  .describe(
    'Open object. Known keys are validated (docs/models.md, "Parameter ranges"): system string; temperature 0..2; top_p 0..1; ' +
      'top_k ≥ 0; min_p 0..1; max_tokens and num_predict integer ≥ −2 (−1: no limit); frequency_penalty and presence_penalty −2..2; ' +
      'repeat_penalty ≥ −2; repeat_last_n integer ≥ −1; seed integer; stop string or string[]; num_ctx integer ≥ −1 (−1: no limit); ' +
      'num_keep integer ≥ −1; num_batch integer ≥ 1; num_thread integer ≥ 0; num_gpu integer ≥ −1; mirostat integer 0..2; ' +
      'mirostat_eta, mirostat_tau, tfs_z ≥ 0; use_mmap, use_mlock, stream_response boolean; stream_delta_chunk_size integer ≥ 1; ' +
      'reasoning_effort string; custom_params object; locked string[] (keys a chat request cannot override). Other keys are kept.',
  ) as unknown as z.ZodType<Record<string, unknown>>

/** `meta.tags`: strings become `{name}`; names are trimmed, 1..100 characters; other keys (`color`) kept. */
const TagsSchema = z
  .array(z.union([text(), z.looseObject({ name: text() })]))
  .max(100, 'at most 100 tags')
  .transform((tags, ctx) => {
    const result: ({ name: string } & Record<string, unknown>)[] = []
    const seen = new Set<string>()
    tags.forEach((tag, index) => {
      const raw = typeof tag === 'string' ? tag : tag.name
      const name = raw.trim()
      if (name.length === 0 || name.length > 100 || CONTROL.test(name)) {
        ctx.addIssue({ code: 'custom', path: [index], message: 'tag names must be 1 to 100 printable characters' })
        return
      }
      const key = name.toLowerCase()
      if (!seen.has(key)) {
        seen.add(key)
        result.push(typeof tag === 'string' ? { name } : { ...tag, name })
      }
    })
    return result
  })

export const MetaSchema = z
  .looseObject({
    profile_image_url: text().max(2_000_000).nullish().describe('data: URI (image/*), http(s) URL or a path.'),
    description: freeText(20_000).nullish(),
    capabilities: z.record(text(), z.unknown()).nullish(),
    tags: TagsSchema.optional(),
    suggestion_prompts: z.array(z.unknown()).nullish(),
    hidden: z.boolean().nullish().describe('Hidden from chat model pickers.'),
    knowledge: z.array(z.unknown()).nullish(),
    toolIds: z.array(text()).nullish(),
    filterIds: z.array(text()).nullish(),
    actionIds: z.array(text()).nullish(),
  })
  .describe('Open object; known keys are checked, others kept. Tags given as strings become {name}.')
export type ModelMeta = z.infer<typeof MetaSchema>

const PrincipalIdsSchema = z.array(idText(256)).max(10_000)
const PrincipalSetSchema = z.strictObject({
  group_ids: PrincipalIdsSchema.optional(),
  user_ids: PrincipalIdsSchema.optional(),
})

/** The seed's form: null = public read, {} = private, {read, write} = custom. */
export const AccessControlSchema = z
  .union([z.null(), z.strictObject({ read: PrincipalSetSchema.optional(), write: PrincipalSetSchema.optional() })], {
    error: 'must be null (public), {} (private) or {"read": {"group_ids": [...], "user_ids": [...]}, "write": {...}}',
  })
  .describe('null = public (every verified user reads), {} = private, {read:{group_ids,user_ids}, write:{…}}.')
export type AccessControl = z.infer<typeof AccessControlSchema>

/** One grant as clients send it (Open WebUI exports carry id, resource_* and created_at too: ignored). */
export const GrantInputSchema = z.looseObject({
  principal_type: z.enum(['user', 'group']),
  principal_id: idText(256),
  permission: z.enum(['read', 'write']),
})
export type GrantInput = Pick<z.infer<typeof GrantInputSchema>, 'principal_type' | 'principal_id' | 'permission'>

export const AccessGrantsSchema = z
  .array(GrantInputSchema)
  .max(10_000)
  .superRefine((grants, ctx) => {
    grants.forEach((grant, index) => {
      if (grant.principal_type === 'group' && grant.principal_id === '*') {
        ctx.addIssue({ code: 'custom', path: [index, 'principal_id'], message: '"*" is only valid with principal_type "user"' })
      }
    })
  })
  .describe('Open WebUI ≥ 0.8 form: [{principal_type user|group, principal_id (user "*" = everyone), permission read|write}].')

/** The body of create and update (`ModelForm`). */
export const ModelFormSchema = z.object({
  id: ModelIdSchema,
  base_model_id: ModelIdSchema.nullish().describe('The model this preset runs on; null for a base-model override row.'),
  name: text()
    .trim()
    .min(1, 'must not be empty')
    .max(512)
    .refine((s) => !CONTROL.test(s), 'must not contain control characters'),
  meta: MetaSchema.default({}),
  params: ParamsSchema.default({}),
  access_control: AccessControlSchema.optional(),
  access_grants: AccessGrantsSchema.nullish(),
  is_active: z.boolean().default(true),
  template_id: ModelIdSchema.nullish().describe(
    'Create only: the template to start from (you need read access to it). Its sections fill what the body does not give; explicit fields win (docs/templates.md).',
  ),
})
export type ModelForm = z.infer<typeof ModelFormSchema>

/** The update body: like the form, but every field but id may be left out to keep its value. */
export const ModelUpdateSchema = ModelFormSchema.extend({
  id: ModelIdSchema.optional(),
  name: ModelFormSchema.shape.name.optional(),
  meta: MetaSchema.optional(),
  params: ParamsSchema.optional(),
  is_active: z.boolean().optional(),
}).omit({ template_id: true })
export type ModelUpdate = z.infer<typeof ModelUpdateSchema>

export const ModelIdQuerySchema = z.object({ id: ModelIdSchema })
export const OptionalModelIdQuerySchema = z.object({ id: ModelIdSchema.optional() })
export const ModelIdBodySchema = z.object({ id: ModelIdSchema })

export const AccessUpdateSchema = z.object({
  id: ModelIdSchema,
  name: text().trim().min(1).max(512).nullish().describe('Name of the override row created when none exists yet (admin).'),
  access_control: AccessControlSchema.optional(),
  access_grants: AccessGrantsSchema.nullish(),
})
export type AccessUpdate = z.infer<typeof AccessUpdateSchema>

export const GrantResponseSchema = z.object({
  id: z.string(),
  resource_type: z.literal('model'),
  resource_id: z.string(),
  principal_type: z.enum(['user', 'group']),
  principal_id: z.string(),
  permission: z.enum(['read', 'write']),
  created_at: epochSecondsSchema,
})
export type GrantResponse = z.infer<typeof GrantResponseSchema>

const AccessControlResponseSchema = z.union([
  z.null(),
  z.object({
    read: z.object({ group_ids: z.array(z.string()), user_ids: z.array(z.string()) }).optional(),
    write: z.object({ group_ids: z.array(z.string()), user_ids: z.array(z.string()) }).optional(),
  }),
])

export const ModelResponseSchema = z.object({
  id: z.string(),
  user_id: z.string(),
  base_model_id: z.string().nullable(),
  name: z.string(),
  params: z.record(z.string(), z.unknown()),
  meta: z.record(z.string(), z.unknown()),
  access_control: AccessControlResponseSchema.describe('The seed form of the grants (cannot express public write).'),
  access_grants: z.array(GrantResponseSchema),
  is_active: z.boolean(),
  created_at: epochSecondsSchema,
  updated_at: epochSecondsSchema,
  version: z
    .number()
    .int()
    .describe('The current version (docs/history.md): also the ETag of GET /model, and what If-Match names on writes. 0 before the first recorded change.'),
  template_id: z.string().nullable().describe('The template the model came from or was last applied from (docs/templates.md); null: none.'),
})
export type ModelResponse = z.infer<typeof ModelResponseSchema>

/** `If-Match` on model writes (src/models/if-match.ts parses it; malformed → 400 naming headers.if-match). */
export const IfMatchHeadersSchema = z.looseObject({
  'if-match': z
    .string()
    .optional()
    .describe('The version you last read, as its ETag ("3"): the write answers 412 PRECONDITION_FAILED if the model changed since.'),
})

/**
 * The caller's abilities on one model, decided by the access service (`AccessService.abilitiesOn`):
 * clients show or hide actions from it instead of re-deriving the rule.
 */
export const AbilitiesSchema = z
  .object({
    read: z.boolean(),
    write: z.boolean().describe('Change the model (update, toggle, access update).'),
    share: z.boolean().describe('Change its grants: write, and sharing.models or sharing.public_models.'),
    delete: z
      .boolean()
      .describe(
        'Delete the model: the same as write, except on a row whose id a provider now serves (hole 1 of issue #10), which can still be deleted but not changed.',
      ),
  })
  .describe('What you may do with this model.')
export type Abilities = z.infer<typeof AbilitiesSchema>

/**
 * Whether the model works for the caller (issue #16 item 5, docs/models.md "Status"): its base chain ends,
 * by the one base-chain rule, at a model a provider serves, as a chat by the caller would resolve it.
 */
export const ModelStatusSchema = z
  .object({
    ok: z.boolean().describe('The model can be used: a chat with it by you would reach a provider.'),
    reason: z.string().optional().describe('Why not (only when ok is false), e.g. no provider serves the base model any more.'),
  })
  .describe('Whether the model works for you: false for a preset whose base model is gone, whose chain is broken or whose base is not available to you.')
  .meta({ id: 'ModelStatus' })
export type ModelStatus = z.infer<typeof ModelStatusSchema>

/** A model as a write (create, update, toggle, access update) answers it: with the caller's abilities. */
export const ModelWriteResponseSchema = ModelResponseSchema.extend({ can: AbilitiesSchema, status: ModelStatusSchema })
export type ModelWriteResponse = z.infer<typeof ModelWriteResponseSchema>

export const ModelAccessResponseSchema = ModelResponseSchema.extend({
  user: UserResponseSchema.pick({ id: true, name: true, email: true, role: true }).nullable(),
  write_access: z.boolean().describe("Open WebUI's flag: the same as can.write."),
  can: AbilitiesSchema,
  status: ModelStatusSchema,
})
export type ModelAccessResponse = z.infer<typeof ModelAccessResponseSchema>

export const ListQuerySchema = z.object({
  query: text().max(500).optional().describe('Matches name, id, base model, owner name and email; % and _ are literal.'),
  view_option: z.enum(['created', 'shared', 'all', '']).optional().describe("created = mine; shared = others' that I can read."),
  tag: text().max(100).optional().describe('Exact tag name (case-insensitive), from meta.tags[].name only.'),
  template_id: ModelIdSchema.optional().describe('Only models made from (or last applied from) this template.'),
  order_by: z.enum(['name', 'created_at', 'updated_at']).default('updated_at'),
  direction: z.enum(['asc', 'desc']).default('desc'),
  page: pageQuery,
  limit: z.coerce.number().int().min(1).max(100).default(30).describe('Page size, 1..100 (default 30).'),
})
export type ListQuery = z.infer<typeof ListQuerySchema>

export const ListResponseSchema = z.object({ items: z.array(ModelAccessResponseSchema), total: z.number().int() })
export type ListResponse = z.infer<typeof ListResponseSchema>

// ─── Base models (issue #16 item 4, docs/models.md "Base models") ──────────────────────────────────

export const BaseModelsQuerySchema = z.object({
  connection_id: idText(256).optional().describe('Only the models this connection serves.'),
  query: text().max(500).optional().describe('Matches the id, the name and the provider name, case-insensitively; a literal substring.'),
  page: pageQuery,
  limit: z.coerce.number().int().min(1).max(100).default(30).describe('Page size, 1..100 (default 30).'),
})
export type BaseModelsQuery = z.infer<typeof BaseModelsQuerySchema>

export const BaseModelItemSchema = z
  .object({
    id: z.string().describe('The provider model id (as clients call it).'),
    name: z.string().describe("The name people see: the override row's, else the provider's."),
    provider_name: z.string().nullable().describe('The name the provider gives it; null when no provider serves it any more.'),
    connection_id: z.string().nullable().describe('The connection that serves it; null when none does.'),
    connection_name: z.string().nullable(),
    owned_by: z.string().nullable().describe("The provider's owned_by."),
    served: z.boolean().describe('A provider serves the id now (false: an override row left behind by a model that vanished).'),
    is_active: z.boolean().describe('On: the override row is active, or there is no row.'),
    tags: z.array(z.string()).describe("The override row's tag names."),
    row: z
      .enum(['override', 'preset', 'conflict'])
      .nullable()
      .describe(
        "The registry row with this id: an override (renames, hides or restricts it), an admin's preset that took the id (the provider model is not listed at run time), a conflict (a non-admin's row, ignored); null: none.",
      ),
    override: ModelWriteResponseSchema.nullable().describe(
      'The override row (its grants are who may use the model; without one, admins only), when there is one.',
    ),
    status: ModelStatusSchema,
  })
  .meta({ id: 'BaseModel' })
export type BaseModelItem = z.infer<typeof BaseModelItemSchema>

export const BaseModelsResponseSchema = z
  .object({
    items: z.array(BaseModelItemSchema),
    total: z.number().int().describe('Every match of the filters.'),
    connections: z
      .array(z.object({ id: z.string(), name: z.string(), count: z.number().int() }))
      .describe('The enabled connections and how many models each serves (for the connection filter).'),
  })
  .meta({ id: 'BaseModels' })
export type BaseModelsResponse = z.infer<typeof BaseModelsResponseSchema>

export const ImportReportSchema = z.object({
  created: z.array(z.string()),
  updated: z.array(z.string()),
  skipped: z.array(z.object({ id: z.string(), reason: z.string() })),
  warnings: z.array(z.object({ id: z.string(), message: z.string() })),
})
export type ImportReport = z.infer<typeof ImportReportSchema>

/** A row whose id a provider serves but whose owner is not an admin: it is ignored at run time. */
export const ModelConflictSchema = z.object({
  id: z.string(),
  name: z.string(),
  user_id: z.string(),
  owner: z.object({ id: z.string(), name: z.string(), email: z.string() }).nullable(),
  connection_id: z.string().nullable().describe('The connection that serves the id.'),
})
export type ModelConflict = z.infer<typeof ModelConflictSchema>

export const ConflictsResponseSchema = z.object({ items: z.array(ModelConflictSchema) })

export const SyncBodySchema = z.object({
  models: z.array(z.unknown()).describe('The complete desired set of models (ModelForm or ModelModel items).'),
  dry_run: z.boolean().default(false).describe('Answer the plan and change nothing.'),
})

export const SyncPlanSchema = z.object({
  dry_run: z.boolean(),
  create: z.array(z.string()),
  update: z.array(z.string()),
  delete: z.array(z.string()),
  unchanged: z.array(z.string()),
})
export type SyncPlan = z.infer<typeof SyncPlanSchema>

/**
 * The catalogue code of a schema failure at `path` in a model request: the code an issue carries
 * (ids, parameter ranges), else by field: parameters → INVALID_PARAMS, access forms →
 * INVALID_ACCESS_CONTROL, anything else → VALIDATION_ERROR.
 */
export function modelValidationCode(path: readonly PropertyKey[], carried: ErrorCode | undefined): ErrorCode {
  if (carried) return carried
  const field = path[0]
  if (field === 'params') return 'INVALID_PARAMS'
  // add and remove: the grants of a bulk access change.
  if (field === 'access_control' || field === 'access_grants' || field === 'add' || field === 'remove') return 'INVALID_ACCESS_CONTROL'
  if (field === 'id') return 'INVALID_MODEL_ID'
  return 'VALIDATION_ERROR'
}

// ─── Bulk access (issue #13 part 2, docs/access-control.md "Bulk access changes") ──────────────────

/** At most this many `model_ids` in one bulk change. */
export const BULK_MAX_IDS = 10_000
/** A bulk filter matching more models than this is refused (400): narrow it. */
export const BULK_MAX_MATCHES = 100_000

export const BulkFilterSchema = z
  .strictObject({
    query: ListQuerySchema.shape.query,
    tag: ListQuerySchema.shape.tag,
    base_model_id: ModelIdSchema.optional().describe('Only presets on this base model.'),
    user_id: idText(256).optional().describe('Only models owned by this account.'),
    template_id: ModelIdSchema.optional().describe('Only models made from (or last applied from) this template (as GET /list?template_id=).'),
  })
  .describe('Selects, as GET /list does (presets only), the models you may write; every field narrows.')
  .meta({ id: 'BulkAccessFilter' })

export const BulkAccessBodySchema = z
  .object({
    model_ids: z
      .array(ModelIdSchema)
      .min(1, 'must name at least one model')
      .max(BULK_MAX_IDS, `at most ${BULK_MAX_IDS} ids in one bulk change`)
      .optional()
      .describe(`The models to change (at most ${BULK_MAX_IDS}). Exactly one of model_ids and filter.`),
    filter: BulkFilterSchema.optional(),
    add: AccessGrantsSchema.default([]).describe('Grants to add (access_grants form).'),
    remove: AccessGrantsSchema.default([]).describe('Grants to remove (access_grants form).'),
    dry_run: z.boolean().default(false).describe('Answer the report without changing anything.'),
  })
  .superRefine((body, ctx) => {
    if ((body.model_ids === undefined) === (body.filter === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['model_ids'], message: 'send exactly one of model_ids and filter' })
    }
    if (body.add.length === 0 && body.remove.length === 0) {
      ctx.addIssue({ code: 'custom', path: [], message: 'add or remove must name at least one grant' })
    }
    const removed = new Set(body.remove.map((g) => `${g.principal_type}:${g.principal_id}:${g.permission}`))
    body.add.forEach((g, index) => {
      const key = `${g.principal_type}:${g.principal_id}:${g.permission}`
      if (removed.has(key)) ctx.addIssue({ code: 'custom', path: ['add', index], message: `${key} is both added and removed` })
    })
  })
  .meta({ id: 'BulkAccessRequest' })
export type BulkAccessBody = z.infer<typeof BulkAccessBodySchema>

const SnapshotGrantSchema = z.object({
  principal_type: z.enum(['user', 'group']),
  principal_id: z.string(),
  permission: z.enum(['read', 'write']),
})

export const BulkAccessReportSchema = z
  .object({
    dry_run: z.boolean(),
    changed: z.array(
      z.object({
        id: z.string(),
        changes: z.array(
          z.object({
            path: z.string().describe('access_grants.<principal_type>:<principal_id>:<permission>, as the history diff names it.'),
            op: z.enum(['added', 'removed']),
            old: SnapshotGrantSchema.nullable(),
            new: SnapshotGrantSchema.nullable(),
          }),
        ),
        version: z.number().int().nullable().describe('The version the change recorded; null in a dry run.'),
      }),
    ),
    unchanged: z.array(z.string()).describe('Models that already had the requested grants (nothing written).'),
    refused: z
      .array(z.object({ id: z.string(), reason: z.string(), code: z.enum(['MODEL_NOT_FOUND', 'ACCESS_PROHIBITED', 'MODEL_ID_UNAVAILABLE']) }))
      .describe('Models left untouched, with the answer a single access update would have given.'),
  })
  .meta({ id: 'BulkAccessReport' })
export type BulkAccessReport = z.infer<typeof BulkAccessReportSchema>

export const GroupModelsQuerySchema = z.object({
  page: pageQuery,
  limit: z.coerce.number().int().min(1).max(100).default(30).describe('Page size, 1..100 (default 30).'),
})
export const GroupModelsParamsSchema = z.object({ id: idText(256).describe('The group id.') })

export const GroupModelsResponseSchema = z
  .object({
    items: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        permission: z.enum(['read', 'write']).describe('The strongest permission a grant to the group gives (write implies read).'),
      }),
    ),
    total: z.number().int(),
  })
  .meta({ id: 'GroupModels' })
export type GroupModelsResponse = z.infer<typeof GroupModelsResponseSchema>
