/** The effective single sign-on configuration as an admin reads it (secrets masked) and as the sign-in page reads it. */
import type { Config } from '../config/env.js'
import type { SsoConfig } from './sso.schema.js'

const MASKED = '•••••••• (set)'

const flag = (value: boolean) => (value ? 'true' : 'false')

export function ssoConfigView(config: Pick<Config, 'oidc' | 'enableLoginForm'>): SsoConfig {
  const o = config.oidc
  const v = (name: string, value: string | null, secret = false) => ({ name, value: secret && value !== null ? MASKED : value, secret })
  return {
    oidc: { enabled: o !== null, provider_name: o?.providerName ?? null, login_path: '/oauth/oidc/login', callback_url: o?.redirectUri ?? null },
    variables: [
      v('ENABLE_LOGIN_FORM', flag(config.enableLoginForm)),
      v('OPENID_PROVIDER_URL', o?.providerUrl ?? null),
      v('OAUTH_CLIENT_ID', o?.clientId ?? null),
      v('OAUTH_CLIENT_SECRET', o?.clientSecret ?? null, true),
      v('OAUTH_SCOPES', o?.scopes ?? null),
      v('OPENID_REDIRECT_URI', o?.redirectUri ?? null),
      v('OAUTH_PROVIDER_NAME', o?.providerName ?? null),
      v('ENABLE_OAUTH_SIGNUP', o ? flag(o.enableSignup) : null),
      v('OAUTH_MERGE_ACCOUNTS_BY_EMAIL', o ? flag(o.mergeAccountsByEmail) : null),
      v('OAUTH_ALLOWED_DOMAINS', o?.allowedDomains.join(',') ?? null),
      v('OAUTH_SUB_CLAIM', o?.subClaim ?? null),
      v('OAUTH_EMAIL_CLAIM', o?.emailClaim ?? null),
      v('OAUTH_USERNAME_CLAIM', o?.usernameClaim ?? null),
      v('OAUTH_PICTURE_CLAIM', o?.pictureClaim ?? null),
      v('OAUTH_UPDATE_NAME_ON_LOGIN', o ? flag(o.updateNameOnLogin) : null),
      v('OAUTH_UPDATE_EMAIL_ON_LOGIN', o ? flag(o.updateEmailOnLogin) : null),
      v('OAUTH_UPDATE_PICTURE_ON_LOGIN', o ? flag(o.updatePictureOnLogin) : null),
      v('ENABLE_OAUTH_ROLE_MANAGEMENT', o ? flag(o.roleManagement) : null),
      v('OAUTH_ROLES_CLAIM', o?.rolesClaim ?? null),
      v('OAUTH_ALLOWED_ROLES', o?.allowedRoles.join(',') ?? null),
      v('OAUTH_ADMIN_ROLES', o?.adminRoles.join(',') ?? null),
      v('ENABLE_OAUTH_GROUP_MANAGEMENT', o ? flag(o.groupManagement) : null),
      v('ENABLE_OAUTH_GROUP_CREATION', o ? flag(o.groupCreation) : null),
      v('OAUTH_GROUPS_CLAIM', o?.groupsClaim ?? null),
      v('OAUTH_BLOCKED_GROUPS', o ? JSON.stringify(o.blockedGroups) : null),
    ],
  }
}
