/**
 * The editor's form against the server's own schema: what the browser refuses before sending, and
 * where each refusal is shown (fields named like the body's keys; the server's `errors` by path).
 */
import { describe, expect, it, vi } from 'vitest'

// api/client.ts builds its client from the page's origin when it loads; this test runs in Node.
vi.hoisted(() => vi.stubGlobal('window', { location: { origin: 'http://127.0.0.1' } }))

import { ApiError } from '../../api/client'
import { editorResolver, emptyInitial, fieldFor, initialFrom, placeServerError, toBody, UNPLACED, type EditorValues } from './form'

function values(patch: (values: EditorValues) => void): EditorValues {
  const initial = emptyInitial().values
  const copy = structuredClone(initial)
  copy.id = 'sql-tutor'
  copy.name = 'SQL tutor'
  patch(copy)
  return copy
}

async function resolve(mode: 'create' | 'edit', input: EditorValues, loaded = { meta: {}, params: {} }) {
  const resolver = editorResolver(mode, loaded)
  return resolver(input, undefined, { fields: {}, shouldUseNativeValidation: false })
}

describe('model editor form', () => {
  it('builds the body: numbers from text, empty parameters unset, unknown keys kept', () => {
    const loaded = { meta: { knowledge: [1] }, params: { custom_params: { a: 1 }, temperature: 0.5 } }
    const body = toBody(
      values((v) => {
        v.params.top_p = ' 0.25 '
        v.params.seed = '−3'
        v.meta.tags = ['sql']
      }),
      loaded,
    )
    expect(body.params).toEqual({ custom_params: { a: 1 }, top_p: 0.25, seed: -3 })
    expect(body.meta).toMatchObject({ knowledge: [1], tags: [{ name: 'sql' }], description: null })
  })

  it('refuses an out-of-range parameter with the server schema, at its field', async () => {
    const result = await resolve(
      'create',
      values((v) => (v.params.temperature = '3')),
    )
    expect(result.errors.params?.temperature?.message).toBe('must be a number between 0 and 2 (got 3)')
  })

  it("refuses text that is not a number in the schema's own words", async () => {
    const result = await resolve(
      'edit',
      values((v) => (v.params.max_tokens = 'many')),
    )
    expect(result.errors.params?.max_tokens?.message).toContain('must be an integer')
  })

  it('refuses an empty name and an empty id', async () => {
    const result = await resolve(
      'create',
      values((v) => {
        v.name = '  '
        v.id = ''
      }),
    )
    expect(result.errors.name?.message).toBe('must not be empty')
    expect(result.errors.id?.message).toMatch(/^must be 1 to 256 characters/)
  })

  it('accepts a valid form and answers its values', async () => {
    const input = values((v) => (v.params.temperature = '0.2'))
    const result = await resolve('create', input)
    expect(result.errors).toEqual({})
    expect(result.values).toEqual(input)
  })

  it('sends problems of keys the form does not show to the banner', async () => {
    const result = await resolve(
      'edit',
      values(() => undefined),
      { meta: {}, params: { custom_params: 'nope' } },
    )
    expect(result.errors.root?.[UNPLACED]?.message).toBe('params.custom_params: must be an object')
  })

  it('maps body paths to fields', () => {
    expect(fieldFor(['params', 'temperature'])).toBe('params.temperature')
    expect(fieldFor(['meta', 'tags', 3])).toBe('meta.tags')
    expect(fieldFor(['meta', 'suggestion_prompts', 0, 'content'])).toBe('meta.suggestion_prompts')
    expect(fieldFor(['params', 'custom_params'])).toBeUndefined()
    expect(fieldFor(['access_grants', 0, 'principal_id'])).toBeUndefined()
    expect(fieldFor(['base_model_id'])).toBe('base_model_id')
  })

  it("places the server's structured errors at their fields and the rest in the banner", () => {
    const error = new ApiError(400, 'INVALID_PARAMS', 'body.params.temperature: …; body.access_grants.0: …', {
      errors: [
        { path: 'body.params.temperature', message: 'must be a number between 0 and 2 (got 3)', code: 'INVALID_PARAMS' },
        { path: 'body.meta.description', message: 'must be at most 20000 characters', code: 'VALIDATION_ERROR' },
        { path: 'body.access_grants.0.principal_id', message: 'must not be empty', code: 'INVALID_ACCESS_CONTROL' },
      ],
    })
    expect(placeServerError(error)).toEqual({
      fields: [
        ['params.temperature', 'must be a number between 0 and 2 (got 3)'],
        ['meta.description', 'must be at most 20000 characters'],
      ],
      rest: ['body.access_grants.0.principal_id: must not be empty'],
    })
  })

  it('puts a taken id at the id field and anything else in the banner', () => {
    expect(placeServerError(new ApiError(409, 'MODEL_ID_TAKEN', 'A model with this id exists'))).toEqual({
      fields: [['id', 'A model with this id exists']],
      rest: [],
    })
    expect(placeServerError(new ApiError(403, 'FORBIDDEN', 'No'))).toEqual({ fields: [], rest: ['No'] })
  })

  it('reads a stored model back into the form', () => {
    const initial = initialFrom({
      id: 'x',
      name: 'X',
      base_model_id: 'llama',
      meta: { tags: [{ name: 'a' }, 'b'], suggestion_prompts: ['hi'] },
      params: { temperature: 0.7, stop: 'END' },
    })
    expect(initial.values.meta.tags).toEqual(['a', 'b'])
    expect(initial.values.params.temperature).toBe('0.7')
    expect(initial.values.params.stop).toEqual(['END'])
    expect(initial.values.meta.suggestion_prompts).toEqual([{ content: 'hi', extra: {} }])
  })
})
