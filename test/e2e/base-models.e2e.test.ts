/**
 * Admin › Base models and broken presets in the web workspace (issue #16 items 4 and 5), end to end: a
 * real server process (built dist/ and web/dist, fresh SQLite data dir) driven by Debian's Chromium
 * through playwright-core. A user who may build presets first finds nothing shared with them (the
 * editor says so); the admin opens Base models, filters by connection and text, shares a raw provider
 * model with everyone (no preset around it), renames and tags another and switches it off; the user then
 * finds the shared model among the base models and in /v1/models. A preset whose base model the
 * provider stops serving shows its warning on its card, in the editor and on the admin's page. Every
 * step is photographed at 1280×800 and 390×844 (test-artifacts/screenshots/base-models-*), and no page
 * may scroll sideways at 390 px.
 *
 * Needs /usr/bin/chromium and fails, never skips, without it.
 */
import { mkdirSync, mkdtempSync, rmSync, existsSync } from 'node:fs'
import { createServer as createHttpServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { jsonApi, CHROMIUM, SHOTS, ensureBuilt, startServer, stopServer, type RunningServer } from '../support/e2e-server.js'
import { freePort } from '../support/timing.js'

const PASSWORD = 'correct horse battery'
const ADMIN = { name: 'Ada Admin', email: 'ada@example.com' }
const USER = { name: 'Uma User', email: 'uma@example.com' }
const OPEN = 'open-7b'
const RAW = 'raw-13b'
const VANISHING = 'vanishing-3b'
const PRESET = { id: 'night-owl', name: 'Night owl' }

const DESKTOP = { width: 1280, height: 800 }
const PHONE = { width: 390, height: 844 }

/** A stand-in for vLLM whose list can change (a model "vanishes"). */
async function startSwitchableProvider(models: string[]): Promise<{ server: Server; url: string; serve: (next: string[]) => void }> {
  let served = models
  const server = createHttpServer((request, response) => {
    if (request.method === 'GET' && request.url === '/v1/models') {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ object: 'list', data: served.map((id) => ({ id, object: 'model', created: 0, owned_by: 'fake-lab' })) }))
      return
    }
    response.writeHead(404, { 'content-type': 'application/json' })
    response.end('{"error":"not found"}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return { server, url: `http://127.0.0.1:${port}/v1`, serve: (next) => (served = next) }
}

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
  await page.screenshot({ path: join(SHOTS, `base-models-${name}.png`), fullPage: true })
  await page.setViewportSize(PHONE)
  await page.waitForTimeout(100)
  const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth')
  expect(overflow, `${name} scrolls sideways at 390 px`).toBeLessThanOrEqual(0)
  await page.screenshot({ path: join(SHOTS, `base-models-${name}-390.png`), fullPage: true })
  await page.setViewportSize(DESKTOP)
}

async function signIn(page: Page, base: string, account: { email: string }): Promise<void> {
  await page.goto(`${base}/signin`)
  await page.getByLabel('Email').fill(account.email)
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { name: /^Models/, level: 1 }).waitFor()
}

describe('Admin › Base models and broken presets in the web workspace (Chromium)', { timeout: 60_000 }, () => {
  let server: RunningServer | undefined
  let provider: Awaited<ReturnType<typeof startSwitchableProvider>> | undefined
  let browser: Browser | undefined
  let admin: Page
  let user: Page
  let base = ''
  let dataDir = ''
  let adminToken = ''
  let userToken = ''

  const api = jsonApi(() => base)
  const ids = async (path: string, token: string) => ((await api(path, token))['data'] as { id: string }[]).map((model) => model.id)
  const row = (id: string) => admin.locator(`tr[data-base-id="${id}"]`)

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`This e2e test needs Debian's Chromium at ${CHROMIUM}, which is missing. Install it with: apt-get update && apt-get install -y chromium.`)
    }
    ensureBuilt()
    mkdirSync(SHOTS, { recursive: true })
    dataDir = mkdtempSync(join(tmpdir(), 'modelgate-e2e-base-models-'))
    const port = await freePort()
    base = `http://127.0.0.1:${port}`
    // Users may build presets (and share them with nobody but themselves).
    server = await startServer(port, dataDir, { USER_PERMISSIONS_WORKSPACE_MODELS_ACCESS: 'true' })
    provider = await startSwitchableProvider([OPEN, RAW, VANISHING])

    adminToken = String((await api('/api/v1/auths/signup', null, { ...ADMIN, password: PASSWORD }))['token'])
    await api('/api/v1/auths/add', adminToken, { ...USER, password: PASSWORD, role: 'user' })
    await api('/api/v1/connections/create', adminToken, { name: 'Lab vLLM', kind: 'openai', base_url: provider.url })
    await api('/api/v1/connections/refresh', adminToken, {})
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
      await page?.screenshot({ path: join(SHOTS, `failure-base-models-${name}-${who}.png`), fullPage: true }).catch(() => undefined)
    }
  })

  it('a user with nothing shared is told so by the editor, not that no provider serves a model', async () => {
    await signIn(user, base, USER)
    await user.goto(`${base}/workspace/models/create`)
    await user.getByText('No models are shared with you yet').waitFor()
    expect(await user.getByText('No provider serves a model').count()).toBe(0)
    await shots(user, 'user-nothing-shared')
  })

  it('the admin opens Base models: every provider model with its connection, no override, admins only; filters by connection and text', async () => {
    await signIn(admin, base, ADMIN)
    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Base models' }).click()
    await admin.getByRole('heading', { name: /^Base models/, level: 1 }).waitFor()
    for (const id of [OPEN, RAW, VANISHING]) await row(id).waitFor()
    await expect(row(RAW).textContent()).resolves.toMatch(/Lab vLLM.*Admins only/s)
    await expect(row(RAW).getByText('No override').count()).resolves.toBe(1)
    await shots(admin, 'list')

    const connection = admin.getByLabel('Connection')
    const labels = await connection.locator('option').allTextContents()
    expect(labels).toEqual(['All connections', 'Lab vLLM (3)'])
    await connection.selectOption({ label: 'Lab vLLM (3)' })
    await admin.waitForFunction("document.querySelectorAll('tr[data-base-id]').length === 3")
    await admin.getByLabel('Search').fill('raw')
    await admin.locator('tr[data-base-id]').first().waitFor()
    await admin.waitForFunction("document.querySelectorAll('tr[data-base-id]').length === 1")
    await shots(admin, 'filtered')
    await admin.getByLabel('Search').fill('')
    await admin.waitForFunction("document.querySelectorAll('tr[data-base-id]').length === 3")
  })

  it('the admin shares the raw model with everyone from the page; the user then sees it as a base model and in /v1/models', async () => {
    expect(await ids('/v1/models', userToken)).not.toContain(RAW)
    await row(RAW)
      .getByRole('button', { name: `Access to ${RAW}` })
      .click()
    const dialog = admin.getByRole('dialog')
    await dialog.getByText('Saving creates the override row').waitFor()
    await dialog.getByRole('radio', { name: /^Public/ }).check()
    await shots(admin, 'share-dialog')
    await dialog.getByRole('button', { name: 'Save access' }).click()
    await dialog.getByText(`${RAW} is now: Public.`).waitFor()
    await dialog.getByRole('button', { name: 'Done' }).click()
    // Exact: "No override" (the row before the refetch) also contains "override" (CI read the old row).
    await row(RAW).getByText('Override', { exact: true }).waitFor()
    await row(RAW)
      .getByText(/Public/)
      .waitFor()
    await expect(row(RAW).textContent()).resolves.toMatch(/Public/)
    await shots(admin, 'shared')

    expect(await ids('/v1/models', userToken)).toContain(RAW)
    await user.reload()
    const select = user.getByLabel('Base model', { exact: true })
    // The select renders before the base-model list arrives: wait for the option itself (CI read it early).
    await select.locator(`option[value="${RAW}"]`).waitFor({ state: 'attached' })
    await expect(select.locator(`option[value="${RAW}"]`).count()).resolves.toBe(1)
    await shots(user, 'user-sees-shared')
  })

  it('the admin renames and tags a model, then switches it off', async () => {
    await row(OPEN)
      .getByRole('button', { name: `Edit ${OPEN}` })
      .click()
    const dialog = admin.getByRole('dialog')
    await dialog.getByLabel('Name').fill('Open 7B')
    await dialog.getByLabel('Tags').fill('fast')
    await dialog.getByLabel('Tags').press('Enter')
    await dialog.getByRole('button', { name: 'Save' }).click()
    await row(OPEN).getByText('Open 7B').waitFor()
    await row(OPEN).getByText('fast').waitFor()

    const toggle = row(OPEN).getByRole('switch', { name: 'On: Open 7B' })
    expect(await toggle.isChecked()).toBe(true)
    await toggle.click({ force: true })
    await admin.waitForFunction(`!document.querySelector('tr[data-base-id="${OPEN}"] input[role=switch]').checked`)
    await shots(admin, 'renamed-off')
    const model = await api(`/api/v1/models/model?id=${OPEN}`, adminToken)
    expect(model).toMatchObject({ name: 'Open 7B', is_active: false, base_model_id: null, meta: { tags: [{ name: 'fast' }] } })
    expect(await ids('/api/models', adminToken)).not.toContain(OPEN)
  })

  it('a preset whose base model vanished shows its warning on its card, in the editor and on the admin’s page', async () => {
    await api('/api/v1/models/model/access/update', adminToken, {
      id: VANISHING,
      access_grants: [{ principal_type: 'user', principal_id: '*', permission: 'read' }],
    })
    const created = await api('/api/v1/models/create', userToken, { id: PRESET.id, name: PRESET.name, base_model_id: VANISHING })
    expect(created['status']).toEqual({ ok: true })
    await user.goto(`${base}/workspace/models`)
    const card = user.locator(`[data-model-id="${PRESET.id}"]`)
    await card.waitFor()
    expect(await card.getByTestId('status-warning').count()).toBe(0)

    provider?.serve([OPEN, RAW])
    await api('/api/v1/connections/refresh', adminToken, {})
    expect(await ids('/v1/models', userToken)).not.toContain(PRESET.id)
    await user.reload()
    await card.getByTestId('status-warning').waitFor()
    await expect(card.getByTestId('status-warning').textContent()).resolves.toContain(`The base model "${VANISHING}" is not available to you`)
    await shots(user, 'card-warning')

    await user.goto(`${base}/workspace/models/edit?id=${PRESET.id}`)
    await user.getByTestId('status-warning').waitFor()
    await expect(user.getByTestId('status-warning').textContent()).resolves.toContain('This model cannot be used now')
    await shots(user, 'editor-warning')

    await admin.reload()
    await row(VANISHING).waitFor()
    await row(VANISHING).getByText('Not served').waitFor()
    await expect(row(VANISHING).getByTestId('status-warning').textContent()).resolves.toContain('No provider serves this model any more.')
    await shots(admin, 'vanished')
    expect(problems).toEqual([])
  })
})
