/**
 * One default picture everywhere (issue #16 item 7): people and models without a picture of their own
 * show the same silhouette the server answers for a model without one (src/models/profile-image.ts), so
 * a card, the editor, the account page and the top bar agree. A picture that fails to load falls back to it.
 */
import { useState } from 'react'

/** The server's default profile image, byte for byte. */
export const DEFAULT_AVATAR =
  'data:image/svg+xml;utf8,' +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="12" fill="#6b7280"/>' +
      '<circle cx="32" cy="26" r="10" fill="#e5e7eb"/><rect x="16" y="40" width="32" height="10" rx="5" fill="#e5e7eb"/></svg>',
  )

/** Open WebUI's default user pictures: the same as having none. */
const DEFAULT_PATHS = new Set(['', '/user.png', '/static/user.png', '/static/favicon.png'])

/** The picture to show for a stored `profile_image_url` (data: URIs and http(s) URLs as they are). */
export function avatarSource(url: string | null | undefined): string {
  const value = (url ?? '').trim()
  if (DEFAULT_PATHS.has(value)) return DEFAULT_AVATAR
  if (value.startsWith('data:image/') || /^https?:\/\//i.test(value) || value.startsWith('/')) return value
  return DEFAULT_AVATAR
}

export function Avatar({ src, size = 32, alt = '', className = '' }: { src: string | null | undefined; size?: number; alt?: string; className?: string }) {
  const [failed, setFailed] = useState(false)
  return (
    <img
      className={`avatar ${className}`.trim()}
      src={failed ? DEFAULT_AVATAR : avatarSource(src)}
      alt={alt}
      width={size}
      height={size}
      onError={() => setFailed(true)}
    />
  )
}
