/**
 * Turns schema failures into one AppError whose detail names every bad field
 * (`body.params.temperature: must be a number between 0 and 2 (got 3)`) and whose `errors` lists them,
 * one entry each with its path and code. The code is VALIDATION_ERROR unless the route maps a field to a
 * more specific catalogue code; the answer's code is the first entry's.
 */
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify/types/schema.js'
import { validatorCompiler as zodValidatorCompiler } from 'fastify-type-provider-zod'
import type { ZodType } from 'zod'
import { AppError, ERROR_STATUS, type ErrorCode, type ValidationIssue } from '../errors/app-error.js'
import { findUnstorableText } from '../schema/common.js'

/**
 * The zod validator of every request part (body, querystring, params, headers), with the checks no
 * schema can forget (schema/common.ts findUnstorableText), over the whole value as sent:
 * - before the schema: nothing nested deeper than MAX_JSON_DEPTH (schemas and JSON.stringify recurse);
 * - after it passed: no string or object key anywhere holds NUL or a lone surrogate. This covers what
 *   schemas leave free-form (params and meta values, import and sync items, chat messages, loose query
 *   keys); the schema's own failures come first, so an id keeps its code (INVALID_MODEL_ID).
 * Failures name the field like any schema failure.
 */
export const validatorCompiler: FastifySchemaCompiler<ZodType> = (route) => {
  const validate = zodValidatorCompiler(route)
  type Result = ReturnType<typeof validate>
  const failure = (found: ReturnType<typeof findUnstorableText>): Result => {
    const errors: FastifySchemaValidationError[] = found.map(({ path, message }) => ({
      keyword: 'custom',
      instancePath: `/${path.join('/')}`,
      schemaPath: '#',
      params: {},
      message,
    }))
    return { error: errors }
  }
  return (data) => {
    const found = findUnstorableText(data)
    if (found.some((f) => f.tooDeep)) return failure(found.filter((f) => f.tooDeep))
    const result = validate(data) as Result & { error?: unknown }
    if (result.error || found.length === 0) return result
    return failure(found)
  }
}

/** Picks the code for a failure at `path`; `carried` is the code the schema attached, if any. */
export type ValidationCodeFor = (path: readonly string[], carried: ErrorCode | undefined) => ErrorCode

type FieldFailure = Pick<FastifySchemaValidationError, 'instancePath' | 'message' | 'params'>

function carriedCode(error: FieldFailure): ErrorCode | undefined {
  const nested = (error.params as { params?: { appCode?: unknown } } | undefined)?.params?.appCode
  return typeof nested === 'string' && nested in ERROR_STATUS ? (nested as ErrorCode) : undefined
}

export function validationFormatter(codeFor: ValidationCodeFor = (_path, carried) => carried ?? 'VALIDATION_ERROR') {
  return (errors: FieldFailure[], dataVar: string): Error => {
    // One entry per failure, with the dotted path people read in the detail (body.params.temperature).
    const issues: ValidationIssue[] = errors.map((error) => {
      const path = error.instancePath.split('/').filter(Boolean)
      return { path: [dataVar, ...path].join('.'), message: error.message ?? 'is not valid', code: codeFor(path, carriedCode(error)) }
    })
    const detail = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')
    const code = issues[0]?.code ?? 'VALIDATION_ERROR'
    return new AppError(code, detail || 'The request is not valid.', undefined, undefined, issues.length > 0 ? issues : undefined)
  }
}
