/**
 * Schema pieces shared by every feature. Strings that are stored refuse control characters (PostgreSQL
 * cannot store NUL at all, and nobody means to put a bell in a name); free text keeps tabs and newlines.
 *
 * No string that comes in may hold NUL or a lone UTF-16 surrogate ("\ud800" in JSON): PostgreSQL's
 * `text` rejects NUL, and SQLite stores a lone surrogate as U+FFFD, so the stored value is not the one
 * sent. Every string piece here refuses both (`text()`), and http/validation.ts applies the same check
 * to every string and object key of every request part after its schema passed (free-form params and
 * meta values, import items, chat messages), so no route can forget it. Identifiers (`idText`, model ids)
 * also refuse characters that make two different ids look alike: zero-width and bidirectional controls.
 */
import { z } from 'zod'

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS_EXCEPT_WHITESPACE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/
/** NUL, or a high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
// eslint-disable-next-line no-control-regex
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
/**
 * What an identifier may not contain: C0 and C1 controls and DEL; zero-width characters (U+200B–U+200D,
 * U+2060, U+FEFF); bidirectional controls (U+200E, U+200F, U+061C, U+202A–U+202E, U+2066–U+2069).
 */
// eslint-disable-next-line no-control-regex
export const ID_FORBIDDEN_CHARS = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2060\ufeff\u061c\u202a-\u202e\u2066-\u2069]/

export const UNSTORABLE_MESSAGE = 'must not contain NUL characters or lone surrogates (invalid Unicode)'
export const ID_CHARS_MESSAGE = 'must not contain control, zero-width or bidirectional-control characters'

/** False for a string that no database here stores faithfully (NUL, lone surrogate). */
export const isStorableText = (value: string): boolean => !UNSTORABLE.test(value)

/** Any string that comes in: refuses NUL and lone surrogates. Use it instead of a bare `z.string()`. */
export const text = () => z.string({ error: 'must be a string' }).refine(isStorableText, UNSTORABLE_MESSAGE)

/**
 * An opaque identifier (user, group, connection, grant principal): 1..max characters, storable, without
 * control, zero-width or bidirectional characters (no lookalike ids).
 */
export const idText = (max = 256) =>
  text()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !isStorableText(s) || !ID_FORBIDDEN_CHARS.test(s), ID_CHARS_MESSAGE)

/** Where a value holds a string or an object key that cannot be stored (NUL, lone surrogate). */
export interface UnstorableText {
  path: (string | number)[]
  message: string
  /** True for nesting deeper than MAX_JSON_DEPTH (checked before the schema, which may recurse). */
  tooDeep?: boolean
}

/**
 * How deeply arrays and objects may nest in a request. Open WebUI's shapes nest a few levels (a chat
 * message's content parts, a tool's JSON schema a dozen); JSON.stringify, zod and structural comparisons
 * recurse, so a body of a million `[` would otherwise end in a stack overflow (500).
 */
export const MAX_JSON_DEPTH = 64

/**
 * Every string and object key inside a parsed JSON value (or query/params object) that cannot be
 * stored (at most `limit`), with their paths; or, when nesting goes deeper than MAX_JSON_DEPTH, only the
 * first place it does (tooDeep).
 * Iterative, so deep nesting cannot overflow the stack.
 */
export function findUnstorableText(value: unknown, limit = 10): UnstorableText[] {
  // Each node points at its parent, and a path is built only for what is reported: copying the path at
  // every level would make a deeply nested body cost quadratic time.
  interface Node {
    value: unknown
    key: string | number | undefined
    parent: Node | undefined
    depth: number
  }
  const pathOf = (node: Node | undefined): (string | number)[] => {
    const path: (string | number)[] = []
    for (let at = node; at && at.key !== undefined; at = at.parent) path.push(at.key)
    return path.reverse()
  }
  const found: UnstorableText[] = []
  const stack: Node[] = [{ value, key: undefined, parent: undefined, depth: 0 }]
  const seen = new Set<object>()
  // The walk goes on after `limit` text findings: nesting too deep must still be found (and wins).
  while (stack.length > 0) {
    const node = stack.pop() as Node
    const current = node.value
    if (typeof current === 'string') {
      if (found.length < limit && !isStorableText(current)) found.push({ path: pathOf(node), message: UNSTORABLE_MESSAGE })
    } else if (typeof current === 'object' && current !== null && !seen.has(current)) {
      seen.add(current)
      const depth = node.depth + 1
      if (depth > MAX_JSON_DEPTH) {
        return [{ path: pathOf(node), message: `is nested too deeply (at most ${MAX_JSON_DEPTH} levels)`, tooDeep: true }]
      } else if (Array.isArray(current)) {
        for (let index = current.length - 1; index >= 0; index--) stack.push({ value: current[index], key: index, parent: node, depth })
      } else {
        const keys = Object.keys(current)
        for (let index = keys.length - 1; index >= 0; index--) {
          const key = keys[index] as string
          if (isStorableText(key)) stack.push({ value: (current as Record<string, unknown>)[key], key, parent: node, depth })
          else if (found.length < limit) found.push({ path: pathOf(node), message: `has a key that ${UNSTORABLE_MESSAGE}` })
        }
      }
    }
  }
  return found
}

/** A one-line name: trimmed, 1..max characters, no control characters. */
export const lineText = (max: number) =>
  text()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters')

/** Free text (descriptions, prompts): up to max characters; newlines and tabs allowed. */
export const freeText = (max: number) =>
  text()
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !CONTROL_CHARS_EXCEPT_WHITESPACE.test(s), 'must not contain control characters')

/** An email address, trimmed and lower-cased so that sign-in is case-insensitive. */
export const emailText = text().trim().toLowerCase().max(320, 'must be at most 320 characters').pipe(z.email('must be a valid email address'))

/** Epoch seconds, as Open WebUI sends them. */
export const epochSecondsSchema = z.number().int().describe('Epoch seconds.')

/** Page number (1-based) as a query string value. */
export const pageQuery = z.coerce.number().int().min(1).max(1_000_000).default(1).describe('1-based page number.')

export const trueResponse = z.literal(true)

/**
 * A binary answer (images): OpenAPI `type: string, format: binary` under its content type. The value
 * is a Buffer, sent as is (Fastify serializes no Buffer).
 */
export const binaryBody = () => z.custom<Buffer>((value) => Buffer.isBuffer(value)).meta({ type: 'string', format: 'binary' })

/** An answer without a body (204, 302, 304); the description says what the status means. */
export const noBody = (description: string) => z.undefined().describe(description)
