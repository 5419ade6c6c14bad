import { z } from 'zod'
import { emailText, epochSecondsSchema, lineText, text } from '../schema/common.js'
import { ProfileImageSchema, RoleSchema, UserResponseSchema } from '../users/users.schema.js'

const PasswordSchema = text().min(1, 'must not be empty').max(256, 'must be at most 256 characters')

export const SignupSchema = z.object({
  name: lineText(255).describe('Display name.'),
  email: emailText,
  password: PasswordSchema.describe('At least PASSWORD_MIN_LENGTH (8) characters.'),
  profile_image_url: ProfileImageSchema.optional(),
})
export type SignupInput = z.infer<typeof SignupSchema>

export const SigninSchema = z.object({ email: emailText, password: PasswordSchema })
export type SigninInput = z.infer<typeof SigninSchema>

/** Open WebUI's `POST /auths/update/password` body. */
export const PasswordChangeSchema = z.object({
  password: PasswordSchema.describe('The current password.'),
  new_password: PasswordSchema.describe('At least PASSWORD_MIN_LENGTH (8) characters.'),
})
export type PasswordChangeInput = z.infer<typeof PasswordChangeSchema>

export const AddUserSchema = SignupSchema.extend({
  role: RoleSchema.default('user').describe('Role of the new account (default user: an admin vouches for it).'),
})
export type AddUserInput = z.infer<typeof AddUserSchema>

const PermissionsResponseSchema = z.object({
  workspace: z.object({ models: z.boolean(), models_import: z.boolean(), models_export: z.boolean() }),
  sharing: z.object({ models: z.boolean(), public_models: z.boolean() }),
})

/** The session user (`GET /auths/`): the account and its resolved feature permissions. */
export const SessionUserSchema = UserResponseSchema.pick({
  id: true,
  email: true,
  name: true,
  role: true,
  profile_image_url: true,
}).extend({ permissions: PermissionsResponseSchema })
export type SessionUser = z.infer<typeof SessionUserSchema>

/** Sign-in and sign-up answer the session user with a fresh token. */
export const SessionResponseSchema = SessionUserSchema.extend({
  token: z.string(),
  token_type: z.literal('Bearer'),
  expires_at: epochSecondsSchema.nullable().describe('Epoch seconds; null when tokens never expire.'),
})
export type SessionResponse = z.infer<typeof SessionResponseSchema>

export const ApiKeyInfoSchema = z.object({
  key_hint: z.string().describe('First and last characters of the key.'),
  created_at: epochSecondsSchema,
  last_used_at: epochSecondsSchema.nullable(),
})
export type ApiKeyInfo = z.infer<typeof ApiKeyInfoSchema>

export const ApiKeyCreatedSchema = ApiKeyInfoSchema.extend({
  api_key: z.string().describe('The key itself, shown this once: only its hash is stored.'),
})
export type ApiKeyCreated = z.infer<typeof ApiKeyCreatedSchema>
