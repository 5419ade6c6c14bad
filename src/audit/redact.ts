/**
 * What an audit entry may hold: a copy of a value without secrets. Keys that name a secret (password,
 * token, api key, secret, hash) are replaced by "[redacted]", and credentials in URLs (user:pass@ and
 * key-like query parameters) are masked, since provider URLs can carry keys.
 */
const SECRET_KEY = /pass(word)?|secret|token|api[_-]?key|^key$|_key$|hash|authorization|cookie|credential/i
const URL_IN_TEXT = /^[a-z][a-z0-9+.-]*:\/\//i

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 20) return '[too deep]'
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1))
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) {
      out[key] = SECRET_KEY.test(key) && item !== null && item !== undefined && typeof item !== 'boolean' ? '[redacted]' : redact(item, depth + 1)
    }
    return out
  }
  if (typeof value === 'string' && URL_IN_TEXT.test(value)) return maskUrl(value)
  return value
}

function maskUrl(text: string): string {
  try {
    const url = new URL(text)
    if (url.username || url.password) {
      url.username = url.username ? '***' : ''
      url.password = url.password ? '***' : ''
    }
    for (const key of [...url.searchParams.keys()]) if (SECRET_KEY.test(key) || /^(k|sig|signature|code)$/i.test(key)) url.searchParams.set(key, '***')
    return url.toString()
  } catch {
    return text
  }
}
