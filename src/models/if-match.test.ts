/** If-Match parsing (RFC 9110 §13.1.1) and matching: what a model write accepts as its precondition. */
import { describe, expect, it } from 'vitest'
import { AppError } from '../errors/app-error.js'
import { parseIfMatch, versionMatches } from './if-match.js'

/** The 400 of a malformed header: VALIDATION_ERROR naming headers.if-match. */
function expectMalformed(header: string | string[]): void {
  let caught: unknown
  try {
    parseIfMatch(header)
  } catch (error) {
    caught = error
  }
  expect(caught, `${JSON.stringify(header)} must be refused`).toBeInstanceOf(AppError)
  const error = caught as AppError
  expect(error.code).toBe('VALIDATION_ERROR')
  expect(error.status).toBe(400)
  expect(error.errors?.map((e) => e.path)).toEqual(['headers.if-match'])
}

describe('parseIfMatch', () => {
  it('no header: no precondition (the write behaves as before)', () => {
    expect(parseIfMatch(undefined)).toBeUndefined()
    expect(versionMatches(undefined, 7)).toBe(true)
  })

  it.each([
    ['"3"', [3]],
    ['"0"', [0]],
    [' "3" ', [3]],
    ['"1", "2"', [1, 2]],
    ['"1","2"', [1, 2]],
    ['"1" ,\t"2"', [1, 2]],
    // Empty list elements are ignored (RFC 9110 §5.6.1).
    ['"1", , "2",', [1, 2]],
    [',"4"', [4]],
    ['"999999999999999"', [999999999999999]],
  ])('strong tags %j → versions %j', (header, versions) => {
    expect(parseIfMatch(header)).toEqual(versions)
  })

  it('several If-Match lines count as one list', () => {
    expect(parseIfMatch(['"1"', '"5"'])).toEqual([1, 5])
  })

  it('* matches any current version', () => {
    expect(parseIfMatch('*')).toBe('any')
    expect(parseIfMatch(' * ')).toBe('any')
    expect(versionMatches('any', 0)).toBe(true)
    expect(versionMatches('any', 12)).toBe(true)
  })

  it.each([
    // Weak tags never match under the strong comparison If-Match uses.
    ['W/"3"', []],
    ['W/"3", "4"', [4]],
    // Well-formed tags that are not a version of ours: strong comparison is exact, "03" is not "3".
    ['"03"', []],
    ['"abc"', []],
    ['""', []],
    ['"3.0"', []],
    ['"-1"', []],
    ['"1e3"', []],
    ['"1234567890123456"', []],
    // A comma inside a quoted tag belongs to the tag (etagc allows it).
    ['"1,2"', []],
  ] as [string, number[]][])('well-formed but never matching: %j → %j', (header, versions) => {
    const expected = parseIfMatch(header)
    expect(expected).toEqual(versions)
    for (const current of [0, 1, 2, 3, 4, 1000]) expect(versionMatches(expected, current)).toBe(versions.includes(current))
  })

  it.each([
    // Entity tags are quoted: a bare number is not one.
    '3',
    '3, 4',
    '"3',
    '3"',
    '"3" "4"',
    '"3";4',
    '',
    '   ',
    ',',
    ' , , ',
    'w/"3"',
    'W/3',
    'W/ "3"',
    '"3"x',
    '**',
    '*, "3"',
    '"3", *',
    '"a b"',
    '"tab\there"',
    'null',
    'true',
  ])('malformed %j → 400 VALIDATION_ERROR on headers.if-match', (header) => {
    expectMalformed(header)
  })

  it('a control character inside a tag is malformed', () => {
    expectMalformed('"3\u0000"')
    expectMalformed('"\u007f"')
  })

  it('a long list parses in linear time and matches any of its versions', () => {
    const header = Array.from({ length: 5000 }, (_, i) => `"${i}"`).join(', ')
    const expected = parseIfMatch(header)
    expect(versionMatches(expected, 4999)).toBe(true)
    expect(versionMatches(expected, 5000)).toBe(false)
  })
})

describe('versionMatches', () => {
  it('a list matches exactly its versions; an empty list matches nothing', () => {
    expect(versionMatches([3], 3)).toBe(true)
    expect(versionMatches([3], 4)).toBe(false)
    expect(versionMatches([1, 2], 2)).toBe(true)
    expect(versionMatches([], 0)).toBe(false)
  })
})
