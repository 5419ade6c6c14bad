/**
 * JSON that is known to hold a value of type T: what the cached fast paths (list pages, single models,
 * runtime lists) keep and send as is. Made only by `toJsonText` from a value of T, so a route can send it
 * past the serializer (http/route-kit.ts sendJsonText) and still say what it holds.
 *
 * It is kept as UTF-8 bytes, not a string: a cached answer is sent many times, and a string would be
 * encoded into a fresh buffer on every send (measured: that garbage was most of a cached page's cost).
 */
declare const holds: unique symbol

export type JsonText<T> = Buffer & { readonly [holds]: T }

/** Serializes a value of T once, for sending as is. */
export const toJsonText = <T>(value: T): JsonText<T> => Buffer.from(JSON.stringify(value)) as JsonText<T>
