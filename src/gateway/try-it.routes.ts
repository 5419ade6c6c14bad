/** `POST /api/v1/models/model/try`: the *Try it* panel's conversation (issue #16 item 2; docs/web.md, "Try it"). */
import { Readable } from 'node:stream'
import { accountOf, BEARER, type App, type Guards } from '../http/route-kit.js'
import type { TryItService } from './try-it.js'
import { TryBodySchema, TryStreamSchema, type TryEvent } from './try-it.schema.js'

export function registerTryItRoutes(app: App, deps: { tryIt: TryItService; guards: Guards }): void {
  const { tryIt, guards } = deps

  app.post('/api/v1/models/model/try', {
    onRequest: guards.verified,
    schema: {
      tags: ['models'],
      security: BEARER,
      summary:
        'Try a model: one turn streamed through the gateway with the preset applied as chat applies it (or with the editor’s unsaved draft: writers only), ' +
        'reporting the request the provider received (secrets redacted) and the time to the first token. Reading the model is enough to try it as saved.',
      body: TryBodySchema,
      response: {
        200: {
          description: 'Server-sent events (request, first_token, delta, done or error).',
          content: { 'text/event-stream': { schema: TryStreamSchema } },
        },
      },
    },
    handler: async (request, reply) => {
      const callerGone = new AbortController()
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) callerGone.abort(new Error('caller disconnected'))
      })
      const events = await tryIt.start(accountOf(request), request.body, callerGone.signal)
      void reply.status(200).headers({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' })
      // The declared answer is the stream's text (TryStreamSchema); it is sent as it is produced.
      return reply.send(Readable.from(sse(events), { objectMode: false }) as unknown as string)
    },
  })
}

async function* sse(events: AsyncIterable<TryEvent>): AsyncGenerator<Buffer> {
  for await (const event of events) yield Buffer.from(`data: ${JSON.stringify(event)}\n\n`)
}
