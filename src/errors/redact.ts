/**
 * The one redaction of modelgate (issue #10, hole 7). Provider URLs may carry a key in their query
 * string (`?api-key=…`, `?api-version=…&sig=…`) or their userinfo (`https://user:pass@host`), and a
 * provider's error text may echo them back: every answer and every log line that shows a URL or a
 * provider's words goes through here first.
 *
 * - `redactUrl` replaces the userinfo, the query string and the fragment of one URL with `***` and leaves
 *   everything else byte for byte (a URL without them comes back unchanged, so admins still recognise it).
 * - `redactText` does that to every URL inside free text, then replaces each known secret (a connection's
 *   key, the user name, password and query values of its URL) wherever it appears on its own.
 */
export const REDACTED = '***'

/** scheme://[userinfo@]host[:port][/path][?query][#fragment], matched without re-serialising. */
const URL_PARTS = /^([a-z][a-z0-9+.-]*:[/\\]{2})([^/\\?#]*@)?([^?#]*)(\?[^#]*)?(#.*)?$/is

/** A URL inside text: a scheme, `://`, and everything up to whitespace or a quote. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:[/\\]{2}[^\s"'<>`]+/gi

/** Secrets shorter than this are not searched for in free text (they would blank out ordinary words). */
const MIN_SECRET_LENGTH = 4

export function redactUrl(url: string): string {
  const match = URL_PARTS.exec(url)
  if (!match) return url.replace(/[?#].*$/s, (rest) => `${rest[0]}${REDACTED}`)
  const [, scheme = '', userinfo, rest = '', query, fragment] = match
  return `${scheme}${userinfo ? `${REDACTED}@` : ''}${rest}${query ? `?${REDACTED}` : ''}${fragment ? `#${REDACTED}` : ''}`
}

export function redactText(text: string, secrets: readonly string[] = []): string {
  let redacted = text.replace(URL_IN_TEXT, (url) => {
    // "(see http://host/x?k=v)." : the closing parenthesis and the full stop are the text's, not the URL's.
    let end = url.length
    while (end > 0 && (/[.,;:!?]/.test(url[end - 1] ?? '') || (url[end - 1] === ')' && !url.includes('(')))) end -= 1
    return redactUrl(url.slice(0, end)) + url.slice(end)
  })
  const wanted = [...new Set(secrets)].filter((s) => s.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length)
  for (const secret of wanted) redacted = redacted.split(secret).join(REDACTED)
  return redacted
}

/** What of a URL is secret: its user name, password and query values (raw and decoded). */
export function secretsOfUrl(url: string): string[] {
  const secrets: string[] = []
  const match = URL_PARTS.exec(url)
  const userinfo = match?.[2]?.slice(0, -1)
  if (userinfo) secrets.push(userinfo, ...userinfo.split(':'))
  const query = match?.[4]?.slice(1)
  if (query) {
    for (const pair of query.split('&')) {
      const value = pair.slice(pair.indexOf('=') + 1)
      if (!pair.includes('=') || !value) continue
      secrets.push(value)
      try {
        secrets.push(decodeURIComponent(value.replace(/\+/g, ' ')))
      } catch {
        // not percent-encoded text: the raw value is enough
      }
    }
  }
  for (const part of [...secrets]) {
    try {
      secrets.push(decodeURIComponent(part))
    } catch {
      // ditto
    }
  }
  return [...new Set(secrets)].filter(Boolean)
}

export interface SerializedError {
  [key: string]: unknown
  type: string
  message: string
  stack: string
}

/**
 * Log serializer for errors: pino's shape (type, message, stack, own enumerable fields, cause), with
 * every string redacted. Fastify's logger uses it for `err`, so no log line carries a provider URL's secrets.
 */
export function redactError(error: Error, depth = 0): SerializedError {
  const out: SerializedError = { type: error.constructor.name, message: redactText(error.message), stack: redactText(error.stack ?? '') }
  for (const [key, value] of Object.entries(error)) {
    if (key in out || key === 'cause') continue
    out[key] = typeof value === 'string' ? redactText(value) : value
  }
  const cause = error.cause
  if (cause !== undefined && depth < 5) {
    out['cause'] = cause instanceof Error ? redactError(cause, depth + 1) : typeof cause === 'string' ? redactText(cause) : cause
  }
  return out
}
