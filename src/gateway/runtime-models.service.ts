/**
 * The models a caller may use right now: provider models (renamed, hidden or restricted by override
 * rows) plus active presets, and the resolution of one id to the provider model that serves it.
 *
 * Rules (design.md §2.5, issue #4, issue #10; docs/access-control.md):
 * - a provider model with an override row follows that row: inactive hides it, its grants decide;
 * - only an admin's row stands for a provider's id (hole 1): anyone else's row with a served id is a
 *   conflict, ignored here (the provider model is listed and resolved as if the row did not exist, and
 *   the row itself is neither listed nor callable);
 * - a provider model without a row is for admins only, unless BYPASS_MODEL_ACCESS_CONTROL is on;
 * - a preset needs read access, and so does every registered hop of its base chain; the raw provider
 *   model at the end of the chain is usable when the caller may use unregistered models or the owner
 *   of the hop that references it may (hole 2: an admin's preset exposes its raw base, a user's not);
 * - a preset whose base chain does not end at a model the caller may use (nothing serves it, a hop the
 *   caller cannot read, an inactive hop, a raw base the rule above refuses) is listed with
 *   `base_model_missing` and answers the same 404 in chat, whatever the reason (hole 13).
 */
import type { AccessService } from '../access/access.service.js'
import { modelNotFound } from '../access/access.service.js'
import type { Actor } from '../access/actor.js'
import { ModelGrantsRepo } from '../access/model-grants.repo.js'
import { principalKey, type Principals } from '../access/model-grants.js'
import type { Database } from '../db/database.js'
import { AppError } from '../errors/app-error.js'
import { VersionedCache } from '../cache/versioned-cache.js'
import { conflictingIds } from '../models/conflicts.js'
import { ModelsRepo, type ModelRow } from '../models/models.repo.js'
import type { Connection, ProviderModel } from '../providers/connection.js'
import type { ModelCatalog } from '../providers/model-catalog.js'

export interface RuntimeModel {
  id: string
  name: string
  object: 'model'
  created: number
  owned_by: string
  connection_id: string | null
  preset: boolean
  base_model_id: string | null
  /** The preset's base chain does not end at a model any connection serves. */
  base_model_missing: boolean
  /** The registry row (without params), or null for a raw provider model. */
  info: Record<string, unknown> | null
  tags: { name: string }[]
}

export interface Resolution {
  provider: ProviderModel
  connection: Connection
  /** Params of each preset from the requested one inward. */
  chainParams: Record<string, unknown>[]
}

export class RuntimeModelsService {
  private readonly models: ModelsRepo
  private readonly grants: ModelGrantsRepo
  private readonly lists = new VersionedCache<RuntimeModel[]>(1000, 60_000)
  private readonly texts = new VersionedCache<string>(1000, 60_000)
  private readonly resolutions = new VersionedCache<Resolution>(5000, 60_000)

  constructor(
    database: Database,
    private readonly access: AccessService,
    private readonly catalog: ModelCatalog,
    private readonly bypassModelAccessControl: boolean,
  ) {
    this.models = new ModelsRepo(database.db)
    this.grants = new ModelGrantsRepo(database.db)
  }

  /** Admin: what the providers serve, unfiltered. */
  providerModels(): Promise<ProviderModel[]> {
    return this.catalog.models()
  }

  /** Asks every provider again now, when the caller may force that (admins); otherwise does nothing. */
  async refreshFor(actor: Actor): Promise<void> {
    if (this.access.mayRefreshProviders(actor)) await this.catalog.refreshAll()
  }

  /**
   * The list, cached per caller while neither the registry nor the catalog changes: chat clients ask
   * for it on every page load, and building it reads every preset the caller may use.
   */
  async list(actor: Actor): Promise<RuntimeModel[]> {
    return this.listAt(actor, await this.snapshot(actor))
  }

  private listAt(actor: Actor, { who, version, providerModels }: Snapshot): Promise<RuntimeModel[]> {
    return this.lists.get(principalKey(who), version, () => this.build(actor, who, providerModels), isSmallList)
  }

  /**
   * The list as JSON text in one of its two shapes (Open WebUI's `{data}` or OpenAI's `{object, data}`),
   * cached as text: a caller who may use a thousand models would otherwise pay for serializing them all
   * on every request.
   */
  async listJson(actor: Actor, shape: 'runtime' | 'openai'): Promise<string> {
    const snapshot = await this.snapshot(actor)
    return this.texts.get(
      JSON.stringify([shape, principalKey(snapshot.who)]),
      snapshot.version,
      async () => {
        const models = await this.listAt(actor, snapshot)
        return JSON.stringify(shape === 'runtime' ? { data: models } : { object: 'list', data: models.filter((m) => !m.base_model_missing).map(toOpenAiModel) })
      },
      (json) => json.length <= MAX_CACHED_LIST_BYTES,
    )
  }

  /** The caller's principals and the version their answers are valid at (registry and catalog). */
  private async snapshot(actor: Actor): Promise<Snapshot> {
    const who = await this.access.principalsOf(actor)
    // The generation is read before the list: a refresh finishing in between then makes this answer's
    // version stale at once, instead of caching the old list under the new generation.
    const generation = this.catalog.generation
    const providerModels = await this.catalog.models() // also starts due background refreshes
    const version = `${await this.models.version()}:${generation}`
    return { who, version, providerModels }
  }

  private async build(actor: Actor, who: Principals, providerModels: ProviderModel[]): Promise<RuntimeModel[]> {
    const isOpen = this.bypassModelAccessControl || who.bypass
    const callerMayUseRaw = isOpen || this.access.mayUseUnregisteredModel(actor, this.bypassModelAccessControl)
    const providerById = new Map(providerModels.map((m) => [m.id, m]))
    const { rows: servedRows, conflicting } = await this.servedRows([...providerById.keys()])
    const rowsById = new Map(servedRows.map((row) => [row.id, row]))
    const readable = await this.readableSet(who, isOpen, servedRows)

    const result: RuntimeModel[] = []
    for (const model of providerModels) {
      const row = rowsById.get(model.id)
      if (row?.base_model_id) continue // an admin's preset took this id; it is listed below
      if (row) {
        if (Number(row.is_active) !== 1 || !readable.has(row.id)) continue
      } else if (!callerMayUseRaw) {
        continue
      }
      result.push(entry(row ?? null, model))
    }

    const listWho = isOpen ? { ...who, bypass: true } : who
    const presets = (await this.models.readableActivePresets(listWho, await this.models.planFor(listWho))).filter((p) => !conflicting.has(p.id))
    const hops = await this.loadChains(presets)
    // A conflicting row is no hop: the chain reaches the provider model of that id directly.
    for (const id of conflicting) hops.delete(id)
    const hopReadable = await this.readableSet(who, isOpen, [...hops.values()])
    const ends = presets.map((preset) => ({ preset, end: walkChain(preset, hops, hopReadable) }))
    const viaOwners = callerMayUseRaw ? [] : ends.flatMap(({ end }) => (end.kind === 'served' && end.via ? [end.via.user_id] : []))
    const roles = await this.models.ownerRoles(viaOwners)
    for (const { preset, end } of ends) {
      const usable = end.kind === 'served' && (end.via === null || this.access.mayUseRawBase(actor, roles.get(end.via.user_id), this.bypassModelAccessControl))
      const served = usable ? providerById.get(end.providerId) : undefined
      result.push({ ...entry(preset, served), base_model_missing: served === undefined })
    }
    return result
  }

  /**
   * The rows whose id a provider serves, split by hole 1's rule: `rows` stand for the provider's model
   * (an admin owns them), `conflicting` are the ids of the others, which are ignored.
   */
  private async servedRows(servedIds: readonly string[]): Promise<{ rows: ModelRow[]; conflicting: Set<string> }> {
    const all = await this.models.findByIds(servedIds)
    const conflicting = await conflictingIds(this.models, this.access, all, new Set(servedIds))
    return { rows: all.filter((row) => !conflicting.has(row.id)), conflicting }
  }

  /**
   * The provider model and connection that serve `modelId` for this caller, or 404 MODEL_NOT_FOUND.
   * Checked at call time, against the registry as it is now (cached only while nothing changed).
   */
  async resolve(actor: Actor, modelId: string): Promise<Resolution> {
    const { who, version, providerModels } = await this.snapshot(actor)
    return this.resolutions.get(JSON.stringify([principalKey(who), modelId]), version, () => this.resolveNow(actor, who, modelId, providerModels))
  }

  private async resolveNow(actor: Actor, who: Principals, modelId: string, providerModels: ProviderModel[]): Promise<Resolution> {
    const isOpen = this.bypassModelAccessControl || who.bypass
    const served = new Map(providerModels.map((m) => [m.id, m]))
    const chainParams: Record<string, unknown>[] = []
    const visited: string[] = []
    let id = modelId
    /** The top preset's base: the one id a failure below names (its readers see it on the preset). */
    let topBase: string | null = null
    /** The preset hop that references the raw provider model at the end, if the chain ends at one. */
    let via: ModelRow | null = null
    /** The chain ends at an override row (its grants decided above), not at a raw provider model. */
    let endsAtRow = false
    // Every failure past the requested model itself answers alike (hole 13): unreadable, inactive,
    // refused and unserved bases are indistinguishable.
    const unavailable = () =>
      topBase === null ? modelNotFound(modelId) : new AppError('MODEL_NOT_FOUND', `The base model "${topBase}" of "${modelId}" is not available.`)
    for (;;) {
      if (visited.includes(id)) {
        throw new AppError('CONFLICT', `The base chain of model "${modelId}" loops: ${[...visited, id].join(' → ')}.`)
      }
      visited.push(id)
      const row = await this.models.findById(id)
      if (!row || (await conflictingIds(this.models, this.access, [row], served)).has(id)) break // no row, or a conflict: the raw model
      const grants = (await this.grants.grantsOf([row.id])).get(row.id) ?? []
      if (!isOpen && !this.access.modelPermissions(who, row, grants).read) throw unavailable()
      if (Number(row.is_active) !== 1) throw unavailable()
      if (!row.base_model_id) {
        endsAtRow = true
        break
      }
      chainParams.push(JSON.parse(row.params) as Record<string, unknown>)
      topBase ??= row.base_model_id
      via = row
      id = row.base_model_id
    }
    if (!endsAtRow && !isOpen) {
      const ownerRole = via ? (await this.models.ownerRoles([via.user_id])).get(via.user_id) : undefined
      if (!this.access.mayUseRawBase(actor, ownerRole, this.bypassModelAccessControl)) throw unavailable()
    }
    const provider = served.get(id)
    const connection = provider ? await this.catalog.connection(provider.connection_id) : undefined
    if (!provider || !connection) throw unavailable()
    return { provider, connection, chainParams }
  }

  /** Loads every registered hop of the presets' base chains, level by level (loop-safe). */
  private async loadChains(presets: readonly ModelRow[]): Promise<Map<string, ModelRow>> {
    const hops = new Map<string, ModelRow>(presets.map((p) => [p.id, p]))
    let wanted = presets.map((p) => p.base_model_id).filter((id): id is string => id !== null && !hops.has(id))
    const missing = new Set<string>()
    while (wanted.length > 0) {
      const rows = await this.models.findByIds([...new Set(wanted)])
      for (const row of rows) hops.set(row.id, row)
      for (const id of wanted) if (!hops.has(id)) missing.add(id)
      wanted = rows.map((r) => r.base_model_id).filter((id): id is string => id !== null && !hops.has(id) && !missing.has(id))
    }
    return hops
  }

  private async readableSet(who: Principals, isOpen: boolean, rows: readonly ModelRow[]): Promise<Set<string>> {
    if (isOpen) return new Set(rows.map((r) => r.id))
    const grants = await this.grants.grantsOf(rows.map((r) => r.id))
    return new Set(rows.filter((r) => this.access.modelPermissions(who, r, grants.get(r.id) ?? []).read).map((r) => r.id))
  }
}

/**
 * Lists larger than this are rebuilt on every request rather than held in memory: an admin with bypass
 * on a registry of a million presets would otherwise pin gigabytes. Chat users' lists are far smaller.
 */
const MAX_CACHED_LIST_ITEMS = 5000
const MAX_CACHED_LIST_BYTES = 4 * 1024 * 1024
const isSmallList = (list: readonly RuntimeModel[]) => list.length <= MAX_CACHED_LIST_ITEMS

interface Snapshot {
  who: Principals
  version: string
  providerModels: ProviderModel[]
}

export const toOpenAiModel = (m: RuntimeModel) => ({ id: m.id, object: 'model' as const, created: m.created, owned_by: m.owned_by, name: m.name })

/**
 * Where a preset's base chain ends: a provider id (`via`: the preset hop that references it when it is
 * a raw provider model, null when it is an override row), or nothing usable.
 */
type ChainEnd = { kind: 'served'; providerId: string; via: ModelRow | null } | { kind: 'missing' }

/** Follows a preset's base chain through registered rows to the provider id at its end. */
function walkChain(preset: ModelRow, hops: Map<string, ModelRow>, readable: Set<string>): ChainEnd {
  const visited = new Set([preset.id])
  let via = preset
  let id = preset.base_model_id
  while (id !== null) {
    if (visited.has(id)) return { kind: 'missing' } // a loop never reaches a provider
    visited.add(id)
    const row = hops.get(id)
    if (!row) return { kind: 'served', providerId: id, via }
    // An unreadable hop looks exactly like a missing base (hole 13).
    if (!readable.has(row.id)) return { kind: 'missing' }
    if (Number(row.is_active) !== 1) return { kind: 'missing' }
    if (!row.base_model_id) return { kind: 'served', providerId: row.id, via: null }
    via = row
    id = row.base_model_id
  }
  return { kind: 'missing' }
}

function entry(row: ModelRow | null, served: ProviderModel | undefined): RuntimeModel {
  const meta = row ? (JSON.parse(row.meta) as Record<string, unknown>) : {}
  // Pictures are loaded from /models/model/profile/image; inline ones would bloat the list.
  const { profile_image_url: _image, ...listedMeta } = meta
  const tags = Array.isArray(meta['tags']) ? (meta['tags'] as { name: string }[]) : []
  return {
    id: row?.id ?? served?.id ?? '',
    name: row?.name ?? served?.name ?? '',
    object: 'model',
    created: row ? Number(row.created_at) : (served?.created ?? 0),
    owned_by: served?.owned_by ?? 'openai',
    connection_id: served?.connection_id ?? null,
    preset: row?.base_model_id != null,
    base_model_id: row?.base_model_id ?? null,
    base_model_missing: false,
    info: row
      ? {
          id: row.id,
          user_id: row.user_id,
          base_model_id: row.base_model_id,
          name: row.name,
          meta: listedMeta,
          is_active: Number(row.is_active) === 1,
          created_at: Number(row.created_at),
          updated_at: Number(row.updated_at),
        }
      : null,
    tags,
  }
}
