/**
 * Password hashing with scrypt (memory-hard, in node:crypto). The parameters are stored with each hash
 * (`scrypt$N$r$p$salt$hash`, base64url) so that they can be raised later without breaking old hashes.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'

interface Cost {
  readonly N: number
  readonly r: number
  readonly p: number
}

/** The cost of every new hash (~100 ms of one core). */
export const PASSWORD_COST: Cost = { N: 2 ** 15, r: 8, p: 1 }
const KEY_LENGTH = 32
const SALT_LENGTH = 16

/** PASSWORD_COST, unless the test-only hook below has lowered it. */
let cost: Cost = PASSWORD_COST

/**
 * TEST ONLY, off by default: makes new hashes use `testCost` (`undefined`: PASSWORD_COST again). Nothing in
 * src calls it; test/support/setup.ts lowers the cost for in-process tests, where hundreds of sign-ups
 * and sign-ins per file spent most of the suite's CPU in scrypt. Verification reads the cost stored in
 * each hash, so hashes of either cost keep verifying. The real cost is covered by src/auth/passwords.test.ts
 * and by every test that runs the server as a process of its own (e2e, durability).
 */
export function setPasswordCostForTestsOnly(testCost: Cost | undefined): void {
  cost = testCost ?? PASSWORD_COST
  DUMMY_PASSWORD_HASH = newDummyHash()
}

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem must exceed 128·N·r bytes (32 MiB at the default cost).
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, { ...options, maxmem: 256 * 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key)))
  })
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH)
  const { N, r, p } = cost
  const key = await derive(password, salt, { N, r, p })
  return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$')
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$')
  if (scheme !== 'scrypt' || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64url')
  const actual = await derive(password, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p) })
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

function newDummyHash(): Promise<string> {
  return hashPassword(randomBytes(16).toString('hex'))
}

/**
 * A hash of a random password, verified against when the account does not exist so that sign-in takes
 * the same time whether or not an email is registered. Hashed on the next turn of the event loop, at the
 * cost of that moment (the hook above, called on import, replaces it).
 */
export let DUMMY_PASSWORD_HASH: Promise<string> = new Promise((resolve) => setImmediate(() => resolve(newDummyHash())))
