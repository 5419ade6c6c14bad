/** SQL for accounts and their credentials. */
import type { Selectable } from 'kysely'
import { containsText, type Executor } from '../db/executor.js'
import type { UsersTable } from '../db/types.js'
import { PreparedQuery } from '../db/prepared.js'

const userById = new PreparedQuery<[string], UserRow>(1, (db, id) => db.selectFrom('users').selectAll().where('id', '=', id))

export type UserRow = Selectable<UsersTable>

export interface UserListQuery {
  query?: string | undefined
  /** Match `query` against names only (a non-admin's search must not test emails). */
  nameOnly?: boolean | undefined
  role?: UserRow['role'] | undefined
  orderBy: 'name' | 'email' | 'created_at' | 'updated_at' | 'role'
  direction: 'asc' | 'desc'
  offset: number
  limit: number
}

export class UsersRepo {
  constructor(private readonly db: Executor) {}

  /** Read on every request (the account behind a token): prepared once. */
  findById(id: string): Promise<UserRow | undefined> {
    return userById.first(this.db, id)
  }

  findByEmail(email: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst()
  }

  /** The account linked to an OpenID subject (`oidc@<sub>`, migration 0011). */
  findByOauthSub(oauthSub: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('oauth_sub', '=', oauthSub).executeTakeFirst()
  }

  /** Whether the SCIM client provisioned or changed the account (marked in `scim_users`, migration 0012). */
  async isScimManaged(userId: string): Promise<boolean> {
    const row = await this.db.selectFrom('scim_users').select('user_id').where('user_id', '=', userId).executeTakeFirst()
    return row !== undefined
  }

  /** Ids among `ids` that exist (used to validate grants and memberships). */
  async existingIds(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set()
    const rows = await this.db
      .selectFrom('users')
      .select('id')
      .where('id', 'in', [...ids])
      .execute()
    return new Set(rows.map((row) => row.id))
  }

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst()
    return Number(row?.n ?? 0)
  }

  async countAdmins(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('role', '=', 'admin')
      .executeTakeFirst()
    return Number(row?.n ?? 0)
  }

  async list(q: UserListQuery): Promise<{ users: UserRow[]; total: number }> {
    let base = this.db.selectFrom('users')
    const text = q.query
    if (text) base = base.where((eb) => (q.nameOnly ? containsText('name', text) : eb.or([containsText('name', text), containsText('email', text)])))
    if (q.role) base = base.where('role', '=', q.role)
    const [users, total] = await Promise.all([
      base.selectAll().orderBy(q.orderBy, q.direction).orderBy('id', q.direction).offset(q.offset).limit(q.limit).execute(),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst(),
    ])
    return { users, total: Number(total?.n ?? 0) }
  }

  /** Every account, oldest first (Open WebUI's `GET /users/all`). */
  listAll(): Promise<UserRow[]> {
    return this.db.selectFrom('users').selectAll().orderBy('created_at').orderBy('id').execute()
  }

  /** The oldest admin account (whom pending accounts are told to ask). */
  firstAdmin(): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('role', '=', 'admin').orderBy('created_at').orderBy('id').limit(1).executeTakeFirst()
  }

  /** The group ids of each account in `userIds`, in one query (accounts in no group map to []). */
  async groupIdsOf(userIds: readonly string[]): Promise<Map<string, string[]>> {
    const groups = new Map<string, string[]>(userIds.map((id) => [id, []]))
    if (userIds.length === 0) return groups
    const rows = await this.db
      .selectFrom('group_members')
      .select(['user_id', 'group_id'])
      .where('user_id', 'in', [...userIds])
      .orderBy('user_id')
      .orderBy('group_id')
      .execute()
    for (const row of rows) groups.get(row.user_id)?.push(row.group_id)
    return groups
  }

  async insert(user: UserRow, passwordHash: string): Promise<void> {
    await this.db.insertInto('users').values(user).execute()
    await this.db.insertInto('credentials').values({ user_id: user.id, password_hash: passwordHash }).execute()
  }

  async update(id: string, patch: Partial<Omit<UserRow, 'id' | 'created_at'>>): Promise<UserRow | undefined> {
    await this.db.updateTable('users').set(patch).where('id', '=', id).execute()
    return this.findById(id)
  }

  /**
   * Inside a transaction: true when the account still exists at `tokenVersion`, and then holds its row
   * lock until the transaction ends, so a concurrent revocation (which bumps the version) waits for this
   * transaction and sees what it wrote; false when a revocation committed first.
   */
  async lockAtVersion(userId: string, tokenVersion: number): Promise<boolean> {
    const result = await this.db
      .updateTable('users')
      .set((eb) => ({ token_version: eb.ref('token_version') }))
      .where('id', '=', userId)
      .where('token_version', '=', tokenVersion)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  /**
   * Revokes every session token of the account: they carry an older token_version from now on (the token
   * a previous password change kept included).
   */
  async revokeSessions(userId: string): Promise<void> {
    await this.db
      .updateTable('users')
      .set((eb) => ({ token_version: eb('token_version', '+', 1), kept_token: null }))
      .where('id', '=', userId)
      .execute()
  }

  /** After revokeSessions: the one older token (by its sha256) that stays valid (the caller of a password change). */
  async keepToken(userId: string, hash: string): Promise<void> {
    await this.db.updateTable('users').set({ kept_token: hash }).where('id', '=', userId).execute()
  }

  async setPasswordHash(userId: string, passwordHash: string): Promise<void> {
    await this.db.updateTable('credentials').set({ password_hash: passwordHash }).where('user_id', '=', userId).execute()
  }

  async passwordHashOf(userId: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('credentials').select('password_hash').where('user_id', '=', userId).executeTakeFirst()
    return row?.password_hash
  }

  /** Deletes the account; credentials, API keys and memberships go with it (ON DELETE CASCADE). */
  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('users').where('id', '=', id).executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }
}
