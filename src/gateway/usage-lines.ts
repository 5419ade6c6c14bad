/**
 * Token counts of streamed answers, for usage analytics (docs/analytics.md). A chat or completions stream
 * carries `usage` only when asked (`stream_options.include_usage`): the gateway asks when the client did
 * not, reads the counts, and hides what asking added (the final usage-only chunk, `usage` keys elsewhere),
 * so the client's stream is byte for byte what it was without recording.
 */
import type { UpstreamWatch } from './gateway-observer.js'

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * Sets `stream_options.include_usage` on a streamed request that lacks it; answers whether it did (then
 * the usage the provider adds is the gateway's, not the client's, and is hidden from the client).
 */
export function askForUsage(body: Json): boolean {
  if (body['stream'] !== true) return false
  const options = body['stream_options']
  if (isObject(options) && options['include_usage'] === true) return false
  body['stream_options'] = { ...(isObject(options) ? options : {}), include_usage: true }
  return true
}

const USAGE_KEY = Buffer.from('"usage"')
const EMPTY = Buffer.alloc(0)

/** Reads `usage` from each whole SSE line of a stream and, when the gateway asked for it, takes it out again. */
export class UsageLines {
  private dropBlank = false

  constructor(
    private readonly watch: UpstreamWatch,
    private readonly hide: boolean,
  ) {}

  /** The line as the client gets it (empty when the whole event was the gateway's). */
  line(line: Buffer): Buffer {
    const read = this.read(line)
    if (!('event' in read)) return read
    return read.changed ? Buffer.from(`data: ${JSON.stringify(read.event)}${line.at(-1) === 0x0a ? '\n' : ''}`) : line
  }

  /**
   * The same, for a caller that goes on with the event (chat.service.ts renames its model): a line that
   * carries no usage comes back as is; one that does comes back parsed, as the client gets it (`changed`
   * when the gateway's usage was taken out), so that it is parsed and serialized once.
   */
  read(line: Buffer): Buffer | { event: Json; changed: boolean } {
    if (this.dropBlank) {
      this.dropBlank = false
      // The blank line that ended a dropped event goes with it.
      if (line.length <= 2 && line.toString('utf8').trim() === '') return EMPTY
    }
    if (line.indexOf(USAGE_KEY) === -1) return line
    const text = line.toString('utf8').trim()
    if (!text.startsWith('data:')) return line
    let event: unknown
    try {
      event = JSON.parse(text.slice('data:'.length))
    } catch {
      return line
    }
    if (!isObject(event)) return line
    // Chat and completions: `usage` on the chunk; the Responses API: on `response.completed`'s response.
    const usage = 'usage' in event ? event['usage'] : isObject(event['response']) ? event['response']['usage'] : undefined
    if (isObject(usage)) this.watch.usage(usage)
    if (!this.hide || !('usage' in event)) return { event, changed: false }
    if (Array.isArray(event['choices']) && event['choices'].length === 0) {
      this.dropBlank = true
      return EMPTY
    }
    const { usage: _added, ...rest } = event
    return { event: rest, changed: true }
  }
}
