/**
 * The error answers as schemas: every route declares them for its 4xx and 5xx statuses (http/app.ts),
 * so the OpenAPI document and the generated client know them. docs/errors.md describes them.
 */
import { z } from 'zod'
import { ERROR_CODES } from './app-error.js'

export const ErrorCodeSchema = z.enum(ERROR_CODES).describe('The catalogue code (docs/errors.md); never changes meaning.')

export const ValidationIssueSchema = z
  .object({
    path: z.string().describe('Dotted, starting with the request part: body.params.temperature, querystring.id, body.access_grants.0.principal_id.'),
    message: z.string().describe('What is wrong with the field, for a person.'),
    code: ErrorCodeSchema,
  })
  .describe('One failed field of a validation error.')

export const ErrorResponseSchema = z
  .object({
    detail: z.string().describe('The message for a person (Open WebUI clients show it).'),
    code: ErrorCodeSchema,
    request_id: z.string().optional().describe('On 5xx and provider faults: the id of the log line where an admin finds the cause.'),
    errors: z.array(ValidationIssueSchema).optional().describe('Validation errors that name fields: one entry per failed field.'),
    current_version: z.number().int().optional().describe('On 412 PRECONDITION_FAILED: the current version of the model (also its ETag).'),
  })
  .describe('An error from the catalogue (docs/errors.md).')
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>

/** `/v1/*` and `/api/chat/completions`: OpenAI SDKs read `error`; Open WebUI clients still read `detail`. */
export const OpenAiErrorResponseSchema = ErrorResponseSchema.extend({
  error: z.object({
    message: z.string(),
    type: z.enum(['invalid_request_error', 'authentication_error', 'server_error']),
    code: ErrorCodeSchema,
  }),
}).describe('An error from the catalogue, with the OpenAI `error` object too (docs/errors.md).')
export type OpenAiErrorResponse = z.infer<typeof OpenAiErrorResponseSchema>
