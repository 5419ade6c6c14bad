/**
 * The one way the web workspace talks to the server: a small typed wrapper around fetch, one function
 * per endpoint. Every call sends the session token as `Authorization: Bearer`; every failure is thrown
 * as an {@link ApiError} carrying the server's `{detail, code}` (or a made-up one for network failures
 * and answers that are not JSON). Components never call fetch themselves.
 */

// ─── Shapes (the server's zod schemas, as the browser sees them) ───────────────────────────────────

export type Role = 'pending' | 'user' | 'admin'

export interface Permissions {
  workspace: { models: boolean; models_import: boolean; models_export: boolean }
  sharing: { models: boolean; public_models: boolean }
}

export interface SessionUser {
  id: string
  email: string
  name: string
  role: Role
  profile_image_url: string
  permissions: Permissions
}

export interface SessionResponse extends SessionUser {
  token: string
  token_type: 'Bearer'
  /** Epoch seconds; null when tokens never expire. */
  expires_at: number | null
}

export interface User {
  id: string
  name: string
  email: string
  role: Role
  profile_image_url: string
  created_at: number
  updated_at: number
}

export interface UserList {
  users: User[]
  total: number
}

export interface Group {
  id: string
  user_id: string | null
  name: string
  description: string
  /** Nested tree (`{workspace: {models: true}}`); unknown keys are kept by the server. */
  permissions: Record<string, unknown>
  user_ids: string[]
  member_count: number
  created_at: number
  updated_at: number
}

export type PrincipalType = 'user' | 'group'
export type GrantPermission = 'read' | 'write'

export interface GrantInput {
  principal_type: PrincipalType
  principal_id: string
  permission: GrantPermission
}

export interface Grant extends GrantInput {
  id: string
  resource_type: 'model'
  resource_id: string
  created_at: number
}

export interface PrincipalSet {
  group_ids: string[]
  user_ids: string[]
}
export type AccessControl = null | { read?: PrincipalSet; write?: PrincipalSet }

export interface Model {
  id: string
  user_id: string
  base_model_id: string | null
  name: string
  params: Record<string, unknown>
  meta: Record<string, unknown>
  access_control: AccessControl
  access_grants: Grant[]
  is_active: boolean
  created_at: number
  updated_at: number
}

export interface ModelWithAccess extends Model {
  user: Pick<User, 'id' | 'name' | 'email' | 'role'> | null
  write_access: boolean
}

export interface ModelList {
  items: ModelWithAccess[]
  total: number
}

/** The body of create and update (Open WebUI's ModelForm). */
export interface ModelForm {
  id: string
  base_model_id?: string | null
  name: string
  meta: Record<string, unknown>
  params: Record<string, unknown>
  access_grants?: GrantInput[]
  is_active?: boolean
}

export interface ImportReport {
  created: string[]
  updated: string[]
  skipped: { id: string; reason: string }[]
  warnings: { id: string; message: string }[]
}

/** A model whose id a provider serves while its owner is no admin: it never shadows the provider model. */
export interface ModelConflict {
  id: string
  name: string
  user_id: string
  owner: { id: string; name: string; email: string } | null
  connection_id: string | null
}

export type ModelOrderBy = 'name' | 'created_at' | 'updated_at'
export type Direction = 'asc' | 'desc'
export type ViewOption = '' | 'created' | 'shared'

export interface ModelListQuery {
  query?: string
  view_option?: ViewOption
  tag?: string
  order_by?: ModelOrderBy
  direction?: Direction
  page?: number
  limit?: number
}

/** One entry of the runtime list (`GET /api/models`): provider models and presets. */
export interface RuntimeModel {
  id: string
  name: string
  /** True (or an object) for presets; absent or false for base models served by a provider. */
  preset?: unknown
  owned_by?: string
  [key: string]: unknown
}

export type ConnectionKind = 'openai' | 'ollama'

export interface ConnectionStatus {
  ok: boolean | null
  stale: boolean
  model_count: number
  error: string | null
  /** Epoch seconds of the last successful or failed fetch; null before the first. */
  fetched_at: number | null
}

export interface Connection {
  id: string
  name: string
  kind: ConnectionKind
  base_url: string
  prefix_id: string | null
  enabled: boolean
  /** `env`: configured by environment variables at start; `api`: added here. */
  source: 'api' | 'env'
  key_hint: string | null
  created_at: number
  updated_at: number
  status: ConnectionStatus
}

export interface ConnectionCreate {
  name?: string
  kind: ConnectionKind
  base_url: string
  api_key?: string
  prefix_id?: string | null
  enabled?: boolean
}

export interface ConnectionUpdate {
  name?: string
  base_url?: string
  /** null removes the stored key; absent keeps it. */
  api_key?: string | null
  prefix_id?: string | null
  enabled?: boolean
}

export interface ConnectionTest {
  ok: boolean
  model_count: number
  models: string[]
  error: string | null
  latency_ms: number
}

export interface ConnectionModel {
  id: string
  name: string
  owned_by: string
}

// ─── Errors ────────────────────────────────────────────────────────────────────────────────────────

/** A failed call: the server's `{detail, code}` and the HTTP status (0 when the server was not reached). */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly detail: string

  constructor(status: number, code: string, detail: string) {
    super(detail)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.detail = detail
  }
}

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

type Query = Record<string, string | number | boolean | undefined | null>

interface RequestOptions {
  query?: Query
  body?: unknown
  /** How to read a successful answer. */
  as?: 'json' | 'blob'
}

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

async function errorFrom(response: Response): Promise<ApiError> {
  let detail = `${response.status} ${response.statusText}`.trim()
  let code = `HTTP_${response.status}`
  try {
    const body: unknown = await response.json()
    if (body && typeof body === 'object') {
      const record = body as Record<string, unknown>
      if (typeof record['detail'] === 'string') detail = record['detail']
      else if (record['detail'] !== undefined) detail = JSON.stringify(record['detail'])
      if (typeof record['code'] === 'string') code = record['code']
    }
  } catch {
    // Not JSON: keep the status line.
  }
  return new ApiError(response.status, code, detail)
}

async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const token = tokenStore.get()
  const headers: Record<string, string> = { accept: 'application/json' }
  if (token) headers['authorization'] = `Bearer ${token}`
  let body: string | undefined
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(options.body)
  }
  let response: Response
  try {
    response = await fetch(withQuery(path, options.query), { method, headers, body })
  } catch {
    throw new ApiError(0, 'NETWORK_ERROR', 'The server could not be reached. Check your connection and try again.')
  }
  if (!response.ok) {
    const error = await errorFrom(response)
    if (response.status === 401 && token) unauthorizedHandler?.()
    throw error
  }
  if (options.as === 'blob') return (await response.blob()) as T
  try {
    return (await response.json()) as T
  } catch {
    throw new ApiError(response.status, 'BAD_RESPONSE', `The server answered ${path} with something that is not JSON.`)
  }
}

const get = <T>(path: string, query?: Query) => request<T>('GET', path, { query })
const post = <T>(path: string, body?: unknown, query?: Query) => request<T>('POST', path, { body, query })
const del = <T>(path: string, query?: Query) => request<T>('DELETE', path, { query })
const seg = encodeURIComponent

// ─── Auth (/api/v1/auths) ──────────────────────────────────────────────────────────────────────────

export const signup = (input: { name: string; email: string; password: string }) => post<SessionResponse>('/api/v1/auths/signup', input)

export const signin = (input: { email: string; password: string }) => post<SessionResponse>('/api/v1/auths/signin', input)

/** The session user with resolved permissions (pending accounts too). */
export const getSessionUser = () => get<SessionUser>('/api/v1/auths/')

/** Admin: create an account directly (role defaults to user). */
export const addUser = (input: { name: string; email: string; password: string; role: Role }) => post<User>('/api/v1/auths/add', input)

// ─── Users (/api/v1/users, admin) ──────────────────────────────────────────────────────────────────

export const listUsers = (query: {
  query?: string
  role?: Role
  order_by?: 'name' | 'email' | 'created_at' | 'role'
  direction?: Direction
  page?: number
  limit?: number
}) => get<UserList>('/api/v1/users/', query)

export const getUser = (id: string) => get<User>(`/api/v1/users/${seg(id)}`)

export const updateUser = (id: string, patch: { role?: Role; name?: string; email?: string; password?: string }) =>
  post<User>(`/api/v1/users/${seg(id)}/update`, patch)

export const deleteUser = (id: string) => del<true>(`/api/v1/users/${seg(id)}`)

// ─── Groups (/api/v1/groups, admin) ────────────────────────────────────────────────────────────────

export const listGroups = () => get<Group[]>('/api/v1/groups/')

export const getGroup = (id: string) => get<Group>(`/api/v1/groups/id/${seg(id)}`)

export const createGroup = (input: { name: string; description?: string; permissions?: Record<string, unknown>; user_ids?: string[] }) =>
  post<Group>('/api/v1/groups/create', input)

/** Absent fields stay; `permissions` and `user_ids` replace the whole tree or list. */
export const updateGroup = (id: string, patch: { name?: string; description?: string; permissions?: Record<string, unknown>; user_ids?: string[] }) =>
  post<Group>(`/api/v1/groups/id/${seg(id)}/update`, patch)

export const addGroupMembers = (id: string, userIds: string[]) => post<Group>(`/api/v1/groups/id/${seg(id)}/users/add`, { user_ids: userIds })

export const removeGroupMembers = (id: string, userIds: string[]) => post<Group>(`/api/v1/groups/id/${seg(id)}/users/remove`, { user_ids: userIds })

export const deleteGroup = (id: string) => del<true>(`/api/v1/groups/id/${seg(id)}/delete`)

// ─── Models (/api/v1/models) ───────────────────────────────────────────────────────────────────────

export const listModels = (query: ModelListQuery) => get<ModelList>('/api/v1/models/list', { ...query })

export const getModelTags = () => get<string[]>('/api/v1/models/tags')

/** One model with its full meta (list items leave inline pictures out). */
export const getModel = (id: string) => get<ModelWithAccess>('/api/v1/models/model', { id })

export const createModel = (form: ModelForm) => post<Model>('/api/v1/models/create', form)

/** Fields left out keep their value; without an access form the grants are kept. */
export const updateModel = (form: Partial<ModelForm> & { id: string }) => post<Model>('/api/v1/models/model/update', form)

export const toggleModel = (id: string) => post<Model>('/api/v1/models/model/toggle', undefined, { id })

/** Replaces the model's grants. */
export const updateModelAccess = (id: string, grants: GrantInput[]) => post<Model>('/api/v1/models/model/access/update', { id, access_grants: grants })

export const deleteModel = (id: string) => post<true>('/api/v1/models/model/delete', { id })

/** Admin: models in conflict with a provider model id (docs/access-control.md, "Provider model ids"). */
export const listModelConflicts = () => get<{ items: ModelConflict[] }>('/api/v1/models/conflicts')

/** Every model the caller may write (admin: all), as the file `importModels` accepts. */
export const exportModels = () => request<Blob>('GET', '/api/v1/models/export', { as: 'blob' })

/** Sends an export file's content as is (`{models: [...]}` or a bare array). */
export const importModels = (file: unknown) => post<ImportReport>('/api/v1/models/import', file)

/**
 * The picture URL for `<img src>` (authenticated by the `token` cookie). `version` (updated_at) makes a
 * changed picture a new URL.
 */
export function modelImageUrl(id: string, version?: number): string {
  return withQuery('/api/v1/models/model/profile/image', { id, v: version })
}

// ─── Runtime model list (/api/models) ──────────────────────────────────────────────────────────────

/** Provider models and presets a chat UI may show; the editor offers the non-preset ones as base models. */
export const listRuntimeModels = () => get<{ data: RuntimeModel[] }>('/api/models')

// ─── Connections (/api/v1/connections, admin) ──────────────────────────────────────────────────────

export const listConnections = () => get<Connection[]>('/api/v1/connections/')

export const createConnection = (input: ConnectionCreate) => post<Connection>('/api/v1/connections/create', input)

export const updateConnection = (id: string, patch: ConnectionUpdate) => post<Connection>(`/api/v1/connections/id/${seg(id)}/update`, patch)

export const deleteConnection = (id: string) => del<true>(`/api/v1/connections/id/${seg(id)}/delete`)

export const testConnection = (id: string) => post<ConnectionTest>(`/api/v1/connections/id/${seg(id)}/test`)

/** Polls every connection now and answers the fresh statuses. */
export const refreshConnections = () => post<Connection[]>('/api/v1/connections/refresh')

export const listConnectionModels = (id: string) => get<ConnectionModel[]>(`/api/v1/connections/id/${seg(id)}/models`)
