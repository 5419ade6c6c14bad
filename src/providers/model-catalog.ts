/**
 * What the providers serve, cached per connection for MODELS_CACHE_TTL seconds and served stale while a
 * refresh runs. The first fetch of a connection is awaited (bounded by the list timeout); after that a
 * listing never waits for a provider: a provider that is down or slow keeps its last good list, marked
 * stale, until it answers again.
 *
 * Connection changes reach every instance two ways: the invalidation bus (at once, with Redis), and the
 * connections version in the database, compared on the read path at most once per
 * SETTINGS_CHECK_INTERVAL_MS (issue #10, hole 11): when it moved, the connections are reloaded, the lists
 * of changed connections dropped and the others refreshed in the background.
 */
import type { Connection, ProviderModel } from './connection.js'
import type { InvalidationBus } from './invalidation-bus.js'
import { adminDetailOf, fetchProviderModels } from './provider-client.js'
import { noteCacheLookup } from '../cache/versioned-cache.js'

export interface CatalogStatus {
  /** null until the first attempt ends. */
  ok: boolean | null
  /** The list is older than the TTL, or the last attempt failed. */
  stale: boolean
  model_count: number
  error: string | null
  /** Epoch seconds of the last good list. */
  fetched_at: number | null
}

interface Entry {
  models: ProviderModel[]
  fetchedAt: number | null
  attemptedAt: number | null
  ok: boolean | null
  error: string | null
  refreshing: Promise<void> | null
}

/** Topics on the invalidation bus. */
export const CONNECTIONS_TOPIC = 'connections'
/** Every model list is due for a refresh (its last good list is kept until the refresh ends). */
export const REFRESH_TOPIC = 'refresh'

export class ModelCatalog {
  private readonly entries = new Map<string, Entry>()
  private changes = 0
  private connections: Promise<Connection[]> | null = null
  /** What each connection's list was fetched for (kind, URL, key, prefix, enabled), by connection id. */
  private readonly fingerprints = new Map<string, string>()
  private seenVersion: number | null = null
  private checkedAt = Number.NEGATIVE_INFINITY
  private checking: Promise<void> | null = null

  constructor(
    private readonly loadConnections: () => Promise<Connection[]>,
    private readonly options: { ttlMs: number; timeoutMs: number; /** default 1000 */ versionCheckMs?: number },
    private readonly bus: InvalidationBus,
    /** The connections version in the database; without it only the bus tells of changes. */
    private readonly loadVersion?: () => Promise<number>,
  ) {
    bus.subscribe((topic) => {
      // The database topics of the gateway caches (services.ts) change nothing the catalog serves.
      if (topic.startsWith('db:')) return
      this.changes += 1
      if (topic === CONNECTIONS_TOPIC) this.connections = null
      else if (topic === REFRESH_TOPIC) this.markAllDue()
      else if (topic.startsWith('connection:')) this.entries.delete(topic.slice('connection:'.length))
    })
  }

  /**
   * Counts changes of what the catalog serves (a list that came back different, a dropped entry, a
   * connection change): answers built from the catalog are valid while it is unchanged.
   */
  get generation(): number {
    return this.changes
  }

  /** Enabled connections (cached until a connection changes on any instance). */
  async enabledConnections(): Promise<Connection[]> {
    await this.checkVersion()
    this.connections ??= this.loadConnections().then(
      (all) => {
        // Connections gone (on any instance) take their lists with them.
        const ids = new Set(all.map((c) => c.id))
        for (const id of this.entries.keys()) if (!ids.has(id)) this.forget(id)
        return all
      },
      (error: unknown) => {
        this.connections = null
        throw error
      },
    )
    return (await this.connections).filter((c) => c.enabled && c.api_enabled !== false)
  }

  /**
   * Compares the connections version in the database with the last one seen, at most once per
   * `versionCheckMs` (concurrent callers share one query). When it moved (a change on any instance),
   * the connections are reloaded and every list is due. A failed check is retried at the next interval.
   */
  private async checkVersion(): Promise<void> {
    const { loadVersion } = this
    if (!loadVersion || Date.now() - this.checkedAt < (this.options.versionCheckMs ?? 1000)) return
    this.checking ??= loadVersion()
      .then(
        (version) => {
          if (this.seenVersion !== null && version !== this.seenVersion) {
            this.changes += 1
            this.connections = null
            this.markAllDue()
          }
          this.seenVersion = version
        },
        () => undefined,
      )
      .finally(() => {
        this.checkedAt = Date.now()
        this.checking = null
      })
    await this.checking
  }

  /**
   * The cache entry of a connection as it is now: a list fetched for another URL, key, kind or prefix
   * (changed on any instance) is dropped, so its next listing waits for the new one.
   */
  private entryFor(connection: Connection): Entry {
    // Connection objects are replaced when reloaded: their fingerprint is computed once per object (this runs on every chat request).
    let fingerprint = this.fingerprintOf.get(connection)
    if (fingerprint === undefined) {
      fingerprint = JSON.stringify([connection.kind, connection.base_url, connection.apiKey, connection.prefix_id, connection.model_ids])
      this.fingerprintOf.set(connection, fingerprint)
    }
    const before = this.fingerprints.get(connection.id)
    if (before !== fingerprint) {
      if (before !== undefined) this.forget(connection.id)
      this.fingerprints.set(connection.id, fingerprint)
    }
    return this.entry(connection.id)
  }

  private forget(id: string): void {
    if (this.entries.delete(id)) this.changes += 1
    this.fingerprints.delete(id)
  }

  async connection(id: string): Promise<Connection | undefined> {
    return (await this.enabledConnections()).find((c) => c.id === id)
  }

  /**
   * Every provider model; when two connections serve one id, the earlier connection wins. Merged again
   * only when a connection's list was replaced (as servedIds): asked on every chat request.
   */
  async models(): Promise<readonly ProviderModel[]> {
    const connections = await this.enabledConnections()
    const lists = await Promise.all(connections.map((c) => this.modelsOf(c)))
    const last = this.lastMerged
    if (last && last.lists.length === lists.length && last.lists.every((list, i) => list === lists[i])) return last.models
    const seen = new Set<string>()
    const models = lists.flat().filter((m) => (seen.has(m.id) ? false : (seen.add(m.id), true)))
    this.lastMerged = { lists, models }
    return models
  }

  private lastMerged: { lists: ProviderModel[][]; models: ProviderModel[] } | undefined
  private readonly fingerprintOf = new WeakMap<Connection, string>()

  /**
   * Served model id → connection id, for the registry's provider-id rules (read on every list page).
   * Built again only when a connection's list was replaced (each refresh stores a new array), so the
   * hot path costs one identity check per connection, and callers may memoise on the map's identity.
   */
  async servedIds(): Promise<ReadonlyMap<string, string>> {
    const connections = await this.enabledConnections()
    const lists = await Promise.all(connections.map((c) => this.modelsOf(c)))
    const last = this.lastServed
    if (last && last.lists.length === lists.length && last.lists.every((list, i) => list === lists[i])) return last.ids
    const ids = new Map<string, string>()
    for (const list of lists) for (const model of list) if (!ids.has(model.id)) ids.set(model.id, model.connection_id)
    this.lastServed = { lists, ids }
    return ids
  }

  private lastServed: { lists: ProviderModel[][]; ids: ReadonlyMap<string, string> } | undefined

  async find(modelId: string): Promise<ProviderModel | undefined> {
    return (await this.models()).find((m) => m.id === modelId)
  }

  async modelsOf(connection: Connection): Promise<ProviderModel[]> {
    await this.checkVersion()
    const entry = this.entryFor(connection)
    const now = Date.now()
    const isFresh = entry.attemptedAt !== null && now - entry.attemptedAt < this.options.ttlMs
    noteCacheLookup('provider_catalog', isFresh)
    if (!isFresh) {
      const refresh = this.refreshEntry(connection, entry)
      // Only a connection never tried before makes the caller wait (at most the timeout).
      if (entry.attemptedAt === null) await refresh
    }
    return entry.models
  }

  status(connectionId: string): CatalogStatus {
    const entry = this.entries.get(connectionId)
    if (!entry) return { ok: null, stale: true, model_count: 0, error: null, fetched_at: null }
    const age = entry.fetchedAt === null ? Infinity : Date.now() - entry.fetchedAt
    return {
      ok: entry.ok,
      stale: entry.ok !== true || age > this.options.ttlMs,
      model_count: entry.models.length,
      error: entry.error,
      fetched_at: entry.fetchedAt === null ? null : Math.floor(entry.fetchedAt / 1000),
    }
  }

  /** Fetches every enabled connection now and waits (each bounded by the timeout). */
  async refreshAll(): Promise<void> {
    const connections = await this.enabledConnections()
    await Promise.all(connections.map((c) => this.refreshEntry(c, this.entryFor(c))))
  }

  /**
   * Admin "refresh": reloads the connections and refetches every list, here now (awaited) and on every
   * other instance at its next listing (in the background). Unlike invalidate(), it keeps the last good
   * lists, so a provider that is down keeps its models, marked stale.
   */
  async refreshEverywhere(): Promise<void> {
    this.bus.publish(CONNECTIONS_TOPIC)
    this.bus.publish(REFRESH_TOPIC)
    await this.refreshAll()
  }

  /** Drops what is known about a connection (or the connection list), here and on every instance. */
  invalidate(connectionId?: string): void {
    this.bus.publish(CONNECTIONS_TOPIC)
    if (connectionId) this.bus.publish(`connection:${connectionId}`)
  }

  /** Makes every list out of date (its next listing refreshes it) without dropping it. */
  private markAllDue(): void {
    for (const entry of this.entries.values()) if (entry.attemptedAt !== null) entry.attemptedAt = 0
  }

  private entry(id: string): Entry {
    let entry = this.entries.get(id)
    if (!entry) {
      entry = { models: [], fetchedAt: null, attemptedAt: null, ok: null, error: null, refreshing: null }
      this.entries.set(id, entry)
    }
    return entry
  }

  /** One fetch at a time per connection (single flight); failures keep the last good list. */
  private refreshEntry(connection: Connection, entry: Entry): Promise<void> {
    entry.refreshing ??= fetchProviderModels(connection, this.options.timeoutMs)
      .then(
        (models) => {
          if (JSON.stringify(models) !== JSON.stringify(entry.models)) this.changes += 1
          Object.assign(entry, { models, fetchedAt: Date.now(), ok: true, error: null })
        },
        (error: unknown) => {
          // Shown to admins only (connection status): the fault's admin detail, redacted.
          Object.assign(entry, { ok: false, error: adminDetailOf(error) })
        },
      )
      .finally(() => {
        entry.attemptedAt = Date.now()
        entry.refreshing = null
      })
    return entry.refreshing
  }
}
