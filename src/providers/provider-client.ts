/**
 * Talks to providers over HTTP: fetches model lists (OpenAI `/models`, Ollama `/api/tags`) with a
 * timeout, and checks that answers have the promised shape. Failures are AppErrors that name the
 * provider by its connection's name and say what went wrong; the provider's URL (redacted) and its own
 * words are only in `adminDetail` (issue #10, hole 7: a URL may carry a key, an error text anything).
 */
import { EventEmitter } from 'node:events'
import { Agent, errors, type Dispatcher } from 'undici'
import { z } from 'zod'
import { AppError, type ErrorCode } from '../errors/app-error.js'
import { redactText, redactUrl, secretsOfUrl } from '../errors/redact.js'
import { joinUrl, type Connection, type ProviderModel } from './connection.js'

const OpenAiModelsSchema = z.object({
  data: z.array(z.looseObject({ id: z.string().min(1), owned_by: z.string().optional(), created: z.number().optional(), name: z.string().optional() })),
})
const OllamaTagsSchema = z.object({
  models: z.array(z.looseObject({ name: z.string().min(1), model: z.string().optional(), modified_at: z.string().optional() })),
})

/** How administrators see a provider: its name and its URL, redacted. */
export function providerLabel(connection: Pick<Connection, 'name' | 'base_url'>): string {
  return `"${connection.name}" (${redactUrl(connection.base_url)})`
}

/** What of a connection must never be shown: its key and the secret parts of its URL. */
export function secretsOf(connection: Pick<Connection, 'base_url' | 'apiKey'>): string[] {
  return [...(connection.apiKey ? [connection.apiKey] : []), ...secretsOfUrl(connection.base_url)]
}

/**
 * A provider fault: everybody reads `Provider "<name>" <told>`; administrators read
 * `Provider "<name>" (<url>) <adminTold>`, with URLs and the connection's secrets redacted.
 */
export function providerError(connection: Pick<Connection, 'name' | 'base_url' | 'apiKey'>, code: ErrorCode, told: string, adminTold: string = told): AppError {
  const forAdmins = redactText(`Provider ${providerLabel(connection)} ${adminTold}`, secretsOf(connection))
  return new AppError(code, redactText(`Provider "${connection.name}" ${told}`, secretsOf(connection)), undefined, forAdmins)
}

/** What an admin reads of a failure: the provider fault's admin detail, or the message, redacted. */
export function adminDetailOf(error: unknown, secrets: readonly string[] = []): string {
  if (error instanceof AppError) return error.detailFor({ role: 'admin' })
  return redactText(error instanceof Error ? error.message : String(error), secrets)
}

/** Keep-alive connections to providers, shared by every call (undici's pool, HTTP/1.1). */
const providerPool = new Agent({ keepAliveTimeout: 30_000, connections: 256 })

export type ProviderResponse = Dispatcher.ResponseData

/**
 * The caller hanging up, as a provider call's `signal`: an EventEmitter with `aborted` (undici takes
 * either). An AbortController per request costs ~20 µs of CPU on the gateway's hot path (Node's
 * EventTarget: the controller, its signal, undici's `addEventListener`); this costs next to nothing.
 */
export class CallerGone extends EventEmitter {
  aborted = false
  reason: unknown = undefined

  abort(reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = reason
    this.emit('abort')
  }
}

/** What a provider call is cancelled by: the caller hanging up. */
export type CallerSignal = AbortSignal | CallerGone

/**
 * Sends a request to a provider. `timeoutMs` bounds the wait for the answer's headers and every silence
 * between two chunks of its body (undici's headersTimeout and bodyTimeout). Failures are AppErrors naming
 * the provider: PROVIDER_TIMEOUT when it is silent too long, PROVIDER_ERROR when it cannot be reached.
 * `signal` (the caller hanging up) aborts the call and is re-thrown as is.
 */
export async function providerRequest(
  connection: Connection,
  url: string,
  init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string; timeoutMs: number; signal?: CallerSignal },
): Promise<ProviderResponse> {
  const headers: Record<string, string> = { ...init.headers }
  const target = withoutUserinfo(url)
  if (connection.apiKey) headers['authorization'] = `Bearer ${connection.apiKey}`
  else if (target.basic) headers['authorization'] = `Basic ${target.basic}`
  try {
    return await providerPool.request({
      ...dispatchTarget(target.url),
      method: init.method,
      headers,
      body: init.body ?? null,
      headersTimeout: init.timeoutMs,
      bodyTimeout: init.timeoutMs,
      ...(init.signal && { signal: init.signal }),
    })
  } catch (error) {
    if (init.signal?.aborted) throw error
    throw providerFault(connection, error, init.timeoutMs)
  }
}

/**
 * A provider URL as undici's dispatcher takes it (origin and path), parsed once per URL: given a string,
 * undici parses it anew on every call (~7 µs of a gateway request). Bounded by the connections' URLs.
 */
const dispatchTargets = new Map<string, { origin: string; path: string }>()

function dispatchTarget(url: string): { origin: string; path: string } {
  let target = dispatchTargets.get(url)
  if (!target) {
    const parsed = new URL(url)
    // undici's own check of a URL it is given (an admin's typo must fail as unreachable, never reach a socket).
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TypeError(`unsupported protocol ${parsed.protocol}`)
    target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` }
    if (dispatchTargets.size >= 1000) dispatchTargets.clear()
    dispatchTargets.set(url, target)
  }
  return target
}

/** Our error for a failed call: a timeout, or the provider unreachable / hanging up. */
export function providerFault(connection: Connection, error: unknown, timeoutMs: number): AppError {
  if (error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError) {
    return providerError(connection, 'PROVIDER_TIMEOUT', `did not answer within ${timeoutMs} ms.`)
  }
  if (error instanceof errors.SocketError) {
    return providerError(connection, 'PROVIDER_ERROR', 'closed the connection without a complete answer.')
  }
  const code = (error as { code?: string }).code
  return providerError(connection, 'PROVIDER_ERROR', 'is unreachable.', `is unreachable: ${code ?? (error as Error).message}.`)
}

/**
 * undici ignores credentials in a URL (and they must never reach a log through it): they become a
 * Basic authorization when the connection has no key of its own.
 */
function withoutUserinfo(url: string): { url: string; basic: string | null } {
  // Credentials need an "@": most URLs have none and skip the parse (on every provider call).
  if (!url.includes('@')) return { url, basic: null }
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return { url, basic: null }
  }
  if (!parsed.username && !parsed.password) return { url, basic: null }
  const credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`
  parsed.username = ''
  parsed.password = ''
  return { url: parsed.toString(), basic: Buffer.from(credentials).toString('base64') }
}

/** Reads a JSON body (bounded by the call's timeout), or fails with PROVIDER_ERROR when it is not JSON. */
export async function providerJson(connection: Connection, response: ProviderResponse, timeoutMs: number): Promise<unknown> {
  let text: string
  try {
    text = await response.body.text()
  } catch (error) {
    throw providerFault(connection, error, timeoutMs)
  }
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw providerError(connection, 'PROVIDER_ERROR', `answered something that is not JSON (HTTP ${response.statusCode}).`)
  }
}

export async function fetchProviderModels(connection: Connection, timeoutMs: number): Promise<ProviderModel[]> {
  const prefix = connection.prefix_id ? `${connection.prefix_id}.` : ''
  const now = Math.floor(Date.now() / 1000)
  // Open WebUI: an OpenAI connection with model_ids serves those ids without asking the provider.
  if (connection.kind === 'openai' && connection.model_ids.length > 0) {
    return connection.model_ids.map((id) => ({ id: prefix + id, upstream_id: id, name: id, owned_by: 'openai', created: now, connection_id: connection.id }))
  }
  const url = joinUrl(connection.base_url, connection.kind === 'ollama' ? '/api/tags' : '/models')
  const response = await providerRequest(connection, url, { method: 'GET', timeoutMs, headers: { accept: 'application/json' } })
  if (response.statusCode < 200 || response.statusCode >= 300) {
    await response.body.dump().catch(() => undefined)
    throw providerError(connection, 'PROVIDER_ERROR', `answered HTTP ${response.statusCode} to its model list.`)
  }
  const body = await providerJson(connection, response, timeoutMs)
  if (connection.kind === 'ollama') {
    const parsed = OllamaTagsSchema.safeParse(body)
    if (!parsed.success) throw wrongShape(connection, '{"models": [{"name": …}]}')
    // Open WebUI: an Ollama connection's model_ids is an allowlist.
    const allowed = connection.model_ids.length > 0 ? new Set(connection.model_ids) : null
    const listed = allowed ? parsed.data.models.filter((m) => allowed.has(m.model ?? m.name) || allowed.has(m.name)) : parsed.data.models
    return listed.map((m) => ({
      id: prefix + m.name,
      upstream_id: m.name,
      name: m.name,
      owned_by: 'ollama',
      created: m.modified_at ? Math.floor(Date.parse(m.modified_at) / 1000) || now : now,
      connection_id: connection.id,
    }))
  }
  const parsed = OpenAiModelsSchema.safeParse(body)
  if (!parsed.success) throw wrongShape(connection, '{"data": [{"id": …}]}')
  return parsed.data.data.map((m) => ({
    id: prefix + m.id,
    upstream_id: m.id,
    name: m.name ?? m.id,
    owned_by: m.owned_by ?? 'openai',
    created: m.created ?? now,
    connection_id: connection.id,
  }))
}

function wrongShape(connection: Connection, expected: string): AppError {
  return providerError(connection, 'PROVIDER_ERROR', `answered a model list of the wrong shape (expected ${expected}).`)
}
