/**
 * Talks to providers over HTTP: fetches model lists (OpenAI `/models`, Ollama `/api/tags`) with a
 * timeout, and checks that answers have the promised shape. Failures are ProviderFault errors that name
 * the provider and say what went wrong, for the caller to read.
 */
import { z } from 'zod'
import { AppError } from '../errors/app-error.js'
import type { Connection, ProviderModel } from './connection.js'

const OpenAiModelsSchema = z.object({
  data: z.array(z.looseObject({ id: z.string().min(1), owned_by: z.string().optional(), created: z.number().optional(), name: z.string().optional() })),
})
const OllamaTagsSchema = z.object({
  models: z.array(z.looseObject({ name: z.string().min(1), model: z.string().optional(), modified_at: z.string().optional() })),
})

export function providerLabel(connection: Pick<Connection, 'name' | 'base_url'>): string {
  return `"${connection.name}" (${connection.base_url})`
}

/**
 * An in-flight provider call. Its timer aborts the call when the provider is silent for `timeoutMs`:
 * call `touch()` on every sign of life (a streamed chunk) and `done()` once the body has been read.
 */
export interface ProviderCall {
  response: Response
  touch(): void
  done(): void
  /** True once the timer aborted the call; reading the body then fails. */
  timedOut(): boolean
}

/**
 * Starts a request to a provider. Failures are AppErrors naming the provider: PROVIDER_TIMEOUT when it
 * does not answer in time, PROVIDER_ERROR when it cannot be reached. `signal` (the caller hanging up)
 * aborts too, and is re-thrown as is.
 */
export async function providerFetch(
  connection: Connection,
  url: string,
  init: Omit<RequestInit, 'signal'> & { timeoutMs: number; signal?: AbortSignal },
): Promise<ProviderCall> {
  const controller = new AbortController()
  let isTimedOut = false
  let timer: NodeJS.Timeout | undefined
  const arm = () => {
    clearTimeout(timer)
    timer = setTimeout(() => {
      isTimedOut = true
      controller.abort(new Error('provider timeout'))
    }, init.timeoutMs)
  }
  const onCallerAbort = () => controller.abort(init.signal?.reason)
  init.signal?.addEventListener('abort', onCallerAbort, { once: true })
  const done = () => {
    clearTimeout(timer)
    init.signal?.removeEventListener('abort', onCallerAbort)
  }
  const headers = new Headers(init.headers)
  if (connection.apiKey) headers.set('authorization', `Bearer ${connection.apiKey}`)
  arm()
  try {
    const response = await fetch(url, { ...init, headers, signal: controller.signal })
    return { response, touch: arm, done, timedOut: () => isTimedOut }
  } catch (error) {
    done()
    if (isTimedOut) throw timeoutError(connection, init.timeoutMs)
    if (init.signal?.aborted) throw error
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    throw new AppError(
      'PROVIDER_ERROR',
      `Provider ${providerLabel(connection)} is unreachable: ${cause?.code ?? cause?.message ?? (error as Error).message}.`,
    )
  }
}

export function timeoutError(connection: Connection, timeoutMs: number): AppError {
  return new AppError('PROVIDER_TIMEOUT', `Provider ${providerLabel(connection)} did not answer within ${timeoutMs} ms.`)
}

/** Reads a JSON body (within the call's timeout), or fails with PROVIDER_ERROR when it is not JSON. */
export async function providerJson(connection: Connection, call: ProviderCall, timeoutMs: number): Promise<unknown> {
  const { response } = call
  let text: string
  try {
    text = await response.text()
  } catch (error) {
    if (call.timedOut()) throw timeoutError(connection, timeoutMs)
    throw new AppError('PROVIDER_ERROR', `Provider ${providerLabel(connection)} broke off its answer: ${(error as Error).message}.`)
  } finally {
    call.done()
  }
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new AppError('PROVIDER_ERROR', `Provider ${providerLabel(connection)} answered something that is not JSON (HTTP ${response.status}).`)
  }
}

export async function fetchProviderModels(connection: Connection, timeoutMs: number): Promise<ProviderModel[]> {
  const url = connection.kind === 'ollama' ? `${connection.base_url}/api/tags` : `${connection.base_url}/models`
  const call = await providerFetch(connection, url, { method: 'GET', timeoutMs, headers: { accept: 'application/json' } })
  if (!call.response.ok) {
    call.done()
    await call.response.body?.cancel().catch(() => undefined)
    throw new AppError('PROVIDER_ERROR', `Provider ${providerLabel(connection)} answered HTTP ${call.response.status} to its model list.`)
  }
  const body = await providerJson(connection, call, timeoutMs)
  const prefix = connection.prefix_id ? `${connection.prefix_id}.` : ''
  const now = Math.floor(Date.now() / 1000)
  if (connection.kind === 'ollama') {
    const parsed = OllamaTagsSchema.safeParse(body)
    if (!parsed.success) throw wrongShape(connection, '{"models": [{"name": …}]}')
    return parsed.data.models.map((m) => ({
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
  return new AppError('PROVIDER_ERROR', `Provider ${providerLabel(connection)} answered a model list of the wrong shape (expected ${expected}).`)
}
