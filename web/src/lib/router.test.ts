import { describe, expect, it } from 'vitest'
import { safeNext } from './router'

describe('safeNext', () => {
  it('keeps a path of this site', () => {
    expect(safeNext('/workspace/models/edit?id=a', '/home')).toBe('/workspace/models/edit?id=a')
    expect(safeNext('/', '/home')).toBe('/')
  })

  it('refuses anything that names another site or is not a path', () => {
    for (const next of ['//evil.example', '/\\evil.example', 'https://evil.example', 'evil', '', null]) {
      expect(safeNext(next, '/home')).toBe('/home')
    }
  })
})
