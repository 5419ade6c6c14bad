/**
 * Issue #16's pure web rules: the password form, the stored theme, the one default picture, notices after
 * a navigation, the one access word, and what the read-only model page shows.
 */
import { describe, expect, it, vi } from 'vitest'

// api/client.ts builds its client from the page's origin, and the router listens to popstate, when they load; this test runs in Node.
vi.hoisted(() => vi.stubGlobal('window', { location: { origin: 'http://127.0.0.1' }, addEventListener: () => undefined }))

import { DEFAULT_AVATAR, avatarSource } from '../../components/Avatar'
import { accessWord, describeAccess } from '../../lib/access'
import { afterNavigation } from '../../lib/notify'
import { parseTheme } from '../../lib/theme'
import { emptyInitial } from '../model-editor/form'
import { viewOf } from '../model-view/view'
import { passwordProblem } from './account'

describe('account page', () => {
  it('refuses a password change the server would refuse, before sending', () => {
    expect(passwordProblem('', 'long enough 1', 'long enough 1')).toMatch(/current/)
    expect(passwordProblem('old password', 'short', 'short')).toMatch(/at least 8/)
    expect(passwordProblem('old password', 'long enough 1', 'long enough 2')).toMatch(/differ/)
    expect(passwordProblem('same password', 'same password', 'same password')).toMatch(/same/)
    expect(passwordProblem('old password', 'long enough 1', 'long enough 1')).toBeNull()
  })

  it('reads a stored theme (Open WebUI values included), anything else as the system’s', () => {
    expect(parseTheme('light')).toBe('light')
    expect(parseTheme('dark')).toBe('dark')
    expect(parseTheme('oled-dark')).toBe('dark')
    expect(parseTheme(null)).toBe('system')
    expect(parseTheme('sepia')).toBe('system')
  })

  it('shows one default picture for no picture and Open WebUI’s default paths', () => {
    for (const none of ['', null, undefined, '/user.png', '/static/favicon.png', 'javascript:alert(1)']) expect(avatarSource(none)).toBe(DEFAULT_AVATAR)
    expect(avatarSource('data:image/png;base64,AAAA')).toBe('data:image/png;base64,AAAA')
    expect(avatarSource('https://example.com/a.png')).toBe('https://example.com/a.png')
  })
})

describe('notices', () => {
  it('a navigation keeps only the notices raised with it', () => {
    const list = [
      { id: 1, kind: 'info' as const, message: 'old' },
      { id: 2, kind: 'error' as const, message: 'You do not have permission to edit this model' },
    ]
    expect(afterNavigation(list, new Set([2]))).toEqual([list[1]])
    expect(afterNavigation(list, new Set())).toEqual([])
  })
})

describe('one word for access', () => {
  const group = { principal_type: 'group' as const, principal_id: 'g1', permission: 'read' as const }
  const everyone = { principal_type: 'user' as const, principal_id: '*', permission: 'read' as const }
  it('the card and the editor say the same word', () => {
    expect(accessWord([])).toBe('Private')
    expect(accessWord([group])).toBe('Shared')
    expect(accessWord([everyone, group])).toBe('Public')
    expect(describeAccess([group])).toBe('Shared · 1 group')
    expect(describeAccess([])).toBe('Private')
    expect(describeAccess([everyone])).toBe('Public')
  })
})

describe('a new model', () => {
  it('starts from the admin’s default capabilities, not all ticked', () => {
    expect(Object.values(emptyInitial().values.meta.capabilities).every((on) => !on)).toBe(true)
    const capabilities = emptyInitial({ capabilities: { vision: true, citations: true, web_search: false } }).values.meta.capabilities
    expect(capabilities).toMatchObject({ vision: true, citations: true, web_search: false, file_upload: false })
  })
})

describe('the read-only model page', () => {
  it('shows the system prompt, parameters other than it, locks, tags and declared capabilities', () => {
    const view = viewOf({
      params: { system: 'You teach SQL.', temperature: 0.3, stop: ['END'], locked: ['temperature'], top_p: null },
      meta: { description: 'Explains SQL', tags: [{ name: 'sql' }, 'teaching'], capabilities: { vision: false, citations: true, my_tool: true } },
    })
    expect(view).toEqual({
      description: 'Explains SQL',
      tags: ['sql', 'teaching'],
      system: 'You teach SQL.',
      params: [
        ['temperature', '0.3'],
        ['stop', '["END"]'],
      ],
      locked: ['temperature'],
      capabilities: [
        ['Vision', false],
        ['Citations', true],
        ['my_tool', true],
      ],
    })
  })
})
