/**
 * A real HTTP model provider on 127.0.0.1 for tests and benchmarks: OpenAI-compatible (`/v1/models`,
 * `/v1/chat/completions`, `/v1/embeddings`, `/v1/completions`, and with `responsesApi` the Responses
 * API `/v1/responses`) or Ollama-shaped (`/api/tags`, plus Ollama's OpenAI API under `/v1`), with
 * switchable misbehaviour: hanging, failing, streaming slowly, cutting a stream, going down. Every
 * request is recorded as received. A chat request with `tools` whose last message is the user's is
 * answered with a call of the first tool (`{"q": <the user's text>}`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { randomUUID } from 'node:crypto'
import type { Connection } from '../../src/providers/connection.js'

export type FakeBehavior =
  | 'ok'
  /** Accepts the connection and never answers. */
  | 'hang'
  /** Answers 500 with an OpenAI-style error. */
  | 'error500'
  /** Answers 200 with a body that is not JSON. */
  | 'notJson'
  /** Answers 200 JSON of the wrong shape. */
  | 'wrongShape'
  /** Streams `chunks` chunks `chunkDelayMs` apart. */
  | 'slowStream'
  /** Streams two chunks, then destroys the connection. */
  | 'cutStream'
  /** Streams two chunks, then an SSE error event carrying `errorMessage`, then ends. */
  | 'errorEvent'
  /** Lists its models, but reads a chat request and destroys the connection without answering. */
  | 'drop'

export interface RecordedRequest {
  method: string
  path: string
  headers: IncomingMessage['headers']
  body: Record<string, unknown> | null
}

export interface FakeProvider {
  url: string
  /** The base URL a connection should use: `<url>/v1` for OpenAI, `<url>` for Ollama. */
  baseUrl: string
  requests: RecordedRequest[]
  /** Chat streams whose client went away before the end. */
  abortedStreams: number
  setBehavior(behavior: FakeBehavior): void
  setModels(models: string[]): void
  /** Stops listening and drops open connections (the provider "goes down"). */
  close(): Promise<void>
}

export interface FakeProviderOptions {
  kind?: 'openai' | 'ollama'
  models?: string[]
  behavior?: FakeBehavior
  /** When set, requests without `Authorization: Bearer <apiKey>` get 401. */
  apiKey?: string
  chunks?: number
  chunkDelayMs?: number
  /** The message of the 'error500' answer (default "the fake provider failed"). */
  errorMessage?: string
  /** Speaks the Responses API (`POST /v1/responses`); without it that path answers 404 (no such route). */
  responsesApi?: boolean
  /**
   * Chat usage counted from the request (bench/analytics-day.ts): prompt tokens = the messages' characters / 4,
   * completion tokens = `max_tokens` when given (else the reply's characters / 4). Off: the fixed counts below.
   */
  countTokens?: boolean
  /** Per model: every n-th chat call to it answers 500 like 'error500' (1: every call); a flaky model among healthy ones. */
  failEvery?: Record<string, number>
  /** Per model: ms per completion token a chat answer takes (a JSON answer waits it all; a stream a third before its first chunk, the rest between chunks). */
  msPerToken?: Record<string, number>
}

export async function startFakeProvider(options: FakeProviderOptions = {}): Promise<FakeProvider> {
  const kind = options.kind ?? 'openai'
  let models = options.models ?? ['fake-model']
  let behavior: FakeBehavior = options.behavior ?? 'ok'
  const sockets = new Set<Socket>()
  const state = { requests: [] as RecordedRequest[], abortedStreams: 0 }
  const chatCalls = new Map<string, number>()

  const server: Server = createServer((req, res) => {
    void handle(req, res)
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    const path = (req.url ?? '').split('?')[0] ?? ''
    const body = parseBody(text)
    state.requests.push({ method: req.method ?? '', path, headers: req.headers, body })

    if (behavior === 'hang') return
    if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return json(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } })
    }
    if (behavior === 'error500') return json(res, 500, { error: { message: options.errorMessage ?? 'the fake provider failed', type: 'server_error' } })
    if (behavior === 'notJson') {
      res.writeHead(200, { 'content-type': 'text/html' })
      return void res.end('<html>not json</html>')
    }
    if (behavior === 'wrongShape') return json(res, 200, { unexpected: true })

    if (req.method === 'GET' && kind === 'openai' && path === '/v1/models') {
      return json(res, 200, { object: 'list', data: models.map((id) => ({ id, object: 'model', created: 1700000000, owned_by: 'fake' })) })
    }
    if (req.method === 'GET' && kind === 'ollama' && path === '/api/tags') {
      return json(res, 200, { models: models.map((name) => ({ name, model: name, modified_at: '2025-01-01T00:00:00Z', size: 1 })) })
    }
    if (req.method === 'GET' && kind === 'ollama' && path === '/api/version') return json(res, 200, { version: '0.0.0-fake' })
    if (req.method === 'POST' && path === '/v1/chat/completions') {
      if (behavior === 'drop') return void req.socket.destroy()
      return chat(res, body ?? {})
    }
    if (req.method === 'POST' && path === '/v1/embeddings') return embeddings(res, body ?? {})
    if (req.method === 'POST' && path === '/v1/completions') return completions(res, body ?? {})
    if (req.method === 'POST' && path === '/v1/responses' && options.responsesApi) return responses(res, body ?? {})
    json(res, 404, { error: { message: `no route ${req.method} ${path}` } })
  }

  async function chat(res: ServerResponse, body: Record<string, unknown>): Promise<void> {
    const model = typeof body['model'] === 'string' ? body['model'] : ''
    if (!models.includes(model)) return json(res, 404, { error: { message: `The model '${model}' does not exist` } })
    const messages = Array.isArray(body['messages']) ? (body['messages'] as { role?: unknown; content?: unknown }[]) : []
    const last = messages[messages.length - 1]?.content
    const reply = `echo: ${typeof last === 'string' ? last : JSON.stringify(last)}`
    const tools = Array.isArray(body['tools']) ? (body['tools'] as { function?: { name?: string } }[]) : []
    if (tools.length > 0 && messages[messages.length - 1]?.role === 'user') return toolCall(res, body, model, tools[0]?.function?.name ?? '', String(last))
    const calls = (chatCalls.get(model) ?? 0) + 1
    chatCalls.set(model, calls)
    const failEvery = options.failEvery?.[model]
    const failMessage = options.errorMessage ?? 'the fake provider failed'
    if (failEvery && calls % failEvery === 0) return json(res, 500, { error: { message: failMessage, type: 'server_error' } })
    const counted = options.countTokens ? countTokens(messages, body['max_tokens'], reply) : undefined
    const answerMs = (options.msPerToken?.[model] ?? 0) * (counted?.completion_tokens ?? 1)
    if (body['stream'] !== true) {
      if (answerMs) await sleep(answerMs)
      return json(res, 200, {
        id: 'chatcmpl-fake',
        object: 'chat.completion',
        created: 1700000000,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: reply }, finish_reason: 'stop' }],
        usage: counted ?? { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      })
    }
    if (answerMs) await sleep(answerMs / 3)
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    let finished = false
    res.on('close', () => {
      if (!finished) state.abortedStreams += 1
    })
    const count = behavior === 'cutStream' || behavior === 'errorEvent' ? 2 : (options.chunks ?? 3)
    // As OpenAI does with stream_options.include_usage: `usage: null` on every chunk, the counts in a last chunk without choices.
    const streamOptions = body['stream_options'] as { include_usage?: unknown } | undefined
    const withUsage = streamOptions?.include_usage === true ? { usage: null } : {}
    const delay = behavior === 'slowStream' ? (options.chunkDelayMs ?? 200) : answerMs ? (answerMs * 2) / 3 / count : 0
    for (let i = 0; i < count; i++) {
      if (res.destroyed) return
      const chunk = {
        id: 'chatcmpl-fake',
        object: 'chat.completion.chunk',
        created: 1700000000,
        model,
        choices: [{ index: 0, delta: { content: `${i === 0 ? reply : ''} tok${i}` }, finish_reason: null }],
        ...withUsage,
      }
      res.write(`data: ${JSON.stringify(chunk)}\n\n`)
      if (delay) await new Promise((resolve) => setTimeout(resolve, delay))
    }
    if (behavior === 'errorEvent') {
      const message = options.errorMessage ?? 'the fake provider failed mid-stream'
      res.write(`data: ${JSON.stringify({ error: { message, type: 'server_error', code: 'overloaded' } })}\n\ndata: [DONE]\n\n`)
      finished = true
      return void res.end()
    }
    if (behavior === 'cutStream') {
      // Let the chunks reach the wire first, so the cut really comes in the middle of the stream.
      await new Promise((resolve) => setTimeout(resolve, 20))
      res.socket?.destroy()
      return
    }
    const done = {
      id: 'chatcmpl-fake',
      object: 'chat.completion.chunk',
      created: 1700000000,
      model,
      choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
      ...withUsage,
    }
    const usage = counted ?? { prompt_tokens: messages.length, completion_tokens: count, total_tokens: messages.length + count }
    const usageChunk = { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1700000000, model, choices: [], usage }
    // One write, as before usage existed: the last chunk, the usage chunk when asked, and [DONE].
    res.write(`data: ${JSON.stringify(done)}\n\n${withUsage.usage === null ? `data: ${JSON.stringify(usageChunk)}\n\n` : ''}data: [DONE]\n\n`)
    finished = true
    res.end()
  }

  /** A chat answer calling `name` with `{"q": text}`, whole or streamed (the arguments in two pieces). */
  function toolCall(res: ServerResponse, body: Record<string, unknown>, model: string, name: string, text: string): void {
    const args = JSON.stringify({ q: text })
    const call = { id: 'call_fake', type: 'function', function: { name, arguments: args } }
    if (body['stream'] !== true) {
      return json(res, 200, {
        id: 'chatcmpl-fake',
        object: 'chat.completion',
        created: 1700000000,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [call] }, finish_reason: 'tool_calls' }],
        usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
      })
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    const chunk = (delta: unknown, finish: string | null) =>
      `data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1700000000, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
    const half = Math.floor(args.length / 2)
    res.write(
      chunk({ role: 'assistant', tool_calls: [{ index: 0, id: 'call_fake', type: 'function', function: { name, arguments: args.slice(0, half) } }] }, null),
    )
    res.write(chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(half) } }] }, null))
    res.write(chunk({}, 'tool_calls'))
    res.end('data: [DONE]\n\n')
  }

  function embeddings(res: ServerResponse, body: Record<string, unknown>): void {
    const model = typeof body['model'] === 'string' ? body['model'] : ''
    if (!models.includes(model)) return json(res, 404, { error: { message: `The model '${model}' does not exist` } })
    const inputs = Array.isArray(body['input']) ? body['input'] : [body['input']]
    const data = inputs.map((input, index) => {
      // A vector that says what it embedded: its length, then two fixed values.
      const vector = [String(JSON.stringify(input)).length, 0.5, -0.25]
      const embedding = body['encoding_format'] === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector
      return { object: 'embedding', index, embedding }
    })
    json(res, 200, { object: 'list', data, model, usage: { prompt_tokens: inputs.length, total_tokens: inputs.length } })
  }

  function completions(res: ServerResponse, body: Record<string, unknown>): void {
    const model = typeof body['model'] === 'string' ? body['model'] : ''
    if (!models.includes(model)) return json(res, 404, { error: { message: `The model '${model}' does not exist` } })
    const text = `echo: ${typeof body['prompt'] === 'string' ? body['prompt'] : JSON.stringify(body['prompt'])}`
    const base = { id: 'cmpl-fake', object: 'text_completion', created: 1700000000, model }
    if (body['stream'] !== true) {
      return json(res, 200, {
        ...base,
        choices: [{ index: 0, text, finish_reason: 'stop', logprobs: null }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      })
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    for (const [i, piece] of [text, ' more'].entries()) {
      res.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, text: piece, finish_reason: i === 1 ? 'stop' : null, logprobs: null }] })}\n\n`)
    }
    res.end('data: [DONE]\n\n')
  }

  /** The Responses API, as a provider that speaks it answers: one message echoing the input's text. */
  function responses(res: ServerResponse, body: Record<string, unknown>): void {
    const model = typeof body['model'] === 'string' ? body['model'] : ''
    if (!models.includes(model)) return json(res, 404, { error: { message: `The model '${model}' does not exist`, code: 'model_not_found' } })
    const input = body['input']
    const text = `echo: ${typeof input === 'string' ? input : JSON.stringify(input)}`
    const item = { id: 'msg_fake', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] }
    const usage = {
      input_tokens: 1,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 1,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 2,
    }
    const response = {
      id: 'resp_fake',
      object: 'response',
      created_at: 1700000000,
      status: 'completed',
      model,
      output: [item],
      usage,
      error: null,
      incomplete_details: null,
    }
    if (body['stream'] !== true) return json(res, 200, response)
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    let sequence = 0
    const send = (type: string, fields: Record<string, unknown>) =>
      res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...fields })}\n\n`)
    send('response.created', { response: { ...response, status: 'in_progress', output: [], usage: null } })
    send('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } })
    send('response.content_part.added', { item_id: 'msg_fake', output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } })
    send('response.output_text.delta', { item_id: 'msg_fake', output_index: 0, content_index: 0, delta: text, logprobs: [] })
    send('response.output_text.done', { item_id: 'msg_fake', output_index: 0, content_index: 0, text, logprobs: [] })
    send('response.content_part.done', { item_id: 'msg_fake', output_index: 0, content_index: 0, part: item.content[0] })
    send('response.output_item.done', { output_index: 0, item })
    send('response.completed', { response })
    res.end()
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}`
  return {
    url,
    baseUrl: kind === 'ollama' ? url : `${url}/v1`,
    get requests() {
      return state.requests
    },
    get abortedStreams() {
      return state.abortedStreams
    },
    setBehavior(next) {
      behavior = next
    },
    setModels(next) {
      models = next
    },
    close() {
      for (const socket of sockets) socket.destroy()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** countTokens: about four characters a token, as English text with OpenAI's tokenizers. */
function countTokens(messages: { content?: unknown }[], maxTokens: unknown, reply: string) {
  const chars = messages.reduce((sum, m) => sum + (typeof m.content === 'string' ? m.content.length : JSON.stringify(m.content ?? '').length), 0)
  const prompt_tokens = Math.max(1, Math.ceil(chars / 4))
  const completion_tokens = typeof maxTokens === 'number' && Number.isInteger(maxTokens) && maxTokens > 0 ? maxTokens : Math.max(1, Math.ceil(reply.length / 4))
  return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens }
}

function parseBody(text: string): Record<string, unknown> | null {
  try {
    return text ? (JSON.parse(text) as Record<string, unknown>) : null
  } catch {
    return null
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

/** A connection to a fake provider as the catalog reads it (a fresh id unless `extra` names one). */
export function fakeConnection(p: Pick<FakeProvider, 'baseUrl'>, extra: Partial<Connection> = {}): Connection {
  const id = `conn-${randomUUID()}`
  return {
    id,
    name: `fake ${id.slice(5, 13)}`,
    kind: 'openai',
    base_url: p.baseUrl,
    apiKey: null,
    key_hint: null,
    prefix_id: null,
    enabled: true,
    source: 'api',
    created_at: 0,
    updated_at: 0,
    model_ids: [],
    tags: [],
    connection_type: 'external',
    url_idx: 0,
    api_enabled: true,
    ...extra,
  }
}
