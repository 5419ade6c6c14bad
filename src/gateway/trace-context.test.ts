import { propagation, trace, type TextMapPropagator } from '@opentelemetry/api'
import { afterEach, describe, expect, it } from 'vitest'
import { incomingTrace, upstreamTraceHeaders } from './trace-context.js'

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`

describe('incomingTrace', () => {
  it('takes a valid traceparent (any case) with its tracestate', () => {
    expect(incomingTrace({ traceparent: PARENT.toUpperCase(), tracestate: 'a=1,b=2' })).toEqual({ traceparent: PARENT, tracestate: 'a=1,b=2' })
    expect(incomingTrace({ traceparent: PARENT })).toEqual({ traceparent: PARENT })
  })

  it('drops malformed ones, version ff, all-zero ids, and a tracestate without a traceparent or with control characters', () => {
    for (const bad of [
      '',
      'garbage',
      `ff-${TRACE_ID}-00f067aa0ba902b7-01`,
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
      `00-${TRACE_ID}-${'0'.repeat(16)}-01`,
      `${PARENT}-x`,
    ]) {
      expect(incomingTrace({ traceparent: bad, tracestate: 'a=1' }), bad).toBeUndefined()
    }
    expect(incomingTrace({ tracestate: 'a=1' })).toBeUndefined()
    expect(incomingTrace({ traceparent: [PARENT, PARENT] })).toBeUndefined()
    expect(incomingTrace({ traceparent: PARENT, tracestate: 'a=1\u0000' })).toEqual({ traceparent: PARENT })
  })
})

describe('upstreamTraceHeaders without an OpenTelemetry SDK', () => {
  it('tracing off: the caller’s context as it came, nothing without one', () => {
    expect(upstreamTraceHeaders({ traceparent: PARENT, tracestate: 'a=1' }, false)).toEqual({ traceparent: PARENT, tracestate: 'a=1' })
    expect(upstreamTraceHeaders(undefined, false)).toBeUndefined()
  })

  it('tracing on: a new span id in the caller’s trace with its flags, or a new sampled trace', () => {
    const child = upstreamTraceHeaders({ traceparent: PARENT.replace(/01$/, '00') }, true)?.['traceparent']
    expect(child).toMatch(new RegExp(`^00-${TRACE_ID}-(?!00f067aa0ba902b7)[0-9a-f]{16}-00$`))
    const fresh = upstreamTraceHeaders(undefined, true)?.['traceparent']
    expect(fresh).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
    expect(upstreamTraceHeaders(undefined, true)?.['traceparent']).not.toBe(fresh)
  })
})

describe('upstreamTraceHeaders with a registered propagator (an SDK preloaded)', () => {
  afterEach(() => propagation.disable())

  it('the propagator writes the headers from the context it extracted', () => {
    const seen: string[] = []
    const propagator: TextMapPropagator = {
      fields: () => ['traceparent'],
      extract(context, carrier, getter) {
        const parent = getter.get(carrier, 'traceparent')
        if (typeof parent !== 'string') return context
        const [, traceId = '', spanId = ''] = parent.split('-')
        return trace.setSpanContext(context, { traceId, spanId, traceFlags: 1, isRemote: true })
      },
      inject(context, carrier, setter) {
        const span = trace.getSpanContext(context)
        seen.push(span?.spanId ?? 'none')
        if (span) setter.set(carrier, 'traceparent', `00-${span.traceId}-${'ab'.repeat(8)}-01`)
      },
    }
    propagation.setGlobalPropagator(propagator)
    expect(upstreamTraceHeaders({ traceparent: PARENT }, false)).toEqual({ traceparent: `00-${TRACE_ID}-${'ab'.repeat(8)}-01` })
    expect(seen).toEqual(['00f067aa0ba902b7'])
    // Nothing to propagate: the plain rules again (nothing without tracing).
    expect(upstreamTraceHeaders(undefined, false)).toBeUndefined()
  })
})
