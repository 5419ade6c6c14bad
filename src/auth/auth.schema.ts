import { z } from 'zod'
import { FEATURE_PERMISSIONS, PermissionTreeSchema } from '../access/feature-permissions.js'
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
  workspace: z.object({ models: z.boolean(), models_import: z.boolean(), models_export: z.boolean(), templates: z.boolean() }),
  sharing: z.object({ models: z.boolean(), public_models: z.boolean() }),
})

/** The session user (`GET /auths/`): the account, its resolved feature permissions and when its credential expires. */
export const SessionUserSchema = UserResponseSchema.pick({
  id: true,
  email: true,
  name: true,
  role: true,
  profile_image_url: true,
}).extend({
  permissions: PermissionsResponseSchema,
  token_type: z.literal('Bearer'),
  expires_at: epochSecondsSchema.nullable().describe('When the session token expires (epoch seconds); null for an API key or a token that never expires.'),
})
export type SessionUser = z.infer<typeof SessionUserSchema>

/** Sign-in and sign-up answer the session user with a fresh token. */
export const SessionResponseSchema = SessionUserSchema.extend({ token: z.string() })
export type SessionResponse = z.infer<typeof SessionResponseSchema>

/** Open WebUI's `POST /auths/update/profile` body; `bio`, `gender`, `date_of_birth` are accepted and not kept. */
export const ProfileUpdateSchema = z.looseObject({
  name: lineText(255).optional(),
  profile_image_url: ProfileImageSchema.optional(),
})
export type ProfileUpdateInput = z.infer<typeof ProfileUpdateSchema>

/** `GET /auths/admin/details`: whom pending accounts should ask (the first admin). */
export const AdminDetailsSchema = z.object({ name: z.string().nullable(), email: z.string().nullable() })

const jwtExpiresIn = text()
  .max(32)
  // The format of config/env.ts parseDuration (that module is not for the browser, which imports this one).
  .refine((raw) => /^\s*(-1|0*[1-9]\d{0,5}(ms|s|m|h|d|w))\s*$/.test(raw), 'expected a duration such as 30m, 12h, 4w or -1')
  .describe('Lifetime of tokens signed from now on: 30m, 12h, 4w, … or -1 (never expire).')

/** Keys of Open WebUI's admin config modelgate keeps as given without acting on them (ENABLE_CHANNELS, WEBUI_URL, …). */
const keptConfigValue = z.union([z.boolean(), z.number(), text().max(10_000), z.null()])

const adminConfigFields = {
  SHOW_ADMIN_DETAILS: z.boolean().describe('Pending accounts see whom to ask (GET /auths/admin/details).'),
  ENABLE_SIGNUP: z.boolean().describe('Public sign-up is open (the first account can always sign up).'),
  DEFAULT_USER_ROLE: RoleSchema.describe('Role of accounts created by sign-up.'),
  ENABLE_API_KEYS: z.boolean().describe('API keys may be created and used.'),
  ENABLE_API_KEY: z.boolean().describe("ENABLE_API_KEYS under Open WebUI's other name: one setting."),
}

/** `GET /auths/admin/config` (and the answer of `POST`). */
export const AdminConfigSchema = z.object({ ...adminConfigFields, JWT_EXPIRES_IN: z.string() }).catchall(keptConfigValue)
export type AdminConfig = z.infer<typeof AdminConfigSchema>

/** `POST /auths/admin/config`: every key optional (absent keys stay); other upper-case keys are kept as given. */
export const AdminConfigUpdateSchema = z
  .object({
    SHOW_ADMIN_DETAILS: adminConfigFields.SHOW_ADMIN_DETAILS.optional(),
    ENABLE_SIGNUP: adminConfigFields.ENABLE_SIGNUP.optional(),
    DEFAULT_USER_ROLE: adminConfigFields.DEFAULT_USER_ROLE.optional(),
    ENABLE_API_KEYS: adminConfigFields.ENABLE_API_KEYS.optional(),
    ENABLE_API_KEY: adminConfigFields.ENABLE_API_KEY.optional(),
    JWT_EXPIRES_IN: jwtExpiresIn.optional(),
  })
  .catchall(keptConfigValue)
  .superRefine((body, ctx) => {
    const extra = Object.keys(body).filter((key) => !(key in adminConfigFields) && key !== 'JWT_EXPIRES_IN')
    for (const key of extra) {
      if (!/^[A-Z][A-Z0-9_]{0,63}$/.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'unknown key: admin config keys are upper-case names' })
    }
    if (extra.length > 100) ctx.addIssue({ code: 'custom', path: [], message: 'at most 100 other keys' })
  })
export type AdminConfigUpdate = z.infer<typeof AdminConfigUpdateSchema>

const knownSections = [...new Set(FEATURE_PERMISSIONS.map((path) => path.split('.')[0] ?? ''))]
const sectionSchema = (section: string) =>
  z.looseObject(
    Object.fromEntries(FEATURE_PERMISSIONS.filter((path) => path.startsWith(`${section}.`)).map((path) => [path.slice(section.length + 1), z.boolean()])),
  )

/** `GET /users/default/permissions`: the stored tree (unknown keys kept), every known permission filled in. */
export const DefaultPermissionsSchema = z
  .object(
    Object.fromEntries(knownSections.map((section) => [section, sectionSchema(section)])) as Record<'workspace' | 'sharing', ReturnType<typeof sectionSchema>>,
  )
  .catchall(z.unknown())
  .describe("What every user has before groups: Open WebUI's USER_PERMISSIONS tree.")
export type DefaultPermissions = z.infer<typeof DefaultPermissionsSchema>

/** `POST /users/default/permissions` body: the whole tree (replaces the stored one). */
export const DefaultPermissionsUpdateSchema = PermissionTreeSchema

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
