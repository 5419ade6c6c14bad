/** `/api/v1/groups`: Open WebUI's group paths (admin; non-admins list and read the groups they are in). */
import { z } from 'zod'
import { accountOf, BEARER, type App, type Guards } from '../http/route-kit.js'
import { trueResponse } from '../schema/common.js'
import {
  GroupCreateSchema,
  GroupIdParamsSchema,
  GroupInfoSchema,
  GroupListQuerySchema,
  GroupMembersSchema,
  GroupResponseSchema,
  GroupUpdateSchema,
} from './groups.schema.js'
import type { GroupsService } from './groups.service.js'

export function registerGroupsRoutes(app: App, deps: { groups: GroupsService; guards: Guards }): void {
  const { groups, guards } = deps
  const common = { tags: ['groups'], security: BEARER }
  const withGroup = { params: GroupIdParamsSchema, response: { 200: GroupResponseSchema } }

  app.get('/api/v1/groups/', {
    onRequest: guards.verified,
    schema: {
      ...common,
      summary:
        'Admins: every group with its members. Others: the groups they are in (user_ids: only themselves). share=true: the groups offered to you as share targets (data.config.share).',
      querystring: GroupListQuerySchema,
      response: { 200: z.array(GroupResponseSchema) },
    },
    handler: (request) => groups.list(accountOf(request), request.query.share),
  })

  app.get('/api/v1/groups/id/:id/info', {
    onRequest: guards.verified,
    schema: {
      ...common,
      summary: 'A group without its member list: admins any, others one they are in (another answers 404).',
      params: GroupIdParamsSchema,
      response: { 200: GroupInfoSchema },
    },
    handler: (request) => groups.info(accountOf(request), request.params.id),
  })

  app.post('/api/v1/groups/create', {
    onRequest: guards.admin,
    schema: { ...common, summary: 'Create a group.', body: GroupCreateSchema, response: { 200: GroupResponseSchema } },
    handler: (request) => groups.create(request.body, accountOf(request)),
  })

  app.get('/api/v1/groups/id/:id', {
    onRequest: guards.admin,
    schema: { ...common, summary: 'One group.', ...withGroup },
    handler: (request) => groups.getOrThrow(request.params.id),
  })

  app.post('/api/v1/groups/id/:id/update', {
    onRequest: guards.admin,
    schema: { ...common, summary: 'Change name, description, permissions or the member list.', body: GroupUpdateSchema, ...withGroup },
    handler: (request) => groups.update(request.params.id, request.body, accountOf(request)),
  })

  app.post('/api/v1/groups/id/:id/users/add', {
    onRequest: guards.admin,
    schema: { ...common, summary: 'Add members (400 names any unknown user).', body: GroupMembersSchema, ...withGroup },
    handler: (request) => groups.addMembers(request.params.id, request.body.user_ids, accountOf(request)),
  })

  app.post('/api/v1/groups/id/:id/users/remove', {
    onRequest: guards.admin,
    schema: { ...common, summary: 'Remove members.', body: GroupMembersSchema, ...withGroup },
    handler: (request) => groups.removeMembers(request.params.id, request.body.user_ids, accountOf(request)),
  })

  app.delete('/api/v1/groups/id/:id/delete', {
    onRequest: guards.admin,
    schema: { ...common, summary: 'Delete a group; its memberships and grants go with it.', params: GroupIdParamsSchema, response: { 200: trueResponse } },
    handler: (request) => groups.delete(request.params.id, accountOf(request)),
  })
}
