import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { createHarness } from './support/harness.js'
import { openApiDocumentText } from '../scripts/openapi-document.js'

const committed = readFileSync(new URL('../openapi.json', import.meta.url), 'utf8')

describe('openapi.json', () => {
  it('is the document the schemas generate now', async () => {
    const generated = await openApiDocumentText()
    if (generated !== committed) throw new Error('openapi.json is stale: run npm run openapi')
  })

  it('names the main schemas as components and every route declares its error answers', () => {
    const document = JSON.parse(committed) as {
      components: { schemas: Record<string, unknown> }
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>
    }
    const names = [
      'ModelForm',
      'ModelUpdate',
      'ModelResponse',
      'ModelAccessResponse',
      'ModelList',
      'Grant',
      'AccessUpdate',
      'ImportReport',
      'SyncPlan',
      'ErrorResponse',
      'ValidationIssue',
      'User',
      'Session',
      'Group',
      'Connection',
      'ApiKey',
    ]
    expect(Object.keys(document.components.schemas)).toEqual(expect.arrayContaining(names))
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        expect(Object.keys(operation.responses), `${method} ${path}`).toEqual(expect.arrayContaining(['4XX', '5XX']))
      }
    }
  })

  it('is served, as is the JSON of the /docs page, through the response check of the tests', async () => {
    const h = await createHarness('sqlite')
    try {
      for (const url of ['/openapi.json', '/docs/json']) {
        const res = await h.app.inject({ method: 'GET', url })
        expect(res.statusCode, url).toBe(200)
        expect(res.json<{ openapi?: string }>().openapi, url).toMatch(/^3\./)
      }
    } finally {
      await h.close()
    }
  })
})
