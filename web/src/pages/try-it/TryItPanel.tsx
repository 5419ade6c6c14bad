/**
 * *Try it* (issue #16 item 2): a short conversation with the model through the gateway, on the model's
 * page and in the editor. Each turn streams; under the answer the panel shows the time to the first token
 * and the exact request the provider received (system prompt, merged parameters). In the editor it can
 * send the unsaved edits instead of the saved preset, and says so.
 */
import { useEffect, useId, useRef, useState, type FormEvent } from 'react'
import { describeError, startTry, type TryBody } from '../../api/client'
import { createEventParser, describeRequest, formatMs, initialTryState, reduceTry, type TryState } from './stream'

type Draft = NonNullable<TryBody['draft']>

interface Turn {
  question: string
  state: TryState
}

interface TryItPanelProps {
  /** The saved model (absent while creating one). */
  modelId?: string
  /** The editor's unsaved fields, when there are any; null: nothing unsaved (or a reader). */
  draft?: () => Draft | null
  /** Whether the editor holds unsaved edits (offers "Use my unsaved changes"). */
  dirty?: boolean
}

export function TryItPanel({ modelId, draft, dirty = false }: TryItPanelProps) {
  const id = useId()
  const [turns, setTurns] = useState<Turn[]>([])
  const [question, setQuestion] = useState('')
  const [useDraft, setUseDraft] = useState(true)
  const [running, setRunning] = useState(false)
  const controller = useRef<AbortController | null>(null)
  useEffect(() => () => controller.current?.abort(), [])

  // A model not created yet can only be tried as a draft.
  const sendsDraft = draft !== undefined && (modelId === undefined || (dirty && useDraft))

  const update = (index: number, change: (state: TryState) => TryState) =>
    setTurns((list) => list.map((turn, i) => (i === index ? { ...turn, state: change(turn.state) } : turn)))

  const send = async (event: FormEvent) => {
    event.preventDefault()
    const text = question.trim()
    if (!text || running) return
    const history = turns.flatMap((turn) => [
      { role: 'user' as const, content: turn.question },
      ...(turn.state.answer ? [{ role: 'assistant' as const, content: turn.state.answer }] : []),
    ])
    const index = turns.length
    setTurns((list) => [...list, { question: text, state: initialTryState }])
    setQuestion('')
    setRunning(true)
    const abort = new AbortController()
    controller.current = abort
    const body: TryBody = { messages: [...history, { role: 'user', content: text }] }
    if (modelId !== undefined) body.id = modelId
    if (sendsDraft) {
      const fields = draft?.()
      if (fields) body.draft = fields
    }
    try {
      const stream = await startTry(body, abort.signal)
      const reader = stream.getReader()
      const decoder = new TextDecoder()
      const parser = createEventParser()
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        const events = parser.push(decoder.decode(value, { stream: true }))
        if (events.length > 0) update(index, (state) => events.reduce(reduceTry, state))
      }
    } catch (error) {
      if (!abort.signal.aborted) update(index, (state) => ({ ...state, status: 'error', error: describeError(error).detail }))
    } finally {
      update(index, (state) =>
        state.status === 'waiting' || state.status === 'streaming'
          ? { ...state, status: abort.signal.aborted ? 'error' : 'done', error: abort.signal.aborted ? 'Stopped.' : state.error }
          : state,
      )
      setRunning(false)
    }
  }

  return (
    <section className="try-it" aria-labelledby={`${id}-title`} data-testid="try-it">
      <div className="try-it-head">
        <h2 id={`${id}-title`}>Try it</h2>
        {sendsDraft ? (
          <span className="badge badge-warning" data-testid="try-draft-badge">
            Unsaved changes
          </span>
        ) : (
          <span className="badge">Saved version</span>
        )}
      </div>
      <p className="hint">
        {sendsDraft
          ? 'Answers come from the model with the edits in this form, not saved yet.'
          : 'Answers come through the gateway with this preset, exactly as a chat client would get them.'}
      </p>
      {draft !== undefined && modelId !== undefined && dirty ? (
        <label className="checkbox">
          <input type="checkbox" checked={useDraft} onChange={(event) => setUseDraft(event.target.checked)} /> Use my unsaved changes
        </label>
      ) : null}

      {turns.length > 0 ? (
        <ol className="try-turns">
          {turns.map((turn, index) => (
            <TurnView key={index} turn={turn} />
          ))}
        </ol>
      ) : null}

      <form className="try-form" onSubmit={(event) => void send(event)}>
        <label htmlFor={`${id}-question`} className="visually-hidden">
          Message
        </label>
        <textarea
          id={`${id}-question`}
          rows={2}
          value={question}
          placeholder="Ask something…"
          onChange={(event) => setQuestion(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === 'Enter' && !event.shiftKey) {
              event.preventDefault()
              event.currentTarget.form?.requestSubmit()
            }
          }}
        />
        <div className="row">
          {running ? (
            <button type="button" className="button" onClick={() => controller.current?.abort()}>
              Stop
            </button>
          ) : (
            <button type="submit" className="button button-primary" disabled={!question.trim()}>
              Send
            </button>
          )}
          {turns.length > 0 && !running ? (
            <button type="button" className="button button-small" onClick={() => setTurns([])}>
              Clear
            </button>
          ) : null}
        </div>
      </form>
    </section>
  )
}

function TurnView({ turn }: { turn: Turn }) {
  const { state } = turn
  const described = state.request ? describeRequest(state.request) : null
  return (
    <li className="try-turn">
      <p className="try-question">
        <span className="visually-hidden">You: </span>
        {turn.question}
      </p>
      <div className="try-answer" aria-live="polite" aria-busy={state.status === 'waiting' || state.status === 'streaming'} data-testid="try-answer">
        {state.answer || (state.status === 'waiting' ? <span className="muted">Waiting for the first token…</span> : null)}
      </div>
      {state.error ? (
        <p className="field-error" role="alert">
          {state.error}
        </p>
      ) : null}
      <p className="hint try-timing" data-testid="try-timing">
        {state.firstTokenMs !== null ? `First token after ${formatMs(state.firstTokenMs)}` : null}
        {state.totalMs !== null ? ` · answer complete after ${formatMs(state.totalMs)}` : null}
        {state.draft ? ' · unsaved changes' : null}
      </p>
      {state.request && described ? (
        <details className="try-request">
          <summary>Request the provider received</summary>
          <dl className="model-facts">
            <div>
              <dt>Connection</dt>
              <dd>
                {state.request.connection} <code>{state.request.url ?? state.request.path}</code>
              </dd>
            </div>
            <div>
              <dt>Model</dt>
              <dd>
                <code>{typeof state.request.body['model'] === 'string' ? state.request.body['model'] : ''}</code>
              </dd>
            </div>
            <div>
              <dt>System prompt</dt>
              <dd>{described.system ?? <span className="muted">none</span>}</dd>
            </div>
            <div>
              <dt>Parameters</dt>
              <dd>
                {described.params.length > 0 ? (
                  <ul className="plain-list">
                    {described.params.map(([key, value]) => (
                      <li key={key}>
                        <code>
                          {key}: {value}
                        </code>
                      </li>
                    ))}
                  </ul>
                ) : (
                  <span className="muted">none (the provider’s defaults)</span>
                )}
              </dd>
            </div>
          </dl>
          <pre className="try-json" data-testid="try-request-json">
            {JSON.stringify(state.request.body, null, 2)}
          </pre>
        </details>
      ) : null}
    </li>
  )
}
