/**
 * Single sign-on in the browser (issue #15, "Done when"): a real server process (built dist/ and
 * web/dist, fresh SQLite data dir) configured for OpenID Connect against an in-process `oidc-provider`
 * on 127.0.0.1, driven by Debian's Chromium through playwright-core. Carol, unknown to modelgate, clicks
 * "Sign in with Test IdP", is signed in by the provider and lands on the models workspace with the groups
 * of her claim (Engineering, Sales), seeing exactly the models those groups are granted; the provider
 * drops Sales, and at her next sign-in the group is gone here and so is its model. A refused sign-in
 * (a domain that is not allowed) ends on the sign-in page with the reason and no session. The admin sees
 * the groups marked as managed by single sign-on, and the effective configuration with the secret masked.
 * Every step is photographed at 1280×800 and 390×844 (test-artifacts/screenshots/sso-*), and no page may
 * scroll sideways at 390 px.
 *
 * Needs /usr/bin/chromium and fails, never skips, without it.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { jsonApi, CHROMIUM, ensureBuilt, SHOTS, startFakeProvider, startServer, stopServer, type RunningServer } from '../support/e2e-server.js'
import { oidcEnv, startOidcProvider, type TestProvider } from '../support/oidc-provider.js'
import { freePort } from '../support/timing.js'

const PASSWORD = 'correct horse battery'
const ADMIN = { name: 'Ada Admin', email: 'ada@example.com' }
const CAROL = { sub: 'carol-0001', email: 'carol@example.com', name: 'Carol Chen' }
const BASE = 'llama3.1:8b'
const ENG_MODEL = { id: 'eng-assistant', name: 'Engineering assistant' }
const SALES_MODEL = { id: 'sales-coach', name: 'Sales coach' }
const PRIVATE_MODEL = { id: 'board-notes', name: 'Board notes' }

const DESKTOP = { width: 1280, height: 800 }
const PHONE = { width: 390, height: 844 }

const problems: string[] = []

function watch(page: Page, who: string): void {
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`[${who}] console error: ${message.text()} ${message.location().url}`)
  })
  page.on('pageerror', (error) => problems.push(`[${who}] page error: ${error.message}`))
}

/** The step at both widths; the page must not scroll sideways at 390 px. */
async function shots(page: Page, name: string): Promise<void> {
  await page.setViewportSize(DESKTOP)
  await page.screenshot({ path: join(SHOTS, `sso-${name}.png`), fullPage: true })
  await page.setViewportSize(PHONE)
  await page.waitForTimeout(100)
  const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth')
  expect(overflow, `${name} scrolls sideways at 390 px`).toBeLessThanOrEqual(0)
  await page.screenshot({ path: join(SHOTS, `sso-${name}-390.png`), fullPage: true })
  await page.setViewportSize(DESKTOP)
}

/** The model cards shown on the models page, by id, sorted. */
async function cardIds(page: Page): Promise<string[]> {
  const ids: string[] = []
  for (const card of await page.locator('li.model-card').all()) ids.push((await card.getAttribute('data-model-id')) ?? '')
  return ids.sort()
}

describe('single sign-on in the web workspace (Chromium)', { timeout: 90_000 }, () => {
  let server: RunningServer | undefined
  let models: Awaited<ReturnType<typeof startFakeProvider>> | undefined
  let idp: TestProvider | undefined
  let browser: Browser | undefined
  let carol: Page
  let admin: Page
  let base = ''
  let dataDir = ''
  let adminToken = ''
  const groupIds: Record<string, string> = {}

  const api = jsonApi(() => base)

  async function signInWithSso(page: Page): Promise<void> {
    await page.goto(`${base}/signin`)
    await page.getByRole('link', { name: 'Sign in with Test IdP' }).click()
    await page.getByRole('heading', { name: /^Models/, level: 1 }).waitFor()
    await page.waitForURL(`${base}/workspace/models`)
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`This e2e test needs Debian's Chromium at ${CHROMIUM}, which is missing. Install it with: apt-get update && apt-get install -y chromium.`)
    }
    ensureBuilt()
    mkdirSync(SHOTS, { recursive: true })
    dataDir = mkdtempSync(join(tmpdir(), 'modelgate-e2e-sso-'))
    const port = await freePort()
    base = `http://127.0.0.1:${port}`
    const redirect = `${base}/oauth/oidc/callback`
    idp = await startOidcProvider({ redirectUri: redirect })
    idp.account({ ...CAROL, email_verified: true, roles: ['staff'], groups: ['Engineering', 'Sales'] })
    idp.account({ sub: 'mallory-0001', email: 'mallory@elsewhere.example', email_verified: true, roles: ['staff'] })
    // The provider's login screen signs in Carol (the refused sign-in switches to Mallory and back).
    idp.as(CAROL.sub)
    server = await startServer(
      port,
      dataDir,
      oidcEnv(idp, redirect, {
        OAUTH_ALLOWED_DOMAINS: 'example.com',
        ENABLE_OAUTH_ROLE_MANAGEMENT: 'true',
        OAUTH_ALLOWED_ROLES: 'staff',
        OAUTH_ADMIN_ROLES: 'it-admin',
        ENABLE_OAUTH_GROUP_MANAGEMENT: 'true',
        ENABLE_OAUTH_GROUP_CREATION: 'true',
      }),
    )
    models = await startFakeProvider(BASE)

    adminToken = String(((await api('/api/v1/auths/signup', null, { ...ADMIN, password: PASSWORD })) as { token: string }).token)
    await api('/api/v1/connections/create', adminToken, { name: 'Lab vLLM', kind: 'openai', base_url: models.url })
    await api('/api/v1/connections/refresh', adminToken, {})
    // The groups exist before Carol's first sign-in: the sync reuses them by name (and marks them managed).
    for (const name of ['Engineering', 'Sales']) {
      groupIds[name] = String(((await api('/api/v1/groups/create', adminToken, { name })) as { id: string }).id)
    }
    const grant = (group: string) => [{ principal_type: 'group', principal_id: groupIds[group], permission: 'read' }]
    for (const [model, grants] of [
      [ENG_MODEL, grant('Engineering')],
      [SALES_MODEL, grant('Sales')],
      [PRIVATE_MODEL, []],
    ] as const) {
      await api('/api/v1/models/create', adminToken, { id: model.id, name: model.name, base_model_id: BASE, meta: {}, params: {}, access_grants: grants })
    }

    const launched = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    })
    browser = launched
    const pages: Page[] = []
    for (const who of ['carol', 'admin']) {
      const context = await launched.newContext({ viewport: DESKTOP })
      context.setDefaultTimeout(15_000)
      const page = await context.newPage()
      watch(page, who)
      pages.push(page)
    }
    ;[carol, admin] = pages as [Page, Page]
  }, 200_000)

  afterAll(async () => {
    await browser?.close()
    await stopServer(server)
    await new Promise((resolve) => (models ? models.server.close(resolve) : resolve(undefined)))
    await idp?.close()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail') return
    const name = context.task.name.replace(/\W+/g, '-').slice(0, 60)
    for (const [who, page] of [
      ['carol', carol],
      ['admin', admin],
    ] as const) {
      await page?.screenshot({ path: join(SHOTS, `failure-sso-${name}-${who}.png`), fullPage: true }).catch(() => undefined)
    }
  })

  it('a new user signs in with "Sign in with Test IdP" and sees exactly the models her groups grant', async () => {
    await carol.goto(`${base}/signin`)
    await carol.getByRole('link', { name: 'Sign in with Test IdP' }).waitFor()
    await shots(carol, 'signin')
    await signInWithSso(carol)
    // The token left the address bar at once.
    expect(carol.url()).not.toContain('token=')
    // The list loads after the page: wait for it to settle on the answer.
    await expect.poll(() => cardIds(carol), { timeout: 15_000 }).toEqual([ENG_MODEL.id, SALES_MODEL.id].sort())
    await shots(carol, 'models-two-groups')
    const me = (await api('/api/v1/users/', adminToken)) as { users: { email: string; group_ids: string[]; role: string }[] }
    const account = me.users.find((user) => user.email === CAROL.email)
    expect(account?.role).toBe('user')
    expect(account?.group_ids.sort()).toEqual([groupIds['Engineering'], groupIds['Sales']].sort())
  })

  it('the provider removes Sales: the next sign-in removes the group here and its model disappears', async () => {
    idp?.account({ ...CAROL, email_verified: true, roles: ['staff'], groups: ['Engineering'] })
    await carol.getByRole('button', { name: 'Sign out' }).click()
    await carol.getByRole('link', { name: 'Sign in with Test IdP' }).waitFor()
    await signInWithSso(carol)
    await expect.poll(() => cardIds(carol), { timeout: 15_000 }).toEqual([ENG_MODEL.id])
    await shots(carol, 'models-one-group')
    const sales = (await api(`/api/v1/groups/id/${groupIds['Sales']}`, adminToken)) as { user_ids: string[]; managed_by: string | null }
    expect(sales.user_ids).toEqual([])
    expect(sales.managed_by).toBe('oidc')
  })

  it('a refused sign-in ends on the sign-in page with the reason, and no session', async () => {
    idp?.as('mallory-0001')
    if (!browser) throw new Error('no browser')
    const context = await browser.newContext({ viewport: DESKTOP })
    const page = await context.newPage()
    watch(page, 'mallory')
    // The provider signs in whoever the test chose for the next interaction.
    await page.goto(`${base}/signin`)
    await page.getByRole('link', { name: 'Sign in with Test IdP' }).click()
    await page.getByText('Accounts of your email domain may not sign in here.').waitFor()
    expect(new URL(page.url()).pathname).toBe('/signin')
    expect(await page.evaluate<string | null>("localStorage.getItem('token')")).toBeNull()
    await shots(page, 'refused')
    await context.close()
    idp?.as(CAROL.sub)
  })

  it('the admin sees the groups as managed by single sign-on, and the effective configuration with the secret masked', async () => {
    await admin.goto(`${base}/signin`)
    await admin.getByLabel('Email').fill(ADMIN.email)
    await admin.getByLabel('Password').fill(PASSWORD)
    await admin.getByRole('button', { name: 'Sign in', exact: true }).click()
    await admin.getByRole('heading', { name: /^Models/, level: 1 }).waitFor()
    await admin.goto(`${base}/admin/groups?id=${groupIds['Engineering']}`)
    await admin.getByRole('heading', { name: /Engineering/, level: 2 }).waitFor()
    await admin.getByText('Members are synced from the identity provider').waitFor()
    expect(await admin.getByRole('button', { name: /^Remove / }).count()).toBe(0)
    expect(await admin.getByLabel('Add members').count()).toBe(0)
    await shots(admin, 'admin-groups')
    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Single sign-on' }).click()
    await admin.getByRole('heading', { name: 'Single sign-on', level: 1 }).waitFor()
    const secretRow = admin.getByRole('row', { name: /OAUTH_CLIENT_SECRET/ })
    await expect.poll(async () => secretRow.textContent()).toMatch(/set/)
    expect(await admin.content()).not.toContain('modelgate-test-client-secret')
    await shots(admin, 'admin-settings')
    expect(problems).toEqual([])
  })
})
