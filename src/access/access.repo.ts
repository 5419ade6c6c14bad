/** The queries access decisions need: which groups a user is in, and what those groups grant. */
import type { Executor } from '../db/executor.js'

export class AccessRepo {
  constructor(private readonly db: Executor) {}

  async groupIdsOf(userId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('group_members').select('group_id').where('user_id', '=', userId).execute()
    return rows.map((row) => row.group_id)
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
