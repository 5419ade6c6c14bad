/**
 * Who may call the SCIM 2.0 endpoints (docs/sso.md, "SCIM"): the identity provider's provisioning
 * client, holding SCIM_TOKEN, and nobody else. A user's session token or API key is not a SCIM token,
 * whatever the account's role: provisioning is the identity provider's, not an administrator's.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { Config } from '../config/env.js'
import { AppError } from '../errors/app-error.js'

/**
 * Refuses a request that does not carry `Authorization: Bearer <SCIM_TOKEN>`: 403 while SCIM is off
 * (ENABLE_SCIM), 401 for a missing or wrong token. The comparison takes the same time however much of
 * the token matches (both sides are hashed to a fixed length first, so not even the length leaks).
 */
export function requireScimClient(scim: Config['scim'], authorization: string | undefined): void {
  if (!scim.enabled || scim.token === null) {
    throw new AppError('ACCESS_PROHIBITED', 'SCIM provisioning is not enabled on this server (ENABLE_SCIM).')
  }
  const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null
  const presented = match?.[1]
  if (presented === undefined || !sameSecret(presented, scim.token)) {
    throw new AppError('UNAUTHORIZED', 'Send the SCIM token (SCIM_TOKEN) as "Authorization: Bearer …".', { 'www-authenticate': 'Bearer' })
  }
}

function sameSecret(presented: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest()
  return timingSafeEqual(digest(presented), digest(expected))
}
