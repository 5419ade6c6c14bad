/** `/api/v1/models/model/access/explain` and `/effective` (issue #13, docs/access-control.md). */
import { modelValidationCode } from '../models/models.schema.js'
import { accountOf, BEARER, validationFormatter, type App, type Guards } from '../http/route-kit.js'
import type { AccessExplainer } from './access-explain.js'
import { AccessExplainQuerySchema, AccessExplainSchema, EffectiveAccessQuerySchema, EffectiveAccessSchema } from './explain.schema.js'

export function registerExplainRoutes(app: App, deps: { explainer: AccessExplainer; guards: Guards }): void {
  const { explainer, guards } = deps
  const common = { tags: ['access'], security: BEARER }
  const schemaErrorFormatter = validationFormatter(modelValidationCode)

  app.get('/api/v1/models/model/access/explain', {
    onRequest: guards.verified,
    schemaErrorFormatter,
    schema: {
      ...common,
      summary: "Why a user may or may not read, write and share a model (admins and the model's writers).",
      querystring: AccessExplainQuerySchema,
      response: { 200: AccessExplainSchema },
    },
    handler: (request) => explainer.explain(accountOf(request), request.query.id, request.query.user_id),
  })

  app.get('/api/v1/models/model/access/effective', {
    onRequest: guards.verified,
    schemaErrorFormatter,
    schema: {
      ...common,
      summary: "Everyone who can read a model, with write and the reasons (admins and the model's writers).",
      querystring: EffectiveAccessQuerySchema,
      response: { 200: EffectiveAccessSchema },
    },
    handler: (request) => explainer.effective(accountOf(request), request.query.id, request.query.page, request.query.limit),
  })
}
