/** SQL for accounts and their credentials. */
import type { Selectable } from 'kysely'
import { containsText, type Executor } from '../db/executor.js'
import type { UsersTable } from '../db/types.js'
import { PreparedQuery } from '../db/prepared.js'

const userById = new PreparedQuery<[string], UserRow>(1, (db, id) => db.selectFrom('users').selectAll().where('id', '=', id))

export type UserRow = Selectable<UsersTable>

export interface UserListQuery {
  query?: string | undefined
  role?: UserRow['role'] | undefined
  orderBy: 'name' | 'email' | 'created_at' | 'role'
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
    if (text) base = base.where((eb) => eb.or([containsText('name', text), containsText('email', text)]))
    if (q.role) base = base.where('role', '=', q.role)
    const [users, total] = await Promise.all([
      base.selectAll().orderBy(q.orderBy, q.direction).orderBy('id', q.direction).offset(q.offset).limit(q.limit).execute(),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst(),
    ])
    return { users, total: Number(total?.n ?? 0) }
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

  /** Revokes every session token of the account: they carry an older token_version from now on. */
  async revokeSessions(userId: string): Promise<void> {
    await this.db
      .updateTable('users')
      .set((eb) => ({ token_version: eb('token_version', '+', 1) }))
      .where('id', '=', userId)
      .execute()
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
