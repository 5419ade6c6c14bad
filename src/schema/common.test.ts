import { describe, expect, it } from 'vitest'
import { findUnstorableText, idText, isStorableText, lineText, text } from './common.js'

describe('text that a database can hold', () => {
  it.each(['\u0000', 'a\u0000b', '\ud800', 'x\udfff', '\udc00\ud800', 'a\ud83d'])('%j is refused', (value) => {
    expect(isStorableText(value)).toBe(false)
    expect(text().safeParse(value).success).toBe(false)
    expect(lineText(100).safeParse(`ok ${value}`).success).toBe(false)
  })

  it.each(['', 'plain', '😀', '👩‍👩‍👧', 'e\u0301', '\u200b', 'tab\tand\nnewline'])('%j is storable', (value) => {
    expect(isStorableText(value)).toBe(true)
    expect(text().safeParse(value).success).toBe(true)
  })

  it('idText refuses control, zero-width and bidirectional characters as well', () => {
    for (const bad of [
      'a\u200bb',
      'a\u200cb',
      'a\u200db',
      '\u2060x',
      '\ufeffx',
      'a\u202eb',
      '\u2066x\u2069',
      'a\u200e',
      'a\u200f',
      'a\u061cb',
      'a\u0085',
      'a\u0007',
      'a\u0000',
      '',
    ]) {
      expect(idText().safeParse(bad).success, JSON.stringify(bad)).toBe(false)
    }
    for (const good of ['8f14e45f-ceea-467a-9575-5c2fa3b6f2b4', '*', 'ümlaut', 'a/b:c']) expect(idText().safeParse(good).success).toBe(true)
  })
})

describe('findUnstorableText', () => {
  it('finds strings and object keys at any depth, with their paths', () => {
    const value = JSON.parse('{"a": [1, "ok", "x\\u0000"], "b": {"\\ud800": 1}, "c": {"d": "\\udfff"}}')
    expect(
      findUnstorableText(value)
        .map((f) => f.path.join('.'))
        .sort(),
    ).toEqual(['a.2', 'b', 'c.d'])
  })

  it('walks deep nesting without overflowing the stack', () => {
    const deep = JSON.parse('['.repeat(50_000) + '"\\u0000"' + ']'.repeat(50_000))
    expect(findUnstorableText(deep)).toHaveLength(1)
  })

  it('stops reporting text at the limit, but still finds nesting too deep after it', () => {
    expect(
      findUnstorableText(
        Array.from({ length: 100 }, () => '\u0000'),
        5,
      ),
    ).toHaveLength(5)
    const both = JSON.parse(`[${Array.from({ length: 20 }, () => '"\\u0000"').join(',')}, ${'['.repeat(100)}${']'.repeat(100)}]`)
    expect(findUnstorableText(both)).toEqual([expect.objectContaining({ tooDeep: true })])
  })
})
