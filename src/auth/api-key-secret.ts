import { hash, randomBytes } from 'node:crypto'

/** API keys start with `sk-`, as Open WebUI's do, so clients tell them from session tokens. */
export const API_KEY_PREFIX = 'sk-'

export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(24).toString('hex')
}

/**
 * Keys are random (192 bits), so sha256 suffices: no dictionary to defend against, and lookups stay indexed.
 * One-shot `hash` (Node ≥ 20.12): a Hash object per call cost ~10 µs of every API-key request.
 */
export function hashApiKey(key: string): string {
  return hash('sha256', key, 'hex')
}

export function apiKeyHint(key: string): string {
  return `${key.slice(0, 6)}…${key.slice(-4)}`
}
