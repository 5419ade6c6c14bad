import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { createHarness, type Harness } from './support/harness.js'

describe.each(DIALECTS)('foundation on %s', (dialect) => {
  let h: Harness
  beforeAll(async () => {
    h = await createHarness(dialect)
  })
  afterAll(async () => h?.close())

  it('makes the first account admin and reports readiness', async () => {
    expect(h.admin.role).toBe('admin')
    const ready = await h.request({ method: 'GET', url: '/ready' })
    expect(ready.statusCode).toBe(200)
    expect(ready.json()).toEqual({ status: true, database: dialect })
  })
})
