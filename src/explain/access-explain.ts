/**
 * "Why can this user see this model?" (issue #13): one user's read, write and share on one model with
 * the reasons, and everyone who can read a model with theirs. The reasons come from the rule that
 * decides (src/access/model-grants.ts `explainModelAccess`), never from a copy of it; this module only
 * gathers the rows the rule reads and adds names.
 */
import { modelNotFound, type AccessService } from '../access/access.service.js'
import type { Actor } from '../access/actor.js'
import type { AccessReason } from '../access/model-grants.js'
import { notFound } from '../errors/app-error.js'
import type { Registry } from '../models/registry.js'
import type { AccessExplainAnswer, EffectiveAccess } from './explain.schema.js'
import type { ExplainRepo } from './explain.repo.js'

type Named<R> = R extends { kind: 'group_grant' } ? R & { group_name: string | null } : R

export class AccessExplainer {
  constructor(
    private readonly registry: Registry,
    private readonly access: AccessService,
    private readonly repo: ExplainRepo,
  ) {}

  /** The model's row and grants, when `actor` may ask about it (404 / 403 as a write otherwise). */
  private async subject(actor: Actor, id: string) {
    const row = await this.registry.models.findById(id)
    if (!row) throw modelNotFound(id)
    const grants = (await this.registry.grants.grantsOf([id])).get(id) ?? []
    this.access.requireAccessExplain(actor, await this.access.principalsOf(actor), row, grants)
    return { row, grants }
  }

  async explain(actor: Actor, modelId: string, userId: string): Promise<AccessExplainAnswer> {
    const { row, grants } = await this.subject(actor, modelId)
    const account = await this.repo.findAccount(userId)
    if (!account) throw notFound(`User "${userId}" was not found.`)
    const groupIds = grants.filter((g) => g.principal_type === 'group').map((g) => g.principal_id)
    const memberships = await this.repo.membershipsIn(groupIds)
    const who = this.access.principalsWith(account, memberships.get(account.id) ?? [])
    const explanation = this.access.explainModelAccess(who, row, grants)
    const share = await this.access.explainSharing(account, explanation.write)
    const names = await this.repo.groupNames(groupIds)
    return {
      model_id: row.id,
      user: { id: account.id, name: account.name, role: account.role },
      read: { allowed: explanation.read.allowed, reasons: withNames(explanation.read.reasons, names) },
      write: { allowed: explanation.write.allowed, reasons: withNames(explanation.write.reasons, names) },
      share: { allowed: share.allowed, reasons: withNames(share.reasons, names) },
    }
  }

  /**
   * Everyone who can read the model, and why, by name. Every verified account is weighed (pending ones
   * read nothing): the rule reads only the model's grants and the memberships of the groups they name,
   * so this is one pass over the accounts, paged after it.
   */
  async effective(actor: Actor, modelId: string, page: number, limit: number): Promise<EffectiveAccess> {
    const { row, grants } = await this.subject(actor, modelId)
    const groupIds = grants.filter((g) => g.principal_type === 'group').map((g) => g.principal_id)
    const [accounts, memberships, names] = [await this.repo.verifiedAccounts(), await this.repo.membershipsIn(groupIds), await this.repo.groupNames(groupIds)]
    const callerIsAdmin = actor.role === 'admin'
    const items: EffectiveAccess['items'] = []
    for (const account of accounts) {
      const explanation = this.access.explainModelAccess(this.access.principalsWith(account, memberships.get(account.id) ?? []), row, grants)
      if (!explanation.read.allowed || account.role === 'pending') continue // pending: never readable; narrows the type
      // Listing accounts is an admin's right: a model's writer sees only who the model is shared with
      // (not the admins reading through their bypass) and no emails (review of #12).
      if (!callerIsAdmin && explanation.read.reasons.every((reason) => reason.kind === 'admin_bypass')) continue
      items.push({
        user_id: account.id,
        name: account.name,
        email: callerIsAdmin ? account.email : null,
        role: account.role,
        read: true,
        write: explanation.write.allowed,
        reasons: withNames(explanation.read.reasons, names),
      })
    }
    return { items: items.slice((page - 1) * limit, page * limit), total: items.length }
  }
}

/** Group reasons with the group's name (null when the group is gone: a grant is removed with its group). */
function withNames<R extends AccessReason | { kind: 'feature_permission' }>(reasons: readonly R[], names: ReadonlyMap<string, string>): Named<R>[] {
  return reasons.map((reason) =>
    reason.kind === 'group_grant' ? { ...reason, group_name: names.get((reason as { group_id: string }).group_id) ?? null } : reason,
  ) as Named<R>[]
}
