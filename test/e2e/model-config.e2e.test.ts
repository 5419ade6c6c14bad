/**
 * Admin › Model settings in the web workspace (issue #14 item 4), end to end: a real server process
 * (built dist/ and web/dist, fresh SQLite data dir) driven by Debian's Chromium through playwright-core.
 * The admin opens the page, moves a model up with the buttons, marks default and pinned models, types
 * default params, saves, and the runtime list (`/api/models`, `/v1/models`) follows at once; a bad JSON
 * is refused in the page, a bad range by the server (its detail shown); a new preset starts from the
 * defaults; a user gets "Administrators only" and never sees the admin's private model. Every step is
 * photographed at 1280×800 and 390×844 (test-artifacts/screenshots/model-config-*), and no page may
 * scroll sideways at 390 px.
 *
 * Needs /usr/bin/chromium and fails, never skips, without it. Builds (`npm run build`) first when dist/
 * or web/dist is missing or older than its sources (as workspace.e2e.test.ts does).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer as createHttpServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { jsonApi, CHROMIUM, ensureBuilt, SHOTS, startServer, stopServer, type RunningServer } from '../support/e2e-server.js'
import { freePort } from '../support/timing.js'

const PASSWORD = 'correct horse battery'

const ADMIN = { name: 'Ada Admin', email: 'ada@example.com' }
const USER = { name: 'Uma User', email: 'uma@example.com' }
/** Served by the fake provider, in this order; `private-lab` stays the admins'. */
const SERVED = ['alpha-7b', 'beta-13b', 'gamma-70b', 'private-lab']

const DESKTOP = { width: 1280, height: 800 }
const PHONE = { width: 390, height: 844 }

// ─── Build and server: test/support/e2e-server.ts; the provider serves several models in order ─────

/** A stand-in for vLLM: serves SERVED in this order. */
async function startFakeProvider(): Promise<{ server: Server; url: string }> {
  const server = createHttpServer((request, response) => {
    if (request.method === 'GET' && request.url === '/v1/models') {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ object: 'list', data: SERVED.map((id) => ({ id, object: 'model', created: 0, owned_by: 'fake-lab' })) }))
      return
    }
    response.writeHead(404, { 'content-type': 'application/json' })
    response.end('{"error":"not found"}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return { server, url: `http://127.0.0.1:${port}/v1` }
}

// ─── Page helpers ──────────────────────────────────────────────────────────────────────────────────

const problems: string[] = []

function watch(page: Page, who: string): void {
  page.on('console', (message) => {
    if (message.type() !== 'error') return
    // The server's refusal of a bad default is expected (the page shows it).
    if (/status of 400/.test(message.text()) && message.location().url.includes('/api/v1/configs/models')) return
    problems.push(`[${who}] console error: ${message.text()} ${message.location().url}`)
  })
  page.on('pageerror', (error) => problems.push(`[${who}] page error: ${error.message}`))
}

/** The step at both widths; the page must not scroll sideways at 390 px. */
async function shots(page: Page, name: string): Promise<void> {
  await page.setViewportSize(DESKTOP)
  await page.screenshot({ path: join(SHOTS, `model-config-${name}.png`), fullPage: true })
  await page.setViewportSize(PHONE)
  await page.waitForTimeout(100)
  const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth')
  expect(overflow, `${name} scrolls sideways at 390 px`).toBeLessThanOrEqual(0)
  await page.screenshot({ path: join(SHOTS, `model-config-${name}-390.png`), fullPage: true })
  await page.setViewportSize(DESKTOP)
}

async function expectNotice(page: Page, text: string): Promise<void> {
  await page.locator('.notices').getByText(text, { exact: false }).first().waitFor()
}

async function signIn(page: Page, base: string, account: { email: string }): Promise<void> {
  await page.goto(`${base}/signin`)
  await page.getByLabel('Email').fill(account.email)
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { name: /^Models/, level: 1 }).waitFor()
}

/** The model ids of the settings page's list, in page order. */
async function rowIds(page: Page): Promise<string[]> {
  const values: string[] = []
  for (const row of await page.locator('.config-order li').all()) {
    const id = row.locator('.config-id')
    values.push(((await id.count()) > 0 ? await id.textContent() : await row.locator('.config-name').textContent()) ?? '')
  }
  return values
}

// ─── The story ─────────────────────────────────────────────────────────────────────────────────────

describe('Admin › Model settings in the web workspace (Chromium)', { timeout: 60_000 }, () => {
  let server: RunningServer | undefined
  let provider: { server: Server; url: string } | undefined
  let browser: Browser | undefined
  let admin: Page
  let user: Page
  let base = ''
  let dataDir = ''
  let adminToken = ''
  let userToken = ''

  const api = jsonApi(() => base)
  const ids = async (path: string, token: string) => ((await api(path, token))['data'] as { id: string }[]).map((model) => model.id)

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`This e2e test needs Debian's Chromium at ${CHROMIUM}, which is missing. Install it with: apt-get update && apt-get install -y chromium.`)
    }
    ensureBuilt()
    mkdirSync(SHOTS, { recursive: true })
    dataDir = mkdtempSync(join(tmpdir(), 'modelgate-e2e-model-config-'))
    const port = await freePort()
    base = `http://127.0.0.1:${port}`
    server = await startServer(port, dataDir)
    provider = await startFakeProvider()

    adminToken = String((await api('/api/v1/auths/signup', null, { ...ADMIN, password: PASSWORD }))['token'])
    await api('/api/v1/auths/add', adminToken, { ...USER, password: PASSWORD, role: 'user' })
    await api('/api/v1/connections/create', adminToken, { name: 'Lab vLLM', kind: 'openai', base_url: provider.url })
    await api('/api/v1/connections/refresh', adminToken, {})
    // The user may use three of the four (public override rows); private-lab stays the admins'.
    for (const id of SERVED.slice(0, 3)) {
      await api('/api/v1/models/model/access/update', adminToken, {
        id,
        name: id,
        access_grants: [{ principal_type: 'user', principal_id: '*', permission: 'read' }],
      })
    }
    userToken = String((await api('/api/v1/auths/signin', null, { email: USER.email, password: PASSWORD }))['token'])

    const launched = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    })
    browser = launched
    const pages: Page[] = []
    for (const who of ['admin', 'user']) {
      const context = await launched.newContext({ viewport: DESKTOP })
      context.setDefaultTimeout(15_000)
      const page = await context.newPage()
      watch(page, who)
      pages.push(page)
    }
    ;[admin, user] = pages as [Page, Page]
  }, 200_000)

  afterAll(async () => {
    await browser?.close()
    await stopServer(server)
    await new Promise((resolve) => (provider ? provider.server.close(resolve) : resolve(undefined)))
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail') return
    const name = context.task.name.replace(/\W+/g, '-').slice(0, 60)
    for (const [who, page] of [
      ['admin', admin],
      ['user', user],
    ] as const) {
      await page?.screenshot({ path: join(SHOTS, `failure-model-config-${name}-${who}.png`), fullPage: true }).catch(() => undefined)
    }
  })

  it('the admin opens Model settings from the navigation and sees the served models in the providers’ order', async () => {
    await signIn(admin, base, ADMIN)
    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Model settings' }).click()
    await admin.getByRole('heading', { name: 'Model settings', level: 1 }).waitFor()
    await admin.getByText('No custom order').waitFor()
    expect(await rowIds(admin)).toEqual(SERVED)
    await shots(admin, 'initial')
  })

  it('moves gamma to the top with the buttons, marks defaults and pins, types default params, saves; the runtime list follows at once', async () => {
    // Warm the server's cached lists first: the save must make them stale at once.
    expect(await ids('/api/models', adminToken)).toEqual(SERVED)
    await ids('/v1/models', userToken)
    await admin.getByRole('button', { name: 'Move gamma-70b up' }).click()
    await admin.getByRole('button', { name: 'Move gamma-70b up' }).click()
    await admin.getByRole('button', { name: 'Move private-lab up' }).click()
    expect(await rowIds(admin)).toEqual(['gamma-70b', 'alpha-7b', 'private-lab', 'beta-13b'])
    expect(await admin.getByRole('button', { name: 'Move gamma-70b up' }).isDisabled()).toBe(true)
    const row = (id: string) => admin.locator('.config-order li').filter({ hasText: id })
    await row('alpha-7b').getByLabel('Default').check()
    await row('gamma-70b').getByLabel('Pinned').check()
    await row('private-lab').getByLabel('Pinned').check()
    await admin.getByLabel('Default params').fill('{"temperature": 0.4, "max_tokens": -1}')
    await admin.getByLabel('Default meta').fill('{"capabilities": {"vision": true}}')
    await shots(admin, 'edited')
    await admin.getByRole('button', { name: 'Save' }).click()
    await expectNotice(admin, 'Model settings saved.')

    expect(await api('/api/v1/configs/models', adminToken)).toEqual({
      DEFAULT_MODELS: 'alpha-7b',
      DEFAULT_PINNED_MODELS: 'gamma-70b,private-lab',
      MODEL_ORDER_LIST: ['gamma-70b', 'alpha-7b', 'private-lab', 'beta-13b'],
      DEFAULT_MODEL_METADATA: { capabilities: { vision: true } },
      DEFAULT_MODEL_PARAMS: { temperature: 0.4, max_tokens: -1 },
    })
    expect(await ids('/api/models', adminToken)).toEqual(['gamma-70b', 'alpha-7b', 'private-lab', 'beta-13b'])
    // The user's lists follow the order and never show the admin's private model.
    expect(await ids('/api/models', userToken)).toEqual(['gamma-70b', 'alpha-7b', 'beta-13b'])
    expect(await ids('/v1/models', userToken)).toEqual(['gamma-70b', 'alpha-7b', 'beta-13b'])

    // After a reload the page shows what was saved.
    await admin.reload()
    await admin.getByRole('heading', { name: 'Model settings', level: 1 }).waitFor()
    await admin.getByText('Custom order').waitFor()
    expect(await rowIds(admin)).toEqual(['gamma-70b', 'alpha-7b', 'private-lab', 'beta-13b'])
    expect(await row('alpha-7b').getByLabel('Default').isChecked()).toBe(true)
    expect(await row('beta-13b').getByLabel('Pinned').isChecked()).toBe(false)
    await shots(admin, 'saved')
  })

  it('a new preset starts from the defaults (its own values win)', async () => {
    const created = await api('/api/v1/models/create', adminToken, { id: 'tutor', base_model_id: 'alpha-7b', name: 'Tutor', params: { temperature: 0.9 } })
    expect(created['params']).toEqual({ temperature: 0.9, max_tokens: -1 })
    expect(created['meta']).toMatchObject({ capabilities: { vision: true } })
  })

  it('refuses a bad JSON in the page and a bad range at the server, showing why; nothing is saved', async () => {
    await admin.getByLabel('Default params').fill('{"temperature": ')
    await admin.getByRole('button', { name: 'Save' }).click()
    await admin.getByText('Default params is not valid JSON').waitFor()
    await admin.getByLabel('Default params').fill('{"temperature": 5}')
    await admin.getByRole('button', { name: 'Save' }).click()
    await expectNotice(admin, 'Could not save the model settings')
    await admin.locator('form').getByText('temperature', { exact: false }).last().waitFor()
    await shots(admin, 'refused')
    expect((await api('/api/v1/configs/models', adminToken))['DEFAULT_MODEL_PARAMS']).toEqual({ temperature: 0.4, max_tokens: -1 })
  })

  it('resets the order to the providers’ order', async () => {
    await admin.getByLabel('Default params').fill('{"temperature": 0.4, "max_tokens": -1}')
    await admin.getByRole('button', { name: 'Reset order' }).click()
    await admin.getByRole('button', { name: 'Save' }).click()
    await expectNotice(admin, 'Model settings saved.')
    expect((await api('/api/v1/configs/models', adminToken))['MODEL_ORDER_LIST']).toBeNull()
    expect((await ids('/api/models', adminToken)).filter((id) => SERVED.includes(id))).toEqual(SERVED)
  })

  it('a user gets "Administrators only" on the page, no navigation entry, and 403 from the API', async () => {
    await signIn(user, base, USER)
    expect(await user.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Model settings' }).count()).toBe(0)
    await user.goto(`${base}/admin/models`)
    await user.getByText('Administrators only').waitFor()
    await shots(user, 'user-refused')
    await api('/api/v1/configs/models', userToken, undefined, 403)
    await api('/api/v1/configs/models', userToken, { MODEL_ORDER_LIST: ['beta-13b'] }, 403)
  })

  it('logged no unexpected browser errors', () => {
    expect(problems).toEqual([])
  })
})
