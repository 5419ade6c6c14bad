/**
 * First run (issue #16 item 6): `GET /api/config` says `onboarding: true` while no account exists, so the
 * web app opens "Create the administrator account" at once; the first sign-up becomes the admin, and from
 * then on it says false. It reveals nothing but that boolean (no count, no name).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/env.js'
import { migrateToLatest } from '../src/db/migrator.js'
import { buildApp } from '../src/http/app.js'
import type { App } from '../src/http/route-kit.js'
import { createServices } from '../src/services.js'
import { DIALECTS, openTestDatabase, type TestDatabase } from './support/databases.js'
import { PASSWORD, TEST_SECRET } from './support/harness.js'

describe.each(DIALECTS)('first run on %s', (dialect) => {
  let app: App
  let database: TestDatabase

  beforeAll(async () => {
    database = await openTestDatabase(dialect)
    await migrateToLatest(database)
    const config = loadConfig({ LOG_LEVEL: 'silent', WEBUI_SECRET_KEY: TEST_SECRET })
    app = await buildApp(createServices(config, database, TEST_SECRET), { logger: false })
    await app.ready()
  })

  afterAll(async () => {
    await app?.close()
    await database?.close()
  })

  it('onboarding is true before the first account and false once the admin exists', async () => {
    const fresh = await app.inject({ method: 'GET', url: '/api/config' })
    expect(fresh.statusCode).toBe(200)
    expect(fresh.json().onboarding).toBe(true)
    expect(fresh.body).not.toMatch(/count|users/)

    const signup = await app.inject({ method: 'POST', url: '/api/v1/auths/signup', payload: { name: 'Ada', email: 'ada@example.com', password: PASSWORD } })
    expect(signup.statusCode, signup.body).toBe(200)
    expect(signup.json().role).toBe('admin')

    const after = await app.inject({ method: 'GET', url: '/api/config' })
    expect(after.json().onboarding).toBe(false)
  })
})
