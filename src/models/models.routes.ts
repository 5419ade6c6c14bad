/** `/api/v1/models`: Open WebUI's model management paths (design.md §2.1). */
import { Readable } from 'node:stream'
import { z } from 'zod'
import { parseIfMatch } from './if-match.js'
import { accountOf, BEARER, sendJsonText, sendStream, validationFormatter, type App, type Guards } from '../http/route-kit.js'
import { binaryBody, noBody, trueResponse } from '../schema/common.js'
import {
  AccessUpdateSchema,
  BaseModelsQuerySchema,
  BaseModelsResponseSchema,
  BulkAccessBodySchema,
  BulkAccessReportSchema,
  ConflictsResponseSchema,
  GroupModelsParamsSchema,
  GroupModelsQuerySchema,
  GroupModelsResponseSchema,
  IfMatchHeadersSchema,
  ImportReportSchema,
  ListQuerySchema,
  ListResponseSchema,
  ModelAccessResponseSchema,
  ModelFormSchema,
  ModelIdBodySchema,
  ModelIdQuerySchema,
  ModelResponseSchema,
  ModelUpdateSchema,
  modelValidationCode,
  ModelWriteResponseSchema,
  OptionalModelIdQuerySchema,
  SyncBodySchema,
  SyncPlanSchema,
} from './models.schema.js'
import type { ModelResponse } from './models.schema.js'
import type { Models } from './models.feature.js'

/** Serialises an export as a JSON array, one model at a time. */
function jsonArrayStream(models: AsyncIterable<ModelResponse>): Readable {
  return Readable.from(
    (async function* () {
      let first = true
      yield '['
      for await (const model of models) {
        yield (first ? '' : ',') + JSON.stringify(model)
        first = false
      }
      yield ']'
    })(),
  )
}

export function registerModelsRoutes(
  app: App,
  deps: { models: Models; guards: Guards; importBodyLimitBytes: number; profileImageHosts?: readonly string[] },
): void {
  const { models, guards } = deps
  const { queries, writes, transfer } = models
  const base = '/api/v1/models'
  const common = { tags: ['models'], security: BEARER }
  // Failures name the field and carry the model catalogue's codes (MODEL_ID_TOO_LONG, INVALID_PARAMS, …).
  const schemaErrorFormatter = validationFormatter(modelValidationCode)

  app.get(`${base}/list`, {
    onRequest: guards.verified,
    schemaErrorFormatter,
    schema: {
      ...common,
      summary: 'A page of the presets you may read, with their owner and your write access.',
      querystring: ListQuerySchema,
      response: { 200: ListResponseSchema },
    },
    // Served as pre-serialized JSON from the page cache; `Cache-Control: no-cache` asks for a fresh page.
    handler: async (request, reply) => {
      const fresh = /no-cache/i.test(request.headers['cache-control'] ?? '')
      // Already serialized from a value of the response schema's type (checked against it under test).
      return sendJsonText(reply, await queries.listJson(accountOf(request), request.query, { fresh }))
    },
  })

  app.get(`${base}/base`, {
    onRequest: guards.admin,
    schema: { ...common, summary: 'Admin: base-model override rows (base_model_id null).', response: { 200: z.array(ModelResponseSchema) } },
    handler: () => queries.overrides(),
  })

  app.get(`${base}/base/list`, {
    onRequest: guards.admin,
    schemaErrorFormatter,
    schema: {
      ...common,
      summary:
        'Admin: every provider model with its connection, override row (name, on/off, tags, grants) and status, then override rows no provider serves any more; filtered by connection and text, a page at a time.',
      querystring: BaseModelsQuerySchema,
      response: { 200: BaseModelsResponseSchema },
    },
    handler: (request) => queries.baseModels(accountOf(request), request.query),
  })

  app.get(`${base}/conflicts`, {
    onRequest: guards.admin,
    schema: {
      ...common,
      summary: 'Admin: models whose id a provider serves but whose owner is not an admin; they never shadow the provider model.',
      response: { 200: ConflictsResponseSchema },
    },
    handler: async () => ({ items: await queries.conflicts() }),
  })

  app.get(`${base}/tags`, {
    onRequest: guards.verified,
    schema: { ...common, summary: 'Sorted unique tag names over the presets you may read.', response: { 200: z.array(z.string()) } },
    handler: (request) => queries.tags(accountOf(request)),
  })

  app.post(`${base}/create`, {
    onRequest: guards.verified,
    schemaErrorFormatter,
    schema: {
      ...common,
      summary: 'Create a model (needs workspace.models). Without an access form it is private.',
      body: ModelFormSchema,
      response: { 200: ModelWriteResponseSchema },
    },
    handler: async (request, reply) => withEtag(reply, await writes.create(accountOf(request), request.body)),
  })

  app.get(`${base}/model`, {
    onRequest: guards.verified,
    schemaErrorFormatter,
    schema: {
      ...common,
      summary: 'One model you may read (404 MODEL_NOT_FOUND otherwise).',
      querystring: ModelIdQuerySchema,
      response: { 200: ModelAccessResponseSchema },
    },
    handler: async (request, reply) => {
      const { json, version } = await queries.getJson(accountOf(request), request.query.id)
      return sendJsonText(reply.header('etag', `"${version}"`), json)
    },
  })

  app.post(`${base}/model/update`, {
    onRequest: guards.verified,
    schemaErrorFormatter,
    schema: {
      ...common,
      summary: 'Update a model you may write. Fields left out keep their value; no access form keeps the grants.',
      querystring: OptionalModelIdQuerySchema,
      headers: IfMatchHeadersSchema,
      body: ModelUpdateSchema,
      response: { 200: ModelWriteResponseSchema },
    },
    handler: async (request, reply) => withEtag(reply, await writes.update(accountOf(request), request.query.id, request.body, ifMatch(request))),
  })

  app.post(`${base}/model/toggle`, {
    onRequest: guards.verified,
    schemaErrorFormatter,
    schema: {
      ...common,
      summary: 'Flip is_active.',
      querystring: ModelIdQuerySchema,
      headers: IfMatchHeadersSchema,
      response: { 200: ModelWriteResponseSchema },
    },
    handler: async (request, reply) => withEtag(reply, await writes.toggle(accountOf(request), request.query.id, ifMatch(request))),
  })

  app.post(`${base}/model/access/update`, {
    onRequest: guards.verified,
    schemaErrorFormatter,
    schema: {
      ...common,
      summary: 'Replace the grants of a model you may write (admins: creates an override row for a provider model).',
      headers: IfMatchHeadersSchema,
      body: AccessUpdateSchema,
      response: { 200: ModelWriteResponseSchema },
    },
    handler: async (request, reply) => withEtag(reply, await writes.updateAccess(accountOf(request), request.body, ifMatch(request))),
  })

  app.post(`${base}/access/bulk`, {
    onRequest: guards.verified,
    schemaErrorFormatter,
    schema: {
      ...common,
      summary:
        'Add and remove grants on many models (model_ids, at most 10000, or a filter) under the rules of a single access update; answers what changed, what did not and what was refused (dry_run: the same report, nothing written).',
      body: BulkAccessBodySchema,
      response: { 200: BulkAccessReportSchema },
    },
    handler: async (request, reply) => sendJsonText(reply, await models.bulkAccess.change(accountOf(request), request.body)),
  })

  // Under /groups, but served here: the query is the registry's, and groups may not import models.
  app.get('/api/v1/groups/id/:id/models', {
    onRequest: guards.admin,
    schemaErrorFormatter,
    schema: {
      ...common,
      tags: ['groups'],
      summary: 'Admin: every model with a grant for this group, with the permission it gives (404 for an unknown group).',
      params: GroupModelsParamsSchema,
      querystring: GroupModelsQuerySchema,
      response: { 200: GroupModelsResponseSchema },
    },
    handler: (request) => models.bulkAccess.groupModels(request.params.id, request.query.page, request.query.limit),
  })

  app.post(`${base}/model/delete`, {
    onRequest: guards.verified,
    schemaErrorFormatter,
    schema: {
      ...common,
      summary: 'Delete a model you may write; its grants go with it (its history stays: the trash can restore it).',
      headers: IfMatchHeadersSchema,
      body: ModelIdBodySchema,
      response: { 200: trueResponse },
    },
    handler: (request) => writes.delete(accountOf(request), request.body.id, ifMatch(request)),
  })

  app.delete(`${base}/model/delete`, {
    onRequest: guards.verified,
    schemaErrorFormatter,
    schema: {
      ...common,
      summary: 'Legacy form of POST /model/delete.',
      querystring: ModelIdQuerySchema,
      headers: IfMatchHeadersSchema,
      response: { 200: trueResponse },
    },
    handler: (request) => writes.delete(accountOf(request), request.query.id, ifMatch(request)),
  })

  app.delete(`${base}/delete/all`, {
    onRequest: guards.admin,
    schema: { ...common, summary: 'Admin: delete every model and grant.', response: { 200: trueResponse } },
    handler: (request) => writes.deleteAll(accountOf(request)),
  })

  for (const method of ['GET', 'POST'] as const) {
    app.route({
      method,
      url: `${base}/export`,
      onRequest: guards.verified,
      schema: {
        ...common,
        summary: 'Every model you may write (admin: all), as a JSON array that /import accepts. Needs workspace.models_export.',
        // Streamed one model at a time (test/streams.test.ts checks it against this schema).
        response: { 200: z.array(ModelResponseSchema).describe('The models, as a JSON array.') },
      },
      handler: async (request, reply) => sendStream(reply, jsonArrayStream(await transfer.exportModels(accountOf(request))), 'application/json; charset=utf-8'),
    })
  }

  app.post(`${base}/import`, {
    onRequest: guards.verified,
    bodyLimit: deps.importBodyLimitBytes,
    schema: {
      ...common,
      summary: 'Import an export file ({models:[…]} or an array). One transaction; answers what was created, updated and skipped.',
      querystring: z.object({ strict: z.stringbool().default(false).describe('Refuse the whole file when any item would be skipped.') }),
      body: z.unknown(),
      response: { 200: ImportReportSchema },
    },
    handler: (request) => transfer.importModels(accountOf(request), request.body, request.query.strict),
  })

  app.post(`${base}/sync`, {
    onRequest: guards.admin,
    bodyLimit: deps.importBodyLimitBytes,
    schema: {
      ...common,
      summary: 'Admin: make the table equal to the payload (create, update, delete) in one transaction; dry_run answers the plan.',
      body: SyncBodySchema,
      response: { 200: SyncPlanSchema },
    },
    handler: (request) => models.sync.sync(accountOf(request), request.body.models, request.body.dry_run),
  })

  app.get(`${base}/model/profile/image`, {
    // Browsers load this from <img src>, which cannot send a header: the session cookie is accepted too.
    onRequest: guards.verifiedAllowCookie,
    schemaErrorFormatter,
    schema: {
      ...common,
      summary: 'The model picture: an inline image with an ETag (304 on If-None-Match), or a redirect.',
      querystring: z.looseObject({ id: ModelIdQuerySchema.shape.id }),
      response: {
        200: { description: 'The picture (an inline data: URI decoded), with an ETag.', content: { 'image/*': { schema: binaryBody() } } },
        302: noBody('The picture is elsewhere (an allowed http(s) URL, or the default picture): see Location.'),
        304: noBody('Not modified (If-None-Match matched the ETag).'),
      },
    },
    handler: async (request, reply) => {
      const image = await queries.profileImage(accountOf(request), request.query.id, deps.profileImageHosts ?? [])
      if (image.kind === 'redirect') return reply.redirect(image.location, 302)
      void reply.header('etag', image.etag).header('cache-control', 'private, max-age=0, must-revalidate')
      if (request.headers['if-none-match'] === image.etag) return reply.status(304).send()
      // An SVG could carry script: never let it run in our origin.
      void reply.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox")
      void reply.header('x-content-type-options', 'nosniff').header('content-disposition', 'inline')
      return reply.type(image.contentType).send(image.body)
    },
  })
}

/** The If-Match of a write (400 naming headers.if-match when malformed). */
const ifMatch = (request: { headers: Record<string, string | string[] | undefined> }) => parseIfMatch(request.headers['if-match'])

/** A write's answer carries the model's new version as its ETag, ready for the next If-Match. */
function withEtag<T extends { version: number }>(reply: { header(name: string, value: string): unknown }, model: T): T {
  reply.header('etag', `"${model.version}"`)
  return model
}
