/** SQL for groups and their members. */
import type { Selectable } from 'kysely'
import type { Executor } from '../db/executor.js'
import type { GroupsTable } from '../db/types.js'

export type GroupRow = Selectable<GroupsTable>

export class GroupsRepo {
  constructor(private readonly db: Executor) {}

  list(): Promise<GroupRow[]> {
    return this.db.selectFrom('groups').selectAll().orderBy('name').orderBy('id').execute()
  }

  /** The groups `userId` is a member of, by name. */
  listOfMember(userId: string): Promise<GroupRow[]> {
    return this.db
      .selectFrom('groups')
      .innerJoin('group_members', 'group_members.group_id', 'groups.id')
      .selectAll('groups')
      .where('group_members.user_id', '=', userId)
      .orderBy('groups.name')
      .orderBy('groups.id')
      .execute()
  }

  async isMember(groupId: string, userId: string): Promise<boolean> {
    const row = await this.db.selectFrom('group_members').select('group_id').where('group_id', '=', groupId).where('user_id', '=', userId).executeTakeFirst()
    return row !== undefined
  }

  /** The number of members of each group in `groupIds`, in one query. */
  async memberCounts(groupIds: readonly string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>(groupIds.map((id) => [id, 0]))
    if (groupIds.length === 0) return counts
    const rows = await this.db
      .selectFrom('group_members')
      .select((eb) => ['group_id', eb.fn.countAll<number>().as('n')])
      .where('group_id', 'in', [...groupIds])
      .groupBy('group_id')
      .execute()
    for (const row of rows) counts.set(row.group_id, Number(row.n))
    return counts
  }

  findById(id: string): Promise<GroupRow | undefined> {
    return this.db.selectFrom('groups').selectAll().where('id', '=', id).executeTakeFirst()
  }

  async existingIds(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set()
    const rows = await this.db
      .selectFrom('groups')
      .select('id')
      .where('id', 'in', [...ids])
      .execute()
    return new Set(rows.map((row) => row.id))
  }

  /** Member ids of each group in `groupIds`, in one query. */
  async membersOf(groupIds: readonly string[]): Promise<Map<string, string[]>> {
    const members = new Map<string, string[]>(groupIds.map((id) => [id, []]))
    if (groupIds.length === 0) return members
    const rows = await this.db
      .selectFrom('group_members')
      .select(['group_id', 'user_id'])
      .where('group_id', 'in', [...groupIds])
      .orderBy('group_id')
      .orderBy('user_id')
      .execute()
    for (const row of rows) members.get(row.group_id)?.push(row.user_id)
    return members
  }

  /** The groups named exactly `names` (several may share a name), oldest first. */
  findByNames(names: readonly string[]): Promise<GroupRow[]> {
    if (names.length === 0) return Promise.resolve([])
    return this.db
      .selectFrom('groups')
      .selectAll()
      .where('name', 'in', [...names])
      .orderBy('created_at')
      .orderBy('id')
      .execute()
  }

  /** Marks the groups as managed by `by` (`oidc`): their members then come from the provider. */
  async setManagedBy(ids: readonly string[], by: string, at: number): Promise<void> {
    if (ids.length === 0) return
    await this.db
      .updateTable('groups')
      .set({ managed_by: by, updated_at: at })
      .where('id', 'in', [...ids])
      .execute()
  }

  async insert(row: GroupRow): Promise<void> {
    await this.db.insertInto('groups').values(row).execute()
  }

  async update(id: string, patch: Partial<Omit<GroupRow, 'id' | 'created_at'>>): Promise<void> {
    await this.db.updateTable('groups').set(patch).where('id', '=', id).execute()
  }

  /** Adds members, ignoring those already in the group. */
  async addMembers(groupId: string, userIds: readonly string[], at: number): Promise<void> {
    if (userIds.length === 0) return
    await this.db
      .insertInto('group_members')
      .values(userIds.map((user_id) => ({ group_id: groupId, user_id, created_at: at })))
      .onConflict((oc) => oc.columns(['group_id', 'user_id']).doNothing())
      .execute()
  }

  async removeMembers(groupId: string, userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return
    await this.db
      .deleteFrom('group_members')
      .where('group_id', '=', groupId)
      .where('user_id', 'in', [...userIds])
      .execute()
  }

  async removeAllMembers(groupId: string): Promise<void> {
    await this.db.deleteFrom('group_members').where('group_id', '=', groupId).execute()
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('groups').where('id', '=', id).executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }
}
