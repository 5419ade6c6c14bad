/**
 * Who is asking, for the audit log: the client address and the request id of the HTTP request being
 * served, carried through async calls (AsyncLocalStorage) so that services record them without every
 * signature passing them along. Set by an onRequest hook in src/http/app.ts; empty outside a request
 * (start-up, background work), where entries carry null.
 */
import { AsyncLocalStorage } from 'node:async_hooks'

export interface RequestContext {
  ip: string | null
  requestId: string | null
}

const storage = new AsyncLocalStorage<RequestContext>()

/** Runs the rest of a request's handling with its context (enterWith: Fastify's hooks continue the chain). */
export function enterRequestContext(context: RequestContext): void {
  storage.enterWith(context)
}

export function currentRequestContext(): RequestContext {
  return storage.getStore() ?? { ip: null, requestId: null }
}
