/**
 * `If-Match` on model writes (issue #12): the versions the client last read, as ETags (`"3"`), a list
 * of them, or `*` (any current version). Without the header a write behaves as before (Open WebUI's
 * clients send none). Weak tags (W/"3") are refused: If-Match compares strongly (RFC 9110 §13.1.1).
 */
import { fieldError } from '../errors/app-error.js'

/** What a write may expect: undefined = no precondition; 'any' = `*`; else the versions the client accepts. */
export type ExpectedVersion = undefined | 'any' | readonly number[]

export function parseIfMatch(header: string | string[] | undefined): ExpectedVersion {
  if (header === undefined) return undefined
  const text = (Array.isArray(header) ? header.join(',') : header).trim()
  if (text === '*') return 'any'
  const versions: number[] = []
  for (const part of text.split(',')) {
    const match = /^\s*"?(\d{1,15})"?\s*$/.exec(part)
    if (!match?.[1]) throw fieldError('VALIDATION_ERROR', 'headers.if-match', 'expected a model version as an ETag ("3"), a list of them, or *')
    versions.push(Number(match[1]))
  }
  return versions
}

/** Does a model at `current` satisfy the expectation? */
export function versionMatches(expected: ExpectedVersion, current: number): boolean {
  return expected === undefined || expected === 'any' || expected.includes(current)
}
