/** The Groups page's words for provider-managed groups (OpenID Connect and SCIM), in Node. */
import { describe, expect, it } from 'vitest'

import { managedText } from './groups'

describe('managed groups', () => {
  it('a SCIM group shows "SCIM" and says the provider provisions its members', () => {
    const text = managedText('scim')
    expect(text?.badge).toBe('SCIM')
    expect(text?.membersHint).toMatch(/SCIM/)
    expect(text?.nameHint).toMatch(/SCIM/)
  })

  it('an OpenID Connect group shows "SSO" and says members are synced at sign-in', () => {
    const text = managedText('oidc')
    expect(text?.badge).toBe('SSO')
    expect(text?.membersHint).toMatch(/each sign-in/)
  })

  it('a group administered here has no badge', () => {
    expect(managedText(null)).toBeNull()
  })
})
