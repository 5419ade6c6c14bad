/**
 * Names for the shapes of the generated `paths` (src/generated/api.ts, from openapi.json): every type
 * here is derived from a route's request or answer, never written by hand, so a change to a zod schema
 * reaches the clients through `npm run openapi` alone.
 */
import type { components, paths } from './generated/api.js'

export type { paths, components } from './generated/api.js'

/** The named schemas of openapi.json (`Schemas['ModelForm']`); the names below follow the routes instead. */
export type Schemas = components['schemas']

export type HttpMethod = 'get' | 'post' | 'put' | 'delete' | 'patch'

/** The operation of a path and method (never when the path has no such method). */
export type Operation<P extends keyof paths, M extends HttpMethod> = paths[P] extends Record<M, infer O> ? O : never

/** The JSON of a route's success answer (200, else 2XX; `Fallback` when the route does not describe one). */
export type ResponseOf<P extends keyof paths, M extends HttpMethod, Fallback = unknown> =
  Operation<P, M> extends { responses: { 200: { content: { 'application/json': infer T } } } }
    ? T
    : Operation<P, M> extends { responses: { '2XX': { content: { 'application/json': infer T } } } }
      ? unknown extends T
        ? Fallback
        : T
      : Fallback

/** The JSON body a route takes. */
export type BodyOf<P extends keyof paths, M extends HttpMethod> =
  Operation<P, M> extends { requestBody?: { content: { 'application/json': infer T } } } ? T : never

/** The query parameters a route takes. */
export type QueryOf<P extends keyof paths, M extends HttpMethod> = Operation<P, M> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never

// ─── Accounts ──────────────────────────────────────────────────────────────────────────────────────

export type SessionResponse = ResponseOf<'/api/v1/auths/signin', 'post'>
export type SessionUser = ResponseOf<'/api/v1/auths/', 'get'>
export type Role = SessionUser['role']
export type Permissions = SessionUser['permissions']
export type SignInBody = BodyOf<'/api/v1/auths/signin', 'post'>
export type SignUpBody = BodyOf<'/api/v1/auths/signup', 'post'>
export type NewUser = BodyOf<'/api/v1/auths/add', 'post'>
export type PasswordChange = BodyOf<'/api/v1/auths/update/password', 'post'>
export type ApiKeyInfo = ResponseOf<'/api/v1/auths/api_key', 'get'>
export type NewApiKey = ResponseOf<'/api/v1/auths/api_key', 'post'>

export type User = ResponseOf<'/api/v1/users/{id}', 'get'>
export type UserList = ResponseOf<'/api/v1/users/', 'get'>
export type UserListQuery = QueryOf<'/api/v1/users/', 'get'>
export type UserUpdate = BodyOf<'/api/v1/users/{id}/update', 'post'>
export type UserWithGroups = ResponseOf<'/api/v1/users/{id}/info', 'get'>
export type UserSearchQuery = QueryOf<'/api/v1/users/search', 'get'>
export type UserSearchResult = ResponseOf<'/api/v1/users/search', 'get'>
export type ProfileUpdate = BodyOf<'/api/v1/auths/update/profile', 'post'>
export type AdminConfig = ResponseOf<'/api/v1/auths/admin/config', 'get'>
export type AdminConfigUpdate = BodyOf<'/api/v1/auths/admin/config', 'post'>
export type DefaultPermissions = ResponseOf<'/api/v1/users/default/permissions', 'get'>
export type DefaultPermissionsUpdate = BodyOf<'/api/v1/users/default/permissions', 'post'>

export type Group = ResponseOf<'/api/v1/groups/id/{id}', 'get'>
export type GroupCreate = BodyOf<'/api/v1/groups/create', 'post'>
export type GroupUpdate = BodyOf<'/api/v1/groups/id/{id}/update', 'post'>
export type GroupInfo = ResponseOf<'/api/v1/groups/id/{id}/info', 'get'>

// ─── Models ────────────────────────────────────────────────────────────────────────────────────────

/** A model as writes answer it. */
export type Model = ResponseOf<'/api/v1/models/create', 'post'>
/** A model as reads answer it: with its owner and the caller's access. */
export type ModelWithAccess = ResponseOf<'/api/v1/models/model', 'get'>
export type ModelList = ResponseOf<'/api/v1/models/list', 'get'>
export type ModelListQuery = QueryOf<'/api/v1/models/list', 'get'>
/** The body of create (Open WebUI's ModelForm). */
export type ModelForm = BodyOf<'/api/v1/models/create', 'post'>
/** The body of update: fields left out keep their value. */
export type ModelUpdate = BodyOf<'/api/v1/models/model/update', 'post'>
export type ModelAccessUpdate = BodyOf<'/api/v1/models/model/access/update', 'post'>
export type Grant = Model['access_grants'][number]
export type GrantInput = NonNullable<ModelForm['access_grants']>[number]
export type AccessControl = Model['access_control']
export type ImportReport = ResponseOf<'/api/v1/models/import', 'post'>
export type ImportQuery = QueryOf<'/api/v1/models/import', 'post'>
export type SyncBody = BodyOf<'/api/v1/models/sync', 'post'>
export type SyncPlan = ResponseOf<'/api/v1/models/sync', 'post'>
export type ModelConflict = ResponseOf<'/api/v1/models/conflicts', 'get'>['items'][number]
/** One entry of the runtime list (`GET /api/models`): provider models and presets. */
export type RuntimeModel = ResponseOf<'/api/models', 'get'>['data'][number]

// ─── History, audit, access explanations ────────────────────────────────────────────────────────────

export type HistoryPage = ResponseOf<'/api/v1/models/model/history', 'get'>
export type HistoryQuery = QueryOf<'/api/v1/models/model/history', 'get'>
export type HistoryItem = HistoryPage['items'][number]
export type VersionDetail = ResponseOf<'/api/v1/models/model/history/version', 'get'>
export type ModelSnapshot = VersionDetail['snapshot']
export type ModelDiff = ResponseOf<'/api/v1/models/model/history/diff', 'get'>
export type TrashPage = ResponseOf<'/api/v1/models/trash', 'get'>
export type PruneBody = BodyOf<'/api/v1/models/history/prune', 'post'>
export type AuditPage = ResponseOf<'/api/v1/audit', 'get'>
export type AuditQuery = QueryOf<'/api/v1/audit', 'get'>
export type AuditEntry = AuditPage['items'][number]
export type AccessExplanation = ResponseOf<'/api/v1/models/model/access/explain', 'get'>
export type AccessReason = AccessExplanation['read']['reasons'][number]
export type EffectiveAccess = ResponseOf<'/api/v1/models/model/access/effective', 'get'>

// ─── Configuration templates (docs/templates.md) ─────────────────────────────────────────────────────

export type Template = ResponseOf<'/api/v1/templates/template', 'get'>
export type TemplateList = ResponseOf<'/api/v1/templates/list', 'get'>
export type TemplateListQuery = QueryOf<'/api/v1/templates/list', 'get'>
export type TemplateCreate = BodyOf<'/api/v1/templates/create', 'post'>
export type TemplateUpdate = BodyOf<'/api/v1/templates/template/update', 'post'>
export type TemplateApplyBody = BodyOf<'/api/v1/templates/template/apply', 'post'>
export type TemplateApplyReport = ResponseOf<'/api/v1/templates/template/apply', 'post'>
export type TemplateModels = ResponseOf<'/api/v1/templates/template/models', 'get'>

// ─── Connections ───────────────────────────────────────────────────────────────────────────────────

export type Connection = ResponseOf<'/api/v1/connections/create', 'post'>
export type ConnectionCreate = BodyOf<'/api/v1/connections/create', 'post'>
export type ConnectionUpdate = BodyOf<'/api/v1/connections/id/{id}/update', 'post'>
export type ConnectionTest = ResponseOf<'/api/v1/connections/id/{id}/test', 'post'>
export type ConnectionModel = ResponseOf<'/api/v1/connections/id/{id}/models', 'get'>[number]

// ─── Chat ──────────────────────────────────────────────────────────────────────────────────────────

export type ChatCompletionRequest = BodyOf<'/v1/chat/completions', 'post'>

/**
 * The least of an OpenAI chat answer that a client reads. The relay passes the provider's answer on as
 * it came, so openapi.json describes it only as far as the route's schema does; this is the fallback.
 */
interface ChatCompletionFallback {
  id?: string
  object?: string
  model?: string
  choices: { index: number; message: { role: string; content: string | null }; finish_reason?: string | null }[]
  [key: string]: unknown
}
export type ChatCompletion = ResponseOf<'/v1/chat/completions', 'post', ChatCompletionFallback>

/** One `data:` chunk of a streamed chat answer (SSE is outside what openapi.json describes). */
export interface ChatCompletionChunk {
  id?: string
  object?: string
  model?: string
  choices: { index: number; delta: { role?: string; content?: string | null }; finish_reason?: string | null }[]
  [key: string]: unknown
}
