/**
 * Parameter ranges (issue #14 item 7; docs/models.md, "Parameter ranges"): every value Open WebUI's model
 * editor lets a user set is accepted, and each limit is checked on both sides (the last value accepted,
 * the first refused with 400 INVALID_PARAMS naming the key). `-1` ("no limit") is stored as given and not
 * sent to the provider.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyPreset } from '../src/gateway/preset-params.js'
import { DIALECTS } from './support/databases.js'
import { createHarness, type Harness } from './support/harness.js'
import { expectError } from './support/requests.js'

/** [key, last accepted values, first refused values] for each limit. */
const LIMITS: [string, unknown[], unknown[]][] = [
  ['temperature', [0, 2], [-0.01, 2.01]],
  ['top_p', [0, 1], [-0.01, 1.01]],
  ['top_k', [0, 0.5, 1000, 100_000], [-0.5]],
  ['min_p', [0, 1], [-0.01, 1.01]],
  ['max_tokens', [-2, -1, 0, 1, 131_072, 1_000_000], [-3, 1.5]],
  ['num_predict', [-2, -1, 128], [-3, 2.5]],
  ['frequency_penalty', [-2, 2], [-2.01, 2.01]],
  ['presence_penalty', [-2, 2], [-2.01, 2.01]],
  ['repeat_penalty', [-2, 0, 1.1, 2, 5], [-2.01]],
  ['repeat_last_n', [-1, 0, 128, 4096], [-2, 1.5]],
  ['seed', [-42, 0, 2 ** 31], [1.5]],
  ['num_ctx', [-1, 0, 1, 10_240_000], [-2, 0.5]],
  ['num_keep', [-1, 24, 10_240_000], [-2, 1.5]],
  ['num_batch', [1, 256, 8192], [0, 256.5]],
  ['num_thread', [0, 1, 256, 512], [-1, 1.5]],
  ['num_gpu', [-1, 0, 256], [-2, 0.5]],
  ['mirostat', [0, 1, 2], [-1, 3, 1.5]],
  ['mirostat_eta', [0, 0.1, 1, 2], [-0.01]],
  ['mirostat_tau', [0, 5, 10, 20], [-0.01]],
  ['tfs_z', [0, 1, 2, 3], [-0.01]],
  ['stream_delta_chunk_size', [1, 128], [0, 1.5]],
  ['use_mmap', [true, false], ['yes', 1]],
  ['use_mlock', [true, false], ['no', 0]],
  ['stream_response', [true, false], ['true']],
]

describe.each(DIALECTS)('parameter ranges on %s', (dialect) => {
  let h: Harness
  let n = 0
  const create = (params: Record<string, unknown>) =>
    h.send(h.admin, { method: 'POST', url: '/api/v1/models/create', payload: { id: `range-${n++}`, base_model_id: 'base-llm', name: 'Range', params } })

  beforeAll(async () => {
    h = await createHarness(dialect)
  })
  afterAll(async () => {
    await h?.close()
  })

  it.each(LIMITS)('%s: accepts %j, refuses %j naming the key', async (key, accepted, refused) => {
    for (const value of accepted) {
      const res = await create({ [key]: value })
      expect(res.statusCode, `${key}=${JSON.stringify(value)}: ${res.body}`).toBe(200)
      expect(res.json().params[key]).toEqual(value)
    }
    for (const value of refused) {
      const res = await create({ [key]: value })
      expectError(res, 400, 'INVALID_PARAMS')
      expect(res.json().detail, `${key}=${JSON.stringify(value)}`).toContain(key)
    }
  })

  it('accepts what Open WebUI keeps free-form as given (think, format, keep_alive, logit_bias, reasoning_tags, function_calling)', async () => {
    const params = {
      think: 'medium',
      format: { type: 'object', properties: {} },
      keep_alive: -1,
      logit_bias: '5432:100, 413:-100',
      reasoning_tags: ['<think>', '</think>'],
      function_calling: 'native',
      compact_token_threshold: 80_000,
    }
    const res = await create(params)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().params).toEqual(params)
  })
})

describe('"no limit" at the provider', () => {
  const apply = (request: Record<string, unknown>, params: Record<string, unknown>) => applyPreset(request, { params, locked: new Set() }, 'up')

  it('sends no max_tokens or num_ctx below 1 (from the preset or the request), and keeps positive ones', () => {
    expect(apply({ messages: [] }, { max_tokens: -1, num_ctx: -1 })).toEqual({ messages: [], model: 'up' })
    expect(apply({ messages: [], max_tokens: -2 }, {})).toEqual({ messages: [], model: 'up' })
    expect(apply({ messages: [], max_tokens: 0 }, { max_tokens: 64 })).toEqual({ messages: [], model: 'up' })
    expect(apply({ messages: [] }, { max_tokens: 1, num_ctx: 2048 })).toEqual({ messages: [], max_tokens: 1, num_ctx: 2048, model: 'up' })
    // num_predict is Ollama's own word and kept as given (-1 is its "no limit").
    expect(apply({ messages: [] }, { num_predict: -1 })).toEqual({ messages: [], num_predict: -1, model: 'up' })
  })
})
