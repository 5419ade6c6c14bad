/** SCIM's error answers (RFC 7644 §3.12): an AppError that also names the SCIM `scimType`. */
import { AppError, type ErrorCode } from '../errors/app-error.js'
import type { ScimType } from './scim.schema.js'

export class ScimError extends AppError {
  constructor(
    code: ErrorCode,
    detail: string,
    readonly scimType?: ScimType,
  ) {
    super(code, detail)
  }
}

export const invalidFilter = (detail: string) => new ScimError('VALIDATION_ERROR', detail, 'invalidFilter')
export const invalidValue = (detail: string) => new ScimError('VALIDATION_ERROR', detail, 'invalidValue')
export const invalidSyntax = (detail: string) => new ScimError('VALIDATION_ERROR', detail, 'invalidSyntax')
export const uniqueness = (detail: string) => new ScimError('CONFLICT', detail, 'uniqueness')
