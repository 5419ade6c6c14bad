/**
 * Open WebUI's connection settings (`/openai/config`, `/ollama/config`, their `/update`, `/verify` and
 * `/openai/models`), as a second view of modelgate's own connections (docs/compat.md, "Connections and
 * the runtime list"). One store, two APIs: `OPENAI_API_BASE_URLS[i]` is the i-th connection of the
 * OpenAI kind (environment ones first, then stored ones by creation), and an update is turned into the
 * creates, changes and removals of stored connections that make the lists equal to what was posted.
 *
 * Keys are never returned: `OPENAI_API_KEYS[i]` (and `OLLAMA_API_CONFIGS[i].key`) hold the key's hint
 * (`sk-a…wxyz`), and a hint posted back for the same connection means "keep the stored key". A posted
 * entry is the same connection when its URL is the stored one (or its redacted form), else when it is
 * at the same position and carries that connection's hint (an edit of the URL in Open WebUI's form).
 */
import type { AuditActor } from '../audit/audit-log.js'
import { AppError } from '../errors/app-error.js'
import { redactUrl } from '../errors/redact.js'
import { defaultConnectionType, joinUrl, type Connection } from './connection.js'
import { BaseUrlSchema, ConnectionTagsSchema, ConnectionTypeSchema, ModelIdsSchema, PrefixSchema } from './connections.schema.js'
import type { ConnectionPlan, ConnectionsService, PlannedConnection } from './connections.service.js'
import type { ModelCatalog } from './model-catalog.js'
import { fetchProviderModels, providerError, providerJson, providerRequest } from './provider-client.js'
import type { OllamaConfigUpdate, OpenAiConfigUpdate, OwuiConnectionConfig } from './owui.schema.js'

type Kind = 'openai' | 'ollama'

/** A key as Open WebUI reads it back: its hint, which cannot be used, only recognised. */
const MASK = '…'
const isMasked = (key: string) => key.includes(MASK)

export class OwuiConnections {
  constructor(
    private readonly connections: ConnectionsService,
    private readonly catalog: () => ModelCatalog,
    private readonly timeoutMs: number,
  ) {}

  private async ofKind(kind: Kind): Promise<Connection[]> {
    return (await this.connections.all()).filter((c) => c.kind === kind)
  }

  async openAiConfig() {
    const [list, apis] = await Promise.all([this.ofKind('openai'), this.connections.apiEnabled()])
    return {
      ENABLE_OPENAI_API: apis.openai,
      OPENAI_API_BASE_URLS: list.map((c) => redactUrl(c.base_url)),
      OPENAI_API_KEYS: list.map(maskedKey),
      OPENAI_API_CONFIGS: Object.fromEntries(list.map((c, i) => [String(i), configOf(c)])),
    }
  }

  async ollamaConfig() {
    const [list, apis] = await Promise.all([this.ofKind('ollama'), this.connections.apiEnabled()])
    return {
      ENABLE_OLLAMA_API: apis.ollama,
      OLLAMA_BASE_URLS: list.map((c) => redactUrl(c.base_url)),
      OLLAMA_API_CONFIGS: Object.fromEntries(list.map((c, i) => [String(i), { ...configOf(c), ...(maskedKey(c) !== '' && { key: maskedKey(c) }) }])),
    }
  }

  async updateOpenAi(body: OpenAiConfigUpdate, by: AuditActor) {
    const urls = body.OPENAI_API_BASE_URLS
    // As Open WebUI: keys are padded with "" or cut to the number of URLs.
    const keys = urls.map((_, i) => body.OPENAI_API_KEYS[i] ?? '')
    const entries = urls.map((url, i) => ({ url, key: keys[i] ?? '', config: configFor(body.OPENAI_API_CONFIGS, i, url) }))
    await this.apply('openai', body.ENABLE_OPENAI_API, entries, 'OPENAI_API_BASE_URLS', by)
    return this.openAiConfig()
  }

  async updateOllama(body: OllamaConfigUpdate, by: AuditActor) {
    const urls = body.OLLAMA_BASE_URLS
    const entries = urls.map((url, i) => {
      const config = configFor(body.OLLAMA_API_CONFIGS, i, url)
      return { url, key: typeof config.key === 'string' ? config.key : '', config }
    })
    await this.apply('ollama', body.ENABLE_OLLAMA_API, entries, 'OLLAMA_BASE_URLS', by)
    return this.ollamaConfig()
  }

  /** Turns the posted lists into a plan over the stored connections of `kind`, checks all of it, then applies it at once. */
  private async apply(
    kind: Kind,
    enabled: boolean | null | undefined,
    entries: { url: string; key: string; config: OwuiConnectionConfig }[],
    field: string,
    by: AuditActor,
  ): Promise<void> {
    const current = await this.ofKind(kind)
    const fromEnv = current.filter((c) => c.source === 'env')
    const stored = current.filter((c) => c.source === 'api')
    const sameUrl = (c: Connection, url: string) => {
      const trimmed = url.trim().replace(/\/+$/, '')
      return trimmed === c.base_url || trimmed === redactUrl(c.base_url)
    }
    // Environment connections cannot change here: each must be posted back.
    const envLeft = new Set(fromEnv)
    const rest: { url: string; key: string; config: OwuiConnectionConfig; index: number }[] = []
    entries.forEach((entry, index) => {
      const env = [...envLeft].find((c) => sameUrl(c, entry.url))
      if (env) envLeft.delete(env)
      else rest.push({ ...entry, index })
    })
    if (envLeft.size > 0) {
      const missing = [...envLeft].map((c) => redactUrl(c.base_url)).join(', ')
      throw new AppError(
        'CONFLICT',
        `${missing} comes from the environment (${kind === 'ollama' ? 'OLLAMA_BASE_URLS' : 'OPENAI_API_BASE_URLS'}) and cannot be removed here.`,
      )
    }
    // Match by URL first, then by position with the connection's own masked key (a URL edited in the form).
    const claimed = new Map<number, Connection>()
    const free = new Set(stored)
    for (const [i, entry] of rest.entries()) {
      const match = stored.find((c) => free.has(c) && sameUrl(c, entry.url))
      if (match) {
        claimed.set(i, match)
        free.delete(match)
      }
    }
    for (const [i, entry] of rest.entries()) {
      if (claimed.has(i)) continue
      const atPosition = stored[i]
      if (atPosition && free.has(atPosition) && isMasked(entry.key) && entry.key === atPosition.key_hint) {
        claimed.set(i, atPosition)
        free.delete(atPosition)
      }
    }
    const plan: ConnectionPlan = { deletes: [...free].map((c) => c.id), updates: [], creates: [] }
    if (enabled !== undefined && enabled !== null) plan.apiEnabled = enabled
    for (const [i, entry] of rest.entries()) {
      const existing = claimed.get(i)
      const at = `${field}.${entry.index}`
      const input = plannedFrom(entry, existing, at)
      if (existing) plan.updates.push({ id: existing.id, input })
      else plan.creates.push(input)
    }
    await this.connections.applyPlan(kind, plan, by)
  }

  /** `GET /openai/models`: every OpenAI-kind model as Open WebUI lists it (cached lists). */
  async openAiModels() {
    const connections = (await this.catalog().enabledConnections()).filter((c) => c.kind === 'openai')
    const lists = await Promise.all(connections.map(async (c) => ({ c, models: await this.catalog().modelsOf(c) })))
    return {
      data: lists.flatMap(({ c, models }) =>
        models.map((m) => ({
          id: m.id,
          name: m.name,
          object: 'model' as const,
          created: m.created,
          owned_by: 'openai' as const,
          connection_type: c.connection_type,
          urlIdx: c.url_idx,
          ...(c.tags.length > 0 && { tags: c.tags }),
        })),
      ),
    }
  }

  /** `GET /openai/models/{idx}`: what the idx-th OpenAI connection serves, asked now. */
  async openAiModelsAt(index: number) {
    const connection = (await this.ofKind('openai'))[index]
    if (!connection) throw new AppError('NOT_FOUND', `No OpenAI connection at index ${index}.`)
    const models = await fetchProviderModels(connection, this.timeoutMs)
    return {
      object: 'list' as const,
      data: models.map((m) => ({ id: m.upstream_id, object: 'model' as const, created: m.created, owned_by: m.owned_by, name: m.name })),
    }
  }

  /** `POST /openai/verify`: the provider's model list for a URL and key (a masked key: the stored one of that URL). */
  async verifyOpenAi(body: { url: string; key?: string | null | undefined }) {
    const connection = await this.probe('openai', body.url, body.key ?? '')
    const models = await fetchProviderModels({ ...connection, model_ids: [] }, this.timeoutMs)
    return {
      object: 'list' as const,
      data: models.map((m) => ({ id: m.upstream_id, object: 'model' as const, created: m.created, owned_by: m.owned_by, name: m.name })),
    }
  }

  /** `POST /ollama/verify`: Ollama's `/api/version` for a URL and key. */
  async verifyOllama(body: { url: string; key?: string | null | undefined }) {
    const connection = await this.probe('ollama', body.url, body.key ?? '')
    const response = await providerRequest(connection, joinUrl(connection.base_url, '/api/version'), {
      method: 'GET',
      timeoutMs: this.timeoutMs,
      headers: { accept: 'application/json' },
    })
    if (response.statusCode !== 200) {
      await response.body.dump().catch(() => undefined)
      throw providerError(connection, 'PROVIDER_ERROR', `answered HTTP ${response.statusCode} to /api/version.`)
    }
    const answer = await providerJson(connection, response, this.timeoutMs)
    const version = (answer as { version?: unknown } | null)?.version
    if (typeof version !== 'string') throw providerError(connection, 'PROVIDER_ERROR', 'answered /api/version without a version.')
    return { version }
  }

  /** A connection to try: the stored one of that URL when the key is its hint, else the URL and key as given. */
  private async probe(kind: Kind, url: string, key: string): Promise<Connection> {
    const known = (await this.ofKind(kind)).find((c) => {
      const trimmed = url.trim().replace(/\/+$/, '')
      return trimmed === c.base_url || trimmed === redactUrl(c.base_url)
    })
    if (known && (key === '' ? known.apiKey === null : isMasked(key) && key === known.key_hint)) return known
    if (isMasked(key)) throw new AppError('VALIDATION_ERROR', 'The key is masked (it is shown as a hint): send the whole key to verify a new URL.')
    const parsed = BaseUrlSchema.safeParse(url)
    if (!parsed.success) throw new AppError('VALIDATION_ERROR', `url: ${parsed.error.issues[0]?.message ?? 'must be an http(s) URL'}.`)
    return {
      id: 'verify',
      name: hostOf(parsed.data),
      kind,
      base_url: parsed.data,
      apiKey: key === '' ? null : key,
      key_hint: null,
      prefix_id: null,
      enabled: true,
      source: 'api',
      created_at: 0,
      updated_at: 0,
      model_ids: [],
      tags: [],
      connection_type: defaultConnectionType(kind),
      url_idx: 0,
      api_enabled: true,
    }
  }
}

/** A key as answers show it: its hint, or "" when there is none. */
const maskedKey = (c: Connection): string => c.key_hint ?? (c.apiKey ? MASK : '')

/** What Open WebUI reads of a connection's config (never its key). */
function configOf(c: Connection) {
  return {
    enable: c.enabled,
    tags: c.tags,
    prefix_id: c.prefix_id ?? '',
    model_ids: c.model_ids,
    connection_type: c.connection_type,
  }
}

/** A posted config: by index, or (Open WebUI's legacy form) by URL. */
function configFor(configs: Record<string, OwuiConnectionConfig>, index: number, url: string): OwuiConnectionConfig {
  return configs[String(index)] ?? configs[url] ?? {}
}

/** The stored form of a posted entry; every bad part a 400 naming its place. */
function plannedFrom(entry: { url: string; key: string; config: OwuiConnectionConfig }, existing: Connection | undefined, at: string): PlannedConnection {
  const { config } = entry
  const keepUrl = existing && (entry.url.trim().replace(/\/+$/, '') === existing.base_url || entry.url.trim() === redactUrl(existing.base_url))
  let baseUrl: string
  if (keepUrl) baseUrl = existing.base_url
  else {
    const url = BaseUrlSchema.safeParse(entry.url)
    if (!url.success) throw new AppError('VALIDATION_ERROR', `${at}: ${url.error.issues[0]?.message ?? 'must be an http(s) URL'}.`)
    baseUrl = url.data
  }
  let apiKey: string | null | undefined
  if (entry.key === '') apiKey = null
  else if (isMasked(entry.key)) {
    if (!existing || entry.key !== existing.key_hint) {
      throw new AppError('VALIDATION_ERROR', `${at}: the key is masked (it is shown as a hint); send the whole key for a new or changed connection.`)
    }
    apiKey = undefined
  } else if (entry.key.length > 4000) throw new AppError('VALIDATION_ERROR', `${at}: the key is longer than 4000 characters.`)
  else apiKey = entry.key
  const prefix = PrefixSchema.safeParse(config.prefix_id === '' ? null : config.prefix_id)
  if (!prefix.success) throw new AppError('VALIDATION_ERROR', `${at}: prefix_id ${prefix.error.issues[0]?.message ?? 'is invalid'}.`)
  const modelIds = ModelIdsSchema.safeParse(config.model_ids ?? [])
  if (!modelIds.success) throw new AppError('VALIDATION_ERROR', `${at}: model_ids must be a list of model ids.`)
  const tags = ConnectionTagsSchema.safeParse(config.tags ?? [])
  if (!tags.success) throw new AppError('VALIDATION_ERROR', `${at}: tags must be a list of {name} (1 to 100 characters).`)
  const type = config.connection_type === undefined || config.connection_type === null ? null : ConnectionTypeSchema.safeParse(config.connection_type)
  if (type && !type.success) throw new AppError('VALIDATION_ERROR', `${at}: connection_type must be "local" or "external".`)
  return {
    base_url: baseUrl,
    ...(apiKey !== undefined && { api_key: apiKey }),
    prefix_id: prefix.data ?? null,
    enabled: config.enable !== false,
    model_ids: modelIds.data,
    tags: tags.data,
    connection_type: type ? (type.data ?? null) : null,
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host
  } catch {
    return url
  }
}
