/**
 * Structured validation errors (issue #11): a 400 keeps its readable `detail` and lists every failed
 * field in `errors` ({path, message, code}), the path dotted from the request part.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { createHarness, type Harness } from './support/harness.js'

interface Issue {
  path: string
  message: string
  code: string
}
/** The body of an error answer. */
const errorBody = (res: { json: () => unknown }) => res.json() as { detail: string; code: string; errors: Issue[]; error?: unknown }

describe.each(DIALECTS)('validation errors on %s', (dialect) => {
  let h: Harness

  beforeAll(async () => {
    h = await createHarness(dialect)
  })
  afterAll(() => h.close())

  it('several bad fields at once: one entry each, with its path and catalogue code; detail as before', async () => {
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/models/create',
      headers: h.admin.auth,
      payload: {
        id: 'm\u200bx',
        name: '',
        params: { temperature: 3, max_tokens: 1.5 },
        access_grants: [{ principal_type: 'robot', principal_id: 'x', permission: 'read' }],
      },
    })
    expect(res.statusCode).toBe(400)
    const body = errorBody(res)
    expect(body.errors).toEqual(
      expect.arrayContaining([
        { path: 'body.id', message: expect.stringContaining('zero-width'), code: 'INVALID_MODEL_ID' },
        { path: 'body.name', message: 'must not be empty', code: 'VALIDATION_ERROR' },
        { path: 'body.params.temperature', message: 'must be a number between 0 and 2 (got 3)', code: 'INVALID_PARAMS' },
        { path: 'body.params.max_tokens', message: 'must be an integer at least -2 (got 1.5)', code: 'INVALID_PARAMS' },
        { path: 'body.access_grants.0.principal_type', message: expect.any(String), code: 'INVALID_ACCESS_CONTROL' },
      ]),
    )
    expect(body.errors).toHaveLength(5)
    // The detail is the sentence clients show, every failure in order: the entries joined.
    expect(body.detail).toBe(body.errors.map((e) => `${e.path}: ${e.message}`).join('; '))
    // The answer's code is the first failure's.
    expect(body.code).toBe(body.errors[0]?.code)
  })

  it('query string and path failures name their part', async () => {
    const list = await h.request({ method: 'GET', url: '/api/v1/models/list?limit=0&order_by=size', headers: h.admin.auth })
    expect(list.statusCode).toBe(400)
    expect(
      errorBody(list)
        .errors.map((e) => e.path)
        .sort(),
    ).toEqual(['querystring.limit', 'querystring.order_by'])
    expect(errorBody(list).detail).toMatch(/^querystring\.(limit|order_by): /)

    const user = await h.request({ method: 'GET', url: `/api/v1/users/${encodeURIComponent('a\u202eb')}`, headers: h.admin.auth })
    expect(user.statusCode).toBe(400)
    expect(errorBody(user).errors).toEqual([{ path: 'params.id', message: expect.stringContaining('bidirectional'), code: 'VALIDATION_ERROR' }])
  })

  it('text no database stores, anywhere in a free-form value, is one entry per place', async () => {
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/models/create',
      headers: h.admin.auth,
      payload: { id: 'free-form', name: 'Free form', meta: { note: 'a\u0000b', nested: ['ok', 'c\u0000d'] } },
    })
    expect(res.statusCode).toBe(400)
    expect(
      errorBody(res)
        .errors.map((e) => e.path)
        .sort(),
    ).toEqual(['body.meta.nested.1', 'body.meta.note'])
  })

  it('the chat endpoints answer the same entries inside their OpenAI error shape', async () => {
    const res = await h.request({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: h.admin.auth,
      payload: { model: 'x', messages: [], temperature: 'hot' },
    })
    expect(res.statusCode).toBe(400)
    const body = errorBody(res)
    expect(body.errors).toEqual([
      { path: 'body.messages', message: 'must hold at least one message', code: 'VALIDATION_ERROR' },
      { path: 'body.temperature', message: expect.stringContaining('must be a number'), code: 'INVALID_PARAMS' },
    ])
    expect(body.error).toEqual({ message: body.detail, type: 'invalid_request_error', code: 'VALIDATION_ERROR' })
  })

  it('errors that are not about a field carry no entries', async () => {
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/models/create',
      headers: { ...h.admin.auth, 'content-type': 'application/json' },
      payload: '{"id": ',
    })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toEqual({ detail: expect.stringMatching(/JSON/), code: 'VALIDATION_ERROR' })
  })
})
