/**
 * What an audit entry may hold: a copy of a value without secrets. Keys that name a secret (password,
 * token, api key, secret, hash) are replaced by "[redacted]", and credentials in URLs anywhere in a
 * string (user:pass@, every query value, the fragment) are masked, since provider URLs can carry keys.
 */
const SECRET_KEY = /pass(word)?|secret|token|api[_-]?key|^key$|_key$|hash|authorization|cookie|credential/i
/** A URL inside text: a scheme, `://`, and everything up to whitespace or a quote. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:[/\\]{2}[^\s"'<>`]+/gi
/** scheme://[userinfo@]rest[?query][#fragment] */
const URL_PARTS = /^([a-z][a-z0-9+.-]*:[/\\]{2})([^/\\?#]*@)?([^?#]*)(\?[^#]*)?(#.*)?$/is

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 20) return '[too deep]'
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1))
  if (value && typeof value === 'object') {
    // Object.fromEntries defines each key as its own property: assigned, a key `__proto__` (a model id
    // in an id → version map) would set the copy's prototype and vanish from the entry.
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => {
        // Flags and counts stay (`password_changed: true`, `max_tokens: 4096`, a version under a model id
        // like "compass-gpt" in an id → version map): secrets are text.
        const isSecret = SECRET_KEY.test(key) && item !== null && item !== undefined && typeof item !== 'boolean' && typeof item !== 'number'
        return [key, isSecret ? '[redacted]' : redact(item, depth + 1)]
      }),
    )
  }
  if (typeof value === 'string') return value.replace(URL_IN_TEXT, maskUrl)
  return value
}

/**
 * Masks the userinfo, every query value (whatever its name: `?auth=`, `?code=` and `?sig=` are all keys
 * somewhere) and the fragment of a URL; the scheme, host, path and query names stay, so an admin still
 * recognises the URL.
 */
export function maskUrl(url: string): string {
  const match = URL_PARTS.exec(url)
  if (!match) return url
  const [, scheme = '', userinfo, rest = '', query, fragment] = match
  const maskedQuery = query
    ? `?${query
        .slice(1)
        .split('&')
        .map((pair) => (pair === '' ? pair : pair.includes('=') ? `${pair.split('=')[0] ?? ''}=***` : '***'))
        .join('&')}`
    : ''
  return `${scheme}${userinfo ? '***@' : ''}${rest}${maskedQuery}${fragment ? '#***' : ''}`
}
