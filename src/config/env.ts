/**
 * Configuration from the environment (design.md §2.7), parsed once at start.
 *
 * Every variable is described by one zod schema that carries its default; a bad environment stops
 * start-up with a single error listing every problem, never the first one only.
 */
import { isIP } from 'node:net'
import { z } from 'zod'

import { USER_ROLES, type UserRole } from '../schema/roles.js'

export { USER_ROLES, type UserRole } from '../schema/roles.js'

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on'])
const FALSE_WORDS = new Set(['false', '0', 'no', 'off'])

/** A boolean variable: true/false, 1/0, yes/no, on/off (any case). Anything else is an error. */
function booleanVar(defaultValue: boolean) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === '') return defaultValue
      const word = raw.trim().toLowerCase()
      if (TRUE_WORDS.has(word)) return true
      if (FALSE_WORDS.has(word)) return false
      ctx.addIssue({ code: 'custom', message: `expected true or false, got "${raw}"` })
      return z.NEVER
    })
}

/** An integer variable within [min, max]. */
/**
 * TRUST_PROXY: which peers are proxies whose X-Forwarded-For entry is believed. `false` (default): none,
 * the socket address is the client. `true` (or 1): one proxy, so the client is the address *that proxy*
 * appended (the last entry), never the first one, which the client writes itself. A number: that many
 * proxies in a row. A comma list of addresses or CIDRs (`10.0.0.0/8, 127.0.0.1`): those peers only.
 */
function trustProxyVar() {
  return z
    .string()
    .optional()
    .transform((raw, ctx): false | number | string => {
      const word = (raw ?? '').trim().toLowerCase()
      if (word === '' || FALSE_WORDS.has(word)) return false
      if (TRUE_WORDS.has(word)) return 1
      if (/^\d+$/.test(word) && Number(word) <= 10) return Number(word)
      const parts = word
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)
      const valid = (part: string) => {
        const [address = '', bits, ...rest] = part.split('/')
        const family = isIP(address)
        if (!family || rest.length > 0) return false
        return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128))
      }
      if (parts.length > 0 && parts.every(valid)) return parts.join(',')
      ctx.addIssue({ code: 'custom', message: `expected false, true, a number of proxies (1-10) or addresses/CIDRs, got "${raw}"` })
      return z.NEVER
    })
}

function integerVar(defaultValue: number, min: number, max: number) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === '') return defaultValue
      // Decimal digits only: Number() would also take "1e3", "0x50" or "80.0" and silently change them.
      const value = /^[+-]?\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN
      if (!Number.isInteger(value) || value < min || value > max) {
        ctx.addIssue({ code: 'custom', message: `expected an integer from ${min} to ${max}, got "${raw}"` })
        return z.NEVER
      }
      return value
    })
}

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const

/**
 * Parses Open WebUI's `JWT_EXPIRES_IN` format: a number and a unit (`30m`, `12h`, `4w`), or `-1` for
 * tokens that never expire (kept for compatibility; not recommended). Returns milliseconds or null.
 */
export function parseDuration(raw: string): number | null | undefined {
  const text = raw.trim()
  if (text === '-1') return null
  const match = /^(\d+)(ms|s|m|h|d|w)$/.exec(text)
  if (!match?.[1] || !match[2]) return undefined
  const amount = Number(match[1])
  if (amount <= 0) return undefined
  return amount * DURATION_UNITS_MS[match[2] as keyof typeof DURATION_UNITS_MS]
}

const envSchema = z.object({
  PORT: integerVar(8080, 0, 65535),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().trim().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .trim()
    .optional()
    .refine(
      // sqlite:// with no path would open an anonymous temporary database: every write lost at exit.
      (url) => !url || /^(postgres(ql)?|sqlite):\/\/\S/.test(url),
      'expected postgres://…, postgresql://… or sqlite://<path>',
    ),
  WEBUI_SECRET_KEY: z
    .string()
    .optional()
    .refine((key) => key === undefined || key === '' || key.length >= 16, 'must be at least 16 characters'),
  JWT_EXPIRES_IN: z
    .string()
    .default('4w')
    .transform((raw, ctx) => {
      const ms = parseDuration(raw)
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `expected a duration such as 30m, 12h, 4w or -1, got "${raw}"` })
        return z.NEVER
      }
      return ms
    }),
  DEFAULT_USER_ROLE: z.enum(USER_ROLES).default('pending'),
  ENABLE_SIGNUP: booleanVar(true),
  // Open WebUI's name; newer releases spell it ENABLE_API_KEYS, which wins when both are set.
  ENABLE_API_KEY: booleanVar(true),
  ENABLE_API_KEYS: booleanVar(true),
  PASSWORD_MIN_LENGTH: integerVar(8, 1, 256),
  BYPASS_ADMIN_ACCESS_CONTROL: booleanVar(true),
  BYPASS_MODEL_ACCESS_CONTROL: booleanVar(false),
  USER_PERMISSIONS_WORKSPACE_MODELS_ACCESS: booleanVar(false),
  USER_PERMISSIONS_WORKSPACE_MODELS_IMPORT: booleanVar(false),
  USER_PERMISSIONS_WORKSPACE_MODELS_EXPORT: booleanVar(false),
  USER_PERMISSIONS_WORKSPACE_TEMPLATES_ACCESS: booleanVar(false),
  USER_PERMISSIONS_WORKSPACE_MODELS_ALLOW_SHARING: booleanVar(false),
  USER_PERMISSIONS_WORKSPACE_MODELS_ALLOW_PUBLIC_SHARING: booleanVar(false),
  MODELS_CACHE_TTL: integerVar(1, 0, 86_400),
  /** Versions kept per model (issue #12); 0 or unset keeps every version. */
  MODEL_HISTORY_MAX_VERSIONS: integerVar(0, 0, 1_000_000),
  REDIS_URL: z
    .string()
    .trim()
    .optional()
    .refine((url) => !url || /^rediss?:\/\//.test(url), 'expected redis://… or rediss://…'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT_BYTES: integerVar(1024 * 1024, 1024, 512 * 1024 * 1024),
  IMPORT_BODY_LIMIT_BYTES: integerVar(64 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
  SIGNIN_MAX_ATTEMPTS: integerVar(10, 1, 10_000),
  OPENAI_API_BASE_URLS: z.string().optional(),
  OPENAI_API_KEYS: z.string().optional(),
  OLLAMA_BASE_URLS: z.string().optional(),
  PROVIDER_LIST_TIMEOUT_MS: integerVar(3000, 50, 120_000),
  BENCH_ROUTES: booleanVar(false),
  TRUST_PROXY: trustProxyVar(),
  PROVIDER_CHAT_TIMEOUT_MS: integerVar(60_000, 50, 3_600_000),
  SIGNIN_WINDOW_SECONDS: integerVar(300, 1, 86_400),
  SETTINGS_CHECK_INTERVAL_MS: integerVar(1000, 0, 3_600_000),
  // Usage analytics (docs/analytics.md): recording of gateway calls, and how long rows are kept (0: forever).
  USAGE_ANALYTICS: booleanVar(true),
  USAGE_RETENTION_DAYS: integerVar(90, 0, 36_500),
  // SCIM 2.0 provisioning (docs/sso.md, "SCIM"): ENABLE_SCIM, or Open WebUI's SCIM_ENABLED; ENABLE_SCIM wins when both are set.
  ENABLE_SCIM: booleanVar(false),
  SCIM_ENABLED: booleanVar(false),
  SCIM_TOKEN: z.string().optional(),
  // GET /metrics (docs/metrics.md): a scraper's bearer token besides admin credentials; optional tracing.
  METRICS_TOKEN: z
    .string()
    .optional()
    .refine((token) => token === undefined || token.trim() === '' || token.trim().length >= 16, 'must be at least 16 characters'),
  OTEL_TRACING: booleanVar(false),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().trim().optional(),
  // OpenID Connect sign-in (docs/sso.md): Open WebUI's names and defaults.
  OPENID_PROVIDER_URL: z.string().trim().optional(),
  OAUTH_CLIENT_ID: z.string().trim().optional(),
  OAUTH_CLIENT_SECRET: z.string().optional(),
  OAUTH_SCOPES: z.string().trim().default('openid email profile'),
  OPENID_REDIRECT_URI: z.string().trim().optional(),
  OAUTH_PROVIDER_NAME: z.string().trim().min(1).max(100).default('SSO'),
  ENABLE_OAUTH_SIGNUP: booleanVar(false),
  OAUTH_MERGE_ACCOUNTS_BY_EMAIL: booleanVar(false),
  OAUTH_ALLOWED_DOMAINS: z.string().trim().default('*'),
  OAUTH_SUB_CLAIM: z.string().trim().default(''),
  OAUTH_EMAIL_CLAIM: z.string().trim().default('email'),
  OAUTH_USERNAME_CLAIM: z.string().trim().default('name'),
  OAUTH_PICTURE_CLAIM: z.string().trim().default('picture'),
  OAUTH_UPDATE_NAME_ON_LOGIN: booleanVar(false),
  OAUTH_UPDATE_EMAIL_ON_LOGIN: booleanVar(false),
  OAUTH_UPDATE_PICTURE_ON_LOGIN: booleanVar(false),
  ENABLE_LOGIN_FORM: booleanVar(true),
  ENABLE_OAUTH_ROLE_MANAGEMENT: booleanVar(false),
  OAUTH_ROLES_CLAIM: z.string().trim().default('roles'),
  OAUTH_ALLOWED_ROLES: z.string().default('user,admin'),
  OAUTH_ADMIN_ROLES: z.string().default('admin'),
  ENABLE_OAUTH_GROUP_MANAGEMENT: booleanVar(false),
  ENABLE_OAUTH_GROUP_CREATION: booleanVar(false),
  OAUTH_GROUPS_CLAIM: z.string().trim().default('groups'),
  OAUTH_BLOCKED_GROUPS: z.string().default('[]'),
  PROFILE_IMAGE_HOSTS: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const hosts: string[] = []
      for (const part of (raw ?? '')
        .split(',')
        .map((h) => h.trim())
        .filter(Boolean)) {
        const host = hostnameOf(part)
        if (host) hosts.push(host)
        else ctx.addIssue({ code: 'custom', message: `expected comma-separated host names (e.g. cdn.example.com), got "${part}"` })
      }
      return hosts
    }),
})

/** A bare host name (no scheme, port, path or credentials), lower-cased and in its ASCII (punycode) form. */
function hostnameOf(text: string): string | null {
  if (!/^[^\s/\\?#@:]+$/.test(text)) return null
  try {
    const url = new URL(`http://${text}`)
    return url.hostname || null
  } catch {
    return null
  }
}

/** A provider connection given by the environment (Open WebUI's variables). */
export interface EnvConnection {
  kind: 'openai' | 'ollama'
  baseUrl: string
  apiKey: string | null
}

/** Feature permission defaults for users whose groups say nothing (design.md §2.4). */
export interface PermissionDefaults {
  workspace: { models: boolean; models_import: boolean; models_export: boolean; templates: boolean }
  sharing: { models: boolean; public_models: boolean }
}

export type DatabaseTarget = { dialect: 'sqlite'; path: string } | { dialect: 'postgres'; url: string }

/** The parsed, frozen configuration every module receives. */
export interface Config {
  port: number
  host: string
  dataDir: string
  database: DatabaseTarget
  /** Null when unset: main.ts then loads or creates the key file in dataDir. */
  secretKey: string | null
  /** Token lifetime in milliseconds; null = tokens never expire (`JWT_EXPIRES_IN=-1`). */
  jwtExpiresInMs: number | null
  defaultUserRole: UserRole
  enableSignup: boolean
  /** API keys may be created and used (ENABLE_API_KEYS, or Open WebUI's older ENABLE_API_KEY). */
  enableApiKeys: boolean
  passwordMinLength: number
  bypassAdminAccessControl: boolean
  bypassModelAccessControl: boolean
  permissionDefaults: PermissionDefaults
  modelsCacheTtlSeconds: number
  /** MODEL_HISTORY_MAX_VERSIONS: null keeps every version of every model. */
  historyMaxVersions: number | null
  redisUrl: string | null
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  bodyLimitBytes: number
  /** Import and sync carry whole model sets: their own, larger limit. */
  importBodyLimitBytes: number
  signinRateLimit: { maxAttempts: number; windowMs: number }
  /** Connections from OPENAI_API_BASE_URLS / OPENAI_API_KEYS (paired by position) and OLLAMA_BASE_URLS. */
  envConnections: EnvConnection[]
  /** How long a provider's model list may take before the listing goes on without it. */
  providerListTimeoutMs: number
  /** How long a provider may take to answer a chat request (and between two streamed chunks). */
  providerChatTimeoutMs: number
  /**
   * Behind reverse proxies: false (the socket address is the client), the number of proxies in front, or
   * the proxies' addresses/CIDRs (comma-separated); Fastify then reads the client from X-Forwarded-For.
   */
  trustProxy: false | number | string
  /** Serve GET /bench/ceiling (benchmarks only; see bench/README.md). */
  benchRoutes: boolean
  /**
   * How often (at most) an instance compares the connections version in the database with the one it
   * last saw: the bound on how long another instance's connection change stays unseen without Redis.
   */
  settingsCheckIntervalMs: number
  /** USAGE_ANALYTICS: record each gateway call (docs/analytics.md). */
  usageAnalytics: boolean
  /** USAGE_RETENTION_DAYS: usage rows older than this are pruned; 0 keeps them forever. */
  usageRetentionDays: number
  /** Hosts (exact, lower-case) that model profile images may redirect to; empty: none. */
  profileImageHosts: string[]
  /** METRICS_TOKEN: a scraper reads GET /metrics with `Authorization: Bearer <it>`; null: admins only (docs/metrics.md). */
  metricsToken: string | null
  /** OTEL_TRACING or OTEL_EXPORTER_OTLP_ENDPOINT: provider calls get a span id of their own in the caller's trace. */
  tracing: boolean
  /** SCIM 2.0 provisioning at /api/v1/scim/v2 (docs/sso.md): on or off, and the bearer token its client sends. */
  scim: { enabled: boolean; token: string | null }
  /** ENABLE_LOGIN_FORM: false hides and refuses password sign-in, except for admins (break-glass, docs/sso.md). */
  enableLoginForm: boolean
  /** OpenID Connect sign-in; null when OPENID_PROVIDER_URL is unset (docs/sso.md). */
  oidc: OidcConfig | null
}

/** OpenID Connect sign-in as the OAUTH_* / OPENID_* variables describe it (Open WebUI's names). */
export interface OidcConfig {
  /** OPENID_PROVIDER_URL: the issuer, or its full `/.well-known/openid-configuration` URL. */
  providerUrl: string
  clientId: string
  clientSecret: string | null
  scopes: string
  /** OPENID_REDIRECT_URI; null: `<this server>/oauth/oidc/callback` from the request. */
  redirectUri: string | null
  providerName: string
  enableSignup: boolean
  mergeAccountsByEmail: boolean
  /** Lower-case email domains allowed to sign in; ['*']: any. */
  allowedDomains: string[]
  /** The claim naming the account at the provider (`sub` unless OAUTH_SUB_CLAIM says otherwise). */
  subClaim: string
  emailClaim: string
  usernameClaim: string
  pictureClaim: string
  updateNameOnLogin: boolean
  updateEmailOnLogin: boolean
  updatePictureOnLogin: boolean
  roleManagement: boolean
  /** Dot path into the claims (`realm_access.roles`). */
  rolesClaim: string
  allowedRoles: string[]
  adminRoles: string[]
  groupManagement: boolean
  groupCreation: boolean
  /** Dot path into the claims. */
  groupsClaim: string
  blockedGroups: string[]
}

/** Thrown when the environment is invalid; its message lists every problem, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

function databaseTarget(url: string | undefined, dataDir: string): DatabaseTarget {
  if (!url) return { dialect: 'sqlite', path: `${dataDir.replace(/\/+$/, '')}/modelgate.db` }
  if (url.startsWith('sqlite://')) return { dialect: 'sqlite', path: url.slice('sqlite://'.length) }
  return { dialect: 'postgres', url }
}

/** Parses an environment (process.env by default) into a frozen Config, or throws ConfigError. */
const splitList = (raw: string | undefined) => (raw ?? '').split(';').map((part) => part.trim())

/** Parses the provider URL variables; returns the connections and the problems found. */
function envConnections(env: NodeJS.ProcessEnv): { connections: EnvConnection[]; problems: string[] } {
  const problems: string[] = []
  const connections: EnvConnection[] = []
  const validUrl = (name: string, url: string) => {
    try {
      const parsed = new URL(url)
      if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return true
    } catch {
      // reported below
    }
    problems.push(`${name}: "${url}" is not an http(s) URL`)
    return false
  }
  const openaiUrls = splitList(env['OPENAI_API_BASE_URLS']).filter(Boolean)
  const openaiKeys = splitList(env['OPENAI_API_KEYS'])
  for (const [index, url] of openaiUrls.entries()) {
    if (validUrl('OPENAI_API_BASE_URLS', url)) {
      connections.push({ kind: 'openai', baseUrl: url.replace(/\/+$/, ''), apiKey: openaiKeys[index] || null })
    }
  }
  for (const url of splitList(env['OLLAMA_BASE_URLS']).filter(Boolean)) {
    if (validUrl('OLLAMA_BASE_URLS', url)) connections.push({ kind: 'ollama', baseUrl: url.replace(/\/+$/, ''), apiKey: null })
  }
  return { connections, problems }
}

/** ENABLE_SCIM (or Open WebUI's SCIM_ENABLED) and SCIM_TOKEN; the token is required (16+ characters) when SCIM is on. */
function scimConfig(env: NodeJS.ProcessEnv, enableScim: boolean, scimEnabled: boolean, token: string | undefined): Config['scim'] {
  const enabled = (env['ENABLE_SCIM'] ?? '').trim() === '' ? scimEnabled : enableScim
  const trimmed = (token ?? '').trim()
  if (enabled && trimmed.length < 16) {
    throw new ConfigError([`SCIM_TOKEN: required when SCIM is enabled, at least 16 characters (e.g. \`openssl rand -base64 32\`)`])
  }
  return { enabled, token: trimmed === '' ? null : trimmed }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const parsed = envSchema.safeParse(env)
  const providers = envConnections(env)
  const problems = [...(parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)), ...providers.problems]
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems)
  const e = parsed.data
  const oidc = oidcConfig(e)
  if (oidc.problems.length > 0) throw new ConfigError(oidc.problems)
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    dataDir: e.DATA_DIR,
    database: databaseTarget(e.DATABASE_URL, e.DATA_DIR),
    secretKey: e.WEBUI_SECRET_KEY ? e.WEBUI_SECRET_KEY : null,
    jwtExpiresInMs: e.JWT_EXPIRES_IN,
    defaultUserRole: e.DEFAULT_USER_ROLE,
    enableSignup: e.ENABLE_SIGNUP,
    enableApiKeys: (env['ENABLE_API_KEYS'] ?? '').trim() === '' ? e.ENABLE_API_KEY : e.ENABLE_API_KEYS,
    passwordMinLength: e.PASSWORD_MIN_LENGTH,
    bypassAdminAccessControl: e.BYPASS_ADMIN_ACCESS_CONTROL,
    bypassModelAccessControl: e.BYPASS_MODEL_ACCESS_CONTROL,
    permissionDefaults: {
      workspace: {
        models: e.USER_PERMISSIONS_WORKSPACE_MODELS_ACCESS,
        models_import: e.USER_PERMISSIONS_WORKSPACE_MODELS_IMPORT,
        models_export: e.USER_PERMISSIONS_WORKSPACE_MODELS_EXPORT,
        templates: e.USER_PERMISSIONS_WORKSPACE_TEMPLATES_ACCESS,
      },
      sharing: {
        models: e.USER_PERMISSIONS_WORKSPACE_MODELS_ALLOW_SHARING,
        public_models: e.USER_PERMISSIONS_WORKSPACE_MODELS_ALLOW_PUBLIC_SHARING,
      },
    },
    modelsCacheTtlSeconds: e.MODELS_CACHE_TTL,
    historyMaxVersions: e.MODEL_HISTORY_MAX_VERSIONS > 0 ? e.MODEL_HISTORY_MAX_VERSIONS : null,
    redisUrl: e.REDIS_URL ? e.REDIS_URL : null,
    logLevel: e.LOG_LEVEL,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    importBodyLimitBytes: e.IMPORT_BODY_LIMIT_BYTES,
    signinRateLimit: { maxAttempts: e.SIGNIN_MAX_ATTEMPTS, windowMs: e.SIGNIN_WINDOW_SECONDS * 1000 },
    envConnections: providers.connections,
    providerListTimeoutMs: e.PROVIDER_LIST_TIMEOUT_MS,
    providerChatTimeoutMs: e.PROVIDER_CHAT_TIMEOUT_MS,
    benchRoutes: e.BENCH_ROUTES,
    trustProxy: e.TRUST_PROXY,
    settingsCheckIntervalMs: e.SETTINGS_CHECK_INTERVAL_MS,
    usageAnalytics: e.USAGE_ANALYTICS,
    usageRetentionDays: e.USAGE_RETENTION_DAYS,
    profileImageHosts: e.PROFILE_IMAGE_HOSTS,
    metricsToken: e.METRICS_TOKEN?.trim() ? e.METRICS_TOKEN.trim() : null,
    tracing: e.OTEL_TRACING || Boolean(e.OTEL_EXPORTER_OTLP_ENDPOINT),
    scim: scimConfig(env, e.ENABLE_SCIM, e.SCIM_ENABLED, e.SCIM_TOKEN),
    enableLoginForm: e.ENABLE_LOGIN_FORM,
    oidc: oidc.config,
  })
}

/** A comma-separated list (Open WebUI's OAUTH_ALLOWED_ROLES, OAUTH_ALLOWED_DOMAINS): trimmed, empty entries dropped. */
const commaList = (raw: string) =>
  raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)

type ParsedEnv = z.infer<typeof envSchema>

/**
 * The OpenID Connect settings, or null when OPENID_PROVIDER_URL is unset. The provider URL must be https
 * (http only on a loopback host, for a provider on the same machine); a client id is then required.
 */
function oidcConfig(e: ParsedEnv): { config: OidcConfig | null; problems: string[] } {
  const problems: string[] = []
  const url = e.OPENID_PROVIDER_URL
  if (!url) return { config: null, problems }
  const httpUrl = (name: string, value: string) => {
    try {
      const parsed = new URL(value)
      const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname)
      if (parsed.protocol === 'https:' || (parsed.protocol === 'http:' && loopback)) return true
    } catch {
      // reported below
    }
    problems.push(`${name}: expected an https:// URL (http:// only on a loopback host), got "${value}"`)
    return false
  }
  httpUrl('OPENID_PROVIDER_URL', url)
  if (e.OPENID_REDIRECT_URI) {
    try {
      const parsed = new URL(e.OPENID_REDIRECT_URI)
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error('scheme')
    } catch {
      problems.push(`OPENID_REDIRECT_URI: expected an http(s) URL, got "${e.OPENID_REDIRECT_URI}"`)
    }
  }
  if (!e.OAUTH_CLIENT_ID) problems.push('OAUTH_CLIENT_ID: required when OPENID_PROVIDER_URL is set')
  let blockedGroups: string[] = []
  const blocked = e.OAUTH_BLOCKED_GROUPS.trim()
  if (blocked.startsWith('[')) {
    // Open WebUI's form: a JSON array of names.
    try {
      const parsed: unknown = JSON.parse(blocked)
      if (!Array.isArray(parsed) || !parsed.every((name) => typeof name === 'string')) throw new Error('not a list of names')
      blockedGroups = parsed
    } catch {
      problems.push(`OAUTH_BLOCKED_GROUPS: expected a JSON array of group names or a comma-separated list, got "${blocked}"`)
    }
  } else {
    blockedGroups = commaList(blocked)
  }
  const domains = commaList(e.OAUTH_ALLOWED_DOMAINS.toLowerCase())
  return {
    problems,
    config: {
      providerUrl: url,
      clientId: e.OAUTH_CLIENT_ID ?? '',
      clientSecret: e.OAUTH_CLIENT_SECRET ? e.OAUTH_CLIENT_SECRET : null,
      scopes: e.OAUTH_SCOPES,
      redirectUri: e.OPENID_REDIRECT_URI ? e.OPENID_REDIRECT_URI : null,
      providerName: e.OAUTH_PROVIDER_NAME,
      enableSignup: e.ENABLE_OAUTH_SIGNUP,
      mergeAccountsByEmail: e.OAUTH_MERGE_ACCOUNTS_BY_EMAIL,
      allowedDomains: domains.length > 0 ? domains : ['*'],
      subClaim: e.OAUTH_SUB_CLAIM || 'sub',
      emailClaim: e.OAUTH_EMAIL_CLAIM,
      usernameClaim: e.OAUTH_USERNAME_CLAIM,
      pictureClaim: e.OAUTH_PICTURE_CLAIM,
      updateNameOnLogin: e.OAUTH_UPDATE_NAME_ON_LOGIN,
      updateEmailOnLogin: e.OAUTH_UPDATE_EMAIL_ON_LOGIN,
      updatePictureOnLogin: e.OAUTH_UPDATE_PICTURE_ON_LOGIN,
      roleManagement: e.ENABLE_OAUTH_ROLE_MANAGEMENT,
      rolesClaim: e.OAUTH_ROLES_CLAIM,
      allowedRoles: commaList(e.OAUTH_ALLOWED_ROLES),
      adminRoles: commaList(e.OAUTH_ADMIN_ROLES),
      groupManagement: e.ENABLE_OAUTH_GROUP_MANAGEMENT,
      groupCreation: e.ENABLE_OAUTH_GROUP_CREATION,
      groupsClaim: e.OAUTH_GROUPS_CLAIM,
      blockedGroups,
    },
  }
}
