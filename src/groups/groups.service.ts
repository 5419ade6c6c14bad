/** Groups (admin): who is in them and which feature permissions they grant. */
import type { Actor } from '../access/actor.js'
import { randomUUID } from 'node:crypto'
import type { Transaction } from 'kysely'
import { recordAudit } from '../audit/audit-log.js'
import type { Database } from '../db/database.js'
import { epochSeconds } from '../db/executor.js'
import type { DB } from '../db/types.js'
import { AppError, fieldError } from '../errors/app-error.js'
import { UsersRepo } from '../users/users.repo.js'
import { GroupsRepo, type GroupRow } from './groups.repo.js'
import type { GroupCreateInput, GroupResponse, GroupUpdateInput } from './groups.schema.js'

/** Work other features do in the same transaction when a group is deleted (its grants go with it). */
/** Runs inside the deleting transaction; `actorId`: the admin deleting the group (recorded in model history). */
export type GroupDeletionHook = (trx: Transaction<DB>, groupId: string, actorId: string) => Promise<void>

export class GroupsService {
  private readonly groups: GroupsRepo
  private readonly deletionHooks: GroupDeletionHook[] = []

  constructor(private readonly database: Database) {
    this.groups = new GroupsRepo(database.db)
  }

  onGroupDeleted(hook: GroupDeletionHook): void {
    this.deletionHooks.push(hook)
  }

  async list(): Promise<GroupResponse[]> {
    const rows = await this.groups.list()
    const members = await this.groups.membersOf(rows.map((row) => row.id))
    return rows.map((row) => present(row, members.get(row.id) ?? []))
  }

  async getOrThrow(id: string): Promise<GroupResponse> {
    return this.present(this.groups, await this.findOrThrow(this.groups, id))
  }

  async create(input: GroupCreateInput, by: Actor): Promise<GroupResponse> {
    const now = epochSeconds()
    const row: GroupRow = {
      id: randomUUID(),
      user_id: by.id,
      name: input.name,
      description: input.description,
      permissions: JSON.stringify(input.permissions),
      created_at: now,
      updated_at: now,
    }
    return this.inTransaction(async (groups, trx) => {
      await groups.insert(row)
      if (input.user_ids) await groups.addMembers(row.id, await requireUsers(trx, input.user_ids), now)
      const created = await this.present(groups, row)
      await recordAudit(trx, [{ action: 'group.create', actorId: by.id, targetType: 'group', targetId: row.id, after: audited(created) }], by.origin)
      return created
    })
  }

  async update(id: string, input: GroupUpdateInput, by: Actor): Promise<GroupResponse> {
    return this.inTransaction(async (groups, trx) => {
      const before = audited(await this.present(groups, await this.findOrThrow(groups, id)))
      const now = epochSeconds()
      await groups.update(id, {
        ...(input.name !== undefined && { name: input.name }),
        ...(input.description !== undefined && { description: input.description }),
        ...(input.permissions !== undefined && { permissions: JSON.stringify(input.permissions) }),
        updated_at: now,
      })
      if (input.user_ids) {
        const userIds = await requireUsers(trx, input.user_ids)
        await groups.removeAllMembers(id)
        await groups.addMembers(id, userIds, now)
      }
      const updated = await this.present(groups, await this.findOrThrow(groups, id))
      await recordAudit(trx, groupUpdateEvents(by.id, id, before, audited(updated)), by.origin)
      return updated
    })
  }

  async addMembers(id: string, userIds: string[], by: Actor): Promise<GroupResponse> {
    return this.inTransaction(async (groups, trx) => {
      const before = await this.present(groups, await this.findOrThrow(groups, id))
      const now = epochSeconds()
      const wanted = await requireUsers(trx, userIds)
      await groups.addMembers(id, wanted, now)
      await groups.update(id, { updated_at: now })
      const added = wanted.filter((userId) => !before.user_ids.includes(userId))
      await recordAudit(trx, [{ action: 'group.members_add', actorId: by.id, targetType: 'group', targetId: id, after: { user_ids: added } }], by.origin)
      return this.present(groups, await this.findOrThrow(groups, id))
    })
  }

  async removeMembers(id: string, userIds: string[], by: Actor): Promise<GroupResponse> {
    return this.inTransaction(async (groups, trx) => {
      const before = await this.present(groups, await this.findOrThrow(groups, id))
      await groups.removeMembers(id, userIds)
      await groups.update(id, { updated_at: epochSeconds() })
      const removed = [...new Set(userIds)].filter((userId) => before.user_ids.includes(userId))
      await recordAudit(trx, [{ action: 'group.members_remove', actorId: by.id, targetType: 'group', targetId: id, before: { user_ids: removed } }], by.origin)
      return this.present(groups, await this.findOrThrow(groups, id))
    })
  }

  /** Deletes the group, its memberships (cascade) and, through the hooks, every grant naming it. */
  async delete(id: string, by: Actor): Promise<true> {
    await this.inTransaction(async (groups, trx) => {
      const before = audited(await this.present(groups, await this.findOrThrow(groups, id)))
      for (const hook of this.deletionHooks) await hook(trx, id, by.id)
      await groups.delete(id)
      await recordAudit(trx, [{ action: 'group.delete', actorId: by.id, targetType: 'group', targetId: id, before }], by.origin)
    })
    return true
  }

  private inTransaction<T>(work: (groups: GroupsRepo, trx: Transaction<DB>) => Promise<T>): Promise<T> {
    return this.database.db.transaction().execute((trx) => work(new GroupsRepo(trx), trx))
  }

  private async findOrThrow(groups: GroupsRepo, id: string): Promise<GroupRow> {
    const row = await groups.findById(id)
    if (!row) throw new AppError('NOT_FOUND', `No group with id "${id}".`)
    return row
  }

  private async present(groups: GroupsRepo, row: GroupRow): Promise<GroupResponse> {
    const members = await groups.membersOf([row.id])
    return present(row, members.get(row.id) ?? [])
  }
}

/** The distinct ids, after checking every one names an account (400 naming the unknown ones). */
async function requireUsers(trx: Transaction<DB>, userIds: readonly string[]): Promise<string[]> {
  const unique = [...new Set(userIds)]
  const existing = await new UsersRepo(trx).existingIds(unique)
  const unknown = unique.filter((id) => !existing.has(id))
  if (unknown.length > 0) {
    throw fieldError('VALIDATION_ERROR', 'body.user_ids', `no user with id ${unknown.map((id) => `"${id}"`).join(', ')}`)
  }
  return unique
}

function present(row: GroupRow, userIds: string[]): GroupResponse {
  return {
    id: row.id,
    user_id: row.user_id,
    name: row.name,
    description: row.description,
    permissions: JSON.parse(row.permissions) as Record<string, unknown>,
    user_ids: userIds,
    member_count: userIds.length,
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
  }
}

/** A group as the audit log holds it (members sorted, so before and after compare). */
function audited(group: GroupResponse) {
  return { name: group.name, description: group.description, permissions: group.permissions, user_ids: [...group.user_ids].sort() }
}

/**
 * `group.update` with the changed fields before and after; a change of the group's feature permissions
 * is also written as `permissions.update`, so one filter finds every change of what groups allow.
 */
function groupUpdateEvents(actorId: string, groupId: string, before: ReturnType<typeof audited>, after: ReturnType<typeof audited>) {
  const changedBefore: Record<string, unknown> = {}
  const changedAfter: Record<string, unknown> = {}
  for (const field of ['name', 'description', 'permissions', 'user_ids'] as const) {
    if (JSON.stringify(before[field]) !== JSON.stringify(after[field])) {
      changedBefore[field] = before[field]
      changedAfter[field] = after[field]
    }
  }
  const events = [{ action: 'group.update', actorId, targetType: 'group' as const, targetId: groupId, before: changedBefore, after: changedAfter }]
  if ('permissions' in changedAfter) {
    events.push({
      action: 'permissions.update',
      actorId,
      targetType: 'group',
      targetId: groupId,
      before: { permissions: before.permissions },
      after: { permissions: after.permissions },
    })
  }
  return events
}
