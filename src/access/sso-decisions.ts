/**
 * The decisions of OpenID Connect sign-in (docs/sso.md), each in one named function: whether an email's
 * domain may sign in, which role the provider's claims give (or that they give none: refused), and
 * whether a sign-in may join an existing account by its email. The sign-in itself (src/sso) asks these.
 */
import type { OidcConfig, UserRole } from '../config/env.js'

/** The value at a dot path of the claims (`realm_access.roles`), or undefined. A key holding dots itself is tried whole first. */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (path === '') return undefined
  if (Object.hasOwn(claims, path)) return claims[path]
  let value: unknown = claims
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, key)) return undefined
    value = (value as Record<string, unknown>)[key]
  }
  return value
}

/**
 * A claim as a list of names: a list (its strings and numbers), a single string or number as a list of
 * one; undefined when the claim is absent (or of another shape), which is not the same as an empty list.
 */
export function claimList(claims: Record<string, unknown>, path: string): string[] | undefined {
  const value = claimAt(claims, path)
  if (Array.isArray(value)) return value.filter((v) => typeof v === 'string' || typeof v === 'number').map(String)
  if (typeof value === 'string' || typeof value === 'number') return [String(value)]
  return undefined
}

/** OAUTH_ALLOWED_DOMAINS: `*` allows any; otherwise the email's domain must be listed exactly (case-insensitive). */
export function emailDomainAllowed(email: string, allowedDomains: readonly string[]): boolean {
  if (allowedDomains.includes('*')) return true
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase()
  return allowedDomains.includes(domain)
}

export type SsoRoleDecision = { allowed: true; role: UserRole } | { allowed: false; roles: string[] }

/**
 * The role a sign-in gives. The very first account of the server is admin (as with a password). With
 * ENABLE_OAUTH_ROLE_MANAGEMENT the claim decides at every sign-in: any of OAUTH_ADMIN_ROLES → admin, else
 * any of OAUTH_ALLOWED_ROLES → user, else refused (Open WebUI falls back to the default role there;
 * issue #15 asks for a refusal). Without it a new account gets DEFAULT_USER_ROLE and an existing one
 * keeps its role. An account the SCIM client deactivated (`deactivated`) stays pending either way.
 */
export function ssoRole(
  config: Pick<OidcConfig, 'roleManagement' | 'rolesClaim' | 'allowedRoles' | 'adminRoles'>,
  claims: Record<string, unknown>,
  account: { isFirst: boolean; existingRole: UserRole | null; defaultRole: UserRole; deactivated?: boolean },
): SsoRoleDecision {
  if (account.isFirst) return { allowed: true, role: 'admin' }
  // Deactivated by the SCIM client (`active: false`): only the SCIM client reactivates it, whatever the roles claim says.
  if (account.deactivated) return { allowed: true, role: 'pending' }
  if (!config.roleManagement) return { allowed: true, role: account.existingRole ?? account.defaultRole }
  const roles = claimList(claims, config.rolesClaim) ?? []
  if (roles.some((role) => config.adminRoles.includes(role))) return { allowed: true, role: 'admin' }
  if (roles.some((role) => config.allowedRoles.includes(role))) return { allowed: true, role: 'user' }
  return { allowed: false, roles }
}

/** How much a role may do, to tell a demotion (which ends the account's sessions) from a promotion. */
export function roleRank(role: UserRole): number {
  return role === 'admin' ? 2 : role === 'user' ? 1 : 0
}

export type EmailMergeDecision = 'merge' | 'not_verified' | 'linked_elsewhere' | 'disabled'

/**
 * Whether a first OpenID sign-in may take over the existing account of the same email
 * (OAUTH_MERGE_ACCOUNTS_BY_EMAIL): only when the provider says the email is verified (`email_verified`),
 * and only an account not yet linked to another subject.
 */
export function emailMerge(mergeByEmail: boolean, claims: Record<string, unknown>, account: { oauth_sub: string | null }): EmailMergeDecision {
  if (!mergeByEmail) return 'disabled'
  const verified = claims['email_verified'] === true || claims['email_verified'] === 'true'
  if (!verified) return 'not_verified'
  if (account.oauth_sub !== null) return 'linked_elsewhere'
  return 'merge'
}
