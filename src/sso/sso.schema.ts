import { z } from 'zod'

/**
 * `GET /api/config`: what the sign-in page needs before anybody signs in, in Open WebUI's shape
 * (`oauth.providers` maps a provider to its button label; `features.enable_login_form`).
 */
export const PublicConfigSchema = z.object({
  status: z.literal(true),
  name: z.string(),
  version: z.string(),
  onboarding: z.boolean().describe('No account exists yet: the first sign-up creates the administrator (Open WebUI’s field).'),
  oauth: z.object({
    providers: z
      .record(z.string(), z.string())
      .describe('Sign-in providers and their names: {"oidc": OAUTH_PROVIDER_NAME} when OpenID Connect is configured; {} otherwise.'),
  }),
  features: z.object({
    auth: z.literal(true),
    enable_signup: z.boolean().describe('Public sign-up with a password is open (ENABLE_SIGNUP, and ENABLE_LOGIN_FORM).'),
    enable_login_form: z.boolean().describe('The email/password form is offered (ENABLE_LOGIN_FORM); admins may still use it (docs/sso.md).'),
    enable_api_key: z.boolean(),
    enable_oauth_signup: z.boolean().describe('A first single sign-on creates the account (ENABLE_OAUTH_SIGNUP).'),
  }),
})
export type PublicConfig = z.infer<typeof PublicConfigSchema>

/** One variable of the effective single sign-on configuration; secrets never leave the server. */
export const SsoVariableSchema = z.object({
  name: z.string().describe('The environment variable (Open WebUI’s name).'),
  value: z.string().nullable().describe('Its effective value as text; null when unset. A secret shows only whether it is set.'),
  secret: z.boolean(),
})

/** `GET /api/v1/sso/config` (admin): the effective configuration of single sign-on. */
export const SsoConfigSchema = z.object({
  oidc: z.object({
    enabled: z.boolean().describe('OPENID_PROVIDER_URL is set.'),
    provider_name: z.string().nullable(),
    login_path: z.string().describe('Where the sign-in button sends the browser.'),
    callback_url: z.string().nullable().describe('OPENID_REDIRECT_URI, or null when it follows the request (<this server>/oauth/oidc/callback).'),
  }),
  variables: z.array(SsoVariableSchema),
})
export type SsoConfig = z.infer<typeof SsoConfigSchema>
