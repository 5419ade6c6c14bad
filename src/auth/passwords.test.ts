/**
 * The real scrypt cost. test/support/setup.ts lowers it for every other in-process test
 * (setPasswordCostForTestsOnly); this file puts PASSWORD_COST back and checks what production hashes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TEST_PASSWORD_COST } from '../../test/support/setup.js'
import { DUMMY_PASSWORD_HASH, hashPassword, PASSWORD_COST, setPasswordCostForTestsOnly, verifyPassword } from './passwords.js'

describe('password hashing at the production cost', () => {
  beforeAll(() => setPasswordCostForTestsOnly(undefined))
  afterAll(() => setPasswordCostForTestsOnly(TEST_PASSWORD_COST))

  it('is scrypt with N=2^15, r=8, p=1, a 16-byte salt and a 32-byte key, stored with the hash', async () => {
    expect(PASSWORD_COST).toEqual({ N: 32768, r: 8, p: 1 })
    const stored = await hashPassword('a-good-password')
    const [scheme, n, r, p, salt, key] = stored.split('$')
    expect([scheme, n, r, p]).toEqual(['scrypt', '32768', '8', '1'])
    expect(Buffer.from(salt ?? '', 'base64url')).toHaveLength(16)
    expect(Buffer.from(key ?? '', 'base64url')).toHaveLength(32)
  })

  it('verifies the right password only, and salts every hash', async () => {
    const stored = await hashPassword('a-good-password')
    expect(await verifyPassword('a-good-password', stored)).toBe(true)
    expect(await verifyPassword('a-good-passwore', stored)).toBe(false)
    expect(await hashPassword('a-good-password')).not.toBe(stored)
  })

  it('normalizes the password (NFKC) before hashing', async () => {
    const stored = await hashPassword('caf\u00e9-password')
    expect(await verifyPassword('cafe\u0301-password', stored)).toBe(true)
  })

  it('has a dummy hash (for unknown emails) of the production cost', async () => {
    expect((await DUMMY_PASSWORD_HASH).split('$').slice(0, 4)).toEqual(['scrypt', '32768', '8', '1'])
  })

  it('verifies hashes of a lower cost by the cost they store, and refuses what is no scrypt hash', async () => {
    setPasswordCostForTestsOnly(TEST_PASSWORD_COST)
    const cheap = await hashPassword('a-good-password')
    setPasswordCostForTestsOnly(undefined)
    expect(cheap.startsWith('scrypt$16$1$1$')).toBe(true)
    expect(await verifyPassword('a-good-password', cheap)).toBe(true)
    expect(await verifyPassword('a-good-password', 'bcrypt$x')).toBe(false)
    expect(await verifyPassword('a-good-password', 'scrypt$32768$8$1$')).toBe(false)
  })
})
