/**
 * JSON text that is known to hold a value of type T: what the cached fast paths (list pages, single
 * models, runtime lists) keep and send as is. Made only by `toJsonText` from a value of T, so a route
 * can send it past the serializer (http/route-kit.ts sendJsonText) and still say what it holds.
 */
declare const holds: unique symbol

export type JsonText<T> = string & { readonly [holds]: T }

/** Serializes a value of T once, for sending as is. */
export const toJsonText = <T>(value: T): JsonText<T> => JSON.stringify(value) as JsonText<T>
