/**
 * Runs around every test file (vitest `setupFiles`). Streamed JSON answers (exports) are checked against
 * their schema only once the stream ends, after the answer is sent (src/http/response-schemas.ts), so a
 * mismatch cannot fail the request: it is recorded, and this hook fails the test that caused it.
 *
 * In-process tests hash passwords at a low scrypt cost (N=16 instead of 2^15: ~0.05 ms instead of
 * ~100 ms of CPU per hash; sign-ups, sign-ins and password changes did ~3 per account and thousands per
 * run). Hashes keep their cost in the stored string, so verification is the same code either way.
 * src/auth/passwords.test.ts covers the real cost, and servers started as processes (e2e, durability) use it.
 */
import { afterEach, expect } from 'vitest'
import { setPasswordCostForTestsOnly } from '../../src/auth/passwords.js'
import { streamMismatches } from '../../src/http/response-schemas.js'

export const TEST_PASSWORD_COST = { N: 16, r: 1, p: 1 } as const
setPasswordCostForTestsOnly(TEST_PASSWORD_COST)

afterEach(() => {
  const found = streamMismatches.splice(0)
  expect(found, 'streamed answers that do not match their response schema').toEqual([])
})
