/**
 * W3C trace context (https://www.w3.org/TR/trace-context/) on provider calls (docs/metrics.md, "Tracing").
 * With an OpenTelemetry SDK registered (`node --import …/register`), its propagator writes the headers from
 * the active span. Without one, the caller's `traceparent` (and `tracestate`) pass on to the provider; with
 * tracing on (OTEL_TRACING, OTEL_EXPORTER_OTLP_ENDPOINT) the provider call gets a span id of its own, in the
 * caller's trace or in a new one.
 */
import { randomBytes } from 'node:crypto'
import { context, propagation, trace } from '@opentelemetry/api'

/** The trace headers of an incoming request, checked (an invalid `traceparent` is dropped with its `tracestate`). */
export interface IncomingTrace {
  traceparent: string
  tracestate?: string
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/
const ZERO_TRACE = '0'.repeat(32)
const ZERO_SPAN = '0'.repeat(16)
/** tracestate: at most 32 list members of at most 256 characters, printable ASCII. */
const TRACESTATE = /^[\x20-\x7e]{1,8192}$/

export function incomingTrace(headers: Record<string, string | string[] | undefined>): IncomingTrace | undefined {
  const parent = headers['traceparent']
  if (typeof parent !== 'string') return undefined
  const match = TRACEPARENT.exec(parent.trim().toLowerCase())
  if (!match || match[1] === 'ff' || match[2] === ZERO_TRACE || match[3] === ZERO_SPAN) return undefined
  const state = headers['tracestate']
  const tracestate = typeof state === 'string' && TRACESTATE.test(state) ? state : undefined
  return { traceparent: `00-${match[2]}-${match[3]}-${match[4]}`, ...(tracestate && { tracestate }) }
}

/** The trace headers for a provider call, or undefined when there is nothing to send. */
export function upstreamTraceHeaders(incoming: IncomingTrace | undefined, tracing: boolean): Record<string, string> | undefined {
  // A registered SDK has a propagator with fields; the API's no-op one has none.
  if (propagation.fields().length > 0) {
    const active = context.active()
    const from = trace.getSpan(active) ? active : propagation.extract(active, incoming ?? {})
    const carrier: Record<string, string> = {}
    propagation.inject(from, carrier)
    if (carrier['traceparent']) return carrier
  }
  if (!tracing) return incoming && { ...incoming }
  if (!incoming) return { traceparent: `00-${randomId(16)}-${randomId(8)}-01` }
  const [, traceId, , flags] = incoming.traceparent.split('-')
  // The parent's sampling decision (flags) is kept, as the specification asks.
  return { ...incoming, traceparent: `00-${traceId}-${randomId(8)}-${flags}` }
}

function randomId(bytes: number): string {
  const id = randomBytes(bytes).toString('hex')
  return /^0+$/.test(id) ? randomId(bytes) : id
}
