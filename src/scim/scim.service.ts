/**
 * SCIM 2.0 provisioning (docs/sso.md, "SCIM"): the identity provider creates, changes, deactivates and
 * deletes accounts and groups. A SCIM User is an account (userName = its email), a SCIM Group a group.
 *
 * Every change runs in one transaction with its audit entry (`scim.*`, actor null: the SCIM client is
 * no account). PATCH is applied by scim-patch to the resource as it is now, and the result is written
 * like a PUT, so both paths share one set of rules:
 * - `active: false` sets the role to `pending` and, in the same transaction, revokes every session token
 *   (token_version) and deletes the API key: the next request with either answers 401. `active: true` on
 *   a pending account makes it a `user` (an admin promotes it further by hand);
 * - the last administrator cannot be deactivated or deleted (409);
 * - userName, externalId and a group's displayName are unique (409 `uniqueness`);
 * - group membership is read from the database on every access decision, so a change reaches model
 *   access with the next request.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import type { Transaction } from 'kysely'
import { scimPatch, type ScimPatchOperation, type ScimResource } from 'scim-patch'
import type { z } from 'zod'
import type { RequestOrigin } from '../access/actor.js'
import { recordAudit } from '../audit/audit-log.js'
import type { Database } from '../db/database.js'
import { isUniqueViolation } from '../db/errors.js'
import { epochSeconds, lockInTransaction } from '../db/executor.js'
import type { DB } from '../db/types.js'
import { GroupsRepo } from '../groups/groups.repo.js'
import type { GroupsService } from '../groups/groups.service.js'
import { UsersRepo } from '../users/users.repo.js'
import type { AccountCredentials, UsersService } from '../users/users.service.js'
import { invalidValue, ScimError, uniqueness } from './scim-error.js'
import { GROUP_FILTER_ATTRIBUTES, parseEqFilter, USER_FILTER_ATTRIBUTES } from './scim-filter.js'
import { demotesLastAdmin } from '../access/last-admin.js'
import { ScimRepo, type ScimGroupRow, type ScimUserRow } from './scim.repo.js'
import {
  SCIM_GROUP_SCHEMA,
  SCIM_LIST_SCHEMA,
  SCIM_MAX_RESULTS,
  SCIM_TYPES,
  SCIM_USER_SCHEMA,
  ScimGroupInputSchema,
  ScimUserInputSchema,
  type ScimGroup,
  type ScimGroupInput,
  type ScimList,
  type ScimListQuery,
  type ScimPatchInput,
  type ScimType,
  type ScimUser,
  type ScimUserInput,
} from './scim.schema.js'

/** What an account should become: undefined fields stay as they are. */
interface UserChange {
  email: string
  name: string | undefined
  active: boolean | undefined
  externalId: string | null | undefined
  password: string | undefined
}

/** What a group should become: undefined fields stay as they are. */
interface GroupChange {
  name: string
  externalId: string | null | undefined
  members: string[] | undefined
}

const iso = (seconds: number) => new Date(Number(seconds) * 1000).toISOString()

export class ScimService {
  constructor(
    private readonly database: Database,
    private readonly users: UsersService,
    private readonly groups: GroupsService,
    private readonly credentials: AccountCredentials,
  ) {}

  // ─── Users ────────────────────────────────────────────────────────────────────────────────────

  async listUsers(query: ScimListQuery, base: string): Promise<ScimList<ScimUser>> {
    const conditions = parseEqFilter(query.filter, USER_FILTER_ATTRIBUTES)
    const { startIndex, count } = page(query)
    const repo = new ScimRepo(this.database.db)
    const { rows, total } = await repo.listUsers(conditions, startIndex - 1, count)
    const resources = await this.presentUsers(repo, rows, base, excluded(query, 'groups'))
    return list(resources, total, startIndex)
  }

  async getUser(id: string, base: string): Promise<ScimUser> {
    const repo = new ScimRepo(this.database.db)
    const [user] = await this.presentUsers(repo, [await findUser(repo, id)], base)
    return user as ScimUser
  }

  async createUser(input: ScimUserInput, origin: RequestOrigin, base: string): Promise<ScimUser> {
    if (input.password !== undefined) this.credentials.checkPassword(input.password)
    // No password unless the client sets one: the account signs in through SSO (a random one nobody knows
    // keeps the credential row, so sign-in spends the same time as for any account, and an admin can reset it).
    const passwordHash = await this.credentials.hashPassword(input.password ?? randomBytes(32).toString('base64url'))
    const id = await this.write(async (trx, repo) => {
      const users = new UsersRepo(trx)
      if (await users.findByEmail(input.userName)) throw uniqueness(`A user with userName "${input.userName}" already exists.`)
      const externalId = input.externalId ?? null
      if (externalId !== null && (await repo.userWithExternalId(externalId))) throw uniqueness(`A user with externalId "${externalId}" already exists.`)
      const now = epochSeconds()
      const user = {
        id: randomUUID(),
        email: input.userName,
        name: nameOf(input) ?? input.userName.split('@')[0] ?? input.userName,
        role: input.active === false ? ('pending' as const) : ('user' as const),
        profile_image_url: '',
        created_at: now,
        updated_at: now,
      }
      await repo.insertUser(user, passwordHash)
      await repo.markUser(user.id, externalId, now)
      await recordAudit(
        trx,
        [
          {
            action: 'scim.user_create',
            actorId: null,
            targetType: 'user',
            targetId: user.id,
            after: { email: user.email, name: user.name, role: user.role, external_id: externalId },
          },
        ],
        origin,
      )
      return user.id
    })
    return this.getUser(id, base)
  }

  /** PUT: the attributes the body carries replace the account's; those it leaves out stay (as in Open WebUI). */
  async replaceUser(id: string, input: ScimUserInput, origin: RequestOrigin, base: string): Promise<ScimUser> {
    await this.changeUser(id, origin, () => ({
      email: input.userName,
      name: nameOf(input),
      active: input.active,
      externalId: input.externalId,
      password: input.password,
    }))
    return this.getUser(id, base)
  }

  async patchUser(id: string, patch: ScimPatchInput, origin: RequestOrigin, base: string): Promise<ScimUser> {
    await this.changeUser(id, origin, async (repo, current) => {
      const [before] = await this.presentUsers(repo, [current], base, true)
      const after = applyPatch(before as ScimUser, patch)
      const input = parseResult(ScimUserInputSchema, { ...after, externalId: after.externalId ?? null })
      const was = before as ScimUser
      const wanted = after as ScimUser & { name?: { formatted?: unknown; givenName?: unknown; familyName?: unknown } }
      // The name follows whichever of its attributes the patch changed.
      let name: string | undefined
      if (input.displayName !== undefined && wanted.displayName !== was.displayName) name = input.displayName
      else if (input.name?.formatted !== undefined && wanted.name?.formatted !== was.name.formatted) name = input.name.formatted
      else if (input.name?.givenName !== undefined || input.name?.familyName !== undefined) name = nameOf({ name: { ...input.name, formatted: undefined } })
      return { email: input.userName, name: name?.trim() || undefined, active: input.active, externalId: input.externalId ?? null, password: input.password }
    })
    return this.getUser(id, base)
  }

  /** Deletes the account as an admin's deletion does (models to the oldest other admin); the last admin cannot go. */
  async deleteUser(id: string, origin: RequestOrigin): Promise<void> {
    const works = await this.users.prepareDeletionWork()
    await this.write(async (trx, repo) => {
      await lockInTransaction(this.database, trx, 'modelgate:admins')
      const user = await findUser(repo, id)
      const heir = await repo.heirAdmin(id)
      if (!heir) throw new ScimError('CONFLICT', 'This is the last administrator: make another user admin first.')
      for (const work of works) await work(trx, user, heir)
      await new UsersRepo(trx).delete(id)
      await recordAudit(
        trx,
        [
          {
            action: 'scim.user_delete',
            actorId: null,
            targetType: 'user',
            targetId: id,
            before: { email: user.email, name: user.name, role: user.role, external_id: user.external_id },
            after: { models_to: heir },
          },
        ],
        origin,
      )
    })
  }

  private async changeUser(
    id: string,
    origin: RequestOrigin,
    desired: (repo: ScimRepo, current: ScimUserRow) => UserChange | Promise<UserChange>,
  ): Promise<void> {
    // A new password is hashed outside the transaction (slow on purpose): the first pass finds it, then
    // the change runs again from the start with its hash.
    const attempt = (passwordHash: string | undefined) =>
      this.write(async (trx, repo) => {
        await lockInTransaction(this.database, trx, 'modelgate:admins')
        const current = await findUser(repo, id)
        const wanted = await desired(repo, current)
        if (wanted.password !== undefined && passwordHash === undefined) return wanted.password
        await this.applyUser(trx, repo, current, wanted, passwordHash, origin)
        return undefined
      })
    const password = await attempt(undefined)
    if (password === undefined) return
    this.credentials.checkPassword(password)
    await attempt(await this.credentials.hashPassword(password))
  }

  private async applyUser(
    trx: Transaction<DB>,
    repo: ScimRepo,
    current: ScimUserRow,
    wanted: UserChange,
    passwordHash: string | undefined,
    origin: RequestOrigin,
  ): Promise<void> {
    const users = new UsersRepo(trx)
    const before: Record<string, unknown> = {}
    const after: Record<string, unknown> = {}
    const fields: { email?: string; name?: string; role?: ScimUserRow['role'] } = {}
    if (wanted.email !== current.email) {
      const holder = await users.findByEmail(wanted.email)
      if (holder && holder.id !== current.id) throw uniqueness(`A user with userName "${wanted.email}" already exists.`)
      fields.email = wanted.email
    }
    if (wanted.name !== undefined && wanted.name !== current.name) fields.name = wanted.name
    if (wanted.active === false && current.role !== 'pending') fields.role = 'pending'
    if (wanted.active === true && current.role === 'pending') fields.role = 'user'
    if (await demotesLastAdmin(current.role, fields.role, () => users.countAdmins())) {
      throw new ScimError('CONFLICT', 'This is the last administrator: make another user admin first.')
    }
    for (const key of ['email', 'name', 'role'] as const) {
      if (fields[key] !== undefined) {
        before[key] = current[key]
        after[key] = fields[key]
      }
    }
    if (wanted.externalId !== undefined && wanted.externalId !== current.external_id) {
      const holder = wanted.externalId === null ? undefined : await repo.userWithExternalId(wanted.externalId)
      if (holder && holder !== current.id) throw uniqueness(`A user with externalId "${wanted.externalId}" already exists.`)
      before['external_id'] = current.external_id
      after['external_id'] = wanted.externalId
    }
    // Deactivation and a new password end every session and the API key, in this transaction.
    const revoke = fields.role === 'pending' || passwordHash !== undefined
    if (passwordHash !== undefined) {
      await users.setPasswordHash(current.id, passwordHash)
      after['password_changed'] = true
    }
    if (revoke) {
      await users.revokeSessions(current.id)
      await this.credentials.revokeApiKey(trx, current.id)
      after['sessions_revoked'] = true
    }
    const changedRow = Object.keys(fields).length > 0 || revoke
    if (changedRow) {
      const updated = await users.update(current.id, { ...fields, updated_at: epochSeconds() })
      if (updated) await this.users.runUpdateHooks(trx, updated)
    }
    await repo.markUser(current.id, wanted.externalId === undefined ? current.external_id : wanted.externalId, epochSeconds())
    if (Object.keys(after).length > 0) {
      await recordAudit(trx, [{ action: 'scim.user_update', actorId: null, targetType: 'user', targetId: current.id, before, after }], origin)
    }
  }

  private async presentUsers(repo: ScimRepo, rows: readonly ScimUserRow[], base: string, withoutGroups = false): Promise<ScimUser[]> {
    const groups = withoutGroups ? new Map<string, { id: string; name: string }[]>() : await repo.groupsOf(rows.map((row) => row.id))
    return rows.map((row) => ({
      schemas: [SCIM_USER_SCHEMA],
      id: row.id,
      ...(row.external_id !== null && { externalId: row.external_id }),
      userName: row.email,
      name: { formatted: row.name },
      displayName: row.name,
      emails: [{ value: row.email, type: 'work' as const, primary: true as const }],
      active: row.role !== 'pending',
      ...(!withoutGroups && { groups: (groups.get(row.id) ?? []).map((group) => ({ value: group.id, display: group.name, type: 'direct' as const })) }),
      meta: { resourceType: 'User' as const, created: iso(row.created_at), lastModified: iso(row.updated_at), location: `${base}/Users/${row.id}` },
    }))
  }

  // ─── Groups ───────────────────────────────────────────────────────────────────────────────────

  async listGroups(query: ScimListQuery, base: string): Promise<ScimList<ScimGroup>> {
    const conditions = parseEqFilter(query.filter, GROUP_FILTER_ATTRIBUTES)
    const { startIndex, count } = page(query)
    const repo = new ScimRepo(this.database.db)
    const { rows, total } = await repo.listGroups(conditions, startIndex - 1, count)
    return list(await this.presentGroups(repo, rows, base, excluded(query, 'members')), total, startIndex)
  }

  async getGroup(id: string, base: string, withoutMembers = false): Promise<ScimGroup> {
    const repo = new ScimRepo(this.database.db)
    const [group] = await this.presentGroups(repo, [await findGroup(repo, id)], base, withoutMembers)
    return group as ScimGroup
  }

  async createGroup(input: ScimGroupInput, origin: RequestOrigin, base: string): Promise<ScimGroup> {
    const id = await this.write(async (trx, repo) => {
      if (await repo.groupNamed(input.displayName)) throw uniqueness(`A group named "${input.displayName}" already exists.`)
      const externalId = input.externalId ?? null
      if (externalId !== null && (await repo.groupWithExternalId(externalId))) throw uniqueness(`A group with externalId "${externalId}" already exists.`)
      const members = await requireUsers(
        trx,
        (input.members ?? []).map((member) => member.value),
      )
      const now = epochSeconds()
      const group = { id: randomUUID(), user_id: null, name: input.displayName, description: '', permissions: '{}', created_at: now, updated_at: now }
      await repo.insertGroup(group)
      await new GroupsRepo(trx).addMembers(group.id, members, now)
      await repo.markGroup(group.id, externalId, now)
      await recordAudit(
        trx,
        [
          {
            action: 'scim.group_create',
            actorId: null,
            targetType: 'group',
            targetId: group.id,
            after: { name: group.name, external_id: externalId, user_ids: members },
          },
        ],
        origin,
      )
      return group.id
    })
    return this.getGroup(id, base)
  }

  /** PUT: displayName, and externalId and members when the body carries them (left out: kept, as in Open WebUI). */
  async replaceGroup(id: string, input: ScimGroupInput, origin: RequestOrigin, base: string): Promise<ScimGroup> {
    await this.write(async (trx, repo) => {
      const current = await findGroup(repo, id)
      await this.applyGroup(trx, repo, current, { name: input.displayName, externalId: input.externalId, members: input.members?.map((m) => m.value) }, origin)
    })
    return this.getGroup(id, base)
  }

  async patchGroup(id: string, patch: ScimPatchInput, origin: RequestOrigin, base: string, withoutMembers = false): Promise<ScimGroup> {
    await this.write(async (trx, repo) => {
      const current = await findGroup(repo, id)
      const [presented] = await this.presentGroups(repo, [current], base)
      // Members as bare ids, so that a remove naming them by value (Entra ID) matches them.
      const before = { ...(presented as ScimGroup), members: (presented?.members ?? []).map((member) => ({ value: member.value })) }
      const after = applyPatch(before as unknown as ScimGroup, { ...patch, Operations: patch.Operations.flatMap(memberRemovals) })
      const input = parseResult(ScimGroupInputSchema, { ...after, externalId: after.externalId ?? null })
      await this.applyGroup(
        trx,
        repo,
        current,
        { name: input.displayName, externalId: input.externalId ?? null, members: (input.members ?? []).map((m) => m.value) },
        origin,
      )
    })
    return this.getGroup(id, base, withoutMembers)
  }

  async deleteGroup(id: string, origin: RequestOrigin): Promise<void> {
    await this.write(async (trx, repo) => {
      const group = await findGroup(repo, id)
      const members = (await repo.membersOf([id])).get(id) ?? []
      // Grants naming the group go with it (model history records them as the system's).
      await this.groups.runDeletionHooks(trx, id, null)
      await new GroupsRepo(trx).delete(id)
      await recordAudit(
        trx,
        [
          {
            action: 'scim.group_delete',
            actorId: null,
            targetType: 'group',
            targetId: id,
            before: { name: group.name, external_id: group.external_id, user_ids: members.map((m) => m.id) },
          },
        ],
        origin,
      )
    })
  }

  private async applyGroup(trx: Transaction<DB>, repo: ScimRepo, current: ScimGroupRow, wanted: GroupChange, origin: RequestOrigin): Promise<void> {
    const groups = new GroupsRepo(trx)
    const before: Record<string, unknown> = {}
    const after: Record<string, unknown> = {}
    const now = epochSeconds()
    if (wanted.name !== current.name) {
      if (await repo.groupNamed(wanted.name, current.id)) throw uniqueness(`A group named "${wanted.name}" already exists.`)
      before['name'] = current.name
      after['name'] = wanted.name
    }
    if (wanted.externalId !== undefined && wanted.externalId !== current.external_id) {
      const holder = wanted.externalId === null ? undefined : await repo.groupWithExternalId(wanted.externalId)
      if (holder && holder !== current.id) throw uniqueness(`A group with externalId "${wanted.externalId}" already exists.`)
      before['external_id'] = current.external_id
      after['external_id'] = wanted.externalId
    }
    let added: string[] = []
    let removed: string[] = []
    if (wanted.members !== undefined) {
      const present = new Set((await groups.membersOf([current.id])).get(current.id) ?? [])
      const target = new Set(wanted.members)
      added = await requireUsers(
        trx,
        [...target].filter((userId) => !present.has(userId)),
      )
      removed = [...present].filter((userId) => !target.has(userId))
      if (added.length > 0) after['user_ids_added'] = added
      if (removed.length > 0) before['user_ids_removed'] = removed
    }
    if (Object.keys(after).length === 0 && Object.keys(before).length === 0) {
      await repo.markGroup(current.id, current.external_id, now)
      return
    }
    await groups.update(current.id, { ...(after['name'] !== undefined && { name: wanted.name }), updated_at: now })
    await groups.addMembers(current.id, added, now)
    await groups.removeMembers(current.id, removed)
    await repo.markGroup(current.id, wanted.externalId === undefined ? current.external_id : wanted.externalId, now)
    await recordAudit(trx, [{ action: 'scim.group_update', actorId: null, targetType: 'group', targetId: current.id, before, after }], origin)
  }

  private async presentGroups(repo: ScimRepo, rows: readonly ScimGroupRow[], base: string, withoutMembers = false): Promise<ScimGroup[]> {
    const members = withoutMembers ? new Map<string, { id: string; name: string }[]>() : await repo.membersOf(rows.map((row) => row.id))
    return rows.map((row) => ({
      schemas: [SCIM_GROUP_SCHEMA],
      id: row.id,
      ...(row.external_id !== null && { externalId: row.external_id }),
      displayName: row.name,
      ...(!withoutMembers && { members: (members.get(row.id) ?? []).map((member) => ({ value: member.id, display: member.name, type: 'User' as const })) }),
      meta: { resourceType: 'Group' as const, created: iso(row.created_at), lastModified: iso(row.updated_at), location: `${base}/Groups/${row.id}` },
    }))
  }

  /**
   * One SCIM write: a transaction holding the SCIM lock (on PostgreSQL two provisioning requests take
   * turns, so a PATCH reads the members it changes), with a unique violation of a concurrent writer
   * answered as 409 `uniqueness`.
   */
  private async write<T>(work: (trx: Transaction<DB>, repo: ScimRepo) => Promise<T>): Promise<T> {
    try {
      return await this.database.db.transaction().execute(async (trx) => {
        await lockInTransaction(this.database, trx, 'modelgate:scim')
        return work(trx, new ScimRepo(trx))
      })
    } catch (error) {
      if (isUniqueViolation(error)) throw uniqueness('The userName, externalId or displayName is already taken.')
      throw error
    }
  }
}

async function findUser(repo: ScimRepo, id: string): Promise<ScimUserRow> {
  const user = await repo.findUser(id)
  if (!user) throw new ScimError('NOT_FOUND', `No user with id "${id}".`)
  return user
}

async function findGroup(repo: ScimRepo, id: string): Promise<ScimGroupRow> {
  const group = await repo.findGroup(id)
  if (!group) throw new ScimError('NOT_FOUND', `No group with id "${id}".`)
  return group
}

/** The distinct ids, after checking every one names an account (400 invalidValue naming the unknown ones). */
async function requireUsers(trx: Transaction<DB>, userIds: readonly string[]): Promise<string[]> {
  const unique = [...new Set(userIds)]
  const existing = await new UsersRepo(trx).existingIds(unique)
  const unknown = unique.filter((id) => !existing.has(id))
  if (unknown.length > 0) throw invalidValue(`No user with id ${unknown.map((id) => `"${id}"`).join(', ')}: provision the users first.`)
  return unique
}

/** The account name a SCIM User gives: displayName, else name.formatted, else given and family name. */
function nameOf(input: Pick<ScimUserInput, 'displayName' | 'name'>): string | undefined {
  const candidates = [input.displayName, input.name?.formatted, [input.name?.givenName, input.name?.familyName].filter(Boolean).join(' ')]
  const name = candidates.map((candidate) => candidate?.replace(/\s+/g, ' ').trim()).find((candidate) => candidate)
  return name ? name.slice(0, 255) : undefined
}

/**
 * Entra ID removes members as `{op: Remove, path: members, value: [{value: id}]}`; RFC 7644 names them by
 * a filter path. The value form becomes one filtered remove per member (other fields of the value ignored).
 */
function memberRemovals(operation: ScimPatchInput['Operations'][number]): ScimPatchInput['Operations'] {
  if (operation.op !== 'remove' || operation.path?.trim().toLowerCase() !== 'members' || !Array.isArray(operation.value)) return [operation]
  return operation.value.map((member: unknown) => {
    const id = (member as { value?: unknown } | null)?.value
    if (typeof id !== 'string') throw invalidValue('A member to remove needs its user id in value.')
    return { op: 'remove' as const, path: `members[value eq ${JSON.stringify(id)}]` }
  })
}

/** Applies PATCH operations to the resource as it is (scim-patch); a bad operation is 400 with its scimType. */
function applyPatch<T extends ScimUser | ScimGroup>(resource: T, patch: ScimPatchInput): T & Record<string, unknown> {
  let result: T & Record<string, unknown>
  try {
    const document = structuredClone(resource) as unknown as ScimResource
    result = scimPatch(document, patch.Operations as ScimPatchOperation[], { mutateDocument: false }) as unknown as T & Record<string, unknown>
  } catch (error) {
    const code = (error as { scimCode?: unknown }).scimCode
    const scimType: ScimType = typeof code === 'string' && (SCIM_TYPES as readonly string[]).includes(code) ? (code as ScimType) : 'invalidSyntax'
    const detail = error instanceof Error ? error.message : 'The PATCH operations are not valid.'
    throw new ScimError('VALIDATION_ERROR', detail, scimType)
  }
  if (result.id !== resource.id) throw new ScimError('VALIDATION_ERROR', 'id is read-only.', 'mutability')
  return result
}

/** Parses what a PATCH left behind against the resource's schema: 400 invalidValue naming the attribute. */
function parseResult<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'resource'}: ${issue.message}`).join('; ')
  throw invalidValue(`The patched resource is not valid: ${problems}`)
}

/** RFC 7644 §3.4.2.4: startIndex below 1 counts as 1; count below 0 as 0, above the maximum as the maximum. */
function page(query: ScimListQuery): { startIndex: number; count: number } {
  const startIndex = Math.max(1, query.startIndex ?? 1)
  const count = Math.min(SCIM_MAX_RESULTS, Math.max(0, query.count ?? SCIM_MAX_RESULTS))
  return { startIndex: Math.min(startIndex, 1_000_000_000), count }
}

function list<T>(resources: T[], total: number, startIndex: number): ScimList<T> {
  return { schemas: [SCIM_LIST_SCHEMA], totalResults: total, itemsPerPage: resources.length, startIndex, Resources: resources }
}

/** Whether `excludedAttributes` names `attribute` (case-insensitive, comma-separated). */
export function excluded(query: Pick<ScimListQuery, 'excludedAttributes'>, attribute: string): boolean {
  return (query.excludedAttributes ?? '')
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .includes(attribute)
}
