/**
 * OpenAI-compatible chat completions through presets: resolve the model (access checked now, at call
 * time), apply the preset, call the provider, and relay its answer. Streams pass through chunk by chunk
 * with back-pressure; a caller who hangs up cancels the provider call; a provider that stops mid-stream
 * ends the stream with an SSE error event instead of hanging.
 */
import type { Actor } from '../access/actor.js'
import { AppError, type ErrorCode } from '../errors/app-error.js'
import { openAiBase, type Connection } from '../providers/connection.js'
import { providerFetch, providerJson, providerLabel, timeoutError, type ProviderCall } from '../providers/provider-client.js'
import { applyPreset, effectiveParams } from './preset-params.js'
import type { RuntimeModelsService } from './runtime-models.service.js'

export type ChatAnswer =
  | { kind: 'json'; status: number; body: unknown }
  | { kind: 'stream'; status: number; contentType: string; chunks: AsyncIterable<Uint8Array> }

export class ChatService {
  constructor(
    private readonly runtime: RuntimeModelsService,
    private readonly timeoutMs: number,
  ) {}

  async complete(actor: Actor, request: Record<string, unknown> & { model: string }, callerGone: AbortSignal): Promise<ChatAnswer> {
    const { provider, connection, chainParams } = await this.runtime.resolve(actor, request.model)
    const body = applyPreset(request, effectiveParams(chainParams), provider.upstream_id)
    const isStream = body['stream'] === true
    const call = await providerFetch(connection, `${openAiBase(connection)}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: isStream ? 'text/event-stream' : 'application/json' },
      body: JSON.stringify(body),
      timeoutMs: this.timeoutMs,
      signal: callerGone,
    })
    const { response } = call
    if (!response.ok) throw await upstreamRefusal(connection, call, this.timeoutMs)
    const contentType = response.headers.get('content-type') ?? ''
    if (isStream && contentType.includes('text/event-stream') && response.body) {
      return { kind: 'stream', status: response.status, contentType: 'text/event-stream; charset=utf-8', chunks: this.relay(connection, call, callerGone) }
    }
    return { kind: 'json', status: response.status, body: await providerJson(connection, call, this.timeoutMs) }
  }

  /** Yields the provider's chunks as they come; ends with an SSE error event if the provider fails. */
  private async *relay(connection: Connection, call: ProviderCall, callerGone: AbortSignal): AsyncGenerator<Uint8Array> {
    const body = call.response.body
    if (!body) return
    try {
      // Pulled one chunk at a time: a slow reader slows the provider read (back-pressure).
      for await (const chunk of body) {
        call.touch()
        yield chunk
      }
    } catch (error) {
      if (callerGone.aborted) return
      const fault = call.timedOut()
        ? timeoutError(connection, this.timeoutMs)
        : new AppError('PROVIDER_ERROR', `Provider ${providerLabel(connection)} broke off the stream: ${(error as Error).message}.`)
      yield new TextEncoder().encode(
        `data: ${JSON.stringify({ error: { message: fault.message, type: 'provider_error', code: fault.code } })}\n\n`,
      )
    } finally {
      call.done()
    }
  }
}

/** Turns a provider's non-2xx answer into our error, naming the provider and quoting its message. */
async function upstreamRefusal(connection: Connection, call: ProviderCall, timeoutMs: number): Promise<AppError> {
  const status = call.response.status
  let message = ''
  try {
    const body = await providerJson(connection, call, timeoutMs)
    const error = (body as { error?: { message?: unknown } | string; detail?: unknown; message?: unknown } | null) ?? {}
    const raw = typeof error.error === 'string' ? error.error : (error.error?.message ?? error.detail ?? error.message)
    message = typeof raw === 'string' ? raw : JSON.stringify(raw ?? body)
  } catch {
    // the provider's body is not JSON: report the status alone
  }
  const said = message ? `: ${message.slice(0, 500)}` : ''
  const label = providerLabel(connection)
  if (status === 429) return new AppError('RATE_LIMITED', `Provider ${label} is rate limiting (HTTP 429)${said}`)
  // The provider refusing our key or not knowing the model is the provider's fault, not the caller's.
  if (status >= 500 || status === 401 || status === 403 || status === 404) {
    return new AppError('PROVIDER_ERROR', `Provider ${label} answered HTTP ${status}${said}`)
  }
  const code: ErrorCode = status === 413 ? 'PAYLOAD_TOO_LARGE' : 'VALIDATION_ERROR'
  return new AppError(code, `Provider ${label} refused the request (HTTP ${status})${said}`)
}
