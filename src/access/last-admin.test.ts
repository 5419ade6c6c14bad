import { describe, expect, it } from 'vitest'
import { demotesLastAdmin } from './last-admin.js'

describe('demotesLastAdmin', () => {
  const counting = (admins: number) => {
    const calls = { count: 0 }
    return { calls, countAdmins: () => Promise.resolve((calls.count++, admins)) }
  }

  it('refuses to demote the only admin, to any other role', async () => {
    for (const next of ['user', 'pending']) {
      const { countAdmins } = counting(1)
      await expect(demotesLastAdmin('admin', next, countAdmins)).resolves.toBe(true)
    }
  })

  it('lets an admin go while another admin remains', async () => {
    await expect(demotesLastAdmin('admin', 'user', counting(2).countAdmins)).resolves.toBe(false)
  })

  it('does not count admins (nor take their lock) when the change demotes no admin', async () => {
    for (const [current, next] of [
      ['admin', 'admin'],
      ['admin', undefined],
      ['user', 'pending'],
      ['pending', 'user'],
    ] as const) {
      const { calls, countAdmins } = counting(1)
      await expect(demotesLastAdmin(current, next, countAdmins)).resolves.toBe(false)
      expect(calls.count).toBe(0)
    }
  })
})
