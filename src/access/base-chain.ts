/**
 * The base-chain rule, stated once (issue #11): where a model's base chain ends for a caller, or why
 * it does not end at a model the caller may use. The runtime list (`/api/models`, `/v1/models`) and
 * chat resolution both follow chains through `followBaseChain`, so a model is listed as usable exactly
 * when a chat with it resolves (test/gateway.chain-property.test.ts). What the caller may see and use
 * at run time comes from `AccessService.runtimeView` as a `RuntimeView`.
 *
 * The rule (design.md §2.5, issues #4 and #10; docs/access-control.md):
 * - a registered row is a hop unless it conflicts (anyone but an admin owning a row with a served id,
 *   hole 1): the lookup answers no row, and the chain reaches the provider model of that id directly;
 * - every hop, the start included, must be readable and active;
 * - a row without a base (an override) ends the chain at its own id;
 * - an id without a row is the raw provider model: usable when the caller may use unregistered models,
 *   or when the owner of the preset hop that references it may (hole 2);
 * - a loop never ends; and the end must be served by a provider.
 * Callers answer every refusal past the start alike (hole 13): the reasons are for tests and logs.
 */
import type { UserRole } from '../config/env.js'
import type { Grant, Principals } from './model-grants.js'

/** What the rule reads of a registry row. */
export interface ChainRow {
  id: string
  user_id: string
  base_model_id: string | null
  is_active: number | boolean
}

/** The registry and the caller's rights, as the rule asks for them. */
export interface ChainLookup<Row extends ChainRow> {
  /** The row that counts for `id`; undefined when there is none or it conflicts (the raw model). */
  row(id: string): Row | undefined
  readable(row: Row): boolean
  /** May the caller use the raw provider model reached through `via` (null: asked for directly)? */
  rawUsable(via: Row | null): boolean
  /** Does a provider serve `id`? */
  served(id: string): boolean
}

export type ChainRefusal = 'unreadable' | 'inactive' | 'raw base refused' | 'not served' | 'loop'

/**
 * `endId`: the provider id that serves the model; `presets`: the preset hops passed, from the start
 * inward (their params apply in that order). A refusal also names the presets passed before it and
 * the ids visited (`path`, which names the loop).
 */
export type ChainEnd<Row extends ChainRow> = { ok: true; endId: string; presets: Row[] } | { ok: false; reason: ChainRefusal; presets: Row[]; path: string[] }

/** Follows the base chain from `startId` (a preset, an override or a provider id) to its end. */
export function followBaseChain<Row extends ChainRow>(startId: string, lookup: ChainLookup<Row>): ChainEnd<Row> {
  const presets: Row[] = []
  const path: string[] = []
  const refuse = (reason: ChainRefusal): ChainEnd<Row> => ({ ok: false, reason, presets, path })
  let via: Row | null = null
  let id = startId
  for (;;) {
    if (path.includes(id)) {
      path.push(id)
      return refuse('loop')
    }
    path.push(id)
    const row = lookup.row(id)
    if (!row) break
    if (!lookup.readable(row)) return refuse('unreadable')
    if (Number(row.is_active) !== 1) return refuse('inactive')
    if (row.base_model_id === null) return lookup.served(id) ? { ok: true, endId: id, presets } : refuse('not served')
    presets.push(row)
    via = row
    id = row.base_model_id
  }
  if (!lookup.rawUsable(via)) return refuse('raw base refused')
  return lookup.served(id) ? { ok: true, endId: id, presets } : refuse('not served')
}

/**
 * What one caller may see and use at run time, decided by `AccessService.runtimeView`: the gateway
 * asks it and never decides itself.
 */
export interface RuntimeView {
  /** The caller's principals. */
  who: Principals
  /** A cache key covering everything this view depends on. */
  key: string
  /**
   * The principals the SQL list plans read with: a bypassing reader when the caller reads every model
   * (an admin bypassing access control, or BYPASS_MODEL_ACCESS_CONTROL).
   */
  reader: Principals
  /** False when the caller reads every model: no grants need loading. */
  needsGrants: boolean
  mayRead(row: { user_id: string }, grants: readonly Grant[]): boolean
  /**
   * May the caller use a raw provider model (one without an override row), reached through a preset
   * whose owner has `referencingOwnerRole` (undefined: asked for directly, or the owner is gone)?
   */
  mayUseRawBase(referencingOwnerRole: UserRole | undefined): boolean
  /** Does a row with a served id count for the provider's model (hole 1)? By its owner's role. */
  mayOverrideProviderModel(ownerRole: UserRole | undefined): boolean
}
