/**
 * The models a caller may use right now: provider models (renamed, hidden or restricted by override
 * rows) plus active presets, and the resolution of one id to the provider model that serves it.
 *
 * Both follow the one base-chain rule (`followBaseChain`, src/access/base-chain.ts) with what the
 * access service says the caller may see and use (`AccessService.runtimeView`): this service loads
 * rows, grants and owners' roles, and decides nothing itself. In short (docs/access-control.md):
 * override rows rename, hide or restrict a provider model; only an admin's row stands for a provider's
 * id (hole 1); a provider model without a row is for admins unless BYPASS_MODEL_ACCESS_CONTROL is on;
 * a preset needs every registered hop of its chain readable and active, and its raw base usable by the
 * caller or by the owner of the hop that references it (hole 2). A preset whose chain does not end at
 * a model the caller may use is listed with `base_model_missing` and answers the same 404 in chat,
 * whatever the reason (hole 13).
 */
import type { AccessService } from '../access/access.service.js'
import { modelNotFound } from '../access/access.service.js'
import type { Actor } from '../access/actor.js'
import { followBaseChain, type ChainLookup, type RuntimeView } from '../access/base-chain.js'
import { ModelGrantsRepo } from '../access/model-grants.repo.js'
import type { Database } from '../db/database.js'
import { AppError } from '../errors/app-error.js'
import { VersionedCache } from '../cache/versioned-cache.js'
import { toJsonText, type JsonText } from '../schema/json-text.js'
import { conflictingIds } from '../models/conflicts.js'
import { orderByConfig, type ModelConfigStore } from '../models/model-config.js'
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
  /** `meta.tags`, then the connection's tags (Open WebUI's union), extra keys (`color`) kept. */
  tags: ({ name: string } & Record<string, unknown>)[]
  /** Open WebUI's `local` / `external` (of the connection; a preset's of its base), null when unserved. */
  connection_type: 'local' | 'external' | null
  /** Open WebUI's index of the connection among those of its kind; provider models only. */
  urlIdx?: number
  /** `meta.actionIds` / `meta.filterIds` as Open WebUI's items (ids only: modelgate runs no functions). */
  actions: RuntimeFunction[]
  filters: RuntimeFunction[]
}

export interface RuntimeFunction {
  id: string
  name: string
  description: null
  icon: null
}

/** A runtime model with what `/v1/models` shows as `owned_by` (the provider's own word). */
export interface RuntimeEntry extends RuntimeModel {
  upstream_owned_by: string
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
  private readonly lists = new VersionedCache<RuntimeEntry[]>(1000, 60_000, 'runtime_lists')
  private readonly runtimeTexts = new VersionedCache<JsonText<{ data: RuntimeModel[] }>>(1000, 60_000, 'runtime_list_texts')
  private readonly openAiTexts = new VersionedCache<JsonText<{ object: 'list'; data: OpenAiModel[] }>>(1000, 60_000, 'openai_list_texts')
  private readonly resolutions = new VersionedCache<Resolution>(5000, 60_000, 'resolutions')

  constructor(
    database: Database,
    private readonly access: AccessService,
    private readonly catalog: ModelCatalog,
    /** BYPASS_MODEL_ACCESS_CONTROL, handed to the access service with every question. */
    private readonly bypassModelAccessControl: boolean,
    /** MODEL_ORDER_LIST (a save bumps the registry version, so cached lists are stale at once). */
    private readonly modelConfig?: ModelConfigStore,
    /** The registry version, from the registry's cache (services.ts); the database's when not given. */
    private readonly registryVersion: () => Promise<number> = () => this.models.version(),
  ) {
    this.models = new ModelsRepo(database.db)
    this.grants = new ModelGrantsRepo(database.db)
  }

  /** Admin: what the providers serve, unfiltered. */
  providerModels(): Promise<readonly ProviderModel[]> {
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
  async list(actor: Actor): Promise<RuntimeEntry[]> {
    return this.listAt(await this.snapshot(actor))
  }

  private listAt({ view, version, providerModels }: Snapshot): Promise<RuntimeEntry[]> {
    return this.lists.get(view.key, version, () => this.build(view, providerModels), isSmallList)
  }

  /**
   * The list as JSON text in one of its two shapes (Open WebUI's `{data}` or OpenAI's `{object, data}`),
   * cached as text: a caller who may use a thousand models would otherwise pay for serializing them all
   * on every request.
   */
  async listJson(actor: Actor, shape: 'runtime'): Promise<JsonText<{ data: RuntimeModel[] }>>
  async listJson(actor: Actor, shape: 'openai'): Promise<JsonText<{ object: 'list'; data: OpenAiModel[] }>>
  async listJson(actor: Actor, shape: 'runtime' | 'openai'): Promise<Buffer> {
    const snapshot = await this.snapshot(actor)
    const small = (json: Buffer) => json.length <= MAX_CACHED_LIST_BYTES
    if (shape === 'runtime') {
      return this.runtimeTexts.get(snapshot.view.key, snapshot.version, async () => toJsonText({ data: (await this.listAt(snapshot)).map(publicModel) }), small)
    }
    return this.openAiTexts.get(
      snapshot.view.key,
      snapshot.version,
      async () => {
        const models = await this.listAt(snapshot)
        return toJsonText({ object: 'list' as const, data: models.filter((m) => !m.base_model_missing).map(toOpenAiModel) })
      },
      small,
    )
  }

  /** What the caller may see and use, and the version their answers are valid at (registry and catalog). */
  private async snapshot(actor: Actor): Promise<Snapshot> {
    const view = await this.access.runtimeView(actor, this.bypassModelAccessControl)
    // The generation is read before the list: a refresh finishing in between then makes this answer's
    // version stale at once, instead of caching the old list under the new generation.
    const generation = this.catalog.generation
    const providerModels = await this.catalog.models() // also starts due background refreshes
    const version = `${await this.registryVersion()}:${generation}`
    return { view, version, providerModels }
  }

  private async build(view: RuntimeView, providerModels: readonly ProviderModel[]): Promise<RuntimeEntry[]> {
    const providerById = new Map(providerModels.map((m) => [m.id, m]))
    const connections = new Map((await this.catalog.enabledConnections()).map((c) => [c.id, c]))
    const entry = (row: ModelRow | null, served: ProviderModel | undefined) => entryOf(row, served, served && connections.get(served.connection_id))
    const servedRows = await this.models.findByIds([...providerById.keys()])
    const presets = await this.models.readableActivePresets(view.reader, await this.models.planFor(view.reader))
    const hops = await this.loadChains([...servedRows, ...presets])
    const lookup = await this.lookup(view, hops, providerById)

    const result: RuntimeEntry[] = []
    for (const model of providerModels) {
      const row = lookup.row(model.id)
      if (row?.base_model_id) continue // an admin's preset took this id; it is listed below
      if (followBaseChain(model.id, lookup).ok) result.push(entry(row ?? null, model))
    }
    for (const preset of presets) {
      // A conflicting row is neither listed nor a hop: the provider model of its id is listed above.
      if (lookup.row(preset.id) !== preset) continue
      const end = followBaseChain(preset.id, lookup)
      const served = end.ok ? providerById.get(end.endId) : undefined
      // A preset carries its base's owner and connection type, not its urlIdx (as in Open WebUI).
      const { urlIdx: _index, ...listed } = entry(preset, served)
      result.push({ ...listed, base_model_missing: served === undefined })
    }
    // Open WebUI's MODEL_ORDER_LIST: listed ids first, in its order; it only moves what is already here.
    return this.modelConfig ? orderByConfig(result, await this.modelConfig.order()) : result
  }

  /**
   * The provider model and connection that serve `modelId` for this caller, or 404 MODEL_NOT_FOUND.
   * Checked at call time, against the registry as it is now (cached only while nothing changed).
   */
  async resolve(actor: Actor, modelId: string): Promise<Resolution> {
    const { view, version, providerModels } = await this.snapshot(actor)
    return this.resolutions.get(JSON.stringify([view.key, modelId]), version, () => this.resolveNow(view, modelId, providerModels))
  }

  private async resolveNow(view: RuntimeView, modelId: string, providerModels: readonly ProviderModel[]): Promise<Resolution> {
    const providerById = new Map(providerModels.map((m) => [m.id, m]))
    const hops = await this.loadChains([], [modelId])
    const end = followBaseChain(modelId, await this.lookup(view, hops, providerById))
    if (!end.ok && end.reason === 'loop') {
      throw new AppError('CONFLICT', `The base chain of model "${modelId}" loops: ${end.path.join(' → ')}.`)
    }
    const provider = end.ok ? providerById.get(end.endId) : undefined
    const connection = provider ? await this.catalog.connection(provider.connection_id) : undefined
    if (!provider || !connection) {
      // Every failure past the requested model itself answers alike (hole 13): unreadable, inactive,
      // refused and unserved bases are indistinguishable.
      const topBase = end.presets[0]?.base_model_id
      throw topBase ? new AppError('MODEL_NOT_FOUND', `The base model "${topBase}" of "${modelId}" is not available.`) : modelNotFound(modelId)
    }
    return { provider, connection, chainParams: end.ok ? end.presets.map((p) => JSON.parse(p.params) as Record<string, unknown>) : [] }
  }

  /**
   * The chain rule's view of the loaded rows for this caller: conflicting rows (hole 1) are no rows,
   * and reads and raw bases are what the access service's view says, with the grants and owners'
   * roles they need loaded in a few queries.
   */
  private async lookup(view: RuntimeView, hops: Map<string, ModelRow>, providerById: Map<string, ProviderModel>): Promise<ChainLookup<ModelRow>> {
    const rows = [...hops.values()]
    const conflicting = await conflictingIds(this.models, this.access, rows, providerById)
    const grants = view.needsGrants ? await this.grants.grantsOf(rows.map((r) => r.id)) : new Map<string, never[]>()
    // Owners' roles matter only for presets referencing a raw base, and only when the caller's own
    // right does not already allow it.
    const callerMayUseRaw = view.mayUseRawBase(undefined)
    const roles = callerMayUseRaw ? new Map<string, never>() : await this.models.ownerRoles(rows.filter((r) => r.base_model_id !== null).map((r) => r.user_id))
    return {
      row: (id) => (conflicting.has(id) ? undefined : hops.get(id)),
      readable: (row) => view.mayRead(row, grants.get(row.id) ?? []),
      rawUsable: (via) => (via === null ? callerMayUseRaw : view.mayUseRawBase(roles.get(via.user_id))),
      served: (id) => providerById.has(id),
    }
  }

  /**
   * Loads `rows` and every registered hop of their base chains, level by level (loop-safe), starting
   * from `rows` and the ids `startIds`.
   */
  private async loadChains(rows: readonly ModelRow[], startIds: readonly string[] = []): Promise<Map<string, ModelRow>> {
    const hops = new Map<string, ModelRow>(rows.map((p) => [p.id, p]))
    const missing = new Set<string>()
    let wanted = [...startIds, ...rows.map((p) => p.base_model_id)].filter((id): id is string => id !== null && !hops.has(id))
    while (wanted.length > 0) {
      const found = await this.models.findByIds([...new Set(wanted)])
      for (const row of found) hops.set(row.id, row)
      for (const id of wanted) if (!hops.has(id)) missing.add(id)
      wanted = found.map((r) => r.base_model_id).filter((id): id is string => id !== null && !hops.has(id) && !missing.has(id))
    }
    return hops
  }
}

/**
 * Lists larger than this are rebuilt on every request rather than held in memory: an admin with bypass
 * on a registry of a million presets would otherwise pin gigabytes. Chat users' lists are far smaller.
 */
const MAX_CACHED_LIST_ITEMS = 5000
const MAX_CACHED_LIST_BYTES = 4 * 1024 * 1024
const isSmallList = (list: readonly RuntimeEntry[]) => list.length <= MAX_CACHED_LIST_ITEMS

interface Snapshot {
  view: RuntimeView
  version: string
  providerModels: readonly ProviderModel[]
}

export type OpenAiModel = ReturnType<typeof toOpenAiModel>

export const toOpenAiModel = (m: RuntimeEntry) => ({ id: m.id, object: 'model' as const, created: m.created, owned_by: m.upstream_owned_by, name: m.name })

/** The runtime list's item as answered (without what only `/v1/models` reads). */
function publicModel(entry: RuntimeEntry): RuntimeModel {
  const { upstream_owned_by: _owner, ...model } = entry
  return model
}

type Tag = { name: string } & Record<string, unknown>
const isTag = (tag: unknown): tag is Tag => typeof tag === 'object' && tag !== null && typeof (tag as { name?: unknown }).name === 'string'

/** Open WebUI's items for `meta.actionIds` / `meta.filterIds`: the ids, named by themselves. */
function functionsOf(ids: unknown): RuntimeFunction[] {
  if (!Array.isArray(ids)) return []
  return [...new Set(ids.filter((id): id is string => typeof id === 'string'))].map((id) => ({ id, name: id, description: null, icon: null }))
}

function entryOf(row: ModelRow | null, served: ProviderModel | undefined, connection: Connection | undefined): RuntimeEntry {
  const meta = row ? (JSON.parse(row.meta) as Record<string, unknown>) : {}
  // Pictures are loaded from /models/model/profile/image; inline ones would bloat the list.
  const { profile_image_url: _image, ...listedMeta } = meta
  const tags = Array.isArray(meta['tags']) ? meta['tags'].filter(isTag) : []
  const names = new Set(tags.map((t) => t.name.toLowerCase()))
  for (const tag of connection?.tags ?? []) {
    if (names.has(tag.name.toLowerCase())) continue
    names.add(tag.name.toLowerCase())
    tags.push(tag)
  }
  return {
    id: row?.id ?? served?.id ?? '',
    name: row?.name ?? served?.name ?? '',
    object: 'model',
    created: row ? Number(row.created_at) : (served?.created ?? 0),
    // Open WebUI's owner: "ollama" for Ollama connections, "openai" for every other (the provider's own word is in /v1/models).
    owned_by: connection?.kind === 'ollama' ? 'ollama' : 'openai',
    upstream_owned_by: served?.owned_by ?? 'openai',
    connection_type: connection?.connection_type ?? null,
    ...(connection && { urlIdx: connection.url_idx }),
    actions: functionsOf(meta['actionIds']),
    filters: functionsOf(meta['filterIds']),
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
