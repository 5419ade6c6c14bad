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
  order_by: z.enum(['name', 'email', 'created_at', 'role']).default('created_at'),
  direction: z.enum(['asc', 'desc']).default('asc'),
  page: pageQuery,
  limit: z.coerce.number().int().min(1).max(100).default(30).describe('Page size, 1..100.'),
})
export type UserListQueryInput = z.infer<typeof UserListQuerySchema>

export const UserListResponseSchema = z.object({ users: z.array(UserResponseSchema), total: z.number().int() })

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
