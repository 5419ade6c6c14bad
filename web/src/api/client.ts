/**
 * The one way the web workspace talks to the server: one function per endpoint over the typed client of
 * `@modelgate/sdk` (whose types are generated from openapi.json). Every call sends the session token as
 * `Authorization: Bearer`; every failure is thrown as an {@link ApiError} (a subclass by meaning) carrying
 * the server's `{detail, code, errors}` (or a made-up one for network failures and answers that are not
 * JSON). Components never call fetch themselves.
 */
import {
  ApiError,
  UnauthorizedError,
  createModelgate,
  errorFromAnswer,
  type GrantInput,
  type ModelListQuery,
  type Role,
  type UserListQuery,
} from '@modelgate/sdk'
import type * as Api from '@modelgate/sdk'

// ─── Shapes (the generated types of openapi.json, as the browser sees them) ────────────────────────

export type { ApiKeyInfo, FieldError, GrantInput, ModelListQuery, Role } from '@modelgate/sdk'
export type Permissions = Api.Permissions
export type SessionUser = Api.SessionUser
export type SessionResponse = Api.SessionResponse
export type User = Api.User
export type UserList = Api.UserList
export type Group = Api.Group
export type PrincipalType = GrantInput['principal_type']
export type GrantPermission = GrantInput['permission']
export type Grant = Api.Grant
export type AccessControl = Api.AccessControl
export type PrincipalSet = NonNullable<NonNullable<AccessControl>['read']>

/** The caller's abilities on a model, decided by the server (src/access): show actions by them. */
export type ModelAbilities = Api.ModelWithAccess['can']
export type Model = Api.Model
export type ModelWithAccess = Api.ModelWithAccess
export type ModelList = Api.ModelList
/** The body of create and update (Open WebUI's ModelForm). */
export type ModelForm = Api.ModelForm
export type ImportReport = Api.ImportReport
/** A model whose id a provider serves while its owner is no admin: it never shadows the provider model. */
export type ModelConflict = Api.ModelConflict
export type ModelOrderBy = NonNullable<ModelListQuery['order_by']>
export type Direction = NonNullable<ModelListQuery['direction']>
export type ViewOption = NonNullable<ModelListQuery['view_option']>

/** One entry of the runtime list (`GET /api/models`): provider models and presets. */
export type RuntimeModel = Api.RuntimeModel

export type Connection = Api.Connection
export type ConnectionKind = Connection['kind']
export type ConnectionStatus = Connection['status']
export type ConnectionCreate = Api.ConnectionCreate
export type ConnectionUpdate = Api.ConnectionUpdate
export type ConnectionTest = Api.ConnectionTest
export type ConnectionModel = Api.ConnectionModel

// ─── Errors ────────────────────────────────────────────────────────────────────────────────────────

/** A failed call: the server's `{detail, code, errors}` and the HTTP status (0 when the server was not reached). */
export { ApiError }

/** `{detail, code}` of anything thrown, for display. */
export function describeError(error: unknown): { detail: string; code: string } {
  if (error instanceof ApiError) return { detail: error.detail, code: error.code }
  if (error instanceof Error) return { detail: error.message, code: 'CLIENT_ERROR' }
  return { detail: String(error), code: 'CLIENT_ERROR' }
}

// ─── Credentials ───────────────────────────────────────────────────────────────────────────────────

const TOKEN_KEY = 'token'

/**
 * The session token lives in localStorage (as in Open WebUI). A copy goes into a `token` cookie because
 * `<img src>` cannot send a header: the profile-image route is the only one that reads that cookie.
 */
export const tokenStore = {
  get(): string | null {
    try {
      return localStorage.getItem(TOKEN_KEY)
    } catch {
      return null
    }
  },
  set(token: string): void {
    localStorage.setItem(TOKEN_KEY, token)
    tokenStore.syncCookie()
  },
  clear(): void {
    localStorage.removeItem(TOKEN_KEY)
    document.cookie = 'token=; path=/; max-age=0; SameSite=Strict'
  },
  /** Re-creates the cookie from localStorage (a session cookie does not survive a browser restart). */
  syncCookie(): void {
    const token = tokenStore.get()
    if (token) document.cookie = `token=${encodeURIComponent(token)}; path=/; SameSite=Strict`
  },
}

let unauthorizedHandler: (() => void) | null = null

/** Called when a request that carried a token is refused with 401 (expired token, deleted account). */
export function onUnauthorized(handler: (() => void) | null): void {
  unauthorizedHandler = handler
}

// ─── Transport ─────────────────────────────────────────────────────────────────────────────────────

const sdk = createModelgate({
  baseUrl: window.location.origin,
  // Read on every call; the session (lib/session.tsx) decides when a token is kept or dropped.
  token: { get: () => tokenStore.get(), set: () => undefined },
  onUnauthorized: () => unauthorizedHandler?.(),
})

type Query = Record<string, string | number | boolean | undefined | null>

function withQuery(path: string, query: Query | undefined): string {
  if (!query) return path
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    // Only meaningful values travel, as Open WebUI's client does.
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value))
  }
  const text = params.toString()
  return text ? `${path}?${text}` : path
}

/** The data of a 2xx answer of a raw (openapi-fetch) call, or the typed exception the sdk throws for any other. */
async function answer<T>(pending: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await pending
  if (response.ok) return data as T
  const failure = errorFromAnswer(response.status, response.statusText, error, response.headers)
  if (failure instanceof UnauthorizedError && tokenStore.get()) unauthorizedHandler?.()
  throw failure
}

/** `If-Match` naming the model version the caller last read (its ETag is the version in quotes). */
const ifMatchHeader = (version: number) => ({ 'if-match': `"${version}"` })

/**
 * The model's current version when `error` is a 412 PRECONDITION_FAILED (someone changed it since it was
 * read); undefined for any other failure.
 */
export function currentVersionOf(error: unknown): number | undefined {
  if (!(error instanceof ApiError) || error.status !== 412) return undefined
  const body = error.body as { current_version?: unknown } | undefined
  return typeof body?.current_version === 'number' ? body.current_version : undefined
}

// ─── Auth (/api/v1/auths) ──────────────────────────────────────────────────────────────────────────

export const signup = (input: { name: string; email: string; password: string }) => sdk.auth.signUp(input)

export const signin = (input: { email: string; password: string }) => sdk.auth.signIn(input)

/** The session user with resolved permissions (pending accounts too). */
export const getSessionUser = () => sdk.auth.me()

/** Admin: create an account directly (role defaults to user). */
export const addUser = (input: { name: string; email: string; password: string; role: Role }): Promise<User> => sdk.auth.addUser(input)

// ─── Users (/api/v1/users, admin) ──────────────────────────────────────────────────────────────────

export const listUsers = (query: UserListQuery) => sdk.users.list(query)

export const getUser = (id: string) => sdk.users.get(id)

export const updateUser = (id: string, patch: { role?: Role; name?: string; email?: string; password?: string }) => sdk.users.update(id, patch)

export const deleteUser = (id: string) => sdk.users.delete(id)

// ─── Groups (/api/v1/groups, admin) ────────────────────────────────────────────────────────────────

export const listGroups = () => sdk.groups.list()

export const getGroup = (id: string) => sdk.groups.get(id)

export const createGroup = (input: { name: string; description?: string; permissions?: Record<string, unknown>; user_ids?: string[] }) =>
  sdk.groups.create(input)

/** Absent fields stay; `permissions` and `user_ids` replace the whole tree or list. */
export const updateGroup = (id: string, patch: { name?: string; description?: string; permissions?: Record<string, unknown>; user_ids?: string[] }) =>
  sdk.groups.update(id, patch)

export const addGroupMembers = (id: string, userIds: string[]) => sdk.groups.addMembers(id, userIds)

export const removeGroupMembers = (id: string, userIds: string[]) => sdk.groups.removeMembers(id, userIds)

export const deleteGroup = (id: string) => sdk.groups.delete(id)

// ─── Models (/api/v1/models) ───────────────────────────────────────────────────────────────────────

export const listModels = (query: ModelListQuery): Promise<ModelList> => sdk.models.list({ ...query })

export const getModelTags = () => sdk.models.tags()

/** One model with its full meta (list items leave inline pictures out). */
export const getModel = (id: string): Promise<ModelWithAccess> => sdk.models.get(id)

export const createModel = (form: ModelForm): Promise<Model> => sdk.models.create(form)

/** Fields left out keep their value; without an access form the grants are kept. */
export const updateModel = (form: Partial<ModelForm> & { id: string }, ifMatch?: number): Promise<Model> =>
  ifMatch === undefined ? sdk.models.update(form) : answer(sdk.raw.POST('/api/v1/models/model/update', { body: form, headers: ifMatchHeader(ifMatch) }))

export const toggleModel = (id: string, ifMatch?: number): Promise<Model> =>
  ifMatch === undefined
    ? sdk.models.toggle(id)
    : answer(sdk.raw.POST('/api/v1/models/model/toggle', { params: { query: { id } }, headers: ifMatchHeader(ifMatch) }))

/** Replaces the model's grants. */
export const updateModelAccess = (id: string, grants: GrantInput[], ifMatch?: number): Promise<Model> =>
  ifMatch === undefined
    ? sdk.models.updateAccess(id, grants)
    : answer(sdk.raw.POST('/api/v1/models/model/access/update', { body: { id, access_grants: grants }, headers: ifMatchHeader(ifMatch) }))

export const deleteModel = (id: string, ifMatch?: number) =>
  ifMatch === undefined ? sdk.models.delete(id) : answer(sdk.raw.POST('/api/v1/models/model/delete', { body: { id }, headers: ifMatchHeader(ifMatch) }))

/** Admin: models in conflict with a provider model id (docs/access-control.md, "Provider model ids"). */
export const listModelConflicts = () => sdk.models.conflicts()

/** Admin: every provider model with its connection, override row and status (GET /base/list, issue #16 item 4). */
export type BaseModels = Api.ResponseOf<'/api/v1/models/base/list', 'get'>
export type BaseModel = BaseModels['items'][number]
export type BaseModelsQuery = Api.QueryOf<'/api/v1/models/base/list', 'get'>
export const listBaseModels = (query: BaseModelsQuery): Promise<BaseModels> => answer(sdk.raw.GET('/api/v1/models/base/list', { params: { query } }))

/** Every model the caller may write (admin: all), as the file `importModels` accepts. */
export const exportModels = () => sdk.models.exportBlob()

/** Sends an export file's content as is (`{models: [...]}` or a bare array). */
export const importModels = (file: unknown) => sdk.models.import(file)

/**
 * The picture URL for `<img src>` (authenticated by the `token` cookie). `version` (updated_at) makes a
 * changed picture a new URL.
 */
export function modelImageUrl(id: string, version?: number): string {
  return withQuery('/api/v1/models/model/profile/image', { id, v: version })
}

// ─── Runtime model list (/api/models) ──────────────────────────────────────────────────────────────

/** Provider models and presets a chat UI may show; the editor offers the non-preset ones as base models. */
export const listRuntimeModels = () => sdk.models.runtime()

// ─── Connections (/api/v1/connections, admin) ──────────────────────────────────────────────────────

export const listConnections = () => sdk.connections.list()

export const createConnection = (input: ConnectionCreate) => sdk.connections.create(input)

export const updateConnection = (id: string, patch: ConnectionUpdate) => sdk.connections.update(id, patch)

export const deleteConnection = (id: string) => sdk.connections.delete(id)

export const testConnection = (id: string) => sdk.connections.test(id)

/** Polls every connection now and answers the fresh statuses. */
export const refreshConnections = () => sdk.connections.refresh()

export const listConnectionModels = (id: string) => sdk.connections.models(id)

// ─── History, trash and audit (issue #12) ──────────────────────────────────────────────────────────

/** One recorded version of a model (`created_at` in epoch seconds, like the models). */
export type HistoryPage = Api.ResponseOf<'/api/v1/models/model/history', 'get'>
export type HistoryItem = HistoryPage['items'][number]
/** A version with its snapshot (`access_grants` null for readers who may not write the model). */
export type HistoryVersion = Api.ResponseOf<'/api/v1/models/model/history/version', 'get'>
export type ModelSnapshot = HistoryVersion['snapshot']
export type VersionDiff = Api.ResponseOf<'/api/v1/models/model/history/diff', 'get'>
/** Dotted path (`name`, `params.temperature`, `access_grants.group:<id>:read`), op, old and new value. */
export type VersionChange = VersionDiff['changes'][number]
export type TrashPage = Api.ResponseOf<'/api/v1/models/trash', 'get'>
export type TrashItem = TrashPage['items'][number]
export type AuditPage = Api.ResponseOf<'/api/v1/audit', 'get'>
export type AuditEntry = AuditPage['items'][number]
/** Filters of the audit log: `action` exact or a prefix with `.*` (`model.*`); `since`/`until` epoch ms. */
export type AuditFilters = Api.QueryOf<'/api/v1/audit/export', 'get'>

/** A model's versions, newest first (`limit` at most 100). */
export const listModelHistory = (id: string, page = 1, limit = 50): Promise<HistoryPage> =>
  answer(sdk.raw.GET('/api/v1/models/model/history', { params: { query: { id, page, limit } } }))

/** One version with its snapshot. */
export const getModelVersion = (id: string, version: number): Promise<HistoryVersion> =>
  answer(sdk.raw.GET('/api/v1/models/model/history/version', { params: { query: { id, version } } }))

/** What changed from version `from` to version `to`. */
export const diffModelVersions = (id: string, from: number, to: number): Promise<VersionDiff> =>
  answer(sdk.raw.GET('/api/v1/models/model/history/diff', { params: { query: { id, from, to } } }))

/**
 * Restores a version as a new one (a deleted model: its last version by default). `ifMatch` names the live
 * version the caller saw (412 if it changed since).
 */
export const restoreModelVersion = (id: string, version?: number, ifMatch?: number): Promise<Model> =>
  answer(
    sdk.raw.POST('/api/v1/models/model/history/restore', {
      body: version === undefined ? { id } : { id, version },
      ...(ifMatch !== undefined && { headers: ifMatchHeader(ifMatch) }),
    }),
  )

/** Deleted models the caller may restore (admins: all; others: the ones they owned). */
export const listTrash = (page = 1, limit = 50): Promise<TrashPage> => answer(sdk.raw.GET('/api/v1/models/trash', { params: { query: { page, limit } } }))

/** Admin: the audit log, newest first, one page per cursor. */
export const listAudit = (filters: AuditFilters, cursor?: string, limit = 50): Promise<AuditPage> =>
  answer(sdk.raw.GET('/api/v1/audit', { params: { query: { ...filters, cursor, limit } } }))

/** Admin: every entry the filters select, oldest first, as NDJSON (one entry per line), for a download. */
export const exportAudit = async (filters: AuditFilters): Promise<Blob> => {
  const data: unknown = await answer(
    sdk.raw.GET('/api/v1/audit/export', { params: { query: filters }, parseAs: 'blob', headers: { accept: 'application/x-ndjson' } }),
  )
  return data as Blob
}

// ─── Usage analytics (issue #17, docs/analytics.md) ─────────────────────────────────────────────────

/** Range (`start_date`/`end_date`, epoch seconds) and, for admins, `group_id` or `user_id`; others read their own usage. */
export type AnalyticsFilters = Api.QueryOf<'/api/v1/analytics/summary', 'get'>
export type AnalyticsSummary = Api.ResponseOf<'/api/v1/analytics/summary', 'get'>
export type AnalyticsModels = Api.ResponseOf<'/api/v1/analytics/models', 'get'>
export type AnalyticsUsers = Api.ResponseOf<'/api/v1/analytics/users', 'get'>
export type AnalyticsGroups = Api.ResponseOf<'/api/v1/analytics/groups', 'get'>
export type AnalyticsDaily = Api.ResponseOf<'/api/v1/analytics/daily', 'get'>
export type Granularity = NonNullable<Api.QueryOf<'/api/v1/analytics/daily', 'get'>['granularity']>

export const getAnalyticsSummary = (filters: AnalyticsFilters): Promise<AnalyticsSummary> =>
  answer(sdk.raw.GET('/api/v1/analytics/summary', { params: { query: filters } }))
export const getAnalyticsModels = (filters: AnalyticsFilters): Promise<AnalyticsModels> =>
  answer(sdk.raw.GET('/api/v1/analytics/models', { params: { query: filters } }))
export const getAnalyticsUsers = (filters: AnalyticsFilters, limit = 10): Promise<AnalyticsUsers> =>
  answer(sdk.raw.GET('/api/v1/analytics/users', { params: { query: { ...filters, limit } } }))
export const getAnalyticsGroups = (filters: AnalyticsFilters, limit = 10): Promise<AnalyticsGroups> =>
  answer(sdk.raw.GET('/api/v1/analytics/groups', { params: { query: { ...filters, limit } } }))
export const getAnalyticsDaily = (filters: AnalyticsFilters, granularity: Granularity): Promise<AnalyticsDaily> =>
  answer(sdk.raw.GET('/api/v1/analytics/daily', { params: { query: { ...filters, granularity } } }))

// ─── Single sign-on (issue #15, docs/sso.md) ──────────────────────────────────────────────────────

/** What the sign-in page reads before anybody signs in: the providers (`oauth.providers`) and the sign-in features. */
export type PublicConfig = Api.ResponseOf<'/api/config', 'get'>
/** Admin: the effective single sign-on configuration, variable by variable (secrets masked by the server). */
export type SsoConfig = Api.ResponseOf<'/api/v1/sso/config', 'get'>

export const getPublicConfig = (): Promise<PublicConfig> => answer(sdk.raw.GET('/api/config'))
export const getSsoConfig = (): Promise<SsoConfig> => answer(sdk.raw.GET('/api/v1/sso/config'))

// ─── Governance (issue #13): who can see a model, bulk access ──────────────────────────────────────

/** Why one user may or may not read, write and share a model (`reasons` as `{kind, …}` facts). */
export type AccessExplanation = Api.ResponseOf<'/api/v1/models/model/access/explain', 'get'>
export type AccessReason = AccessExplanation['read']['reasons'][number]
/** Everyone who can read a model, with write and why, one page. */
export type EffectiveAccess = Api.ResponseOf<'/api/v1/models/model/access/effective', 'get'>
export type EffectiveEntry = EffectiveAccess['items'][number]

/** Admins and the model's writers: why `userId` may or may not use the model. */
export const explainModelAccess = (id: string, userId: string): Promise<AccessExplanation> => sdk.models.explainAccess(id, userId)

/** Admins and the model's writers: everyone who can read the model, paged (`limit` at most 200). */
export const getEffectiveAccess = (id: string, page = 1, limit = 50): Promise<EffectiveAccess> => sdk.models.effectiveAccess(id, { page, limit })

/** `POST /api/v1/models/access/bulk` (issue #13 part 2): `model_ids` or `filter`, grants to add and remove, `dry_run`. */
export type BulkAccessBody = Api.BodyOf<'/api/v1/models/access/bulk', 'post'>
/** What changed (or, in a dry run, would change), what already had the grants, and what was refused and why. */
export type BulkAccessReport = Api.ResponseOf<'/api/v1/models/access/bulk', 'post'>
/** One grant added or removed on one model: the history diff's path (`access_grants.group:<id>:read`). */
export type BulkChange = BulkAccessReport['changed'][number]['changes'][number]

/** Adds and removes grants on many models at once; `dry_run` answers the plan without changing anything. */
export const bulkModelAccess = (body: BulkAccessBody): Promise<BulkAccessReport> => answer(sdk.raw.POST('/api/v1/models/access/bulk', { body }))

// ─── Configuration templates (issue #13 part 1, docs/templates.md) ────────────────────────────────

/** A template: its sections (null = not held), the access it applies, its own sharing, `write_access`. */
export type Template = Api.Template
export type TemplateList = Api.TemplateList
export type TemplateListQuery = Api.TemplateListQuery
export type TemplateCreate = Api.TemplateCreate
export type TemplateUpdate = Api.TemplateUpdate
/** `model_ids` or `filter` (query, tag, base_model_id, user_id), `mode` merge or replace, `dry_run`. */
export type TemplateApplyBody = Api.TemplateApplyBody
/** What changed (with the version each change recorded; null in a dry run), what did not, what was refused. */
export type TemplateApplyReport = Api.TemplateApplyReport
/** The models linked to a template, each `drifted` with the changes an apply (merge) would make. */
export type TemplateModels = Api.TemplateModels

export const listTemplates = (query: TemplateListQuery): Promise<TemplateList> => sdk.templates.list(query)

export const getTemplate = (id: string): Promise<Template> => sdk.templates.get(id)

/** Needs workspace.templates; `from_model_id` starts from a model the caller may read. */
export const createTemplate = (body: TemplateCreate): Promise<Template> => sdk.templates.create(body)

/** Fields left out keep their value; null removes a section. */
export const updateTemplate = (body: TemplateUpdate): Promise<Template> => sdk.templates.update(body)

export const deleteTemplate = (id: string) => sdk.templates.delete(id)

export const listTemplateModels = (id: string, page = 1, limit = 30): Promise<TemplateModels> => sdk.templates.models(id, { page, limit })

/** Applies a template to models; `dry_run` answers the same report without writing. */
export const applyTemplate = (body: TemplateApplyBody): Promise<TemplateApplyReport> => sdk.templates.apply(body)

// ─── Model configuration (/api/v1/configs/models, admin; docs/compat.md "Model configuration") ───────

export const getModelsConfig = () => answer(sdk.raw.GET('/api/v1/configs/models'))
export type ModelsConfig = Awaited<ReturnType<typeof getModelsConfig>>
/** Saves the five keys (each left out keeps its value; null clears it). */
export const setModelsConfig = (config: ModelsConfig) => answer(sdk.raw.POST('/api/v1/configs/models', { body: config as never }))

// ─── Your account (issue #16 item 1; docs/auth.md) ───────────────────────────────────────────────

/** The API key as shown once, at creation (`api_key`), with its hint and dates. */
export type ApiKeyCreated = Api.ResponseOf<'/api/v1/auths/api_key', 'post'>
export type ApiKeyDescription = Api.ResponseOf<'/api/v1/auths/api_key', 'get'>

/** Your own name and picture (a data: URI, or '' for the default picture). */
export const updateOwnProfile = (patch: { name?: string; profile_image_url?: string }): Promise<User> =>
  answer(sdk.raw.POST('/api/v1/auths/update/profile', { body: patch }))

/** Changes your password; the server revokes your other sessions and answers a fresh token for this one. */
export const changeOwnPassword = (current: string, next: string): Promise<SessionResponse> =>
  answer(sdk.raw.POST('/api/v1/auths/update/password', { body: { password: current, new_password: next } }))

/** Your API key's hint and dates, or null when you have none (the server answers 404). */
export async function getOwnApiKey(): Promise<ApiKeyDescription | null> {
  try {
    return await answer(sdk.raw.GET('/api/v1/auths/api_key'))
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null
    throw error
  }
}

/** Creates your API key, replacing the one you had (one key per account, as in Open WebUI). */
export const createOwnApiKey = (): Promise<ApiKeyCreated> => answer(sdk.raw.POST('/api/v1/auths/api_key'))

export const deleteOwnApiKey = () => answer(sdk.raw.DELETE('/api/v1/auths/api_key'))

/** `{DEFAULT_MODEL_METADATA, DEFAULT_MODEL_PARAMS}`: what a new preset starts from (docs/compat.md). */
export const getModelDefaults = () => answer(sdk.raw.GET('/api/v1/configs/models/defaults'))
export type ModelDefaults = Awaited<ReturnType<typeof getModelDefaults>>

// ─── Try it (issue #16 item 2; POST /api/v1/models/model/try) ──────────────────────────────────────

export type TryBody = Api.BodyOf<'/api/v1/models/model/try', 'post'>

/**
 * Starts a try and answers the raw event stream (server-sent events, parsed by pages/try-it/stream.ts).
 * A refusal before the stream (404, 403, 400, a provider failure) is thrown as the API's error.
 */
export async function startTry(body: TryBody, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
  const token = tokenStore.get()
  let response: Response
  try {
    response = await fetch('/api/v1/models/model/try', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(token && { authorization: `Bearer ${token}` }) },
      body: JSON.stringify(body),
      signal,
    })
  } catch (error) {
    if (signal.aborted) throw error
    throw new ApiError(0, 'NETWORK_ERROR', 'The server could not be reached.')
  }
  if (!response.ok || !response.body) {
    let parsed: unknown
    try {
      parsed = await response.json()
    } catch {
      parsed = undefined
    }
    const failure = errorFromAnswer(response.status, response.statusText, parsed, response.headers)
    if (failure instanceof UnauthorizedError && tokenStore.get()) unauthorizedHandler?.()
    throw failure
  }
  return response.body
}
