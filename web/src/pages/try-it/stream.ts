/**
 * The *Try it* stream as the panel reads it (pure, tested in Node): server-sent events of
 * `POST /api/v1/models/model/try` parsed line by line, and folded into what the panel shows — the request
 * the provider received, the time to the first token, the answer so far, the end or the error.
 */

/** What the provider received (src/gateway/try-it.schema.ts, ProviderRequestReportSchema). */
export interface ProviderRequest {
  connection: string
  url: string | null
  path: string
  body: Record<string, unknown>
}

export type TryEvent =
  | { type: 'request'; model: string | null; draft: boolean; request: ProviderRequest }
  | { type: 'first_token'; ms: number }
  | { type: 'delta'; content: string }
  | { type: 'done'; ms: number; first_token_ms: number | null; finish_reason: string | null }
  | { type: 'error'; code: string; message: string }

/** Splits the stream's text into events; a line cut between two chunks waits for its end. */
export function createEventParser(): { push(text: string): TryEvent[] } {
  let pending = ''
  return {
    push(text) {
      pending += text
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      const events: TryEvent[] = []
      for (const line of lines) {
        const trimmed = line.trim()
        if (!trimmed.startsWith('data:')) continue
        try {
          const event = JSON.parse(trimmed.slice('data:'.length)) as TryEvent
          if (event && typeof event === 'object' && typeof event.type === 'string') events.push(event)
        } catch {
          // not an event of ours: skipped
        }
      }
      return events
    },
  }
}

export interface TryState {
  request: ProviderRequest | null
  draft: boolean
  firstTokenMs: number | null
  answer: string
  status: 'waiting' | 'streaming' | 'done' | 'error'
  totalMs: number | null
  error: string | null
}

export const initialTryState: TryState = { request: null, draft: false, firstTokenMs: null, answer: '', status: 'waiting', totalMs: null, error: null }

export function reduceTry(state: TryState, event: TryEvent): TryState {
  switch (event.type) {
    case 'request':
      return { ...state, request: event.request, draft: event.draft }
    case 'first_token':
      return { ...state, firstTokenMs: event.ms, status: 'streaming' }
    case 'delta':
      return { ...state, answer: state.answer + event.content, status: 'streaming' }
    case 'done':
      return { ...state, status: 'done', totalMs: event.ms, firstTokenMs: event.first_token_ms ?? state.firstTokenMs }
    case 'error':
      return { ...state, status: 'error', error: `${event.message} (${event.code})` }
  }
}

/** The system prompt and the parameters of a provider request, as the panel lists them (messages and model apart). */
export function describeRequest(request: ProviderRequest): { system: string | null; params: [string, string][] } {
  const messages = Array.isArray(request.body['messages']) ? (request.body['messages'] as { role?: unknown; content?: unknown }[]) : []
  const system = messages.find((message) => message.role === 'system')
  const params = Object.entries(request.body)
    .filter(([key]) => key !== 'messages' && key !== 'model' && key !== 'stream')
    .map(([key, value]): [string, string] => [key, typeof value === 'string' ? value : JSON.stringify(value)])
  return { system: typeof system?.content === 'string' ? system.content : null, params }
}

/** "340 ms" or "1.2 s". */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`
}
