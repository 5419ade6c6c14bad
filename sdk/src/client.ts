/**
 * The hand-written layer over openapi-fetch's typed client: credentials, errors as typed exceptions (every
 * method throws on a non-2xx answer, so it returns the success type), paging and SSE chat. Web platform
 * APIs only (fetch, Request, web streams): it runs in Node 20 and in browsers alike.
 */
import createClient, { type Client, type Middleware } from 'openapi-fetch'
import { ApiError, BadResponseError, NetworkError, UnauthorizedError, errorFromAnswer, isAbortError } from './errors.js'
import { readEvents } from './sse.js'
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  ConnectionCreate,
  ConnectionUpdate,
  GrantInput,
  GroupCreate,
  GroupUpdate,
  ImportQuery,
  ModelForm,
  ModelList,
  ModelListQuery,
  ModelUpdate,
  NewUser,
  PasswordChange,
  ProfileUpdate,
  AdminConfigUpdate,
  DefaultPermissionsUpdate,
  UserSearchQuery,
  SignInBody,
  SignUpBody,
  SyncBody,
  UserListQuery,
  UserUpdate,
  AuditEntry,
  AuditQuery,
  HistoryItem,
  HistoryQuery,
  PruneBody,
  TemplateApplyBody,
  TemplateCreate,
  TemplateListQuery,
  TemplateUpdate,
  paths,
} from './types.js'

/** Where the session token lives: in memory by default; a browser app may keep it in localStorage. */
export interface TokenStore {
  get(): string | null | undefined
  set(token: string | null): void
}

export interface ModelgateOptions {
  /** The server's origin, e.g. `http://127.0.0.1:8080` (a browser page may pass `location.origin`). */
  baseUrl: string
  /** A session token to start with, or a store the client reads it from (and sign-in writes it to). */
  token?: string | null | TokenStore
  /** An API key (`sk-…`), sent when there is no session token. */
  apiKey?: string
  /** Replaces the global fetch (tests, proxies, instrumentation). */
  fetch?: (input: Request) => Promise<Response>
  /** Called when a request that carried credentials is refused with 401 (expired token, deleted account). */
  onUnauthorized?: (error: UnauthorizedError) => void
}

/** Per-call options. */
export interface CallOptions {
  /** Aborts the call; the platform's AbortError is thrown as it is (not wrapped). */
  signal?: AbortSignal
}

/** Options of a model write: `ifMatch` is the version the change was made from (412 PreconditionFailedError when the model moved on). */
export interface WriteOptions extends CallOptions {
  ifMatch?: number
}

/** The If-Match header of a version (a quoted entity tag, as the server's ETag). */
const ifMatchHeaders = (options: WriteOptions): { headers?: Record<string, string> } =>
  options.ifMatch === undefined ? {} : { headers: { 'if-match': `"${options.ifMatch}"` } }

type ModelItem = ModelList['items'][number]

/** What openapi-fetch resolves to: data on success, the parsed error body otherwise. */
interface Answer<T> {
  data?: T
  error?: unknown
  response: Response
}

function memoryStore(initial: string | null | undefined): TokenStore {
  let token = initial ?? null
  return {
    get: () => token,
    set: (next) => {
      token = next
    },
  }
}

/**
 * Only meaningful values travel (as Open WebUI's client does): an empty filter is no filter.
 */
function serializeQuery(query: Record<string, unknown>): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue
    params.set(key, typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value))
  }
  return params.toString()
}

export type Modelgate = ReturnType<typeof createModelgate>

export function createModelgate(options: ModelgateOptions) {
  const store = typeof options.token === 'object' && options.token !== null ? options.token : memoryStore(options.token)
  const credential = (): string | null => store.get() || options.apiKey || null

  const raw: Client<paths> = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    querySerializer: serializeQuery,
    ...(options.fetch && { fetch: options.fetch }),
  })
  const auth: Middleware = {
    onRequest({ request }) {
      const secret = credential()
      if (secret) request.headers.set('authorization', `Bearer ${secret}`)
      if (!request.headers.has('accept')) request.headers.set('accept', 'application/json')
      return request
    },
    onError({ error, request }) {
      // An abort is the caller's own doing: it stays the platform's AbortError.
      if (isAbortError(error) || request.signal.aborted) return undefined
      return new NetworkError(undefined, error)
    },
  }
  raw.use(auth)

  /** The data of a 2xx answer, or the typed exception of any other. */
  async function call<T>(pending: Promise<Answer<T>>): Promise<T> {
    const carried = credential() !== null
    let answer: Answer<T>
    try {
      answer = await pending
    } catch (error) {
      if (error instanceof ApiError || isAbortError(error)) throw error
      // openapi-fetch parses a 2xx body as JSON: anything else is not what the route promises.
      if (error instanceof SyntaxError) {
        throw new BadResponseError(200, 'BAD_RESPONSE', `The server answered with something that is not JSON: ${error.message}`, { cause: error })
      }
      throw new NetworkError(undefined, error)
    }
    const { response } = answer
    if (!response.ok) {
      const error = errorFromAnswer(response.status, response.statusText, answer.error, response.headers)
      if (error instanceof UnauthorizedError && carried) options.onUnauthorized?.(error)
      throw error
    }
    return answer.data as T
  }

  /** Keeps the token of a sign-in or sign-up answer. */
  async function keep<T extends { token: string }>(pending: Promise<T>): Promise<T> {
    const session = await pending
    store.set(session.token)
    return session
  }

  const models = {
    /** One page of the models the caller may read (`{items, total}`). */
    list: (query: ModelListQuery = {}, init: CallOptions = {}) => call(raw.GET('/api/v1/models/list', { params: { query }, ...init })),

    /**
     * Every model of a listing, page after page (`pageSize` per request, 100 at most): stops at `total`
     * or at a short page. Concurrent writes may shift rows between pages.
     */
    async *listAll(query: Omit<ModelListQuery, 'page' | 'limit'> = {}, pageSize = 100, init: CallOptions = {}): AsyncGenerator<ModelItem, void, undefined> {
      let seen = 0
      for (let page = 1; ; page++) {
        const { items, total } = await models.list({ ...query, page, limit: pageSize }, init)
        yield* items
        seen += items.length
        if (items.length < pageSize || seen >= total) return
      }
    },

    /** One model with its full meta (list items leave inline pictures out). */
    get: (id: string, init: CallOptions = {}) => call(raw.GET('/api/v1/models/model', { params: { query: { id } }, ...init })),
    create: (form: ModelForm) => call(raw.POST('/api/v1/models/create', { body: form })),
    /** Fields left out keep their value; without an access form the grants are kept. */
    update: (form: ModelUpdate & { id: string }, options: WriteOptions = {}) =>
      call(raw.POST('/api/v1/models/model/update', { body: form, ...ifMatchHeaders(options), signal: options.signal })),
    toggle: (id: string, options: WriteOptions = {}) =>
      call(raw.POST('/api/v1/models/model/toggle', { params: { query: { id } }, ...ifMatchHeaders(options), signal: options.signal })),
    /** Replaces the model's grants. */
    updateAccess: (id: string, grants: GrantInput[], options: WriteOptions = {}) =>
      call(raw.POST('/api/v1/models/model/access/update', { body: { id, access_grants: grants }, ...ifMatchHeaders(options), signal: options.signal })),
    delete: (id: string, options: WriteOptions = {}) =>
      call(raw.POST('/api/v1/models/model/delete', { body: { id }, ...ifMatchHeaders(options), signal: options.signal })),

    /** A page of the model's versions, newest first (as far as the caller may read the model). */
    history: (query: HistoryQuery, init: CallOptions = {}) => call(raw.GET('/api/v1/models/model/history', { params: { query }, ...init })),
    /** Every version the caller may see, page after page (newest first). */
    async *historyAll(id: string, pageSize = 100, init: CallOptions = {}): AsyncGenerator<HistoryItem, void, undefined> {
      let seen = 0
      for (let page = 1; ; page++) {
        const { items, total } = await models.history({ id, page, limit: pageSize }, init)
        yield* items
        seen += items.length
        if (items.length < pageSize || seen >= total) return
      }
    },
    /** One version with its snapshot (grants null for callers who may only read the model). */
    version: (id: string, version: number, init: CallOptions = {}) =>
      call(raw.GET('/api/v1/models/model/history/version', { params: { query: { id, version } }, ...init })),
    /** What changed from version `from` to version `to`. */
    diff: (id: string, from: number, to: number, init: CallOptions = {}) =>
      call(raw.GET('/api/v1/models/model/history/diff', { params: { query: { id, from, to } }, ...init })),
    /** Makes a version's content the model again (a new version); without `version`, brings a deleted model back. */
    restore: (id: string, version?: number, options: WriteOptions = {}) =>
      call(
        raw.POST('/api/v1/models/model/history/restore', {
          body: { id, ...(version !== undefined && { version }) },
          ...ifMatchHeaders(options),
          signal: options.signal,
        }),
      ),
    /** Deleted models the caller may restore (admins: all). */
    trash: (query: { page?: number; limit?: number } = {}, init: CallOptions = {}) => call(raw.GET('/api/v1/models/trash', { params: { query }, ...init })),
    /** Admin: keeps the newest `keep` versions of each model (or of `model_id`). */
    pruneHistory: (body: PruneBody) => call(raw.POST('/api/v1/models/history/prune', { body })),
    /** Why `userId` may or may not read, write and share the model (admins and the model's writers). */
    explainAccess: (id: string, userId: string, init: CallOptions = {}) =>
      call(raw.GET('/api/v1/models/model/access/explain', { params: { query: { id, user_id: userId } }, ...init })),
    /** Everyone who can read the model, with write and the reasons (admins and the model's writers). */
    effectiveAccess: (id: string, query: { page?: number; limit?: number } = {}, init: CallOptions = {}) =>
      call(raw.GET('/api/v1/models/model/access/effective', { params: { query: { id, ...query } }, ...init })),
    tags: () => call(raw.GET('/api/v1/models/tags')),
    /** Admin: the base-model override rows (models without base_model_id). */
    base: () => call(raw.GET('/api/v1/models/base')),
    /** Admin: models in conflict with a provider model id. */
    conflicts: () => call(raw.GET('/api/v1/models/conflicts')),
    /** Every model the caller may write (admin: all), as `import` accepts it. */
    export: () => call(raw.GET('/api/v1/models/export')),
    /** The export file as the server wrote it (for a download). */
    exportBlob: async (): Promise<Blob> => {
      const data: unknown = await call(raw.GET('/api/v1/models/export', { parseAs: 'blob' }))
      return data as Blob
    },
    /** Sends an export file's content as is (`{models: [...]}` or a bare array). */
    import: (file: unknown, query: ImportQuery = {}) => call(raw.POST('/api/v1/models/import', { body: file, params: { query } })),
    /** Admin: makes the registry equal to `models` (create, update, delete); `dry_run` answers the plan. */
    sync: (body: SyncBody) => call(raw.POST('/api/v1/models/sync', { body })),
    /** The runtime list (`GET /api/models`): provider models and presets a chat UI may show. */
    runtime: () => call(raw.GET('/api/models')),
  }

  const chat = {
    /** One chat answer (`stream` is forced off). */
    completions: async (body: ChatCompletionRequest, init: CallOptions = {}): Promise<ChatCompletion> => {
      const data: unknown = await call(raw.POST('/v1/chat/completions', { body: { ...body, stream: false }, ...init }))
      return data as ChatCompletion
    },

    /**
     * A streamed chat answer, chunk by chunk; the request is sent when iteration starts. An SSE error
     * event is thrown as a ProviderError; breaking out of the loop or aborting `signal` cancels the call.
     */
    async *stream(body: ChatCompletionRequest, init: CallOptions = {}): AsyncGenerator<ChatCompletionChunk, void, undefined> {
      const data: unknown = await call(
        raw.POST('/v1/chat/completions', {
          body: { ...body, stream: true },
          parseAs: 'stream',
          headers: { accept: 'text/event-stream' },
          ...init,
        }),
      )
      const stream = data as ReadableStream<Uint8Array> | null
      if (!stream) throw new BadResponseError(200, 'BAD_RESPONSE', 'The server answered a streamed chat without a body.')
      try {
        yield* readEvents<ChatCompletionChunk>(stream)
      } catch (error) {
        if (error instanceof ApiError || isAbortError(error)) throw error
        if (init.signal?.aborted) throw init.signal.reason
        throw new NetworkError('The stream broke off before its end.', error)
      }
    },
  }

  const audit = {
    /** Admin: one page of the audit log, newest first; pass `next_cursor` as `cursor` for the next. */
    list: (query: AuditQuery = {}, init: CallOptions = {}) => call(raw.GET('/api/v1/audit', { params: { query }, ...init })),
    /** Admin: every entry that matches, newest first, following the cursor. */
    async *listAll(query: Omit<AuditQuery, 'cursor'> = {}, init: CallOptions = {}): AsyncGenerator<AuditEntry, void, undefined> {
      let cursor: string | undefined
      for (;;) {
        const page = await audit.list({ ...query, ...(cursor !== undefined && { cursor }) }, init)
        yield* page.items
        if (!page.next_cursor) return
        cursor = page.next_cursor
      }
    },
    /** Admin: the export (NDJSON, oldest first) as entries, read line by line as the server streams it. */
    async *export(query: Omit<AuditQuery, 'cursor' | 'limit'> = {}, init: CallOptions = {}): AsyncGenerator<AuditEntry, void, undefined> {
      const data: unknown = await call(raw.GET('/api/v1/audit/export', { params: { query }, parseAs: 'stream', ...init }))
      const stream = data as ReadableStream<Uint8Array> | null
      if (!stream) return
      const decoder = new TextDecoder()
      let buffered = ''
      for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(chunk, { stream: true })
        const lines = buffered.split('\n')
        buffered = lines.pop() ?? ''
        for (const line of lines) if (line.trim() !== '') yield JSON.parse(line) as AuditEntry
      }
      if (buffered.trim() !== '') yield JSON.parse(buffered) as AuditEntry
    },
  }

  return {
    /** The openapi-fetch client (credentials included) for routes this layer does not wrap. */
    raw,
    /** The credential sent now (the session token, else the API key), or null. */
    get token(): string | null {
      return credential()
    },
    /** Replaces the session token (null forgets it; the API key, if any, is used again). */
    setToken(token: string | null): void {
      store.set(token)
    },

    auth: {
      /** Signs in and keeps the token for the next calls. */
      signIn: (body: SignInBody) => keep(call(raw.POST('/api/v1/auths/signin', { body }))),
      /** Creates an account (the first one is the admin) and keeps its token. */
      signUp: (body: SignUpBody) => keep(call(raw.POST('/api/v1/auths/signup', { body }))),
      /** Tells the server and forgets the token. */
      signOut: async () => {
        try {
          return await call(raw.GET('/api/v1/auths/signout'))
        } finally {
          store.set(null)
        }
      },
      /** The session user with resolved permissions (pending accounts too). */
      me: () => call(raw.GET('/api/v1/auths/')),
      /** Revokes your other sessions; this one stays valid, and the answer carries a fresh token too. */
      updatePassword: (body: PasswordChange) => call(raw.POST('/api/v1/auths/update/password', { body })),
      /** Your own name and picture. */
      updateProfile: (body: ProfileUpdate) => call(raw.POST('/api/v1/auths/update/profile', { body })),
      /** Admin: whether public sign-up is open. */
      signupEnabled: () => call(raw.GET('/api/v1/auths/signup/enabled')),
      /** Whom a pending account should ask (the first admin). */
      adminDetails: () => call(raw.GET('/api/v1/auths/admin/details')),
      /** Admin: sign-up, default role, API keys, token lifetime. */
      adminConfig: () => call(raw.GET('/api/v1/auths/admin/config')),
      /** Admin: absent keys stay. */
      updateAdminConfig: (body: AdminConfigUpdate) => call(raw.POST('/api/v1/auths/admin/config', { body })),
      /** Admin: creates an account directly (role defaults to user). */
      addUser: (body: NewUser) => call(raw.POST('/api/v1/auths/add', { body })),
      /** Creates or replaces the caller's API key; the key is in this answer only. */
      createApiKey: () => call(raw.POST('/api/v1/auths/api_key')),
      getApiKey: () => call(raw.GET('/api/v1/auths/api_key')),
      deleteApiKey: () => call(raw.DELETE('/api/v1/auths/api_key')),
    },

    users: {
      list: (query: UserListQuery = {}) => call(raw.GET('/api/v1/users/', { params: { query } })),
      get: (id: string) => call(raw.GET('/api/v1/users/{id}', { params: { path: { id } } })),
      update: (id: string, patch: UserUpdate) => call(raw.POST('/api/v1/users/{id}/update', { params: { path: { id } }, body: patch })),
      delete: (id: string) => call(raw.DELETE('/api/v1/users/{id}', { params: { path: { id } } })),
      /** Admin: every account. */
      all: () => call(raw.GET('/api/v1/users/all')),
      /** Any user: id, name and picture by name (admins: every field, by email too). */
      search: (query: UserSearchQuery = {}) => call(raw.GET('/api/v1/users/search', { params: { query } })),
      /** An account with its group ids (others than admins: their own only). */
      info: (id: string) => call(raw.GET('/api/v1/users/{id}/info', { params: { path: { id } } })),
      /** An account's groups (others than admins: their own only). */
      groupsOf: (id: string) => call(raw.GET('/api/v1/users/{id}/groups', { params: { path: { id } } })),
      /** The caller's groups. */
      myGroups: () => call(raw.GET('/api/v1/users/groups')),
      /** Admin: what every user has before groups. */
      defaultPermissions: () => call(raw.GET('/api/v1/users/default/permissions')),
      /** Admin: replaces the whole default tree. */
      updateDefaultPermissions: (body: DefaultPermissionsUpdate) => call(raw.POST('/api/v1/users/default/permissions', { body })),
    },

    groups: {
      /** Admins: every group; others: their own. `share`: only the groups offered as share targets (true) or the others. */
      list: (share?: boolean) => call(raw.GET('/api/v1/groups/', { params: { query: share === undefined ? {} : { share: share ? 'true' : 'false' } } })),
      /** A group without its member list (others than admins: one they are in). */
      info: (id: string) => call(raw.GET('/api/v1/groups/id/{id}/info', { params: { path: { id } } })),
      get: (id: string) => call(raw.GET('/api/v1/groups/id/{id}', { params: { path: { id } } })),
      create: (body: GroupCreate) => call(raw.POST('/api/v1/groups/create', { body })),
      /** Absent fields stay; `permissions` and `user_ids` replace the whole tree or list. */
      update: (id: string, patch: GroupUpdate) => call(raw.POST('/api/v1/groups/id/{id}/update', { params: { path: { id } }, body: patch })),
      addMembers: (id: string, userIds: string[]) =>
        call(raw.POST('/api/v1/groups/id/{id}/users/add', { params: { path: { id } }, body: { user_ids: userIds } })),
      removeMembers: (id: string, userIds: string[]) =>
        call(raw.POST('/api/v1/groups/id/{id}/users/remove', { params: { path: { id } }, body: { user_ids: userIds } })),
      delete: (id: string) => call(raw.DELETE('/api/v1/groups/id/{id}/delete', { params: { path: { id } } })),
    },

    models,

    /** Configuration templates (docs/templates.md). */
    templates: {
      list: (query: TemplateListQuery = {}, init: CallOptions = {}) => call(raw.GET('/api/v1/templates/list', { params: { query }, ...init })),
      get: (id: string, init: CallOptions = {}) => call(raw.GET('/api/v1/templates/template', { params: { query: { id } }, ...init })),
      /** Needs workspace.templates; `from_model_id` starts from a model you may read. */
      create: (body: TemplateCreate) => call(raw.POST('/api/v1/templates/create', { body })),
      /** Fields left out keep their value; null removes a section. */
      update: (body: TemplateUpdate) => call(raw.POST('/api/v1/templates/template/update', { body })),
      delete: (id: string) => call(raw.POST('/api/v1/templates/template/delete', { body: { id } })),
      /** The models of a template you may read, and whether they drifted from it. */
      models: (id: string, query: { page?: number; limit?: number } = {}, init: CallOptions = {}) =>
        call(raw.GET('/api/v1/templates/template/models', { params: { query: { id, ...query } }, ...init })),
      /** Applies a template (dry_run: the report only); the report lists changed, unchanged and refused models. */
      apply: (body: TemplateApplyBody) => call(raw.POST('/api/v1/templates/template/apply', { body })),
    },

    audit,

    connections: {
      list: () => call(raw.GET('/api/v1/connections/')),
      create: (body: ConnectionCreate) => call(raw.POST('/api/v1/connections/create', { body })),
      update: (id: string, patch: ConnectionUpdate) => call(raw.POST('/api/v1/connections/id/{id}/update', { params: { path: { id } }, body: patch })),
      delete: (id: string) => call(raw.DELETE('/api/v1/connections/id/{id}/delete', { params: { path: { id } } })),
      test: (id: string) => call(raw.POST('/api/v1/connections/id/{id}/test', { params: { path: { id } } })),
      /** Polls every connection now and answers the fresh statuses. */
      refresh: () => call(raw.POST('/api/v1/connections/refresh')),
      models: (id: string) => call(raw.GET('/api/v1/connections/id/{id}/models', { params: { path: { id } } })),
    },

    chat,
  }
}
