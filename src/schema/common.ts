/**
 * Schema pieces shared by every feature. Strings that are stored refuse control characters (PostgreSQL
 * cannot store NUL at all, and nobody means to put a bell in a name); free text keeps tabs and newlines.
 */
import { z } from 'zod'

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS_EXCEPT_WHITESPACE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/

/** A one-line name: trimmed, 1..max characters, no control characters. */
export const lineText = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters')

/** Free text (descriptions, prompts): up to max characters; newlines and tabs allowed. */
export const freeText = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !CONTROL_CHARS_EXCEPT_WHITESPACE.test(s), 'must not contain control characters')

/** An email address, trimmed and lower-cased so that sign-in is case-insensitive. */
export const emailText = z
  .string()
  .trim()
  .toLowerCase()
  .max(320, 'must be at most 320 characters')
  .pipe(z.email('must be a valid email address'))

/** Epoch seconds, as Open WebUI sends them. */
export const epochSecondsSchema = z.number().int().describe('Epoch seconds.')

/** Page number (1-based) as a query string value. */
export const pageQuery = z.coerce.number().int().min(1).max(1_000_000).default(1).describe('1-based page number.')

export const trueResponse = z.literal(true)
