/**
 * *Try it* (issue #16 item 2): one turn of a conversation with a model, streamed through the gateway
 * exactly as a chat client's call would be (the same resolution along the base chain, the same preset
 * application: `effectiveParams` and `applyPreset` of preset-params.ts), or with the editor's unsaved
 * draft as the outermost preset. The answer says what the provider received (its body as sent, the
 * connection's secrets redacted, the provider URL for admins only) and how long the first token took.
 *
 * Who may: reading the model is enough to try it as saved (the chat rule: `RuntimeModelsService.resolve`
 * answers 404 otherwise); a draft needs write access to the model (403 for a reader, 404 for anyone who
 * cannot read it), or, for a model not created yet, the workspace.models permission. Those decisions are
 * the access service's (`requireModelWrite`, `mayCreateModels`).
 */
import type { AccessService } from '../access/access.service.js'
import type { Actor } from '../access/actor.js'
import { AppError } from '../errors/app-error.js'
import { REDACTED, redactText, redactUrl } from '../errors/redact.js'
import { toGrant, type Registry } from '../models/registry.js'
import { joinUrl, openAiBase, type Connection } from '../providers/connection.js'
import { providerError, providerFault, providerJson, providerRequest, secretsOf, type ProviderResponse } from '../providers/provider-client.js'
import { applyPreset, effectiveParams } from './preset-params.js'
import type { Resolution, RuntimeModelsService } from './runtime-models.service.js'
import type { ProviderRequestReport, TryBody, TryEvent } from './try-it.schema.js'

type Json = Record<string, unknown>

const CHAT_PATH = '/chat/completions'

export class TryItService {
  constructor(
    private readonly runtime: RuntimeModelsService,
    private readonly access: AccessService,
    private readonly registry: Registry,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Checks access, resolves the model (or the draft's base), applies the preset and calls the provider.
   * Refusals and provider failures before the first byte are thrown (answered as JSON errors); the
   * events then stream.
   */
  async start(actor: Actor, body: TryBody, callerGone: AbortSignal): Promise<AsyncIterable<TryEvent>> {
    const { resolution, chainParams } = await this.resolve(actor, body)
    const { connection, provider } = resolution
    const request = applyPreset({ messages: body.messages, stream: true }, effectiveParams(chainParams), provider.upstream_id)
    const url = joinUrl(openAiBase(connection), CHAT_PATH)
    const report: ProviderRequestReport = {
      connection: connection.name,
      url: actor.role === 'admin' ? redactUrl(url) : null,
      path: CHAT_PATH,
      body: redacted(request, secretsOf(connection)),
    }
    const sentAt = performance.now()
    const response = await providerRequest(connection, url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify(request),
      timeoutMs: this.timeoutMs,
      signal: callerGone,
    })
    if (response.statusCode < 200 || response.statusCode >= 300) throw await refusal(connection, response, this.timeoutMs)
    const head: TryEvent = { type: 'request', model: body.id ?? null, draft: body.draft !== undefined, request: report }
    return this.events(actor, head, connection, response, sentAt, callerGone)
  }

  /** The resolution to call, and the params of each preset from the outermost (the draft, when tried) inward. */
  private async resolve(actor: Actor, body: TryBody): Promise<{ resolution: Resolution; chainParams: Json[] }> {
    if (!body.draft) {
      // As chat: the model read by the caller, its chain followed with the caller's rights.
      const resolution = await this.runtime.resolve(actor, body.id as string)
      return { resolution, chainParams: resolution.chainParams }
    }
    if (body.id !== undefined && (await this.registry.models.findById(body.id))) {
      const who = await this.access.principalsOf(actor)
      const { row, grants } = await this.registry.readable(who, body.id)
      this.access.requireModelWrite(who, row, grants.map(toGrant))
    } else if (!(await this.access.mayCreateModels(actor))) {
      // A model that does not exist yet: only someone who may create it tries a draft of it.
      throw new AppError('ACCESS_PROHIBITED', 'Trying unsaved changes needs write access to the model (or, for a new model, the workspace.models permission).')
    }
    const base = body.draft.base_model_id ?? body.id
    if (base === undefined) throw new AppError('VALIDATION_ERROR', 'A draft needs a base model (draft.base_model_id).')
    if (base === body.id && body.draft.base_model_id !== null) throw new AppError('VALIDATION_ERROR', 'A model cannot be its own base model.')
    // The draft's base resolved as the draft's author would use it (the owner of the model once saved).
    const resolution = await this.runtime.resolve(actor, base)
    // An override row (no base) of a provider model stands for it: its own stored params give way to the draft's.
    const inner = body.draft.base_model_id === null ? [] : resolution.chainParams
    return { resolution, chainParams: [body.draft.params, ...inner] }
  }

  /** The provider's stream as try events: the request first, the first token's time, each delta, the end. */
  private async *events(
    actor: Actor,
    head: TryEvent,
    connection: Connection,
    response: ProviderResponse,
    sentAt: number,
    callerGone: AbortSignal,
  ): AsyncGenerator<TryEvent> {
    yield head
    let firstTokenMs: number | null = null
    let finishReason: string | null = null
    const elapsed = () => Math.round((performance.now() - sentAt) * 10) / 10
    function* deltas(content: string): Generator<TryEvent> {
      if (content === '') return
      if (firstTokenMs === null) {
        firstTokenMs = elapsed()
        yield { type: 'first_token', ms: firstTokenMs }
      }
      yield { type: 'delta', content }
    }
    try {
      const contentType = String(response.headers['content-type'] ?? '')
      if (!contentType.includes('text/event-stream')) {
        // A provider that ignores `stream`: its whole answer is one delta.
        const answer = (await providerJson(connection, response, this.timeoutMs)) as {
          choices?: { message?: { content?: unknown }; finish_reason?: unknown }[]
        }
        const choice = answer?.choices?.[0]
        yield* deltas(typeof choice?.message?.content === 'string' ? choice.message.content : '')
        finishReason = typeof choice?.finish_reason === 'string' ? choice.finish_reason : null
      } else {
        let pending = ''
        for await (const chunk of response.body) {
          pending += (chunk as Buffer).toString('utf8')
          const lines = pending.split('\n')
          pending = lines.pop() ?? ''
          for (const line of lines) {
            const event = parseData(line)
            if (event === undefined) continue
            const reported = event['error']
            if (reported !== undefined && reported !== null) {
              const fault = providerError(
                connection,
                'PROVIDER_ERROR',
                'reported an error mid-stream.',
                `reported an error mid-stream: ${JSON.stringify(reported)}`,
              )
              yield { type: 'error', code: fault.code, message: fault.detailFor(actor) }
              return
            }
            const choice = Array.isArray(event['choices']) ? (event['choices'][0] as Json | undefined) : undefined
            const delta = choice && typeof choice['delta'] === 'object' && choice['delta'] !== null ? (choice['delta'] as Json) : {}
            yield* deltas(typeof delta['content'] === 'string' ? delta['content'] : '')
            if (typeof choice?.['finish_reason'] === 'string') finishReason = choice['finish_reason']
          }
        }
      }
      yield { type: 'done', ms: elapsed(), first_token_ms: firstTokenMs, finish_reason: finishReason }
    } catch (error) {
      if (callerGone.aborted) return
      const fault = error instanceof AppError ? error : providerFault(connection, error, this.timeoutMs)
      yield { type: 'error', code: fault.code, message: fault.detailFor(actor) }
    } finally {
      if (!response.body.destroyed) response.body.destroy()
    }
  }
}

/** The payload of an SSE `data:` line as an object, or undefined for any other line (and `[DONE]`). */
function parseData(line: string): Json | undefined {
  const text = line.trim()
  if (!text.startsWith('data:')) return undefined
  const data = text.slice('data:'.length).trim()
  if (data === '' || data === '[DONE]') return undefined
  try {
    const parsed = JSON.parse(data) as unknown
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Json) : undefined
  } catch {
    return undefined
  }
}

/**
 * The body with every secret of the connection replaced wherever it appears (custom params may carry
 * anything); nothing else changes, so the report stays the exact request.
 */
function redacted(body: Json, secrets: readonly string[]): Json {
  let json = JSON.stringify(body)
  const escaped = [...new Set(secrets)].filter((secret) => secret.length >= 4).map((secret) => JSON.stringify(secret).slice(1, -1))
  for (const secret of escaped.sort((a, b) => b.length - a.length)) json = json.split(secret).join(REDACTED)
  return JSON.parse(json) as Json
}

/** A provider's non-2xx answer: everybody reads its name and status, admins also its words (redacted). */
async function refusal(connection: Connection, response: ProviderResponse, timeoutMs: number): Promise<AppError> {
  const status = response.statusCode
  let said = ''
  try {
    said = `: ${redactText(JSON.stringify(await providerJson(connection, response, timeoutMs)), secretsOf(connection)).slice(0, 500)}`
  } catch {
    // not JSON: the status alone
  }
  if (status === 429) return providerError(connection, 'RATE_LIMITED', 'is rate limiting (HTTP 429).', `is rate limiting (HTTP 429)${said}`)
  return providerError(connection, 'PROVIDER_ERROR', `failed (HTTP ${status}).`, `answered HTTP ${status}${said}`)
}
