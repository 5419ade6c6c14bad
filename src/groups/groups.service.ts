/** Groups (admin): who is in them and which feature permissions they grant. */
import type { Actor } from '../access/actor.js'
import { randomUUID } from 'node:crypto'
import type { Transaction } from 'kysely'
import { recordAudit } from '../audit/audit-log.js'
import type { Database } from '../db/database.js'
import { epochSeconds, lockInTransaction } from '../db/executor.js'
import type { DB } from '../db/types.js'
import { AppError, fieldError } from '../errors/app-error.js'
import { UsersRepo } from '../users/users.repo.js'
import { GroupsRepo, type GroupRow } from './groups.repo.js'
import { GroupCreateSchema, type GroupCreateInput, type GroupInfo, type GroupResponse, type GroupUpdateInput } from './groups.schema.js'
import { groupListScope, offeredForSharing, requireGroupRead, requireHandManagedGroup, seesGroupMembers } from '../access/directory-access.js'

/** Work other features do in the same transaction when a group is deleted (its grants go with it). */
/** Runs inside the deleting transaction; `actorId`: the admin deleting the group (recorded in model history). */
export type GroupDeletionHook = (trx: Transaction<DB>, groupId: string, actorId: string | null) => Promise<void>

export class GroupsService {
  private readonly groups: GroupsRepo
  private readonly deletionHooks: GroupDeletionHook[] = []

  constructor(private readonly database: Database) {
    this.groups = new GroupsRepo(database.db)
  }

  onGroupDeleted(hook: GroupDeletionHook): void {
    this.deletionHooks.push(hook)
  }

  /** Runs the deletion hooks inside a transaction that another feature opens (SCIM deletes a group; actor null: not an account). */
  async runDeletionHooks(trx: Transaction<DB>, groupId: string, actorId: string | null): Promise<void> {
    for (const hook of this.deletionHooks) await hook(trx, groupId, actorId)
  }

  /**
   * Open WebUI's `GET /groups/`: admins every group, others the groups they are in (access/directory-access.ts).
   * `share`: true keeps the groups offered to the caller as share targets (`data.config.share`), false the others.
   */
  async list(actor: Actor, share?: boolean): Promise<GroupResponse[]> {
    const own = await this.groups.listOfMember(actor.id)
    const rows = groupListScope(actor) === 'all' ? await this.groups.list() : own
    const mine = new Set(own.map((row) => row.id))
    const shown = share === undefined ? rows : rows.filter((row) => offeredForSharing(shareSetting(row), mine.has(row.id)) === share)
    return this.presentFor(actor, shown)
  }

  /** The groups `userId` is in (`GET /users/{id}/groups`, `GET /users/groups`), as `actor` may see them (users.service checks who may ask). */
  async groupsOf(actor: Actor, userId: string): Promise<GroupResponse[]> {
    return this.presentFor(actor, await this.groups.listOfMember(userId))
  }

  /** `GET /groups/id/{id}/info`: admins any group, others one they are in (404 otherwise); never the member list. */
  async info(actor: Actor, id: string): Promise<GroupInfo> {
    const row = await this.groups.findById(id)
    if (!row) throw new AppError('NOT_FOUND', `No group with id "${id}".`)
    requireGroupRead(actor, { id, isMember: await this.groups.isMember(id, actor.id) })
    const { user_ids: _members, ...info } = present(row, [], (await this.groups.memberCounts([id])).get(id) ?? 0)
    return info
  }

  /** Groups as `actor` sees them: admins with their members, others with only themselves in `user_ids` (member_count stays true). */
  private async presentFor(actor: Actor, rows: GroupRow[]): Promise<GroupResponse[]> {
    const ids = rows.map((row) => row.id)
    if (seesGroupMembers(actor)) {
      const members = await this.groups.membersOf(ids)
      return rows.map((row) => present(row, members.get(row.id) ?? []))
    }
    const [counts, own] = await Promise.all([this.groups.memberCounts(ids), this.groups.listOfMember(actor.id)])
    const mine = new Set(own.map((row) => row.id))
    return rows.map((row) => present(row, mine.has(row.id) ? [actor.id] : [], counts.get(row.id) ?? 0))
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
      data: input.data == null ? null : JSON.stringify(input.data),
      created_at: now,
      updated_at: now,
      managed_by: null,
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
      const row = await this.findOrThrow(groups, id)
      if (input.user_ids !== undefined || (input.name !== undefined && input.name !== row.name)) requireHandManagedGroup(row)
      const before = audited(await this.present(groups, row))
      const now = epochSeconds()
      await groups.update(id, {
        ...(input.name !== undefined && { name: input.name }),
        ...(input.description !== undefined && { description: input.description }),
        ...(input.permissions !== undefined && { permissions: JSON.stringify(input.permissions) }),
        ...(input.data !== undefined && { data: input.data === null ? null : JSON.stringify(input.data) }),
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
      const before = await this.present(groups, requireHandManagedGroup(await this.findOrThrow(groups, id)))
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
      const before = await this.present(groups, requireHandManagedGroup(await this.findOrThrow(groups, id)))
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

  /**
   * Makes the account's memberships equal to the groups an identity provider claims (`names`), inside the
   * caller's transaction (the sign-in's). A group of a claimed name is reused (the oldest when several
   * share it) or, with `create`, created; every group joined this way is marked as managed by `source`.
   * Groups named in `blocked` are neither joined nor left; a name no group could be given by hand is ignored. Audited as `group.create`, `group.members_add`
   * and `group.members_remove` with the account as actor and `source` in the entry.
   */
  async syncMemberships(
    trx: Transaction<DB>,
    account: Actor,
    names: readonly string[],
    options: { create: boolean; blocked: readonly string[]; source: 'oidc' },
  ): Promise<{ added: string[]; removed: string[]; created: string[] }> {
    const groups = new GroupsRepo(trx)
    // Two first sign-ins claiming one new group must not create it twice.
    await lockInTransaction(this.database, trx, 'modelgate:group-sync')
    const blocked = new Set(options.blocked)
    // A claimed name no group could be given by hand (empty, too long, control characters) is ignored.
    const valid = names.flatMap((name) => {
      const parsed = GroupCreateSchema.shape.name.safeParse(name)
      return parsed.success ? [parsed.data] : []
    })
    const wanted = [...new Set(valid)].filter((name) => !blocked.has(name))
    const existing = await groups.findByNames(wanted)
    const byName = new Map<string, GroupRow>()
    for (const row of existing) if (!byName.has(row.name)) byName.set(row.name, row)
    const now = epochSeconds()
    const created: GroupRow[] = []
    if (options.create) {
      for (const name of wanted.filter((n) => !byName.has(n))) {
        const row: GroupRow = {
          id: randomUUID(),
          user_id: null,
          name,
          description: `Created by single sign-on (${options.source}).`,
          permissions: '{}',
          data: null,
          created_at: now,
          updated_at: now,
          managed_by: options.source,
        }
        await groups.insert(row)
        byName.set(name, row)
        created.push(row)
      }
    }
    const target = new Set([...byName.values()].map((row) => row.id))
    const current = await groups.listOfMember(account.id)
    const currentIds = new Set(current.map((row) => row.id))
    const added = [...target].filter((id) => !currentIds.has(id))
    const removed = current.filter((row) => !target.has(row.id) && !blocked.has(row.name)).map((row) => row.id)
    // A group another provider keeps (SCIM) stays marked as that provider's.
    await groups.setManagedBy(
      [...byName.values()].filter((row) => row.managed_by === null).map((row) => row.id),
      options.source,
      now,
    )
    for (const id of added) await groups.addMembers(id, [account.id], now)
    for (const id of removed) await groups.removeMembers(id, [account.id])
    const events = [
      ...created.map((row) => ({
        action: 'group.create',
        actorId: account.id,
        targetType: 'group' as const,
        targetId: row.id,
        after: { name: row.name, managed_by: options.source, source: options.source },
      })),
      ...added.map((id) => ({
        action: 'group.members_add',
        actorId: account.id,
        targetType: 'group' as const,
        targetId: id,
        after: { user_ids: [account.id], source: options.source },
      })),
      ...removed.map((id) => ({
        action: 'group.members_remove',
        actorId: account.id,
        targetType: 'group' as const,
        targetId: id,
        before: { user_ids: [account.id] },
        after: { source: options.source },
      })),
    ]
    if (events.length > 0) await recordAudit(trx, events, account.origin)
    return { added, removed, created: created.map((row) => row.id) }
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

/** A group's `data.config.share` (undefined when it has none). */
function shareSetting(row: GroupRow): unknown {
  const data = row.data === null ? null : (JSON.parse(row.data) as { config?: { share?: unknown } } | null)
  return data?.config?.share
}

function present(row: GroupRow, userIds: string[], memberCount = userIds.length): GroupResponse {
  return {
    id: row.id,
    user_id: row.user_id,
    name: row.name,
    description: row.description,
    permissions: JSON.parse(row.permissions) as Record<string, unknown>,
    data: row.data === null ? null : (JSON.parse(row.data) as Record<string, unknown>),
    user_ids: userIds,
    member_count: memberCount,
    managed_by: row.managed_by === 'oidc' || row.managed_by === 'scim' ? row.managed_by : null,
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
  }
}

/** A group as the audit log holds it (members sorted, so before and after compare). */
function audited(group: GroupResponse) {
  return { name: group.name, description: group.description, permissions: group.permissions, data: group.data, user_ids: [...group.user_ids].sort() }
}

/**
 * `group.update` with the changed fields before and after; a change of the group's feature permissions
 * is also written as `permissions.update`, so one filter finds every change of what groups allow.
 */
function groupUpdateEvents(actorId: string, groupId: string, before: ReturnType<typeof audited>, after: ReturnType<typeof audited>) {
  const changedBefore: Record<string, unknown> = {}
  const changedAfter: Record<string, unknown> = {}
  for (const field of ['name', 'description', 'permissions', 'data', 'user_ids'] as const) {
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
