import { z } from 'zod'
import { PermissionTreeSchema } from '../access/feature-permissions.js'
import { epochSecondsSchema, freeText, idText, lineText } from '../schema/common.js'

const UserIdsSchema = z.array(idText(256)).max(10_000).describe('User ids.')

export const GroupCreateSchema = z.object({
  name: lineText(255),
  description: freeText(2000).default(''),
  permissions: PermissionTreeSchema.default({}),
  user_ids: UserIdsSchema.optional().describe('Initial members.'),
})
export type GroupCreateInput = z.infer<typeof GroupCreateSchema>

export const GroupUpdateSchema = z
  .object({
    name: lineText(255).optional(),
    description: freeText(2000).optional(),
    permissions: PermissionTreeSchema.optional().describe('Replaces the whole permission tree.'),
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
  user_ids: z.array(z.string()),
  member_count: z.number().int(),
  created_at: epochSecondsSchema,
  updated_at: epochSecondsSchema,
})
export type GroupResponse = z.infer<typeof GroupResponseSchema>
