/**
 * OpenAI-compatible chat completions through presets: resolve the model (access checked now, at call
 * time), apply the preset, call the provider, and relay its answer. Streams pass through chunk by chunk
 * with back-pressure; a caller who hangs up cancels the provider call; a provider that stops mid-stream
 * ends the stream with an SSE error event instead of hanging.
 */
import type { Actor } from '../access/actor.js'
import { AppError, type ErrorCode } from '../errors/app-error.js'
import { openAiBase, type Connection } from '../providers/connection.js'
import { providerFault, providerJson, providerLabel, providerRequest, type ProviderResponse } from '../providers/provider-client.js'
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
    const response = await providerRequest(connection, `${openAiBase(connection)}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: isStream ? 'text/event-stream' : 'application/json' },
      body: JSON.stringify(body),
      timeoutMs: this.timeoutMs,
      signal: callerGone,
    })
    if (response.statusCode < 200 || response.statusCode >= 300) throw await upstreamRefusal(connection, response, this.timeoutMs)
    const contentType = String(response.headers['content-type'] ?? '')
    if (isStream && contentType.includes('text/event-stream')) {
      return { kind: 'stream', status: response.statusCode, contentType: 'text/event-stream; charset=utf-8', chunks: this.relay(connection, response, callerGone) }
    }
    return { kind: 'json', status: response.statusCode, body: await providerJson(connection, response, this.timeoutMs) }
  }

  /**
   * Yields the provider's chunks as they come, pulled one at a time so that a slow reader slows the
   * provider read (back-pressure). Stopping early destroys the provider stream, which cancels the call.
   * A provider that fails mid-stream ends it with an SSE error event.
   */
  private async *relay(connection: Connection, response: ProviderResponse, callerGone: AbortSignal): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of response.body) yield chunk as Uint8Array
    } catch (error) {
      if (callerGone.aborted) return
      const timedOut = providerFault(connection, error, this.timeoutMs)
      const fault =
        timedOut.code === 'PROVIDER_TIMEOUT'
          ? timedOut
          : new AppError('PROVIDER_ERROR', `Provider ${providerLabel(connection)} broke off the stream: ${(error as Error).message}.`)
      yield new TextEncoder().encode(
        `data: ${JSON.stringify({ error: { message: fault.message, type: 'provider_error', code: fault.code } })}\n\n`,
      )
    } finally {
      if (!response.body.destroyed) response.body.destroy()
    }
  }
}

/** Turns a provider's non-2xx answer into our error, naming the provider and quoting its message. */
async function upstreamRefusal(connection: Connection, response: ProviderResponse, timeoutMs: number): Promise<AppError> {
  const status = response.statusCode
  let message = ''
  try {
    const body = await providerJson(connection, response, timeoutMs)
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
