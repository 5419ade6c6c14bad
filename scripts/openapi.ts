/**
 * Writes the OpenAPI document generated from the routes' zod schemas to `openapi.json` at the repository
 * root (`npm run openapi`, which then regenerates the sdk's types). test/openapi.test.ts fails when the
 * committed file is stale.
 */
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { openApiDocumentText } from './openapi-document.js'

const target = fileURLToPath(new URL('../openapi.json', import.meta.url))
writeFileSync(target, await openApiDocumentText())
console.log(`wrote ${target}`)
