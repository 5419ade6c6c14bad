/**
 * The auth ladder of every route of the registry (/api/v1/models): no token, bad credentials, a revoked
 * API key, pending and non-admin accounts are refused before the admin's call succeeds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { grantKeys, PNG_URI, preset, token } from './support/factories.js'
import type { Harness, InjectOptions, TestAccount } from './support/harness.js'
import type { ModelOut } from './support/model-types.js'
import { createModelsWorld, M, modelsApi } from './support/models.js'
import { bearer, expectError } from './support/requests.js'

describe.each(DIALECTS)('models routes: auth ladder on %s', (dialect) => {
  let h: Harness
  /** A non-admin with workspace.models and sharing.models (not sharing.public_models), distinctive name. */
  let creator: TestAccount
  /** A non-admin with no feature permission. */
  let plain: TestAccount
  let pending: TestAccount
  /** An API key of `plain` that worked and was then revoked. */
  let revokedKey: string
  const { send, create, list, db, rowExists } = modelsApi(() => h)

  beforeAll(async () => {
    ;({ h, creator, plain, pending, revokedKey } = await createModelsWorld(dialect))
  })
  afterAll(async () => h?.close())

  // ─── The auth ladder of every route (last: its success rungs delete things) ─────────────────────
  describe('auth ladder', () => {
    interface Rung {
      route: string
      admin?: boolean
      /** The request without credentials; fixtures are made here. */
      build: () => Promise<InjectOptions>
      /** Checks after the successful call (and that the refused calls changed nothing). */
      verify?: (res: Awaited<ReturnType<Harness['request']>>, request: InjectOptions) => void | Promise<void>
    }
    const fresh = async (extra: Record<string, unknown> = {}) => (await create(h.admin, preset(`ladder-${token()}`, extra))).id
    const routes: Rung[] = [
      { route: 'GET /list', build: () => Promise.resolve({ method: 'GET', url: `${M}/list` }) },
      { route: 'GET /base', admin: true, build: () => Promise.resolve({ method: 'GET', url: `${M}/base` }) },
      {
        route: 'GET /conflicts',
        admin: true,
        build: () => Promise.resolve({ method: 'GET', url: `${M}/conflicts` }),
        verify: (res) => {
          expect(res.json()).toEqual({ items: [] }) // no provider here, so nothing can collide
        },
      },
      { route: 'GET /tags', build: () => Promise.resolve({ method: 'GET', url: `${M}/tags` }) },
      {
        route: 'POST /create',
        build: () => Promise.resolve({ method: 'POST', url: `${M}/create`, payload: preset(`ladder-new-${token()}`) }),
        verify: (res, req) => {
          expect(res.json<ModelOut>().id).toBe((req.payload as { id: string }).id)
        },
      },
      { route: 'GET /model', build: async () => ({ method: 'GET', url: `${M}/model`, query: { id: await fresh() } }) },
      {
        route: 'POST /model/update',
        build: async () => ({ method: 'POST', url: `${M}/model/update`, payload: { id: await fresh(), name: 'Laddered' } }),
        verify: (res) => {
          expect(res.json<ModelOut>().name).toBe('Laddered')
        },
      },
      {
        route: 'POST /model/toggle',
        build: async () => ({ method: 'POST', url: `${M}/model/toggle`, query: { id: await fresh() } }),
        // Refused calls did not flip it: one flip, from true to false.
        verify: (res) => {
          expect(res.json<ModelOut>().is_active).toBe(false)
        },
      },
      {
        route: 'POST /model/access/update',
        build: async () => ({ method: 'POST', url: `${M}/model/access/update`, payload: { id: await fresh(), access_control: null } }),
        verify: (res) => {
          expect(grantKeys(res.json<ModelOut>())).toEqual(['user:*:read'])
        },
      },
      {
        route: 'POST /model/delete',
        build: async () => ({ method: 'POST', url: `${M}/model/delete`, payload: { id: await fresh() } }),
        verify: async (res, req) => {
          expect(res.json()).toBe(true)
          expect(await rowExists((req.payload as { id: string }).id)).toBe(false)
        },
      },
      {
        route: 'DELETE /model/delete (legacy)',
        build: async () => ({ method: 'DELETE', url: `${M}/model/delete`, query: { id: await fresh() } }),
        verify: async (res, req) => {
          expect(res.json()).toBe(true)
          expect(await rowExists(req.query?.['id'] ?? '')).toBe(false)
        },
      },
      { route: 'GET /export', build: () => Promise.resolve({ method: 'GET', url: `${M}/export` }) },
      { route: 'POST /export', build: () => Promise.resolve({ method: 'POST', url: `${M}/export` }) },
      {
        route: 'POST /import',
        build: () => Promise.resolve({ method: 'POST', url: `${M}/import`, payload: { models: [preset(`ladder-imp-${token()}`)] } }),
        // Created on the successful call, so no refused call created it.
        verify: (res, req) => {
          const id = (req.payload as { models: { id: string }[] }).models[0]?.id
          expect(res.json<{ created: string[] }>().created).toEqual([id])
        },
      },
      {
        route: 'POST /sync',
        admin: true,
        build: () => Promise.resolve({ method: 'POST', url: `${M}/sync`, payload: { models: [], dry_run: true } }),
        verify: (res) => {
          expect(res.json<{ dry_run: boolean }>().dry_run).toBe(true)
        },
      },
      {
        route: 'GET /model/profile/image',
        build: async () => ({ method: 'GET', url: `${M}/model/profile/image`, query: { id: await fresh({ meta: { profile_image_url: PNG_URI } }) } }),
      },
      {
        route: 'DELETE /delete/all',
        admin: true,
        build: async () => {
          await fresh()
          return { method: 'DELETE', url: `${M}/delete/all` }
        },
        verify: async (res) => {
          expect(res.json()).toBe(true)
          expect((await list(h.admin)).total).toBe(0)
          expect((await db().selectFrom('models').select('id').execute()).length).toBe(0)
          expect((await db().selectFrom('model_grants').select('id').execute()).length).toBe(0)
          expect((await db().selectFrom('model_tags').select('model_id').execute()).length).toBe(0)
          expect((await send(h.admin, { method: 'GET', url: `${M}/tags` })).json()).toEqual([])
          expect((await send(h.admin, { method: 'GET', url: `${M}/base` })).json()).toEqual([])
        },
      },
    ]

    it.each(routes)('$route: no token 401, garbage 401, revoked key 401, pending 403, non-admin 403 on admin routes, then 200', async (rung) => {
      const request = await rung.build()
      const attempt = (headers: Record<string, string>) => h.request({ ...request, headers: { ...(request.headers ?? {}), ...headers } })
      expectError(await attempt({}), 401, 'UNAUTHORIZED')
      expectError(await attempt(bearer('garbage')), 401, 'UNAUTHORIZED')
      expectError(await attempt({ authorization: 'Basic dXNlcjpwYXNz' }), 401, 'UNAUTHORIZED')
      expectError(await attempt(bearer(`${h.admin.token}x`)), 401, 'UNAUTHORIZED')
      expectError(await attempt(bearer(revokedKey)), 401, 'UNAUTHORIZED')
      expectError(await attempt(pending.auth), 403, 'ACCESS_PROHIBITED')
      if (rung.admin) {
        expectError(await attempt(plain.auth), 403, 'ACCESS_PROHIBITED')
        expectError(await attempt(creator.auth), 403, 'ACCESS_PROHIBITED')
      }
      const res = await attempt(h.admin.auth)
      expect(res.statusCode, res.body).toBe(200)
      await rung.verify?.(res, request)
    })

    it('verified (non-admin) users get 200 on the verified read routes', async () => {
      for (const url of [`${M}/list`, `${M}/tags`]) {
        const res = await send(plain, { method: 'GET', url })
        expect(res.statusCode, res.body).toBe(200)
      }
    })

    it('authentication comes before input validation: no token with a bad input is still 401', async () => {
      const bad: InjectOptions[] = [
        { method: 'POST', url: `${M}/create`, payload: { id: '' } },
        { method: 'GET', url: `${M}/model` },
        { method: 'GET', url: `${M}/list`, query: { limit: '1000' } },
        { method: 'POST', url: `${M}/model/update`, payload: { id: 'x', params: { temperature: 9 } } },
        { method: 'POST', url: `${M}/model/toggle` },
        { method: 'POST', url: `${M}/model/access/update`, payload: { id: 'x', access_control: 5 } },
        { method: 'POST', url: `${M}/model/delete`, payload: {} },
        { method: 'POST', url: `${M}/sync`, payload: { models: 'nope' } },
        { method: 'GET', url: `${M}/model/profile/image` },
      ]
      for (const request of bad) {
        const res = await h.request(request)
        expect(res.statusCode, `${request.method} ${request.url}: ${res.body}`).toBe(401)
      }
    })
  })
})
