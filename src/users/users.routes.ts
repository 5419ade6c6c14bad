/** `/api/v1/users` (admin): list, read, update and delete accounts. */
import { accountOf, BEARER, type App, type Guards } from '../http/route-kit.js'
import { trueResponse } from '../schema/common.js'
import { presentUser } from './users.presenter.js'
import { UserIdParamsSchema, UserListQuerySchema, UserListResponseSchema, UserResponseSchema, UserUpdateSchema } from './users.schema.js'
import type { UsersService } from './users.service.js'

export function registerUsersRoutes(app: App, deps: { users: UsersService; guards: Guards }): void {
  const { users, guards } = deps
  const common = { tags: ['users'], security: BEARER }

  app.get('/api/v1/users/', {
    onRequest: guards.admin,
    schema: { ...common, summary: 'List accounts, searchable and paged.', querystring: UserListQuerySchema, response: { 200: UserListResponseSchema } },
    handler: async (request) => {
      const page = await users.list(request.query)
      return { users: page.users.map(presentUser), total: page.total }
    },
  })

  app.get('/api/v1/users/:id', {
    onRequest: guards.admin,
    schema: { ...common, summary: 'One account.', params: UserIdParamsSchema, response: { 200: UserResponseSchema } },
    handler: async (request) => presentUser(await users.getOrThrow(request.params.id)),
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
