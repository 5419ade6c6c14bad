/** The one redaction (issue #10, hole 7): URLs' userinfo, query and fragment, and known secrets in text. */
import { describe, expect, it } from 'vitest'
import { AppError } from './app-error.js'
import { redactError, redactText, redactUrl, secretsOfUrl } from './redact.js'

describe('redactUrl', () => {
  it.each([
    ['http://127.0.0.1:8000/v1', 'http://127.0.0.1:8000/v1'],
    ['https://api.example.com/v1?api-key=k1&x=2', 'https://api.example.com/v1?***'],
    ['https://user:pass@api.example.com/v1', 'https://***@api.example.com/v1'],
    ['https://a:b@c@api.example.com/v1?k=v#frag', 'https://***@api.example.com/v1?***#***'],
    ['HTTPS://API.example.com/V1', 'HTTPS://API.example.com/V1'],
    ['not a url?key=1', 'not a url?***'],
  ])('%s → %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected)
  })
})

describe('redactText', () => {
  it('redacts every URL in the text and every known secret, keeping the text around them', () => {
    const text = 'failed at http://u:pw-secret@h/v1?api-key=q-secret (and https://other/x?sig=abc), key sk-known-1 refused'
    expect(redactText(text, ['sk-known-1'])).toBe('failed at http://***@h/v1?*** (and https://other/x?***), key *** refused')
  })

  it('ignores secrets too short to search for', () => {
    expect(redactText('a b c', ['a', ''])).toBe('a b c')
  })
})

describe('secretsOfUrl', () => {
  it('lists the user name, password and query values, raw and decoded', () => {
    expect(secretsOfUrl('https://us%40r:p%3Ass@h/v1?api-key=a%2Bb&flag&empty=').sort()).toEqual(
      ['us%40r:p%3Ass', 'us%40r', 'p%3Ass', 'us@r:p:ss', 'us@r', 'p:ss', 'a%2Bb', 'a+b'].sort(),
    )
    expect(secretsOfUrl('http://h/v1')).toEqual([])
  })
})

describe('redactError (the log serializer)', () => {
  it('redacts the message, the stack, string fields and causes', () => {
    const cause = new Error('connect to http://u:p@h/v1?key=zzz failed')
    const error = Object.assign(new AppError('PROVIDER_ERROR', 'at http://h/v1?key=zzz', undefined, 'admin: http://h/v1?key=zzz'), { cause })
    const out = JSON.stringify(redactError(error))
    expect(out).not.toContain('zzz')
    expect(out).not.toContain('u:p')
    expect(out).toContain('PROVIDER_ERROR')
  })
})
