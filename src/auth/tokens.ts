/** Session tokens: HS256 JWTs signed with WEBUI_SECRET_KEY, carrying the user id as Open WebUI's do. */
import { SignJWT, jwtVerify } from 'jose'

export interface SignedToken {
  token: string
  /** Epoch seconds, or null when tokens never expire (`JWT_EXPIRES_IN=-1`). */
  expires_at: number | null
}

export class TokenSigner {
  private readonly key: Uint8Array

  constructor(
    secret: string,
    private readonly expiresInMs: number | null,
  ) {
    this.key = new TextEncoder().encode(secret)
  }

  async sign(userId: string): Promise<SignedToken> {
    const now = Date.now()
    const expiresAt = this.expiresInMs === null ? null : Math.floor((now + this.expiresInMs) / 1000)
    let jwt = new SignJWT({ id: userId }).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setIssuedAt()
    if (expiresAt !== null) jwt = jwt.setExpirationTime(expiresAt)
    return { token: await jwt.sign(this.key), expires_at: expiresAt }
  }

  /** The user id of a valid token, or null for a token that is malformed, tampered with or expired. */
  async verify(token: string): Promise<string | null> {
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'] })
      const id = typeof payload.sub === 'string' ? payload.sub : payload['id']
      return typeof id === 'string' && id.length > 0 ? id : null
    } catch {
      return null
    }
  }
}
