/** What tests say about requests and answers, one copy for every test file. */
import { expect } from 'vitest'
import type { Reply } from './harness.js'

/** `{authorization: 'Bearer …'}` for a token or an API key. */
export const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` })

/** The answer is `status` with the error `code` and a readable, non-empty `detail`. */
export function expectError(res: { statusCode: number; json: () => { detail?: unknown; code?: unknown } }, status: number, code: string): void {
  expect(res.statusCode, JSON.stringify(res.json())).toBe(status)
  const body = res.json()
  expect(body.code).toBe(code)
  expect(typeof body.detail).toBe('string')
  expect((body.detail as string).length).toBeGreaterThan(0)
}

/** The answer is 200 (its body in the message otherwise). */
export function expectOk(res: Pick<Reply, 'statusCode' | 'body'>): void {
  expect(res.statusCode, res.body).toBe(200)
}
