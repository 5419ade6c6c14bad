/**
 * Open WebUI's connection settings (admin): `/openai/config`, `/openai/config/update`,
 * `/openai/models[/{idx}]`, `/openai/verify`, `/ollama/config`, `/ollama/config/update`, `/ollama/verify`
 * (Open WebUI's clients call them at `${OPENAI_API_BASE_URL}` = `/openai` and `/ollama`), on modelgate's
 * own connections (owui-connections.ts).
 */
import { accountOf, BEARER, type App, type Guards } from '../http/route-kit.js'
import type { OwuiConnections } from './owui-connections.js'
import {
  OllamaConfigSchema,
  OllamaConfigUpdateSchema,
  OllamaVersionSchema,
  OpenAiConfigSchema,
  OpenAiConfigUpdateSchema,
  OpenAiModelsSchema,
  ProviderListSchema,
  UrlIdxParamsSchema,
  VerifySchema,
} from './owui.schema.js'

export function registerOwuiConnectionsRoutes(app: App, deps: { owui: OwuiConnections; guards: Guards }): void {
  const { owui, guards } = deps
  const common = { tags: ['connections'], security: BEARER }

  app.get('/openai/config', {
    onRequest: guards.admin,
    schema: { ...common, summary: 'Open WebUI: the OpenAI connections (keys as hints only).', response: { 200: OpenAiConfigSchema } },
    handler: () => owui.openAiConfig(),
  })
  app.post('/openai/config/update', {
    onRequest: guards.admin,
    schema: {
      ...common,
      summary: 'Open WebUI: make the OpenAI connections these (one transaction; a key hint posted back keeps the stored key).',
      body: OpenAiConfigUpdateSchema,
      response: { 200: OpenAiConfigSchema },
    },
    handler: (request) => owui.updateOpenAi(request.body, accountOf(request)),
  })
  app.get('/openai/models', {
    onRequest: guards.admin,
    schema: { ...common, summary: 'Open WebUI: every model of the OpenAI connections (cached lists).', response: { 200: OpenAiModelsSchema } },
    handler: () => owui.openAiModels(),
  })
  app.get('/openai/models/:idx', {
    onRequest: guards.admin,
    schema: {
      ...common,
      summary: 'Open WebUI: the models of the idx-th OpenAI connection, asked now.',
      params: UrlIdxParamsSchema,
      response: { 200: ProviderListSchema },
    },
    handler: (request) => owui.openAiModelsAt(request.params.idx),
  })
  app.post('/openai/verify', {
    onRequest: guards.admin,
    schema: { ...common, summary: "Open WebUI: try a URL and key (the provider's model list).", body: VerifySchema, response: { 200: ProviderListSchema } },
    handler: (request) => owui.verifyOpenAi(request.body),
  })
  app.get('/ollama/config', {
    onRequest: guards.admin,
    schema: { ...common, summary: 'Open WebUI: the Ollama connections (keys as hints only).', response: { 200: OllamaConfigSchema } },
    handler: () => owui.ollamaConfig(),
  })
  app.post('/ollama/config/update', {
    onRequest: guards.admin,
    schema: {
      ...common,
      summary: 'Open WebUI: make the Ollama connections these (one transaction; a key hint posted back keeps the stored key).',
      body: OllamaConfigUpdateSchema,
      response: { 200: OllamaConfigSchema },
    },
    handler: (request) => owui.updateOllama(request.body, accountOf(request)),
  })
  app.post('/ollama/verify', {
    onRequest: guards.admin,
    schema: { ...common, summary: 'Open WebUI: try an Ollama URL and key (its /api/version).', body: VerifySchema, response: { 200: OllamaVersionSchema } },
    handler: (request) => owui.verifyOllama(request.body),
  })
}
