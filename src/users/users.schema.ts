import { z } from 'zod'
import { USER_ROLES } from '../schema/roles.js'
import { emailText, epochSecondsSchema, freeText, idText, lineText, pageQuery, text } from '../schema/common.js'

export const RoleSchema = z.enum(USER_ROLES).describe('pending (waiting for approval), user or admin.')

/** A user as every response shows it (Open WebUI's UserResponse plus timestamps); never a secret. */
export const UserResponseSchema = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string(),
  role: RoleSchema,
  profile_image_url: z.string(),
  created_at: epochSecondsSchema,
  updated_at: epochSecondsSchema,
})
export type UserResponse = z.infer<typeof UserResponseSchema>

export const ProfileImageSchema = freeText(200_000).describe('A URL or a data: URI.')

export const UserListQuerySchema = z.object({
  query: text().max(500).optional().describe('Matches name or email, case-insensitive; % and _ are literal.'),
  role: RoleSchema.optional(),
  order_by: z
    .enum(['name', 'email', 'created_at', 'updated_at', 'last_active_at', 'role'])
    .default('created_at')
    .describe('last_active_at (Open WebUI) sorts by updated_at: modelgate keeps no activity time.'),
  direction: z.enum(['asc', 'desc']).default('asc'),
  page: pageQuery,
  limit: z.coerce.number().int().min(1).max(100).default(30).describe('Page size, 1..100.'),
})
export type UserListQueryInput = z.infer<typeof UserListQuerySchema>

/** A user with the ids of their groups (Open WebUI's UserGroupIdsModel). */
export const UserWithGroupsSchema = UserResponseSchema.extend({ group_ids: z.array(z.string()).describe("Ids of the user's groups.") })
export type UserWithGroups = z.infer<typeof UserWithGroupsSchema>

export const UserListResponseSchema = z.object({ users: z.array(UserWithGroupsSchema), total: z.number().int() })

/** `GET /users/all`: every account, no paging. */
export const UserAllResponseSchema = z.object({ users: z.array(UserResponseSchema), total: z.number().int() })

export const UserSearchQuerySchema = z.object({
  query: text().max(500).optional().describe('Admins: name or email; others: name only. Case-insensitive.'),
  order_by: UserListQuerySchema.shape.order_by,
  direction: UserListQuerySchema.shape.direction,
  page: pageQuery,
})
export type UserSearchQueryInput = z.infer<typeof UserSearchQuerySchema>

/** A search hit: others see id, name and picture; admins every field of a user. */
export const UserSearchItemSchema = z.object({
  id: z.string(),
  name: z.string(),
  profile_image_url: z.string(),
  email: z.string().optional().describe('Admins only.'),
  role: RoleSchema.optional().describe('Admins only.'),
  created_at: epochSecondsSchema.optional().describe('Admins only.'),
  updated_at: epochSecondsSchema.optional().describe('Admins only.'),
})
export type UserSearchItem = z.infer<typeof UserSearchItemSchema>
export const UserSearchResponseSchema = z.object({ users: z.array(UserSearchItemSchema), total: z.number().int() })

export const UserIdParamsSchema = z.object({ id: idText(256) })

export const UserUpdateSchema = z
  .object({
    role: RoleSchema.optional(),
    name: lineText(255).optional(),
    email: emailText.optional(),
    profile_image_url: ProfileImageSchema.optional(),
    password: text().min(1).max(256).optional().describe('Sets a new password.'),
  })
  .describe('Fields to change; absent fields stay as they are.')
export type UserUpdateInput = z.infer<typeof UserUpdateSchema>
