/** `/api/v1/templates`: configuration templates (issue #13 part 1, docs/templates.md), with the models' conventions. */
import { accountOf, BEARER, sendJsonText, validationFormatter, type App, type Guards } from '../http/route-kit.js'
import { trueResponse } from '../schema/common.js'
import type { Templates } from './templates.feature.js'
import {
  TemplateApplyReportSchema,
  TemplateApplySchema,
  TemplateCreateSchema,
  TemplateIdBodySchema,
  TemplateIdQuerySchema,
  TemplateListQuerySchema,
  TemplateListSchema,
  TemplateModelsQuerySchema,
  TemplateModelsSchema,
  TemplateResponseSchema,
  TemplateUpdateSchema,
  templateValidationCode,
} from './templates.schema.js'

export function registerTemplatesRoutes(app: App, deps: { templates: Templates; guards: Guards }): void {
  const { templates, guards } = deps
  const { store, applier } = templates
  const base = '/api/v1/templates'
  const common = { tags: ['templates'], security: BEARER }
  const schemaErrorFormatter = validationFormatter(templateValidationCode)

  app.post(`${base}/create`, {
    onRequest: guards.verified,
    schemaErrorFormatter,
    schema: {
      ...common,
      summary: 'Create a template (needs workspace.templates); from_model_id starts from a model you may read. Private unless template_access_grants share it.',
      body: TemplateCreateSchema,
      response: { 200: TemplateResponseSchema },
    },
    handler: (request) => store.create(accountOf(request), request.body),
  })

  app.get(`${base}/list`, {
    onRequest: guards.verified,
    schemaErrorFormatter,
    schema: {
      ...common,
      summary: 'A page of the templates you may read, by name.',
      querystring: TemplateListQuerySchema,
      response: { 200: TemplateListSchema },
    },
    handler: (request) => store.list(accountOf(request), request.query),
  })

  app.get(`${base}/template`, {
    onRequest: guards.verified,
    schemaErrorFormatter,
    schema: {
      ...common,
      summary: 'One template you may read (404 NOT_FOUND otherwise).',
      querystring: TemplateIdQuerySchema,
      response: { 200: TemplateResponseSchema },
    },
    handler: (request) => store.get(accountOf(request), request.query.id),
  })

  app.post(`${base}/template/update`, {
    onRequest: guards.verified,
    schemaErrorFormatter,
    schema: {
      ...common,
      summary: 'Update a template you may write: fields left out keep their value; null removes a section.',
      body: TemplateUpdateSchema,
      response: { 200: TemplateResponseSchema },
    },
    handler: (request) => store.update(accountOf(request), request.body),
  })

  app.post(`${base}/template/delete`, {
    onRequest: guards.verified,
    schemaErrorFormatter,
    schema: {
      ...common,
      summary: 'Delete a template you may write; its models forget it (template_id null).',
      body: TemplateIdBodySchema,
      response: { 200: trueResponse },
    },
    handler: (request) => store.delete(accountOf(request), request.body.id),
  })

  app.get(`${base}/template/models`, {
    onRequest: guards.verified,
    schemaErrorFormatter,
    schema: {
      ...common,
      summary: 'The models made from (or last applied from) a template that you may read, and whether they drifted from it.',
      querystring: TemplateModelsQuerySchema,
      response: { 200: TemplateModelsSchema },
    },
    handler: (request) => applier.models(accountOf(request), request.query.id, request.query.page, request.query.limit),
  })

  app.post(`${base}/template/apply`, {
    onRequest: guards.verified,
    schemaErrorFormatter,
    schema: {
      ...common,
      summary:
        'Apply a template to models (model_ids, or a filter as bulk access takes it) in merge or replace mode; answers what changed, what did not and what was refused (dry_run: the same report, nothing written).',
      body: TemplateApplySchema,
      response: { 200: TemplateApplyReportSchema },
    },
    handler: async (request, reply) => sendJsonText(reply, await applier.apply(accountOf(request), request.body)),
  })
}
