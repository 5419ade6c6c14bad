/**
 * Turns every failure into `{detail, code}` with the catalogue's status (errors/error-response.ts is its
 * schema). Client mistakes name what is wrong (validation errors also list the fields in `errors`); 5xx
 * answers carry a fixed message and the cause goes only to the log.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { databaseErrorMeaning, isDatabaseError } from '../db/errors.js'
import { AppError, ERROR_STATUS, type ErrorCode } from '../errors/app-error.js'
import type { ErrorResponse, OpenAiErrorResponse } from '../errors/error-response.js'

/** Fastify's own client errors, by code. */
const FASTIFY_ERRORS: Record<string, { code: ErrorCode; detail?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'VALIDATION_ERROR', detail: 'The request body is empty; send a JSON body.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'VALIDATION_ERROR', detail: 'Content-Length does not match the body.' },
}

function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 401:
      return 'UNAUTHORIZED'
    case 403:
      return 'ACCESS_PROHIBITED'
    case 404:
      return 'NOT_FOUND'
    case 409:
      return 'CONFLICT'
    case 413:
      return 'PAYLOAD_TOO_LARGE'
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE'
    case 429:
      return 'RATE_LIMITED'
    default:
      return status >= 500 ? 'DEFAULT_ERROR' : 'VALIDATION_ERROR'
  }
}

export function errorToResponse(error: unknown, request: FastifyRequest): { status: number; body: ErrorResponse; headers?: Record<string, string> } {
  if (error instanceof AppError) {
    // The log line carries the request id (reqId) and the admin detail; the answer carries the request id.
    if (error.status >= 500) request.log.warn({ err: error }, 'request failed')
    const detail = error.adminDetail ? `${error.detailFor(request.account)} (request id ${request.id})` : error.detail
    const body = {
      detail,
      code: error.code,
      ...((error.status >= 500 || error.adminDetail) && { request_id: request.id }),
      ...(error.errors && { errors: [...error.errors] }),
      ...(error.currentVersion !== undefined && { current_version: error.currentVersion }),
    }
    return { status: error.status, body, ...(error.headers && { headers: error.headers }) }
  }
  // Schema failures arrive as AppErrors already (http/validation.ts formats them for every route).
  const fastifyError = error as FastifyError
  const known = fastifyError.code ? FASTIFY_ERRORS[fastifyError.code] : undefined
  if (known) {
    return { status: ERROR_STATUS[known.code], body: { detail: known.detail ?? new AppError(known.code).detail, code: known.code } }
  }
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) {
    return { status: 400, body: { detail: `Malformed JSON body: ${error.message}`, code: 'VALIDATION_ERROR' } }
  }
  const status = fastifyError.statusCode
  if (status !== undefined && status >= 400 && status < 500) {
    const code = codeForStatus(status)
    return { status, body: { detail: fastifyError.message || new AppError(code).detail, code } }
  }
  // Constraint violations, races and values the database cannot hold are the request's, not a failure:
  // 409 CONFLICT (retry) or 400, the same for every table (db/errors.ts, docs/errors.md).
  const meaning = databaseErrorMeaning(error)
  if (meaning) {
    request.log.info({ err: error, kind: meaning.kind }, 'database refused the request')
    const mapped: ErrorCode = meaning.status === 409 ? 'CONFLICT' : 'VALIDATION_ERROR'
    return { status: meaning.status, body: { detail: meaning.detail, code: mapped } }
  }
  const code: ErrorCode = isDatabaseError(error) ? 'DATABASE_ERROR' : 'DEFAULT_ERROR'
  request.log.error({ err: error }, 'request failed')
  return { status: 500, body: { detail: new AppError(code).detail, code, request_id: request.id } }
}

/** Paths whose clients are OpenAI SDKs, which read an `error` object rather than `detail`. */
const OPENAI_PATHS = /^\/(v1\/|api\/(v1\/)?chat\/completions)/

/** True for a URL (or route pattern) whose errors carry the OpenAI `error` object too. */
export const isOpenAiPath = (url: string): boolean => OPENAI_PATHS.test(url)

export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body, headers } = errorToResponse(error, request)
  if (headers) void reply.headers(headers)
  if (isOpenAiPath(request.url)) {
    const type = status >= 500 ? 'server_error' : status === 401 ? 'authentication_error' : 'invalid_request_error'
    const openAi: OpenAiErrorResponse = { ...body, error: { message: body.detail, type, code: body.code } }
    return reply.status(status).send(openAi)
  }
  return reply.status(status).send(body)
}
