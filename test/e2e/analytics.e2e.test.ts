/**
 * Issue #17 item 7 in the browser: traffic through a real server process (built dist/, fresh SQLite data
 * dir) to the fake provider is recorded, and the Analytics page shows it: the admin everyone's (with a
 * group filter), a user their own only. Every chart draws bars in an svg. Each page is photographed at
 * 1280×800 and 390×844 (test-artifacts/screenshots/analytics-*), and none may scroll sideways at 390 px.
 *
 * Needs /usr/bin/chromium and fails, never skips, without it.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { jsonApi, CHROMIUM, SHOTS, ensureBuilt, startServer, stopServer, type RunningServer } from '../support/e2e-server.js'
import { startFakeProvider, type FakeProvider } from '../support/fake-provider.js'
import { freePort } from '../support/timing.js'

const PASSWORD = 'correct horse battery'
const ADMIN = { name: 'Ada Admin', email: 'ada@example.com' }
const USER = { name: 'Uma User', email: 'uma@example.com' }
const OTHER = { name: 'Otto Other', email: 'otto@example.com' }
const DESKTOP = { width: 1280, height: 800 }
const PHONE = { width: 390, height: 844 }

const problems: string[] = []

function watch(page: Page, who: string): void {
  page.on('console', (message) => {
    if (message.type() !== 'error') return
    if (/status of (401|404)/.test(message.text())) return
    problems.push(`[${who}] console error: ${message.text()} ${message.location().url}`)
  })
  page.on('pageerror', (error) => problems.push(`[${who}] page error: ${error.message}`))
}

async function shots(page: Page, name: string): Promise<void> {
  await page.setViewportSize(DESKTOP)
  await page.waitForTimeout(200)
  await page.screenshot({ path: join(SHOTS, `analytics-${name}.png`), fullPage: true })
  await page.setViewportSize(PHONE)
  await page.waitForTimeout(300)
  const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth')
  expect(overflow, `${name} scrolls sideways at 390 px`).toBeLessThanOrEqual(0)
  await page.screenshot({ path: join(SHOTS, `analytics-${name}-390.png`), fullPage: true })
  await page.setViewportSize(DESKTOP)
}

async function signIn(page: Page, base: string, account: { email: string }): Promise<void> {
  await page.goto(`${base}/signin`)
  await page.getByLabel('Email').fill(account.email)
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { name: /^Models/, level: 1 }).waitFor()
}

/** The figure of a total at the top of the page. */
const tile = (page: Page, label: string) => page.locator('.analytics-tile', { has: page.locator('dt', { hasText: label }) }).locator('dd')

/** Bars drawn in the chart panel titled `title`. */
const barsIn = (page: Page, title: string) => page.getByRole('region', { name: title }).locator('svg .recharts-bar-rectangle path')

describe('the Analytics page (Chromium)', { timeout: 90_000 }, () => {
  let server: RunningServer | undefined
  let provider: FakeProvider | undefined
  let browser: Browser | undefined
  let admin: Page
  let user: Page
  let base = ''
  let dataDir = ''

  const api = jsonApi(() => base)

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`This e2e test needs Debian's Chromium at ${CHROMIUM}: apt-get install -y chromium.`)
    ensureBuilt()
    mkdirSync(SHOTS, { recursive: true })
    dataDir = mkdtempSync(join(tmpdir(), 'modelgate-e2e-analytics-'))
    const port = await freePort()
    base = `http://127.0.0.1:${port}`
    server = await startServer(port, dataDir)
    // Streams of three chunks 30 ms apart: every call takes a visible time (a latency bar is never 0 high).
    provider = await startFakeProvider({ models: ['alpha-7b', 'beta-13b'], behavior: 'slowStream', chunkDelayMs: 30 })

    // Accounts, a group, a connection, two presets; then traffic from three accounts, one call failing.
    const adminToken = String((await api('/api/v1/auths/signup', null, { ...ADMIN, password: PASSWORD }))['token'])
    const tokens: Record<string, string> = { admin: adminToken }
    for (const [key, account] of [
      ['user', USER],
      ['other', OTHER],
    ] as const) {
      await api('/api/v1/auths/add', adminToken, { ...account, password: PASSWORD, role: 'user' })
      tokens[key] = String((await api('/api/v1/auths/signin', null, { email: account.email, password: PASSWORD }))['token'])
    }
    const group = await api('/api/v1/groups/create', adminToken, { name: 'Research', description: '' })
    const me = await api('/api/v1/auths/', tokens['user'] ?? '')
    await api(`/api/v1/groups/id/${String(group['id'])}/users/add`, adminToken, { user_ids: [me['id']] })
    await api('/api/v1/connections/create', adminToken, { name: 'Fake lab', kind: 'openai', base_url: provider.baseUrl })
    const everyone = [{ principal_type: 'user', principal_id: '*', permission: 'read' }]
    for (const [id, baseModel] of [
      ['tutor', 'alpha-7b'],
      ['coder', 'beta-13b'],
    ]) {
      await api('/api/v1/models/create', adminToken, { id, base_model_id: baseModel, name: id, params: {}, meta: {}, access_grants: everyone })
    }
    const chat = async (who: string, model: string, stream: boolean) => {
      const response = await fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[who] ?? ''}` },
        body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'Hello' }] }),
      })
      await response.text()
      return response.status
    }
    for (const [who, model, times] of [
      ['user', 'tutor', 6],
      ['user', 'coder', 2],
      ['other', 'coder', 4],
      ['admin', 'tutor', 3],
    ] as const) {
      for (let i = 0; i < times; i++) expect(await chat(who, model, true)).toBe(200)
    }
    provider.setBehavior('error500')
    expect(await chat('other', 'coder', false)).toBe(502)
    provider.setBehavior('slowStream')
    // Recorded off the request's path: wait for the flush (every second).
    const deadline = Date.now() + 10_000
    while ((await api('/api/v1/analytics/summary', adminToken))['total_messages'] !== 16) {
      if (Date.now() > deadline) throw new Error('the calls were not recorded within 10 s')
      await new Promise((resolve) => setTimeout(resolve, 200))
    }

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
    const pages: Page[] = []
    for (const who of ['admin', 'user']) {
      const context = await browser.newContext({ viewport: DESKTOP })
      context.setDefaultTimeout(15_000)
      const page = await context.newPage()
      watch(page, who)
      pages.push(page)
    }
    ;[admin, user] = pages as [Page, Page]
    await signIn(admin, base, ADMIN)
    await signIn(user, base, USER)
  }, 200_000)

  afterAll(async () => {
    await browser?.close()
    await stopServer(server)
    await provider?.close()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail') return
    const name = context.task.name.replace(/\W+/g, '-').slice(0, 60)
    for (const [who, page] of [
      ['admin', admin],
      ['user', user],
    ] as const) {
      await page?.screenshot({ path: join(SHOTS, `failure-analytics-${name}-${who}.png`), fullPage: true }).catch(() => undefined)
    }
  })

  it("shows the admin everyone's usage: totals, stacked bars per day and model, latency, errors, top users and groups", async () => {
    await admin.getByRole('link', { name: 'Analytics' }).click()
    await admin.getByRole('heading', { name: 'Analytics', level: 1 }).waitFor()
    await expect.poll(() => tile(admin, 'Calls').textContent()).toBe('16')
    expect(await tile(admin, 'Error rate').textContent()).toBe('6.3%') // 1 error in 16 calls
    expect(await tile(admin, 'Models / users').textContent()).toBe('2 / 3')

    // Two models stacked in today's bar, in both day charts; p50 and p95 per model; one model with errors.
    await expect.poll(() => barsIn(admin, 'Calls per day, by model').count()).toBe(2)
    await expect.poll(() => barsIn(admin, 'Tokens per day, by model').count()).toBe(2)
    await expect.poll(() => barsIn(admin, 'Latency by model (ms)').count()).toBe(4)
    await expect.poll(() => barsIn(admin, 'Error rate by model (%)').count()).toBeGreaterThanOrEqual(1)

    const topUsers = admin.getByRole('region', { name: 'Top users' })
    await expect.poll(() => topUsers.locator('tbody tr').count()).toBe(3)
    expect(await topUsers.locator('tbody tr').first().textContent()).toContain(USER.name)
    const topGroups = admin.getByRole('region', { name: 'Top groups' })
    await expect.poll(() => topGroups.locator('tbody tr').count()).toBe(1)
    expect(await topGroups.textContent()).toContain('Research')
    await shots(admin, 'admin')

    // The group filter: only Uma (the group's one member) remains.
    await admin.getByLabel('Group', { exact: true }).selectOption({ label: 'Research' })
    await expect.poll(() => topUsers.locator('tbody tr').count()).toBe(1)
    expect(await topUsers.textContent()).toContain(USER.name)
    await expect.poll(() => tile(admin, 'Calls').textContent()).toBe('8')
    await shots(admin, 'admin-group')
    expect(problems).toEqual([])
  })

  it('shows a user their own usage only, without a group filter', async () => {
    await user.getByRole('link', { name: 'Analytics' }).click()
    await user.getByRole('heading', { name: 'Analytics', level: 1 }).waitFor()
    await user.getByText('Your usage through the gateway.').waitFor()
    expect(await user.getByLabel('Group', { exact: true }).count()).toBe(0)
    const mine = user.getByRole('region', { name: 'Your usage' })
    await expect.poll(() => mine.locator('tbody tr').count()).toBe(1)
    expect(await mine.textContent()).toContain(USER.name)
    expect(await mine.textContent()).not.toContain(OTHER.name)
    // On a phone the table stacks its cells; each cell names its column (data-label) so the numbers keep their meaning.
    const labels = await Promise.all((await mine.locator('tbody td').all()).map((cell) => cell.getAttribute('data-label')))
    expect(labels).toEqual(['User', 'Calls', 'Tokens'])
    await expect.poll(() => barsIn(user, 'Calls per day, by model').count()).toBe(2)
    expect(await tile(user, 'Calls').textContent()).toBe('8')
    expect(await tile(user, 'Error rate').textContent()).toBe('0.0%')
    await shots(user, 'user')

    // The range selector: the last 24 hours in hourly buckets.
    await user.getByLabel('Range', { exact: true }).selectOption('24h')
    await user.getByRole('region', { name: 'Calls per hour, by model' }).waitFor()
    await expect.poll(() => barsIn(user, 'Calls per hour, by model').count()).toBe(2)
    expect(problems).toEqual([])
  })
})
