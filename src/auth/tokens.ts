/**
 * Session tokens: HS256 JWTs signed with WEBUI_SECRET_KEY, carrying the user id as Open WebUI's do, and
 * the account's `token_version` (claim `ver`): the account row, loaded on every request anyway, says
 * which version is current, so bumping it revokes every older token without a query of its own.
 * fast-jwt verifies synchronously (no WebCrypto round trip per request); verified tokens are remembered
 * here, by the token itself, which matters because every request verifies one (fast-jwt's own cache
 * hashes the token with SHA-256 on every lookup: ~15–20 µs of a gateway request's ~300, docs/performance.md).
 */
import { randomUUID } from 'node:crypto'
import { createSigner, createVerifier } from 'fast-jwt'

export interface SignedToken {
  token: string
  /** Epoch seconds, or null when tokens never expire (`JWT_EXPIRES_IN=-1`). */
  expires_at: number | null
}

/** What a valid token says. */
export interface TokenClaims {
  userId: string
  /** The account's token_version when the token was issued (0 for tokens without the claim). */
  version: number
  /** Claim `exp` (epoch seconds), or null when the token never expires. */
  expiresAt: number | null
}

/** Verified tokens remembered at most (~0.5 kB each); the oldest goes first. */
export const MAX_REMEMBERED = 10_000

export class TokenSigner {
  private readonly signer: (payload: Record<string, unknown>) => string
  private readonly verifier: (token: string) => Record<string, unknown>
  /**
   * Tokens that verified, by the token's text, with their claims. Only a token whose signature checked is
   * ever stored (a tampered one differs in its text), and a hit is still refused once its `exp` passes.
   */
  private readonly verified = new Map<string, TokenClaims>()

  /** `expiresInMs`: the lifetime of tokens when `sign` is not told one (JWT_EXPIRES_IN; null: never). */
  constructor(
    secret: string,
    private readonly expiresInMs: number | null,
  ) {
    // `exp` is set by sign() itself: the lifetime is an admin setting that can change at run time.
    this.signer = createSigner({ key: secret, algorithm: 'HS256' })
    this.verifier = createVerifier({ key: secret, algorithms: ['HS256'] })
  }

  sign(userId: string, version = 0, expiresInMs: number | null = this.expiresInMs): Promise<SignedToken> {
    const now = Date.now()
    const expiresAt = expiresInMs === null ? null : Math.floor((now + expiresInMs) / 1000)
    // `jti` makes every session's token its own, even two signed in the same second (a password change keeps one).
    const claims = { id: userId, sub: userId, ver: version, jti: randomUUID(), iat: Math.floor(now / 1000) }
    const token = this.signer({ ...claims, ...(expiresAt !== null && { exp: expiresAt }) })
    return Promise.resolve({ token, expires_at: expiresAt })
  }

  /** How many verified tokens are remembered (bounded by MAX_REMEMBERED). */
  get rememberedCount(): number {
    return this.verified.size
  }

  /** The claims of a valid token, or null for a token that is malformed, tampered with or expired. */
  verify(token: string): Promise<TokenClaims | null> {
    const known = this.verified.get(token)
    // fast-jwt's rule for `exp`: valid up to and including that second (now ≤ exp × 1000).
    if (known && (known.expiresAt === null || Date.now() <= known.expiresAt * 1000)) return Promise.resolve(known)
    if (known) this.verified.delete(token)
    let claims: TokenClaims | null
    try {
      const payload = this.verifier(token)
      const id = typeof payload['sub'] === 'string' ? payload['sub'] : payload['id']
      const version = payload['ver'] ?? 0
      const exp = payload['exp']
      claims =
        typeof id !== 'string' || id.length === 0 || !Number.isSafeInteger(version)
          ? null
          : { userId: id, version: version as number, expiresAt: typeof exp === 'number' ? exp : null }
    } catch {
      claims = null
    }
    if (claims) {
      this.verified.set(token, claims)
      if (this.verified.size > MAX_REMEMBERED) this.verified.delete(this.verified.keys().next().value ?? '')
    }
    return Promise.resolve(claims)
  }
}
