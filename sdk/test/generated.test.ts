/**
 * The committed sdk types are what openapi-typescript makes of the committed openapi.json: regenerated
 * here in memory, exactly as `npm run generate -w sdk` writes them
 * (`openapi-typescript ../openapi.json -o src/generated/api.ts --default-non-nullable false`).
 */
import { readFileSync } from 'node:fs'
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript'
import { describe, expect, it } from 'vitest'

const OPENAPI = new URL('../../openapi.json', import.meta.url)
const GENERATED = new URL('../src/generated/api.ts', import.meta.url)

describe('sdk/src/generated/api.ts', () => {
  it('matches the committed openapi.json', async () => {
    // defaultNonNullable off: a request field with a default is optional (zod lists what is required).
    const expected = COMMENT_HEADER + astToString(await openapiTS(OPENAPI, { silent: true, defaultNonNullable: false }))
    const committed = readFileSync(GENERATED, 'utf8')
    if (committed !== expected) expect.fail('sdk types are stale: run npm run openapi')
  })

  it('describes the routes the layer calls', () => {
    const committed = readFileSync(GENERATED, 'utf8')
    for (const path of ['/api/v1/auths/signin', '/api/v1/models/list', '/api/v1/models/model', '/v1/chat/completions']) {
      expect(committed).toContain(`"${path}": {`)
    }
  })
})
