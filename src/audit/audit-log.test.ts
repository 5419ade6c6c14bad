import { describe, expect, it } from 'vitest'
import { AUDIT_ID_PATTERN } from './audit.schema.js'
import { auditId } from './audit-log.js'
import { maskUrl, redact } from './redact.js'

describe('auditId', () => {
  it('sorts in the order it was made, past 9999 ids in one millisecond and when the clock steps back', () => {
    const at = Date.now() + 10_000
    const ids = [...Array.from({ length: 12_000 }, () => auditId(at)), auditId(at - 5000), auditId(at + 1)]
    expect(ids.every((id) => AUDIT_ID_PATTERN.test(id))).toBe(true)
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(ids.length)
    // Never less than the time it was made for.
    expect(ids.every((id) => Number(id.slice(0, 13)) >= at - 5000)).toBe(true)
    expect(ids[0]?.slice(0, 13)).toBe(String(at))
  })
})

describe('redact', () => {
  it('masks credentials of URLs anywhere in text: userinfo, every query value, the fragment', () => {
    expect(maskUrl('https://u:p@host:8080/v1/x?api-key=K1&version=2024&flag#frag')).toBe('https://***@host:8080/v1/x?api-key=***&version=***&***#***')
    expect(maskUrl('http://host/v1')).toBe('http://host/v1')
    expect(redact({ note: 'see http://a:b@h/x?auth=T0K and https://h2/?code=C0D' })).toEqual({ note: 'see http://***@h/x?auth=*** and https://h2/?code=***' })
  })

  it('keeps numbers under keys that look like secrets (an id → version map of model ids)', () => {
    expect(redact({ versions: { 'compass-gpt': 3, 'token-counter': 1 }, max_tokens: 4096 })).toEqual({
      versions: { 'compass-gpt': 3, 'token-counter': 1 },
      max_tokens: 4096,
    })
  })

  it('drops values of keys that name secrets, keeps flags about them', () => {
    expect(redact({ password: 'pw', api_key: 'k', token: 't', key_hash: 'h', nested: [{ secret: 's' }], password_changed: true, name: 'n' })).toEqual({
      password: '[redacted]',
      api_key: '[redacted]',
      token: '[redacted]',
      key_hash: '[redacted]',
      nested: [{ secret: '[redacted]' }],
      password_changed: true,
      name: 'n',
    })
  })
})
