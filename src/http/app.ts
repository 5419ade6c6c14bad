/**
 * Assembles the HTTP service: validation and serialisation from the zod schemas, the OpenAPI document
 * (named components: openapi-components.ts; committed as openapi.json by scripts/openapi.ts), the
 * declared error answers of every route and, under test, the check of every answer against its schema
 * (response-schemas.ts), the guards, the error handler, and every feature's routes.
 */
import Fastify, { LogController } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fastifyStatic from '@fastify/static'
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { jsonSchemaTransform, jsonSchemaTransformObject, type ZodTypeProvider } from 'fastify-type-provider-zod'
import { serializerCompiler } from './serializer.js'
import { registerAuthRoutes } from '../auth/auth.routes.js'
import { AppError } from '../errors/app-error.js'
import { redactError } from '../errors/redact.js'
import { registerGroupsRoutes } from '../groups/groups.routes.js'
import { registerGatewayRoutes } from '../gateway/gateway.routes.js'
import { registerTryItRoutes } from '../gateway/try-it.routes.js'
import { registerAccessLog } from './access-log.js'
import { registerModelsRoutes } from '../models/models.routes.js'
import { registerModelConfigRoutes } from '../models/model-config.routes.js'
import { registerHistoryRoutes } from '../history/history.routes.js'
import { registerAuditRoutes } from '../audit/audit.routes.js'
import { registerExplainRoutes } from '../explain/explain.routes.js'
import { registerTemplatesRoutes } from '../templates/templates.routes.js'
import { registerConnectionsRoutes } from '../providers/connections.routes.js'
import { registerOwuiConnectionsRoutes } from '../providers/owui.routes.js'
import type { Services } from '../services.js'
import { registerUsersRoutes } from '../users/users.routes.js'
import { registerSsoRoutes } from '../sso/sso.routes.js'
import { registerScimRoutes } from '../scim/scim.routes.js'
import { registerAnalyticsRoutes } from '../analytics/analytics.routes.js'
import { requireScimClient } from '../access/scim-access.js'
import { requireMetricsReader } from '../access/metrics-access.js'
import { lazyChildLoggerFactory } from './lazy-child-logger.js'
import { registerMetricsRoutes } from '../metrics/metrics.routes.js'
import { registerRequestMetrics } from './request-metrics.js'
import { handleError } from './error-handler.js'
import { registerOpenApiComponents, tidyComponents } from './openapi-components.js'
import { checkResponses, declareErrorResponses } from './response-schemas.js'
import { validationFormatter, validatorCompiler } from './validation.js'
import { tokenCookie, type App, type Guards } from './route-kit.js'
import { registerSystemRoutes } from './system.routes.js'

export const API_VERSION = '0.1.0'

/** The built web workspace (web/dist), the same path from src/http (tsx) and dist/http (built). */
const WEB_ROOT = fileURLToPath(new URL('../../web/dist', import.meta.url))
const API_PREFIXES = ['/api/', '/v1/', '/openai/', '/ollama/', '/oauth/', '/openapi.json', '/docs', '/health', '/ready']
/** A body of whitespace only (`\s` is the set `trim()` removes). */
const BLANK = /^\s*$/
/** Paths that are API paths themselves (without the trailing slash of their prefix). */
const API_ROOTS = new Set(['/api', '/v1', '/openai', '/ollama'])

export async function buildApp(
  services: Services,
  options: {
    logger?: boolean
    /** Where log lines go instead of stdout (tests read them). */
    logStream?: { write(line: string): void }
    /**
     * Check every JSON answer against the route's response schema for its status, a mismatch failing the
     * request (http/response-schemas.ts). On under vitest, off in production (it parses every answer).
     */
    checkResponses?: boolean
  } = {},
): Promise<App> {
  const { config } = services
  const app = Fastify({
    bodyLimit: config.bodyLimitBytes,
    logger:
      options.logger === false
        ? false
        : {
            level: config.logLevel,
            // Credentials never reach the log, nor do provider URLs' keys (errors/redact.ts).
            redact: ['req.headers.authorization', 'req.headers.cookie', 'req.body.password'],
            serializers: { err: redactError },
            ...(options.logStream && { stream: options.logStream }),
          },
    // Unique across instances and restarts: answers of 5xx carry it (request_id) for admins to find the log line.
    genReqId: () => randomUUID(),
    // One access line per request at debug, a sample at info (http/access-log.ts), instead of Fastify's two at info.
    logController: new LogController({ disableRequestLogging: true }),
    // Each request's logger is built when it first writes (http/lazy-child-logger.ts).
    ...(options.logger !== false && { childLoggerFactory: lazyChildLoggerFactory }),
    // Model ids travel in query strings; allow long ones (256 chars, percent-encoded).
    routerOptions: { maxParamLength: 1024 },
    schemaErrorFormatter: validationFormatter(),
    // Errors Fastify raises before routing (a malformed percent-encoding in the path, `/v1/models/%`)
    // answer in the catalogue's shape too, not Fastify's own.
    frameworkErrors: (error, request, reply) => {
      void handleError(error, request, reply)
    },
    // A number of proxies: the nearest `n` hops are trusted, so the client is the entry the outermost appended.
    trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy,
  }).withTypeProvider<ZodTypeProvider>()

  // Before any route: every route declares the error bodies, and the document names the main schemas.
  app.addHook('onRoute', declareErrorResponses)
  registerAccessLog(app)
  registerRequestMetrics(app, services.metrics.requests)
  registerOpenApiComponents()
  if (options.checkResponses ?? Boolean(process.env['VITEST'])) checkResponses(app)

  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.setErrorHandler(handleError)
  // Every body is JSON: a text/plain body answers 415 rather than reaching validation as a string.
  app.removeContentTypeParser('text/plain')
  // Open WebUI's client sends `Content-Type: application/json` with no body on toggle and delete-all.
  // An empty body is "no body" (routes that need one still answer 400 naming it); anything else goes
  // through Fastify's own parser, which guards against prototype poisoning.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8')
    // (A regex, not `trim()`: the same characters, without copying every body to compare it with '').
    if (BLANK.test(text)) done(null, undefined)
    else void parseJson(request, text, done)
  })
  const webRoot = WEB_ROOT
  const hasWeb = existsSync(`${webRoot}/index.html`)
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? ''
    // The web workspace is a single-page app: unknown page paths get its index.html, API paths a 404.
    if (hasWeb && request.method === 'GET' && !API_ROOTS.has(path) && !API_PREFIXES.some((prefix) => path.startsWith(prefix))) {
      return reply.type('text/html; charset=utf-8').sendFile('index.html')
    }
    return handleError(new AppError('NOT_FOUND', `No route ${request.method} ${path}.`), request, reply)
  })
  if (hasWeb) await app.register(fastifyStatic, { root: webRoot, prefix: '/', wildcard: false, index: ['index.html'] })

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'modelgate',
        version: API_VERSION,
        description:
          'Model presets, base models and who may use them. Open WebUI compatible. Errors are {detail, code} ' +
          '(validation errors also list the failed fields in `errors`); see docs/errors.md.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'Session JWT or API key (sk-…).' },
          scimToken: { type: 'http', scheme: 'bearer', description: 'SCIM_TOKEN: the SCIM client only (/api/v1/scim/v2).' },
          metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN: a metrics scraper only (GET /metrics).' },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: (document) => tidyComponents(jsonSchemaTransformObject(document)),
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })

  const guards = createGuards(services)
  registerSystemRoutes(app, { database: services.database, benchRoutes: config.benchRoutes })
  registerAuthRoutes(app, { auth: services.auth, users: services.users, guards })
  registerUsersRoutes(app, { users: services.users, groups: services.groups, settings: services.auth.settings, guards })
  registerGroupsRoutes(app, { groups: services.groups, guards })
  registerModelsRoutes(app, { models: services.models, guards, importBodyLimitBytes: config.importBodyLimitBytes, profileImageHosts: config.profileImageHosts })
  registerModelConfigRoutes(app, { config: services.models.config, guards })
  registerConnectionsRoutes(app, { connections: services.connections, guards })
  registerOwuiConnectionsRoutes(app, { owui: services.owuiConnections, guards })
  registerHistoryRoutes(app, { history: services.history, guards })
  registerAuditRoutes(app, { audit: services.audit, guards })
  registerExplainRoutes(app, { explainer: services.explainer, guards })
  registerTemplatesRoutes(app, { templates: services.templates, guards })
  registerGatewayRoutes(app, { runtime: services.runtime, chat: services.chat, guards })
  registerTryItRoutes(app, { tryIt: services.tryIt, guards })
  registerSsoRoutes(app, {
    sso: services.sso,
    config,
    settings: services.auth.settings,
    version: API_VERSION,
    guards,
    hasAccounts: () => services.users.hasAccounts(),
  })
  registerScimRoutes(app, { scim: services.scim, guards })
  registerMetricsRoutes(app, { metrics: services.metrics, guards })
  registerAnalyticsRoutes(app, { analytics: services.analytics.service, guards })
  app.addHook('onClose', () => services.close())
  return app
}

function createGuards(services: Services): Guards {
  const { auth, access } = services
  return {
    authenticated: async (request) => {
      request.account = await auth.authenticate(request.headers.authorization)
    },
    verified: async (request) => {
      request.account = await auth.authenticate(request.headers.authorization)
      access.requireVerified(request.account)
    },
    admin: async (request) => {
      request.account = await auth.authenticate(request.headers.authorization)
      access.requireAdmin(request.account)
    },
    verifiedAllowCookie: async (request) => {
      const cookieToken = tokenCookie(request.headers.cookie)
      const header = request.headers.authorization ?? (cookieToken ? `Bearer ${cookieToken}` : undefined)
      request.account = await auth.authenticate(header)
      access.requireVerified(request.account)
    },
    authenticatedAllowCookie: async (request) => {
      const cookieToken = tokenCookie(request.headers.cookie)
      const fromCookie = request.headers.authorization === undefined && cookieToken !== undefined
      const credential = await auth.authenticateCredential(fromCookie ? `Bearer ${cookieToken}` : request.headers.authorization)
      request.account = credential.user
      request.credential = { kind: credential.kind, expiresAt: credential.expiresAt, fromCookie, ...(credential.kind === 'jwt' && { token: credential.token }) }
    },
    scim: (request) => {
      requireScimClient(services.config.scim, request.headers.authorization)
      return Promise.resolve()
    },
    metrics: (request) =>
      requireMetricsReader(services.config.metricsToken, request.headers.authorization, async () => {
        request.account = await auth.authenticate(request.headers.authorization)
        access.requireAdmin(request.account)
      }),
  }
}

/** Fastify's trust function for a count of proxies: the nearest `hops` hops are trusted. */
const trustHops = (hops: number) => (_address: string, hop: number) => hop < hops
