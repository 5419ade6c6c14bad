/**
 * The common streamed chunk edited as bytes: a `data: {…}` line whose top-level `model` gets the id the
 * caller called and, when the gateway asked for usage, whose top-level `"usage": null` goes (usage-lines.ts).
 * Every chunk of a chat stream is such a line; parsing and serializing each one was most of the relay's
 * own cost (docs/performance.md, "Gateway hot path"). One pass tracks strings and nesting, so only
 * top-level keys are touched, as the parsing path would. Anything else (an error key anywhere, a
 * `response` object, a non-null usage, a model that is not a plain string, a second top-level model or
 * usage, trailing bytes) answers undefined: the caller parses the line as before. A property test checks
 * both paths agree (chunk-line-edit.test.ts).
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a
const COMMA = 0x2c
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d

const PREFIX = Buffer.from('data: {')
const ERROR_KEY = Buffer.from('"error"')
const MODEL_KEY = Buffer.from('"model"')
const USAGE_KEY = Buffer.from('"usage"')
const RESPONSE_KEY = Buffer.from('"response"')
const NULL = Buffer.from('null')

const isSpace = (byte: number | undefined) => byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d

function skipSpace(line: Buffer, from: number, step: 1 | -1): number {
  let i = from
  while (isSpace(line[i])) i += step
  return i
}

const isKey = (line: Buffer, start: number, end: number, key: Buffer) => end - start === key.length && line.compare(key, 0, key.length, start, end) === 0

/**
 * The line with the edits made, the line itself when none is needed, or undefined when it is not the
 * common shape. `hideNullUsage`: the gateway asked for usage, so a `"usage": null` the client did not ask for goes.
 */
export function editChunkLine(line: Buffer, calledId: string, hideNullUsage: boolean): Buffer | undefined {
  if (line.length < PREFIX.length || line.compare(PREFIX, 0, PREFIX.length, 0, PREFIX.length) !== 0) return undefined
  if (line.indexOf(ERROR_KEY) !== -1) return undefined
  let model: { start: number; end: number } | undefined
  let usage: { start: number; end: number } | undefined
  let depth = 0
  let close = -1
  for (let i = PREFIX.length - 1; i < line.length; i++) {
    const byte = line[i]
    if (byte === QUOTE) {
      const start = i
      for (i++; i < line.length && line[i] !== QUOTE; i++) if (line[i] === BACKSLASH) i++
      if (i >= line.length) return undefined
      if (depth !== 1) continue
      const colon = skipSpace(line, i + 1, 1)
      if (line[colon] !== COLON) continue // a value, not a key
      const value = skipSpace(line, colon + 1, 1)
      if (isKey(line, start, i + 1, MODEL_KEY)) {
        if (model || line[value] !== QUOTE) return undefined
        let end = value + 1
        while (end < line.length && line[end] !== QUOTE && line[end] !== BACKSLASH) end++
        if (line[end] !== QUOTE) return undefined
        model = { start: value, end: end + 1 }
        i = end
      } else if (isKey(line, start, i + 1, USAGE_KEY)) {
        const after = value + NULL.length
        if (usage || line.compare(NULL, 0, NULL.length, value, after) !== 0) return undefined
        usage = memberWithComma(line, start, after)
        i = after - 1
      } else if (isKey(line, start, i + 1, RESPONSE_KEY)) {
        return undefined
      }
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      depth++
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      depth--
      if (depth === 0) {
        close = i
        break
      }
    }
  }
  if (close === -1 || skipSpace(line, close + 1, 1) !== line.length) return undefined

  const edits: { start: number; end: number; text: Buffer }[] = []
  if (model && line.toString('utf8', model.start + 1, model.end - 1) !== calledId) edits.push({ ...model, text: Buffer.from(JSON.stringify(calledId)) })
  if (usage && hideNullUsage) edits.push({ ...usage, text: Buffer.alloc(0) })
  if (edits.length === 0) return line
  edits.sort((a, b) => a.start - b.start)
  const parts: Buffer[] = []
  let at = 0
  for (const edit of edits) {
    parts.push(line.subarray(at, edit.start), edit.text)
    at = edit.end
  }
  parts.push(line.subarray(at))
  return Buffer.concat(parts)
}

/** The bytes of the member `[start, end)` with one comma next to it (before it, or after it when it is the first member). */
function memberWithComma(line: Buffer, start: number, end: number): { start: number; end: number } {
  const before = skipSpace(line, start - 1, -1)
  if (line[before] === COMMA) return { start: before, end }
  const after = skipSpace(line, end, 1)
  if (line[after] === COMMA) return { start, end: after + 1 }
  return { start, end }
}
