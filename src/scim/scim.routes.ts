/**
 * `/api/v1/scim/v2`: SCIM 2.0 for identity providers (docs/sso.md, "SCIM"). Its own scope: bodies in
 * `application/scim+json` (or JSON), answers in `application/scim+json`, and every error, the guard's
 * and unknown paths' included, in the SCIM error schema rather than the catalogue's `{detail, code}`.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { AppError } from '../errors/app-error.js'
import { originOf, type App, type Guards } from '../http/route-kit.js'
import { noBody } from '../schema/common.js'
import { listOfAll, resourceTypes, schemas, serviceProviderConfig } from './scim-discovery.js'
import { ScimError } from './scim-error.js'
import {
  ResourceTypeListSchema,
  SCIM_ERROR_SCHEMA,
  SCIM_PREFIX,
  SchemaListSchema,
  ScimErrorSchema,
  ScimGroupInputSchema,
  ScimGroupListSchema,
  ScimGroupSchema,
  ScimIdParamsSchema,
  ScimListQuerySchema,
  ScimPatchSchema,
  ScimUserInputSchema,
  ScimUserListSchema,
  ScimUserSchema,
  ServiceProviderConfigSchema,
  type ScimErrorBody,
  type ScimType,
} from './scim.schema.js'
import { excluded, type ScimService } from './scim.service.js'

const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8'

export function registerScimRoutes(app: App, deps: { scim: ScimService; guards: Guards }): void {
  const { scim, guards } = deps
  void app.register(
    (plain, _options, done) => {
      const scope = plain.withTypeProvider<ZodTypeProvider>()
      // Identity providers send application/scim+json (RFC 7644 §3.1); it is parsed as JSON, as is JSON itself.
      const parseJson = scope.getDefaultJsonParser('error', 'error')
      scope.addContentTypeParser('application/scim+json', { parseAs: 'string' }, (request, body, next) => {
        const text = typeof body === 'string' ? body : body.toString('utf8')
        if (text.trim() === '') next(null, undefined)
        else void parseJson(request, text, next)
      })
      scope.addHook('onRequest', async (_request, reply) => {
        void reply.type(SCIM_CONTENT_TYPE)
      })
      scope.setErrorHandler((error, request, reply) => sendScimError(error, request, reply))
      scope.setNotFoundHandler((request, reply) =>
        sendScimError(new ScimError('NOT_FOUND', `No SCIM endpoint ${request.method} ${request.url.split('?')[0] ?? ''}.`), request, reply),
      )

      const errors = { '4xx': ScimErrorSchema, '5xx': ScimErrorSchema }
      const common = { tags: ['scim'], security: [{ scimToken: [] }] }
      const base = (request: FastifyRequest) => `${request.protocol}://${request.host}${SCIM_PREFIX}`
      const withId = { params: ScimIdParamsSchema }

      scope.get('/ServiceProviderConfig', {
        onRequest: guards.scim,
        schema: { ...common, summary: 'What this SCIM server supports (RFC 7644 §5).', response: { 200: ServiceProviderConfigSchema, ...errors } },
        handler: (request) => serviceProviderConfig(base(request)),
      })
      scope.get('/ResourceTypes', {
        onRequest: guards.scim,
        schema: { ...common, summary: 'The resource types: User and Group.', response: { 200: ResourceTypeListSchema, ...errors } },
        handler: (request) => listOfAll(resourceTypes(base(request))),
      })
      scope.get('/Schemas', {
        onRequest: guards.scim,
        schema: { ...common, summary: 'The User and Group schemas as this server reads them.', response: { 200: SchemaListSchema, ...errors } },
        handler: (request) => listOfAll(schemas(base(request))),
      })

      // ─── Users ───
      scope.get('/Users', {
        onRequest: guards.scim,
        schema: {
          ...common,
          summary: 'Accounts, oldest first; filter: userName, externalId, displayName, id (eq, joined with and).',
          querystring: ScimListQuerySchema,
          response: { 200: ScimUserListSchema, ...errors },
        },
        handler: (request) => scim.listUsers(request.query, base(request)),
      })
      scope.get('/Users/:id', {
        onRequest: guards.scim,
        schema: { ...common, summary: 'One account.', ...withId, response: { 200: ScimUserSchema, ...errors } },
        handler: (request) => scim.getUser(request.params.id, base(request)),
      })
      scope.post('/Users', {
        onRequest: guards.scim,
        schema: {
          ...common,
          summary: 'Provision an account (409 uniqueness when userName or externalId is taken).',
          body: ScimUserInputSchema,
          response: { 201: ScimUserSchema, ...errors },
        },
        handler: async (request, reply) => {
          const user = await scim.createUser(request.body, originOf(request), base(request))
          return reply.status(201).header('location', user.meta.location).send(user)
        },
      })
      scope.put('/Users/:id', {
        onRequest: guards.scim,
        schema: {
          ...common,
          summary: 'Replace the attributes the body carries (active: false deactivates).',
          ...withId,
          body: ScimUserInputSchema,
          response: { 200: ScimUserSchema, ...errors },
        },
        handler: (request) => scim.replaceUser(request.params.id, request.body, originOf(request), base(request)),
      })
      scope.patch('/Users/:id', {
        onRequest: guards.scim,
        schema: {
          ...common,
          summary: 'PatchOp: add, remove, replace (Entra ID and Okta forms).',
          ...withId,
          body: ScimPatchSchema,
          response: { 200: ScimUserSchema, ...errors },
        },
        handler: (request) => scim.patchUser(request.params.id, request.body, originOf(request), base(request)),
      })
      scope.delete('/Users/:id', {
        onRequest: guards.scim,
        schema: {
          ...common,
          summary: 'Delete the account (its models go to the oldest other admin).',
          ...withId,
          response: { 204: noBody('Deleted.'), ...errors },
        },
        handler: async (request, reply) => {
          await scim.deleteUser(request.params.id, originOf(request))
          return reply.status(204).send()
        },
      })

      // ─── Groups ───
      scope.get('/Groups', {
        onRequest: guards.scim,
        schema: {
          ...common,
          summary: 'Groups, oldest first; filter: displayName, externalId, id, members[value eq …] (eq, joined with and).',
          querystring: ScimListQuerySchema,
          response: { 200: ScimGroupListSchema, ...errors },
        },
        handler: (request) => scim.listGroups(request.query, base(request)),
      })
      scope.get('/Groups/:id', {
        onRequest: guards.scim,
        schema: {
          ...common,
          summary: 'One group (excludedAttributes=members leaves the members out).',
          ...withId,
          querystring: ScimListQuerySchema.pick({ attributes: true, excludedAttributes: true }),
          response: { 200: ScimGroupSchema, ...errors },
        },
        handler: (request) => scim.getGroup(request.params.id, base(request), excluded(request.query, 'members')),
      })
      scope.post('/Groups', {
        onRequest: guards.scim,
        schema: {
          ...common,
          summary: 'Provision a group (409 uniqueness when displayName or externalId is taken).',
          body: ScimGroupInputSchema,
          response: { 201: ScimGroupSchema, ...errors },
        },
        handler: async (request, reply) => {
          const group = await scim.createGroup(request.body, originOf(request), base(request))
          return reply.status(201).header('location', group.meta.location).send(group)
        },
      })
      scope.put('/Groups/:id', {
        onRequest: guards.scim,
        schema: {
          ...common,
          summary: 'Replace the name, and externalId and members when given.',
          ...withId,
          body: ScimGroupInputSchema,
          response: { 200: ScimGroupSchema, ...errors },
        },
        handler: (request) => scim.replaceGroup(request.params.id, request.body, originOf(request), base(request)),
      })
      scope.patch('/Groups/:id', {
        onRequest: guards.scim,
        schema: {
          ...common,
          summary: 'PatchOp: add, remove or replace members, rename (Entra ID and Okta forms).',
          ...withId,
          querystring: ScimListQuerySchema.pick({ attributes: true, excludedAttributes: true }),
          body: ScimPatchSchema,
          response: { 200: ScimGroupSchema, ...errors },
        },
        handler: (request) => scim.patchGroup(request.params.id, request.body, originOf(request), base(request), excluded(request.query, 'members')),
      })
      scope.delete('/Groups/:id', {
        onRequest: guards.scim,
        schema: {
          ...common,
          summary: 'Delete the group; its memberships and the grants naming it go.',
          ...withId,
          response: { 204: noBody('Deleted.'), ...errors },
        },
        handler: async (request, reply) => {
          await scim.deleteGroup(request.params.id, originOf(request))
          return reply.status(204).send()
        },
      })
      done()
    },
    { prefix: SCIM_PREFIX },
  )
}

/** Fastify's client errors before a handler runs, by code. */
const FASTIFY_ERRORS: Record<string, { status: number; scimType?: ScimType; detail: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, detail: 'The request body is too large.' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, detail: 'Unsupported Content-Type: send application/scim+json or application/json.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, scimType: 'invalidSyntax', detail: 'The request body is empty; send a JSON body.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, scimType: 'invalidSyntax', detail: 'Content-Length does not match the body.' },
}

/** Any failure as a SCIM error (RFC 7644 §3.12): status as a string, scimType where one applies. */
function scimErrorOf(error: unknown, request: FastifyRequest): { status: number; body: ScimErrorBody; headers?: Record<string, string> } {
  const body = (status: number, detail: string, scimType?: ScimType): ScimErrorBody => ({
    schemas: [SCIM_ERROR_SCHEMA],
    status: String(status),
    ...(scimType && { scimType }),
    detail,
  })
  if (error instanceof AppError) {
    if (error.status >= 500) {
      request.log.warn({ err: error }, 'SCIM request failed')
      return { status: error.status, body: body(error.status, error.detail) }
    }
    // A schema failure: a malformed PATCH is bad syntax, any other body or query a bad value.
    const scimType =
      error instanceof ScimError
        ? error.scimType
        : error.code === 'VALIDATION_ERROR'
          ? request.method === 'PATCH'
            ? 'invalidSyntax'
            : 'invalidValue'
          : undefined
    return { status: error.status, body: body(error.status, error.detail, scimType), ...(error.headers && { headers: error.headers }) }
  }
  const fastifyError = error as FastifyError
  const known = fastifyError.code ? FASTIFY_ERRORS[fastifyError.code] : undefined
  if (known) return { status: known.status, body: body(known.status, known.detail, known.scimType) }
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) {
    return { status: 400, body: body(400, `Malformed JSON body: ${error.message}`, 'invalidSyntax') }
  }
  const status = fastifyError.statusCode
  // Other 400s of Fastify come before validation: the body could not be read (bad syntax).
  if (status !== undefined && status >= 400 && status < 500) {
    return { status, body: body(status, fastifyError.message || 'The request is not valid.', status === 400 ? 'invalidSyntax' : undefined) }
  }
  request.log.error({ err: error }, 'SCIM request failed')
  return { status: 500, body: body(500, `Something went wrong. The details were logged (request id ${request.id}).`) }
}

function sendScimError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body, headers } = scimErrorOf(error, request)
  if (headers) void reply.headers(headers)
  return reply.status(status).type(SCIM_CONTENT_TYPE).send(body)
}
