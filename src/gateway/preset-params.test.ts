/**
 * How a preset shapes a chat request (issue #4, item 4): defaults the request overrides, locked keys
 * that always win, chains merged outer-over-inner, custom_params deep-merged, the system prompt put
 * first, and keys that mean nothing to a provider removed.
 */
import { describe, expect, it } from 'vitest'
import { applyPreset, applyPresetToResponses, effectiveParams, withSystemPrompt } from './preset-params.js'

const USER = { role: 'user', content: 'hi' }

/** applyPreset with a single-preset chain. */
const apply = (request: Record<string, unknown>, presetParams: Record<string, unknown>, upstream = 'up-model') =>
  applyPreset({ messages: [USER], ...request }, effectiveParams([presetParams]), upstream)

describe('effectiveParams', () => {
  it('returns no params and no locks for an empty chain', () => {
    const { params, locked } = effectiveParams([])
    expect(params).toEqual({})
    expect([...locked]).toEqual([])
  })

  it('lets the outer preset override the inner one, key by key', () => {
    const outer = { temperature: 0.9, system: 'outer system' }
    const inner = { temperature: 0.1, max_tokens: 100, system: 'inner system' }
    const { params } = effectiveParams([outer, inner])
    expect(params).toMatchObject({ temperature: 0.9, max_tokens: 100, system: 'outer system' })
  })

  it('ignores null values of an outer preset (they do not erase the inner value)', () => {
    const { params } = effectiveParams([{ top_p: null }, { top_p: 0.5 }])
    expect(params['top_p']).toBe(0.5)
  })

  it('collects the locked keys of every preset of the chain', () => {
    const { locked } = effectiveParams([{ locked: ['temperature'] }, { locked: ['max_tokens', 'seed'] }])
    expect([...locked].sort()).toEqual(['max_tokens', 'seed', 'temperature'])
  })

  it('ignores a locked value that is not an array of strings', () => {
    const { locked } = effectiveParams([{ locked: 'temperature' }, { locked: [1, 'seed', null] }])
    expect([...locked]).toEqual(['seed'])
  })

  it('deep-merges custom_params along the chain, the outer preset winning on conflicts', () => {
    const outer = { custom_params: { options: { num_gpu: 2 }, extra: 'outer' } }
    const inner = { custom_params: { options: { num_gpu: 1, mirostat: 1 }, other: true } }
    const { params } = effectiveParams([outer, inner])
    expect(params['custom_params']).toEqual({ options: { num_gpu: 2, mirostat: 1 }, extra: 'outer', other: true })
  })
})

describe('applyPreset', () => {
  it('uses the preset params as defaults and the request values over them', () => {
    const body = apply({ temperature: 1.2 }, { temperature: 0.2, max_tokens: 64 })
    expect(body['temperature']).toBe(1.2)
    expect(body['max_tokens']).toBe(64)
  })

  it('treats a null request value as absent (the preset default applies)', () => {
    const body = apply({ temperature: null }, { temperature: 0.3 })
    expect(body['temperature']).toBe(0.3)
  })

  it('keeps request values the preset says nothing about', () => {
    const body = apply({ top_p: 0.7, stream: true, n: 2, stream_options: { include_usage: true } }, { temperature: 0.2 })
    expect(body).toMatchObject({ top_p: 0.7, stream: true, n: 2, stream_options: { include_usage: true }, temperature: 0.2 })
  })

  it('makes locked keys win over the request', () => {
    const body = apply({ temperature: 1.5, max_tokens: 10 }, { temperature: 0.2, max_tokens: 64, locked: ['temperature'] })
    expect(body['temperature']).toBe(0.2)
    expect(body['max_tokens']).toBe(10)
  })

  it('applies locks of an inner preset of the chain too', () => {
    const chain = effectiveParams([{ temperature: 0.9 }, { temperature: 0.1, locked: ['temperature'] }])
    const body = applyPreset({ messages: [USER], temperature: 2 }, chain, 'up')
    // The outer preset's value is the effective one; the lock keeps the request from changing it.
    expect(body['temperature']).toBe(0.9)
  })

  it('merges a chain: outer preset over inner preset, request over both', () => {
    const chain = effectiveParams([
      { temperature: 0.5, system: 'Be brief.' },
      { temperature: 0.1, max_tokens: 32, top_p: 0.9 },
    ])
    const body = applyPreset({ messages: [USER], top_p: 0.3 }, chain, 'up')
    expect(body).toMatchObject({ temperature: 0.5, max_tokens: 32, top_p: 0.3 })
    expect(body['messages']).toEqual([{ role: 'system', content: 'Be brief.' }, USER])
  })

  it('deep-merges custom_params into the body and parses values given as JSON text', () => {
    const body = apply(
      { options: { num_ctx: 1024, keep: 'request' } },
      { custom_params: { options: '{"num_ctx": 4096, "mirostat": 2}', response_format: { type: 'json_object' }, plain: 'not json', count: '3' } },
    )
    expect(body['options']).toEqual({ num_ctx: 4096, mirostat: 2, keep: 'request' })
    expect(body['response_format']).toEqual({ type: 'json_object' })
    expect(body['plain']).toBe('not json')
    expect(body['count']).toBe(3)
    expect(body).not.toHaveProperty('custom_params')
  })

  it('prepends the preset system prompt to the conversation system message', () => {
    const body = apply({ messages: [{ role: 'system', content: 'Answer in French.' }, USER] }, { system: 'You teach SQL.' })
    expect(body['messages']).toEqual([{ role: 'system', content: 'You teach SQL.\n\nAnswer in French.' }, USER])
  })

  it('prepends the system prompt as a text part when the system message content is an array', () => {
    const parts = [{ type: 'text', text: 'Answer in French.' }]
    const body = apply({ messages: [{ role: 'system', content: parts, name: 'sys' }, USER] }, { system: 'You teach SQL.' })
    expect(body['messages']).toEqual([
      {
        role: 'system',
        name: 'sys',
        content: [
          { type: 'text', text: 'You teach SQL.' },
          { type: 'text', text: 'Answer in French.' },
        ],
      },
      USER,
    ])
  })

  it('inserts a system message when the conversation has none', () => {
    const assistant = { role: 'assistant', content: 'hello' }
    const body = apply({ messages: [USER, assistant, USER] }, { system: 'You teach SQL.' })
    expect(body['messages']).toEqual([{ role: 'system', content: 'You teach SQL.' }, USER, assistant, USER])
  })

  it('leaves the messages alone when the preset system prompt is blank', () => {
    const body = apply({}, { system: '   ' })
    expect(body['messages']).toEqual([USER])
  })

  it('does not change the request it was given', () => {
    const request = { model: 'preset', messages: [{ role: 'system', content: 'own' }, USER], temperature: 1 }
    const copy = structuredClone(request)
    applyPreset(request, effectiveParams([{ system: 'preset', temperature: 0.1, locked: ['temperature'] }]), 'up')
    expect(request).toEqual(copy)
  })

  it('strips modelgate-only keys, from the preset and from the request', () => {
    const body = apply(
      { system: 'request system', locked: ['top_p'], custom_params: { injected: true } },
      { system: 'preset system', locked: ['temperature'], temperature: 0.2, custom_params: { a: 1 } },
    )
    expect(body).not.toHaveProperty('system')
    expect(body).not.toHaveProperty('locked')
    expect(body).not.toHaveProperty('custom_params')
    expect(body).not.toHaveProperty('injected')
    expect(body['a']).toBe(1)
  })

  it('strips Open WebUI-only request keys', () => {
    const openWebUiKeys = {
      chat_id: 'c1',
      session_id: 's1',
      message_id: 'm1',
      id: 'x',
      features: { web_search: true },
      variables: { '{{USER_NAME}}': 'Ann' },
      model_item: { id: 'preset' },
      background_tasks: { title_generation: true },
      tool_ids: ['t'],
      tool_servers: [],
      filter_ids: ['f'],
      files: [{ id: 'file' }],
      stream_response: true,
      function_calling: 'native',
      reasoning_tags: true,
      stream_delta_chunk_size: 4,
    }
    const body = apply({ ...openWebUiKeys, params: { top_p: 0.4 }, temperature: 1 }, {})
    for (const key of [...Object.keys(openWebUiKeys), 'params']) expect(body).not.toHaveProperty(key)
    expect(body).toMatchObject({ temperature: 1, top_p: 0.4 })
  })

  it('strips Open WebUI-only keys given as preset params', () => {
    const body = apply({}, { function_calling: 'native', stream_response: false, temperature: 0.4 })
    expect(body).not.toHaveProperty('function_calling')
    expect(body).not.toHaveProperty('stream_response')
    expect(body['temperature']).toBe(0.4)
  })

  it('treats the request params object as request values: over preset defaults, under top-level values and locks', () => {
    const body = apply(
      { params: { temperature: 1.1, max_tokens: 5, seed: 7 }, seed: 9 },
      { temperature: 0.2, max_tokens: 64, top_p: 0.5, locked: ['max_tokens'] },
    )
    expect(body['temperature']).toBe(1.1) // params beats the preset default
    expect(body['max_tokens']).toBe(64) // the lock beats params
    expect(body['seed']).toBe(9) // a top-level value beats params
    expect(body['top_p']).toBe(0.5)
    expect(body).not.toHaveProperty('params')
  })

  it('ignores a params value that is not an object', () => {
    const body = apply({ params: 'temperature=2' }, { temperature: 0.2 })
    expect(body['temperature']).toBe(0.2)
    expect(body).not.toHaveProperty('params')
  })

  it('replaces the model with the upstream id', () => {
    const body = applyPreset({ model: 'my-preset', messages: [USER] }, effectiveParams([{}]), 'meta-llama/Llama-3.1-8B')
    expect(body['model']).toBe('meta-llama/Llama-3.1-8B')
  })

  it('replaces the model even when a preset param or custom param names one', () => {
    const body = apply({ model: 'my-preset' }, { model: 'sneaky', custom_params: { model: 'sneakier' }, locked: ['model'] }, 'real-upstream')
    expect(body['model']).toBe('real-upstream')
  })
})

describe('withSystemPrompt', () => {
  it('prefixes a string system message, keeping its other fields', () => {
    expect(withSystemPrompt([{ role: 'system', content: 'B', name: 'x' }, USER], 'A')).toEqual([{ role: 'system', content: 'A\n\nB', name: 'x' }, USER])
  })

  it('prefixes an array system message with a text part', () => {
    const image = { type: 'image_url', image_url: { url: 'http://x/y.png' } }
    expect(withSystemPrompt([{ role: 'system', content: [image] }], 'A')).toEqual([{ role: 'system', content: [{ type: 'text', text: 'A' }, image] }])
  })

  it('fills a system message without usable content', () => {
    expect(withSystemPrompt([{ role: 'system', content: null }, USER], 'A')).toEqual([{ role: 'system', content: 'A' }, USER])
  })

  it('inserts a system message first when the first message is not one', () => {
    expect(withSystemPrompt([USER], 'A')).toEqual([{ role: 'system', content: 'A' }, USER])
    expect(withSystemPrompt([], 'A')).toEqual([{ role: 'system', content: 'A' }])
  })

  it('does not modify the messages it was given', () => {
    const messages = [{ role: 'system', content: 'B' }, USER]
    const copy = structuredClone(messages)
    withSystemPrompt(messages, 'A')
    expect(messages).toEqual(copy)
  })
})

describe('applyPresetToResponses', () => {
  it('sends no max_output_tokens for a preset whose max_tokens means "no limit" (-1, -2), and the limit otherwise', () => {
    for (const noLimit of [-1, -2]) {
      const body = applyPresetToResponses({ input: 'hi' }, { params: { max_tokens: noLimit }, locked: new Set() }, 'up')
      expect(body).not.toHaveProperty('max_output_tokens')
    }
    expect(applyPresetToResponses({ input: 'hi' }, { params: { max_tokens: 64 }, locked: new Set() }, 'up')['max_output_tokens']).toBe(64)
  })
})
