import { describe, expect, it } from 'vitest'
import { applyPresetToResponses, effectiveParams } from './preset-params.js'
import { ChatToResponsesStream, chatToResponse, responsesToChat } from './responses-translate.js'

describe('responsesToChat', () => {
  it('maps instructions, roles, content parts, tools, formats and params to their chat names', () => {
    const chat = responsesToChat({
      model: 'm',
      instructions: 'Be kind.',
      input: [
        { role: 'developer', content: 'dev note' },
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'look' },
            { type: 'input_image', image_url: 'https://x/cat.png', detail: 'low' },
          ],
        },
      ],
      max_output_tokens: 9,
      reasoning: { effort: 'low' },
      text: { format: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true } },
      tools: [{ type: 'function', name: 'f', parameters: { type: 'object' } }],
      tool_choice: { type: 'function', name: 'f' },
      top_logprobs: 2,
      store: true,
      metadata: { a: 'b' },
      stream: true,
    })
    expect(chat).toEqual({
      model: 'm',
      messages: [
        { role: 'system', content: 'Be kind.' },
        { role: 'system', content: 'dev note' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url: 'https://x/cat.png', detail: 'low' } },
          ],
        },
      ],
      max_tokens: 9,
      reasoning_effort: 'low',
      response_format: { type: 'json_schema', json_schema: { name: 'out', schema: { type: 'object' }, strict: true } },
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
      tool_choice: { type: 'function', function: { name: 'f' } },
      logprobs: true,
      top_logprobs: 2,
      stream: true,
      stream_options: { include_usage: true },
    })
  })

  it('refuses what needs stored state or built-in tools, naming the field', () => {
    expect(() => responsesToChat({ model: 'm', input: 'x', previous_response_id: 'r' })).toThrow(/previous_response_id/)
    expect(() => responsesToChat({ model: 'm', input: [{ role: 'assistant', content: [{ type: 'input_image', image_url: 'u' }] }] })).toThrow(
      /input\.0\.content/,
    )
    expect(() => responsesToChat({ model: 'm', input: [] })).toThrow(/input/)
  })
})

describe('chat answers as Responses', () => {
  it('marks an answer cut by the token limit incomplete', () => {
    const response = chatToResponse(
      { created: 5, choices: [{ message: { content: 'partial' }, finish_reason: 'length' }], usage: { prompt_tokens: 2, completion_tokens: 3 } },
      { model: 'preset', request: { max_output_tokens: 3 } },
    )
    expect(response).toMatchObject({
      model: 'preset',
      created_at: 5,
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
      max_output_tokens: 3,
      usage: { input_tokens: 2, output_tokens: 3, total_tokens: 5 },
      output: [{ type: 'message', content: [{ type: 'output_text', text: 'partial' }] }],
    })
  })

  it('numbers stream events in order and closes open items before an error event', () => {
    const stream = new ChatToResponsesStream({ model: 'preset', request: {} })
    const events = [
      ...stream.start(),
      ...stream.push({ choices: [{ delta: { content: 'he' } }] }),
      ...stream.push({ choices: [{ delta: { content: 'llo' } }] }),
      ...stream.fail({ code: 'PROVIDER_ERROR', message: 'broke' }),
    ]
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i))
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'error',
    ])
    expect(events.at(-4)).toMatchObject({ type: 'response.output_text.done', text: 'hello' })
    expect(stream.end()).toEqual([])
  })
})

describe('applyPresetToResponses', () => {
  it('applies defaults, locks, custom_params and the system prompt in Responses terms, dropping chat-only params', () => {
    const preset = effectiveParams([
      {
        system: 'S',
        max_tokens: 10,
        temperature: 0.1,
        reasoning_effort: 'high',
        stop: ['x'],
        locked: ['reasoning_effort'],
        custom_params: { extra: '{"a":1}' },
      },
    ])
    expect(applyPresetToResponses({ model: 'p', input: 'hi', temperature: 0.7, reasoning: { effort: 'low', summary: 'auto' } }, preset, 'up')).toEqual({
      model: 'up',
      input: 'hi',
      temperature: 0.7,
      max_output_tokens: 10,
      reasoning: { effort: 'high', summary: 'auto' },
      instructions: 'S',
      extra: { a: 1 },
    })
  })
})
