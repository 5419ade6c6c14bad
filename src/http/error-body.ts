import { z } from 'zod'
import { ERROR_CODES } from '../errors/app-error.js'

export const ErrorBodySchema = z
  .object({
    detail: z.string().describe('What went wrong, for a person.'),
    code: z.enum(ERROR_CODES as [string, ...string[]]).describe('Stable code, see docs/errors.md.'),
  })
  .describe('Every error answer has this body.')
