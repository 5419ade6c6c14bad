/** The SSE reader on byte streams cut at every awkward place. */
import { describe, expect, it } from 'vitest'
import { BadResponseError, ProviderError, readEvents } from '../src/index.js'

function streamOf(parts: string[]): { stream: ReadableStream<Uint8Array>; cancelled: () => boolean } {
  let cancelled = false
  const encoder = new TextEncoder()
  let index = 0
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const part = parts[index++]
      if (part === undefined) controller.close()
      else controller.enqueue(encoder.encode(part))
    },
    cancel() {
      cancelled = true
    },
  })
  return { stream, cancelled: () => cancelled }
}

async function collect(parts: string[]): Promise<unknown[]> {
  const events: unknown[] = []
  for await (const event of readEvents(streamOf(parts).stream)) events.push(event)
  return events
}

describe('readEvents', () => {
  it('parses events split anywhere, with \\n, \\r\\n and \\r line ends, comments and multi-line data', async () => {
    const text = ': comment\n\ndata: {"a":1}\n\nevent: x\r\ndata: {"b":\r\ndata: 2}\r\n\r\ndata:{"c":3}\r\r'
    for (let cut = 0; cut <= text.length; cut++) {
      expect(await collect([text.slice(0, cut), text.slice(cut)])).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }])
    }
    expect(await collect(text.split(''))).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }])
  })

  it('stops at [DONE] and cancels the rest', async () => {
    const source = streamOf(['data: {"a":1}\n\ndata: [DONE]\n\n', 'data: {"never":true}\n\n'])
    const events: unknown[] = []
    for await (const event of readEvents(source.stream)) events.push(event)
    expect(events).toEqual([{ a: 1 }])
    expect(source.cancelled()).toBe(true)
  })

  it('reads a last event without its blank line', async () => {
    expect(await collect(['data: {"a":1}\n\ndata: {"b":2}'])).toEqual([{ a: 1 }, { b: 2 }])
  })

  it('decodes multi-byte characters cut between chunks', async () => {
    const bytes = new TextEncoder().encode('data: {"t":"é😀"}\n\n')
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const byte of bytes) controller.enqueue(new Uint8Array([byte]))
        controller.close()
      },
    })
    const events: unknown[] = []
    for await (const event of readEvents(stream)) events.push(event)
    expect(events).toEqual([{ t: 'é😀' }])
  })

  it('throws an error event as a ProviderError (504 for a timeout) and cancels the stream', async () => {
    const source = streamOf([
      'data: {"a":1}\n\n',
      'data: {"error":{"message":"Slow timed out (request id r1)","type":"provider_error","code":"PROVIDER_TIMEOUT","request_id":"r1"}}\n\n',
      'data: {"a":2}\n\n',
    ])
    const events: unknown[] = []
    let error: unknown
    try {
      for await (const event of readEvents(source.stream)) events.push(event)
    } catch (caught) {
      error = caught
    }
    expect(events).toEqual([{ a: 1 }])
    expect(error).toBeInstanceOf(ProviderError)
    expect(error).toMatchObject({ status: 504, code: 'PROVIDER_TIMEOUT', requestId: 'r1', detail: 'Slow timed out (request id r1)' })
    expect(source.cancelled()).toBe(true)
  })

  it('throws BadResponseError for data that is not JSON', async () => {
    await expect(collect(['data: <html>\n\n'])).rejects.toBeInstanceOf(BadResponseError)
  })
})
