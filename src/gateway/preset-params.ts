/**
 * How a preset shapes a chat request (design.md §2.5): its params are defaults the request may
 * override, except the keys it locks; `custom_params` are merged into the body; its system prompt goes
 * before the conversation's own; keys that only mean something to modelgate or Open WebUI are removed.
 */

/** Params that are instructions to modelgate, never sent to a provider as they are. */
const PRESET_ONLY_KEYS = new Set(['system', 'locked', 'custom_params'])

/**
 * Open WebUI's own params and request fields, which providers do not understand: the params its
 * `remove_open_webui_params` drops, and what its chat pipeline (main.py `chat_completion`,
 * utils/middleware.py) pops from the body before the provider sees it (docs/gateway.md).
 */
export const CLIENT_ONLY_KEYS: ReadonlySet<string> = new Set([
  // params
  'stream_response',
  'stream_delta_chunk_size',
  'function_calling',
  'reasoning_tags',
  'params',
  // the chat pipeline's request fields
  'id',
  'chat_id',
  'session_id',
  'message_id',
  'message_ids',
  'parent_id',
  'parent_message',
  'user_message',
  'folder_id',
  'features',
  'variables',
  'model_item',
  'background_tasks',
  'tool_ids',
  'tool_servers',
  'skill_ids',
  'terminal_id',
  'filter_ids',
  'files',
])

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

/** Merges params along a base chain: the innermost preset first, each outer one overriding it. */
export function effectiveParams(chainOutermostFirst: readonly Json[]): { params: Json; locked: Set<string> } {
  const params: Json = {}
  const locked = new Set<string>()
  for (const layer of [...chainOutermostFirst].reverse()) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === null || value === undefined) continue
      params[key] = key === 'custom_params' && isObject(params[key]) && isObject(value) ? deepMerge(params[key], value) : value
    }
    const layerLocked = layer['locked']
    if (Array.isArray(layerLocked)) for (const key of layerLocked) if (typeof key === 'string') locked.add(key)
  }
  return { params, locked }
}

/** The body to send upstream: the request with the preset applied and client-only keys removed. */
export function applyPreset(request: Json, preset: { params: Json; locked: Set<string> }, upstreamModel: string): Json {
  const body: Json = {}
  // Open WebUI clients may put per-chat params in `params`; they count as the request's own values.
  const requestParams = isObject(request['params']) ? request['params'] : {}
  for (const [key, value] of Object.entries({ ...requestParams, ...request })) {
    if (!CLIENT_ONLY_KEYS.has(key) && !PRESET_ONLY_KEYS.has(key)) body[key] = value
  }
  for (const [key, value] of Object.entries(preset.params)) {
    if (PRESET_ONLY_KEYS.has(key) || CLIENT_ONLY_KEYS.has(key)) continue
    if (preset.locked.has(key) || body[key] === undefined || body[key] === null) body[key] = value
  }
  const custom = preset.params['custom_params']
  if (isObject(custom)) Object.assign(body, deepMerge(body, parseStrings(custom)))
  const system = preset.params['system']
  if (typeof system === 'string' && system.trim() !== '' && Array.isArray(body['messages'])) {
    body['messages'] = withSystemPrompt(body['messages'] as unknown[], system)
  }
  // "No limit" (Open WebUI's editor: -1, or Ollama's -2 "until the context is full") is no limit sent:
  // OpenAI-compatible providers refuse a max_tokens below 1, and a num_ctx below 1 means the model's own.
  for (const key of NO_LIMIT_KEYS) if (typeof body[key] === 'number' && body[key] < 1) delete body[key]
  body['model'] = upstreamModel
  return body
}

/** Limits whose values below 1 mean "no limit" (docs/models.md, "Parameter ranges"). */
const NO_LIMIT_KEYS = ['max_tokens', 'num_ctx'] as const

/**
 * The preset's system prompt before the conversation's own system message (wherever it stands), or as a
 * new first message when there is none.
 */
export function withSystemPrompt(messages: readonly unknown[], system: string): unknown[] {
  const index = messages.findIndex((m) => isObject(m) && m['role'] === 'system')
  const found = messages[index]
  if (index < 0 || !isObject(found)) return [{ role: 'system', content: system }, ...messages]
  const content = found['content']
  const merged =
    typeof content === 'string' ? `${system}\n\n${content}` : Array.isArray(content) ? [{ type: 'text', text: system }, ...(content as unknown[])] : system
  return messages.map((m, i) => (i === index ? { ...found, content: merged } : m))
}

/** Open WebUI lets custom param values be JSON text ("{\"a\":1}"); parse those that are. */
function parseStrings(custom: Json): Json {
  const out: Json = {}
  for (const [key, value] of Object.entries(custom)) {
    if (typeof value === 'string') {
      try {
        out[key] = JSON.parse(value) as unknown
        continue
      } catch {
        // not JSON: keep the string
      }
    }
    out[key] = value
  }
  return out
}

function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base }
  for (const [key, value] of Object.entries(over)) {
    const current = out[key]
    out[key] = isObject(current) && isObject(value) ? deepMerge(current, value) : value
  }
  return out
}

/**
 * Chat params a preset may hold, by their Responses API names: what a Responses request passed through
 * to a provider that speaks it gets from the preset. Chat-only params (stop, seed, penalties, …) have no
 * Responses equivalent and are not sent (the Responses API refuses unknown fields); `custom_params` are
 * merged as for chat, since they are the preset's explicit words to the provider.
 */
const RESPONSES_NAMES: Readonly<Record<string, string>> = { temperature: 'temperature', top_p: 'top_p', max_tokens: 'max_output_tokens' }

/**
 * The body of a Responses request passed through: the preset's params as defaults (locked ones win), its
 * `custom_params` merged deep, its system prompt before the request's `instructions`, `model` the
 * provider's id.
 */
export function applyPresetToResponses(request: Json, preset: { params: Json; locked: Set<string> }, upstreamModel: string): Json {
  const body: Json = {}
  for (const [key, value] of Object.entries(request)) if (!CLIENT_ONLY_KEYS.has(key) && !PRESET_ONLY_KEYS.has(key)) body[key] = value
  for (const [key, value] of Object.entries(preset.params)) {
    const name = RESPONSES_NAMES[key]
    if (name !== undefined) {
      if (preset.locked.has(key) || body[name] === undefined || body[name] === null) body[name] = value
    } else if (key === 'reasoning_effort' && typeof value === 'string') {
      const reasoning = isObject(body['reasoning']) ? body['reasoning'] : {}
      if (preset.locked.has(key) || reasoning['effort'] === undefined || reasoning['effort'] === null) body['reasoning'] = { ...reasoning, effort: value }
    }
  }
  const custom = preset.params['custom_params']
  if (isObject(custom)) Object.assign(body, deepMerge(body, parseStrings(custom)))
  const system = preset.params['system']
  if (typeof system === 'string' && system.trim() !== '') {
    const own = body['instructions']
    body['instructions'] = typeof own === 'string' && own.trim() !== '' ? `${system}\n\n${own}` : system
  }
  // "No limit" (max_tokens -1 or -2) is no limit sent, as for chat.
  if (typeof body['max_output_tokens'] === 'number' && body['max_output_tokens'] < 1) delete body['max_output_tokens']
  body['model'] = upstreamModel
  return body
}
