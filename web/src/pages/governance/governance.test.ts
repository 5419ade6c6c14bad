/** The governance pages' pure parts: how reasons read, and what the bulk dialog sends and shows. */
import { describe, expect, it } from 'vitest'
import type { AccessReason } from '../../api/client'
import { describeChange, emptyBulkDraft, grantsToAdd, grantsToRemove, isEmptyDraft, reportSummary } from './bulk'
import { isMissing, reasonLines, reasonPhrase } from './reasons'

describe('reason phrases', () => {
  it('reads every kind the server sends as a short phrase', () => {
    const cases: [AccessReason, string][] = [
      [{ kind: 'owner' }, 'Owner'],
      [{ kind: 'admin_bypass' }, 'Admin (bypass)'],
      [{ kind: 'user_grant', permission: 'read' }, 'Shared with them (read)'],
      [{ kind: 'group_grant', permission: 'write', group_id: 'g1', group_name: 'Support' }, 'Group Support (write)'],
      [{ kind: 'group_grant', permission: 'read', group_id: 'g2', group_name: null }, 'Group g2 (read)'],
      [{ kind: 'public', permission: 'read' }, 'Public (read)'],
      [{ kind: 'pending_account' }, 'Account awaiting approval'],
      [{ kind: 'no_grant', needs: 'read' }, 'No grant gives read'],
      [{ kind: 'feature_permission', permission: 'sharing.models', granted: false }, 'Lacks “sharing.models”'],
      [{ kind: 'feature_permission', permission: 'sharing.public_models', granted: true }, 'Has “sharing.public_models”'],
    ]
    for (const [reason, phrase] of cases) expect(reasonPhrase(reason)).toBe(phrase)
  })

  it('marks missing pieces apart from grants', () => {
    expect(isMissing({ kind: 'no_grant', needs: 'write' })).toBe(true)
    expect(isMissing({ kind: 'pending_account' })).toBe(true)
    expect(isMissing({ kind: 'feature_permission', permission: 'sharing.models', granted: false })).toBe(true)
    expect(isMissing({ kind: 'feature_permission', permission: 'sharing.models', granted: true })).toBe(false)
    expect(isMissing({ kind: 'owner' })).toBe(false)
  })

  it('reads a source giving read and write once, keeping every source', () => {
    const lines = reasonLines([
      { kind: 'group_grant', permission: 'write', group_id: 'g1', group_name: 'Support' },
      { kind: 'owner' },
      { kind: 'group_grant', permission: 'read', group_id: 'g1', group_name: 'Support' },
      { kind: 'group_grant', permission: 'read', group_id: 'g2', group_name: 'Interns' },
      { kind: 'user_grant', permission: 'read' },
    ])
    expect(lines.map((line) => line.text)).toEqual(['Group Support (read, write)', 'Owner', 'Group Interns (read)', 'Shared with them (read)'])
    expect(reasonLines([{ kind: 'no_grant', needs: 'read' }])).toEqual([{ key: 'No grant gives read', text: 'No grant gives read', missing: true }])
  })
})

describe('bulk access draft', () => {
  const support = { principal_type: 'group' as const, principal_id: 'g-support', label: 'Support' }
  const interns = { principal_type: 'group' as const, principal_id: 'g-interns', label: 'Interns' }

  it('adds write as read and write, and public as a user:* read', () => {
    const draft = { ...emptyBulkDraft(), addPublic: true, add: [{ ...support, level: 'write' as const }] }
    expect(grantsToAdd(draft)).toEqual([
      { principal_type: 'user', principal_id: '*', permission: 'read' },
      { principal_type: 'group', principal_id: 'g-support', permission: 'read' },
      { principal_type: 'group', principal_id: 'g-support', permission: 'write' },
    ])
    expect(grantsToRemove(draft)).toEqual([])
  })

  it('removes all access (read and write) or edit only', () => {
    const draft = {
      ...emptyBulkDraft(),
      remove: [
        { ...interns, level: 'read' as const },
        { ...support, level: 'write' as const },
      ],
    }
    expect(grantsToRemove(draft)).toEqual([
      { principal_type: 'group', principal_id: 'g-interns', permission: 'read' },
      { principal_type: 'group', principal_id: 'g-interns', permission: 'write' },
      { principal_type: 'group', principal_id: 'g-support', permission: 'write' },
    ])
    expect(grantsToRemove({ ...emptyBulkDraft(), removePublic: true })).toEqual([
      { principal_type: 'user', principal_id: '*', permission: 'read' },
      { principal_type: 'user', principal_id: '*', permission: 'write' },
    ])
  })

  it('sends nothing for an empty draft', () => {
    expect(isEmptyDraft(emptyBulkDraft())).toBe(true)
    expect(isEmptyDraft({ ...emptyBulkDraft(), removePublic: true })).toBe(false)
  })

  it('names grant paths with the picked names and leaves other paths as they are', () => {
    const labels = new Map([['group:g-interns', 'Interns']])
    expect(describeChange('access_grants.group:g-interns:read', labels)).toBe('Group Interns may read')
    expect(describeChange('access_grants.user:u:with:colons:write', labels)).toBe('User u:with:colons may write')
    expect(describeChange('access_grants.user:*:read', labels)).toBe('Everyone may read')
    expect(describeChange('meta.tags', labels)).toBe('meta.tags')
  })

  it('summarises a plan and an outcome', () => {
    const report = { changed: [{ id: 'a', changes: [] }], unchanged: ['b', 'c'], refused: [] }
    expect(reportSummary(report, false)).toBe('1 model changes, 2 unchanged, 0 refused')
    expect(reportSummary({ ...report, changed: [...report.changed, { id: 'd', changes: [] }] }, true)).toBe('2 models changed, 2 unchanged, 0 refused')
  })
})
