/**
 * Accounts and credentials: sign-up, sign-in, admin-created users, API keys, and turning a bearer
 * credential into the account it belongs to.
 */
import type { Actor, RequestOrigin } from '../access/actor.js'
import { randomUUID } from 'node:crypto'
import { isIP } from 'node:net'
import type { Transaction } from 'kysely'
import type { AccessService } from '../access/access.service.js'
import { recordAudit } from '../audit/audit-log.js'
import type { Config } from '../config/env.js'
import type { Database } from '../db/database.js'
import { isUniqueViolation } from '../db/errors.js'
import { epochSeconds, lockInTransaction } from '../db/executor.js'
import type { DB } from '../db/types.js'
import { AppError, fieldError } from '../errors/app-error.js'
import { UsersRepo, type UserRow } from '../users/users.repo.js'
import type { AccountCredentials } from '../users/users.service.js'
import { API_KEY_PREFIX, apiKeyHint, generateApiKey, hashApiKey } from './api-key-secret.js'
import { ApiKeysRepo } from './api-keys.repo.js'
import type { AddUserInput, ApiKeyCreated, ApiKeyInfo, PasswordChangeInput, SessionResponse, SessionUser, SigninInput, SignupInput } from './auth.schema.js'
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from './passwords.js'
import { MemoryAttemptLimiter, type AttemptLimiter, type Reservation } from './rate-limiter.js'
import type { TokenSigner } from './tokens.js'
import type { AccountSettings } from './account-settings.js'
import { hash } from 'node:crypto'
import { TopicCache } from '../cache/topic-cache.js'
import type { ApiKeyRow } from './api-keys.repo.js'

/** last_used_at is refreshed at most this often, so API-key traffic does not write on every request. */
const API_KEY_TOUCH_INTERVAL_S = 60

/** Accounts and API keys kept in memory (each cache; docs/performance.md, "Gateway caches"). */
const CREDENTIAL_CACHE_ENTRIES = 10_000

/**
 * Refused sign-ins are audited once per account and client per refusal window, not once per request:
 * a client hammering a locked account must not be able to grow the audit log without bound. The map is
 * per process and emptied when it grows past this many entries.
 */
const RATE_LIMIT_AUDIT_MAX_KEYS = 10_000

/** What the audit log holds about an account: never its password hash or tokens. */
const auditedAccount = (user: Pick<UserRow, 'email' | 'name' | 'role'>) => ({ email: user.email, name: user.name, role: user.role })

export class AuthService implements AccountCredentials {
  private readonly users: UsersRepo
  private readonly apiKeys: ApiKeysRepo
  /** Account and client of each refused sign-in already audited → when that refusal window ends (ms). */
  private readonly auditedRefusals = new Map<string, number>()
  /**
   * The account by id and the API key by hash, as every request reads them: emptied by every write of
   * an account table on any instance (the database's write watch and the bus), bypassed while the bus is down.
   */
  private readonly accountsById: TopicCache<UserRow | undefined>
  private readonly keysByHash: TopicCache<ApiKeyRow | undefined>
  /** `last_used_at` touches under way, by account: reading the key waits for them (read your own use). */
  private readonly touches = new Map<string, Promise<void>>()

  /**
   * `limiter` counts password attempts per account and per client address (in memory, or shared
   * through Redis: src/services.ts chooses).
   */
  constructor(
    private readonly database: Database,
    private readonly config: Pick<Config, 'passwordMinLength' | 'signinRateLimit'> & Partial<Pick<Config, 'enableLoginForm'>>,
    private readonly tokens: TokenSigner,
    private readonly access: AccessService,
    /** Sign-up, default role, API keys and token lifetime as the admin set them (environment first). */
    readonly settings: AccountSettings,
    private readonly limiter: AttemptLimiter = new MemoryAttemptLimiter(config.signinRateLimit.windowMs),
    /** Where a failed `last_used_at` touch is reported (it runs off the request's path). */
    private readonly onBackgroundError: (error: Error) => void = () => undefined,
  ) {
    this.users = new UsersRepo(database.db)
    this.apiKeys = new ApiKeysRepo(database.db)
    this.accountsById = new TopicCache(database.watch, 'accounts', CREDENTIAL_CACHE_ENTRIES)
    this.keysByHash = new TopicCache(database.watch, 'accounts', CREDENTIAL_CACHE_ENTRIES)
  }

  /** Stops listening for invalidations (services.ts closes it with the services). */
  close(): void {
    this.accountsById.close()
    this.keysByHash.close()
  }

  /** The account by id, from the cache (a deleted account is remembered as none until a write). */
  private account(id: string): Promise<UserRow | undefined> {
    return this.accountsById.get(id, () => this.users.findById(id))
  }

  /** Public sign-up. The first account becomes admin; later ones get DEFAULT_USER_ROLE. */
  async signup(input: SignupInput, origin: RequestOrigin): Promise<SessionResponse> {
    this.checkPassword(input.password)
    const passwordHash = await hashPassword(input.password)
    // Read before the transaction (on SQLite it holds the only connection).
    const policy = await this.settings.policy()
    const user = await this.database.db.transaction().execute(async (trx) => {
      // Two first sign-ups at once must not both become admin: count and insert under one lock.
      await lockInTransaction(this.database, trx, 'modelgate:signup')
      const users = new UsersRepo(trx)
      const isFirst = (await users.count()) === 0
      if (!isFirst && !policy.enableSignup) {
        throw new AppError('ACCESS_PROHIBITED', 'Sign-up is disabled. Ask an administrator to add your account.')
      }
      // ENABLE_LOGIN_FORM=false: accounts come from the identity provider (the first one may still sign up: docs/sso.md).
      if (!isFirst && this.config.enableLoginForm === false) {
        throw new AppError('ACCESS_PROHIBITED', 'Sign-up with a password is disabled on this server (ENABLE_LOGIN_FORM). Sign in with single sign-on.')
      }
      const created = await this.insertUser(users, { ...input, role: isFirst ? 'admin' : policy.defaultUserRole }, passwordHash)
      await recordAudit(trx, [{ action: 'auth.signup', actorId: created.id, targetType: 'user', targetId: created.id, after: auditedAccount(created) }], origin)
      return created
    })
    return this.session(user)
  }

  /** An admin creates an account directly (no sign-up needed, default role user). */
  async addUser(input: AddUserInput, by: Actor): Promise<UserRow> {
    this.checkPassword(input.password)
    const passwordHash = await hashPassword(input.password)
    // The account and its credentials are two rows (and its audit entry a third): one transaction.
    return this.database.db.transaction().execute(async (trx) => {
      const user = await this.insertUser(new UsersRepo(trx), input, passwordHash)
      await recordAudit(trx, [{ action: 'user.create', actorId: by.id, targetType: 'user', targetId: user.id, after: auditedAccount(user) }], by.origin)
      return user
    })
  }

  /**
   * Checks credentials. An attempt is reserved per account and per client address before any password
   * work, atomically: past the limit (in-flight attempts included) the answer is 429 with Retry-After.
   */
  async signin(input: SigninInput, origin: RequestOrigin): Promise<SessionResponse> {
    const attempt = await this.reserveAttempt(input.email, origin)
    // The row (and its token_version) is read before the hash: a token signed below never carries a
    // version newer than the password it was checked against, so a concurrent reset still revokes it.
    const user = await this.users.findByEmail(input.email)
    const storedHash = user ? await this.users.passwordHashOf(user.id) : undefined
    // Verify against a dummy hash when the account is unknown, so timing does not reveal which emails exist.
    const isValid = await verifyPassword(input.password, storedHash ?? (await DUMMY_PASSWORD_HASH))
    // A failure needs nothing more: the reserved attempt stays counted until its window ends. It is
    // audited with the email that was tried (it passed the email schema, so it is no mistyped password).
    if (!user || !storedHash || !isValid) {
      await recordAudit(
        this.database.db,
        [
          {
            action: 'auth.signin_failed',
            actorId: null,
            ...(user && { targetType: 'user' as const, targetId: user.id }),
            after: { email: input.email, reason: 'invalid_credentials' },
          },
        ],
        origin,
      )
      throw new AppError('UNAUTHORIZED', 'The email or password is incorrect.')
    }
    // ENABLE_LOGIN_FORM=false refuses password sign-in but for admins (the break-glass of docs/sso.md),
    // judged after the password so that the answer tells nothing to whoever does not know it.
    if (this.config.enableLoginForm === false && user.role !== 'admin') {
      await recordAudit(
        this.database.db,
        [{ action: 'auth.signin_failed', actorId: null, targetType: 'user', targetId: user.id, after: { email: input.email, reason: 'login_form_disabled' } }],
        origin,
      )
      throw new AppError('ACCESS_PROHIBITED', 'Password sign-in is disabled on this server (ENABLE_LOGIN_FORM). Sign in with single sign-on.')
    }
    await attempt.succeed()
    await recordAudit(this.database.db, [{ action: 'auth.signin', actorId: user.id, targetType: 'user', targetId: user.id }], origin)
    return this.session(user)
  }

  /** A session for an account another sign-in method vouched for (OpenID Connect: src/sso), exactly as a password sign-in's. */
  issueSession(user: UserRow): Promise<SessionResponse> {
    return this.session(user)
  }

  /**
   * Sign-out: tokens are stateless, so the client discarding its token is the sign-out. A request that
   * carries a valid credential is audited (`auth.signout`); one without is not (anybody could call it).
   */
  async signout(authorization: string | undefined, origin: RequestOrigin): Promise<void> {
    if (authorization === undefined) return
    let user: UserRow
    try {
      user = (await this.authenticateCredential(authorization)).user
    } catch {
      return
    }
    await recordAudit(this.database.db, [{ action: 'auth.signout', actorId: user.id, targetType: 'user', targetId: user.id }], origin)
  }

  /**
   * The signed-in user changes their own password (Open WebUI's `POST /auths/update/password`). The
   * current password is checked under the sign-in limits. Every other session of the account is revoked;
   * the session token the request came with (`credential`, when it is one) stays valid, and the answer
   * carries a fresh token too. API keys stay.
   */
  async changePassword(
    user: UserRow & Pick<Actor, 'origin'>,
    input: PasswordChangeInput,
    origin: RequestOrigin,
    credential?: string,
  ): Promise<SessionResponse> {
    this.checkPassword(input.new_password, 'new_password')
    const attempt = await this.reserveAttempt(user.email, origin)
    const storedHash = await this.users.passwordHashOf(user.id)
    if (!storedHash || !(await verifyPassword(input.password, storedHash))) {
      // A stolen session guessing the password is a failed sign-in too, by a known actor.
      await recordAudit(
        this.database.db,
        [
          {
            action: 'auth.signin_failed',
            actorId: user.id,
            targetType: 'user',
            targetId: user.id,
            after: { email: user.email, reason: 'wrong_current_password' },
          },
        ],
        origin,
      )
      throw fieldError('VALIDATION_ERROR', 'body.password', 'the current password is incorrect.')
    }
    await attempt.succeed()
    const passwordHash = await hashPassword(input.new_password)
    const updated = await this.database.db.transaction().execute(async (trx) => {
      const users = new UsersRepo(trx)
      // Revoked (reset, demotion, another change) or deleted while the passwords were being hashed: the
      // session that asked is no longer valid, and must not undo an admin's reset.
      if (!(await users.lockAtVersion(user.id, Number(user.token_version)))) return undefined
      await users.setPasswordHash(user.id, passwordHash)
      await users.revokeSessions(user.id)
      // The caller's own session token survives its revocation (Open WebUI's client keeps using it).
      const kept = bearerOf(credential)
      if (kept && !kept.startsWith(API_KEY_PREFIX)) await users.keepToken(user.id, tokenHash(kept))
      await recordAudit(
        trx,
        [{ action: 'user.update', actorId: user.id, targetType: 'user', targetId: user.id, after: { password_changed: true, sessions_revoked: true } }],
        origin,
      )
      return users.update(user.id, { updated_at: epochSeconds() })
    })
    if (!updated) throw new AppError('UNAUTHORIZED', 'The token is not valid, has expired or was revoked. Sign in again.')
    return this.session(updated)
  }

  /**
   * The account behind an `Authorization` header value (JWT or `sk-` API key), or a 401 naming what is
   * wrong. Every request loads the account (so its current role applies), which also revokes at once
   * the tokens of a deleted account and those older than its token_version: no query of its own.
   */
  async authenticate(authorization: string | undefined): Promise<UserRow> {
    return (await this.authenticateCredential(authorization)).user
  }

  /**
   * `authenticate`, also saying what the credential was: a session token (`jwt`, with its expiry and the
   * token itself) or an API key. API keys answer 403 while the admin config disables them.
   */
  async authenticateCredential(authorization: string | undefined): Promise<AuthenticatedCredential> {
    const credential = bearerOf(authorization)
    if (!credential) throw new AppError('UNAUTHORIZED')
    if (credential.startsWith(API_KEY_PREFIX)) {
      const keyHash = hashApiKey(credential)
      // Unknown keys are not remembered: guesses must not push real keys out of the cache.
      const key = await this.keysByHash.get(
        keyHash,
        () => this.apiKeys.findByHash(keyHash),
        (row) => row !== undefined,
      )
      const user = key ? await this.account(key.user_id) : undefined
      if (!key || !user) throw new AppError('UNAUTHORIZED', 'The API key is not valid or was revoked.')
      if (!(await this.settings.policy()).enableApiKeys) {
        throw new AppError('ACCESS_PROHIBITED', 'API keys are disabled on this server (ENABLE_API_KEYS). Sign in instead.')
      }
      const now = epochSeconds()
      if (key.last_used_at === null || now - Number(key.last_used_at) >= API_KEY_TOUCH_INTERVAL_S) {
        // Throttled in memory (the cached row) and off the request's path; the driver does not count
        // this write as a change of the key (src/db/write-watch.ts).
        key.last_used_at = now
        const touch = this.apiKeys
          .touch(key.id, now)
          .catch((error: unknown) => this.onBackgroundError(error instanceof Error ? error : new Error(String(error))))
          .finally(() => {
            if (this.touches.get(key.user_id) === touch) this.touches.delete(key.user_id)
          })
        this.touches.set(key.user_id, touch)
      }
      return { user, kind: 'api_key', expiresAt: null }
    }
    const claims = await this.tokens.verify(credential)
    const user = claims ? await this.account(claims.userId) : undefined
    // A token of an older version is revoked, unless it is the one the account's last own password change kept.
    const current =
      user &&
      claims &&
      (Number(user.token_version) === claims.version || (claims.version < Number(user.token_version) && user.kept_token === tokenHash(credential)))
    if (!claims || !user || !current) {
      throw new AppError('UNAUTHORIZED', 'The token is not valid, has expired or was revoked. Sign in again.')
    }
    return { user, kind: 'jwt', expiresAt: claims.expiresAt, token: credential }
  }

  /** `expiresAt`: when the request's credential expires (null for an API key or a token that never does). */
  async sessionUser(user: UserRow, expiresAt: number | null = null): Promise<SessionUser> {
    return {
      id: user.id,
      email: user.email,
      name: user.name,
      role: user.role,
      profile_image_url: user.profile_image_url,
      permissions: await this.access.featurePermissions(user),
      token_type: 'Bearer',
      expires_at: expiresAt,
    }
  }

  /** Open WebUI's `GET /auths/signup/enabled`. */
  async signupEnabled(): Promise<boolean> {
    return (await this.settings.policy()).enableSignup
  }

  /**
   * Whom a pending account should ask (`GET /auths/admin/details`): the first admin's name and email, while
   * the admin config's SHOW_ADMIN_DETAILS is on (403 otherwise, as Open WebUI refuses it).
   */
  async adminDetails(): Promise<{ name: string | null; email: string | null }> {
    if (!(await this.settings.policy()).showAdminDetails) {
      throw new AppError('ACCESS_PROHIBITED', 'The administrator details are not shown on this server (SHOW_ADMIN_DETAILS).')
    }
    const admin = await this.users.firstAdmin()
    return { name: admin?.name ?? null, email: admin?.email ?? null }
  }

  /** Creates (or replaces) the caller's API key; the key is returned this once. */
  async createApiKey(user: UserRow & Pick<Actor, 'origin'>): Promise<ApiKeyCreated> {
    if (!(await this.settings.policy()).enableApiKeys) {
      throw new AppError('ACCESS_PROHIBITED', 'API keys are disabled on this server (ENABLE_API_KEYS).')
    }
    const key = generateApiKey()
    const row = {
      id: randomUUID(),
      user_id: user.id,
      key_hash: hashApiKey(key),
      key_hint: apiKeyHint(key),
      created_at: epochSeconds(),
      last_used_at: null,
    }
    // A reset or demotion committed since this request authenticated revokes the credential it came
    // with: the key must not outlive it (the version check and the write are one transaction).
    const created = await this.database.db.transaction().execute(async (trx) => {
      if (!(await new UsersRepo(trx).lockAtVersion(user.id, Number(user.token_version)))) return false
      const keys = new ApiKeysRepo(trx)
      const replaced = await keys.findByUser(user.id)
      await keys.replace(row)
      // The hint only (sk-abc…wxyz), never the key or its hash; a replaced key is named in `before`.
      await recordAudit(
        trx,
        [
          {
            action: 'api_key.create',
            actorId: user.id,
            targetType: 'api_key',
            targetId: row.id,
            before: replaced ? { id: replaced.id, key_hint: replaced.key_hint } : null,
            after: { user_id: user.id, key_hint: row.key_hint },
          },
        ],
        user.origin,
      )
      return true
    })
    if (!created) throw new AppError('UNAUTHORIZED', 'The token is not valid, has expired or was revoked. Sign in again.')
    return { api_key: key, key_hint: row.key_hint, created_at: row.created_at, last_used_at: null }
  }

  async getApiKey(user: UserRow): Promise<ApiKeyInfo> {
    await this.touches.get(user.id)
    const row = await this.apiKeys.findByUser(user.id)
    if (!row) throw new AppError('NOT_FOUND', 'You have no API key. Create one with POST /api/v1/auths/api_key.')
    return {
      key_hint: row.key_hint,
      created_at: Number(row.created_at),
      last_used_at: row.last_used_at === null ? null : Number(row.last_used_at),
    }
  }

  async deleteApiKey(user: UserRow & Pick<Actor, 'origin'>): Promise<true> {
    const deleted = await this.database.db.transaction().execute(async (trx) => {
      const keys = new ApiKeysRepo(trx)
      const row = await keys.findByUser(user.id)
      if (!row || !(await keys.deleteByUser(user.id))) return false
      await recordAudit(
        trx,
        [{ action: 'api_key.delete', actorId: user.id, targetType: 'api_key', targetId: row.id, before: { user_id: user.id, key_hint: row.key_hint } }],
        user.origin,
      )
      return true
    })
    if (!deleted) throw new AppError('NOT_FOUND', 'You have no API key.')
    return true
  }

  /** Account administration's password reset (users.service.ts asks through AccountCredentials). */
  hashPassword(password: string): Promise<string> {
    return hashPassword(password)
  }

  /** Deletes the account's API key inside `trx` (a reset or a demotion to pending revokes it). */
  async revokeApiKey(trx: Transaction<DB>, userId: string): Promise<void> {
    await new ApiKeysRepo(trx).deleteByUser(userId)
  }

  /** Rejects a password shorter than PASSWORD_MIN_LENGTH (the schema caps the length). */
  checkPassword(password: string, field = 'password'): void {
    if ([...password].length < this.config.passwordMinLength) {
      throw fieldError('VALIDATION_ERROR', `body.${field}`, `must be at least ${this.config.passwordMinLength} characters`)
    }
  }

  /**
   * Reserves one password attempt against the account (SIGNIN_MAX_ATTEMPTS per window) and the client
   * address (five times as many: an office behind one address must not be locked out by one person's
   * typos, while a password sprayer still is), or answers 429. Success clears the account's count and
   * gives the address its attempt back; a failure stays counted.
   */
  private async reserveAttempt(email: string, origin: RequestOrigin): Promise<Extract<Reservation, { granted: true }>> {
    const clientAddress = origin.ip ?? ''
    const { maxAttempts } = this.config.signinRateLimit
    const reservation = await this.limiter.reserve([
      { key: `account:${email}`, limit: maxAttempts, onSuccess: 'reset' },
      { key: `address:${clientKey(clientAddress)}`, limit: maxAttempts * 5, onSuccess: 'release' },
    ])
    if (!reservation.granted) {
      const retryAfter = reservation.retryAfterSeconds
      await this.auditRefusal(email, origin, retryAfter)
      throw new AppError('RATE_LIMITED', `Too many failed sign-in attempts. Try again in ${retryAfter} s.`, {
        'retry-after': String(retryAfter),
      })
    }
    return reservation
  }

  /** Audits a refused (rate-limited) attempt, once per account and client per refusal window. */
  private async auditRefusal(email: string, origin: RequestOrigin, retryAfterSeconds: number): Promise<void> {
    // Keyed on the client address alone: a client past its limit trying a new email per request must
    // not write one row per request (review of #12).
    const key = clientKey(origin.ip ?? '')
    const now = Date.now()
    if ((this.auditedRefusals.get(key) ?? 0) > now) return
    if (this.auditedRefusals.size >= RATE_LIMIT_AUDIT_MAX_KEYS) this.auditedRefusals.clear()
    this.auditedRefusals.set(key, now + retryAfterSeconds * 1000)
    await recordAudit(this.database.db, [{ action: 'auth.signin_rate_limited', actorId: null, after: { email, retry_after_s: retryAfterSeconds } }], origin)
  }

  private async insertUser(users: UsersRepo, input: Omit<AddUserInput, 'password'>, passwordHash: string): Promise<UserRow> {
    if (await users.findByEmail(input.email)) throw emailTaken()
    const now = epochSeconds()
    const user: UserRow = {
      id: randomUUID(),
      email: input.email,
      name: input.name,
      role: input.role,
      profile_image_url: input.profile_image_url ?? '',
      created_at: now,
      updated_at: now,
      token_version: 0,
      kept_token: null,
      oauth_sub: null,
    }
    try {
      await users.insert(user, passwordHash)
    } catch (error) {
      // The check above races with a concurrent insert of the same email; the UNIQUE index decides.
      if (isUniqueViolation(error)) throw emailTaken()
      throw error
    }
    return user
  }

  private async session(user: UserRow): Promise<SessionResponse> {
    const signed = await this.tokens.sign(user.id, Number(user.token_version), (await this.settings.policy()).jwtExpiresInMs)
    return { ...(await this.sessionUser(user, signed.expires_at)), token: signed.token }
  }
}

/** What authenticated a request. */
export type AuthenticatedCredential =
  { user: UserRow; kind: 'jwt'; expiresAt: number | null; token: string } | { user: UserRow; kind: 'api_key'; expiresAt: null }

/** The credential of an `Authorization: Bearer …` value, or undefined. */
function bearerOf(authorization: string | undefined): string | undefined {
  const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null
  return match?.[1]
}

/** How a kept session token is stored: its sha256 (a leaked row is no token). */
const tokenHash = (token: string): string => hash('sha256', token, 'hex')

/**
 * The client an address stands for, as the address limit counts it: an IPv4 address as is (also when it
 * arrives IPv4-mapped, `::ffff:192.0.2.1`), an IPv6 address by its /64 (one site: whoever holds one IPv6
 * address holds 2^64 of them, and rotating through them must not reset the limit).
 */
export function clientKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped?.[1]) return mapped[1]
  if (isIP(address) !== 6) return address
  const [head = '', tail] = (address.toLowerCase().split('%')[0] ?? '').split('::')
  const groupsOf = (part: string) => (part ? part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : [])
  const left = groupsOf(head)
  const right = tail === undefined ? [] : groupsOf(tail)
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`
}

export const emailTaken = () => new AppError('CONFLICT', 'An account with this email is already registered.')
