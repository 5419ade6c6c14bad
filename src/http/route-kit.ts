/**
 * What every `*.routes.ts` file needs from the HTTP layer: the typed app, the auth guards, and the
 * account of the current request. Routes import this module and nothing else from src/http.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, RawServerDefault, onRequestAsyncHookHandler } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { AppError } from '../errors/app-error.js'
import type { JsonText } from '../schema/json-text.js'
import type { UserRow } from '../users/users.repo.js'
import type { RequestOrigin } from '../access/actor.js'

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the guards; read it with accountOf(). */
    account?: UserRow
  }
}

/**
 * onRequest hooks that authenticate the request and check the role, before the body is even parsed (so
 * an anonymous caller learns nothing about schemas or limits). Every route names one, except the few
 * that are public on purpose (sign-up, sign-in, health, OpenAPI).
 */
export interface Guards {
  /** Any signed-in account, pending ones included (session user, API keys). */
  authenticated: onRequestAsyncHookHandler
  /** Role user or admin; pending accounts get 403. */
  verified: onRequestAsyncHookHandler
  /** Role admin. */
  admin: onRequestAsyncHookHandler
  /**
   * Like `verified`, but also accepts the session token from the `token` cookie, for GET routes that
   * browsers load directly (`<img src>`). Never for a route that changes anything (CSRF).
   */
  verifiedAllowCookie: onRequestAsyncHookHandler
}

/** The authenticated account of a request that passed a guard, with the request's origin (for the audit log). */
export function accountOf(request: FastifyRequest): UserRow & { origin: RequestOrigin } {
  if (!request.account) throw new AppError('UNAUTHORIZED')
  return { ...request.account, origin: originOf(request) }
}

/** Where a request came from, as audit entries record it (also for callers without an account: sign-in). */
export function originOf(request: FastifyRequest): RequestOrigin {
  return { ip: request.ip, requestId: request.id }
}

/**
 * Sends prebuilt JSON text (a cached answer) as is, past the serializer. The text must hold what the
 * route's 200 schema declares (`T`, the schema's output type); under test every answer is parsed and
 * checked against that schema (http/response-schemas.ts).
 */
export function sendJsonText<T, R extends RawReply<R>>(reply: R, text: JsonText<T>): R {
  return reply.type('application/json; charset=utf-8').send(text)
}

/**
 * A route's typed reply, seen as what sends a body past the schema's type (a method's parameter is
 * checked loosely, so every typed reply fits).
 */
interface RawReply<R> {
  type(contentType: string): R & RawReply<R>
  send(payload?: unknown): R
}

/**
 * Sends a stream (an export, server-sent events) as is. Its route declares the 200 schema of what it
 * streams; tests collect the stream and check it (test/streams.test.ts).
 */
export function sendStream<R extends RawReply<R>>(reply: R, stream: Readable, contentType: string): R {
  return reply.type(contentType).send(stream)
}

/** OpenAPI: routes behind a guard declare the bearer scheme. */
export const BEARER = [{ bearerAuth: [] }]

export { validationFormatter, type ValidationCodeFor } from './validation.js'
