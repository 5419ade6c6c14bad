/** The queries access decisions need: which groups a user is in, and what those groups grant. */
import type { Executor } from '../db/executor.js'
import { PreparedQuery } from '../db/prepared.js'

/** Read on every request of an admin or a gateway caller: prepared once. */
const groupIds = new PreparedQuery<[string], { group_id: string }>(1, (db, userId) =>
  db.selectFrom('group_members').select('group_id').where('user_id', '=', userId),
)

/** Read on every model request of a user (their groups and what those grant): prepared once. */
const groupsWithPermissions = new PreparedQuery<[string], { group_id: string; permissions: string }>(1, (db, userId) =>
  db
    .selectFrom('group_members')
    .innerJoin('groups', 'groups.id', 'group_members.group_id')
    .select(['group_members.group_id', 'groups.permissions'])
    .where('group_members.user_id', '=', userId),
)

export class AccessRepo {
  constructor(private readonly db: Executor) {}

  /** The executor this repository reads through (a transaction's, or the database's). */
  get executor(): Executor {
    return this.db
  }

  async groupIdsOf(userId: string): Promise<string[]> {
    const rows = await groupIds.execute(this.db, userId)
    return rows.map((row) => row.group_id)
  }

  /** The user's groups with their parsed permission trees (one query for both). */
  async groupsOf(userId: string): Promise<{ id: string; permissions: unknown }[]> {
    const rows = await groupsWithPermissions.execute(this.db, userId)
    return rows.map((row) => ({ id: row.group_id, permissions: JSON.parse(row.permissions) as unknown }))
  }

  /** The parsed permission trees of every group the user belongs to. */
  async permissionTreesOf(userId: string): Promise<unknown[]> {
    const rows = await this.db
      .selectFrom('group_members')
      .innerJoin('groups', 'groups.id', 'group_members.group_id')
      .select('groups.permissions')
      .where('group_members.user_id', '=', userId)
      .execute()
    return rows.map((row) => JSON.parse(row.permissions) as unknown)
  }
}

/** Existence checks for grant principals (a grant may not name an account or group that does not exist). */
export class PrincipalsRepo {
  constructor(private readonly db: Executor) {}

  async existingUserIds(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set()
    const rows = await this.db
      .selectFrom('users')
      .select('id')
      .where('id', 'in', [...ids])
      .execute()
    return new Set(rows.map((row) => row.id))
  }

  async existingGroupIds(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set()
    const rows = await this.db
      .selectFrom('groups')
      .select('id')
      .where('id', 'in', [...ids])
      .execute()
    return new Set(rows.map((row) => row.id))
  }
}
