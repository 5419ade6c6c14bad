/**
 * The model registry as the route tests drive it: request helpers bound to a harness, and the cast of
 * accounts the models.*.test.ts files share.
 */
import { expect } from 'vitest'
import type { DialectName } from '../../src/db/database.js'
import { createGroup, revokedApiKey } from './accounts.js'
import { token } from './factories.js'
import { createHarness, type Harness, type InjectOptions, type TestAccount } from './harness.js'
import type { AccessModelOut, ListOut, ModelOut } from './model-types.js'

export const M = '/api/v1/models'

/** Helpers of the registry's routes; `harness` is read at each call (it is made in a beforeAll). */
export function modelsApi(harness: () => Harness) {
  const send = (who: TestAccount | undefined, options: InjectOptions) => harness().send(who, options)
  const tryCreate = (who: TestAccount, body: unknown) => send(who, { method: 'POST', url: `${M}/create`, payload: body })
  const create = async (who: TestAccount, body: Record<string, unknown>): Promise<ModelOut> => {
    const res = await tryCreate(who, body)
    expect(res.statusCode, res.body).toBe(200)
    return res.json<ModelOut>()
  }
  const tryGet = (who: TestAccount, id: string) => send(who, { method: 'GET', url: `${M}/model`, query: { id } })
  const getModel = async (who: TestAccount, id: string): Promise<AccessModelOut> => {
    const res = await tryGet(who, id)
    expect(res.statusCode, res.body).toBe(200)
    return res.json<AccessModelOut>()
  }
  const list = async (who: TestAccount, query: Record<string, string> = {}): Promise<ListOut> => {
    const res = await send(who, { method: 'GET', url: `${M}/list`, query })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<ListOut>()
  }
  const tryUpdate = (who: TestAccount, body: unknown, query?: Record<string, string>) =>
    send(who, { method: 'POST', url: `${M}/model/update`, payload: body, ...(query && { query }) })
  const tryAccess = (who: TestAccount, body: unknown) => send(who, { method: 'POST', url: `${M}/model/access/update`, payload: body })
  const image = (who: TestAccount | undefined, id: string, headers: Record<string, string> = {}) =>
    send(who, { method: 'GET', url: `${M}/model/profile/image`, query: { id }, headers })
  const db = () => harness().services.database.db
  const rowExists = async (id: string): Promise<boolean> => (await db().selectFrom('models').select('id').where('id', '=', id).executeTakeFirst()) !== undefined
  const group = (name: string, permissions: Record<string, unknown>, userIds: string[]) => createGroup(harness(), name, permissions, userIds)
  return { send, tryCreate, create, tryGet, getModel, list, tryUpdate, tryAccess, image, db, rowExists, createGroup: group }
}

/** The cast of the registry's route tests, on a fresh instance. */
export interface ModelsWorld {
  h: Harness
  /** A non-admin with workspace.models and sharing.models (not sharing.public_models), distinctive name. */
  creator: TestAccount
  /** A non-admin with no feature permission. */
  plain: TestAccount
  pending: TestAccount
  /** An API key of `plain` that worked and was then revoked. */
  revokedKey: string
  /** The group that gives `creator` its permissions. */
  creatorsGroup: string
  /** A word only `creator`'s name holds. */
  ownerWord: string
}

export async function createModelsWorld(dialect: DialectName): Promise<ModelsWorld> {
  const h = await createHarness(dialect)
  const ownerWord = `quillon${token()}`
  const creator = await h.createUser('user', `Bramble ${ownerWord.toUpperCase()} Smith`)
  const plain = await h.createUser('user')
  const pending = await h.createUser('pending')
  const creatorsGroup = await createGroup(h, 'Creators', { workspace: { models: true }, sharing: { models: true } }, [creator.id])
  // Non-admins build presets only on bases they may use (issue #10, hole 2): the admin shares these.
  await h.shareBase(['base-llm', 'other-base', 'llama3.1:8b'])
  const revokedKey = await revokedApiKey(h, plain, `${M}/list`)
  return { h, creator, plain, pending, revokedKey, creatorsGroup, ownerWord }
}
