/**
 * Runs around every test file (vitest `setupFiles`). Streamed JSON answers (exports) are checked against
 * their schema only once the stream ends, after the answer is sent (src/http/response-schemas.ts), so a
 * mismatch cannot fail the request: it is recorded, and this hook fails the test that caused it.
 */
import { afterEach, expect } from 'vitest'
import { streamMismatches } from '../../src/http/response-schemas.js'

afterEach(() => {
  const found = streamMismatches.splice(0)
  expect(found, 'streamed answers that do not match their response schema').toEqual([])
})
