/**
 * The values tests build, one copy for every test file: unique tokens and e-mails, presets, grants,
 * a tiny PNG. Nothing here talks to a server (requests.ts, accounts.ts and models.ts do).
 */
import type { Invalidations } from '../../src/cache/topic-cache.js'

let seq = 0
/** A unique, collation-neutral token (lower-case letters and digits only). */
export const token = () => `${(++seq).toString(36)}${Math.random().toString(36).slice(2, 8)}`.replace(/[^a-z0-9]/g, '')

let emailSeq = 0
/** A unique e-mail address starting with `tag`. */
export const uniqueEmail = (tag: string) => `${tag}-${++emailSeq}-${Math.random().toString(36).slice(2, 8)}@example.com`

/** A minimal preset on `base-llm` (which the tests' admin shares), with `extra` fields over it. */
export const preset = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  base_model_id: 'base-llm',
  name: `Model ${id}`,
  meta: {},
  params: {},
  ...extra,
})

export interface GrantLike {
  principal_type: string
  principal_id: string
  permission: string
}
/** A grant to one user (`*`: everybody). */
export const userGrant = (userId: string, permission: 'read' | 'write' = 'read') => ({ principal_type: 'user', principal_id: userId, permission })
/** `type:id:permission` of each grant, sorted: equal lists mean equal grant sets. */
export const grantKeys = (model: { access_grants: readonly GrantLike[] }) =>
  model.access_grants.map((g) => `${g.principal_type}:${g.principal_id}:${g.permission}`).sort()

export const sorted = (values: readonly string[]) => [...values].sort()
export const ids = (items: readonly { id: string }[]) => items.map((m) => m.id)
export const sortedIds = (items: readonly { id: string }[]) => sorted(ids(items))

export const nowSeconds = () => Math.floor(Date.now() / 1000)

export const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='
/** A 1×1 PNG as a data URI (a model's inline profile image). */
export const PNG_URI = `data:image/png;base64,${PNG_BASE64}`

/** Invalidations a test drives by hand (`bump`), as the write watch and the bus drive a TopicCache. */
export function manualInvalidations(trusted = true): Invalidations & { bump(topic: string): void } {
  const listeners = new Set<(topic: string) => void>()
  const generations = new Map<string, number>()
  return {
    trusted,
    generation: (topic) => generations.get(topic) ?? 0,
    listen: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    bump(topic) {
      generations.set(topic, (generations.get(topic) ?? 0) + 1)
      for (const listener of listeners) listener(topic)
    },
  }
}
