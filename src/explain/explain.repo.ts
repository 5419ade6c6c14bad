/** What explanations read besides the model: accounts, group names, and who is in the granted groups. */
import type { Executor } from '../db/executor.js'
import type { UsersTable } from '../db/types.js'
import { chunks } from '../models/models.repo.js'

export type AccountRow = Pick<UsersTable, 'id' | 'name' | 'email' | 'role'>

export class ExplainRepo {
  constructor(private readonly db: Executor) {}

  findAccount(id: string): Promise<AccountRow | undefined> {
    return this.db.selectFrom('users').select(['id', 'name', 'email', 'role']).where('id', '=', id).executeTakeFirst()
  }

  /** Every account that is not pending (pending accounts read nothing), by name then id. */
  verifiedAccounts(): Promise<AccountRow[]> {
    return this.db.selectFrom('users').select(['id', 'name', 'email', 'role']).where('role', '!=', 'pending').orderBy('name').orderBy('id').execute()
  }

  /** user id → the ids among `groupIds` the user belongs to. */
  async membershipsIn(groupIds: readonly string[]): Promise<Map<string, string[]>> {
    const result = new Map<string, string[]>()
    for (const chunk of chunks([...new Set(groupIds)])) {
      const rows = await this.db.selectFrom('group_members').select(['user_id', 'group_id']).where('group_id', 'in', chunk).execute()
      for (const row of rows) {
        const groups = result.get(row.user_id)
        if (groups) groups.push(row.group_id)
        else result.set(row.user_id, [row.group_id])
      }
    }
    return result
  }

  async groupNames(groupIds: readonly string[]): Promise<Map<string, string>> {
    const result = new Map<string, string>()
    for (const chunk of chunks([...new Set(groupIds)])) {
      const rows = await this.db.selectFrom('groups').select(['id', 'name']).where('id', 'in', chunk).execute()
      for (const row of rows) result.set(row.id, row.name)
    }
    return result
  }
}
