import { describe, expect, it } from 'vitest'
import { claimAt, claimList, emailDomainAllowed, emailMerge, ssoRole } from './sso-decisions.js'

const roles = { roleManagement: true, rolesClaim: 'realm_access.roles', allowedRoles: ['staff'], adminRoles: ['platform-admin'] }
const account = { isFirst: false, existingRole: null, defaultRole: 'pending' as const }

describe('single sign-on decisions', () => {
  it('reads nested claims by dot path, a dotted key whole first, and never through the prototype', () => {
    const claims = { realm_access: { roles: ['staff'] }, 'https://x.example/groups': ['a'], single: 'one', n: 7 }
    expect(claimList(claims, 'realm_access.roles')).toEqual(['staff'])
    expect(claimList(claims, 'https://x.example/groups')).toEqual(['a'])
    expect(claimList(claims, 'single')).toEqual(['one'])
    expect(claimList(claims, 'n')).toEqual(['7'])
    expect(claimList(claims, 'missing.path')).toBeUndefined()
    expect(claimAt(claims, 'realm_access.constructor')).toBeUndefined()
    expect(claimAt(claims, '__proto__')).toBeUndefined()
    expect(claimList({ groups: ['a', 3, { x: 1 }, null] }, 'groups')).toEqual(['a', '3'])
  })

  it('allows a domain exactly (case-insensitive) or any with *', () => {
    expect(emailDomainAllowed('a@Acme.example', ['acme.example'])).toBe(true)
    expect(emailDomainAllowed('a@evil-acme.example', ['acme.example'])).toBe(false)
    expect(emailDomainAllowed('a@sub.acme.example', ['acme.example'])).toBe(false)
    expect(emailDomainAllowed('a@x.example', ['*'])).toBe(true)
  })

  it('gives admin, user or a refusal from the roles claim; the first account is admin; off keeps the role', () => {
    expect(ssoRole(roles, { realm_access: { roles: ['staff', 'platform-admin'] } }, account)).toEqual({ allowed: true, role: 'admin' })
    expect(ssoRole(roles, { realm_access: { roles: ['staff'] } }, account)).toEqual({ allowed: true, role: 'user' })
    expect(ssoRole(roles, { realm_access: { roles: ['guest'] } }, account)).toEqual({ allowed: false, roles: ['guest'] })
    expect(ssoRole(roles, {}, account)).toEqual({ allowed: false, roles: [] })
    expect(ssoRole(roles, {}, { ...account, isFirst: true })).toEqual({ allowed: true, role: 'admin' })
    const off = { ...roles, roleManagement: false }
    expect(ssoRole(off, {}, account)).toEqual({ allowed: true, role: 'pending' })
    expect(ssoRole(off, {}, { ...account, existingRole: 'admin' })).toEqual({ allowed: true, role: 'admin' })
  })

  it('merges by email only when enabled, verified, and not linked elsewhere', () => {
    expect(emailMerge(false, { email_verified: true }, { oauth_sub: null })).toBe('disabled')
    expect(emailMerge(true, { email_verified: false }, { oauth_sub: null })).toBe('not_verified')
    expect(emailMerge(true, {}, { oauth_sub: null })).toBe('not_verified')
    expect(emailMerge(true, { email_verified: 'true' }, { oauth_sub: null })).toBe('merge')
    expect(emailMerge(true, { email_verified: true }, { oauth_sub: 'oidc@other' })).toBe('linked_elsewhere')
  })
})
