/**
 * Wires repositories and services by hand (no container): the one place that knows every feature.
 * main.ts and the test harness both build the service through here, so they run the same wiring.
 */
import { AccessRepo, PrincipalsRepo } from './access/access.repo.js'
import { AccessService } from './access/access.service.js'
import { AuthService } from './auth/auth.service.js'
import { createAttemptLimiter, type AttemptLimiter } from './auth/rate-limiter.js'
import { TokenSigner } from './auth/tokens.js'
import type { Config } from './config/env.js'
import type { Database } from './db/database.js'
import { GroupsService } from './groups/groups.service.js'
import { ChatService } from './gateway/chat.service.js'
import { RuntimeModelsService } from './gateway/runtime-models.service.js'
import { createModels, type Models, type ServedModels } from './models/models.feature.js'
import { ConnectionsService } from './providers/connections.service.js'
import { LocalBus, RedisBus, type InvalidationBus } from './providers/invalidation-bus.js'
import { KeyBox } from './providers/key-box.js'
import { ModelCatalog } from './providers/model-catalog.js'
import { UsersService } from './users/users.service.js'
import { ModelHistory } from './history/model-history.js'
import { AuditQueries } from './audit/audit-queries.js'
import { AccessExplainer } from './explain/access-explain.js'
import { ExplainRepo } from './explain/explain.repo.js'

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
  /** Model history: versions, diffs, restore, trash, pruning (issue #12). */
  history: ModelHistory
  /** Reading the audit log (writers call src/audit/audit-log.ts recordAudit in their transactions). */
  audit: AuditQueries
  /** Why a user can or cannot use a model (issue #13). */
  explainer: AccessExplainer
  runtime: RuntimeModelsService
  chat: ChatService
  bus: InvalidationBus
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
  const access = new AccessService(new AccessRepo(database.db), new PrincipalsRepo(database.db), config.permissionDefaults, config.bypassAdminAccessControl)
  const signinLimiter =
    options.signinLimiter ??
    createAttemptLimiter({
      redisUrl: config.redisUrl,
      windowMs: config.signinRateLimit.windowMs,
      ...(options.onBackgroundError && { onError: options.onBackgroundError }),
    })
  const auth = new AuthService(database, config, new TokenSigner(secretKey, config.jwtExpiresInMs), access, signinLimiter)
  // Account administration resets passwords and revokes API keys through auth (auth → users, no cycle).
  const users = new UsersService(database, auth)
  const groups = new GroupsService(database)
  // The registry asks the catalog what providers serve (hole 1 of issue #10: a provider's id is not
  // free for everybody) through this small interface, not the provider feature itself.
  const served: ServedModels = {
    servedIds: () => catalog.servedIds(),
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
  const bus: InvalidationBus = config.redisUrl ? new RedisBus(config.redisUrl, options.onBackgroundError ?? (() => undefined)) : new LocalBus()
  // The catalog loads connections through the service, and the service invalidates the catalog.
  const connections: ConnectionsService = new ConnectionsService(database, config, new KeyBox(secretKey), () => catalog)
  const catalog = new ModelCatalog(
    () => connections.all(),
    { ttlMs: config.modelsCacheTtlSeconds * 1000, timeoutMs: config.providerListTimeoutMs, versionCheckMs: config.settingsCheckIntervalMs },
    bus,
    () => connections.version(),
  )
  const runtime = new RuntimeModelsService(database, access, catalog, config.bypassModelAccessControl)
  const chat = new ChatService(runtime, config.providerChatTimeoutMs)
  return {
    config,
    database,
    access,
    auth,
    users,
    groups,
    models,
    connections,
    history: new ModelHistory(models),
    audit: new AuditQueries(database),
    explainer: new AccessExplainer(models.registry, access, new ExplainRepo(database.db)),
    runtime,
    chat,
    bus,
    close: async () => void (await Promise.all([bus.close(), signinLimiter.close()])),
  }
}
