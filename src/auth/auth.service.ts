/**
 * Accounts and credentials: sign-up, sign-in, admin-created users, API keys, and turning a bearer
 * credential into the account it belongs to.
 */
import { randomUUID } from 'node:crypto'
import type { AccessService } from '../access/access.service.js'
import type { Config } from '../config/env.js'
import type { Database } from '../db/database.js'
import { isUniqueViolation } from '../db/errors.js'
import { epochSeconds, lockInTransaction } from '../db/executor.js'
import { AppError } from '../errors/app-error.js'
import { UsersRepo, type UserRow } from '../users/users.repo.js'
import { API_KEY_PREFIX, apiKeyHint, generateApiKey, hashApiKey } from './api-key-secret.js'
import { ApiKeysRepo } from './api-keys.repo.js'
import type {
  AddUserInput,
  ApiKeyCreated,
  ApiKeyInfo,
  SessionResponse,
  SessionUser,
  SigninInput,
  SignupInput,
} from './auth.schema.js'
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from './passwords.js'
import { FailureRateLimiter } from './rate-limiter.js'
import type { TokenSigner } from './tokens.js'

/** last_used_at is refreshed at most this often, so API-key traffic does not write on every request. */
const API_KEY_TOUCH_INTERVAL_S = 60

export class AuthService {
  private readonly users: UsersRepo
  private readonly apiKeys: ApiKeysRepo
  /** Failed sign-ins per account. */
  private readonly accountLimiter: FailureRateLimiter
  /**
   * Failed sign-ins per client address, with a 5× higher limit: an office behind one address must not
   * be locked out by one person's typos, while a password sprayer still is.
   */
  private readonly addressLimiter: FailureRateLimiter

  constructor(
    private readonly database: Database,
    private readonly config: Pick<Config, 'defaultUserRole' | 'enableSignup' | 'passwordMinLength' | 'signinRateLimit'>,
    private readonly tokens: TokenSigner,
    private readonly access: AccessService,
  ) {
    this.users = new UsersRepo(database.db)
    this.apiKeys = new ApiKeysRepo(database.db)
    const { maxAttempts, windowMs } = config.signinRateLimit
    this.accountLimiter = new FailureRateLimiter(maxAttempts, windowMs)
    this.addressLimiter = new FailureRateLimiter(maxAttempts * 5, windowMs)
  }

  /** Public sign-up. The first account becomes admin; later ones get DEFAULT_USER_ROLE. */
  async signup(input: SignupInput): Promise<SessionResponse> {
    this.checkPassword(input.password)
    const passwordHash = await hashPassword(input.password)
    const user = await this.database.db.transaction().execute(async (trx) => {
      // Two first sign-ups at once must not both become admin: count and insert under one lock.
      await lockInTransaction(this.database, trx, 'modelgate:signup')
      const users = new UsersRepo(trx)
      const isFirst = (await users.count()) === 0
      if (!isFirst && !this.config.enableSignup) {
        throw new AppError('ACCESS_PROHIBITED', 'Sign-up is disabled. Ask an administrator to add your account.')
      }
      return this.insertUser(users, { ...input, role: isFirst ? 'admin' : this.config.defaultUserRole }, passwordHash)
    })
    return this.session(user)
  }

  /** An admin creates an account directly (no sign-up needed, default role user). */
  async addUser(input: AddUserInput): Promise<UserRow> {
    this.checkPassword(input.password)
    const passwordHash = await hashPassword(input.password)
    // The account and its credentials are two rows: one transaction.
    return this.database.db.transaction().execute((trx) => this.insertUser(new UsersRepo(trx), input, passwordHash))
  }

  /**
   * Checks credentials. Failures are counted per account and per client address; past the limit the
   * answer is 429 with Retry-After, before any password work is done.
   */
  async signin(input: SigninInput, clientAddress: string): Promise<SessionResponse> {
    const retryAfter = Math.max(
      this.accountLimiter.retryAfterSeconds(input.email),
      this.addressLimiter.retryAfterSeconds(clientAddress),
    )
    if (retryAfter > 0) {
      throw new AppError('RATE_LIMITED', `Too many failed sign-in attempts. Try again in ${retryAfter} s.`, {
        'retry-after': String(retryAfter),
      })
    }
    const user = await this.users.findByEmail(input.email)
    const storedHash = user ? await this.users.passwordHashOf(user.id) : undefined
    // Verify against a dummy hash when the account is unknown, so timing does not reveal which emails exist.
    const isValid = await verifyPassword(input.password, storedHash ?? (await DUMMY_PASSWORD_HASH))
    if (!user || !storedHash || !isValid) {
      this.accountLimiter.recordFailure(input.email)
      this.addressLimiter.recordFailure(clientAddress)
      throw new AppError('UNAUTHORIZED', 'The email or password is incorrect.')
    }
    this.accountLimiter.reset(input.email)
    return this.session(user)
  }

  /**
   * The account behind an `Authorization` header value (JWT or `sk-` API key), or a 401 naming what is
   * wrong. A deleted account's tokens stop working at once because every request loads the account.
   */
  async authenticate(authorization: string | undefined): Promise<UserRow> {
    const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null
    const credential = match?.[1]
    if (!credential) throw new AppError('UNAUTHORIZED')
    if (credential.startsWith(API_KEY_PREFIX)) {
      const key = await this.apiKeys.findByHash(hashApiKey(credential))
      const user = key ? await this.users.findById(key.user_id) : undefined
      if (!key || !user) throw new AppError('UNAUTHORIZED', 'The API key is not valid or was revoked.')
      const now = epochSeconds()
      if (key.last_used_at === null || now - Number(key.last_used_at) >= API_KEY_TOUCH_INTERVAL_S) {
        await this.apiKeys.touch(key.id, now)
      }
      return user
    }
    const userId = await this.tokens.verify(credential)
    const user = userId ? await this.users.findById(userId) : undefined
    if (!user) throw new AppError('UNAUTHORIZED', 'The token is not valid or has expired. Sign in again.')
    return user
  }

  async sessionUser(user: UserRow): Promise<SessionUser> {
    return {
      id: user.id,
      email: user.email,
      name: user.name,
      role: user.role,
      profile_image_url: user.profile_image_url,
      permissions: await this.access.featurePermissions(user),
    }
  }

  /** Creates (or replaces) the caller's API key; the key is returned this once. */
  async createApiKey(user: UserRow): Promise<ApiKeyCreated> {
    const key = generateApiKey()
    const row = {
      id: randomUUID(),
      user_id: user.id,
      key_hash: hashApiKey(key),
      key_hint: apiKeyHint(key),
      created_at: epochSeconds(),
      last_used_at: null,
    }
    await this.apiKeys.replace(row)
    return { api_key: key, key_hint: row.key_hint, created_at: row.created_at, last_used_at: null }
  }

  async getApiKey(user: UserRow): Promise<ApiKeyInfo> {
    const row = await this.apiKeys.findByUser(user.id)
    if (!row) throw new AppError('NOT_FOUND', 'You have no API key. Create one with POST /api/v1/auths/api_key.')
    return {
      key_hint: row.key_hint,
      created_at: Number(row.created_at),
      last_used_at: row.last_used_at === null ? null : Number(row.last_used_at),
    }
  }

  async deleteApiKey(user: UserRow): Promise<true> {
    if (!(await this.apiKeys.deleteByUser(user.id))) throw new AppError('NOT_FOUND', 'You have no API key.')
    return true
  }

  /** Rejects a password shorter than PASSWORD_MIN_LENGTH (the schema caps the length). */
  checkPassword(password: string): void {
    if ([...password].length < this.config.passwordMinLength) {
      throw new AppError('VALIDATION_ERROR', `password: must be at least ${this.config.passwordMinLength} characters`)
    }
  }

  private async insertUser(
    users: UsersRepo,
    input: Omit<AddUserInput, 'password'>,
    passwordHash: string,
  ): Promise<UserRow> {
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
    const signed = await this.tokens.sign(user.id)
    return { ...(await this.sessionUser(user)), token: signed.token, token_type: 'Bearer', expires_at: signed.expires_at }
  }
}

export const emailTaken = () => new AppError('CONFLICT', 'An account with this email is already registered.')
