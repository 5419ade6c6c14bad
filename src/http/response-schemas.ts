/**
 * Every answer is declared: the error schemas are added to every route in one place (an onRoute hook),
 * and, when asked (tests), every JSON answer is checked against the route's schema for its status, the
 * prebuilt and cached strings included, which Fastify's serializer never sees.
 */
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import { pipeline, Readable, Transform } from 'node:stream'
import { z } from 'zod'
import { ErrorResponseSchema, OpenAiErrorResponseSchema } from '../errors/error-response.js'
import { isOpenAiPath } from './error-handler.js'
import { SCIM_PREFIX, ScimErrorSchema } from '../scim/scim.schema.js'
import type { App } from './route-kit.js'

type ResponseMap = Record<string, unknown>

/** The error body of a path family: OpenAI paths add the `error` object (http/error-handler.ts). */
const errorSchemaFor = (url: string) => (url.startsWith(SCIM_PREFIX) ? ScimErrorSchema : isOpenAiPath(url) ? OpenAiErrorResponseSchema : ErrorResponseSchema)

/**
 * onRoute: declares the catalogue's error body for every 4xx and 5xx status of the route, unless the
 * route declares its own. Fastify then serializes error answers through it, and the OpenAPI document
 * shows it (`4XX`, `5XX`).
 */
export function declareErrorResponses(route: RouteOptions): void {
  const schema = route.schema ?? {}
  const own = (schema.response ?? {}) as ResponseMap
  const error = {
    description: 'An error from the catalogue (docs/errors.md): `code` says which.',
    content: { 'application/json': { schema: errorSchemaFor(route.url) } },
  }
  // A new object: routes may share their `response` map (groups' `withGroup`).
  route.schema = { ...schema, response: { ...own, '4xx': own['4xx'] ?? error, '5xx': own['5xx'] ?? error } }
}

/** The zod schema a route declares for an answer of `status` with `contentType`, as Fastify picks it. */
export function declaredSchema(response: ResponseMap | undefined, status: number, contentType: string): { declared: boolean; schema?: z.ZodType } {
  const entry = response?.[String(status)] ?? response?.[`${String(status)[0]}xx`] ?? response?.['default']
  if (entry === undefined) return { declared: false }
  if (entry instanceof z.ZodType) return { declared: true, schema: entry }
  const content = (entry as { content?: Record<string, { schema?: unknown }> }).content
  if (!content) return { declared: true }
  const media = (contentType.split(';')[0] ?? '').trim().toLowerCase()
  const match = content[media] ?? content[`${media.split('/')[0]}/*`] ?? content['*/*']
  if (!match) return { declared: false }
  return { declared: true, ...(match.schema instanceof z.ZodType && { schema: match.schema }) }
}

/** Paths of object keys in `sent` that the schema's output dropped: fields the schema does not declare. */
export function undeclaredKeys(sent: unknown, parsed: unknown, path = ''): string[] {
  if (Array.isArray(sent) && Array.isArray(parsed)) {
    return sent.flatMap((item, index) => undeclaredKeys(item, parsed[index], `${path}[${index}]`))
  }
  if (!isObject(sent) || !isObject(parsed)) return []
  return Object.keys(sent).flatMap((key) =>
    key in parsed ? undeclaredKeys(sent[key], parsed[key], path ? `${path}.${key}` : key) : [path ? `${path}.${key}` : key],
  )
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * What is wrong with a JSON answer (text as sent) against the declared schema, or undefined when it
 * matches: not JSON, no schema for the status, schema failures, or fields the schema does not declare.
 */
export function jsonAnswerProblem(response: ResponseMap | undefined, status: number, contentType: string, text: string): string | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return 'the body is not JSON'
  }
  const { schema } = declaredSchema(response, status, contentType)
  if (!schema) return `no response schema for status ${status} (${contentType || 'no content type'})`
  const result = schema.safeParse(value)
  if (!result.success) return z.prettifyError(result.error)
  const extra = undeclaredKeys(value, result.data)
  return extra.length > 0 ? `fields the schema does not declare: ${extra.slice(0, 10).join(', ')}` : undefined
}

export class ResponseMismatchError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ResponseMismatchError'
  }
}

/**
 * onSend (tests): every answer of a declared route must match its declaration. JSON bodies (strings and
 * Buffers: prebuilt, cached or serialized) are parsed and validated; an empty or non-JSON body needs its
 * status declared. Streams are checked by their own tests. A mismatch logs one line and fails the
 * request (500), so the test that made it fails.
 */
export function checkResponses(app: App): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (payload instanceof Readable) return checkedJsonStream(request, reply, payload)
    const problem = answerProblem(request, reply, payload)
    if (problem) {
      const message = `Response of ${request.method} ${request.url} (${reply.statusCode}) does not match its schema: ${problem}`
      // The test's output shows it even without a logger.
      console.error(message)
      request.log.error(message)
      throw new ResponseMismatchError(message)
    }
    return payload
  })
}

/**
 * Mismatches of streamed JSON answers (exports), found when the stream ends: the answer is sent by then,
 * so they are recorded here (and logged) for the tests to assert empty (test/streams.test.ts).
 */
export const streamMismatches: string[] = []

/** A JSON stream passes through as is and is checked once whole; other streams (SSE) are left alone. */
function checkedJsonStream(request: FastifyRequest, reply: FastifyReply, stream: Readable): Readable {
  const contentType = String(reply.getHeader('content-type') ?? '')
  if (!/^application\/(.+\+)?json\b/i.test(contentType)) return stream
  const response = request.routeOptions.schema?.response as ResponseMap | undefined
  const chunks: Buffer[] = []
  const collect = new Transform({
    transform(chunk: Buffer | string, _encoding, done) {
      chunks.push(Buffer.from(chunk))
      done(null, chunk)
    },
    flush(done) {
      const problem = jsonAnswerProblem(response, reply.statusCode, contentType, Buffer.concat(chunks).toString('utf8'))
      if (problem) {
        const message = `Streamed response of ${request.method} ${request.url} (${reply.statusCode}) does not match its schema: ${problem}`
        console.error(message)
        streamMismatches.push(message)
      }
      done()
    },
  })
  // pipeline: destroying the answer (a caller gone) destroys the source too.
  pipeline(stream, collect, () => undefined)
  return collect
}

function answerProblem(request: FastifyRequest, reply: FastifyReply, payload: unknown): string | undefined {
  if (request.method === 'HEAD') return undefined
  const status = reply.statusCode
  const contentType = String(reply.getHeader('content-type') ?? '')
  const route = request.routeOptions
  const hidden = Boolean(route.schema?.hide)
  // Answers before routing or of no route (404 handler, malformed URLs) are the error handler's.
  let response = route.url === undefined || request.is404 ? undefined : (route.schema?.response as ResponseMap | undefined)
  if (response === undefined && status >= 400) response = { [status]: errorSchemaFor(request.url) }
  if (response === undefined) return undefined
  const text = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : undefined
  if (text === undefined) return undefined // a stream: export and SSE have tests of their own
  // Hidden routes (Swagger UI's own JSON, bench routes) are checked only where they declare the status.
  if (hidden && !declaredSchema(response, status, contentType).declared) return undefined
  if (/^application\/(.+\+)?json\b/i.test(contentType) && text.length > 0) return jsonAnswerProblem(response, status, contentType, text)
  return declaredSchema(response, status, contentType).declared ? undefined : `status ${status} (${contentType || 'no body'}) is not declared`
}
