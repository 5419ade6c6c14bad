/**
 * OpenAI-compatible chat completions through presets: resolve the model (access checked now, at call
 * time), apply the preset, call the provider, and relay its answer. Streams pass through chunk by chunk
 * with back-pressure; a caller who hangs up cancels the provider call; a provider that stops mid-stream
 * ends the stream with an SSE error event instead of hanging.
 */
import type { Actor } from '../access/actor.js'
import type { AppError, ErrorCode } from '../errors/app-error.js'
import { joinUrl, openAiBase, type Connection } from '../providers/connection.js'
import { providerError, providerFault, providerJson, providerRequest, secretsOf, type ProviderResponse } from '../providers/provider-client.js'
import { redactText } from '../errors/redact.js'
import { applyPreset, effectiveParams } from './preset-params.js'
import type { RuntimeModelsService } from './runtime-models.service.js'

/** Who is asking and how to tell them about a fault that comes after the answer started (mid-stream). */
export interface ChatContext {
  /** The request id, in the error event and in the log line, so that an admin can correlate them. */
  requestId: string
  /** Called with a provider fault that ends a stream (the route logs it). */
  onStreamFault?: (fault: AppError) => void
}

export type ChatAnswer =
  { kind: 'json'; status: number; body: unknown } | { kind: 'stream'; status: number; contentType: string; chunks: AsyncIterable<Uint8Array> }

export class ChatService {
  constructor(
    private readonly runtime: RuntimeModelsService,
    private readonly timeoutMs: number,
  ) {}

  async complete(
    actor: Actor,
    request: Record<string, unknown> & { model: string },
    callerGone: AbortSignal,
    context: ChatContext = { requestId: '' },
  ): Promise<ChatAnswer> {
    const { provider, connection, chainParams } = await this.runtime.resolve(actor, request.model)
    const body = applyPreset(request, effectiveParams(chainParams), provider.upstream_id)
    const isStream = body['stream'] === true
    const response = await providerRequest(connection, joinUrl(openAiBase(connection), '/chat/completions'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: isStream ? 'text/event-stream' : 'application/json' },
      body: JSON.stringify(body),
      timeoutMs: this.timeoutMs,
      signal: callerGone,
    })
    if (response.statusCode < 200 || response.statusCode >= 300) throw await upstreamRefusal(connection, response, this.timeoutMs)
    const contentType = String(response.headers['content-type'] ?? '')
    if (isStream && contentType.includes('text/event-stream')) {
      return {
        kind: 'stream',
        status: response.statusCode,
        contentType: 'text/event-stream; charset=utf-8',
        chunks: this.relay(actor, connection, response, callerGone, context),
      }
    }
    return { kind: 'json', status: response.statusCode, body: await providerJson(connection, response, this.timeoutMs) }
  }

  /**
   * Yields the provider's chunks as they come, pulled one at a time so that a slow reader slows the
   * provider read (back-pressure). Stopping early destroys the provider stream, which cancels the call.
   * A provider that fails mid-stream ends it with an SSE error event.
   */
  private async *relay(
    actor: Actor,
    connection: Connection,
    response: ProviderResponse,
    callerGone: AbortSignal,
    context: ChatContext,
  ): AsyncGenerator<Uint8Array> {
    try {
      // A provider's own error events carry its free text: replaced by ours (hole 7).
      for await (const chunk of response.body) yield this.scrubErrorEvents(actor, connection, chunk as Buffer, context)
    } catch (error) {
      if (callerGone.aborted) return
      const timedOut = providerFault(connection, error, this.timeoutMs)
      const fault =
        timedOut.code === 'PROVIDER_TIMEOUT'
          ? timedOut
          : providerError(connection, 'PROVIDER_ERROR', 'broke off the stream.', `broke off the stream: ${(error as Error).message}.`)
      context.onStreamFault?.(fault)
      const message = withRequestId(fault.detailFor(actor), context.requestId)
      const event = { error: { message, type: 'provider_error', code: fault.code, ...(context.requestId && { request_id: context.requestId }) } }
      yield new TextEncoder().encode(`data: ${JSON.stringify(event)}\n\n`)
    } finally {
      if (!response.body.destroyed) response.body.destroy()
    }
  }

  /**
   * Replaces each `data: {"error": …}` line of a chunk with our own error event (the connection's name,
   * the provider's machine code, the request id; for admins its message, redacted), leaving every other
   * byte as it came. A chunk without
   * the bytes `"error"` (nearly all of them) is passed on untouched after one native search. Providers
   * write an event in one piece; a line split across two chunks is passed on as it came.
   */
  private scrubErrorEvents(actor: Actor, connection: Connection, chunk: Buffer, context: ChatContext): Buffer {
    if (chunk.indexOf(ERROR_KEY) === -1) return chunk
    const parts: Buffer[] = []
    let start = 0
    while (start < chunk.length) {
      const newline = chunk.indexOf(0x0a, start)
      const end = newline === -1 ? chunk.length : newline + 1
      const line = chunk.subarray(start, end)
      start = end
      const reported = line.indexOf(ERROR_KEY) === -1 ? undefined : providerErrorEvent(line)
      if (!reported) {
        parts.push(line)
        continue
      }
      const code = reported.code ? ` (${reported.code})` : ''
      const fault = providerError(connection, 'PROVIDER_ERROR', `reported an error mid-stream${code}.`, `reported an error mid-stream: ${reported.message}`)
      context.onStreamFault?.(fault)
      const message = withRequestId(fault.detailFor(actor), context.requestId)
      const event = { error: { message, type: 'provider_error', code: fault.code, ...(context.requestId && { request_id: context.requestId }) } }
      parts.push(Buffer.from(`data: ${JSON.stringify(event)}${line.at(-1) === 0x0a ? '\n' : ''}`))
    }
    return Buffer.concat(parts)
  }
}

const ERROR_KEY = Buffer.from('"error"')

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
