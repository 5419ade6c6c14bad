/**
 * The OpenAPI document as committed in `openapi.json` (scripts/openapi.ts writes it, test/openapi.test.ts
 * checks it is current): built from the routes' zod schemas by an app on an in-memory database, with
 * sorted paths and components, 2-space JSON and a trailing newline, nothing that depends on the host,
 * the port or the time.
 */
import { loadConfig } from '../src/config/env.js'
import { createDatabase } from '../src/db/database.js'
import { buildApp } from '../src/http/app.js'
import { createServices } from '../src/services.js'

const SECRET = 'openapi-document-secret-0123456789'

export async function openApiDocumentText(): Promise<string> {
  const config = loadConfig({ LOG_LEVEL: 'silent', WEBUI_SECRET_KEY: SECRET })
  const database = createDatabase({ dialect: 'sqlite', path: ':memory:' })
  const app = await buildApp(createServices(config, database, SECRET), { logger: false, checkResponses: false })
  try {
    await app.ready()
    return `${JSON.stringify(sortedDocument(app.swagger() as Record<string, unknown>), null, 2)}\n`
  } finally {
    await app.close()
  }
}

/** Paths and component schemas in alphabetical order; everything else as generated (deterministic). */
function sortedDocument(document: Record<string, unknown>): Record<string, unknown> {
  const sortKeys = (value: unknown) =>
    value && typeof value === 'object' ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : value
  const components = document['components'] as Record<string, unknown> | undefined
  return {
    ...document,
    paths: sortKeys(document['paths']),
    ...(components && { components: { ...components, schemas: sortKeys(components['schemas']) } }),
  }
}
