/** `/api/v1/models/model/history…`, the trash and pruning (issue #12, docs/history.md). */
import { parseIfMatch } from '../models/if-match.js'
import { IfMatchHeadersSchema, modelValidationCode, ModelWriteResponseSchema } from '../models/models.schema.js'
import { accountOf, BEARER, validationFormatter, type App, type Guards } from '../http/route-kit.js'
import {
  DiffQuerySchema,
  HistoryListQuerySchema,
  HistoryPageSchema,
  ModelDiffSchema,
  PruneBodySchema,
  PruneResponseSchema,
  RestoreBodySchema,
  TrashPageSchema,
  TrashQuerySchema,
  VersionDetailSchema,
  VersionQuerySchema,
} from './history.schema.js'
import type { ModelHistory } from './model-history.js'

export function registerHistoryRoutes(app: App, deps: { history: ModelHistory; guards: Guards }): void {
  const { history, guards } = deps
  const base = '/api/v1/models'
  const common = { tags: ['history'], security: BEARER }
  // Bad ids answer the model catalogue's codes (MODEL_ID_TOO_LONG, INVALID_MODEL_ID), as the model routes.
  const schemaErrorFormatter = validationFormatter(modelValidationCode)

  app.get(`${base}/model/history`, {
    onRequest: guards.verified,
    schemaErrorFormatter,
    schema: {
      ...common,
      summary: 'The versions of a model you may read, newest first (404 MODEL_NOT_FOUND otherwise).',
      querystring: HistoryListQuerySchema,
      response: { 200: HistoryPageSchema },
    },
    handler: (request) => history.list(accountOf(request), request.query),
  })

  app.get(`${base}/model/history/version`, {
    onRequest: guards.verified,
    schemaErrorFormatter,
    schema: {
      ...common,
      summary: 'One version with its snapshot (grants only for writers and admins).',
      querystring: VersionQuerySchema,
      response: { 200: VersionDetailSchema },
    },
    handler: (request) => history.version(accountOf(request), request.query.id, request.query.version),
  })

  app.get(`${base}/model/history/diff`, {
    onRequest: guards.verified,
    schemaErrorFormatter,
    schema: {
      ...common,
      summary: 'What changed from one version to another (grant changes only for writers and admins).',
      querystring: DiffQuerySchema,
      response: { 200: ModelDiffSchema },
    },
    handler: (request) => history.diff(accountOf(request), request.query.id, request.query.from, request.query.to),
  })

  app.post(`${base}/model/history/restore`, {
    onRequest: guards.verified,
    schemaErrorFormatter,
    schema: {
      ...common,
      summary: "Make a version's content the model again, as a new version (the update's checks); brings a deleted model back (its last owner, admins).",
      headers: IfMatchHeadersSchema,
      body: RestoreBodySchema,
      response: { 200: ModelWriteResponseSchema },
    },
    handler: async (request, reply) => {
      const model = await history.restore(accountOf(request), request.body, parseIfMatch(request.headers['if-match']))
      void reply.header('etag', `"${model.version}"`)
      return model
    },
  })

  app.get(`${base}/trash`, {
    onRequest: guards.verified,
    schema: {
      ...common,
      summary: 'Deleted models that can be restored: yours (admins: all), latest deletion first.',
      querystring: TrashQuerySchema,
      response: { 200: TrashPageSchema },
    },
    handler: (request) => history.trash(accountOf(request), request.query.page, request.query.limit),
  })

  app.post(`${base}/history/prune`, {
    onRequest: guards.admin,
    schemaErrorFormatter,
    schema: {
      ...common,
      summary: 'Admin: delete all but the newest `keep` versions of each model (or of model_id).',
      body: PruneBodySchema,
      response: { 200: PruneResponseSchema },
    },
    handler: (request) => history.prune(accountOf(request), request.body),
  })
}
