/** `/api/v1/connections` (admin): provider connections, their status and their models. */
import { z } from 'zod'
import { accountOf, BEARER, type App, type Guards } from '../http/route-kit.js'
import { trueResponse } from '../schema/common.js'
import {
  ConnectionCreateSchema,
  ConnectionIdParamsSchema,
  ConnectionResponseSchema,
  ConnectionTestSchema,
  ConnectionUpdateSchema,
  ProviderModelResponseSchema,
} from './connections.schema.js'
import type { ConnectionsService } from './connections.service.js'

export function registerConnectionsRoutes(app: App, deps: { connections: ConnectionsService; guards: Guards }): void {
  const { connections, guards } = deps
  const common = { tags: ['connections'], security: BEARER }
  const base = '/api/v1/connections'

  app.get(`${base}/`, {
    onRequest: guards.admin,
    schema: { ...common, summary: 'Every connection with its cache status (keys never shown).', response: { 200: z.array(ConnectionResponseSchema) } },
    handler: () => connections.list(),
  })

  app.post(`${base}/create`, {
    onRequest: guards.admin,
    schema: { ...common, summary: 'Add an OpenAI-compatible or Ollama connection.', body: ConnectionCreateSchema, response: { 200: ConnectionResponseSchema } },
    handler: (request) => connections.create(request.body, accountOf(request)),
  })

  app.post(`${base}/id/:id/update`, {
    onRequest: guards.admin,
    schema: {
      ...common,
      summary: 'Change a stored connection.',
      params: ConnectionIdParamsSchema,
      body: ConnectionUpdateSchema,
      response: { 200: ConnectionResponseSchema },
    },
    handler: (request) => connections.update(request.params.id, request.body, accountOf(request)),
  })

  app.delete(`${base}/id/:id/delete`, {
    onRequest: guards.admin,
    schema: { ...common, summary: 'Remove a stored connection.', params: ConnectionIdParamsSchema, response: { 200: trueResponse } },
    handler: (request) => connections.delete(request.params.id, accountOf(request)),
  })

  app.post(`${base}/id/:id/test`, {
    onRequest: guards.admin,
    schema: { ...common, summary: 'Fetch the model list now and report.', params: ConnectionIdParamsSchema, response: { 200: ConnectionTestSchema } },
    handler: (request) => connections.test(request.params.id),
  })

  app.get(`${base}/id/:id/models`, {
    onRequest: guards.admin,
    schema: {
      ...common,
      summary: 'The models this connection serves (cached).',
      params: ConnectionIdParamsSchema,
      response: { 200: z.array(ProviderModelResponseSchema) },
    },
    handler: (request) => connections.modelsOf(request.params.id),
  })

  app.post(`${base}/refresh`, {
    onRequest: guards.admin,
    schema: { ...common, summary: 'Refresh every model list now (on every instance).', response: { 200: z.array(ConnectionResponseSchema) } },
    handler: () => connections.refresh(),
  })
}
