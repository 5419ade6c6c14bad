/** SQL of SCIM provisioning: filtered pages of accounts and groups, their external ids, and inserts. */
import { sql, type Insertable } from 'kysely'
import type { Executor } from '../db/executor.js'
import type { GroupsTable, UsersTable } from '../db/types.js'
import type { GroupRow } from '../groups/groups.repo.js'
import type { UserRow } from '../users/users.repo.js'
import type { EqCondition } from './scim-filter.js'

export type ScimUserRow = UserRow & { external_id: string | null }
export type ScimGroupRow = GroupRow & { external_id: string | null }
export type UserCondition = EqCondition<'id' | 'userName' | 'externalId' | 'displayName' | 'emails'>
export type GroupCondition = EqCondition<'id' | 'displayName' | 'externalId' | 'members'>

export class ScimRepo {
  constructor(private readonly db: Executor) {}

  private users(conditions: readonly UserCondition[]) {
    let query = this.db.selectFrom('users').leftJoin('scim_users', 'scim_users.user_id', 'users.id')
    for (const { attribute, value } of conditions) {
      if (attribute === 'id') query = query.where('users.id', '=', value)
      else if (attribute === 'userName' || attribute === 'emails') query = query.where('users.email', '=', value.trim().toLowerCase())
      else if (attribute === 'externalId') query = query.where('scim_users.external_id', '=', value)
      else query = query.where(sql<string>`lower(${sql.ref('users.name')})`, '=', value.toLowerCase())
    }
    return query
  }

  /** A page of accounts matching every condition (oldest first), and how many match in all. */
  async listUsers(conditions: readonly UserCondition[], offset: number, limit: number): Promise<{ rows: ScimUserRow[]; total: number }> {
    const [rows, total] = await Promise.all([
      limit === 0
        ? Promise.resolve([])
        : this.users(conditions)
            .selectAll('users')
            .select('scim_users.external_id')
            .orderBy('users.created_at')
            .orderBy('users.id')
            .offset(offset)
            .limit(limit)
            .execute(),
      this.users(conditions)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirst(),
    ])
    return { rows, total: Number(total?.n ?? 0) }
  }

  findUser(id: string): Promise<ScimUserRow | undefined> {
    return this.users([{ attribute: 'id', value: id }])
      .selectAll('users')
      .select('scim_users.external_id')
      .executeTakeFirst()
  }

  /** The account holding `externalId`, if any. */
  async userWithExternalId(externalId: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('scim_users').select('user_id').where('external_id', '=', externalId).executeTakeFirst()
    return row?.user_id
  }

  /** Inserts an account and its credential row (a password nobody knows unless the client set one). */
  async insertUser(user: Insertable<UsersTable>, passwordHash: string): Promise<void> {
    await this.db.insertInto('users').values(user).execute()
    await this.db.insertInto('credentials').values({ user_id: user.id, password_hash: passwordHash }).execute()
  }

  /** Marks the account as provisioned by SCIM, with its external id (null: none). */
  async markUser(userId: string, externalId: string | null, at: number): Promise<void> {
    await this.db
      .insertInto('scim_users')
      .values({ user_id: userId, external_id: externalId, created_at: at })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ external_id: externalId }))
      .execute()
  }

  /** Each account's groups ({id, name}, by name), in one query. */
  async groupsOf(userIds: readonly string[]): Promise<Map<string, { id: string; name: string }[]>> {
    const groups = new Map<string, { id: string; name: string }[]>(userIds.map((id) => [id, []]))
    if (userIds.length === 0) return groups
    const rows = await this.db
      .selectFrom('group_members')
      .innerJoin('groups', 'groups.id', 'group_members.group_id')
      .select(['group_members.user_id', 'groups.id', 'groups.name'])
      .where('group_members.user_id', 'in', [...userIds])
      .orderBy('groups.name')
      .orderBy('groups.id')
      .execute()
    for (const row of rows) groups.get(row.user_id)?.push({ id: row.id, name: row.name })
    return groups
  }

  private groups(conditions: readonly GroupCondition[]) {
    let query = this.db.selectFrom('groups').leftJoin('scim_groups', 'scim_groups.group_id', 'groups.id')
    for (const { attribute, value } of conditions) {
      if (attribute === 'id') query = query.where('groups.id', '=', value)
      else if (attribute === 'externalId') query = query.where('scim_groups.external_id', '=', value)
      else if (attribute === 'displayName') query = query.where(sql<string>`lower(${sql.ref('groups.name')})`, '=', value.toLowerCase())
      else {
        query = query.where((eb) =>
          eb.exists(
            eb
              .selectFrom('group_members')
              .select('group_members.user_id')
              .whereRef('group_members.group_id', '=', 'groups.id')
              .where('group_members.user_id', '=', value),
          ),
        )
      }
    }
    return query
  }

  /** A page of groups matching every condition (oldest first), and how many match in all. */
  async listGroups(conditions: readonly GroupCondition[], offset: number, limit: number): Promise<{ rows: ScimGroupRow[]; total: number }> {
    const [rows, total] = await Promise.all([
      limit === 0
        ? Promise.resolve([])
        : this.groups(conditions)
            .selectAll('groups')
            .select('scim_groups.external_id')
            .orderBy('groups.created_at')
            .orderBy('groups.id')
            .offset(offset)
            .limit(limit)
            .execute(),
      this.groups(conditions)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirst(),
    ])
    return { rows, total: Number(total?.n ?? 0) }
  }

  findGroup(id: string): Promise<ScimGroupRow | undefined> {
    return this.groups([{ attribute: 'id', value: id }])
      .selectAll('groups')
      .select('scim_groups.external_id')
      .executeTakeFirst()
  }

  /** A group other than `exceptId` named exactly `name`, if any. */
  async groupNamed(name: string, exceptId?: string): Promise<string | undefined> {
    let query = this.db.selectFrom('groups').select('id').where('name', '=', name)
    if (exceptId !== undefined) query = query.where('id', '!=', exceptId)
    return (await query.executeTakeFirst())?.id
  }

  async groupWithExternalId(externalId: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('scim_groups').select('group_id').where('external_id', '=', externalId).executeTakeFirst()
    return row?.group_id
  }

  async insertGroup(group: Insertable<GroupsTable>): Promise<void> {
    await this.db.insertInto('groups').values(group).execute()
  }

  /** Marks a group SCIM created or changed as SCIM's: its externalId, and `managed_by` 'scim' (hand edits of members and name refused). */
  async markGroup(groupId: string, externalId: string | null, at: number): Promise<void> {
    await this.db
      .insertInto('scim_groups')
      .values({ group_id: groupId, external_id: externalId, created_at: at })
      .onConflict((oc) => oc.column('group_id').doUpdateSet({ external_id: externalId }))
      .execute()
    await this.db
      .updateTable('groups')
      .set({ managed_by: 'scim' })
      .where('id', '=', groupId)
      .where((eb) => eb.or([eb('managed_by', 'is', null), eb('managed_by', '!=', 'scim')]))
      .execute()
  }

  /** Each group's members ({id, name}, by name), in one query. */
  async membersOf(groupIds: readonly string[]): Promise<Map<string, { id: string; name: string }[]>> {
    const members = new Map<string, { id: string; name: string }[]>(groupIds.map((id) => [id, []]))
    if (groupIds.length === 0) return members
    const rows = await this.db
      .selectFrom('group_members')
      .innerJoin('users', 'users.id', 'group_members.user_id')
      .select(['group_members.group_id', 'users.id', 'users.name'])
      .where('group_members.group_id', 'in', [...groupIds])
      .orderBy('users.name')
      .orderBy('users.id')
      .execute()
    for (const row of rows) members.get(row.group_id)?.push({ id: row.id, name: row.name })
    return members
  }

  /** The oldest admin other than `exceptId`: who inherits what a deleted account owned. */
  async heirAdmin(exceptId: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select('id')
      .where('role', '=', 'admin')
      .where('id', '!=', exceptId)
      .orderBy('created_at')
      .orderBy('id')
      .limit(1)
      .executeTakeFirst()
    return row?.id
  }
}
