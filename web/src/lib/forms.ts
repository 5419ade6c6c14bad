/**
 * Forms on react-hook-form with the server's own zod schemas (lib/schemas.ts): what a form checks before
 * sending is exactly what the API checks, and a refusal the API still sends shows at its field.
 */
import { zodResolver } from '@hookform/resolvers/zod'
import { z } from 'zod'
import type { FieldPath, FieldValues, Resolver, UseFormSetError } from 'react-hook-form'
import { ApiError } from '../api/client'

/**
 * A resolver for a form whose values are not the request body itself: `toBody` builds the body (the
 * same function the submit uses), and the server's schema judges it. Form fields are named like the
 * body's keys, so an issue's path is the field that shows it. The submit receives the form's values.
 */
export function bodyResolver<Values extends FieldValues>(schema: z.ZodType, toBody: (values: Values) => unknown): Resolver<Values> {
  const judged = z
    .custom<Values>()
    .transform((values) => toBody(values))
    .pipe(schema)
  return zodResolver(judged, undefined, { raw: true })
}

/**
 * Puts a refusal's per-field errors (`errors: [{path: 'body.email', …}]`) on the form's `fields`.
 * Answers true when every problem found its field; else the form shows the server's detail as before.
 */
export function placeServerErrors<Values extends FieldValues>(
  error: unknown,
  setError: UseFormSetError<Values>,
  fields: readonly FieldPath<Values>[],
): boolean {
  if (!(error instanceof ApiError) || !error.errors || error.errors.length === 0) return false
  let unplaced = false
  for (const issue of error.errors) {
    const [part, ...path] = issue.path.split('.')
    const field = fields.find((name) => name === path.join('.'))
    if (part === 'body' && field) setError(field, { type: 'server', message: issue.message })
    else unplaced = true
  }
  return !unplaced
}
