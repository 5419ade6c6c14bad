import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES, ERROR_STATUS } from './app-error.js'

const catalogue = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')

/** Rows of the table in docs/errors.md: code → status. */
function documentedCodes(): Map<string, number> {
  const rows = new Map<string, number>()
  for (const match of catalogue.matchAll(/^\|\s*`([A-Z_]+)`\s*\|\s*(\d{3})\s*\|/gm)) {
    rows.set(match[1] ?? '', Number(match[2]))
  }
  return rows
}

describe('docs/errors.md', () => {
  it.each(ERROR_CODES)('documents %s with its status', (code) => {
    expect(documentedCodes().get(code)).toBe(ERROR_STATUS[code])
  })

  it('documents no code that does not exist', () => {
    expect([...documentedCodes().keys()].sort()).toEqual([...ERROR_CODES].sort())
  })
})
