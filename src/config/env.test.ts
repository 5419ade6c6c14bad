import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig, parseDuration } from './env.js'
import { resolveSecretKey, SECRET_KEY_FILE } from './secret-key.js'

/** loadConfig that must throw ConfigError; returns it. */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return error as ConfigError
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`)
}

describe('loadConfig defaults', () => {
  const config = loadConfig({})

  it('listens on 127.0.0.1:8080', () => {
    expect(config.port).toBe(8080)
    expect(config.host).toBe('127.0.0.1')
  })

  it('stores a SQLite file under DATA_DIR (./data by default)', () => {
    expect(config.dataDir).toBe('./data')
    expect(config.database).toEqual({ dialect: 'sqlite', path: './data/modelgate.db' })
    expect(loadConfig({ DATA_DIR: '/var/lib/mg/' }).database).toEqual({ dialect: 'sqlite', path: '/var/lib/mg/modelgate.db' })
  })

  it('has no configured secret, tokens valid 4 weeks, new users pending', () => {
    expect(config.secretKey).toBeNull()
    expect(config.jwtExpiresInMs).toBe(4 * 7 * 24 * 3600 * 1000)
    expect(config.defaultUserRole).toBe('pending')
    expect(config.enableSignup).toBe(true)
    expect(config.passwordMinLength).toBe(8)
  })

  it('bypasses access control for admins but not for models', () => {
    expect(config.bypassAdminAccessControl).toBe(true)
    expect(config.bypassModelAccessControl).toBe(false)
  })

  it('grants no feature permission by default', () => {
    expect(config.permissionDefaults).toEqual({
      workspace: { models: false, models_import: false, models_export: false, templates: false },
      sharing: { models: false, public_models: false },
    })
  })

  it('caches model lists 1 s, limits bodies to 1 MiB, rate limits sign-in', () => {
    expect(config.modelsCacheTtlSeconds).toBe(1)
    expect(config.bodyLimitBytes).toBe(1024 * 1024)
    expect(config.signinRateLimit).toEqual({ maxAttempts: 10, windowMs: 300_000 })
    expect(config.redisUrl).toBeNull()
    expect(config.logLevel).toBe('info')
  })

  it('is frozen', () => {
    expect(Object.isFrozen(config)).toBe(true)
  })

  it('treats empty numeric and boolean variables as unset', () => {
    const c = loadConfig({ PORT: '', ENABLE_SIGNUP: ' ', MODELS_CACHE_TTL: '', WEBUI_SECRET_KEY: '' })
    expect(c.port).toBe(8080)
    expect(c.enableSignup).toBe(true)
    expect(c.modelsCacheTtlSeconds).toBe(1)
    expect(c.secretKey).toBeNull()
  })
})

describe('loadConfig parses each variable', () => {
  it('PORT, HOST, DATA_DIR', () => {
    const c = loadConfig({ PORT: ' 3000 ', HOST: '0.0.0.0', DATA_DIR: '/srv/data' })
    expect(c.port).toBe(3000)
    expect(c.host).toBe('0.0.0.0')
    expect(c.dataDir).toBe('/srv/data')
  })

  it.each([
    ['true', true],
    ['TRUE', true],
    ['True', true],
    ['1', true],
    ['yes', true],
    ['YES', true],
    ['on', true],
    ['false', false],
    ['FALSE', false],
    ['False', false],
    ['0', false],
    ['no', false],
    ['No', false],
    ['off', false],
  ])('boolean "%s" → %s in every boolean variable', (raw, expected) => {
    const c = loadConfig({
      ENABLE_SIGNUP: raw,
      BYPASS_ADMIN_ACCESS_CONTROL: raw,
      BYPASS_MODEL_ACCESS_CONTROL: raw,
      USER_PERMISSIONS_WORKSPACE_MODELS_ACCESS: raw,
      USER_PERMISSIONS_WORKSPACE_MODELS_IMPORT: raw,
      USER_PERMISSIONS_WORKSPACE_MODELS_EXPORT: raw,
      USER_PERMISSIONS_WORKSPACE_TEMPLATES_ACCESS: raw,
      USER_PERMISSIONS_WORKSPACE_MODELS_ALLOW_SHARING: raw,
      USER_PERMISSIONS_WORKSPACE_MODELS_ALLOW_PUBLIC_SHARING: raw,
    })
    expect(c.enableSignup).toBe(expected)
    expect(c.bypassAdminAccessControl).toBe(expected)
    expect(c.bypassModelAccessControl).toBe(expected)
    expect(c.permissionDefaults).toEqual({
      workspace: { models: expected, models_import: expected, models_export: expected, templates: expected },
      sharing: { models: expected, public_models: expected },
    })
  })

  it('maps each USER_PERMISSIONS_* variable to its own permission', () => {
    const c = loadConfig({ USER_PERMISSIONS_WORKSPACE_MODELS_IMPORT: 'true', USER_PERMISSIONS_WORKSPACE_MODELS_ALLOW_PUBLIC_SHARING: 'yes' })
    expect(c.permissionDefaults).toEqual({
      workspace: { models: false, models_import: true, models_export: false, templates: false },
      sharing: { models: false, public_models: true },
    })
  })

  it('DATABASE_URL postgres:// and postgresql:// select PostgreSQL', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/mg' }).database).toEqual({
      dialect: 'postgres',
      url: 'postgres://u:p@db:5432/mg',
    })
    expect(loadConfig({ DATABASE_URL: 'postgresql://db/mg' }).database.dialect).toBe('postgres')
  })

  it('DATABASE_URL sqlite://path selects that SQLite file', () => {
    expect(loadConfig({ DATABASE_URL: 'sqlite:///var/mg/x.db' }).database).toEqual({ dialect: 'sqlite', path: '/var/mg/x.db' })
    expect(loadConfig({ DATABASE_URL: 'sqlite://rel/x.db', DATA_DIR: '/ignored' }).database).toEqual({
      dialect: 'sqlite',
      path: 'rel/x.db',
    })
  })

  it.each([
    ['30m', 30 * 60_000],
    ['12h', 12 * 3_600_000],
    ['4w', 4 * 604_800_000],
    ['7d', 7 * 86_400_000],
    ['90s', 90_000],
    ['-1', null],
  ])('JWT_EXPIRES_IN=%s → %s ms', (raw, expected) => {
    expect(loadConfig({ JWT_EXPIRES_IN: raw }).jwtExpiresInMs).toBe(expected)
  })

  it('WEBUI_SECRET_KEY, DEFAULT_USER_ROLE, PASSWORD_MIN_LENGTH, REDIS_URL, LOG_LEVEL', () => {
    const c = loadConfig({
      WEBUI_SECRET_KEY: 'k'.repeat(32),
      DEFAULT_USER_ROLE: 'user',
      PASSWORD_MIN_LENGTH: '12',
      REDIS_URL: 'redis://cache:6379/0',
      LOG_LEVEL: 'debug',
    })
    expect(c.secretKey).toBe('k'.repeat(32))
    expect(c.defaultUserRole).toBe('user')
    expect(c.passwordMinLength).toBe(12)
    expect(c.redisUrl).toBe('redis://cache:6379/0')
    expect(c.logLevel).toBe('debug')
    expect(loadConfig({ DEFAULT_USER_ROLE: 'admin' }).defaultUserRole).toBe('admin')
  })

  it('MODELS_CACHE_TTL, BODY_LIMIT_BYTES, SIGNIN_MAX_ATTEMPTS, SIGNIN_WINDOW_SECONDS', () => {
    const c = loadConfig({ MODELS_CACHE_TTL: '0', BODY_LIMIT_BYTES: '2048', SIGNIN_MAX_ATTEMPTS: '3', SIGNIN_WINDOW_SECONDS: '60' })
    expect(c.modelsCacheTtlSeconds).toBe(0)
    expect(c.bodyLimitBytes).toBe(2048)
    expect(c.signinRateLimit).toEqual({ maxAttempts: 3, windowMs: 60_000 })
  })
})

describe('loadConfig rejects bad values', () => {
  it('lists every bad variable by name in one ConfigError', () => {
    const error = configError({
      PORT: 'eighty',
      DATABASE_URL: 'mysql://db/mg',
      JWT_EXPIRES_IN: '4 weeks',
      DEFAULT_USER_ROLE: 'root',
      ENABLE_SIGNUP: 'maybe',
      MODELS_CACHE_TTL: '-5',
      WEBUI_SECRET_KEY: 'short',
      REDIS_URL: 'http://cache',
      LOG_LEVEL: 'loud',
      BODY_LIMIT_BYTES: '10',
      HOST: 'fine-host',
    })
    const named = (name: string) => error.problems.filter((p) => p.startsWith(`${name}:`))
    for (const name of [
      'PORT',
      'DATABASE_URL',
      'JWT_EXPIRES_IN',
      'DEFAULT_USER_ROLE',
      'ENABLE_SIGNUP',
      'MODELS_CACHE_TTL',
      'WEBUI_SECRET_KEY',
      'REDIS_URL',
      'LOG_LEVEL',
      'BODY_LIMIT_BYTES',
    ]) {
      expect(named(name), `problems should name ${name}: ${error.problems.join(' | ')}`).toHaveLength(1)
      expect(error.message).toContain(`${name}:`)
    }
    expect(error.problems).toHaveLength(10)
    expect(named('HOST')).toHaveLength(0)
    // The message quotes the bad values so the operator sees what was read.
    expect(error.message).toContain('"eighty"')
    expect(error.message).toContain('"maybe"')
    expect(error.message).toContain('"4 weeks"')
  })

  it.each([
    ['PORT', '65536'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['PORT', '1e3'],
    ['PORT', '0x50'],
    ['PORT', '80abc'],
    ['MODELS_CACHE_TTL', '1.5'],
    ['SIGNIN_MAX_ATTEMPTS', '0'],
    ['PASSWORD_MIN_LENGTH', '257'],
    ['ENABLE_SIGNUP', 'y'],
    ['BYPASS_ADMIN_ACCESS_CONTROL', '2'],
    ['USER_PERMISSIONS_WORKSPACE_MODELS_ACCESS', 'enabled'],
    ['JWT_EXPIRES_IN', '0m'],
    ['JWT_EXPIRES_IN', '10'],
    ['JWT_EXPIRES_IN', '5y'],
    ['JWT_EXPIRES_IN', '-2'],
    ['DATABASE_URL', 'sqlite://'],
    ['DATABASE_URL', './data/x.db'],
    ['DEFAULT_USER_ROLE', 'Admin'],
    ['HOST', '   '],
  ])('%s=%s is an error naming that variable', (name, value) => {
    const error = configError({ [name]: value })
    expect(error.problems).toHaveLength(1)
    expect(error.problems[0]).toMatch(new RegExp(`^${name}: `))
  })
})

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['45s', 45_000],
    ['30m', 1_800_000],
    ['12h', 43_200_000],
    ['2d', 172_800_000],
    ['4w', 2_419_200_000],
    [' 15m ', 900_000],
  ])('%s → %d ms', (raw, ms) => {
    expect(parseDuration(raw)).toBe(ms)
  })

  it('-1 means never (null)', () => {
    expect(parseDuration('-1')).toBeNull()
  })

  it.each(['', 'm', '0s', '1.5h', '10', '10 m', '10M', '-5m', 'forever', '1h30m'])('"%s" is not a duration', (raw) => {
    expect(parseDuration(raw)).toBeUndefined()
  })
})

describe('resolveSecretKey', () => {
  const dirs: string[] = []
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-key-'))
    dirs.push(dir)
    return dir
  }
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })

  it('generates a key file readable by its owner only, and returns the same key next time', () => {
    const dataDir = join(tempDir(), 'nested', 'data')
    const key = resolveSecretKey(null, dataDir)
    const file = join(dataDir, SECRET_KEY_FILE)
    expect(SECRET_KEY_FILE).toBe('.webui_secret_key')
    expect(key.length).toBeGreaterThanOrEqual(32)
    expect(readFileSync(file, 'utf8').trim()).toBe(key)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(resolveSecretKey(null, dataDir)).toBe(key)
  })

  it('generates a different key in another data dir', () => {
    expect(resolveSecretKey(null, tempDir())).not.toBe(resolveSecretKey(null, tempDir()))
  })

  it('uses a key already kept in the data dir', () => {
    const dataDir = tempDir()
    writeFileSync(join(dataDir, SECRET_KEY_FILE), 'kept-key-0123456789abcdef\n')
    expect(resolveSecretKey(null, dataDir)).toBe('kept-key-0123456789abcdef')
  })

  it('prefers the configured key and writes no file', () => {
    const dataDir = tempDir()
    writeFileSync(join(dataDir, SECRET_KEY_FILE), 'kept-key-0123456789abcdef\n')
    expect(resolveSecretKey('configured-key-0123456789', dataDir)).toBe('configured-key-0123456789')
    const fresh = join(tempDir(), 'fresh')
    expect(resolveSecretKey('configured-key-0123456789', fresh)).toBe('configured-key-0123456789')
    expect(existsSync(join(fresh, SECRET_KEY_FILE))).toBe(false)
  })
})

describe('PROFILE_IMAGE_HOSTS and SETTINGS_CHECK_INTERVAL_MS (issue #10, holes 9 and 11)', () => {
  it('defaults to no allowed image host and a 1 s settings check', () => {
    const config = loadConfig({})
    expect(config.profileImageHosts).toEqual([])
    expect(config.settingsCheckIntervalMs).toBe(1000)
  })

  it('takes comma-separated host names, lower-cased, IDN in ASCII form', () => {
    expect(loadConfig({ PROFILE_IMAGE_HOSTS: ' img.example.com,CDN.Example.org ,, bücher.example ' }).profileImageHosts).toEqual([
      'img.example.com',
      'cdn.example.org',
      'xn--bcher-kva.example',
    ])
    expect(loadConfig({ SETTINGS_CHECK_INTERVAL_MS: '0' }).settingsCheckIntervalMs).toBe(0)
  })

  it('refuses URLs, ports, paths and credentials in PROFILE_IMAGE_HOSTS, and a bad interval', () => {
    const error = configError({ PROFILE_IMAGE_HOSTS: 'https://a.example,b.example:8080,c.example/x,u@d.example', SETTINGS_CHECK_INTERVAL_MS: '1s' })
    expect(error.problems.filter((p) => p.startsWith('PROFILE_IMAGE_HOSTS'))).toHaveLength(4)
    expect(error.problems.some((p) => p.startsWith('SETTINGS_CHECK_INTERVAL_MS'))).toBe(true)
  })
})

describe('TRUST_PROXY', () => {
  it('trusts one proxy for true, never every hop (the first X-Forwarded-For entry is the client’s own)', () => {
    expect(loadConfig({}).trustProxy).toBe(false)
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false)
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(1)
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2)
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1' }).trustProxy).toBe('10.0.0.0/8,127.0.0.1,::1')
    for (const bad of ['maybe', '11', '10.0.0.0/33', 'example.com', '1.2.3.4/8/9']) {
      expect(configError({ TRUST_PROXY: bad }).message).toMatch(/TRUST_PROXY/)
    }
  })
})

describe('OpenID Connect variables (docs/sso.md)', () => {
  it('leaves single sign-on off without OPENID_PROVIDER_URL, and takes Open WebUI’s defaults with it', () => {
    expect(loadConfig({}).oidc).toBeNull()
    expect(loadConfig({}).enableLoginForm).toBe(true)
    const oidc = loadConfig({ OPENID_PROVIDER_URL: 'https://idp.example/realms/acme', OAUTH_CLIENT_ID: 'mg' }).oidc
    expect(oidc).toMatchObject({
      providerName: 'SSO',
      scopes: 'openid email profile',
      subClaim: 'sub',
      emailClaim: 'email',
      usernameClaim: 'name',
      pictureClaim: 'picture',
      rolesClaim: 'roles',
      allowedRoles: ['user', 'admin'],
      adminRoles: ['admin'],
      groupsClaim: 'groups',
      blockedGroups: [],
      allowedDomains: ['*'],
      enableSignup: false,
      mergeAccountsByEmail: false,
      clientSecret: null,
      redirectUri: null,
    })
  })

  it('reads lists, nested claim paths and blocked groups in both forms', () => {
    const env = { OPENID_PROVIDER_URL: 'https://idp.example', OAUTH_CLIENT_ID: 'mg', OAUTH_ROLES_CLAIM: 'realm_access.roles' }
    const json = loadConfig({
      ...env,
      OAUTH_BLOCKED_GROUPS: '["a", "b c"]',
      OAUTH_ALLOWED_DOMAINS: 'Acme.example, corp.example',
      OAUTH_ALLOWED_ROLES: 'staff, ,x',
    })
    expect(json.oidc).toMatchObject({
      rolesClaim: 'realm_access.roles',
      blockedGroups: ['a', 'b c'],
      allowedDomains: ['acme.example', 'corp.example'],
      allowedRoles: ['staff', 'x'],
    })
    expect(loadConfig({ ...env, OAUTH_BLOCKED_GROUPS: 'a, b' }).oidc?.blockedGroups).toEqual(['a', 'b'])
  })

  it('refuses an http provider on another host, a missing client id and malformed blocked groups, naming each variable', () => {
    const error = configError({ OPENID_PROVIDER_URL: 'http://idp.example', OAUTH_BLOCKED_GROUPS: '[1, 2]', OPENID_REDIRECT_URI: 'javascript:alert(1)' })
    expect(error.problems.join('\n')).toMatch(/OPENID_PROVIDER_URL/)
    expect(error.problems.join('\n')).toMatch(/OAUTH_CLIENT_ID/)
    expect(error.problems.join('\n')).toMatch(/OAUTH_BLOCKED_GROUPS/)
    expect(error.problems.join('\n')).toMatch(/OPENID_REDIRECT_URI/)
    // http is accepted on a loopback host only (a provider on the same machine).
    expect(loadConfig({ OPENID_PROVIDER_URL: 'http://127.0.0.1:9000', OAUTH_CLIENT_ID: 'mg' }).oidc?.providerUrl).toBe('http://127.0.0.1:9000')
    expect(configError({ ENABLE_LOGIN_FORM: 'maybe' }).message).toMatch(/ENABLE_LOGIN_FORM/)
  })
})
