/**
 * Every failed call is thrown as an {@link ApiError} (or a subclass chosen by what the failure means), so
 * that a method's return type is always the success answer. The server's body is `{detail, code}`
 * (docs/errors.md), with `errors` on VALIDATION_ERROR answers and `request_id` on 5xx and provider faults;
 * the OpenAI-compatible routes (`/v1/*`, chat) add OpenAI's `{error: {message, type, code}}`, which is
 * also read when it comes alone.
 */
import type { components } from './generated/api.js'

/** One field's problem in a VALIDATION_ERROR answer (`path` is dotted and starts with the request part: `body.meta.description`). */
// `code` widened to string: a newer server may send a code this client's generated union does not know.
export type FieldError = Omit<components['schemas']['ValidationIssue'], 'code'> & { code: components['schemas']['ValidationIssue']['code'] | (string & {}) }

export interface ApiErrorOptions {
  errors?: FieldError[]
  requestId?: string
  /** The parsed error body, as the server sent it (undefined when it was not JSON). */
  body?: unknown
  cause?: unknown
}

/** A failed call: the HTTP status (0 when the server was not reached), the catalogue code and the detail. */
export class ApiError extends Error {
  // Named literally: bundlers rename classes, and the name is what logs and consoles show.
  override name = 'ApiError'
  readonly status: number
  readonly code: string
  readonly detail: string
  /** Per-field problems of a VALIDATION_ERROR answer, when the server sent them. */
  readonly errors?: FieldError[]
  /** The id of the server's log line (5xx and provider faults): what an admin needs to find the cause. */
  readonly requestId?: string
  readonly body?: unknown

  constructor(status: number, code: string, detail: string, options: ApiErrorOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause })
    this.status = status
    this.code = code
    this.detail = detail
    if (options.errors) this.errors = options.errors
    if (options.requestId) this.requestId = options.requestId
    if (options.body !== undefined) this.body = options.body
  }
}

/** 400 or 422: the request does not match the route's schema or a rule on the input. */
export class ValidationError extends ApiError {
  override name = 'ValidationError'
}
/** 401: no credentials, or bad, expired or revoked ones; also a wrong email or password at sign-in. */
export class UnauthorizedError extends ApiError {
  override name = 'UnauthorizedError'
}
/** 403: authenticated but not allowed. */
export class ForbiddenError extends ApiError {
  override name = 'ForbiddenError'
}
/** 404: no such route or resource (or one the caller may not read). */
export class NotFoundError extends ApiError {
  override name = 'NotFoundError'
}
/** 409: the request conflicts with the current state (a taken id, a lost race: retry). */
export class ConflictError extends ApiError {
  override name = 'ConflictError'
}

/**
 * 412 PRECONDITION_FAILED: the model changed since the version sent in If-Match (optimistic concurrency,
 * docs/history.md). `currentVersion` is the version it has now: read it again, or resend knowingly with it.
 */
export class PreconditionFailedError extends ApiError {
  override name = 'PreconditionFailedError'
  readonly currentVersion?: number

  constructor(status: number, code: string, detail: string, options: ApiErrorOptions & { currentVersion?: number } = {}) {
    super(status, code, detail, options)
    if (options.currentVersion !== undefined) this.currentVersion = options.currentVersion
  }
}

/** 429: too many attempts; `retryAfter` is the Retry-After header in seconds, when sent. */
export class RateLimitedError extends ApiError {
  override name = 'RateLimitedError'
  readonly retryAfter?: number

  constructor(status: number, code: string, detail: string, options: ApiErrorOptions & { retryAfter?: number } = {}) {
    super(status, code, detail, options)
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter
  }
}

/** 502 or 504 (PROVIDER_ERROR, PROVIDER_TIMEOUT): a model provider failed, also in the middle of a stream. */
export class ProviderError extends ApiError {
  override name = 'ProviderError'
}
/** Any other 5xx: the server failed; `requestId` names its log line. */
export class ServerError extends ApiError {
  override name = 'ServerError'
}

/** The server was not reached (DNS, refused connection, CORS, offline): status 0, code NETWORK_ERROR. */
export class NetworkError extends ApiError {
  override name = 'NetworkError'
  constructor(detail = 'The server could not be reached. Check your connection and try again.', cause?: unknown) {
    super(0, 'NETWORK_ERROR', detail, { cause })
  }
}

/** A successful status with an answer that is not what the route promises (e.g. not JSON): code BAD_RESPONSE. */
export class BadResponseError extends ApiError {
  override name = 'BadResponseError'
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

function fieldErrors(value: unknown): FieldError[] | undefined {
  if (!Array.isArray(value)) return undefined
  return value.filter(isRecord).map((item) => ({
    path: typeof item['path'] === 'string' ? item['path'] : '',
    message: typeof item['message'] === 'string' ? item['message'] : '',
    code: typeof item['code'] === 'string' ? item['code'] : '',
  }))
}

function classFor(status: number, code: string): typeof ApiError {
  if (code === 'PROVIDER_ERROR' || code === 'PROVIDER_TIMEOUT') return ProviderError
  switch (status) {
    case 400:
    case 422:
      return ValidationError
    case 401:
      return UnauthorizedError
    case 403:
      return ForbiddenError
    case 404:
      return NotFoundError
    case 409:
      return ConflictError
    case 502:
    case 504:
      return ProviderError
    default:
      return status >= 500 ? ServerError : ApiError
  }
}

/**
 * The typed exception of an error answer: `body` is the parsed JSON (or the text when it was not JSON),
 * as openapi-fetch hands it over. Reads modelgate's `{detail, code, errors, request_id}` and OpenAI's
 * `{error: {message, type, code}}`.
 */
export function errorFromAnswer(status: number, statusText: string, body: unknown, headers?: Headers): ApiError {
  let detail = `${status} ${statusText}`.trim()
  let code = `HTTP_${status}`
  let requestId: string | undefined
  let errors: FieldError[] | undefined
  if (isRecord(body)) {
    const openai = isRecord(body['error']) ? body['error'] : undefined
    if (typeof body['detail'] === 'string') detail = body['detail']
    else if (body['detail'] !== undefined) detail = JSON.stringify(body['detail'])
    else if (typeof openai?.['message'] === 'string') detail = openai['message']
    if (typeof body['code'] === 'string') code = body['code']
    else if (typeof openai?.['code'] === 'string') code = openai['code']
    else if (typeof openai?.['type'] === 'string') code = openai['type']
    if (typeof body['request_id'] === 'string') requestId = body['request_id']
    else if (typeof openai?.['request_id'] === 'string') requestId = openai['request_id']
    errors = fieldErrors(body['errors'])
  }
  const options: ApiErrorOptions = { ...(errors && { errors }), ...(requestId && { requestId }), body }
  if (status === 429) {
    const header = headers?.get('retry-after')
    const seconds = header ? Number(header) : NaN
    return new RateLimitedError(status, code, detail, { ...options, ...(Number.isFinite(seconds) && { retryAfter: seconds }) })
  }
  if (status === 412) {
    const current = isRecord(body) ? body['current_version'] : undefined
    return new PreconditionFailedError(status, code, detail, { ...options, ...(typeof current === 'number' && { currentVersion: current }) })
  }
  const ErrorClass = classFor(status, code)
  return new ErrorClass(status, code, detail, options)
}

/**
 * The typed exception of an SSE error event (`data: {"error": {message, type, code, request_id}}`): the
 * stream was answered 200, so the status comes from the code (PROVIDER_TIMEOUT 504, else 502).
 */
export function errorFromEvent(event: Record<string, unknown>): ApiError {
  const error = isRecord(event['error']) ? event['error'] : {}
  const code = typeof error['code'] === 'string' ? error['code'] : 'PROVIDER_ERROR'
  const status = code === 'PROVIDER_TIMEOUT' ? 504 : 502
  const detail = typeof error['message'] === 'string' ? error['message'] : typeof event['error'] === 'string' ? event['error'] : 'The stream failed.'
  const requestId = typeof error['request_id'] === 'string' ? error['request_id'] : undefined
  return new ProviderError(status, code, detail, { ...(requestId && { requestId }), body: event })
}

/** True for the platform's abort error (fetch or a reader cancelled through an AbortSignal). */
export function isAbortError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError'
}
