/**
 * Session tokens (src/auth/tokens.ts): verified tokens are remembered by their text, so a remembered
 * token must still expire on time, a tampered copy of it must never pass, and the memory is bounded.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { MAX_REMEMBERED, TokenSigner } from './tokens.js'

const SECRET = 'tokens-test-secret-0123456789abcdef'

afterEach(() => {
  vi.useRealTimers()
})

describe('TokenSigner', () => {
  it('verifies a token it signed, the same from memory the second time', async () => {
    const signer = new TokenSigner(SECRET, 60_000)
    const { token, expires_at } = await signer.sign('user-1', 3)
    const first = await signer.verify(token)
    expect(first).toEqual({ userId: 'user-1', version: 3, expiresAt: expires_at })
    expect(signer.rememberedCount).toBe(1)
    expect(await signer.verify(token)).toEqual(first)
  })

  it('refuses a tampered copy of a remembered token, and a token of another secret', async () => {
    const signer = new TokenSigner(SECRET, 60_000)
    const { token } = await signer.sign('user-1')
    expect(await signer.verify(token)).not.toBeNull()
    const [header, payload, signature = ''] = token.split('.')
    const otherPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()), sub: 'admin' })).toString('base64url')
    expect(await signer.verify(`${header}.${otherPayload}.${signature}`)).toBeNull()
    // The first character: every bit of it is signature (the last one's low bits are padding, and a change
    // there can decode to the same bytes).
    const flipped = (signature.startsWith('A') ? 'B' : 'A') + signature.slice(1)
    expect(await signer.verify(`${header}.${payload}.${flipped}`)).toBeNull()
    const foreign = await new TokenSigner('another-secret-0123456789abcdefgh', 60_000).sign('user-1')
    expect(await signer.verify(foreign.token)).toBeNull()
    expect(signer.rememberedCount).toBe(1)
  })

  it('refuses a remembered token once its exp has passed (valid up to and including that second)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-12-08T10:00:00.000Z'))
    const signer = new TokenSigner(SECRET, 5_000)
    const { token, expires_at } = await signer.sign('user-1')
    expect(await signer.verify(token)).not.toBeNull()
    vi.setSystemTime(new Date((expires_at ?? 0) * 1000))
    expect(await signer.verify(token)).not.toBeNull()
    vi.setSystemTime(new Date((expires_at ?? 0) * 1000 + 1))
    expect(await signer.verify(token)).toBeNull()
    expect(signer.rememberedCount).toBe(0)
  })

  it('never expires a token signed without a lifetime', async () => {
    const signer = new TokenSigner(SECRET, null)
    const { token, expires_at } = await signer.sign('user-1')
    expect(expires_at).toBeNull()
    expect(await signer.verify(token)).toMatchObject({ expiresAt: null })
  })

  it('remembers at most MAX_REMEMBERED tokens, forgetting the oldest first', async () => {
    const signer = new TokenSigner(SECRET, 60_000)
    const tokens: string[] = []
    for (let i = 0; i <= MAX_REMEMBERED; i++) tokens.push((await signer.sign(`user-${i}`)).token)
    for (const token of tokens) await signer.verify(token)
    expect(signer.rememberedCount).toBe(MAX_REMEMBERED)
    // The oldest was forgotten, not refused: it verifies again (and is remembered again).
    expect(await signer.verify(tokens[0] ?? '')).toMatchObject({ userId: 'user-0' })
  })
})
