/**
 * Turns schema failures into one AppError whose detail names every bad field
 * (`body.params.temperature: must be a number between 0 and 2 (got 3)`). The code is VALIDATION_ERROR
 * unless the route maps a field to a more specific catalogue code.
 */
import type { FastifySchemaValidationError } from 'fastify/types/schema.js'
import { AppError, ERROR_STATUS, type ErrorCode } from '../errors/app-error.js'

/** Picks the code for a failure at `path`; `carried` is the code the schema attached, if any. */
export type ValidationCodeFor = (path: readonly string[], carried: ErrorCode | undefined) => ErrorCode

function carriedCode(error: FastifySchemaValidationError): ErrorCode | undefined {
  const nested = (error.params as { params?: { appCode?: unknown } } | undefined)?.params?.appCode
  return typeof nested === 'string' && nested in ERROR_STATUS ? (nested as ErrorCode) : undefined
}

export function validationFormatter(codeFor: ValidationCodeFor = (_path, carried) => carried ?? 'VALIDATION_ERROR') {
  return (errors: FastifySchemaValidationError[], dataVar: string): Error => {
    const paths = errors.map((error) => error.instancePath.split('/').filter(Boolean))
    const detail = errors
      .map((error, index) => {
        const path = paths[index] ?? []
        return `${[dataVar, ...path].join('.')}: ${error.message ?? 'is not valid'}`
      })
      .join('; ')
    const first = errors[0]
    const code = first ? codeFor(paths[0] ?? [], carriedCode(first)) : 'VALIDATION_ERROR'
    return new AppError(code, detail || 'The request is not valid.')
  }
}
