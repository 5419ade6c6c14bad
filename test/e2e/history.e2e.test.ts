/**
 * History, optimistic concurrency, audit and trash in the web workspace (issue #12), end to end: a real
 * server process (built dist/ and web/dist, fresh SQLite data dir) driven by Debian's Chromium through
 * playwright-core. One story, in order: the owner edits a preset twice in the editor; a second user
 * with write access saves over a stale version and gets the 412 dialog (Reload, then Overwrite); the
 * owner opens History, compares versions and restores version 1; the admin reads the Audit page
 * (filters, details, Load more, export); the owner deletes a preset and brings it back from the Trash.
 * Every step is photographed at 1280×800 and 390×844 (test-artifacts/screenshots/history-*), and no
 * page may scroll sideways at 390 px.
 *
 * Needs /usr/bin/chromium and fails, never skips, without it. Builds (`npm run build`) first when dist/
 * or web/dist is missing or older than its sources (as workspace.e2e.test.ts does).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer as createHttpServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM, ensureBuilt, SHOTS, startServer, stopServer, type RunningServer } from '../support/e2e-server.js'
import { freePort } from '../support/timing.js'

const PASSWORD = 'correct horse battery'

const ADMIN = { name: 'Ada Admin', email: 'ada@example.com' }
const OWNER = { name: 'Olivia Owner', email: 'olivia@example.com' }
const WRITER = { name: 'Walt Writer', email: 'walt@example.com' }
const BASE = 'llama3.1:8b'
const PRESET = { id: 'sql-tutor', name: 'SQL tutor' }
const DOOMED = { id: 'scratchpad', name: 'Scratchpad' }

const DESKTOP = { width: 1280, height: 800 }
const PHONE = { width: 390, height: 844 }

/**
 * Failed requests the browser logs by design: the stale saves answered 412 (Chromium logs every failed
 * fetch as a console error).
 */
const EXPECTED_FAILURES: { path: string; status: number }[] = [{ path: '/api/v1/models/model/update', status: 412 }]

// ─── The provider (build and server: test/support/e2e-server.ts) ───────────────────────────────────

/** A stand-in for vLLM: serves the one base model the presets build on. */
async function startFakeProvider(): Promise<{ server: Server; url: string }> {
  const server = createHttpServer((request, response) => {
    if (request.method === 'GET' && request.url === '/v1/models') {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ object: 'list', data: [{ id: BASE, object: 'model', created: 0, owned_by: 'fake-lab' }] }))
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
    const url = message.location().url
    const status = /status of (\d{3})/.exec(message.text())?.[1]
    const path = url ? new URL(url, 'http://x').pathname : ''
    if (status && EXPECTED_FAILURES.some((failure) => failure.path === path && String(failure.status) === status)) return
    problems.push(`[${who}] console error: ${message.text()} ${url}`)
  })
  page.on('pageerror', (error) => problems.push(`[${who}] page error: ${error.message}`))
}

/**
 * The step at both widths: a picture at 1280×800, then at 390×844 after checking that the page does not
 * scroll sideways there (a table may scroll inside its own box). The viewport is put back afterwards.
 */
async function shots(page: Page, name: string, fullPage = true): Promise<void> {
  await page.setViewportSize(DESKTOP)
  await page.screenshot({ path: join(SHOTS, `history-${name}.png`), fullPage })
  await page.setViewportSize(PHONE)
  await page.waitForTimeout(100)
  const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth')
  expect(overflow, `${name} scrolls sideways at 390 px`).toBeLessThanOrEqual(0)
  await page.screenshot({ path: join(SHOTS, `history-${name}-390.png`), fullPage })
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

/** Opens the editor of `id` and waits for its form. */
async function openEditor(page: Page, base: string, id: string, name: string): Promise<void> {
  await page.goto(`${base}/workspace/models/edit?id=${encodeURIComponent(id)}`)
  await page.getByRole('heading', { name: `Edit ${name}`, level: 1 }).waitFor()
}

// ─── The story ─────────────────────────────────────────────────────────────────────────────────────

describe('history, concurrency, audit and trash in the web workspace (Chromium)', { timeout: 60_000 }, () => {
  let server: RunningServer | undefined
  let provider: { server: Server; url: string } | undefined
  let browser: Browser | undefined
  let owner: Page
  let writer: Page
  let admin: Page
  let base = ''
  let dataDir = ''
  let ownerToken = ''
  let adminToken = ''
  let testStart = 0

  /** One JSON call to the API (setting the story up, and changes "by someone else" behind a browser). */
  async function api(path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
    const response = await fetch(`${base}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
    const text = await response.text()
    expect(response.status, `${path}: ${text}`).toBe(200)
    return JSON.parse(text) as Record<string, unknown>
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`This e2e test needs Debian's Chromium at ${CHROMIUM}, which is missing. Install it with: apt-get update && apt-get install -y chromium.`)
    }
    ensureBuilt()
    mkdirSync(SHOTS, { recursive: true })
    dataDir = mkdtempSync(join(tmpdir(), 'modelgate-e2e-history-'))
    const port = await freePort()
    base = `http://127.0.0.1:${port}`
    server = await startServer(port, dataDir)
    provider = await startFakeProvider()
    testStart = Date.now()

    // The accounts, the provider and the permissions, through the API: the story is about what follows.
    adminToken = String((await api('/api/v1/auths/signup', null, { ...ADMIN, password: PASSWORD }))['token'])
    const ownerAccount = await api('/api/v1/auths/add', adminToken, { ...OWNER, password: PASSWORD, role: 'user' })
    const writerAccount = await api('/api/v1/auths/add', adminToken, { ...WRITER, password: PASSWORD, role: 'user' })
    await api('/api/v1/connections/create', adminToken, { name: 'Lab vLLM', kind: 'openai', base_url: provider.url })
    await api('/api/v1/connections/refresh', adminToken, {})
    const builders = await api('/api/v1/groups/create', adminToken, {
      name: 'Builders',
      permissions: { workspace: { models: true }, sharing: { models: true } },
      user_ids: [ownerAccount['id'], writerAccount['id']],
    })
    await api('/api/v1/models/model/access/update', adminToken, {
      id: BASE,
      access_grants: [{ principal_type: 'group', principal_id: builders['id'], permission: 'read' }],
    })
    ownerToken = String((await api('/api/v1/auths/signin', null, { email: OWNER.email, password: PASSWORD }))['token'])
    // Version 1: the owner's preset, which Walt may write.
    await api('/api/v1/models/create', ownerToken, {
      id: PRESET.id,
      name: PRESET.name,
      base_model_id: BASE,
      meta: { description: 'Explains SQL' },
      params: { temperature: 0.7, system: 'You teach SQL.' },
      access_grants: [
        { principal_type: 'user', principal_id: writerAccount['id'], permission: 'read' },
        { principal_type: 'user', principal_id: writerAccount['id'], permission: 'write' },
      ],
    })
    await api('/api/v1/models/create', ownerToken, { id: DOOMED.id, name: DOOMED.name, base_model_id: BASE, meta: {}, params: {} })

    const launched = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    })
    browser = launched
    const pages: Page[] = []
    for (const who of ['owner', 'writer', 'admin']) {
      const context = await launched.newContext({ viewport: DESKTOP, acceptDownloads: true })
      context.setDefaultTimeout(15_000)
      const page = await context.newPage()
      watch(page, who)
      pages.push(page)
    }
    ;[owner, writer, admin] = pages as [Page, Page, Page]
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
      ['owner', owner],
      ['writer', writer],
      ['admin', admin],
    ] as const) {
      await page?.screenshot({ path: join(SHOTS, `failure-history-${name}-${who}.png`), fullPage: true }).catch(() => undefined)
    }
  })

  it('the owner edits the preset twice in the editor (versions 2 and 3)', async () => {
    await signIn(owner, base, OWNER)
    await openEditor(owner, base, PRESET.id, PRESET.name)
    await owner.getByText('Editing version 1').waitFor()
    await owner.getByLabel('Description').fill('Explains SQL step by step')
    await owner.getByRole('button', { name: 'Save changes' }).click()
    await expectNotice(owner, `Saved ${PRESET.name}`)
    await owner.waitForURL(`${base}/workspace/models`)

    await openEditor(owner, base, PRESET.id, PRESET.name)
    await owner.getByText('Editing version 2').waitFor()
    expect(await owner.getByLabel('Description').inputValue()).toBe('Explains SQL step by step')
    await owner.getByLabel('Temperature').fill('0.2')
    await owner.getByRole('button', { name: 'Save changes' }).click()
    await expectNotice(owner, `Saved ${PRESET.name}`)
    await owner.waitForURL(`${base}/workspace/models`)
    const model = await api(`/api/v1/models/model?id=${PRESET.id}`, ownerToken)
    expect(model['version']).toBe(3)
    expect((model['params'] as Record<string, unknown>)['temperature']).toBe(0.2)
  })

  it('a writer saving over a stale version sees what changed, reloads, then overwrites', async () => {
    await signIn(writer, base, WRITER)
    await openEditor(writer, base, PRESET.id, PRESET.name)
    await writer.getByText('Editing version 3').waitFor()
    // Meanwhile the owner renames the preset (version 4).
    await api('/api/v1/models/model/update', ownerToken, { id: PRESET.id, name: 'SQL tutor Pro' })
    await writer.getByLabel('System prompt').fill('You teach SQL to beginners.')
    await writer.getByRole('button', { name: 'Save changes' }).click()

    const dialog = writer.getByRole('dialog', { name: 'This model changed since you opened it' })
    await dialog.waitFor()
    await dialog.getByText('You opened version 3; it is now at version 4.').waitFor()
    const nameRow = dialog.locator('tr[data-path="name"]')
    await nameRow.waitFor()
    expect(await nameRow.locator('.diff-old').textContent()).toBe(JSON.stringify(PRESET.name))
    expect(await nameRow.locator('.diff-new').textContent()).toBe(JSON.stringify('SQL tutor Pro'))
    await shots(writer, 'conflict-dialog', false)

    // Reload: the edit is dropped, the form shows version 4.
    await dialog.getByRole('button', { name: /^Reload/ }).click()
    await dialog.waitFor({ state: 'detached' })
    await writer.getByText('Editing version 4').waitFor()
    expect(await writer.getByLabel('Name', { exact: true }).inputValue()).toBe('SQL tutor Pro')
    expect(await writer.getByLabel('System prompt').inputValue()).toBe('You teach SQL.')

    // Stale again (version 5 by the owner); this time the writer keeps their edit with Overwrite.
    await api('/api/v1/models/model/update', ownerToken, { id: PRESET.id, meta: { description: 'Explains SQL step by step, with examples' } })
    await writer.getByLabel('System prompt').fill('You teach SQL to beginners.')
    await writer.getByRole('button', { name: 'Save changes' }).click()
    await dialog.waitFor()
    await dialog.getByText('You opened version 4; it is now at version 5.').waitFor()
    await dialog.locator('tr[data-path="meta.description"]').waitFor()
    await dialog.getByRole('button', { name: 'Overwrite' }).click()
    await expectNotice(writer, 'Saved SQL tutor Pro')
    await writer.waitForURL(`${base}/workspace/models`)
    const model = await api(`/api/v1/models/model?id=${PRESET.id}`, ownerToken)
    expect(model['version']).toBe(6)
    expect((model['params'] as Record<string, unknown>)['system']).toBe('You teach SQL to beginners.')
  })

  it('the owner opens History, compares two versions and restores version 1', async () => {
    await openEditor(owner, base, PRESET.id, 'SQL tutor Pro')
    await owner.getByRole('tab', { name: 'History' }).click()
    const table = owner.getByRole('table', { name: 'Versions of SQL tutor Pro' })
    await table.waitFor()
    expect(await table.locator('tbody tr').count()).toBe(6)
    const row = (version: number) => table.locator(`tr[data-version="${version}"]`)
    expect(await row(6).getByRole('cell', { name: WRITER.name }).count()).toBe(1)
    expect(await row(1).getByRole('cell', { name: OWNER.name }).count()).toBe(1)
    expect(await row(1).getByRole('cell', { name: 'Created' }).count()).toBe(1)
    expect(await row(2).getByRole('cell', { name: 'Edited' }).count()).toBe(1)
    expect(await row(2).getByRole('cell', { name: 'route' }).count()).toBe(1)
    // The two newest are compared until two others are picked.
    await owner.getByRole('heading', { name: 'Changes from version 5 to version 6' }).waitFor()
    await owner.getByLabel('Compare version 6').uncheck()
    await owner.getByLabel('Compare version 5').uncheck()
    await owner.getByLabel('Compare version 1').check()
    await owner.getByLabel('Compare version 3').check()
    await owner.getByRole('heading', { name: 'Changes from version 1 to version 3' }).waitFor()
    const diff = owner.getByRole('table', { name: 'Changes from version 1 to version 3' })
    const temperature = diff.locator('tr[data-path="params.temperature"]')
    await temperature.waitFor()
    expect(await temperature.locator('.diff-old').textContent()).toBe('0.7')
    expect(await temperature.locator('.diff-new').textContent()).toBe('0.2')
    expect(await diff.locator('tr[data-path="meta.description"] .diff-new').textContent()).toBe(JSON.stringify('Explains SQL step by step'))
    expect(await diff.locator('tr[data-path="name"]').count()).toBe(0)
    await shots(owner, 'history')

    await row(1).getByRole('button', { name: 'Restore version 1' }).click()
    const confirm = owner.getByRole('dialog', { name: 'Restore version 1?' })
    await confirm.waitFor()
    expect(await owner.evaluate<string | null>('document.activeElement.textContent')).toBe('Cancel')
    await shots(owner, 'restore-confirmation', false)
    await confirm.getByRole('button', { name: 'Restore' }).click()
    await expectNotice(owner, `Restored version 1 of SQL tutor Pro as version 7`)
    // The editor shows the restored content.
    await owner.getByRole('heading', { name: `Edit ${PRESET.name}`, level: 1 }).waitFor()
    await owner.getByText('Editing version 7').waitFor()
    expect(await owner.getByRole('tab', { name: 'Edit' }).getAttribute('aria-selected')).toBe('true')
    expect(await owner.getByLabel('Name', { exact: true }).inputValue()).toBe(PRESET.name)
    expect(await owner.getByLabel('Description').inputValue()).toBe('Explains SQL')
    expect(await owner.getByLabel('Temperature').inputValue()).toBe('0.7')
    expect(await owner.getByLabel('System prompt').inputValue()).toBe('You teach SQL.')
    await shots(owner, 'restored-editor')
    const model = await api(`/api/v1/models/model?id=${PRESET.id}`, ownerToken)
    expect(model['version']).toBe(7)
    expect(model['name']).toBe(PRESET.name)
  })

  it('the admin reads the audit log: actors, times, filters, details, export', async () => {
    await signIn(admin, base, ADMIN)
    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click()
    await admin.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor()
    const table = admin.getByRole('table', { name: 'Audit entries, newest first' })
    await table.waitFor()
    const updates = table.locator('tr[data-audit-action="model.update"]')
    await updates.first().waitFor()
    // Two saves by the owner in the browser, two by the owner through the API, one by the writer.
    expect(await updates.count()).toBe(5)
    expect(await updates.filter({ hasText: WRITER.name }).count()).toBe(1)
    expect(await updates.filter({ hasText: OWNER.name }).count()).toBe(4)
    await table.locator('tr[data-audit-action="model.restore"]').filter({ hasText: OWNER.name }).waitFor()
    await table.locator('tr[data-audit-action="auth.signin"]').first().waitFor()
    // Times are shown and lie within this test's run.
    const stamp = await updates.first().locator('time').getAttribute('datetime')
    expect(Date.parse(stamp ?? '')).toBeGreaterThanOrEqual(testStart - 1000)
    expect(Date.parse(stamp ?? '')).toBeLessThanOrEqual(Date.now())

    // A prefix filter and an actor filter.
    await admin.getByLabel('Action').fill('model.*')
    await admin.getByLabel('Actor').selectOption({ label: `${WRITER.name} (${WRITER.email})` })
    await admin.getByRole('button', { name: 'Apply filters' }).click()
    await table.locator('tbody tr').first().waitFor()
    await admin.waitForFunction(
      `(() => [...document.querySelectorAll('tr[data-audit-action]')].every((row) => row.getAttribute('data-audit-action').startsWith('model.') && row.textContent.includes(${JSON.stringify(WRITER.name)})))()`,
    )
    expect(await table.locator('tr[data-audit-action]').count()).toBe(1)
    await table.getByRole('button', { name: /^Details of model\.update/ }).click()
    const after = admin.getByLabel('After', { exact: true })
    await after.waitFor()
    // A model entry names the version it made; the version holds the content (History shows it).
    expect(JSON.parse((await after.textContent()) ?? '')).toEqual({ version: 6 })
    await shots(admin, 'audit')

    // Export: NDJSON, oldest first, the filters applied.
    const [download] = await Promise.all([admin.waitForEvent('download'), admin.getByRole('button', { name: 'Export NDJSON' }).click()])
    expect(download.suggestedFilename()).toMatch(/^audit-.*\.ndjson$/)
    const lines = readFileSync(await download.path(), 'utf8')
      .trim()
      .split('\n')
    const entries = lines.map((line) => JSON.parse(line) as { action: string; actor_id: string })
    expect(entries.map((entry) => entry.action)).toEqual(['model.update'])

    // Load more follows the cursor: 60 toggles are a page of 50 and one of 10.
    await admin.getByRole('button', { name: 'Clear' }).click()
    for (let i = 0; i < 60; i++) await api(`/api/v1/models/model/toggle?id=${DOOMED.id}`, ownerToken, {})
    await admin.getByLabel('Action').fill('model.toggle')
    await admin.getByRole('button', { name: 'Apply filters' }).click()
    await admin.getByText('50 entries shown').waitFor()
    await admin.getByRole('button', { name: 'Load more' }).click()
    await admin.getByText('End of the log').waitFor()
    expect(await table.locator('tr[data-audit-action="model.toggle"]').count()).toBe(60)
    await admin.getByText('60 entries shown').waitFor()
  })

  it('the owner deletes a preset and brings it back from the Trash', async () => {
    await openEditor(owner, base, DOOMED.id, DOOMED.name)
    await owner.getByRole('button', { name: 'Delete model…' }).click()
    await owner.getByRole('dialog', { name: 'Delete this model?' }).getByRole('button', { name: 'Delete' }).click()
    await expectNotice(owner, `Deleted ${DOOMED.name}`)
    await owner.waitForURL(`${base}/workspace/models`)
    await owner.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Trash' }).click()
    await owner.getByRole('heading', { name: /^Trash/, level: 1 }).waitFor()
    const row = owner.locator(`tr[data-trash-id="${DOOMED.id}"]`)
    await row.waitFor()
    expect(await row.getByRole('cell', { name: 'you' }).count()).toBe(1)
    await shots(owner, 'trash')

    // The admin sees it too, with its owner's name; the writer (who never owned it) does not.
    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Trash' }).click()
    await admin.locator(`tr[data-trash-id="${DOOMED.id}"]`).getByText(OWNER.name).first().waitFor()
    await writer.goto(`${base}/workspace/trash`)
    await writer.getByText('The trash is empty').waitFor()

    await row.getByRole('button', { name: `Restore ${DOOMED.name}` }).click()
    const confirm = owner.getByRole('dialog', { name: 'Restore this model?' })
    await confirm.getByRole('button', { name: 'Restore' }).click()
    await expectNotice(owner, `Restored ${DOOMED.name}`)
    await row.waitFor({ state: 'detached' })
    await owner.getByText('The trash is empty').waitFor()
    await shots(owner, 'trash-restored')
    await owner.getByRole('link', { name: 'Open it' }).click()
    await owner.getByRole('heading', { name: `Edit ${DOOMED.name}`, level: 1 }).waitFor()
    const model = await api(`/api/v1/models/model?id=${DOOMED.id}`, ownerToken)
    expect(model['name']).toBe(DOOMED.name)
  })

  it('shows the Audit nav item to admins only and refuses the page to others', async () => {
    expect(await owner.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).count()).toBe(0)
    await owner.goto(`${base}/admin/audit`)
    await owner.getByRole('heading', { name: 'Administrators only', level: 1 }).waitFor()
    expect(await owner.getByRole('table').count()).toBe(0)
  })

  it('logged no console errors', () => {
    expect(problems, `server log:\n${server?.log() ?? ''}`).toEqual([])
  })
})
