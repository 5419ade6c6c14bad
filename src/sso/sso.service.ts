/**
 * OpenID Connect sign-in (issue #15; docs/sso.md): turns the claims the relying party verified into a
 * modelgate account and session, as Open WebUI's variables say — find the account by its subject, else
 * (OAUTH_MERGE_ACCOUNTS_BY_EMAIL, verified emails only) by email, else create it (ENABLE_OAUTH_SIGNUP);
 * the role from the claims (ENABLE_OAUTH_ROLE_MANAGEMENT), the groups from the claims
 * (ENABLE_OAUTH_GROUP_MANAGEMENT). Everything a sign-in writes is one transaction; the decisions are
 * src/access/sso-decisions.ts's.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import type { RequestOrigin } from '../access/actor.js'
import { claimAt, claimList, emailDomainAllowed, emailMerge, roleRank, ssoRole } from '../access/sso-decisions.js'
import { recordAudit, type AuditEvent } from '../audit/audit-log.js'
import type { AuthService } from '../auth/auth.service.js'
import type { SessionResponse } from '../auth/auth.schema.js'
import type { OidcConfig } from '../config/env.js'
import type { Database } from '../db/database.js'
import { isUniqueViolation } from '../db/errors.js'
import { epochSeconds, lockInTransaction } from '../db/executor.js'
import type { GroupsService } from '../groups/groups.service.js'
import { emailText } from '../schema/common.js'
import { UsersRepo, type UserRow } from '../users/users.repo.js'
import type { UsersService } from '../users/users.service.js'
import { FLOW_LIFETIME_S } from './flow-cookie.js'
import { demotesLastAdmin } from '../access/last-admin.js'

/** Why a sign-in was refused: a code the sign-in page turns into a sentence (docs/sso.md lists them). */
export type SsoRefusalCode =
  | 'invalid_state'
  | 'invalid_nonce'
  | 'invalid_code'
  | 'provider_error'
  | 'missing_sub'
  | 'missing_email'
  | 'domain_not_allowed'
  | 'email_not_verified'
  | 'email_taken'
  | 'signup_disabled'
  | 'role_not_allowed'

export class SsoRefusal extends Error {
  constructor(
    readonly code: SsoRefusalCode,
    message: string,
  ) {
    super(message)
    this.name = 'SsoRefusal'
  }
}

/** The `oauth_sub` of a subject (Open WebUI's `provider@sub`). */
const linkOf = (sub: string) => `oidc@${sub}`

/** Names and pictures from a provider are cut to what the account columns hold. */
const MAX_NAME = 255
const MAX_PICTURE = 2000

/** Refusals before the provider vouched for anyone: no flow cookie or a forged one, a bad state, nonce or code, an error answer. */
const UNVOUCHED: ReadonlySet<SsoRefusalCode> = new Set(['invalid_state', 'invalid_nonce', 'invalid_code', 'provider_error'])
/** How many of them are audited per client address and window (the flow cookie's lifetime). */
const UNVOUCHED_AUDITS = 5
const UNVOUCHED_WINDOW_MS = FLOW_LIFETIME_S * 1000
/** Addresses tracked at most (then the count starts over), so that the map cannot grow without bound. */
const UNVOUCHED_MAX_ADDRESSES = 10_000

export class SsoService {
  /** Client address → unvouched refusals audited in its current window, and when that window ends (ms). */
  private readonly unvouchedAudits = new Map<string, { count: number; until: number }>()

  constructor(
    private readonly database: Database,
    readonly config: OidcConfig,
    private readonly auth: AuthService,
    private readonly users: UsersService,
    private readonly groups: GroupsService,
  ) {}

  /** Signs in the person the claims describe (or refuses, with an SsoRefusal); the session is a password sign-in's. */
  async signIn(claims: Record<string, unknown>, origin: RequestOrigin): Promise<SessionResponse> {
    const config = this.config
    const rawSub = claimAt(claims, config.subClaim)
    const sub = typeof rawSub === 'string' || typeof rawSub === 'number' ? String(rawSub) : ''
    if (sub === '' || sub.length > 512) return this.refuse('missing_sub', 'The identity provider did not name the account (no subject claim).', null, origin)
    const parsedEmail = emailText.safeParse(claimAt(claims, config.emailClaim))
    if (!parsedEmail.success) return this.refuse('missing_email', 'The identity provider gave no valid email address for the account.', null, origin, { sub })
    const email = parsedEmail.data
    if (!emailDomainAllowed(email, config.allowedDomains)) {
      return this.refuse('domain_not_allowed', `Accounts of the domain "${email.split('@')[1] ?? ''}" may not sign in here.`, null, origin, { sub, email })
    }
    const name = textClaim(claimAt(claims, config.usernameClaim), MAX_NAME) ?? email
    const picture = pictureClaim(claimAt(claims, config.pictureClaim))
    // Read before the transaction (on SQLite it holds the only connection); the hash is slow.
    const policy = await this.auth.settings.policy()
    const unusablePassword = await this.auth.hashPassword(randomBytes(32).toString('base64url'))

    type Outcome = { user: UserRow } | { refusal: SsoRefusal; userId: string | null; after: Record<string, unknown> }
    let outcome: Outcome
    try {
      outcome = await this.database.db.transaction().execute(async (trx): Promise<Outcome> => {
        // One lock for every account-creating sign-in: two first sign-ins cannot both become admin.
        await lockInTransaction(this.database, trx, 'modelgate:signup')
        const users = new UsersRepo(trx)
        const audit: AuditEvent[] = []
        let user = await users.findByOauthSub(linkOf(sub))
        const sameEmail = user ? undefined : await users.findByEmail(email)
        if (!user && sameEmail) {
          const merge = emailMerge(config.mergeAccountsByEmail, claims, sameEmail)
          if (merge !== 'merge') {
            const detail =
              merge === 'not_verified'
                ? 'An account with this email exists, and the identity provider does not say the email is verified: it is not joined.'
                : 'An account with this email is already registered. Ask an administrator to link it.'
            return {
              refusal: new SsoRefusal(merge === 'not_verified' ? 'email_not_verified' : 'email_taken', detail),
              userId: sameEmail.id,
              after: { sub, email },
            }
          }
          user = (await users.update(sameEmail.id, { oauth_sub: linkOf(sub), updated_at: epochSeconds() })) ?? sameEmail
          audit.push({
            action: 'user.sso_link',
            actorId: user.id,
            targetType: 'user',
            targetId: user.id,
            after: { oauth_sub: linkOf(sub), via: 'verified_email' },
          })
        }
        const isFirst = !user && (await users.count()) === 0
        // For an account the SCIM client manages, pending is `active: false`: the roles claim does not undo it.
        const deactivated = user?.role === 'pending' && (await users.isScimManaged(user.id))
        const decision = ssoRole(config, claims, { isFirst, existingRole: user?.role ?? null, defaultRole: policy.defaultUserRole, deactivated })
        if (!decision.allowed) {
          // Roles no longer allowed: whatever sessions the account still has end now (committed with the refusal).
          if (user) {
            await users.revokeSessions(user.id)
            await this.auth.revokeApiKey(trx, user.id)
          }
          return {
            refusal: new SsoRefusal('role_not_allowed', 'Your roles at the identity provider do not allow you to use this server.'),
            userId: user?.id ?? null,
            after: { sub, email, roles: decision.roles, sessions_revoked: user !== undefined },
          }
        }
        if (!user) {
          if (!isFirst && !config.enableSignup) {
            return {
              refusal: new SsoRefusal(
                'signup_disabled',
                'There is no account for you here, and single sign-on does not create accounts (ENABLE_OAUTH_SIGNUP).',
              ),
              userId: null,
              after: { sub, email },
            }
          }
          const now = epochSeconds()
          user = {
            id: randomUUID(),
            email,
            name,
            role: decision.role,
            profile_image_url: picture ?? '',
            created_at: now,
            updated_at: now,
            token_version: 0,
            kept_token: null,
            oauth_sub: linkOf(sub),
          }
          await users.insert(user, unusablePassword)
          audit.push({
            action: 'auth.signup',
            actorId: user.id,
            targetType: 'user',
            targetId: user.id,
            after: { email, name, role: user.role, method: 'oidc' },
          })
        } else {
          user = await this.applyClaims(trx, users, user, { role: decision.role, name, email, picture }, audit)
        }
        if (config.groupManagement && user.role !== 'admin') {
          const names = claimList(claims, config.groupsClaim)
          // An absent claim changes nothing (the provider may not send it for this client); an empty list leaves every group.
          if (names !== undefined) {
            await this.groups.syncMemberships(trx, { id: user.id, role: user.role, origin }, names, {
              create: config.groupCreation,
              blocked: config.blockedGroups,
              source: 'oidc',
            })
          }
        }
        audit.push({ action: 'auth.signin', actorId: user.id, targetType: 'user', targetId: user.id, after: { method: 'oidc', sub } })
        await recordAudit(trx, audit, origin)
        return { user }
      })
    } catch (error) {
      // A concurrent first sign-in of the same subject or email won the unique index: this one is refused, not a 500.
      if (isUniqueViolation(error)) return this.refuse('email_taken', 'An account with this email is already registered.', null, origin, { sub, email })
      throw error
    }
    if ('refusal' in outcome) return this.refuse(outcome.refusal.code, outcome.refusal.message, outcome.userId, origin, outcome.after)
    return this.auth.issueSession(outcome.user)
  }

  /**
   * What a sign-in changes on an existing account: the role (a demotion ends its sessions and API key;
   * the last admin is never demoted), and name, email, picture when OAUTH_UPDATE_*_ON_LOGIN say so.
   */
  private async applyClaims(
    trx: Parameters<UsersService['afterUpdate']>[0],
    users: UsersRepo,
    user: UserRow,
    from: { role: UserRow['role']; name: string; email: string; picture: string | null },
    audit: AuditEvent[],
  ): Promise<UserRow> {
    const patch: Partial<UserRow> = {}
    let role = from.role
    const countAdminsLocked = async () => {
      await lockInTransaction(this.database, trx, 'modelgate:admins')
      return users.countAdmins()
    }
    if (await demotesLastAdmin(user.role, role, countAdminsLocked)) role = 'admin'
    if (role !== user.role) patch.role = role
    if (this.config.updateNameOnLogin && from.name !== user.name) patch.name = from.name
    if (this.config.updateEmailOnLogin && from.email !== user.email) {
      const other = await users.findByEmail(from.email)
      if (!other) patch.email = from.email
    }
    if (this.config.updatePictureOnLogin && from.picture !== null && from.picture !== user.profile_image_url) patch.profile_image_url = from.picture
    if (Object.keys(patch).length === 0) return user
    const demoted = patch.role !== undefined && roleRank(patch.role) < roleRank(user.role)
    if (demoted) {
      await users.revokeSessions(user.id)
      await this.auth.revokeApiKey(trx, user.id)
    }
    const updated = (await users.update(user.id, { ...patch, updated_at: epochSeconds() })) ?? user
    const before: Record<string, unknown> = {}
    const after: Record<string, unknown> = { source: 'oidc' }
    for (const field of ['role', 'name', 'email'] as const) {
      if (patch[field] !== undefined) {
        before[field] = user[field]
        after[field] = patch[field]
      }
    }
    if (patch.profile_image_url !== undefined) after['profile_image_changed'] = true
    if (demoted) after['sessions_revoked'] = true
    audit.push({ action: 'user.update', actorId: user.id, targetType: 'user', targetId: user.id, before, after })
    await this.users.afterUpdate(trx, updated)
    return updated
  }

  /**
   * Audits a refused sign-in (`auth.signin_failed`, method oidc, the reason) and throws it. A refusal before
   * the provider vouched for anyone (UNVOUCHED: anybody can cause one with a forged callback, at no cost)
   * is audited at most UNVOUCHED_AUDITS times per client address and window, so that an anonymous client
   * cannot write one audit row per request; it is refused all the same.
   */
  async refuse(code: SsoRefusalCode, message: string, userId: string | null, origin: RequestOrigin, after: Record<string, unknown> = {}): Promise<never> {
    if (UNVOUCHED.has(code) && !this.unvouchedAuditAllowed(origin.ip ?? '')) throw new SsoRefusal(code, message)
    await recordAudit(
      this.database.db,
      [
        {
          action: 'auth.signin_failed',
          actorId: null,
          ...(userId && { targetType: 'user' as const, targetId: userId }),
          after: { ...after, method: 'oidc', reason: code },
        },
      ],
      origin,
    )
    throw new SsoRefusal(code, message)
  }

  /** Counts one audited unvouched refusal of `address` in its window; false once the window's budget is spent. */
  private unvouchedAuditAllowed(address: string): boolean {
    const now = Date.now()
    const entry = this.unvouchedAudits.get(address)
    if (!entry || entry.until <= now) {
      if (this.unvouchedAudits.size >= UNVOUCHED_MAX_ADDRESSES) this.unvouchedAudits.clear()
      this.unvouchedAudits.set(address, { count: 1, until: now + UNVOUCHED_WINDOW_MS })
      return true
    }
    if (entry.count >= UNVOUCHED_AUDITS) return false
    entry.count += 1
    return true
  }
}

/** A string claim without control characters, cut to `max` characters; null when there is none. */
function textClaim(value: unknown, max: number): string | null {
  if (typeof value !== 'string') return null
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, ' ').trim()
  return clean === '' ? null : [...clean].slice(0, max).join('')
}

/** A picture claim: an http(s) URL of reasonable length, else none. */
function pictureClaim(value: unknown): string | null {
  const text = textClaim(value, MAX_PICTURE + 1)
  if (text === null || text.length > MAX_PICTURE) return null
  try {
    const url = new URL(text)
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null
  } catch {
    return null
  }
}
