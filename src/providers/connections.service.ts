/** Provider connections (admin): the stored ones and those given by the environment. */
import { randomUUID } from 'node:crypto'
import type { Transaction } from 'kysely'
import { recordAudit, type AuditActor, type AuditEvent } from '../audit/audit-log.js'
import type { Config } from '../config/env.js'
import type { Database } from '../db/database.js'
import { epochSeconds } from '../db/executor.js'
import type { DB } from '../db/types.js'
import { AppError } from '../errors/app-error.js'
import { redactUrl } from '../errors/redact.js'
import { defaultConnectionType, type Connection, type ConnectionTag } from './connection.js'
import { ConnectionsRepo, type ConnectionRow } from './connections.repo.js'
import type { ConnectionCreate, ConnectionResponse, ConnectionTest, ConnectionUpdate } from './connections.schema.js'
import { keyHint, type KeyBox } from './key-box.js'
import type { ModelCatalog } from './model-catalog.js'
import { adminDetailOf, fetchProviderModels, secretsOf } from './provider-client.js'

export class ConnectionsService {
  private readonly repo: ConnectionsRepo

  constructor(
    private readonly database: Database,
    private readonly config: Pick<Config, 'envConnections' | 'providerListTimeoutMs'>,
    private readonly keys: KeyBox,
    /** The catalog is built after this service (it loads connections through it). */
    private readonly catalogRef: () => ModelCatalog,
  ) {
    this.repo = new ConnectionsRepo(database.db)
  }

  /** Environment connections first (as Open WebUI orders them), then stored ones by creation. */
  async all(): Promise<Connection[]> {
    const apis = await this.repo.apiEnabled()
    const fromEnv = this.config.envConnections.map((c, index): Connection => ({
      id: `env-${c.kind}-${index}`,
      name: `${c.kind === 'ollama' ? 'Ollama' : 'OpenAI'} ${hostOf(c.baseUrl)}`,
      kind: c.kind,
      base_url: c.baseUrl,
      apiKey: c.apiKey,
      key_hint: c.apiKey ? keyHint(c.apiKey) : null,
      prefix_id: null,
      enabled: true,
      source: 'env',
      created_at: 0,
      updated_at: 0,
      model_ids: [],
      tags: [],
      connection_type: defaultConnectionType(c.kind),
      url_idx: 0,
      api_enabled: true,
    }))
    const stored = (await this.repo.list()).map((row) => this.fromRow(row))
    // Open WebUI's urlIdx: the position among the connections of one kind (its OPENAI_API_BASE_URLS).
    const next = { openai: 0, ollama: 0 }
    return [...fromEnv, ...stored].map((c) => ({ ...c, url_idx: next[c.kind]++, api_enabled: apis[c.kind] }))
  }

  /** `ENABLE_OPENAI_API` / `ENABLE_OLLAMA_API`. */
  apiEnabled(): Promise<{ openai: boolean; ollama: boolean }> {
    return this.repo.apiEnabled()
  }

  async list(): Promise<ConnectionResponse[]> {
    return (await this.all()).map((c) => this.present(c))
  }

  async create(input: ConnectionCreate, by: AuditActor): Promise<ConnectionResponse> {
    const now = epochSeconds()
    const row: ConnectionRow = {
      id: randomUUID(),
      name: input.name ?? hostOf(input.base_url),
      kind: input.kind,
      position: null,
      base_url: input.base_url,
      api_key_enc: input.api_key ? this.keys.seal(input.api_key) : null,
      key_hint: input.api_key ? keyHint(input.api_key) : null,
      prefix_id: input.prefix_id ?? null,
      enabled: input.enabled ? 1 : 0,
      created_at: now,
      updated_at: now,
      model_ids: listText(input.model_ids),
      tags: listText(input.tags),
      connection_type: input.connection_type ?? null,
    }
    await this.changing(async (repo, trx) => {
      await repo.insert(row)
      await recordAudit(trx, [{ action: 'connection.create', actorId: by.id, targetType: 'connection', targetId: row.id, after: audited(row) }], by.origin)
    })
    this.catalogRef().invalidate(row.id)
    return this.present(this.fromRow(row))
  }

  async update(id: string, input: ConnectionUpdate, by: AuditActor): Promise<ConnectionResponse> {
    const row = await this.storedOrThrow(id)
    const keyChange =
      input.api_key === undefined
        ? {}
        : input.api_key === null
          ? { api_key_enc: null, key_hint: null }
          : { api_key_enc: this.keys.seal(input.api_key), key_hint: keyHint(input.api_key) }
    // Answers show the URL redacted; sent back unchanged (an edit form), it means "keep the stored one".
    const baseUrl = input.base_url === undefined || input.base_url === redactUrl(row.base_url) ? undefined : input.base_url
    await this.changing(async (repo, trx) => {
      await repo.update(id, {
        ...(input.name !== undefined && { name: input.name }),
        ...(baseUrl !== undefined && { base_url: baseUrl }),
        ...(input.prefix_id !== undefined && { prefix_id: input.prefix_id }),
        ...(input.enabled !== undefined && { enabled: input.enabled ? 1 : 0 }),
        ...(input.model_ids !== undefined && { model_ids: listText(input.model_ids) }),
        ...(input.tags !== undefined && { tags: listText(input.tags) }),
        ...(input.connection_type !== undefined && { connection_type: input.connection_type }),
        ...keyChange,
        updated_at: epochSeconds(),
      })
      const after = await repo.findById(id)
      if (after) {
        await recordAudit(trx, [{ action: 'connection.update', actorId: by.id, targetType: 'connection', targetId: id, ...changeOf(row, after) }], by.origin)
      }
    })
    this.catalogRef().invalidate(id)
    return this.present(this.fromRow((await this.repo.findById(id)) ?? row))
  }

  async delete(id: string, by: AuditActor): Promise<true> {
    const row = await this.storedOrThrow(id)
    await this.changing(async (repo, trx) => {
      await repo.delete(id)
      await recordAudit(trx, [{ action: 'connection.delete', actorId: by.id, targetType: 'connection', targetId: id, before: audited(row) }], by.origin)
    })
    this.catalogRef().invalidate(id)
    return true
  }

  /**
   * Open WebUI's `/openai/config/update` and `/ollama/config/update` (owui-connections.ts works out
   * the plan): the stored connections of one kind created, changed and removed, and the kind's switch,
   * in one transaction with one audit entry per change and one bump of the connections version.
   */
  async applyPlan(kind: 'openai' | 'ollama', plan: ConnectionPlan, by: AuditActor): Promise<void> {
    const now = epochSeconds()
    const touched: string[] = []
    await this.changing(async (repo, trx) => {
      const events: AuditEvent[] = []
      if (plan.apiEnabled !== undefined) {
        const before = (await repo.apiEnabled())[kind]
        if (before !== plan.apiEnabled) {
          await repo.setApiEnabled(kind, plan.apiEnabled, now)
          events.push({
            action: 'connection.api_toggle',
            actorId: by.id,
            targetType: 'config',
            targetId: kind,
            before: { enabled: before },
            after: { enabled: plan.apiEnabled },
          })
        }
      }
      for (const id of plan.deletes) {
        const row = await repo.findById(id)
        if (!row || !(await repo.delete(id))) throw new AppError('CONFLICT', `Connection "${id}" changed meanwhile; read the configuration again.`)
        events.push({ action: 'connection.delete', actorId: by.id, targetType: 'connection', targetId: id, before: audited(row) })
        touched.push(id)
      }
      for (const { id, input } of plan.updates) {
        const row = await repo.findById(id)
        if (!row) throw new AppError('CONFLICT', `Connection "${id}" changed meanwhile; read the configuration again.`)
        const patch = {
          base_url: input.base_url,
          prefix_id: input.prefix_id,
          enabled: input.enabled ? 1 : 0,
          model_ids: listText(input.model_ids),
          tags: listText(input.tags),
          connection_type: input.connection_type,
          ...(input.api_key !== undefined &&
            (input.api_key === null
              ? { api_key_enc: null, key_hint: null }
              : { api_key_enc: this.keys.seal(input.api_key), key_hint: keyHint(input.api_key) })),
        }
        const changed = { ...row, ...patch }
        const change = changeOf(row, changed)
        if (Object.keys(change.after).length === 0 && changed.model_ids === row.model_ids) continue
        await repo.update(id, { ...patch, updated_at: now })
        events.push({ action: 'connection.update', actorId: by.id, targetType: 'connection', targetId: id, ...change })
        touched.push(id)
      }
      for (const input of plan.creates) {
        const row: ConnectionRow = {
          id: randomUUID(),
          name: input.name ?? hostOf(input.base_url),
          kind,
          position: null,
          base_url: input.base_url,
          api_key_enc: input.api_key ? this.keys.seal(input.api_key) : null,
          key_hint: input.api_key ? keyHint(input.api_key) : null,
          prefix_id: input.prefix_id,
          enabled: input.enabled ? 1 : 0,
          created_at: now,
          updated_at: now,
          model_ids: listText(input.model_ids),
          tags: listText(input.tags),
          connection_type: input.connection_type,
        }
        await repo.insert(row)
        events.push({ action: 'connection.create', actorId: by.id, targetType: 'connection', targetId: row.id, after: audited(row) })
        touched.push(row.id)
      }
      await recordAudit(trx, events, by.origin)
    })
    this.catalogRef().invalidate()
    for (const id of touched) this.catalogRef().invalidate(id)
  }

  /** Asks the provider for its models now, bypassing the cache, and reports what happened. */
  async test(id: string): Promise<ConnectionTest> {
    const connection = await this.findOrThrow(id)
    const started = performance.now()
    try {
      const models = await fetchProviderModels(connection, this.config.providerListTimeoutMs)
      return { ok: true, model_count: models.length, models: models.map((m) => m.id), error: null, latency_ms: elapsed(started) }
    } catch (error) {
      return { ok: false, model_count: 0, models: [], error: adminDetailOf(error, secretsOf(connection)), latency_ms: elapsed(started) }
    }
  }

  /** Refreshes every enabled connection's model list now (admin "refresh"). */
  async refresh(): Promise<ConnectionResponse[]> {
    // This instance fetches now, the others at their next listing; a provider that is down keeps its
    // last good list (dropping the lists first would lose the models of every provider that is down).
    await this.repo.bumpVersion()
    await this.catalogRef().refreshEverywhere()
    return this.list()
  }

  async modelsOf(id: string) {
    const connection = await this.findOrThrow(id)
    const models = connection.enabled ? await this.catalogRef().modelsOf(connection) : []
    return models.map((m) => ({ id: m.id, name: m.name, owned_by: m.owned_by }))
  }

  /** The connections version (settings_state), which the catalog compares to notice other instances' changes. */
  version(): Promise<number> {
    return this.repo.version()
  }

  /** A change of the stored connections and the bump of their version, in one transaction. */
  private async changing<T>(write: (repo: ConnectionsRepo, trx: Transaction<DB>) => Promise<T>): Promise<T> {
    return this.database.db.transaction().execute(async (trx) => {
      const repo = new ConnectionsRepo(trx)
      const result = await write(repo, trx)
      await repo.bumpVersion()
      return result
    })
  }

  private async findOrThrow(id: string): Promise<Connection> {
    const connection = (await this.all()).find((c) => c.id === id)
    if (!connection) throw new AppError('NOT_FOUND', `No connection with id "${id}".`)
    return connection
  }

  private async storedOrThrow(id: string): Promise<ConnectionRow> {
    if (id.startsWith('env-') && (await this.all()).some((c) => c.id === id)) {
      throw new AppError('CONFLICT', `Connection "${id}" comes from the environment; change OPENAI_API_BASE_URLS / OLLAMA_BASE_URLS instead.`)
    }
    const row = await this.repo.findById(id)
    if (!row) throw new AppError('NOT_FOUND', `No connection with id "${id}".`)
    return row
  }

  private fromRow(row: ConnectionRow): Connection {
    const apiKey = row.api_key_enc ? this.keys.open(row.api_key_enc) : null
    return {
      id: row.id,
      name: row.name,
      kind: row.kind,
      base_url: row.base_url,
      apiKey,
      // From the key itself: a hint stored before keyHint hid short keys whole must not show them.
      key_hint: apiKey ? keyHint(apiKey) : row.key_hint,
      prefix_id: row.prefix_id,
      enabled: Number(row.enabled) === 1,
      source: 'api',
      created_at: Number(row.created_at),
      updated_at: Number(row.updated_at),
      model_ids: parseList<string>(row.model_ids).filter((id) => typeof id === 'string'),
      tags: parseList<ConnectionTag>(row.tags).filter((tag) => typeof tag?.name === 'string'),
      connection_type: row.connection_type === 'local' || row.connection_type === 'external' ? row.connection_type : defaultConnectionType(row.kind),
      url_idx: 0,
      api_enabled: true,
    }
  }

  private present(connection: Connection): ConnectionResponse {
    // A URL may carry a key in its query string or userinfo: never shown, like api_key.
    const { apiKey: _secret, url_idx: _index, api_enabled: _api, ...visible } = connection
    return { ...visible, base_url: redactUrl(connection.base_url), status: this.catalogRef().status(connection.id) }
  }
}

/** One stored connection as Open WebUI's configuration describes it (every field given). */
export interface PlannedConnection {
  name?: string
  base_url: string
  /** undefined: keep the stored key; null: no key. */
  api_key?: string | null
  prefix_id: string | null
  enabled: boolean
  model_ids: string[]
  tags: ConnectionTag[]
  connection_type: 'local' | 'external' | null
}

export interface ConnectionPlan {
  apiEnabled?: boolean
  deletes: string[]
  updates: { id: string; input: PlannedConnection }[]
  creates: PlannedConnection[]
}

/**
 * A connection as the audit log holds it: the URL redacted as every answer shows it (a URL may carry a
 * key in its query string), whether there is a key, never the key, its encrypted form or its hint.
 */
function audited(row: ConnectionRow) {
  return {
    name: row.name,
    kind: row.kind,
    base_url: redactUrl(row.base_url),
    prefix_id: row.prefix_id,
    enabled: Number(row.enabled) === 1,
    has_api_key: row.api_key_enc !== null,
    model_ids: row.model_ids,
    tags: row.tags,
    connection_type: row.connection_type,
  }
}

/** A list column: JSON text, or null when empty. */
const listText = (list: readonly unknown[] | undefined): string | null => (list && list.length > 0 ? JSON.stringify(list) : null)

function parseList<T>(text: string | null): T[] {
  if (!text) return []
  try {
    const parsed = JSON.parse(text) as unknown
    return Array.isArray(parsed) ? (parsed as T[]) : []
  } catch {
    return []
  }
}

/** The changed fields before and after; a new key is only `api_key_changed` (its value is never logged). */
function changeOf(old: ConnectionRow, updated: ConnectionRow): { before: Record<string, unknown>; after: Record<string, unknown> } {
  const before: Record<string, unknown> = {}
  const after: Record<string, unknown> = {}
  const a = audited(old)
  const b = audited(updated)
  for (const field of Object.keys(a) as (keyof typeof a)[]) {
    if (a[field] !== b[field]) {
      before[field] = a[field]
      after[field] = b[field]
    }
  }
  // A URL change that only differs in its (redacted) query string still shows as a change.
  if (old.base_url !== updated.base_url && !('base_url' in after)) {
    before['base_url'] = a.base_url
    after['base_url'] = b.base_url
  }
  if (old.api_key_enc !== updated.api_key_enc && updated.api_key_enc !== null) after['api_key_changed'] = true
  return { before, after }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host
  } catch {
    return url
  }
}

const elapsed = (started: number) => Math.round((performance.now() - started) * 10) / 10
