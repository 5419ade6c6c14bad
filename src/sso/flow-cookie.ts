/**
 * The secrets of one sign-in attempt (state, nonce, PKCE verifier, redirect URI) between the redirect to
 * the provider and its callback: an HS256 JWT in an HttpOnly cookie scoped to `/oauth/oidc`, signed with a
 * key derived from WEBUI_SECRET_KEY (never the session-token key itself), valid for ten minutes. Stateless,
 * so any instance can finish an attempt another one started; the callback clears it, so a replayed
 * callback finds no secrets and is refused.
 */
import { createHmac } from 'node:crypto'
import { createSigner, createVerifier } from 'fast-jwt'
import type { FlowSecrets } from './oidc-client.js'

export const FLOW_COOKIE = 'oidc_flow'
export const FLOW_COOKIE_PATH = '/oauth/oidc'
export const FLOW_LIFETIME_S = 600

export class FlowCookie {
  private readonly signer: (payload: Record<string, unknown>) => string
  private readonly verifier: (token: string) => Record<string, unknown>

  constructor(secretKey: string) {
    const key = createHmac('sha256', secretKey).update('modelgate:oidc-flow').digest('hex')
    this.signer = createSigner({ key, algorithm: 'HS256', expiresIn: FLOW_LIFETIME_S * 1000 })
    this.verifier = createVerifier({ key, algorithms: ['HS256'] })
  }

  seal(secrets: FlowSecrets): string {
    return this.signer({ st: secrets.state, no: secrets.nonce, cv: secrets.codeVerifier, ru: secrets.redirectUri })
  }

  /** The secrets of a valid, unexpired cookie value; null otherwise. */
  open(value: string | undefined): FlowSecrets | null {
    if (!value) return null
    try {
      const p = this.verifier(value)
      const { st, no, cv, ru } = p
      if (typeof st !== 'string' || typeof no !== 'string' || typeof cv !== 'string' || typeof ru !== 'string') return null
      return { state: st, nonce: no, codeVerifier: cv, redirectUri: ru }
    } catch {
      return null
    }
  }
}

/** The value of cookie `name` in a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const [key, ...value] = part.trim().split('=')
    if (key === name && value.length > 0) {
      try {
        return decodeURIComponent(value.join('='))
      } catch {
        return undefined
      }
    }
  }
  return undefined
}
