/**
 * The one error catalogue of modelgate (design.md §2.3). Every failure a client can see is an AppError
 * with a code from ERROR_STATUS; the HTTP layer turns it into `{detail, code}` with the mapped status.
 * docs/errors.md lists every code, and errors.docs.test.ts fails when one is missing there.
 */
import { redactText } from './redact.js'

export const ERROR_STATUS = {
  VALIDATION_ERROR: 400,
  MODEL_ID_TOO_LONG: 400,
  INVALID_MODEL_ID: 400,
  INVALID_ACCESS_CONTROL: 400,
  INVALID_PARAMS: 400,
  BASE_MODEL_UNAVAILABLE: 400,
  UNAUTHORIZED: 401,
  ACCESS_PROHIBITED: 403,
  NOT_FOUND: 404,
  MODEL_NOT_FOUND: 404,
  VERSION_NOT_FOUND: 404,
  MODEL_ID_TAKEN: 409,
  MODEL_ID_UNAVAILABLE: 409,
  CONFLICT: 409,
  PARAM_LOCKED: 409,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  DATABASE_ERROR: 500,
  DEFAULT_ERROR: 500,
  PROVIDER_ERROR: 502,
  SERVICE_UNAVAILABLE: 503,
  PROVIDER_TIMEOUT: 504,
} as const

export type ErrorCode = keyof typeof ERROR_STATUS
export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[]

/** Messages used when a thrower gives none. 5xx messages are fixed: causes go only to the log. */
export const DEFAULT_DETAIL: Record<ErrorCode, string> = {
  VALIDATION_ERROR: 'The request is not valid.',
  MODEL_ID_TOO_LONG: 'The model id must be 1 to 256 characters long.',
  INVALID_MODEL_ID: 'The model id contains characters that are not allowed.',
  INVALID_ACCESS_CONTROL: 'The access control is not valid.',
  INVALID_PARAMS: 'The model parameters are not valid.',
  BASE_MODEL_UNAVAILABLE: 'The base model is not available to you.',
  UNAUTHORIZED: 'Not authenticated: send a valid token or API key as "Authorization: Bearer …".',
  ACCESS_PROHIBITED: 'You do not have permission to access this resource. Please contact your administrator for assistance.',
  NOT_FOUND: "We could not find what you're looking for.",
  MODEL_NOT_FOUND: 'Model not found.',
  VERSION_NOT_FOUND: 'This version of the model was not found.',
  MODEL_ID_TAKEN: 'This model id is already registered. Please choose another model id.',
  MODEL_ID_UNAVAILABLE: 'This model id is not available. Please choose another model id.',
  CONFLICT: 'The request conflicts with the current state.',
  PARAM_LOCKED: 'A parameter of this model is locked by its template.',
  PRECONDITION_FAILED: 'The model changed since you read it (If-Match does not name its current version).',
  PAYLOAD_TOO_LARGE: 'The request body is too large.',
  UNSUPPORTED_MEDIA_TYPE: 'Unsupported Content-Type: send application/json.',
  RATE_LIMITED: 'Too many attempts. Try again later.',
  DATABASE_ERROR: 'A database error occurred. The details were logged.',
  DEFAULT_ERROR: 'Something went wrong. The details were logged.',
  SERVICE_UNAVAILABLE: 'The service is not ready.',
  PROVIDER_ERROR: 'The model provider failed.',
  PROVIDER_TIMEOUT: 'The model provider did not answer in time.',
}

const PROVIDER_CODES = new Set<ErrorCode>(['PROVIDER_ERROR', 'PROVIDER_TIMEOUT'])

/**
 * One failed field of a validation answer (`errors[]`, docs/errors.md): `path` is dotted and starts with
 * the request part (`body.params.temperature`, `querystring.id`, `body.access_grants.0.principal_id`),
 * `code` is the catalogue code for that field.
 */
export interface ValidationIssue {
  path: string
  message: string
  code: ErrorCode
}

export class AppError extends Error {
  readonly status: number

  constructor(
    readonly code: ErrorCode,
    detail?: string,
    /** Extra headers for the response (e.g. Retry-After on RATE_LIMITED). */
    readonly headers?: Record<string, string>,
    /**
     * What only administrators read (provider faults: the redacted URL and the provider's own words);
     * everybody else reads `detail`. Logged with the error (redacted again by the log serializer).
     */
    readonly adminDetail?: string,
    /** The failed fields of a validation error, one entry each (answered as `errors`). */
    readonly errors?: readonly ValidationIssue[],
    /** PRECONDITION_FAILED: the model's current version (answered as `current_version`, and as its ETag). */
    readonly currentVersion?: number,
  ) {
    super(detail ?? DEFAULT_DETAIL[code])
    this.name = 'AppError'
    this.status = ERROR_STATUS[code]
  }

  /**
   * The text a person reads. Our own 5xx carry only the fixed message; provider faults (502, 504) name
   * the provider (its connection's name) and its status, never its URL or its own words (those are in
   * `adminDetail`); URLs in them are redacted all the same (src/errors/redact.ts).
   */
  get detail(): string {
    if (this.status >= 500 && !PROVIDER_CODES.has(this.code)) return DEFAULT_DETAIL[this.code]
    return PROVIDER_CODES.has(this.code) ? redactText(this.message) : this.message
  }

  /** The detail for this reader: administrators get `adminDetail` when there is one. */
  detailFor(reader: { role: string } | undefined): string {
    return reader?.role === 'admin' && this.adminDetail ? redactText(this.adminDetail) : this.detail
  }
}

export const notFound = (detail?: string) => new AppError('NOT_FOUND', detail)
export const forbidden = (detail?: string) => new AppError('ACCESS_PROHIBITED', detail)
export const badRequest = (detail: string) => new AppError('VALIDATION_ERROR', detail)
export const conflict = (detail: string) => new AppError('CONFLICT', detail)

/** 412: an If-Match that does not name the model's current version (issue #12, optimistic concurrency). */
export function preconditionFailed(currentVersion: number): AppError {
  const detail = `The model changed since you read it: its current version is ${currentVersion}. Reload it, or send If-Match: "${currentVersion}" to overwrite knowingly.`
  return new AppError('PRECONDITION_FAILED', detail, { etag: `"${currentVersion}"` }, undefined, undefined, currentVersion)
}

/**
 * A validation error about one field: the answer's detail stays the sentence people read (by default
 * `<path without the request part>: <message>`, as schema failures read), `errors` names the field.
 */
export function fieldError(code: ErrorCode, path: string, message: string, detail?: string): AppError {
  return new AppError(code, detail ?? `${path.replace(/^body\./, '')}: ${message}`, undefined, undefined, [{ path, message, code }])
}
