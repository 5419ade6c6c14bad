/** The History tab's pure parts: which versions are compared, and how a diff row reads. */
import { describe, expect, it } from 'vitest'
import { describePath, showValue } from './DiffTable'
import { actionLabel, nextPicks } from './versions'

describe('nextPicks', () => {
  it('adds a version, keeping the last two picked', () => {
    expect(nextPicks([], 3)).toEqual([3])
    expect(nextPicks([3], 1)).toEqual([3, 1])
    expect(nextPicks([3, 1], 5)).toEqual([1, 5])
  })

  it('unticks a picked version (so the newest pair is no longer forced back)', () => {
    expect(nextPicks([6, 5], 6)).toEqual([5])
    expect(nextPicks([5], 5)).toEqual([])
  })
})

describe('diff rows', () => {
  it('names grants in words and leaves other paths as they are', () => {
    expect(describePath('access_grants.group:g1:read')).toBe('Access: group g1 may read')
    expect(describePath('access_grants.user:*:write')).toBe('Access: everyone may write')
    expect(describePath('access_grants.user:u:with:colons:write')).toBe('Access: user u:with:colons may write')
    expect(describePath('params.temperature')).toBe('params.temperature')
  })

  it('shows values as JSON so that "1", 1 and [1] never look alike', () => {
    expect(showValue('1')).toBe('"1"')
    expect(showValue(1)).toBe('1')
    expect(showValue([1])).toBe('[ 1 ]')
    expect(showValue({ a: { b: true } })).toBe('{ "a": { "b": true } }')
    expect(showValue(null)).toBe('null')
    expect(showValue(undefined)).toBe('')
  })

  it('labels the recorded actions, and shows an unknown one as it is', () => {
    expect(actionLabel('access_update')).toBe('Access changed')
    expect(actionLabel('something_new')).toBe('something_new')
  })
})
