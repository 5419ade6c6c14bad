/**
 * The account settings an admin changes at run time (issue #14; docs/auth.md, "Settings"): Open WebUI's
 * admin config (`ENABLE_SIGNUP`, `DEFAULT_USER_ROLE`, `ENABLE_API_KEYS`, `JWT_EXPIRES_IN`,
 * `SHOW_ADMIN_DETAILS`, and the keys modelgate only keeps) and the default feature permissions (what every
 * user has before groups). The environment gives the first value; the first save stores it in
 * `app_settings`, which wins from then on (Open WebUI's persistent config).
 *
 * Readers get a snapshot kept until a write of an account table (`app_settings` among them) on any
 * instance invalidates it (the database's write watch and the bus: docs/performance.md, "Gateway caches"),
 * at most SETTINGS_MAX_AGE_MS; while the bus is down every read goes to the database.
 */
import { permissionDefaultsFrom, type PermissionTree } from '../access/feature-permissions.js'
import { recordAudit, type AuditActor } from '../audit/audit-log.js'
import { parseDuration, type Config, type PermissionDefaults, type UserRole } from '../config/env.js'
import type { Database } from '../db/database.js'
import { epochSeconds, lockInTransaction, type Executor } from '../db/executor.js'
import { USER_ROLES } from '../schema/roles.js'
import type { AdminConfig, AdminConfigUpdate, DefaultPermissions } from './auth.schema.js'
import { SettingsRepo } from './settings.repo.js'

/** A safety bound on a snapshot's age; invalidation, not this, is what makes a change apply. */
const SETTINGS_MAX_AGE_MS = 60_000

const ADMIN_CONFIG_KEY = 'auth.admin_config'
const DEFAULT_PERMISSIONS_KEY = 'users.default_permissions'

/** What sign-up, sign-in and API keys read. */
export interface AuthPolicy {
  enableSignup: boolean
  defaultUserRole: UserRole
  enableApiKeys: boolean
  /** Lifetime of tokens signed from now on, in ms; null: they never expire. */
  jwtExpiresInMs: number | null
  jwtExpiresIn: string
  showAdminDetails: boolean
}

type Scalar = string | number | boolean | null

interface Snapshot {
  policy: AuthPolicy
  /** Keys of Open WebUI's admin config that modelgate keeps as given without acting on them. */
  kept: Record<string, Scalar>
  permissions: Record<string, unknown>
}

export type SettingsEnvironment = Pick<
  Config,
  'enableSignup' | 'defaultUserRole' | 'enableApiKeys' | 'jwtExpiresInMs' | 'permissionDefaults' | 'settingsCheckIntervalMs'
>

export class AccountSettings {
  private snapshot: Snapshot | undefined
  private checkedAt = 0
  private loading: Promise<Snapshot> | undefined
  constructor(
    private readonly database: Database,
    private readonly env: SettingsEnvironment,
  ) {
    this.unlisten = database.watch.listen((topic) => {
      if (topic !== 'accounts') return
      this.snapshot = undefined
      this.loading = undefined
    })
  }

  private readonly unlisten: () => void

  /** Stops listening for invalidations (services.ts closes it with the services). */
  close(): void {
    this.unlisten()
  }

  /** `executor`: the transaction the caller is in, if any (on SQLite the root handle would wait for it). */
  async policy(executor?: Executor): Promise<AuthPolicy> {
    return (await this.current(executor)).policy
  }

  /** The default feature permissions as Access resolves them (every known permission a boolean). */
  async permissionDefaults(executor?: Executor): Promise<PermissionDefaults> {
    return permissionDefaultsFrom((await this.current(executor)).permissions)
  }

  /** Open WebUI's admin config (`GET /auths/admin/config`). */
  async adminConfig(): Promise<AdminConfig> {
    return adminConfigView(await this.current())
  }

  /** The default permission tree as stored (unknown keys kept), every known permission filled in. */
  async defaultPermissions(): Promise<DefaultPermissions> {
    return defaultPermissionsView((await this.current()).permissions)
  }

  /**
   * Saves a change of the admin config (absent keys stay). `ENABLE_API_KEY` and `ENABLE_API_KEYS` are one
   * setting: when a body carries both and they disagree, the one that differs from the stored value is
   * the one the client changed, and wins. Audited as `config.update` (changed keys before and after).
   */
  async updateAdminConfig(patch: AdminConfigUpdate, by: AuditActor): Promise<AdminConfig> {
    const saved = await this.database.db.transaction().execute(async (trx) => {
      await lockInTransaction(this.database, trx, 'modelgate:settings')
      const repo = new SettingsRepo(trx)
      const raw = await repo.get(ADMIN_CONFIG_KEY)
      const before = this.parse(new Map(raw === undefined ? [] : [[ADMIN_CONFIG_KEY, raw]]))
      const { ENABLE_SIGNUP, DEFAULT_USER_ROLE, ENABLE_API_KEY, ENABLE_API_KEYS, JWT_EXPIRES_IN, SHOW_ADMIN_DETAILS, ...kept } = patch
      const policy = { ...before.policy }
      if (ENABLE_SIGNUP !== undefined) policy.enableSignup = ENABLE_SIGNUP
      if (DEFAULT_USER_ROLE !== undefined) policy.defaultUserRole = DEFAULT_USER_ROLE
      if (SHOW_ADMIN_DETAILS !== undefined) policy.showAdminDetails = SHOW_ADMIN_DETAILS
      const apiKeys = [ENABLE_API_KEYS, ENABLE_API_KEY].filter((v): v is boolean => v !== undefined)
      if (apiKeys.length > 0) policy.enableApiKeys = apiKeys.find((v) => v !== before.policy.enableApiKeys) ?? before.policy.enableApiKeys
      if (JWT_EXPIRES_IN !== undefined) {
        policy.jwtExpiresIn = JWT_EXPIRES_IN.trim()
        policy.jwtExpiresInMs = parseDuration(JWT_EXPIRES_IN) ?? null
      }
      const after: Snapshot = { ...before, policy, kept: { ...before.kept, ...(kept as Record<string, Scalar>) } }
      await repo.put(ADMIN_CONFIG_KEY, JSON.stringify(storedAdminConfig(after)), epochSeconds())
      const change = changedKeys(adminConfigView(before), adminConfigView(after))
      if (change) {
        await recordAudit(trx, [{ action: 'config.update', actorId: by.id, targetType: 'config', targetId: ADMIN_CONFIG_KEY, ...change }], by.origin)
      }
      return after
    })
    // Not kept as the snapshot: its commit dropped the old one, and the next read loads what is stored now
    // (another admin's or instance's write may have landed since this commit).
    return adminConfigView(saved)
  }

  /** Replaces the default permission tree (Open WebUI's `POST /users/default/permissions`); audited as `permissions.update`. */
  async updateDefaultPermissions(tree: PermissionTree, by: AuditActor): Promise<DefaultPermissions> {
    const stored = await this.database.db.transaction().execute(async (trx) => {
      await lockInTransaction(this.database, trx, 'modelgate:settings')
      const repo = new SettingsRepo(trx)
      const raw = await repo.get(DEFAULT_PERMISSIONS_KEY)
      const before = raw === undefined ? this.envPermissions() : (JSON.parse(raw) as Record<string, unknown>)
      await repo.put(DEFAULT_PERMISSIONS_KEY, JSON.stringify(tree), epochSeconds())
      if (JSON.stringify(before) !== JSON.stringify(tree)) {
        await recordAudit(
          trx,
          [
            {
              action: 'permissions.update',
              actorId: by.id,
              targetType: 'permissions',
              targetId: 'default',
              before: { permissions: before },
              after: { permissions: tree },
            },
          ],
          by.origin,
        )
      }
      return tree
    })
    return defaultPermissionsView(stored)
  }

  private current(executor?: Executor): Promise<Snapshot> {
    const watch = this.database.watch
    if (this.snapshot && watch.trusted && Date.now() - this.checkedAt < SETTINGS_MAX_AGE_MS) return Promise.resolve(this.snapshot)
    // A transaction reads through itself, alone: sharing a load through the root handle could wait for it.
    if (executor && executor !== this.database.db) return this.load(executor)
    this.loading ??= this.load(this.database.db).finally(() => {
      this.loading = undefined
    })
    return this.loading
  }

  private async load(executor: Executor): Promise<Snapshot> {
    const written = this.database.watch.generation('accounts')
    const snapshot = this.parse(await new SettingsRepo(executor).all())
    // A transaction may read its own uncommitted writes: used by it, never kept.
    if (executor !== this.database.db) return snapshot
    // Read before a write was seen (or while other instances' writes may go unheard): used, not kept.
    if (written !== this.database.watch.generation('accounts') || !this.database.watch.trusted) return snapshot
    this.snapshot = snapshot
    this.checkedAt = Date.now()
    return snapshot
  }

  private envPermissions(): Record<string, unknown> {
    return structuredClone(this.env.permissionDefaults) as unknown as Record<string, unknown>
  }

  /** The stored rows over the environment's values; a stored value that no longer parses falls back to the environment's. */
  private parse(rows: Map<string, string>): Snapshot {
    const env = this.env
    const policy: AuthPolicy = {
      enableSignup: env.enableSignup,
      defaultUserRole: env.defaultUserRole,
      enableApiKeys: env.enableApiKeys,
      jwtExpiresInMs: env.jwtExpiresInMs,
      jwtExpiresIn: formatDuration(env.jwtExpiresInMs),
      showAdminDetails: true,
    }
    const kept: Record<string, Scalar> = {}
    const admin = parseObject(rows.get(ADMIN_CONFIG_KEY))
    if (admin) {
      for (const [key, value] of Object.entries(admin)) {
        if (key === 'ENABLE_SIGNUP' && typeof value === 'boolean') policy.enableSignup = value
        else if (key === 'DEFAULT_USER_ROLE' && USER_ROLES.includes(value as UserRole)) policy.defaultUserRole = value as UserRole
        else if (key === 'ENABLE_API_KEYS' && typeof value === 'boolean') policy.enableApiKeys = value
        else if (key === 'SHOW_ADMIN_DETAILS' && typeof value === 'boolean') policy.showAdminDetails = value
        else if (key === 'JWT_EXPIRES_IN' && typeof value === 'string' && parseDuration(value) !== undefined) {
          policy.jwtExpiresIn = value
          policy.jwtExpiresInMs = parseDuration(value) ?? null
        } else if (!KNOWN_KEYS.has(key) && (value === null || ['string', 'number', 'boolean'].includes(typeof value))) kept[key] = value as Scalar
      }
    }
    const permissions = parseObject(rows.get(DEFAULT_PERMISSIONS_KEY)) ?? this.envPermissions()
    return { policy, kept, permissions }
  }
}

const KNOWN_KEYS = new Set(['ENABLE_SIGNUP', 'DEFAULT_USER_ROLE', 'ENABLE_API_KEY', 'ENABLE_API_KEYS', 'JWT_EXPIRES_IN', 'SHOW_ADMIN_DETAILS'])

function parseObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined
  try {
    const value: unknown = JSON.parse(text)
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

function storedAdminConfig(snapshot: Snapshot): Record<string, unknown> {
  const { policy } = snapshot
  return {
    ...snapshot.kept,
    SHOW_ADMIN_DETAILS: policy.showAdminDetails,
    ENABLE_SIGNUP: policy.enableSignup,
    DEFAULT_USER_ROLE: policy.defaultUserRole,
    ENABLE_API_KEYS: policy.enableApiKeys,
    JWT_EXPIRES_IN: policy.jwtExpiresIn,
  }
}

function adminConfigView(snapshot: Snapshot): AdminConfig {
  const { policy } = snapshot
  return {
    ...snapshot.kept,
    SHOW_ADMIN_DETAILS: policy.showAdminDetails,
    ENABLE_SIGNUP: policy.enableSignup,
    DEFAULT_USER_ROLE: policy.defaultUserRole,
    // One setting under both of Open WebUI's names (ENABLE_API_KEY before v0.6.?, ENABLE_API_KEYS after).
    ENABLE_API_KEY: policy.enableApiKeys,
    ENABLE_API_KEYS: policy.enableApiKeys,
    JWT_EXPIRES_IN: policy.jwtExpiresIn,
  }
}

function defaultPermissionsView(tree: Record<string, unknown>): DefaultPermissions {
  const resolved = permissionDefaultsFrom(tree) as unknown as Record<string, Record<string, boolean>>
  const view: Record<string, unknown> = { ...tree }
  for (const [section, values] of Object.entries(resolved)) {
    const stored = tree[section]
    view[section] = { ...(stored !== null && typeof stored === 'object' && !Array.isArray(stored) ? stored : {}), ...values }
  }
  return view as DefaultPermissions
}

/** The keys whose values differ, before and after; undefined when none does. */
function changedKeys(before: Record<string, unknown>, after: Record<string, unknown>) {
  const b: Record<string, unknown> = {}
  const a: Record<string, unknown> = {}
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      b[key] = before[key] ?? null
      a[key] = after[key] ?? null
    }
  }
  return Object.keys(a).length === 0 ? undefined : { before: b, after: a }
}

const UNITS: [string, number][] = [
  ['w', 604_800_000],
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
]

/** A lifetime in Open WebUI's `JWT_EXPIRES_IN` format: the largest unit that divides it (`4w`, `90m`), `-1` for never. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '-1'
  for (const [unit, size] of UNITS) if (ms % size === 0) return `${ms / size}${unit}`
  return `${ms}ms`
}
