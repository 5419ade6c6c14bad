/**
 * The OpenAI Responses API (`POST /v1/responses`) over a provider that speaks only chat completions:
 * a Responses request becomes a chat request (the preset is then applied to it exactly as to a chat
 * request), and the chat answer becomes a Response object, or its stream the Responses API's events
 * (`response.created`, `response.output_item.added`, `response.output_text.delta`, …,
 * `response.completed`). Pure functions and one stateful stream converter; no I/O.
 *
 * What cannot be translated is refused with 400 naming the field (stored state: `previous_response_id`,
 * `conversation`, `item_reference`; built-in tools such as `web_search`), never silently dropped.
 */
import { randomBytes } from 'node:crypto'
import { fieldError } from '../errors/app-error.js'

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

/** A value as text for a message or a field: strings as they are, anything else as JSON. */
const str = (value: unknown, fallback = ''): string =>
  typeof value === 'string' ? value : value === undefined || value === null ? fallback : JSON.stringify(value)

const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`

const invalid = (field: string, message: string) => fieldError('VALIDATION_ERROR', `body.${field}`, message)

/** Request fields with no chat-completions meaning that are dropped (they change nothing a provider would do). */
const IGNORED = new Set([
  'store',
  'include',
  'truncation',
  'service_tier',
  'safety_identifier',
  'prompt_cache_key',
  'prompt_cache_retention',
  'metadata',
  'stream_options',
  'background',
])

/** Refused: they need state or tools the provider does not have. */
const UNSUPPORTED = ['previous_response_id', 'conversation', 'prompt'] as const

/**
 * The chat request that a Responses request means. The request's own params stay on it under their
 * chat names, so that applyPreset merges a preset's params over them exactly as for chat.
 */
export function responsesToChat(request: Json): Json {
  for (const field of UNSUPPORTED) {
    if (request[field] !== undefined && request[field] !== null) {
      throw invalid(field, 'is not supported by this provider (it speaks chat completions only): send the whole conversation in input.')
    }
  }
  if (request['background'] === true) throw invalid('background', 'background responses are not supported by this provider.')

  const messages: Json[] = []
  const instructions = request['instructions']
  if (typeof instructions === 'string' && instructions !== '') messages.push({ role: 'system', content: instructions })
  const input = request['input']
  if (typeof input === 'string') messages.push({ role: 'user', content: input })
  else if (Array.isArray(input)) input.forEach((item, index) => addInputItem(messages, item, `input.${index}`))
  else throw invalid('input', 'must be a string or a list of input items.')
  if (messages.length === 0) throw invalid('input', 'must hold at least one message.')

  const chat: Json = { model: request['model'], messages }
  for (const [key, value] of Object.entries(request)) {
    if (value === undefined || key === 'model' || key === 'input' || key === 'instructions' || IGNORED.has(key)) continue
    switch (key) {
      case 'max_output_tokens':
        if (value !== null) chat['max_tokens'] = value
        break
      case 'tools':
        chat['tools'] = toolsOf(value)
        break
      case 'tool_choice':
        chat['tool_choice'] = toolChoiceOf(value)
        break
      case 'text':
        Object.assign(chat, textFormatOf(value))
        break
      case 'reasoning':
        if (isObject(value) && typeof value['effort'] === 'string') chat['reasoning_effort'] = value['effort']
        break
      case 'top_logprobs':
        if (typeof value === 'number' && value > 0) Object.assign(chat, { logprobs: true, top_logprobs: value })
        break
      default:
        // temperature, top_p, stream, user, parallel_tool_calls, seed and provider extensions pass as they are.
        chat[key] = value
    }
  }
  if (chat['stream'] === true) chat['stream_options'] = { include_usage: true }
  return chat
}

function addInputItem(messages: Json[], item: unknown, path: string): void {
  if (!isObject(item)) throw invalid(path, 'must be an object.')
  const type = item['type'] ?? 'message'
  switch (type) {
    case 'message': {
      const role = item['role']
      if (role !== 'user' && role !== 'assistant' && role !== 'system' && role !== 'developer') {
        throw invalid(`${path}.role`, 'must be user, assistant, system or developer.')
      }
      const content = contentOf(item['content'], `${path}.content`)
      // Text alone becomes a string (what every chat provider takes); user messages may also carry images.
      const text = typeof content === 'string' ? content : content.every((p) => p['type'] === 'text') ? content.map((p) => p['text']).join('') : null
      if (role === 'user') messages.push({ role, content: text ?? content })
      else if (text === null) throw invalid(`${path}.content`, `a ${role} message may only hold text.`)
      else messages.push({ role: role === 'developer' ? 'system' : role, content: text })
      return
    }
    case 'function_call': {
      const { call_id, name } = item
      if (typeof call_id !== 'string' || typeof name !== 'string') throw invalid(path, 'a function_call needs call_id and name.')
      const args = typeof item['arguments'] === 'string' ? item['arguments'] : JSON.stringify(item['arguments'] ?? {})
      const call = { id: call_id, type: 'function', function: { name, arguments: args } }
      // Calls that follow an assistant message (or each other) belong to it, as chat groups them.
      const last = messages.at(-1)
      if (last && last['role'] === 'assistant') last['tool_calls'] = [...((last['tool_calls'] as unknown[] | undefined) ?? []), call]
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] })
      return
    }
    case 'function_call_output': {
      if (typeof item['call_id'] !== 'string') throw invalid(`${path}.call_id`, 'is required.')
      const output = item['output']
      const content = typeof output === 'string' ? output : Array.isArray(output) ? textOf(contentOf(output, `${path}.output`)) : JSON.stringify(output)
      messages.push({ role: 'tool', tool_call_id: item['call_id'], content })
      return
    }
    case 'reasoning':
      // The provider reasons anew; a summary from an earlier turn is not part of the chat conversation.
      return
    case 'item_reference':
      throw invalid(path, 'item references need stored responses, which this provider does not keep: send the item itself.')
    default:
      throw invalid(`${path}.type`, `input items of type "${str(type)}" are not supported by this provider.`)
  }
}

const textOf = (content: string | Json[]) =>
  typeof content === 'string' ? content : content.map((p) => (typeof p['text'] === 'string' ? p['text'] : '')).join('')

/** Responses content (a string or parts) as chat content: text parts and image_url parts. */
function contentOf(content: unknown, path: string): string | Json[] {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) throw invalid(path, 'must be a string or a list of content parts.')
  return content.map((part, index) => {
    if (!isObject(part)) throw invalid(`${path}.${index}`, 'must be an object.')
    switch (part['type']) {
      case 'input_text':
      case 'output_text':
      case 'text':
        if (typeof part['text'] !== 'string') throw invalid(`${path}.${index}.text`, 'must be a string.')
        return { type: 'text', text: part['text'] }
      case 'refusal':
        return { type: 'text', text: typeof part['refusal'] === 'string' ? part['refusal'] : '' }
      case 'input_image': {
        const url = part['image_url']
        if (typeof url !== 'string') throw invalid(`${path}.${index}.image_url`, 'must be a URL (file ids need stored files).')
        return { type: 'image_url', image_url: { url, ...(typeof part['detail'] === 'string' && { detail: part['detail'] }) } }
      }
      default:
        throw invalid(`${path}.${index}.type`, `content parts of type "${str(part['type'])}" are not supported by this provider.`)
    }
  })
}

function toolsOf(tools: unknown): Json[] {
  if (!Array.isArray(tools)) throw invalid('tools', 'must be a list.')
  return tools.map((tool, index) => {
    if (!isObject(tool) || tool['type'] !== 'function') {
      throw invalid(`tools.${index}`, `only function tools are supported by this provider, not "${isObject(tool) ? str(tool['type']) : typeof tool}".`)
    }
    if (typeof tool['name'] !== 'string') throw invalid(`tools.${index}.name`, 'is required.')
    const fn: Json = { name: tool['name'] }
    for (const key of ['description', 'parameters', 'strict']) if (tool[key] !== undefined && tool[key] !== null) fn[key] = tool[key]
    return { type: 'function', function: fn }
  })
}

function toolChoiceOf(choice: unknown): unknown {
  if (typeof choice === 'string') return choice
  if (isObject(choice) && choice['type'] === 'function' && typeof choice['name'] === 'string') {
    return { type: 'function', function: { name: choice['name'] } }
  }
  throw invalid('tool_choice', 'must be "auto", "none", "required" or {type: "function", name}.')
}

function textFormatOf(text: unknown): Json {
  const format = isObject(text) ? text['format'] : undefined
  if (!isObject(format) || format['type'] === 'text') return {}
  if (format['type'] === 'json_object') return { response_format: { type: 'json_object' } }
  if (format['type'] === 'json_schema') {
    const { type: _type, ...schema } = format
    return { response_format: { type: 'json_schema', json_schema: schema } }
  }
  throw invalid('text.format.type', 'must be text, json_object or json_schema.')
}

/** What the Response object echoes of its request. */
interface Echo {
  model: string
  request: Json
}

function responseShell(id: string, createdAt: number, echo: Echo): Json {
  const r = echo.request
  const pick = (key: string, fallback: unknown) => (r[key] === undefined ? fallback : r[key])
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status: 'in_progress',
    error: null,
    incomplete_details: null,
    instructions: pick('instructions', null),
    max_output_tokens: pick('max_output_tokens', null),
    model: echo.model,
    output: [],
    parallel_tool_calls: pick('parallel_tool_calls', true),
    previous_response_id: null,
    reasoning: { effort: isObject(r['reasoning']) ? (r['reasoning']['effort'] ?? null) : null, summary: null },
    store: false,
    temperature: pick('temperature', null),
    text: isObject(r['text']) ? r['text'] : { format: { type: 'text' } },
    tool_choice: pick('tool_choice', 'auto'),
    tools: pick('tools', []),
    top_p: pick('top_p', null),
    truncation: 'disabled',
    usage: null,
    user: pick('user', null),
    metadata: isObject(r['metadata']) ? r['metadata'] : {},
  }
}

type Usage = { input_tokens: number; input_tokens_details: Json; output_tokens: number; output_tokens_details: Json; total_tokens: number }

function usageOf(usage: unknown): Usage | null {
  if (!isObject(usage)) return null
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0)
  const input = num(usage['prompt_tokens'])
  const output = num(usage['completion_tokens'])
  const cached = isObject(usage['prompt_tokens_details']) ? num(usage['prompt_tokens_details']['cached_tokens']) : 0
  const reasoning = isObject(usage['completion_tokens_details']) ? num(usage['completion_tokens_details']['reasoning_tokens']) : 0
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: cached },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: num(usage['total_tokens']) || input + output,
  }
}

/** `finish_reason: "length"` means the token limit cut the answer: an incomplete response. */
function finished(shell: Json, finishReason: unknown, usage: Usage | null, output: Json[]): Json {
  const cut = finishReason === 'length'
  return { ...shell, status: cut ? 'incomplete' : 'completed', incomplete_details: cut ? { reason: 'max_output_tokens' } : null, output, usage }
}

const textItem = (id: string, text: string, status: string) => ({
  id,
  type: 'message',
  status,
  role: 'assistant',
  content: text === '' && status === 'in_progress' ? [] : [{ type: 'output_text', text, annotations: [], logprobs: [] }],
})

const callItem = (id: string, callId: string, name: string, args: string, status: string) => ({
  id,
  type: 'function_call',
  status,
  call_id: callId,
  name,
  arguments: args,
})

/** A chat completion (the provider's answer) as a Response object, carrying the id the caller called. */
export function chatToResponse(completion: unknown, echo: Echo): Json {
  const body = isObject(completion) ? completion : {}
  const choice = Array.isArray(body['choices']) && isObject(body['choices'][0]) ? body['choices'][0] : {}
  const message = isObject(choice['message']) ? choice['message'] : {}
  const output: Json[] = []
  const content = message['content']
  const text = typeof content === 'string' ? content : Array.isArray(content) ? textOf(content.filter(isObject)) : ''
  if (text !== '') output.push(textItem(newId('msg'), text, 'completed'))
  if (typeof message['refusal'] === 'string' && message['refusal'] !== '') {
    output.push({
      id: newId('msg'),
      type: 'message',
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'refusal', refusal: message['refusal'] }],
    })
  }
  for (const call of Array.isArray(message['tool_calls']) ? message['tool_calls'] : []) {
    if (!isObject(call) || !isObject(call['function'])) continue
    const fn = call['function']
    output.push(callItem(newId('fc'), str(call['id'], newId('call')), str(fn['name']), str(fn['arguments']), 'completed'))
  }
  const created = typeof body['created'] === 'number' ? body['created'] : Math.floor(Date.now() / 1000)
  return finished(responseShell(newId('resp'), created, echo), choice['finish_reason'], usageOf(body['usage']), output)
}

export interface ResponsesEvent {
  type: string
  [key: string]: unknown
}

/**
 * Turns the chunks of a chat stream into the Responses API's events, in the order the official clients
 * accumulate them: `response.created`, `response.in_progress`, then per output item `output_item.added`,
 * (`content_part.added`, `output_text.delta`…, `output_text.done`, `content_part.done`) or
 * (`function_call_arguments.delta`…, `function_call_arguments.done`), `output_item.done`, and at the end
 * `response.completed` (or `response.incomplete` when the token limit cut it).
 */
export class ChatToResponsesStream {
  private sequence = 0
  private readonly shell: Json
  private readonly output: Json[] = []
  private text: { index: number; id: string; text: string } | undefined
  private readonly calls = new Map<number, { index: number; id: string; callId: string; name: string; args: string }>()
  private finishReason: unknown = null
  private usage: Usage | null = null
  private ended = false

  constructor(echo: Echo) {
    this.shell = responseShell(newId('resp'), Math.floor(Date.now() / 1000), echo)
  }

  /** The first events, sent before the provider's first chunk. */
  start(): ResponsesEvent[] {
    return [this.event('response.created', { response: this.snapshot() }), this.event('response.in_progress', { response: this.snapshot() })]
  }

  /** The events one chat chunk (a parsed `data:` payload) means. */
  push(chunk: unknown): ResponsesEvent[] {
    if (!isObject(chunk)) return []
    const events: ResponsesEvent[] = []
    const usage = usageOf(chunk['usage'])
    if (usage) this.usage = usage
    const choice = Array.isArray(chunk['choices']) && isObject(chunk['choices'][0]) ? chunk['choices'][0] : undefined
    if (!choice) return events
    const delta = isObject(choice['delta']) ? choice['delta'] : {}
    const content = delta['content']
    if (typeof content === 'string' && content !== '') {
      if (!this.text) {
        this.text = { index: this.output.length, id: newId('msg'), text: '' }
        this.output.push(textItem(this.text.id, '', 'in_progress'))
        const { index, id } = this.text
        events.push(this.event('response.output_item.added', { output_index: index, item: textItem(id, '', 'in_progress') }))
        events.push(
          this.event('response.content_part.added', {
            item_id: id,
            output_index: index,
            content_index: 0,
            part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
          }),
        )
      }
      this.text.text += content
      events.push(
        this.event('response.output_text.delta', { item_id: this.text.id, output_index: this.text.index, content_index: 0, delta: content, logprobs: [] }),
      )
    }
    for (const call of Array.isArray(delta['tool_calls']) ? delta['tool_calls'] : []) {
      if (!isObject(call)) continue
      const position = typeof call['index'] === 'number' ? call['index'] : this.calls.size
      const fn = isObject(call['function']) ? call['function'] : {}
      let open = this.calls.get(position)
      if (!open) {
        open = { index: this.output.length, id: newId('fc'), callId: str(call['id'], newId('call')), name: str(fn['name']), args: '' }
        this.calls.set(position, open)
        this.output.push(callItem(open.id, open.callId, open.name, '', 'in_progress'))
        events.push(this.event('response.output_item.added', { output_index: open.index, item: callItem(open.id, open.callId, open.name, '', 'in_progress') }))
      }
      const args = typeof fn['arguments'] === 'string' ? fn['arguments'] : ''
      if (args !== '') {
        open.args += args
        events.push(this.event('response.function_call_arguments.delta', { item_id: open.id, output_index: open.index, delta: args }))
      }
    }
    if (choice['finish_reason'] !== null && choice['finish_reason'] !== undefined) this.finishReason = choice['finish_reason']
    return events
  }

  /** The closing events: every open item done, then `response.completed` (or `response.incomplete`). */
  end(): ResponsesEvent[] {
    if (this.ended) return []
    this.ended = true
    const events = this.closeItems()
    const response = finished(this.shell, this.finishReason, this.usage, this.output)
    events.push(this.event(response['status'] === 'incomplete' ? 'response.incomplete' : 'response.completed', { response }))
    return events
  }

  /** A fault: the open items closed as they are, then an `error` event (what the official clients throw). */
  fail(error: { code: string; message: string; request_id?: string }): ResponsesEvent[] {
    if (this.ended) return []
    this.ended = true
    return [
      ...this.closeItems('incomplete'),
      this.event('error', { code: error.code, message: error.message, param: null, ...(error.request_id && { request_id: error.request_id }) }),
    ]
  }

  private closeItems(status = 'completed'): ResponsesEvent[] {
    const events: ResponsesEvent[] = []
    if (this.text) {
      const { index, id, text } = this.text
      const part = { type: 'output_text', text, annotations: [], logprobs: [] }
      events.push(this.event('response.output_text.done', { item_id: id, output_index: index, content_index: 0, text, logprobs: [] }))
      events.push(this.event('response.content_part.done', { item_id: id, output_index: index, content_index: 0, part }))
      this.output[index] = textItem(id, text, status)
      events.push(this.event('response.output_item.done', { output_index: index, item: this.output[index] }))
    }
    for (const call of this.calls.values()) {
      events.push(this.event('response.function_call_arguments.done', { item_id: call.id, output_index: call.index, name: call.name, arguments: call.args }))
      this.output[call.index] = callItem(call.id, call.callId, call.name, call.args, status)
      events.push(this.event('response.output_item.done', { output_index: call.index, item: this.output[call.index] }))
    }
    return events
  }

  private snapshot(): Json {
    return { ...this.shell, output: [] }
  }

  private event(type: string, fields: Json): ResponsesEvent {
    return { type, sequence_number: this.sequence++, ...fields }
  }
}

/** One Responses API event as server-sent event text (`event:` line and `data:` line, as OpenAI sends them). */
export const sseEvent = (event: ResponsesEvent) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`
