/**
 * Server state on TanStack Query: one query key per resource, one hook per read, and mutations that
 * invalidate what they change. Pages never keep server data in their own state; a write refreshes every
 * list that shows it (lists of other pages are marked stale and reload when they are next shown).
 */
import { QueryClient, keepPreviousData, useInfiniteQuery, useMutation, useQueries, useQuery, useQueryClient, type QueryKey } from '@tanstack/react-query'
import {
  ApiError,
  addGroupMembers,
  addUser,
  bulkModelAccess,
  createConnection,
  createGroup,
  createModel,
  deleteConnection,
  deleteGroup,
  deleteModel,
  deleteUser,
  diffModelVersions,
  explainModelAccess,
  getEffectiveAccess,
  getModel,
  getModelVersion,
  getModelTags,
  getSessionUser,
  getUser,
  importModels,
  listBaseModels,
  type BaseModelsQuery,
  listAudit,
  getAnalyticsDaily,
  getAnalyticsGroups,
  getAnalyticsModels,
  getAnalyticsSummary,
  getAnalyticsUsers,
  listConnectionModels,
  listConnections,
  listGroups,
  getPublicConfig,
  getSsoConfig,
  listModelConflicts,
  listModelHistory,
  listModels,
  listRuntimeModels,
  listTrash,
  listUsers,
  refreshConnections,
  removeGroupMembers,
  restoreModelVersion,
  testConnection,
  toggleModel,
  updateConnection,
  updateGroup,
  updateModel,
  updateModelAccess,
  updateUser,
  applyTemplate,
  createTemplate,
  deleteTemplate,
  getTemplate,
  listTemplateModels,
  listTemplates,
  updateTemplate,
  type TemplateApplyBody,
  type TemplateCreate,
  type TemplateListQuery,
  type TemplateUpdate,
  type AuditFilters,
  type AnalyticsFilters,
  type Granularity,
  type BulkAccessBody,
  type Connection,
  type ConnectionCreate,
  type ConnectionUpdate,
  type GrantInput,
  type Group,
  type ModelForm,
  type ModelList,
  type ModelListQuery,
  type ModelWithAccess,
  type Role,
} from '../api/client'

export type UserListQuery = Parameters<typeof listUsers>[0]

export const queryKeys = {
  session: ['session'] as const,
  models: {
    all: ['models'] as const,
    lists: ['models', 'list'] as const,
    list: (query: ModelListQuery) => ['models', 'list', query] as const,
    detail: (id: string) => ['models', 'detail', id] as const,
    tags: ['models', 'tags'] as const,
    conflicts: ['models', 'conflicts'] as const,
    /** Admin: the base-model page (under `models`: every model write may change it). */
    base: (query: BaseModelsQuery) => ['models', 'base', query] as const,
    /** GET /api/models: presets are in it too, so it lives under `models`. */
    runtime: ['models', 'runtime'] as const,
    /** Under `models`: every model write adds a version, so it refreshes the history too. */
    history: (id: string, page: number) => ['models', 'history', id, page] as const,
    version: (id: string, version: number) => ['models', 'version', id, version] as const,
    diff: (id: string, from: number, to: number) => ['models', 'diff', id, from, to] as const,
    trash: (page: number) => ['models', 'trash', page] as const,
    /** Under `models`: an access change, or any model write, may change who can see it. */
    effective: (id: string, page: number) => ['models', 'effective', id, page] as const,
    explain: (id: string, userId: string) => ['models', 'explain', id, userId] as const,
  },
  /** Usage analytics per route and filter set (recorded off the request path: never invalidated by writes). */
  analytics: (route: string, filters: object) => ['analytics', route, filters] as const,
  /** Admin: audit pages per filter set (never invalidated by writes: "Load more" and Refresh read on). */
  audit: (filters: AuditFilters) => ['audit', filters] as const,
  users: {
    all: ['users'] as const,
    list: (query: UserListQuery) => ['users', 'list', query] as const,
    detail: (id: string) => ['users', 'detail', id] as const,
  },
  groups: { all: ['groups'] as const },
  /** GET /api/config (public) and the admin's single sign-on view: they change only with a restart. */
  publicConfig: ['public-config'] as const,
  ssoConfig: ['sso-config'] as const,
  connections: {
    all: ['connections'] as const,
  },
  /** Apart from `connections`: reloading the status list must not fetch every provider's models again. */
  connectionModels: (id: string) => ['connection-models', id] as const,
  /** Configuration templates; a template's models (drift) depend on model writes too: always re-read. */
  templates: {
    all: ['templates'] as const,
    list: (query: TemplateListQuery) => ['templates', 'list', query] as const,
    detail: (id: string) => ['templates', 'detail', id] as const,
    models: (id: string, page: number, limit: number) => ['templates', 'models', id, page, limit] as const,
  },
}

/** A refusal (4xx) is an answer, not a hiccup: asking again cannot change it. */
export function isClientError(error: unknown): boolean {
  return error instanceof ApiError && error.status >= 400 && error.status < 500
}

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        retry: (failures, error) => !isClientError(error) && failures < 2,
        // Lists are cheap and shared: a page shown again within a few seconds uses what it has.
        staleTime: 5_000,
      },
      // A write is never repeated behind the user's back.
      mutations: { retry: false },
    },
  })
}

// ─── Reads ─────────────────────────────────────────────────────────────────────────────────────────

/** One page of models; the previous page stays on screen while the next loads. */
export const useModelList = (query: ModelListQuery) =>
  useQuery({ queryKey: queryKeys.models.list(query), queryFn: () => listModels(query), placeholderData: keepPreviousData })

export const useModel = (id: string) =>
  useQuery({
    queryKey: queryKeys.models.detail(id),
    queryFn: () => (id ? getModel(id) : Promise.reject(new Error('No model id in the address (?id=).'))),
    // The editor is opened to change the model: start from the stored state, not a cached one.
    staleTime: 0,
  })

export const useModelTags = () => useQuery({ queryKey: queryKeys.models.tags, queryFn: getModelTags })

/** Admins only (the route is admin-only): models a provider's id makes ignored. */
export const useModelConflicts = (enabled: boolean) => useQuery({ queryKey: queryKeys.models.conflicts, queryFn: listModelConflicts, enabled })

/** Admins only: provider models joined with their override rows, a page per filter set. */
export const useBaseModels = (query: BaseModelsQuery) =>
  useQuery({ queryKey: queryKeys.models.base(query), queryFn: () => listBaseModels(query), placeholderData: keepPreviousData })

export const useRuntimeModels = () => useQuery({ queryKey: queryKeys.models.runtime, queryFn: listRuntimeModels })

export const useModelHistory = (id: string, page: number, limit: number) =>
  useQuery({ queryKey: queryKeys.models.history(id, page), queryFn: () => listModelHistory(id, page, limit), placeholderData: keepPreviousData, staleTime: 0 })

/** A recorded version never changes: once read it stays (pruning only removes versions). */
export const useModelVersion = (id: string, version: number | undefined) =>
  useQuery({
    queryKey: queryKeys.models.version(id, version ?? 0),
    queryFn: () => getModelVersion(id, version ?? 0),
    enabled: version !== undefined,
    staleTime: Infinity,
  })

export const useVersionDiff = (id: string, from: number | undefined, to: number | undefined) =>
  useQuery({
    queryKey: queryKeys.models.diff(id, from ?? 0, to ?? 0),
    queryFn: () => diffModelVersions(id, from ?? 0, to ?? 0),
    // Version 0 is a model older than history: there is nothing recorded to compare with.
    enabled: from !== undefined && to !== undefined && from !== to && from >= 1,
    staleTime: Infinity,
  })

/** Everyone who can read the model, and why (admins and the model's writers). */
export const useEffectiveAccess = (id: string, page: number, limit: number) =>
  useQuery({
    queryKey: queryKeys.models.effective(id, page),
    queryFn: () => getEffectiveAccess(id, page, limit),
    placeholderData: keepPreviousData,
    staleTime: 0,
  })

/** Why one user may or may not use the model; nothing is asked until a user is picked. */
export const useAccessExplanation = (id: string, userId: string) =>
  useQuery({ queryKey: queryKeys.models.explain(id, userId), queryFn: () => explainModelAccess(id, userId), enabled: userId !== '', staleTime: 0 })

export const useTrash = (page: number, limit: number) =>
  useQuery({ queryKey: queryKeys.models.trash(page), queryFn: () => listTrash(page, limit), placeholderData: keepPreviousData })

/** The audit log page after page ("Load more" follows `next_cursor`). */
export const useAudit = (filters: AuditFilters, limit = 50) =>
  useInfiniteQuery({
    queryKey: queryKeys.audit(filters),
    queryFn: ({ pageParam }) => listAudit(filters, pageParam, limit),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    staleTime: 0,
  })

/** Usage analytics (docs/analytics.md): one hook per route; admins may filter by group, others read their own. */
export const useAnalyticsSummary = (filters: AnalyticsFilters) =>
  useQuery({ queryKey: queryKeys.analytics('summary', filters), queryFn: () => getAnalyticsSummary(filters), placeholderData: keepPreviousData })
export const useAnalyticsModels = (filters: AnalyticsFilters) =>
  useQuery({ queryKey: queryKeys.analytics('models', filters), queryFn: () => getAnalyticsModels(filters), placeholderData: keepPreviousData })
export const useAnalyticsUsers = (filters: AnalyticsFilters) =>
  useQuery({ queryKey: queryKeys.analytics('users', filters), queryFn: () => getAnalyticsUsers(filters), placeholderData: keepPreviousData })
export const useAnalyticsGroups = (filters: AnalyticsFilters, enabled: boolean) =>
  useQuery({ queryKey: queryKeys.analytics('groups', filters), queryFn: () => getAnalyticsGroups(filters), placeholderData: keepPreviousData, enabled })
export const useAnalyticsDaily = (filters: AnalyticsFilters, granularity: Granularity) =>
  useQuery({
    queryKey: queryKeys.analytics(`daily-${granularity}`, filters),
    queryFn: () => getAnalyticsDaily(filters, granularity),
    placeholderData: keepPreviousData,
  })

export const useUserList = (query: UserListQuery, enabled = true) =>
  useQuery({ queryKey: queryKeys.users.list(query), queryFn: () => listUsers(query), placeholderData: keepPreviousData, enabled })

/** Names for user ids (admins): an id that cannot be read stays without a name. */
export function useUserNames(ids: readonly string[], enabled: boolean) {
  return useQueries({
    queries: ids.map((id) => ({ queryKey: queryKeys.users.detail(id), queryFn: () => getUser(id), enabled, retry: false })),
  })
}

export const useGroups = (enabled = true) => useQuery({ queryKey: queryKeys.groups.all, queryFn: listGroups, enabled })

export const usePublicConfig = () => useQuery({ queryKey: queryKeys.publicConfig, queryFn: getPublicConfig, staleTime: Infinity })

export const useSsoConfig = () => useQuery({ queryKey: queryKeys.ssoConfig, queryFn: getSsoConfig })

export const useConnections = () => useQuery({ queryKey: queryKeys.connections.all, queryFn: listConnections })

export function useConnectionModels(id: string) {
  const client = useQueryClient()
  return useQuery({
    queryKey: queryKeys.connectionModels(id),
    // Listing the models fetches them: the connection's status line is then worth reloading.
    queryFn: () => listConnectionModels(id).finally(() => void client.invalidateQueries({ queryKey: queryKeys.connections.all })),
  })
}

export const useSessionQuery = (enabled: boolean) => useQuery({ queryKey: queryKeys.session, queryFn: getSessionUser, enabled })

// ─── Writes ────────────────────────────────────────────────────────────────────────────────────────

function useInvalidate(): (...keys: QueryKey[]) => void {
  const client = useQueryClient()
  // Not awaited: the mutation's caller goes on (navigates, notifies) while the lists reload.
  return (...keys) => {
    for (const queryKey of keys) void client.invalidateQueries({ queryKey })
  }
}

/** Shows a write's answer in every cached list page at once, before the reload confirms it. */
function usePatchModelInLists() {
  const client = useQueryClient()
  return (id: string, patch: Partial<ModelWithAccess>) =>
    client.setQueriesData<ModelList>(
      { queryKey: queryKeys.models.lists },
      (current) => current && { ...current, items: current.items.map((item) => (item.id === id ? { ...item, ...patch } : item)) },
    )
}

export function useCreateModel() {
  const invalidate = useInvalidate()
  return useMutation({ mutationFn: (form: ModelForm) => createModel(form), onSuccess: () => invalidate(queryKeys.models.all) })
}

export function useUpdateModel() {
  const invalidate = useInvalidate()
  const patch = usePatchModelInLists()
  return useMutation({
    /** `ifMatch`: the version the form was loaded at (412 PRECONDITION_FAILED if the model changed since). */
    mutationFn: ({ ifMatch, ...form }: Partial<ModelForm> & { id: string; ifMatch?: number }) => updateModel(form, ifMatch),
    onSuccess: (model) => {
      patch(model.id, { meta: model.meta, is_active: model.is_active, updated_at: model.updated_at })
      invalidate(queryKeys.models.all)
    },
  })
}

export function useToggleModel() {
  const invalidate = useInvalidate()
  const patch = usePatchModelInLists()
  return useMutation({
    mutationFn: ({ id, ifMatch }: { id: string; ifMatch?: number }) => toggleModel(id, ifMatch),
    onSuccess: (model) => {
      patch(model.id, { is_active: model.is_active, updated_at: model.updated_at })
      invalidate(queryKeys.models.all)
    },
  })
}

export function useUpdateModelAccess() {
  const invalidate = useInvalidate()
  return useMutation({
    mutationFn: ({ id, grants, ifMatch }: { id: string; grants: GrantInput[]; ifMatch?: number }) => updateModelAccess(id, grants, ifMatch),
    onSuccess: () => invalidate(queryKeys.models.all),
  })
}

export function useDeleteModel() {
  const client = useQueryClient()
  return useMutation({
    mutationFn: ({ id, ifMatch }: { id: string; ifMatch?: number }) => deleteModel(id, ifMatch),
    onSuccess: (_answer, { id }) => {
      // The deleted model is gone, not stale: reading it again (the editor is still open) would be a 404.
      const detail = queryKeys.models.detail(id)
      client.removeQueries({ queryKey: detail, exact: true })
      void client.invalidateQueries({ queryKey: queryKeys.models.all, predicate: (query) => query.queryKey.join('\n') !== detail.join('\n') })
    },
  })
}

/** Restores a version (or a deleted model) as a new version: the model and every list change. */
export function useRestoreVersion() {
  const invalidate = useInvalidate()
  return useMutation({
    mutationFn: ({ id, version, ifMatch }: { id: string; version?: number; ifMatch?: number }) => restoreModelVersion(id, version, ifMatch),
    onSuccess: () => invalidate(queryKeys.models.all),
  })
}

/**
 * Adds and removes grants on many models. A dry run changes nothing (no invalidation); the real run
 * changes models, their versions and who can see them: everything under `models`.
 */
export function useBulkAccess() {
  const invalidate = useInvalidate()
  return useMutation({
    mutationFn: (body: BulkAccessBody) => bulkModelAccess(body),
    onSuccess: (_report, body) => {
      if (!body.dry_run) invalidate(queryKeys.models.all)
    },
  })
}

export function useImportModels() {
  const invalidate = useInvalidate()
  return useMutation({ mutationFn: (file: unknown) => importModels(file), onSuccess: () => invalidate(queryKeys.models.all) })
}

export function useAddUser() {
  const invalidate = useInvalidate()
  return useMutation({
    mutationFn: (input: { name: string; email: string; password: string; role: Role }) => addUser(input),
    onSuccess: () => invalidate(queryKeys.users.all),
  })
}

export function useUpdateUser() {
  const invalidate = useInvalidate()
  return useMutation({
    mutationFn: ({ id, patch }: { id: string; patch: Parameters<typeof updateUser>[1] }) => updateUser(id, patch),
    // A role or name change shows in owners of models and, for oneself, in the session.
    onSuccess: () => invalidate(queryKeys.users.all, queryKeys.models.all, queryKeys.session),
  })
}

export function useDeleteUser() {
  const invalidate = useInvalidate()
  return useMutation({
    mutationFn: (id: string) => deleteUser(id),
    // Their models pass to the admin, their memberships go.
    onSuccess: () => invalidate(queryKeys.users.all, queryKeys.models.all, queryKeys.groups.all),
  })
}

/** Group changes may change the caller's own permissions and abilities too. */
const GROUP_DEPENDENTS: QueryKey[] = [queryKeys.groups.all, queryKeys.session, queryKeys.models.all]

/** Shows a group write's answer in the cached list at once (the page selects from that list). */
function useStoreGroup() {
  const client = useQueryClient()
  return (group: Group) =>
    client.setQueryData<Group[]>(queryKeys.groups.all, (current) =>
      current ? (current.some((g) => g.id === group.id) ? current.map((g) => (g.id === group.id ? group : g)) : [...current, group]) : current,
    )
}

export function useCreateGroup() {
  const invalidate = useInvalidate()
  const store = useStoreGroup()
  return useMutation({
    mutationFn: (input: Parameters<typeof createGroup>[0]) => createGroup(input),
    onSuccess: (group) => {
      store(group)
      invalidate(...GROUP_DEPENDENTS)
    },
  })
}

export function useUpdateGroup() {
  const invalidate = useInvalidate()
  const store = useStoreGroup()
  return useMutation({
    mutationFn: ({ id, patch }: { id: string; patch: Parameters<typeof updateGroup>[1] }) => updateGroup(id, patch),
    onSuccess: (group) => {
      store(group)
      invalidate(...GROUP_DEPENDENTS)
    },
  })
}

export function useGroupMembers() {
  const invalidate = useInvalidate()
  const store = useStoreGroup()
  return useMutation({
    mutationFn: ({ id, add, remove }: { id: string; add?: string[]; remove?: string[] }) =>
      add ? addGroupMembers(id, add) : removeGroupMembers(id, remove ?? []),
    onSuccess: (group) => {
      store(group)
      invalidate(...GROUP_DEPENDENTS)
    },
  })
}

export function useDeleteGroup() {
  const invalidate = useInvalidate()
  return useMutation({ mutationFn: (id: string) => deleteGroup(id), onSuccess: () => invalidate(...GROUP_DEPENDENTS) })
}

/** Connection changes change the base models offered and the conflicts. */
const CONNECTION_DEPENDENTS: QueryKey[] = [queryKeys.connections.all, queryKeys.models.all]

/** Shows a connection write's answer in the cached list at once. */
function useStoreConnection() {
  const client = useQueryClient()
  return (connection: Connection) =>
    client.setQueryData<Connection[]>(queryKeys.connections.all, (current) =>
      current
        ? current.some((c) => c.id === connection.id)
          ? current.map((c) => (c.id === connection.id ? connection : c))
          : [...current, connection]
        : current,
    )
}

export function useSaveConnection() {
  const invalidate = useInvalidate()
  const store = useStoreConnection()
  return useMutation({
    mutationFn: (input: { create: ConnectionCreate } | { id: string; patch: ConnectionUpdate }) =>
      'create' in input ? createConnection(input.create) : updateConnection(input.id, input.patch),
    onSuccess: (connection) => {
      store(connection)
      invalidate(...CONNECTION_DEPENDENTS)
    },
  })
}

export function useDeleteConnection() {
  const invalidate = useInvalidate()
  return useMutation({ mutationFn: (id: string) => deleteConnection(id), onSuccess: () => invalidate(...CONNECTION_DEPENDENTS) })
}

export function useRefreshConnections() {
  const client = useQueryClient()
  const invalidate = useInvalidate()
  return useMutation({
    mutationFn: () => refreshConnections(),
    onSuccess: (fresh) => {
      client.setQueryData(queryKeys.connections.all, fresh)
      invalidate(queryKeys.models.all)
    },
    // A failed refresh may still have changed statuses: read them again.
    onError: () => invalidate(queryKeys.connections.all),
  })
}

export function useTestConnection() {
  const invalidate = useInvalidate()
  return useMutation({
    mutationFn: (id: string) => testConnection(id),
    // The status line (models, last check) may have changed with the test, whatever its outcome.
    onSettled: () => invalidate(queryKeys.connections.all),
  })
}

// ─── Configuration templates (issue #13 part 1) ────────────────────────────────────────────────────

export const useTemplateList = (query: TemplateListQuery, enabled = true) =>
  useQuery({ queryKey: queryKeys.templates.list(query), queryFn: () => listTemplates(query), placeholderData: keepPreviousData, enabled })

export const useTemplate = (id: string) =>
  useQuery({
    queryKey: queryKeys.templates.detail(id),
    queryFn: () => (id ? getTemplate(id) : Promise.reject(new Error('No template id in the address (?id=).'))),
    staleTime: 0,
  })

/** The models linked to a template and whether they drifted (model writes change that: never cached stale). */
export const useTemplateModels = (id: string, page: number, limit: number, enabled = true) =>
  useQuery({
    queryKey: queryKeys.templates.models(id, page, limit),
    queryFn: () => listTemplateModels(id, page, limit),
    placeholderData: keepPreviousData,
    staleTime: 0,
    enabled: enabled && id !== '',
  })

/** A template write changes the lists, the template and its models' drift; a delete unlinks models. */
export function useSaveTemplate() {
  const invalidate = useInvalidate()
  return useMutation({
    mutationFn: (input: { create: TemplateCreate } | { update: TemplateUpdate }) =>
      'create' in input ? createTemplate(input.create) : updateTemplate(input.update),
    onSuccess: () => invalidate(queryKeys.templates.all),
  })
}

export function useDeleteTemplate() {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (id: string) => deleteTemplate(id),
    onSuccess: (_answer, id) => {
      // The deleted template is gone, not stale: reading it again (the editor is still open) would be a 404.
      const detail = queryKeys.templates.detail(id)
      client.removeQueries({ queryKey: detail, exact: true })
      void client.invalidateQueries({ queryKey: queryKeys.templates.all, predicate: (query) => query.queryKey.join('\n') !== detail.join('\n') })
      // Its models forget it (template_id null).
      void client.invalidateQueries({ queryKey: queryKeys.models.all })
    },
  })
}

/** A dry run changes nothing; the real run changes models (new versions, template_id) and drift. */
export function useApplyTemplate() {
  const invalidate = useInvalidate()
  return useMutation({
    mutationFn: (body: TemplateApplyBody) => applyTemplate(body),
    onSuccess: (_report, body) => {
      if (!body.dry_run) invalidate(queryKeys.models.all, queryKeys.templates.all)
    },
  })
}
