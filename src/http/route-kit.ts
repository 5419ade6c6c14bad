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
    /** Set by `authenticatedAllowCookie`: what authenticated the request. */
    credential?: RequestCredential
  }
}

/** What authenticated a request: a session token (from the header or the `token` cookie) or an API key. */
export interface RequestCredential {
  kind: 'jwt' | 'api_key'
  /** When the credential expires (epoch seconds); null for an API key or a token that never does. */
  expiresAt: number | null
  /** The session token itself (kind `jwt`). */
  token?: string
  /** Only the `token` cookie carried it (no Authorization header). */
  fromCookie: boolean
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
  /**
   * Like `authenticated` (pending accounts too), also accepting the `token` cookie: the session check
   * `GET /auths/` only, as Open WebUI's client calls it with `credentials: 'include'`. Sets `credential`.
   */
  authenticatedAllowCookie: onRequestAsyncHookHandler
  /** The SCIM client (SCIM_TOKEN), not an account: for /api/v1/scim/v2 only (access/scim-access.ts). */
  scim: onRequestAsyncHookHandler
  /** A scraper with METRICS_TOKEN, or an admin: GET /metrics only (access/metrics-access.ts). */
  metrics: onRequestAsyncHookHandler
}

/** The authenticated account of a request that passed a guard, with the request's origin (for the audit log). */
export function accountOf(request: FastifyRequest): UserRow & { origin: RequestOrigin } {
  if (!request.account) throw new AppError('UNAUTHORIZED')
  return { ...request.account, origin: originOf(request) }
}

/**
 * The authenticated account of a request that passed a guard, as is: for routes that record nothing in
 * the audit log (the gateway's calls), which then skip copying the account per request.
 */
export function callerOf(request: FastifyRequest): UserRow {
  if (!request.account) throw new AppError('UNAUTHORIZED')
  return request.account
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

/**
 * The session token of the `token` cookie (Open WebUI's browser client carries it), or undefined. An API
 * key is never taken from a cookie: the cookie only ever holds a session token this server set.
 */
export function tokenCookie(header: string | undefined): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const [name, ...value] = part.trim().split('=')
    if (name === 'token' && value.length > 0) {
      // Cookies are percent-encoded; a malformed one (`token=%`) is no token, not a server error.
      try {
        const token = decodeURIComponent(value.join('='))
        return token === '' || token.startsWith('sk-') ? undefined : token
      } catch {
        return undefined
      }
    }
  }
  return undefined
}

/**
 * Sets the `token` cookie to a session token (sign-in, sign-up, a password change, the session check), so
 * `<img>` tags reach the routes that accept it: HttpOnly, SameSite=Lax, Path=/, Secure when the request came
 * over HTTPS (TLS, or X-Forwarded-Proto from a proxy TRUST_PROXY trusts); it ends when the token does.
 */
export function setSessionCookie(
  reply: { header(name: string, value: string): unknown },
  request: FastifyRequest,
  token: string,
  expiresAt: number | null,
): void {
  const parts = [`token=${encodeURIComponent(token)}`, 'Path=/', 'HttpOnly', 'SameSite=Lax']
  if (expiresAt !== null) parts.push(`Max-Age=${Math.max(0, expiresAt - Math.floor(Date.now() / 1000))}`, `Expires=${new Date(expiresAt * 1000).toUTCString()}`)
  if (request.protocol === 'https') parts.push('Secure')
  reply.header('set-cookie', parts.join('; '))
}

/** Clears the `token` cookie (sign-out). */
export function clearSessionCookie(reply: { header(name: string, value: string): unknown }, request: FastifyRequest): void {
  reply.header(
    'set-cookie',
    `token=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT${request.protocol === 'https' ? '; Secure' : ''}`,
  )
}

/** OpenAPI: routes behind a guard declare the bearer scheme. */
export const BEARER = [{ bearerAuth: [] }]

export { validationFormatter, type ValidationCodeFor } from './validation.js'
