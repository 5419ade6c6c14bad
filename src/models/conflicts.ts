/**
 * Id squatting (issue #10, hole 1), the one place that finds conflicts: rows whose id a provider serves
 * but whose owner is not an admin now. The registry refuses to change them and lists them for admins;
 * the runtime list and chat resolution ignore them. The rule itself is the access service's
 * (`mayOverrideProviderModel`); this only applies it to rows and their owners' current roles.
 */
import type { AccessService } from '../access/access.service.js'
import type { ModelRow, ModelsRepo } from './models.repo.js'

export async function conflictingIds(
  models: ModelsRepo,
  access: AccessService,
  rows: readonly ModelRow[],
  served: { has(id: string): boolean },
): Promise<Set<string>> {
  const candidates = rows.filter((row) => served.has(row.id))
  if (candidates.length === 0) return new Set()
  const roles = await models.ownerRoles(candidates.map((row) => row.user_id))
  return new Set(candidates.filter((row) => !access.mayOverrideProviderModel(roles.get(row.user_id))).map((row) => row.id))
}
