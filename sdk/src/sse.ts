/**
 * Server-sent events of an OpenAI-style chat stream, parsed with web streams only (Node 20 and browsers):
 * each `data:` payload is one JSON chunk, `data: [DONE]` ends the stream, and an `{"error": …}` payload
 * (a provider failing mid-stream, docs/gateway.md) is thrown as a typed exception.
 */
import { errorFromEvent, BadResponseError } from './errors.js'

/**
 * Yields the parsed `data:` payloads of `body` until `[DONE]` or the end. Leaving the loop early (break,
 * an exception, an abort) cancels the body, which closes the connection and cancels the provider call.
 */
export async function* readEvents<T>(body: ReadableStream<Uint8Array>): AsyncGenerator<T, void, undefined> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  let data: string[] = []
  let finished = false
  try {
    for (;;) {
      const { value, done } = await reader.read()
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true })
      // Events are separated by a blank line; lines end with \n, \r\n or \r. The end of the body ends
      // the last event too.
      if (done) buffer += '\n\n'
      let newline: RegExpExecArray | null
      while ((newline = /\r\n|\r|\n/.exec(buffer)) !== null) {
        // A lone \r at the end may be the first half of \r\n: wait for the next bytes.
        if (newline[0] === '\r' && newline.index === buffer.length - 1 && !done) break
        const line = buffer.slice(0, newline.index)
        buffer = buffer.slice(newline.index + newline[0].length)
        if (line.startsWith('data:')) {
          data.push(line.slice(line[5] === ' ' ? 6 : 5))
          continue
        }
        // Comments (`:`), `event:`, `id:` and `retry:` carry nothing a chat chunk needs.
        if (line !== '' || data.length === 0) continue
        const payload = data.join('\n')
        data = []
        if (payload.trim() === '[DONE]') return
        yield parse<T>(payload)
      }
      if (done) {
        finished = true
        return
      }
    }
  } finally {
    // Not read to the end (break, an exception, an abort): stop the transfer.
    if (!finished) await reader.cancel().catch(() => undefined)
    reader.releaseLock()
  }
}

function parse<T>(payload: string): T {
  let event: unknown
  try {
    event = JSON.parse(payload)
  } catch (cause) {
    throw new BadResponseError(200, 'BAD_RESPONSE', `The stream sent an event that is not JSON: ${payload.slice(0, 200)}`, { cause })
  }
  if (typeof event === 'object' && event !== null && (event as { error?: unknown }).error != null) {
    throw errorFromEvent(event as Record<string, unknown>)
  }
  return event as T
}
