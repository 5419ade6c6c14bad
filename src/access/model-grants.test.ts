import { describe, expect, it } from 'vitest'
import { requestedGrantsOnUpdate, type Grant } from './model-grants.js'

const g = (principal_type: 'user' | 'group', principal_id: string, permission: 'read' | 'write' = 'read'): Grant => ({
  principal_type,
  principal_id,
  permission,
})
const keys = (result: ReturnType<typeof requestedGrantsOnUpdate>) =>
  'conflict' in result ? 'conflict' : result.grants?.map((x) => `${x.principal_type}:${x.principal_id}:${x.permission}`).sort()

describe('requestedGrantsOnUpdate (design.md §2.2: with both forms, the one the client changed wins)', () => {
  const stored = [g('group', 'support')]
  const storedControl = { read: { group_ids: ['support'], user_ids: [] }, write: { group_ids: [], user_ids: [] } }

  it('one form alone is that form; neither is "keep the grants"', () => {
    expect(keys(requestedGrantsOnUpdate({ access_grants: [g('user', 'u1')] }, stored))).toEqual(['user:u1:read'])
    expect(keys(requestedGrantsOnUpdate({ access_control: null }, stored))).toEqual(['user:*:read'])
    expect(requestedGrantsOnUpdate({}, stored)).toEqual({ grants: undefined })
  })

  it('an Open WebUI 0.6 client that makes a private model public: access_control changed, access_grants echoed', () => {
    expect(keys(requestedGrantsOnUpdate({ access_grants: [], access_control: null }, []))).toEqual(['user:*:read'])
  })

  it('a client that changed access_grants and echoed access_control gets its access_grants', () => {
    expect(keys(requestedGrantsOnUpdate({ access_grants: [g('group', 'interns')], access_control: storedControl }, stored))).toEqual(['group:interns:read'])
  })

  it('an echoed access_control is what the client read: public hides the other grants, and public write does not exist', () => {
    const publicWrite = [g('user', '*', 'write'), g('group', 'support')]
    // The client read access_control null; it changed access_grants (dropped the group) and echoed null.
    expect(keys(requestedGrantsOnUpdate({ access_grants: [g('user', '*', 'write')], access_control: null }, publicWrite))).toEqual(['user:*:write'])
    // Both echoed: nothing changes (public write is kept, not narrowed to public read).
    expect(keys(requestedGrantsOnUpdate({ access_grants: publicWrite, access_control: null }, publicWrite))).toEqual(['group:support:read', 'user:*:write'])
  })

  it('both changed and different: a conflict; both changed the same way: that set', () => {
    expect(requestedGrantsOnUpdate({ access_grants: [g('user', 'u1')], access_control: null }, stored)).toEqual({ conflict: true })
    const same = { read: { group_ids: [], user_ids: ['u1'] }, write: { group_ids: [], user_ids: [] } }
    expect(keys(requestedGrantsOnUpdate({ access_grants: [g('user', 'u1')], access_control: same }, stored))).toEqual(['user:u1:read'])
  })
})
