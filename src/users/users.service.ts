/** Account administration: list, update and delete users (admin only; the routes check the role). */
import type { Transaction } from 'kysely'
import { recordAudit, type AuditActor } from '../audit/audit-log.js'
import type { Database } from '../db/database.js'
import { isUniqueViolation } from '../db/errors.js'
import { epochSeconds, lockInTransaction } from '../db/executor.js'
import type { DB } from '../db/types.js'
import { AppError } from '../errors/app-error.js'
import type { Actor } from '../access/actor.js'
import { requireAccountRead, userSearchOrder, userSearchView } from '../access/directory-access.js'
import { presentUser } from './users.presenter.js'
import { UsersRepo, type UserRow } from './users.repo.js'
import type { UserListQueryInput, UserSearchItem, UserSearchQueryInput, UserUpdateInput, UserWithGroups } from './users.schema.js'
import { demotesLastAdmin } from '../access/last-admin.js'

/** Open WebUI's page size for user lists and searches. */
const SEARCH_PAGE_SIZE = 30

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

  /**
   * Whether any account exists (`GET /api/config`'s `onboarding` is its negation: the web app opens "Create
   * the administrator account" on a fresh instance). Once true it is kept: counting costs nothing on the
   * empty table of a first run, and nothing at all afterwards.
   */
  async hasAccounts(): Promise<boolean> {
    if (!this.accountsSeen) this.accountsSeen = (await this.users.count()) > 0
    return this.accountsSeen
  }

  private accountsSeen = false

  onUserDeleted(hook: UserDeletionHook): void {
    this.deletionHooks.push(hook)
  }

  /** Work to do in the same transaction when an account changes (cached model pages show owners). */
  onUserUpdated(hook: (trx: Transaction<DB>, updated: UserRow) => Promise<void>): void {
    this.updateHooks.push(hook)
  }

  /** The deletion hooks' work, prepared before a deleting transaction that another feature opens (SCIM). */
  prepareDeletionWork(): Promise<UserDeletionWork[]> {
    return Promise.all(this.deletionHooks.map((prepare) => prepare()))
  }

  /** Runs the update hooks inside a transaction that another feature opens (SCIM changes an account). */
  async runUpdateHooks(trx: Transaction<DB>, updated: UserRow): Promise<void> {
    for (const hook of this.updateHooks) await hook(trx, updated)
  }

  /** Runs the update hooks for an account another feature changed inside `trx` (single sign-on's name, email or role). */
  async afterUpdate(trx: Transaction<DB>, updated: UserRow): Promise<void> {
    for (const hook of this.updateHooks) await hook(trx, updated)
  }

  /** A page of accounts, each with its group ids (admin). */
  async list(query: UserListQueryInput): Promise<{ users: UserWithGroups[]; total: number }> {
    const page = await this.users.list({
      query: query.query,
      role: query.role,
      orderBy: sortColumn(query.order_by),
      direction: query.direction,
      offset: (query.page - 1) * query.limit,
      limit: query.limit,
    })
    return { users: await this.withGroups(page.users), total: page.total }
  }

  /** Every account (Open WebUI's `GET /users/all`, admin). */
  async listAll(): Promise<{ users: UserRow[]; total: number }> {
    const users = await this.users.listAll()
    return { users, total: users.length }
  }

  /** Open WebUI's `GET /users/search`: a page of 30; what a non-admin sees and matches: access/directory-access.ts. */
  async search(actor: Actor, query: UserSearchQueryInput): Promise<{ users: UserSearchItem[]; total: number }> {
    const view = userSearchView(actor)
    const page = await this.users.list({
      query: query.query,
      nameOnly: view === 'public',
      orderBy: sortColumn(userSearchOrder(actor, query.order_by)),
      direction: query.direction,
      offset: (query.page - 1) * SEARCH_PAGE_SIZE,
      limit: SEARCH_PAGE_SIZE,
    })
    const users = page.users.map((row) => (view === 'full' ? presentUser(row) : { id: row.id, name: row.name, profile_image_url: row.profile_image_url }))
    return { users, total: page.total }
  }

  /** An account with its group ids: admins any, others their own (404 otherwise). */
  async info(actor: Actor, id: string): Promise<UserWithGroups> {
    requireAccountRead(actor, id)
    const [user] = await this.withGroups([await this.getOrThrow(id)])
    if (!user) throw new AppError('NOT_FOUND', `No user with id "${id}".`)
    return user
  }

  /** Whose groups `actor` may list (`GET /users/{id}/groups`): checks the account exists and may be read. */
  async requireGroupsReadable(actor: Actor, id: string): Promise<void> {
    requireAccountRead(actor, id)
    await this.getOrThrow(id)
  }

  /** Open WebUI's `POST /auths/update/profile`: the signed-in account changes its own name and picture. */
  updateProfile(actor: Actor, patch: { name?: string | undefined; profile_image_url?: string | undefined }): Promise<UserRow> {
    return this.update(
      actor.id,
      { ...(patch.name !== undefined && { name: patch.name }), ...(patch.profile_image_url !== undefined && { profile_image_url: patch.profile_image_url }) },
      actor,
    )
  }

  private async withGroups(rows: UserRow[]): Promise<UserWithGroups[]> {
    const groups = await this.users.groupIdsOf(rows.map((row) => row.id))
    return rows.map((row) => ({ ...presentUser(row), group_ids: groups.get(row.id) ?? [] }))
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
        if (await demotesLastAdmin(user.role, patch.role, () => users.countAdmins())) {
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

/** The column a list order names (Open WebUI's `last_active_at`: modelgate keeps no activity time, updated_at stands in). */
function sortColumn(orderBy: UserListQueryInput['order_by']): 'name' | 'email' | 'created_at' | 'updated_at' | 'role' {
  return orderBy === 'last_active_at' ? 'updated_at' : orderBy
}
