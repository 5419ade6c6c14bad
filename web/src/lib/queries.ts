/**
 * Server state on TanStack Query: one query key per resource, one hook per read, and mutations that
 * invalidate what they change. Pages never keep server data in their own state; a write refreshes every
 * list that shows it (lists of other pages are marked stale and reload when they are next shown).
 */
import { QueryClient, keepPreviousData, useMutation, useQueries, useQuery, useQueryClient, type QueryKey } from '@tanstack/react-query'
import {
  ApiError,
  addGroupMembers,
  addUser,
  createConnection,
  createGroup,
  createModel,
  deleteConnection,
  deleteGroup,
  deleteModel,
  deleteUser,
  getModel,
  getModelTags,
  getSessionUser,
  getUser,
  importModels,
  listConnectionModels,
  listConnections,
  listGroups,
  listModelConflicts,
  listModels,
  listRuntimeModels,
  listUsers,
  refreshConnections,
  removeGroupMembers,
  testConnection,
  toggleModel,
  updateConnection,
  updateGroup,
  updateModel,
  updateModelAccess,
  updateUser,
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
    /** GET /api/models: presets are in it too, so it lives under `models`. */
    runtime: ['models', 'runtime'] as const,
  },
  users: {
    all: ['users'] as const,
    list: (query: UserListQuery) => ['users', 'list', query] as const,
    detail: (id: string) => ['users', 'detail', id] as const,
  },
  groups: { all: ['groups'] as const },
  connections: {
    all: ['connections'] as const,
  },
  /** Apart from `connections`: reloading the status list must not fetch every provider's models again. */
  connectionModels: (id: string) => ['connection-models', id] as const,
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

export const useRuntimeModels = () => useQuery({ queryKey: queryKeys.models.runtime, queryFn: listRuntimeModels })

export const useUserList = (query: UserListQuery, enabled = true) =>
  useQuery({ queryKey: queryKeys.users.list(query), queryFn: () => listUsers(query), placeholderData: keepPreviousData, enabled })

/** Names for user ids (admins): an id that cannot be read stays without a name. */
export function useUserNames(ids: readonly string[], enabled: boolean) {
  return useQueries({
    queries: ids.map((id) => ({ queryKey: queryKeys.users.detail(id), queryFn: () => getUser(id), enabled, retry: false })),
  })
}

export const useGroups = (enabled = true) => useQuery({ queryKey: queryKeys.groups.all, queryFn: listGroups, enabled })

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
    mutationFn: (form: Partial<ModelForm> & { id: string }) => updateModel(form),
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
    mutationFn: (id: string) => toggleModel(id),
    onSuccess: (model) => {
      patch(model.id, { is_active: model.is_active, updated_at: model.updated_at })
      invalidate(queryKeys.models.all)
    },
  })
}

export function useUpdateModelAccess() {
  const invalidate = useInvalidate()
  return useMutation({
    mutationFn: ({ id, grants }: { id: string; grants: GrantInput[] }) => updateModelAccess(id, grants),
    onSuccess: () => invalidate(queryKeys.models.all),
  })
}

export function useDeleteModel() {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (id: string) => deleteModel(id),
    onSuccess: (_answer, id) => {
      // The deleted model is gone, not stale: reading it again (the editor is still open) would be a 404.
      const detail = queryKeys.models.detail(id)
      client.removeQueries({ queryKey: detail, exact: true })
      void client.invalidateQueries({ queryKey: queryKeys.models.all, predicate: (query) => query.queryKey.join('\n') !== detail.join('\n') })
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
