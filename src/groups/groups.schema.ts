import { z } from 'zod'
import { PermissionTreeSchema } from '../access/feature-permissions.js'
import { epochSecondsSchema, freeText, idText, lineText } from '../schema/common.js'

const UserIdsSchema = z.array(idText(256)).max(10_000).describe('User ids.')

/** Open WebUI's free `data` object of a group; `data.config.share` (true, false or "members") decides whom it is offered to as a share target. */
const GroupDataSchema = z
  .record(z.string(), z.unknown())
  .nullable()
  .describe('Free object, stored and returned as given; data.config.share: true | false | "members" (default).')

export const GroupCreateSchema = z.object({
  name: lineText(255),
  description: freeText(2000).default(''),
  permissions: PermissionTreeSchema.default({}),
  data: GroupDataSchema.optional(),
  user_ids: UserIdsSchema.optional().describe('Initial members.'),
})
export type GroupCreateInput = z.infer<typeof GroupCreateSchema>

export const GroupUpdateSchema = z
  .object({
    name: lineText(255).optional(),
    description: freeText(2000).optional(),
    permissions: PermissionTreeSchema.optional().describe('Replaces the whole permission tree.'),
    data: GroupDataSchema.optional().describe('Replaces the whole data object (null: none).'),
    user_ids: UserIdsSchema.optional().describe('Replaces the whole member list.'),
  })
  .describe('Fields to change; absent fields stay as they are.')
export type GroupUpdateInput = z.infer<typeof GroupUpdateSchema>

export const GroupMembersSchema = z.object({ user_ids: UserIdsSchema.min(1, 'must name at least one user') })

export const GroupIdParamsSchema = z.object({ id: idText(256) })

export const GroupResponseSchema = z.object({
  id: z.string(),
  user_id: z.string().nullable().describe('The admin who created the group.'),
  name: z.string(),
  description: z.string(),
  permissions: z.record(z.string(), z.unknown()),
  data: z.record(z.string(), z.unknown()).nullable(),
  user_ids: z.array(z.string()).describe('The members; for a non-admin only themselves (member lists are for admins).'),
  member_count: z.number().int(),
  managed_by: z
    .enum(['oidc', 'scim'])
    .nullable()
    .describe(
      'Who keeps the members and name: oidc, the identity provider at every sign-in; scim, the identity provider through SCIM provisioning; either way they cannot be changed by hand. null: administered here.',
    ),
  created_at: epochSecondsSchema,
  updated_at: epochSecondsSchema,
})
export type GroupResponse = z.infer<typeof GroupResponseSchema>

export const GroupListQuerySchema = z.object({
  share: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional()
    .describe('true: only the groups offered to you as share targets; false: only the others.'),
})

/** `GET /groups/id/{id}/info`: a group without its member list. */
export const GroupInfoSchema = GroupResponseSchema.omit({ user_ids: true })
export type GroupInfo = z.infer<typeof GroupInfoSchema>
