/**
 * `If-Match` on model writes (issue #12): the versions the client last read, as ETags (`"3"`), a list
 * of them, or `*` (any current version). Without the header a write behaves as before (Open WebUI's
 * clients send none). The header follows RFC 9110 §13.1.1: entity tags are quoted (a bare `3` is
 * malformed: 400); the comparison is strong, octet by octet, so a weak tag (W/"3"), a tag that is no
 * version of ours ("abc", "03") is well-formed but never matches (412 when nothing else in the list does).
 */
import { fieldError } from '../errors/app-error.js'

/** What a write may expect: undefined = no precondition; 'any' = `*`; else the versions the client accepts (empty: none). */
export type ExpectedVersion = undefined | 'any' | readonly number[]

/** etagc of RFC 9110: any visible character but the double quote, or obs-text. */
const OPAQUE = /^[\x21\x23-\x7e\x80-\xff]*$/
/** The ETags we answer: a version in decimal, no leading zero (strong comparison is exact). */
const VERSION = /^(?:0|[1-9]\d{0,14})$/

export function parseIfMatch(header: string | string[] | undefined): ExpectedVersion {
  if (header === undefined) return undefined
  const text = Array.isArray(header) ? header.join(',') : header
  if (text.trim() === '*') return 'any'
  const malformed = () => fieldError('VALIDATION_ERROR', 'headers.if-match', 'expected a model version as an ETag ("3"), a list of them, or *')
  const versions: number[] = []
  let tags = 0
  let i = 0
  const skipSpace = () => {
    while (text[i] === ' ' || text[i] === '\t') i += 1
  }
  // A list of entity tags; empty elements (`"1", , "2"`) are allowed and ignored (RFC 9110 §5.6.1).
  for (;;) {
    skipSpace()
    if (i < text.length && text[i] !== ',') {
      const weak = text.startsWith('W/', i)
      if (weak) i += 2
      if (text[i] !== '"') throw malformed()
      const end = text.indexOf('"', i + 1)
      if (end < 0) throw malformed()
      const opaque = text.slice(i + 1, end)
      if (!OPAQUE.test(opaque)) throw malformed()
      tags += 1
      if (!weak && VERSION.test(opaque)) versions.push(Number(opaque))
      i = end + 1
      skipSpace()
    }
    if (i >= text.length) break
    if (text[i] !== ',') throw malformed()
    i += 1
  }
  if (tags === 0) throw malformed()
  return versions
}

/** Does a model at `current` satisfy the expectation? */
export function versionMatches(expected: ExpectedVersion, current: number): boolean {
  return expected === undefined || expected === 'any' || expected.includes(current)
}
