/**
 * Provider API keys must be sent to providers, so they cannot be hashed: they are encrypted at rest
 * with AES-256-GCM under a key derived from WEBUI_SECRET_KEY, and never returned by the API.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

export class KeyBox {
  private readonly key: Buffer

  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'modelgate', 'connection-api-keys', 32))
  }

  seal(plain: string): string {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.key, iv)
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join(':')
  }

  /** The key, or null when it cannot be opened (WEBUI_SECRET_KEY changed since it was stored). */
  open(sealed: string): string | null {
    const [version, iv, tag, body] = sealed.split(':')
    if (version !== 'v1' || !iv || !tag || body === undefined) return null
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'))
      decipher.setAuthTag(Buffer.from(tag, 'base64url'))
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8')
    } catch {
      return null
    }
  }
}

/**
 * `sk-ab…wxyz`: enough to recognise a key, not to use it. A key shorter than 16 characters is all `…`:
 * its two ends would be most of it (a 10-character key would show 8).
 */
export function keyHint(key: string): string {
  return key.length < 16 ? '…' : `${key.slice(0, 4)}…${key.slice(-4)}`
}
