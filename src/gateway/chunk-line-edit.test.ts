import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { editChunkLine } from './chunk-line-edit.js'

type Json = Record<string, unknown>

/** What the parsing path makes of a line's event (usage-lines.ts `read`, then chat.service.ts `withModel`). */
function parsingPath(event: Json, calledId: string, hideNullUsage: boolean): Json {
  let out = event
  if (hideNullUsage && 'usage' in out) {
    const { usage: _dropped, ...rest } = out
    out = rest
  }
  if (typeof out['model'] === 'string' && out['model'] !== calledId) out = { ...out, model: calledId }
  return out
}

const payloadOf = (line: Buffer) =>
  line
    .toString('utf8')
    .replace(/^data:/, '')
    .trim()

const text = fc.oneof(
  fc.constantFrom('', 'llama3.1:8b', 'model', '"model":"x"', 'a\\"b', 'usage', '{"usage":null}', 'ünïcödé ✓', 'line\nbreak', '}]{['),
  fc.string({ maxLength: 8 }),
)
const leaf = fc.oneof(text, fc.integer(), fc.constant(null), fc.boolean())
const keys = fc.constantFrom('id', 'object', 'model', 'usage', 'choices', 'delta', 'content', 'x"y', 'mo\\del', 'Model')
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(keys, tie('node'), { maxKeys: 3 })),
})).node
const event = fc
  .record(
    {
      id: fc.constant('chatcmpl-1'),
      model: fc.oneof(text, fc.constant(null), fc.integer()),
      choices: fc.array(value, { maxLength: 2 }),
      usage: fc.constant(null),
      extra: value,
    },
    { requiredKeys: ['id'] },
  )
  .chain((record) =>
    fc
      .shuffledSubarray(Object.keys(record), { minLength: Object.keys(record).length })
      .map((order) => Object.fromEntries(order.map((key) => [key, record[key as keyof typeof record]]))),
  )

describe('editChunkLine', () => {
  it('edits a chunk exactly as the parsing path does, or leaves it to that path', () => {
    let edited = 0
    fc.assert(
      fc.property(
        event,
        fc.constantFrom('preset', 'llama3.1:8b', 'a "quoted" id', 'ünï'),
        fc.boolean(),
        fc.constantFrom(0, 1),
        fc.constantFrom('\n', '\r\n', ''),
        (body, calledId, hide, indent, end) => {
          const json = indent ? JSON.stringify(body, null, indent).replace(/\n/g, '') : JSON.stringify(body)
          const line = Buffer.from(`data: ${json}${end}`)
          const result = editChunkLine(line, calledId, hide)
          if (result === undefined) return
          edited++
          expect(JSON.stringify(JSON.parse(payloadOf(result)))).toBe(JSON.stringify(parsingPath(JSON.parse(json) as Json, calledId, hide)))
          expect(result.subarray(result.length - end.length).toString()).toBe(end)
          if (result !== line) expect(result.toString()).not.toBe(line.toString())
        },
      ),
      { numRuns: 3000 },
    )
    // A good share take the byte path (the others: escaped or non-string models, which it refuses by design).
    expect(edited).toBeGreaterThan(800)
  })

  it('answers the line itself when nothing changes, and edits a real chunk in place', () => {
    const same = Buffer.from('data: {"id":"c","model":"preset","choices":[]}\n')
    expect(editChunkLine(same, 'preset', true)).toBe(same)
    const chunk = Buffer.from('data: {"id":"c","model":"llama3.1:8b","choices":[{"delta":{"content":"hi"}}],"usage":null}\n')
    expect(editChunkLine(chunk, 'preset', true)?.toString()).toBe('data: {"id":"c","model":"preset","choices":[{"delta":{"content":"hi"}}]}\n')
    expect(editChunkLine(chunk, 'preset', false)?.toString()).toBe('data: {"id":"c","model":"preset","choices":[{"delta":{"content":"hi"}}],"usage":null}\n')
    const first = Buffer.from('data: {"usage": null, "model": "m"}')
    expect(editChunkLine(first, 'p', true)?.toString()).toBe('data: { "model": "p"}')
  })

  it('leaves to the parsing path: errors, Responses events, counted usage, escaped or odd models, duplicates, trailing bytes', () => {
    for (const line of [
      'data: {"error":{"message":"boom"}}',
      'data: {"choices":[{"delta":{"content":"an \\"error\\" key"}}],"x":{"error":1}}',
      'data: {"type":"response.completed","response":{"model":"m"}}',
      'data: {"model":"m","usage":{"prompt_tokens":1}}',
      'data: {"model":"m\\u0041"}',
      'data: {"model":null}',
      'data: {"model":"a","model":"b"}',
      'data: {"usage":null,"usage":null}',
      'data: {"model":"m"} trailing',
      'data: {"model":"m"',
      'event: message',
      'data: [DONE]',
      '',
    ]) {
      expect(editChunkLine(Buffer.from(line), 'preset', true), line).toBeUndefined()
    }
  })
})
