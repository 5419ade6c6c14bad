/**
 * Reading the registry: list pages and single models (cached against the registry version), tags, the
 * admin's override and conflict lists, and model pictures. Who may read what is the access service's
 * answer; abilities (`can`) too.
 */
import { createHash } from 'node:crypto'
import type { Actor } from '../access/actor.js'
import { callerKey, principalKey, type ModelCaller } from '../access/model-grants.js'
import { modelNotFound } from '../access/access.service.js'
import { VersionedCache } from '../cache/versioned-cache.js'
import { conflictingIds } from './conflicts.js'
import { modelStatuses, STATUS_OK } from './model-status.js'
import { presentAccessModel, presentModel, withoutInlineImage } from './models.presenter.js'
import type { ListFilters, ListPlan, ModelRow, PageBoundary } from './models.repo.js'
import type {
  BaseModelItem,
  BaseModelsQuery,
  BaseModelsResponse,
  ListQuery,
  ListResponse,
  ModelAccessResponse,
  ModelConflict,
  ModelResponse,
} from './models.schema.js'
import { profileImageOf, type ProfileImage } from './profile-image.js'
import { toJsonText, type JsonText } from '../schema/json-text.js'
import type { Registry, ServedCatalog } from './registry.js'

const PAGE_CACHE_SIZE = 2000
const TOTALS_CACHE_SIZE = 5000
/** Page boundaries kept (one small entry per page reached: sort key, id; ~0.2 kB with its key). */
const BOUNDARY_CACHE_SIZE = 20_000
const CACHE_MAX_AGE_MS = 60_000

export class ModelQueries {
  /**
   * Serialized list pages and models, valid while the registry version and the ids providers serve are
   * unchanged (see listJson).
   */
  private readonly pages = new VersionedCache<JsonText<ListResponse>>(PAGE_CACHE_SIZE, CACHE_MAX_AGE_MS, 'model_pages')
  private readonly single = new VersionedCache<{ json: JsonText<ModelAccessResponse>; version: number }>(PAGE_CACHE_SIZE, CACHE_MAX_AGE_MS, 'single_models')
  /** Totals of dense lists, valid while the registry version is unchanged (see total). */
  private readonly totals = new VersionedCache<number>(TOTALS_CACHE_SIZE, CACHE_MAX_AGE_MS, 'model_totals')
  /**
   * Where each page reached ends (its last row's sort key and id), valid while the registry version is
   * unchanged: page N+1 seeks the sort index after page N's boundary instead of walking N pages (see
   * pageRows). `null`: the page had no last row (past the end).
   */
  private readonly boundaries = new VersionedCache<PageBoundary | null>(BOUNDARY_CACHE_SIZE, CACHE_MAX_AGE_MS, 'page_boundaries')

  constructor(private readonly registry: Registry) {}

  /**
   * A list page as JSON text, from the page cache when the registry has not changed since it was built.
   * Pages depend on the caller (their grants, groups, and the sharing permissions `can.share` reads) and
   * on the query, so that is the key; every registry write (and every change of an account shown as
   * owner, role included) bumps the version and so retires every cached page, on every instance sharing
   * the database. A feature-permission change gives the caller another key. `can` also depends on which
   * rows are conflicts (hole 1), that is on the ids providers serve, which change with the catalog and
   * bump no registry version: a fingerprint of the served ids the page was built from is part of its
   * version. `fresh` skips the cache.
   */
  async listJson(actor: Actor, query: ListQuery, options: { fresh: boolean }): Promise<JsonText<ListResponse>> {
    const [caller, version, served] = await Promise.all([this.registry.access.modelCaller(actor), this.version(), this.registry.served.servedIds()])
    const build = async () => toJsonText(await this.listFor(caller, query, version, served))
    if (options.fresh) return build()
    return this.pages.get(JSON.stringify(['list', callerKey(caller), query]), `${version}:${servedFingerprint(served)}`, build)
  }

  /**
   * One model as the caller sees it (JSON text, cached like list pages, served ids included), with its
   * version (the ETag of GET /model).
   */
  async getJson(actor: Actor, id: string): Promise<{ json: JsonText<ModelAccessResponse>; version: number }> {
    const [caller, version, served] = await Promise.all([this.registry.access.modelCaller(actor), this.version(), this.registry.served.servedIds()])
    return this.single.get(JSON.stringify(['get', callerKey(caller), id]), `${version}:${servedFingerprint(served)}`, async () => {
      const model = await this.getFor(caller, id, served)
      return { json: toJsonText(model), version: model.version }
    })
  }

  async tags(actor: Actor): Promise<string[]> {
    return this.registry.models.tags(await this.registry.access.principalsOf(actor))
  }

  /**
   * Admin: rows whose id a provider serves but whose owner is not an admin (hole 1). They never shadow
   * the provider model; this lists them so an admin can delete them or hand them to an admin.
   */
  async conflicts(): Promise<ModelConflict[]> {
    const { models, access } = this.registry
    const served = await this.registry.served.servedIds()
    const rows = await models.findByIds([...served.keys()])
    const conflicting = await conflictingIds(models, access, rows, served)
    const owners = await models.owners(rows.filter((row) => conflicting.has(row.id)).map((row) => row.user_id))
    return rows
      .filter((row) => conflicting.has(row.id))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((row) => {
        const owner = owners.get(row.user_id)
        return {
          id: row.id,
          name: row.name,
          user_id: row.user_id,
          owner: owner ? { id: owner.id, name: owner.name, email: owner.email } : null,
          connection_id: served.get(row.id) ?? null,
        }
      })
  }

  /** Admin: base-model override rows. */
  async overrides(): Promise<ModelResponse[]> {
    return this.registry.present(await this.registry.models.overrides())
  }

  /**
   * Admin: every provider model joined with its registry row (Open WebUI's Admin › Models), then the
   * override rows whose model no provider serves any more; filtered by connection and text, a page of
   * them. Catalog order (connections in order, each provider's list as given), then those rows by id.
   * Changes go through the ordinary model routes (create, update, toggle, access update).
   */
  async baseModels(actor: Actor, query: BaseModelsQuery): Promise<BaseModelsResponse> {
    const { models, access, grants: grantsRepo } = this.registry
    const [catalog, served, caller] = await Promise.all([this.registry.served.catalog(), this.registry.served.servedIds(), access.modelCaller(actor)])
    const [servedRows, overrideRows] = await Promise.all([models.findByIds(catalog.models.map((m) => m.id)), models.overrides()])
    const rows = new Map<string, ModelRow>([...servedRows, ...overrideRows].map((row) => [row.id, row]))
    const conflicting = await conflictingIds(models, access, servedRows, served)
    const entries: { id: string; provider: ServedCatalog['models'][number] | undefined; row: ModelRow | undefined }[] = catalog.models.map((provider) => ({
      id: provider.id,
      provider,
      row: rows.get(provider.id),
    }))
    for (const row of overrideRows) if (!served.has(row.id)) entries.push({ id: row.id, provider: undefined, row })
    const counts = new Map<string, number>()
    for (const model of catalog.models) counts.set(model.connection_id, (counts.get(model.connection_id) ?? 0) + 1)

    const needle = query.query?.toLowerCase()
    const matches = entries.filter(
      (e) =>
        (query.connection_id === undefined || e.provider?.connection_id === query.connection_id) &&
        (!needle || [e.id, e.row?.name, e.provider?.name].some((text) => text?.toLowerCase().includes(needle))),
    )
    const offset = (query.page - 1) * query.limit
    const page = matches.slice(offset, offset + query.limit)
    const kindOf = (row: ModelRow | undefined): BaseModelItem['row'] =>
      !row ? null : conflicting.has(row.id) ? 'conflict' : row.base_model_id === null ? 'override' : 'preset'
    const overrides = page.flatMap((e) => (e.row && kindOf(e.row) === 'override' ? [e.row] : []))
    const grants = await grantsRepo.grantsOf(overrides.map((row) => row.id))
    const statuses = await modelStatuses(this.registry.root, caller, this.registry.bypassModelAccessControl, overrides, served)
    const connectionNames = new Map(catalog.connections.map((c) => [c.id, c.name]))
    const items = page.map((e) => {
      const kind = kindOf(e.row)
      const row = kind === 'override' ? e.row : undefined
      const rowGrants = row ? (grants.get(row.id) ?? []) : []
      const status = (row && statuses.get(row.id)) ?? STATUS_OK
      const override = row ? { ...presentModel(row, rowGrants), can: access.abilitiesOn(caller, row, rowGrants, false), status } : null
      const tags = override && Array.isArray(override.meta['tags']) ? override.meta['tags'].flatMap((t: unknown) => (isNamed(t) ? [t.name] : [])) : []
      return {
        id: e.id,
        name: row?.name ?? e.provider?.name ?? e.id,
        provider_name: e.provider?.name ?? null,
        connection_id: e.provider?.connection_id ?? null,
        connection_name: (e.provider && connectionNames.get(e.provider.connection_id)) ?? null,
        owned_by: e.provider?.owned_by ?? null,
        served: e.provider !== undefined,
        is_active: row ? Number(row.is_active) === 1 : true,
        tags,
        row: kind,
        override,
        status,
      }
    })
    return { items, total: matches.length, connections: catalog.connections.map((c) => ({ ...c, count: counts.get(c.id) ?? 0 })) }
  }

  /** `allowedHosts`: where a picture URL may redirect to (PROFILE_IMAGE_HOSTS); see profile-image.ts. */
  async profileImage(actor: Actor, id: string, allowedHosts: readonly string[] = []): Promise<ProfileImage> {
    const who = await this.registry.access.principalsOf(actor)
    const { row } = await this.registry.readable(who, id)
    const meta = JSON.parse(row.meta) as { profile_image_url?: unknown }
    return profileImageOf(typeof meta.profile_image_url === 'string' ? meta.profile_image_url : '', allowedHosts)
  }

  private async version(): Promise<string> {
    return String(await this.registry.version())
  }

  private async listFor(caller: ModelCaller, query: ListQuery, version: string, served: ReadonlyMap<string, string>): Promise<ListResponse> {
    const { models } = this.registry
    const viewOption = query.view_option === 'created' || query.view_option === 'shared' ? query.view_option : undefined
    const filters = { who: caller, query: query.query, viewOption, tag: query.tag, templateId: query.template_id }
    const plan = await models.planFor(caller, viewOption)
    const [rows, total] = await Promise.all([this.pageRows(filters, plan, query, version), this.total(filters, plan, version)])
    return { items: await this.withAccess(caller, rows, served, { stripInlineImages: true }), total }
  }

  /**
   * The rows of page `query.page`, the same as `OFFSET (page - 1) × limit` on the same data. Page N > 1
   * starts after page N − 1's boundary (a seek on the (sort key, id) index, as cheap as page 1); a
   * boundary not known at this registry version is found once by walking to it (the cost of OFFSET),
   * and every page built records its own, so paging forward or re-reading a deep page seeks. Any
   * registry write (a new version) forgets the boundaries: rows added or deleted move every page, as
   * OFFSET would (docs/performance.md, "Deep pages").
   */
  private async pageRows(filters: ListFilters, plan: ListPlan, query: ListQuery, version: string): Promise<ModelRow[]> {
    const { models } = this.registry
    const page = { orderBy: query.order_by, direction: query.direction, offset: 0, limit: query.limit }
    const listKey = [
      principalKey(filters.who),
      filters.query,
      filters.viewOption,
      filters.tag,
      filters.templateId,
      plan,
      query.order_by,
      query.direction,
      query.limit,
    ]
    const boundaryKey = (n: number) => JSON.stringify([...listKey, n])
    let after: PageBoundary | null | undefined
    if (query.page > 1) {
      after = await this.boundaries.get(boundaryKey(query.page - 1), version, async () => {
        const [last] = await models.listPage(filters, plan, { ...page, offset: (query.page - 1) * query.limit - 1, limit: 1 })
        return last ? boundaryOf(last, query.order_by) : null
      })
      if (after === null) return []
    }
    const rows = await models.listPage(filters, plan, { ...page, after: after ?? undefined })
    const last = rows.at(-1)
    if (last && rows.length === query.limit) void this.boundaries.get(boundaryKey(query.page), version, () => Promise.resolve(boundaryOf(last, query.order_by)))
    return rows
  }

  private async getFor(caller: ModelCaller, id: string, served: ReadonlyMap<string, string>): Promise<ModelAccessResponse> {
    const { row } = await this.registry.readable(caller, id)
    const [item] = await this.withAccess(caller, [row], served, { stripInlineImages: false })
    if (!item) throw modelNotFound(id)
    return item
  }

  /**
   * Rows → ModelAccessResponse: grants, owners, conflicts (`served`: the ids providers serve) and the
   * base chains' status (model-status.ts) for the whole page in a few queries, abilities asked per row.
   */
  private async withAccess(
    caller: ModelCaller,
    rows: readonly ModelRow[],
    served: ReadonlyMap<string, string>,
    options: { stripInlineImages: boolean },
  ): Promise<ModelAccessResponse[]> {
    const { models, grants: grantsRepo, access } = this.registry
    const [grants, owners, conflicting, statuses] = await Promise.all([
      grantsRepo.grantsOf(rows.map((row) => row.id)),
      models.owners(rows.map((row) => row.user_id)),
      conflictingIds(models, access, rows, served),
      modelStatuses(this.registry.root, caller, this.registry.bypassModelAccessControl, rows, served),
    ])
    return rows.map((row) => {
      const rowGrants = grants.get(row.id) ?? []
      const model = presentModel(row, rowGrants)
      const can = access.abilitiesOn(caller, row, rowGrants, conflicting.has(row.id))
      const status = statuses.get(row.id) ?? STATUS_OK
      return presentAccessModel(options.stripInlineImages ? withoutInlineImage(model) : model, owners.get(row.user_id) ?? null, can, status)
    })
  }

  /**
   * The total of a list. Sparse lists count their small set directly; dense and admin lists would scan,
   * so their totals are cached against the registry version (any write invalidates them).
   */
  private total(filters: ListFilters, plan: ListPlan, version: string): Promise<number> {
    const { models } = this.registry
    if (plan === 'grantedIds') return models.count(filters, plan)
    const key = JSON.stringify([principalKey(filters.who), filters.query, filters.viewOption, filters.tag, filters.templateId, plan])
    return this.totals.get(key, version, () => models.count(filters, plan))
  }
}

/**
 * A short fingerprint of the ids providers serve, part of the version of cached pages and models: a
 * change of the catalog (an id served or no longer served) gives another version. The catalog lists ids
 * in a stable order (connections, then each provider's list), so an unchanged catalog keeps its
 * fingerprint; a reordering only costs a rebuild.
 */
function servedFingerprint(served: ReadonlyMap<string, string>): string {
  if (served.size === 0) return '-'
  // The catalog hands out the same map until a provider's list changes: hash each map once.
  let fingerprint = fingerprints.get(served)
  if (fingerprint === undefined) {
    fingerprint = createHash('sha256')
      .update([...served.keys()].join('\u0000'))
      .digest('base64url')
      .slice(0, 22)
    fingerprints.set(served, fingerprint)
  }
  return fingerprint
}

const boundaryOf = (row: ModelRow, orderBy: ListQuery['order_by']): PageBoundary => ({ key: row[orderBy], id: row.id })

const isNamed = (tag: unknown): tag is { name: string } => typeof tag === 'object' && tag !== null && typeof (tag as { name?: unknown }).name === 'string'

const fingerprints = new WeakMap<ReadonlyMap<string, string>, string>()
