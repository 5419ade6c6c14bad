/** The Try it panel's pure parts: the event stream parsed across chunk cuts, folded into what is shown. */
import { describe, expect, it } from 'vitest'
import { createEventParser, describeRequest, formatMs, initialTryState, reduceTry, type TryEvent } from './stream'

const request: TryEvent = {
  type: 'request',
  model: 'sql-tutor',
  draft: false,
  request: {
    connection: 'Lab',
    url: null,
    path: '/chat/completions',
    body: {
      model: 'base-llm',
      stream: true,
      temperature: 0.3,
      messages: [
        { role: 'system', content: 'You teach SQL.' },
        { role: 'user', content: 'Hi' },
      ],
    },
  },
}

describe('try-it stream', () => {
  it('parses events whatever the chunk cuts, skipping lines that are not ours', () => {
    const text = [request, { type: 'first_token', ms: 12 }, { type: 'delta', content: 'Hel' }, { type: 'delta', content: 'lo' }]
      .map((event) => `data: ${JSON.stringify(event)}\n\n`)
      .join('')
    const parser = createEventParser()
    const events: TryEvent[] = []
    for (let i = 0; i < text.length; i += 7) events.push(...parser.push(text.slice(i, i + 7)))
    events.push(...parser.push(': comment\ndata: not json\n\n'))
    expect(events.map((event) => event.type)).toEqual(['request', 'first_token', 'delta', 'delta'])
  })

  it('folds events into the request, the first token, the answer and the end', () => {
    const events: TryEvent[] = [
      request,
      { type: 'first_token', ms: 12 },
      { type: 'delta', content: 'Hel' },
      { type: 'delta', content: 'lo' },
      { type: 'done', ms: 40, first_token_ms: 12, finish_reason: 'stop' },
    ]
    const state = events.reduce(reduceTry, initialTryState)
    expect(state).toMatchObject({ answer: 'Hello', firstTokenMs: 12, totalMs: 40, status: 'done', draft: false, error: null })
    expect(state.request?.connection).toBe('Lab')
    const failed = reduceTry(state, { type: 'error', code: 'PROVIDER_ERROR', message: 'Provider "Lab" failed.' })
    expect(failed).toMatchObject({ status: 'error', error: 'Provider "Lab" failed. (PROVIDER_ERROR)' })
  })

  it('lists the system prompt and the parameters sent, not the messages, model or stream flag', () => {
    if (request.type !== 'request') throw new Error('unreachable')
    expect(describeRequest(request.request)).toEqual({ system: 'You teach SQL.', params: [['temperature', '0.3']] })
    expect(describeRequest({ ...request.request, body: { model: 'm', messages: [], stop: ['x'] } })).toEqual({ system: null, params: [['stop', '["x"]']] })
  })

  it('formats times', () => {
    expect(formatMs(12.4)).toBe('12 ms')
    expect(formatMs(1234)).toBe('1.2 s')
  })
})
