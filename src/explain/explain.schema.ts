/** "Why can this user see this model?" (issue #13, docs/access-control.md): explain and effective access. */
import { z } from 'zod'
import { idText, pageQuery } from '../schema/common.js'
import { ModelIdSchema } from '../models/models.schema.js'

const permission = z.enum(['read', 'write'])

export const AccessReasonSchema = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('owner') }),
    z.object({ kind: z.literal('admin_bypass') }),
    z.object({ kind: z.literal('user_grant'), permission }),
    z.object({ kind: z.literal('group_grant'), permission, group_id: z.string(), group_name: z.string().nullable() }),
    z.object({ kind: z.literal('public'), permission }),
    z.object({ kind: z.literal('pending_account') }),
    z.object({ kind: z.literal('no_grant'), needs: permission }),
    z.object({
      kind: z.literal('feature_permission'),
      permission: z.enum(['sharing.models', 'sharing.public_models']),
      granted: z.boolean(),
    }),
  ])
  .describe(
    'One fact behind a decision: what grants the access (owner, admin_bypass, user_grant, group_grant, public) or the missing piece (pending_account, no_grant, feature_permission with granted false).',
  )
  .meta({ id: 'AccessReason' })

const decision = z.object({ allowed: z.boolean(), reasons: z.array(AccessReasonSchema) })

export const AccessExplainQuerySchema = z.object({ id: ModelIdSchema, user_id: idText().describe('The user whose access is explained.') })

export const AccessExplainSchema = z
  .object({
    model_id: z.string(),
    user: z.object({ id: z.string(), name: z.string(), role: z.enum(['pending', 'user', 'admin']) }),
    read: decision,
    write: decision,
    share: decision.describe(
      'Changing who else may use the model: write access plus a sharing permission (sharing.models; sharing.public_models to make it public).',
    ),
  })
  .meta({ id: 'AccessExplanation' })

export const EffectiveAccessQuerySchema = z.object({
  id: ModelIdSchema,
  page: pageQuery,
  limit: z.coerce
    .number({ error: 'must be an integer' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(200, 'must be at most 200')
    .default(50)
    .describe('Page size, 1..200 (default 50).'),
})

export const EffectiveAccessSchema = z
  .object({
    items: z.array(
      z.object({
        user_id: z.string(),
        name: z.string(),
        email: z.string().nullable().describe('Only for admins (null for other callers).'),
        role: z.enum(['user', 'admin']),
        read: z.boolean(),
        write: z.boolean(),
        reasons: z.array(AccessReasonSchema).describe('Why the user may read (write reasons are among them, with permission "write").'),
      }),
    ),
    total: z.number().int(),
  })
  .meta({ id: 'EffectiveAccess' })
export type EffectiveAccess = z.infer<typeof EffectiveAccessSchema>
export type AccessExplainAnswer = z.infer<typeof AccessExplainSchema>
