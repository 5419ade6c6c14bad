/**
 * `/api/v1/users`: account administration (admin), and Open WebUI's user paths any signed-in account may
 * call (search, its own info and groups). Static paths (`/users/all`, `/users/search`, `/users/groups`,
 * `/users/default/permissions`) win over `/users/:id` in the router, whatever the registration order.
 */
import { z } from 'zod'
import { DefaultPermissionsSchema, DefaultPermissionsUpdateSchema } from '../auth/auth.schema.js'
import type { AccountSettings } from '../auth/account-settings.js'
import { GroupResponseSchema } from '../groups/groups.schema.js'
import type { GroupsService } from '../groups/groups.service.js'
import { accountOf, BEARER, type App, type Guards } from '../http/route-kit.js'
import { trueResponse } from '../schema/common.js'
import { presentUser } from './users.presenter.js'
import {
  UserAllResponseSchema,
  UserIdParamsSchema,
  UserListQuerySchema,
  UserListResponseSchema,
  UserResponseSchema,
  UserSearchQuerySchema,
  UserSearchResponseSchema,
  UserUpdateSchema,
  UserWithGroupsSchema,
} from './users.schema.js'
import type { UsersService } from './users.service.js'

export function registerUsersRoutes(app: App, deps: { users: UsersService; groups: GroupsService; settings: AccountSettings; guards: Guards }): void {
  const { users, groups, settings, guards } = deps
  const common = { tags: ['users'], security: BEARER }

  app.get('/api/v1/users/', {
    onRequest: guards.admin,
    schema: {
      ...common,
      summary: 'List accounts, searchable and paged, each with its group ids.',
      querystring: UserListQuerySchema,
      response: { 200: UserListResponseSchema },
    },
    handler: (request) => users.list(request.query),
  })

  app.get('/api/v1/users/all', {
    onRequest: guards.admin,
    schema: { ...common, summary: 'Every account, not paged.', response: { 200: UserAllResponseSchema } },
    handler: async () => {
      const all = await users.listAll()
      return { users: all.users.map(presentUser), total: all.total }
    },
  })

  app.get('/api/v1/users/search', {
    onRequest: guards.verified,
    schema: {
      ...common,
      summary: 'Find accounts (30 a page). Admins: every field, by name or email; others: id, name and picture, by name only.',
      querystring: UserSearchQuerySchema,
      response: { 200: UserSearchResponseSchema },
    },
    handler: (request) => users.search(accountOf(request), request.query),
  })

  app.get('/api/v1/users/groups', {
    onRequest: guards.verified,
    schema: { ...common, summary: 'The groups you are a member of.', response: { 200: z.array(GroupResponseSchema) } },
    handler: (request) => {
      const actor = accountOf(request)
      return groups.groupsOf(actor, actor.id)
    },
  })

  app.get('/api/v1/users/default/permissions', {
    onRequest: guards.admin,
    schema: {
      ...common,
      summary: 'The feature permissions every user has before groups (the environment gives the first value).',
      response: { 200: DefaultPermissionsSchema },
    },
    handler: () => settings.defaultPermissions(),
  })

  app.post('/api/v1/users/default/permissions', {
    onRequest: guards.admin,
    schema: {
      ...common,
      summary: 'Replace the default feature permissions (unknown keys kept). Applies to every session at once; audited.',
      body: DefaultPermissionsUpdateSchema,
      response: { 200: DefaultPermissionsSchema },
    },
    handler: (request) => settings.updateDefaultPermissions(request.body, accountOf(request)),
  })

  app.get('/api/v1/users/:id', {
    onRequest: guards.admin,
    schema: { ...common, summary: 'One account.', params: UserIdParamsSchema, response: { 200: UserResponseSchema } },
    handler: async (request) => presentUser(await users.getOrThrow(request.params.id)),
  })

  app.get('/api/v1/users/:id/info', {
    onRequest: guards.verified,
    schema: {
      ...common,
      summary: "An account with its group ids: admins any, others their own (another's answers 404).",
      params: UserIdParamsSchema,
      response: { 200: UserWithGroupsSchema },
    },
    handler: (request) => users.info(accountOf(request), request.params.id),
  })

  app.get('/api/v1/users/:id/groups', {
    onRequest: guards.verified,
    schema: {
      ...common,
      summary: "An account's groups: admins any account's, others their own (another's answers 404).",
      params: UserIdParamsSchema,
      response: { 200: z.array(GroupResponseSchema) },
    },
    handler: async (request) => {
      const actor = accountOf(request)
      await users.requireGroupsReadable(actor, request.params.id)
      return groups.groupsOf(actor, request.params.id)
    },
  })

  app.post('/api/v1/users/:id/update', {
    onRequest: guards.admin,
    schema: {
      ...common,
      summary: 'Change role, name, email, picture or password. The last admin keeps the role (409).',
      params: UserIdParamsSchema,
      body: UserUpdateSchema,
      response: { 200: UserResponseSchema },
    },
    handler: async (request) => presentUser(await users.update(request.params.id, request.body, accountOf(request))),
  })

  app.delete('/api/v1/users/:id', {
    onRequest: guards.admin,
    schema: {
      ...common,
      summary: 'Delete an account; what it owned passes to the deleting admin.',
      params: UserIdParamsSchema,
      response: { 200: trueResponse },
    },
    handler: (request) => users.delete(request.params.id, accountOf(request)),
  })
}
