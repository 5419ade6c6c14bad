/**
 * Route tests of GET /api/v1/models/model/profile/image (design.md §2.2): inline and default pictures,
 * content types that are never served as such, ETags, and the `token` cookie of <img src>.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { PNG_BASE64, PNG_URI, preset, token } from './support/factories.js'
import type { Harness, TestAccount } from './support/harness.js'
import { createModelsWorld, M, modelsApi } from './support/models.js'
import { expectError } from './support/requests.js'

describe.each(DIALECTS)('models routes: profile images on %s', (dialect) => {
  let h: Harness
  /** A non-admin with workspace.models and sharing.models (not sharing.public_models), distinctive name. */
  let creator: TestAccount
  /** A non-admin with no feature permission. */
  let plain: TestAccount
  let pending: TestAccount
  const { send, create, getModel, tryUpdate, image } = modelsApi(() => h)

  beforeAll(async () => {
    ;({ h, creator, plain, pending } = await createModelsWorld(dialect))
  })
  afterAll(async () => h?.close())

  // ─── GET /model/profile/image ──────────────────────────────────────────────────────────────────
  describe('GET /model/profile/image', () => {
    it('serves a data:image/png;base64 URI decoded, as image/png with an ETag; If-None-Match → 304', async () => {
      const id = `pic-${token()}`
      await create(h.admin, preset(id, { meta: { profile_image_url: PNG_URI }, access_control: null }))
      const res = await image(plain, id)
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toBe('image/png')
      expect(res.rawPayload.equals(Buffer.from(PNG_BASE64, 'base64'))).toBe(true)
      const etag = res.headers['etag']
      expect(typeof etag).toBe('string')
      expect(String(etag)).toMatch(/^(W\/)?".+"$/)
      const again = await image(plain, id, { 'if-none-match': String(etag) })
      expect(again.statusCode).toBe(304)
      expect(again.rawPayload.length).toBe(0)
      const stale = await image(plain, id, { 'if-none-match': '"something-else"' })
      expect(stale.statusCode).toBe(200)
      // A new picture has a new ETag: the old one no longer answers 304.
      const other = `data:image/png;base64,${Buffer.from('not really a png').toString('base64')}`
      expect((await tryUpdate(h.admin, { id, meta: { profile_image_url: other } })).statusCode).toBe(200)
      const changed = await image(plain, id, { 'if-none-match': String(etag) })
      expect(changed.statusCode).toBe(200)
      expect(changed.rawPayload.toString()).toBe('not really a png')
      expect(changed.headers['etag']).not.toBe(etag)
    })

    it('serves the default image, not a redirect, for an https URL whose host PROFILE_IMAGE_HOSTS does not list (none by default)', async () => {
      // Redirects to allowed hosts: test/attack/providers.attack.test.ts (issue #10, hole 9).
      const id = `picurl-${token()}`
      const url = 'https://cdn.example.com/models/tutor.png?v=2'
      await create(h.admin, preset(id, { meta: { profile_image_url: url } }))
      const res = await image(h.admin, id)
      expect(res.statusCode).toBe(200)
      expect(res.headers['location']).toBeUndefined()
      expect(res.headers['content-type']).toMatch(/^image\/svg\+xml/)
    })

    it('serves an image/svg+xml default when the model has no picture', async () => {
      const id = `picnone-${token()}`
      await create(h.admin, preset(id))
      const res = await image(h.admin, id)
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toMatch(/^image\/svg\+xml/)
      expect(res.body).toContain('<svg')
    })

    it('never serves a data:text/html URI as text/html (nor any non-image type); SVG is sandboxed', async () => {
      for (const uri of [
        'data:text/html,<script>alert(document.cookie)</script>',
        'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
        'data:application/javascript,alert(1)',
        'javascript:alert(1)',
      ]) {
        const id = `pichtml-${token()}`
        await create(h.admin, preset(id, { meta: { profile_image_url: uri } }))
        const res = await image(h.admin, id)
        expect([200, 302]).toContain(res.statusCode)
        expect(String(res.headers['content-type'] ?? '')).not.toMatch(/html|javascript/)
        expect(res.body).not.toContain('<script>')
        if (res.statusCode === 302) expect(String(res.headers['location'])).not.toMatch(/^(data|javascript):/)
      }
      const id = `picsvg-${token()}`
      await create(h.admin, preset(id, { meta: { profile_image_url: 'data:image/svg+xml,<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>' } }))
      const svg = await image(h.admin, id)
      expect(svg.headers['content-type']).toMatch(/^image\/svg\+xml/)
      expect(String(svg.headers['content-security-policy'])).toContain('sandbox')
      expect(svg.headers['x-content-type-options']).toBe('nosniff')
    })

    it('a model the caller cannot read → 404; a missing one → 404', async () => {
      const id = `picpriv-${token()}`
      await create(creator, preset(id, { meta: { profile_image_url: PNG_URI } }))
      expectError(await image(plain, id), 404, 'MODEL_NOT_FOUND')
      expectError(await image(h.admin, `nope-${token()}`), 404, 'MODEL_NOT_FOUND')
      expect((await image(creator, id)).statusCode).toBe(200)
    })

    it('accepts the session token in the `token` cookie (for <img src>), and only a valid one', async () => {
      const id = `piccookie-${token()}`
      await create(h.admin, preset(id, { meta: { profile_image_url: PNG_URI }, access_control: null }))
      const res = await h.request({ method: 'GET', url: `${M}/model/profile/image`, query: { id }, headers: { cookie: `theme=dark; token=${plain.token}` } })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.headers['content-type']).toBe('image/png')
      expectError(await h.request({ method: 'GET', url: `${M}/model/profile/image`, query: { id }, headers: { cookie: 'token=garbage' } }), 401, 'UNAUTHORIZED')
      expectError(
        await h.request({ method: 'GET', url: `${M}/model/profile/image`, query: { id }, headers: { cookie: `token=${pending.token}` } }),
        403,
        'ACCESS_PROHIBITED',
      )
      // The cookie is for pictures only: other routes (that could change things) ignore it.
      expectError(await h.request({ method: 'GET', url: `${M}/list`, headers: { cookie: `token=${plain.token}` } }), 401, 'UNAUTHORIZED')
      expectError(
        await h.request({ method: 'POST', url: `${M}/model/toggle`, query: { id }, headers: { cookie: `token=${h.admin.token}` } }),
        401,
        'UNAUTHORIZED',
      )
      expect((await getModel(h.admin, id)).is_active).toBe(true)
    })

    it('accepts extra query parameters (Open WebUI sends lang)', async () => {
      const id = `piclang-${token()}`
      await create(h.admin, preset(id, { meta: { profile_image_url: PNG_URI } }))
      const res = await send(h.admin, { method: 'GET', url: `${M}/model/profile/image?${new URLSearchParams({ id, lang: 'en-US' }).toString()}` })
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toBe('image/png')
    })
  })
})
