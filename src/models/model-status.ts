/**
 * A model's `status` in the registry's answers (issue #16 item 5, docs/models.md "Status"): does its
 * base chain end at a model a provider serves, for the caller, as chat would resolve it? Decided by the
 * one base-chain rule (`followBaseChain`, src/access/base-chain.ts) with the caller's runtime view from
 * the access service (`AccessService.runtimeViewOf`); this module only loads the rows, grants and owners'
 * roles the rule reads, for a whole page in a few queries, and words the refusal.
 *
 * The words follow hole 13 (docs/access-control.md): a caller who may not read every model and use every
 * raw provider model gets one text for an unreadable hop, a refused raw base and an unserved one, so a
 * status never tells whether a model they cannot see exists. A loop (its hops are all readable: the rule
 * stops at the first unreadable one) and a turned-off base (readable too) are named.
 */
import type { Principals } from '../access/model-grants.js'
import { followBaseChain, type ChainLookup, type ChainRefusal } from '../access/base-chain.js'
import type { AccessService } from '../access/access.service.js'
import type { ModelGrantsRepo } from '../access/model-grants.repo.js'
import { conflictingIds } from './conflicts.js'
import type { ModelRow, ModelsRepo } from './models.repo.js'
import type { ModelStatus } from './models.schema.js'

/** The repositories and access service a status is read through (the root handle's, or a transaction's). */
export interface StatusReaders {
  models: ModelsRepo
  grants: ModelGrantsRepo
  access: AccessService
}

export const STATUS_OK: ModelStatus = { ok: true }

/**
 * The status of each of `rows` (by id) for `who`, against `served` (the ids providers serve now). The
 * model itself counts as readable and active (it is the one being shown; `is_active` says the rest):
 * the status is about what it runs on. A row whose id a provider serves but whose owner is no admin (a
 * conflict, hole 1) is never used: its status says so.
 */
export async function modelStatuses(
  readers: StatusReaders,
  who: Principals,
  bypassModelAccessControl: boolean,
  rows: readonly ModelRow[],
  served: { has(id: string): boolean },
  /** Hops the caller has already read (null: no row with that id), taken instead of read again. */
  known?: ReadonlyMap<string, ModelRow | null>,
): Promise<Map<string, ModelStatus>> {
  const result = new Map<string, ModelStatus>()
  if (rows.length === 0) return result
  const { models, grants: grantsRepo, access } = readers
  const view = access.runtimeViewOf(who, bypassModelAccessControl)
  const hops = await loadChains(models, rows, known)
  const loaded = [...hops.values()]
  const conflicting = await conflictingIds(models, access, loaded, served)
  const grants = view.needsGrants ? await grantsRepo.grantsOf(loaded.map((row) => row.id)) : new Map<string, never[]>()
  const callerMayUseRaw = view.mayUseRawBase(undefined)
  const roles = callerMayUseRaw ? new Map<string, never>() : await models.ownerRoles(loaded.filter((r) => r.base_model_id !== null).map((r) => r.user_id))
  // Whether a refusal may be named precisely: the caller reads every model and may use every raw one.
  const seesAll = view.reader.bypass && callerMayUseRaw
  for (const row of rows) {
    if (conflicting.has(row.id)) {
      result.set(row.id, {
        ok: false,
        reason: 'A provider serves this id and the owner is not an administrator: this model is never used (it can be deleted).',
      })
      continue
    }
    const start = { ...row, is_active: 1 }
    const lookup: ChainLookup<ModelRow> = {
      row: (id) => (id === row.id ? start : conflicting.has(id) ? undefined : hops.get(id)),
      readable: (hop) => hop === start || view.mayRead(hop, grants.get(hop.id) ?? []),
      rawUsable: (via) => (via === null ? callerMayUseRaw : view.mayUseRawBase(roles.get(via.user_id))),
      served: (id) => served.has(id),
    }
    const end = followBaseChain(row.id, lookup)
    result.set(row.id, end.ok ? STATUS_OK : { ok: false, reason: refusalText(row, end.reason, end.path, seesAll) })
  }
  return result
}

function refusalText(row: ModelRow, reason: ChainRefusal, path: readonly string[], seesAll: boolean): string {
  const at = path[path.length - 1] ?? row.id
  if (reason === 'loop') return `The base chain loops: ${path.join(' → ')}.`
  if (reason === 'inactive') return `The base model "${at}" is turned off.`
  if (at === row.id) return 'No provider serves this model any more.'
  return seesAll
    ? `No provider serves the base model "${at}".`
    : `The base model "${at}" is not available to you: no provider serves it, or it is not shared with you.`
}

/** `rows` and every registered hop of their base chains, loaded level by level (loop-safe). */
async function loadChains(models: ModelsRepo, rows: readonly ModelRow[], known?: ReadonlyMap<string, ModelRow | null>): Promise<Map<string, ModelRow>> {
  const hops = new Map<string, ModelRow>(rows.map((row) => [row.id, row]))
  const missing = new Set<string>()
  let wanted = rows.map((row) => row.base_model_id).filter((id): id is string => id !== null && !hops.has(id))
  while (wanted.length > 0) {
    const unknown: string[] = []
    const found: ModelRow[] = []
    for (const id of new Set(wanted)) {
      const hop = known?.get(id)
      if (hop === undefined) unknown.push(id)
      else if (hop !== null) found.push(hop)
    }
    if (unknown.length > 0) found.push(...(await models.findByIds(unknown)))
    for (const row of found) hops.set(row.id, row)
    for (const id of wanted) if (!hops.has(id)) missing.add(id)
    wanted = found.map((row) => row.base_model_id).filter((id): id is string => id !== null && !hops.has(id) && !missing.has(id))
  }
  return hops
}
