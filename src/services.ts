/**
 * Wires repositories and services by hand (no container): the one place that knows every feature.
 * main.ts and the test harness both build the service through here, so they run the same wiring.
 */
import { AccessRepo, PrincipalsRepo } from './access/access.repo.js'
import { AccessService } from './access/access.service.js'
import { AuthService } from './auth/auth.service.js'
import { AccountSettings } from './auth/account-settings.js'
import { createAttemptLimiter, type AttemptLimiter } from './auth/rate-limiter.js'
import { TokenSigner } from './auth/tokens.js'
import type { Config } from './config/env.js'
import type { Database } from './db/database.js'
import { GroupsService } from './groups/groups.service.js'
import { ChatService } from './gateway/chat.service.js'
import { combineObservers } from './gateway/gateway-observer.js'
import { RuntimeModelsService } from './gateway/runtime-models.service.js'
import { TryItService } from './gateway/try-it.js'
import { createModels, type Models, type ServedModels } from './models/models.feature.js'
import { ConnectionsService } from './providers/connections.service.js'
import { LocalBus, RedisBus, type InvalidationBus } from './providers/invalidation-bus.js'
import { PgNotifyBus } from './db/pg-notify-bus.js'
import { WRITE_TOPICS, type WriteTopic } from './db/write-watch.js'
import { KeyBox } from './providers/key-box.js'
import { ModelCatalog } from './providers/model-catalog.js'
import { OwuiConnections } from './providers/owui-connections.js'
import { UsersService } from './users/users.service.js'
import { ModelHistory } from './history/model-history.js'
import { AuditQueries } from './audit/audit-queries.js'
import { AccessExplainer } from './explain/access-explain.js'
import { ExplainRepo } from './explain/explain.repo.js'
import { createTemplates, type Templates } from './templates/templates.feature.js'
import { ScimService } from './scim/scim.service.js'
import { createSso, type Sso } from './sso/sso.feature.js'
import { Metrics } from './metrics/registry.js'
import { TopicCache } from './cache/topic-cache.js'
import { createAnalytics, type Analytics } from './analytics/analytics.feature.js'

export interface Services {
  config: Readonly<Config>
  database: Database
  access: AccessService
  auth: AuthService
  users: UsersService
  groups: GroupsService
  /** The model registry: queries, writes, transfer (import/export) and sync. */
  models: Models
  connections: ConnectionsService
  /** Open WebUI's /openai and /ollama connection settings, on the same connections. */
  owuiConnections: OwuiConnections
  /** Model history: versions, diffs, restore, trash, pruning (issue #12). */
  history: ModelHistory
  /** Reading the audit log (writers call src/audit/audit-log.ts recordAudit in their transactions). */
  audit: AuditQueries
  /** Why a user can or cannot use a model (issue #13). */
  explainer: AccessExplainer
  /** Configuration templates (issue #13 part 1): the resource, and applying it to models. */
  templates: Templates
  /** SCIM 2.0 provisioning of accounts and groups (docs/sso.md, "SCIM"). */
  scim: ScimService
  /** OpenID Connect sign-in (docs/sso.md); null when OPENID_PROVIDER_URL is unset. */
  sso: Sso | null
  runtime: RuntimeModelsService
  chat: ChatService
  /** The web's *Try it* panel: one streamed turn through a preset or an unsaved draft (issue #16). */
  tryIt: TryItService
  bus: InvalidationBus
  /** GET /metrics (docs/metrics.md): the request durations http records, and the gateway's observer. */
  metrics: Metrics
  /** Usage analytics (docs/analytics.md): the recorder the gateway reports to, and the queries. */
  analytics: Analytics
  /** Releases what the services hold besides the database (the Redis connections). */
  close(): Promise<void>
}

export interface ServiceOptions {
  /** Where background failures (Redis) are reported. */
  onBackgroundError?: (error: Error) => void
  /** Sign-in attempt counters; by default shared through REDIS_URL, in memory without it. */
  signinLimiter?: AttemptLimiter
}

export function createServices(config: Readonly<Config>, database: Database, secretKey: string, options: ServiceOptions = {}): Services {
  // Sign-up, API keys, token lifetime and default permissions as the admin set them (the environment's until then).
  const accountSettings = new AccountSettings(database, config)
  // Each user's groups as every request reads them, until an account table is written (docs/performance.md, "Gateway caches").
  const memberships = new TopicCache<{ id: string; permissions: unknown }[]>(database.watch, 'accounts', 10_000)
  const access = new AccessService(new AccessRepo(database.db), new PrincipalsRepo(database.db), accountSettings, config.bypassAdminAccessControl, memberships)
  const signinLimiter =
    options.signinLimiter ??
    createAttemptLimiter({
      redisUrl: config.redisUrl,
      windowMs: config.signinRateLimit.windowMs,
      ...(options.onBackgroundError && { onError: options.onBackgroundError }),
    })
  const auth = new AuthService(
    database,
    config,
    new TokenSigner(secretKey, config.jwtExpiresInMs),
    access,
    accountSettings,
    signinLimiter,
    options.onBackgroundError,
  )
  // Account administration resets passwords and revokes API keys through auth (auth → users, no cycle).
  const users = new UsersService(database, auth)
  const groups = new GroupsService(database)
  // The registry asks the catalog what providers serve (hole 1 of issue #10: a provider's id is not
  // free for everybody) through this small interface, not the provider feature itself.
  const served: ServedModels = {
    servedIds: () => catalog.servedIds(),
    catalog: async () => {
      const [models, connections] = await Promise.all([catalog.models(), catalog.enabledConnections()])
      return { models, connections: connections.map((c) => ({ id: c.id, name: c.name })) }
    },
  }
  const models = createModels(database, access, served, {
    bypassModelAccessControl: config.bypassModelAccessControl,
    historyMaxVersions: config.historyMaxVersions,
  })
  // Deleting an account or a group never leaves a model without owner or a grant naming nobody.
  users.onUserDeleted(async () => {
    const work = await models.writes.prepareUserDeletion()
    return (trx, deleted, byAdminId) => work(trx, deleted.id, byAdminId)
  })
  users.onUserUpdated((trx) => models.writes.onUserUpdated(trx))
  groups.onGroupDeleted((trx, groupId, actorId) => models.writes.onGroupDeleted(trx, groupId, actorId))
  // Wires itself into the registry (models created from a template, locked parameters); its grants naming
  // a deleted account or group go with them, as model grants do.
  const templates = createTemplates(models.registry)
  users.onUserDeleted(() => Promise.resolve((trx, deleted, byAdminId) => templates.store.onUserDeleted(trx, deleted.id, byAdminId)))
  groups.onGroupDeleted((trx, groupId) => templates.store.onGroupDeleted(trx, groupId))
  const bus = createBus(config, database, options.onBackgroundError ?? (() => undefined))
  const unwireCaches = wireGatewayCaches(database, bus)
  // The catalog loads connections through the service, and the service invalidates the catalog.
  const connections: ConnectionsService = new ConnectionsService(database, config, new KeyBox(secretKey), () => catalog)
  const catalog = new ModelCatalog(
    () => connections.all(),
    { ttlMs: config.modelsCacheTtlSeconds * 1000, timeoutMs: config.providerListTimeoutMs, versionCheckMs: config.settingsCheckIntervalMs },
    bus,
    () => connections.version(),
  )
  // Before the gateway: the recorder is one of its observers (null with USAGE_ANALYTICS=false).
  const analytics = createAnalytics(
    database,
    { recording: config.usageAnalytics, retentionDays: config.usageRetentionDays },
    options.onBackgroundError ? { onError: options.onBackgroundError } : {},
  )
  const runtime = new RuntimeModelsService(database, access, catalog, config.bypassModelAccessControl, models.config, () => models.registry.version())
  const metrics = new Metrics(database)
  const chat = new ChatService(runtime, config.providerChatTimeoutMs, {
    observer: analytics.recorder ? combineObservers(metrics.gateway, analytics.recorder) : metrics.gateway,
    tracing: config.tracing,
    usage: analytics.recorder !== null,
  })
  return {
    config,
    database,
    access,
    auth,
    users,
    groups,
    models,
    connections,
    owuiConnections: new OwuiConnections(connections, () => catalog, config.providerListTimeoutMs),
    history: new ModelHistory(models),
    audit: new AuditQueries(database),
    explainer: new AccessExplainer(models.registry, access, new ExplainRepo(database.db)),
    templates,
    scim: new ScimService(database, users, groups, auth),
    sso: createSso(config, database, secretKey, { auth, users, groups }),
    runtime,
    chat,
    tryIt: new TryItService(runtime, access, models.registry, config.providerChatTimeoutMs),
    bus,
    metrics,
    analytics,
    close: async () => {
      unwireCaches()
      auth.close()
      accountSettings.close()
      memberships.close()
      metrics.close()
      await Promise.all([bus.close(), signinLimiter.close(), analytics.close()])
    },
  }
}

/** Redis pub/sub with REDIS_URL; PostgreSQL's LISTEN/NOTIFY on PostgreSQL without it; else one process. */
function createBus(config: Readonly<Config>, database: Database, onError: (error: Error) => void): InvalidationBus {
  if (config.redisUrl) return new RedisBus(config.redisUrl, onError)
  if (database.dialect === 'postgres' && config.database.dialect === 'postgres') return new PgNotifyBus(config.database.url, onError)
  return new LocalBus()
}

/** Database topics travel on the bus under this prefix (other subscribers ignore them). */
const DB_TOPIC_PREFIX = 'db:'

/**
 * The gateway caches across instances (docs/performance.md, "Gateway caches"): this instance's commits
 * are published, other instances' invalidate here, and while the bus does not hear them the caches are
 * not trusted (bypassed; emptied when it is back). Answers the unwiring.
 */
function wireGatewayCaches(database: Database, bus: InvalidationBus): () => void {
  let wired = true
  const unlisten = database.watch.listen((topic, source) => {
    if (source === 'commit') bus.publish(`${DB_TOPIC_PREFIX}${topic}`)
  })
  bus.subscribe((message) => {
    const topic = message.slice(DB_TOPIC_PREFIX.length) as WriteTopic
    if (wired && message.startsWith(DB_TOPIC_PREFIX) && WRITE_TOPICS.includes(topic)) database.watch.invalidate(topic, 'remote')
  })
  database.watch.setTrusted(bus.connected)
  bus.onConnectedChange((connected) => {
    if (wired) database.watch.setTrusted(connected)
  })
  return () => {
    wired = false
    unlisten()
  }
}
