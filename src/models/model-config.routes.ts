/**
 * Open WebUI's model configuration (`src/lib/apis/configs/index.ts` getModelsConfig / setModelsConfig):
 * `GET/POST /api/v1/configs/models` (admin, as Open WebUI's router), and `GET /api/v1/configs/models/defaults`
 * (any verified user: what the model editor prefills a new preset with).
 */
import { accountOf, BEARER, type App, type Guards } from '../http/route-kit.js'
import type { ModelConfigStore } from './model-config.js'
import { ModelDefaultsSchema, ModelsConfigSchema, ModelsConfigUpdateSchema } from './model-config.schema.js'

export function registerModelConfigRoutes(app: App, deps: { config: ModelConfigStore; guards: Guards }): void {
  const { config, guards } = deps
  const common = { tags: ['models'], security: BEARER }

  app.get('/api/v1/configs/models', {
    onRequest: guards.admin,
    schema: {
      ...common,
      summary: 'Open WebUI: the model configuration (default and pinned models, order, defaults of new presets).',
      response: { 200: ModelsConfigSchema },
    },
    handler: () => config.get(),
  })
  app.post('/api/v1/configs/models', {
    onRequest: guards.admin,
    schema: {
      ...common,
      summary: 'Open WebUI: save the model configuration (keys left out keep their value; null clears). Audited as config.update.',
      body: ModelsConfigUpdateSchema,
      response: { 200: ModelsConfigSchema },
    },
    handler: (request) => config.update(request.body, accountOf(request)),
  })
  app.get('/api/v1/configs/models/defaults', {
    onRequest: guards.verified,
    schema: { ...common, summary: 'The meta and params a new preset starts from ({} when unset).', response: { 200: ModelDefaultsSchema } },
    handler: () => config.defaults(),
  })
}
