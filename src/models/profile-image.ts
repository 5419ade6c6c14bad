/**
 * What `GET /api/v1/models/model/profile/image` serves for a stored `meta.profile_image_url` (issue #10,
 * hole 9: the route must not be an open redirect). In order:
 * - a `data:` URI of an image type we know is decoded and served inline (SVG included: the route serves
 *   it under `Content-Security-Policy: default-src 'none'; …; sandbox` and `nosniff`, so its script
 *   cannot run even when the picture is opened as a page);
 * - a same-origin path (`/static/favicon.png`, Open WebUI's pictures) is a redirect to that path, only
 *   when it starts with exactly one `/` (never `//host` or `/\host`, which browsers read as another host)
 *   and holds only printable ASCII;
 * - an `http(s)` URL is a redirect only when its host is one an admin allows (`PROFILE_IMAGE_HOSTS`,
 *   exact host name, any case) and it carries no credentials; the redirect goes to the URL as parsed,
 *   so what the browser follows is what was checked;
 * - anything else (no picture, another host, `javascript:`, another `data:` type) gets the default picture.
 */
import { createHash } from 'node:crypto'

export type ProfileImage = { kind: 'inline'; contentType: string; body: Buffer; etag: string } | { kind: 'redirect'; location: string }

/** Image types served from `data:` URIs; anything else gets the default picture. */
const IMAGE_TYPES = new Set([
  'image/png',
  'image/jpeg',
  'image/jpg',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/bmp',
  'image/x-icon',
  'image/vnd.microsoft.icon',
  'image/svg+xml',
])

const DEFAULT_IMAGE = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="12" fill="#6b7280"/>' +
    '<circle cx="32" cy="26" r="10" fill="#e5e7eb"/><rect x="16" y="40" width="32" height="10" rx="5" fill="#e5e7eb"/></svg>',
)

export const DEFAULT_PROFILE_IMAGE: ProfileImage = { kind: 'inline', contentType: 'image/svg+xml', body: DEFAULT_IMAGE, etag: etagOf(DEFAULT_IMAGE) }

/** `allowedHosts`: lower-case host names (config.profileImageHosts). */
export function profileImageOf(url: string, allowedHosts: readonly string[] = []): ProfileImage {
  const match = /^data:(image\/[a-z0-9.+-]+)((?:;[a-z0-9-]+=[^;,]*)*)(;base64)?,(.*)$/is.exec(url)
  if (match?.[1]) {
    const contentType = match[1].toLowerCase()
    if (!IMAGE_TYPES.has(contentType)) return DEFAULT_PROFILE_IMAGE
    let body: Buffer
    try {
      body = match[3] ? Buffer.from(match[4] ?? '', 'base64') : Buffer.from(decodeURIComponent(match[4] ?? ''))
    } catch {
      return DEFAULT_PROFILE_IMAGE // bad percent-encoding
    }
    return { kind: 'inline', contentType, body, etag: etagOf(body) }
  }
  const path = sameOriginPath(url)
  if (path) return { kind: 'redirect', location: path }
  const location = allowedUrl(url, allowedHosts)
  if (location) return { kind: 'redirect', location }
  return DEFAULT_PROFILE_IMAGE
}

/** `/x…` with one leading slash, printable ASCII only (no `//host`, no `/\host`, nothing a header cannot hold). */
function sameOriginPath(url: string): string | null {
  if (!/^\/[\x21-\x7e]*$/.test(url)) return null
  if (url.startsWith('//') || url.startsWith('/\\')) return null
  return url
}

function allowedUrl(url: string, allowedHosts: readonly string[]): string | null {
  if (allowedHosts.length === 0 || !/^https?:\/\/[\x21-\x7e]+$/i.test(url)) return null
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return null
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null
  if (parsed.username || parsed.password || url.includes('\\')) return null
  return allowedHosts.includes(parsed.hostname.toLowerCase()) ? parsed.href : null
}

function etagOf(body: Buffer): string {
  return `"${createHash('sha1').update(body).digest('base64url')}"`
}
