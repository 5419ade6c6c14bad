/** Account administration: list, update and delete users (admin only; the routes check the role). */
import type { Transaction } from 'kysely'
import { recordAudit, type AuditActor } from '../audit/audit-log.js'
import type { Database } from '../db/database.js'
import { isUniqueViolation } from '../db/errors.js'
import { epochSeconds, lockInTransaction } from '../db/executor.js'
import type { DB } from '../db/types.js'
import { AppError } from '../errors/app-error.js'
import { UsersRepo, type UserRow } from './users.repo.js'
import type { UserListQueryInput, UserUpdateInput } from './users.schema.js'

/**
 * Work other features must do, in the same transaction, when an account is deleted (the model registry
 * hands the account's models to the deleting admin). Registered in main.ts, so this feature does not
 * depend on the ones that build on it.
 */
/** Work done inside the deleting transaction. */
export type UserDeletionWork = (trx: Transaction<DB>, deleted: UserRow, byAdminId: string) => Promise<void>
/**
 * Called before the deleting transaction opens, for reads that must not wait for it (on SQLite the
 * transaction holds the only connection); answers the work to run inside it.
 */
export type UserDeletionHook = () => Promise<UserDeletionWork>

/**
 * What account administration needs of the sign-in credentials. Passwords and API keys belong to the
 * auth feature, which builds on this one (auth → users), so they are handed in (AuthService, wired in
 * services.ts) instead of imported: no import cycle between the two.
 */
export interface AccountCredentials {
  /** Throws 400 VALIDATION_ERROR when a new password breaks the password rules. */
  checkPassword(password: string): void
  hashPassword(password: string): Promise<string>
  /** Deletes the account's API key, inside the transaction that revokes its sessions. */
  revokeApiKey(trx: Transaction<DB>, userId: string): Promise<void>
}

export class UsersService {
  private readonly users: UsersRepo
  private readonly deletionHooks: UserDeletionHook[] = []
  private readonly updateHooks: ((trx: Transaction<DB>, updated: UserRow) => Promise<void>)[] = []

  constructor(
    private readonly database: Database,
    private readonly credentials: AccountCredentials,
  ) {
    this.users = new UsersRepo(database.db)
  }

  onUserDeleted(hook: UserDeletionHook): void {
    this.deletionHooks.push(hook)
  }

  /** Work to do in the same transaction when an account changes (cached model pages show owners). */
  onUserUpdated(hook: (trx: Transaction<DB>, updated: UserRow) => Promise<void>): void {
    this.updateHooks.push(hook)
  }

  list(query: UserListQueryInput) {
    return this.users.list({
      query: query.query,
      role: query.role,
      orderBy: query.order_by,
      direction: query.direction,
      offset: (query.page - 1) * query.limit,
      limit: query.limit,
    })
  }

  async getOrThrow(id: string): Promise<UserRow> {
    const user = await this.users.findById(id)
    if (!user) throw new AppError('NOT_FOUND', `No user with id "${id}".`)
    return user
  }

  /**
   * Changes role, name, email, picture or password. The last admin cannot lose the role. A new password
   * or a demotion to pending revokes the account's sessions and deletes its API key (docs/auth.md);
   * other role changes apply on the next request, since every request reads the role from the account.
   */
  async update(id: string, patch: UserUpdateInput, by: AuditActor): Promise<UserRow> {
    if (patch.password !== undefined) this.credentials.checkPassword(patch.password)
    const passwordHash = patch.password === undefined ? undefined : await this.credentials.hashPassword(patch.password)
    try {
      return await this.database.db.transaction().execute(async (trx) => {
        await lockInTransaction(this.database, trx, 'modelgate:admins')
        const users = new UsersRepo(trx)
        const user = await users.findById(id)
        if (!user) throw new AppError('NOT_FOUND', `No user with id "${id}".`)
        if (patch.role && patch.role !== 'admin' && user.role === 'admin' && (await users.countAdmins()) <= 1) {
          throw new AppError('CONFLICT', 'This is the last administrator: make another user admin first.')
        }
        if (patch.email && patch.email !== user.email && (await users.findByEmail(patch.email))) {
          throw new AppError('CONFLICT', 'An account with this email is already registered.')
        }
        const { password: _ignored, ...fields } = patch
        if (passwordHash) await users.setPasswordHash(id, passwordHash)
        if (passwordHash || (patch.role === 'pending' && user.role !== 'pending')) {
          await users.revokeSessions(id)
          await this.credentials.revokeApiKey(trx, id)
        }
        const updated = await users.update(id, { ...fields, updated_at: epochSeconds() })
        const change = auditedChange(user, patch)
        if (change) await recordAudit(trx, [{ action: 'user.update', actorId: by.id, targetType: 'user', targetId: id, ...change }], by.origin)
        for (const hook of this.updateHooks) await hook(trx, updated ?? user)
        return updated ?? user
      })
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('CONFLICT', 'An account with this email is already registered.')
      throw error
    }
  }

  /**
   * Deletes an account in one transaction: its credentials, key and memberships go (cascade), and the
   * registered hooks move what it owned to the deleting admin. Admins cannot delete themselves.
   */
  async delete(id: string, byAdmin: UserRow & Pick<AuditActor, 'origin'>): Promise<true> {
    if (id === byAdmin.id) {
      throw new AppError('ACCESS_PROHIBITED', 'You cannot delete your own account; ask another administrator.')
    }
    const works = await Promise.all(this.deletionHooks.map((prepare) => prepare()))
    await this.database.db.transaction().execute(async (trx) => {
      await lockInTransaction(this.database, trx, 'modelgate:admins')
      const users = new UsersRepo(trx)
      const user = await users.findById(id)
      if (!user) throw new AppError('NOT_FOUND', `No user with id "${id}".`)
      for (const work of works) await work(trx, user, byAdmin.id)
      await users.delete(id)
      await recordAudit(
        trx,
        [{ action: 'user.delete', actorId: byAdmin.id, targetType: 'user', targetId: id, before: { email: user.email, name: user.name, role: user.role } }],
        byAdmin.origin,
      )
    })
    return true
  }
}

/**
 * What an update changed, for the audit log: the changed fields before and after (a role change shows
 * both roles). A new password is only a flag, never the password or its hash; a picture (a data URI of
 * up to 200 kB) is only a flag too. Undefined when nothing changed.
 */
function auditedChange(user: UserRow, patch: UserUpdateInput): { before: Record<string, unknown>; after: Record<string, unknown> } | undefined {
  const before: Record<string, unknown> = {}
  const after: Record<string, unknown> = {}
  for (const field of ['role', 'name', 'email'] as const) {
    const value = patch[field]
    if (value !== undefined && value !== user[field]) {
      before[field] = user[field]
      after[field] = value
    }
  }
  if (patch.profile_image_url !== undefined && patch.profile_image_url !== user.profile_image_url) after['profile_image_changed'] = true
  if (patch.password !== undefined) after['password_changed'] = true
  if (patch.password !== undefined || (patch.role === 'pending' && user.role !== 'pending')) after['sessions_revoked'] = true
  return Object.keys(after).length === 0 ? undefined : { before, after }
}
