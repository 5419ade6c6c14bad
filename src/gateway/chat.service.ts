/**
 * The OpenAI-compatible calls through presets: chat completions, the Responses API, embeddings and
 * legacy completions. Each resolves the model (access checked now, at call time), applies the preset,
 * calls the provider, and relays its answer with the id the caller called in `model` (never the
 * provider's). Streams pass through chunk by chunk with back-pressure; a caller who hangs up cancels the
 * provider call; a provider that stops mid-stream ends the stream with an error event instead of hanging.
 *
 * The Responses API is passed through to providers that speak it and translated to and from chat
 * completions for those that do not (responses-translate.ts): which one a connection is, is learnt by
 * trying (docs/gateway.md, "The Responses API").
 */
import { Readable } from 'node:stream'
import type { Actor } from '../access/actor.js'
import type { AppError, ErrorCode } from '../errors/app-error.js'
import { joinUrl, openAiBase, type Connection } from '../providers/connection.js'
import {
  providerError,
  providerFault,
  providerJson,
  providerRequest,
  secretsOf,
  type CallerSignal,
  type ProviderResponse,
} from '../providers/provider-client.js'
import { redactText } from '../errors/redact.js'
import { applyPreset, applyPresetToResponses, effectiveParams } from './preset-params.js'
import { ChatToResponsesStream, chatToResponse, responsesToChat, sseEvent, type ResponsesEvent } from './responses-translate.js'
import type { RuntimeModelsService } from './runtime-models.service.js'
import { errorKindOf, NO_OBSERVER, UpstreamWatch, type GatewayObserver } from './gateway-observer.js'
import { upstreamTraceHeaders, type IncomingTrace } from './trace-context.js'
import { askForUsage, UsageLines } from './usage-lines.js'

/** Who is asking and how to tell them about a fault that comes after the answer started (mid-stream). */
export interface ChatContext {
  /** The request id, in the error event and in the log line, so that an admin can correlate them. */
  requestId: string
  /** Called with a provider fault that ends a stream (the route logs it). */
  onStreamFault?: (fault: AppError) => void
  /** The caller's W3C trace context, passed on to the provider (trace-context.ts). */
  trace?: IncomingTrace
}

/** Who hears of every provider call, and whether provider calls get a span id of their own (trace-context.ts). */
export interface ChatObservation {
  observer: GatewayObserver
  tracing: boolean
  /** Ask providers for streamed token counts, hidden from clients that did not ask (usage-lines.ts). */
  usage?: boolean
}

export type ChatAnswer =
  { kind: 'json'; status: number; body: unknown } | { kind: 'stream'; status: number; contentType: string; chunks: AsyncIterable<Uint8Array> }

type Json = Record<string, unknown>

/** The OpenAI paths that pass through to the provider with only the model resolved (and, for completions, the preset's params). */
export type PassThroughPath = '/embeddings' | '/completions'

/** How long a connection that answered "no such route" to `/responses` is called through chat completions before it is tried again. */
const NO_RESPONSES_API_MS = 10 * 60_000

export class ChatService {
  /** Whether a connection (by id and last change) speaks the Responses API, as learnt by calling it. */
  private readonly responsesApi = new Map<string, { speaks: boolean; until: number }>()

  constructor(
    private readonly runtime: RuntimeModelsService,
    private readonly timeoutMs: number,
    private readonly observation: ChatObservation = { observer: NO_OBSERVER, tracing: false },
  ) {}

  /** Each cached resolution's merged preset (resolutions are cached, so is this: it ran on every chat request). Never mutated. */
  private readonly presets = new WeakMap<readonly Record<string, unknown>[], ReturnType<typeof effectiveParams>>()

  private presetOf(chainParams: readonly Record<string, unknown>[]): ReturnType<typeof effectiveParams> {
    let preset = this.presets.get(chainParams)
    if (!preset) this.presets.set(chainParams, (preset = effectiveParams(chainParams)))
    return preset
  }

  /** The watch of each provider call whose answer is still being read, by its response (gateway-observer.ts). */
  private readonly watches = new WeakMap<ProviderResponse, UpstreamWatch>()
  /** Streams whose `usage` the gateway asked for (the client did not): it is read, then hidden. */
  private readonly askedUsage = new WeakSet<ProviderResponse>()

  async complete(actor: Actor, request: Json & { model: string }, callerGone: CallerSignal, context: ChatContext = { requestId: '' }): Promise<ChatAnswer> {
    const { provider, connection, chainParams } = await this.runtime.resolve(actor, request.model)
    const body = applyPreset(request, this.presetOf(chainParams), provider.upstream_id)
    const asked = this.observation.usage === true && askForUsage(body)
    const response = await this.call(connection, '/chat/completions', body, callerGone, { actor, model: request.model, context })
    if (asked) this.askedUsage.add(response)
    return this.relayAnswer(actor, connection, response, body['stream'] === true, request.model, callerGone, context)
  }

  /**
   * `/embeddings` and `/completions`: the model resolved like chat (presets to their base, access
   * checked); completions also take the preset's params (defaults, locks, custom_params), never its
   * system prompt (there are no messages).
   */
  async passThrough(
    actor: Actor,
    path: PassThroughPath,
    request: Json & { model: string },
    callerGone: CallerSignal,
    context: ChatContext = { requestId: '' },
  ): Promise<ChatAnswer> {
    const { provider, connection, chainParams } = await this.runtime.resolve(actor, request.model)
    const body = path === '/completions' ? applyPreset(request, this.presetOf(chainParams), provider.upstream_id) : { ...request, model: provider.upstream_id }
    const asked = this.observation.usage === true && path === '/completions' && askForUsage(body)
    const response = await this.call(connection, path, body, callerGone, { actor, model: request.model, context })
    if (asked) this.askedUsage.add(response)
    return this.relayAnswer(actor, connection, response, body['stream'] === true, request.model, callerGone, context)
  }

  /**
   * The Responses API: passed through (the preset applied in its terms) to a connection that speaks it,
   * translated to and from chat completions for one that does not. A connection is tried first; one that
   * answers "no such route" (404, 405 or 501 not about the model) is remembered as chat-only for
   * NO_RESPONSES_API_MS, and this request goes through chat completions.
   */
  async respond(actor: Actor, request: Json & { model: string }, callerGone: CallerSignal, context: ChatContext = { requestId: '' }): Promise<ChatAnswer> {
    const { provider, connection, chainParams } = await this.runtime.resolve(actor, request.model)
    const preset = this.presetOf(chainParams)
    const isStream = request['stream'] === true
    const known = this.speaksResponses(connection)
    if (known !== false) {
      const body = applyPresetToResponses(request, preset, provider.upstream_id)
      const response = await this.call(
        connection,
        '/responses',
        body,
        callerGone,
        { actor, model: request.model, context },
        (status) => status === 404 || status === 405 || status === 501,
      )
      if (response.statusCode >= 200 && response.statusCode < 300) {
        this.rememberResponses(connection, true)
        return this.relayAnswer(actor, connection, response, isStream, request.model, callerGone, context)
      }
      if (!(await isMissingRoute(response))) {
        const refusal = await upstreamRefusal(connection, response, this.timeoutMs)
        this.watches.get(response)?.end(errorKindOf(refusal.code, response.statusCode))
        throw refusal
      }
      this.watches.get(response)?.end()
      this.rememberResponses(connection, false)
    }
    // Translated: the chat request it means, with the preset applied exactly as for chat.
    const body = applyPreset(responsesToChat(request), preset, provider.upstream_id)
    const response = await this.call(connection, '/chat/completions', body, callerGone, { actor, model: request.model, context })
    const echo = { model: request.model, request }
    const contentType = String(response.headers['content-type'] ?? '')
    if (isStream && contentType.includes('text/event-stream')) {
      return {
        kind: 'stream',
        status: 200,
        contentType: 'text/event-stream; charset=utf-8',
        chunks: this.translate(actor, connection, response, echo, callerGone, context),
      }
    }
    return { kind: 'json', status: 200, body: chatToResponse(await this.readJson(connection, response, callerGone), echo) }
  }

  private speaksResponses(connection: Connection): boolean | undefined {
    const known = this.responsesApi.get(responsesKey(connection))
    if (!known) return undefined
    if (!known.speaks && known.until < Date.now()) return undefined
    return known.speaks
  }

  private rememberResponses(connection: Connection, speaks: boolean): void {
    if (this.responsesApi.size > 10_000) this.responsesApi.clear()
    this.responsesApi.set(responsesKey(connection), { speaks, until: Date.now() + NO_RESPONSES_API_MS })
  }

  /**
   * POSTs `body` to `path` of the connection's OpenAI API; a non-2xx answer becomes our error, except the
   * statuses `keep` accepts, which the caller reads itself. The call is watched (gateway-observer.ts) until
   * its answer is read; the caller's trace context goes with it (trace-context.ts).
   */
  private async call(
    connection: Connection,
    path: string,
    body: Json,
    callerGone: CallerSignal,
    who: { actor: Actor; model: string; context: ChatContext },
    keep?: (status: number) => boolean,
  ): Promise<ProviderResponse> {
    const isStream = body['stream'] === true
    const upstreamModel = typeof body['model'] === 'string' ? body['model'] : ''
    const watch = new UpstreamWatch(this.observation.observer, {
      connectionId: connection.id,
      connectionName: connection.name,
      path,
      userId: who.actor.id,
      model: who.model,
      upstreamModel,
      stream: isStream,
    })
    const trace = upstreamTraceHeaders(who.context.trace, this.observation.tracing)
    let response: ProviderResponse
    try {
      response = await providerRequest(connection, joinUrl(openAiBase(connection), path), {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: isStream ? 'text/event-stream' : 'application/json', ...trace },
        body: JSON.stringify(body),
        timeoutMs: this.timeoutMs,
        signal: callerGone,
      })
    } catch (error) {
      watch.end(callerGone.aborted ? 'cancelled' : errorKindOf((error as AppError).code, 0))
      throw error
    }
    watch.answered(response.statusCode)
    if ((response.statusCode >= 200 && response.statusCode < 300) || keep?.(response.statusCode)) {
      this.watches.set(response, watch)
      return response
    }
    const refusal = await upstreamRefusal(connection, response, this.timeoutMs)
    watch.end(errorKindOf(refusal.code, response.statusCode))
    throw refusal
  }

  /** A 2xx JSON answer read, ending its call's watch. */
  private async readJson(connection: Connection, response: ProviderResponse, callerGone: CallerSignal): Promise<unknown> {
    const watch = this.watches.get(response)
    try {
      const body = await providerJson(connection, response, this.timeoutMs)
      watch?.usage(isObject(body) ? body['usage'] : undefined)
      watch?.end()
      return body
    } catch (error) {
      watch?.end(callerGone.aborted ? 'cancelled' : errorKindOf((error as AppError).code, response.statusCode))
      throw error
    }
  }

  /** The provider's 2xx answer relayed: JSON with `model` set to the id called, or its stream, each event so. */
  private async relayAnswer(
    actor: Actor,
    connection: Connection,
    response: ProviderResponse,
    isStream: boolean,
    calledId: string,
    callerGone: CallerSignal,
    context: ChatContext,
  ): Promise<ChatAnswer> {
    const contentType = String(response.headers['content-type'] ?? '')
    if (isStream && contentType.includes('text/event-stream')) {
      return {
        kind: 'stream',
        status: response.statusCode,
        contentType: 'text/event-stream; charset=utf-8',
        chunks: this.relay(actor, connection, response, calledId, callerGone, context),
      }
    }
    return { kind: 'json', status: response.statusCode, body: withModel(await this.readJson(connection, response, callerGone), calledId) }
  }

  /**
   * The provider's chunks as they come, as a stream the reply pipes: the provider's body is paused while
   * the reader is behind (back-pressure), and destroying the stream (the caller hung up) destroys the
   * provider's body, which cancels the call. Whole lines are rewritten (the model id; a provider's own
   * error event replaced by ours); a line split across chunks waits for its end. A provider that fails
   * mid-stream ends it with an SSE error event. (A Readable fed by the body's events rather than an async
   * generator under `Readable.from`: no promise per chunk, no async iterator over the body.)
   */
  private relay(actor: Actor, connection: Connection, response: ProviderResponse, calledId: string, callerGone: CallerSignal, context: ChatContext): Readable {
    const lines = new LineSplitter()
    const watch = this.watches.get(response)
    const watched = watchedContext(context, watch)
    const usage = watch ? new UsageLines(watch, this.askedUsage.has(response)) : undefined
    const rewrite = (line: Buffer) => {
      const read = usage ? usage.read(line) : line
      if (!('event' in read)) return read.length === 0 ? read : this.rewriteLine(actor, connection, read, calledId, watched)
      // Parsed once for its usage: renamed and serialized once.
      return this.rewriteEvent(actor, connection, line, read.event, read.changed, calledId, watched)
    }
    const body = response.body
    let over = false
    const finish = () => {
      if (over) return
      over = true
      watch?.end(callerGone.aborted ? 'cancelled' : undefined)
      body.off('data', onData)
      if (!body.destroyed) body.destroy()
    }
    const push = (chunk: Buffer | null) => !out.destroyed && out.push(chunk)
    const fail = (error: unknown) => {
      if (over) return
      watch?.fault(callerGone.aborted ? 'cancelled' : this.streamFaultKind(connection, error))
      if (!callerGone.aborted) {
        const fault = this.streamFault(connection, error, context)
        const message = withRequestId(fault.detailFor(actor), context.requestId)
        const event = { error: { message, type: 'provider_error', code: fault.code, ...(context.requestId && { request_id: context.requestId }) } }
        push(Buffer.from(`data: ${JSON.stringify(event)}\n\n`))
      }
      finish()
      push(null)
    }
    const onData = (chunk: Buffer) => {
      try {
        watch?.firstChunk()
        const complete = lines.push(chunk)
        if (complete.length > 0 && !push(complete.length === 1 ? rewrite(complete[0] as Buffer) : Buffer.concat(complete.map(rewrite)))) body.pause()
      } catch (error) {
        fail(error)
      }
    }
    const out = new Readable({
      read: () => {
        if (!over) body.resume()
      },
      destroy: (error, callback) => {
        finish()
        callback(error)
      },
    })
    body.on('data', onData)
    body.on('error', fail)
    body.once('end', () => {
      if (over) return
      try {
        const rest = lines.flush()
        if (rest) push(rewrite(rest))
      } catch (error) {
        fail(error)
        return
      }
      finish()
      push(null)
    })
    return out
  }

  private streamFaultKind(connection: Connection, error: unknown): 'timeout' | 'stream_broken' {
    return providerFault(connection, error, this.timeoutMs).code === 'PROVIDER_TIMEOUT' ? 'timeout' : 'stream_broken'
  }

  /** A chat stream as the Responses API's events (responses-translate.ts), ending with an `error` event on a fault. */
  private async *translate(
    actor: Actor,
    connection: Connection,
    response: ProviderResponse,
    echo: { model: string; request: Json },
    callerGone: CallerSignal,
    context: ChatContext,
  ): AsyncGenerator<Uint8Array> {
    const lines = new LineSplitter()
    const watch = this.watches.get(response)
    const watched = watchedContext(context, watch)
    const events = new ChatToResponsesStream(echo)
    const encode = (list: ResponsesEvent[]) => Buffer.from(list.map(sseEvent).join(''))
    const failWith = (fault: AppError) =>
      encode(
        events.fail({
          code: fault.code,
          message: withRequestId(fault.detailFor(actor), context.requestId),
          ...(context.requestId && { request_id: context.requestId }),
        }),
      )
    try {
      yield encode(events.start())
      for await (const chunk of response.body) {
        watch?.firstChunk()
        const out: ResponsesEvent[] = []
        for (const line of lines.push(chunk as Buffer)) {
          const data = dataOf(line)
          if (data === undefined || data === '[DONE]') continue
          let parsed: unknown
          try {
            parsed = JSON.parse(data)
          } catch {
            continue
          }
          const reported = isObject(parsed) && parsed['error'] !== undefined && parsed['error'] !== null ? providerErrorEvent(line) : undefined
          if (reported) {
            if (out.length > 0) yield encode(out)
            yield failWith(this.reportedFault(connection, reported, watched))
            return
          }
          if (isObject(parsed) && isObject(parsed['usage'])) watch?.usage(parsed['usage'])
          out.push(...events.push(parsed))
        }
        if (out.length > 0) yield encode(out)
      }
      yield encode(events.end())
    } catch (error) {
      watch?.fault(callerGone.aborted ? 'cancelled' : this.streamFaultKind(connection, error))
      if (callerGone.aborted) return
      yield failWith(this.streamFault(connection, error, context))
    } finally {
      watch?.end(callerGone.aborted ? 'cancelled' : undefined)
      if (!response.body.destroyed) response.body.destroy()
    }
  }

  private streamFault(connection: Connection, error: unknown, context: ChatContext): AppError {
    const timedOut = providerFault(connection, error, this.timeoutMs)
    const fault =
      timedOut.code === 'PROVIDER_TIMEOUT'
        ? timedOut
        : providerError(connection, 'PROVIDER_ERROR', 'broke off the stream.', `broke off the stream: ${(error as Error).message}.`)
    context.onStreamFault?.(fault)
    return fault
  }

  private reportedFault(connection: Connection, reported: { message: string; code: string }, context: ChatContext): AppError {
    const code = reported.code ? ` (${reported.code})` : ''
    const fault = providerError(connection, 'PROVIDER_ERROR', `reported an error mid-stream${code}.`, `reported an error mid-stream: ${reported.message}`)
    context.onStreamFault?.(fault)
    return fault
  }

  /**
   * One whole SSE line of a relayed stream: a `data:` line naming a model gets the id called; a provider's
   * own error event (`data: {"error": …}`, or a Responses `error` / `response.failed` event) is replaced by
   * ours (the connection's name, the provider's machine code, the request id; for admins its message,
   * redacted). Every other line passes as it came, after one native search for each key.
   */
  private rewriteLine(actor: Actor, connection: Connection, line: Buffer, calledId: string, context: ChatContext): Buffer {
    const hasError = line.indexOf(ERROR_KEY) !== -1
    if (!hasError && line.indexOf(MODEL_KEY) === -1) return line
    const data = dataOf(line)
    if (data === undefined || data === '[DONE]') return line
    let event: unknown
    try {
      event = JSON.parse(data)
    } catch {
      return line
    }
    if (!isObject(event)) return line
    return this.rewriteEvent(actor, connection, line, event, false, calledId, context)
  }

  /** rewriteLine's work on the line's event, already parsed (`changed`: it differs from the line's, which is then sent as the event). */
  private rewriteEvent(actor: Actor, connection: Connection, line: Buffer, event: Json, changed: boolean, calledId: string, context: ChatContext): Buffer {
    const end = line.at(-1) === 0x0a ? '\n' : ''
    const hasError = line.indexOf(ERROR_KEY) !== -1
    const reported = hasError ? (providerErrorEvent(line) ?? responsesErrorEvent(event)) : undefined
    if (reported) {
      const fault = this.reportedFault(connection, reported, context)
      const message = withRequestId(fault.detailFor(actor), context.requestId)
      const requestId = context.requestId ? { request_id: context.requestId } : {}
      const ours =
        event['type'] === 'error' || event['type'] === 'response.failed'
          ? {
              type: 'error',
              code: fault.code,
              message,
              param: null,
              ...requestId,
              ...(typeof event['sequence_number'] === 'number' && { sequence_number: event['sequence_number'] }),
            }
          : { error: { message, type: 'provider_error', code: fault.code, ...requestId } }
      return Buffer.from(`data: ${JSON.stringify(ours)}${end}`)
    }
    const renamed = withModel(event, calledId) as Json
    const inner = isObject(event['response']) ? withModel(event['response'], calledId) : undefined
    if (renamed === event && inner === event['response']) return changed ? Buffer.from(`data: ${JSON.stringify(event)}${end}`) : line
    return Buffer.from(`data: ${JSON.stringify(inner === undefined ? renamed : { ...renamed, response: inner })}${end}`)
  }
}

/** The context with a provider's error event mid-stream also marked on the call's watch. */
function watchedContext(context: ChatContext, watch: UpstreamWatch | undefined): ChatContext {
  if (!watch) return context
  return {
    ...context,
    onStreamFault: (fault) => {
      watch.fault('stream_error')
      context.onStreamFault?.(fault)
    },
  }
}

const responsesKey = (connection: Connection) => `${connection.id}@${connection.updated_at}@${connection.base_url}`

/** A provider's "no such route" (its Responses API missing), told apart from "no such model". */
async function isMissingRoute(response: ProviderResponse): Promise<boolean> {
  let text = ''
  try {
    text = (await response.body.text()).slice(0, 2000)
  } catch {
    // unreadable: the status decides
  }
  return !/model/i.test(text)
}

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

/** The answer with `model` set to the id the caller called (when it names one). */
function withModel(body: unknown, calledId: string): unknown {
  if (!isObject(body) || typeof body['model'] !== 'string' || body['model'] === calledId) return body
  return { ...body, model: calledId }
}

/** The payload of an SSE `data:` line, or undefined for any other line. */
function dataOf(line: Buffer): string | undefined {
  const text = line.toString('utf8').trim()
  return text.startsWith('data:') ? text.slice('data:'.length).trim() : undefined
}

/** The error of a Responses API error event (`{type: "error", …}` or `response.failed`), or undefined. */
function responsesErrorEvent(event: Json): { message: string; code: string } | undefined {
  const error = event['type'] === 'error' ? event : event['type'] === 'response.failed' && isObject(event['response']) ? event['response']['error'] : undefined
  if (!isObject(error)) return undefined
  const message = typeof error['message'] === 'string' ? error['message'] : JSON.stringify(error)
  const code = error['code']
  return { message, code: typeof code === 'string' && MACHINE_CODE.test(code) ? code : '' }
}

/** Splits a byte stream into whole lines (each with its `\n`); the tail without one waits for the next chunk. */
class LineSplitter {
  private pending: Buffer | undefined

  push(chunk: Buffer): Buffer[] {
    const data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk
    const last = data.lastIndexOf(0x0a)
    if (last === -1) {
      this.pending = data
      return []
    }
    this.pending = last + 1 < data.length ? data.subarray(last + 1) : undefined
    const lines: Buffer[] = []
    let start = 0
    while (start <= last) {
      const end = data.indexOf(0x0a, start) + 1
      lines.push(data.subarray(start, end))
      start = end
    }
    return lines
  }

  flush(): Buffer | undefined {
    const rest = this.pending
    this.pending = undefined
    return rest
  }
}

const ERROR_KEY = Buffer.from('"error"')
const MODEL_KEY = Buffer.from('"model"')

/** The provider's error of an SSE line `data: {"error": …}`, or undefined for any other line. */
function providerErrorEvent(line: Buffer): { message: string; code: string } | undefined {
  const text = line.toString('utf8').trim()
  if (!text.startsWith('data:')) return undefined
  try {
    const body = JSON.parse(text.slice('data:'.length)) as { error?: unknown } | null
    const error = body && typeof body === 'object' && !Array.isArray(body) ? body.error : undefined
    if (error === undefined || error === null) return undefined
    const fields = typeof error === 'object' ? (error as { message?: unknown; code?: unknown; type?: unknown }) : {}
    const message = typeof error === 'string' ? error : typeof fields.message === 'string' ? fields.message : JSON.stringify(error)
    const code = fields.code ?? fields.type
    return { message, code: typeof code === 'string' && MACHINE_CODE.test(code) ? code : '' }
  } catch {
    return undefined
  }
}

const withRequestId = (message: string, requestId: string) => (requestId ? `${message} (request id ${requestId})` : message)

/**
 * Turns a provider's non-2xx answer into our error. Everybody reads the provider's name and status
 * (and the request id, added by the error handler); administrators also read its message (redacted).
 * The message is free text written by someone else's server (hostnames, keys it echoes, internals), so
 * non-admins never read it, not even for a 4xx about their own request; they get the provider's
 * machine-readable error code instead when it sends one (`context_length_exceeded`), which says what
 * to change without carrying text.
 */
async function upstreamRefusal(connection: Connection, response: ProviderResponse, timeoutMs: number): Promise<AppError> {
  const status = response.statusCode
  let message = ''
  let providerCode = ''
  try {
    const body = await providerJson(connection, response, timeoutMs)
    const error = (body as { error?: { message?: unknown; code?: unknown; type?: unknown } | string; detail?: unknown; message?: unknown } | null) ?? {}
    const raw = typeof error.error === 'string' ? error.error : (error.error?.message ?? error.detail ?? error.message)
    message = typeof raw === 'string' ? raw : JSON.stringify(raw ?? body)
    const code = typeof error.error === 'object' ? (error.error?.code ?? error.error?.type) : undefined
    if (typeof code === 'string' && MACHINE_CODE.test(code)) providerCode = code
  } catch {
    // the provider's body is not JSON: report the status alone
  }
  // Redacted before it is cut: a cut through a secret would leave a piece that no longer matches it.
  const said = message ? `: ${redactText(message, secretsOf(connection)).slice(0, 500)}` : ''
  if (status === 429) return providerError(connection, 'RATE_LIMITED', 'is rate limiting (HTTP 429).', `is rate limiting (HTTP 429)${said}`)
  // The provider refusing our key or not knowing the model is the provider's fault, not the caller's.
  if (status >= 500 || status === 401 || status === 403 || status === 404) {
    return providerError(connection, 'PROVIDER_ERROR', `failed (HTTP ${status}).`, `answered HTTP ${status}${said}`)
  }
  const code: ErrorCode = status === 413 ? 'PAYLOAD_TOO_LARGE' : 'VALIDATION_ERROR'
  const told = `refused the request (HTTP ${status}${providerCode && `, ${providerCode}`}).`
  return providerError(connection, code, told, `refused the request (HTTP ${status})${said}`)
}

/** A provider's error code that is safe to show anyone: a short identifier, no free text. */
const MACHINE_CODE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/
