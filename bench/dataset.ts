/**
 * The benchmark's deterministic dataset (seeded): N models, 10k users, 1k groups, memberships, and
 * grants mixing private, public, group and user grants, loaded in bulk (batched multi-row inserts in
 * one transaction per table) on SQLite or PostgreSQL.
 *
 * Named callers (ids fixed, so the runner can sign their tokens):
 * - `bench-admin`: admin (bypass);
 * - `bench-dense`: member of `g-most`, which may read ~90% of the models (S2);
 * - `bench-sparse`: in no group, granted 10 models directly (S3);
 * - `bench-1k`: granted 1,000 presets directly (S8).
 */
import type { Insertable, Kysely } from 'kysely'
import type { DB } from '../src/db/types.js'

export interface DatasetOptions {
  models: number
  users?: number
  groups?: number
  seed?: number
}

export interface Dataset {
  adminId: string
  denseUserId: string
  sparseUserId: string
  user1kId: string
  /** A tag carried by ~1% of the models, and a text that matches ~1% of names (S4). */
  tag: string
  query: string
  /** The provider model ids the presets are based on (the fake provider serves them). */
  baseModels: string[]
}

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const BASE_MODELS = ['llama3.1:8b', 'qwen2.5:7b', 'mistral:7b', 'gemma2:9b']
const TAGS = ['sql', 'writing', 'code', 'support', 'research', 'legal', 'math', 'translate']

async function insertBatches<T>(rows: Iterable<T>, batchSize: number, insert: (batch: T[]) => Promise<unknown>): Promise<void> {
  let batch: T[] = []
  for (const row of rows) {
    batch.push(row)
    if (batch.length === batchSize) {
      await insert(batch)
      batch = []
    }
  }
  if (batch.length > 0) await insert(batch)
}

export async function generateDataset(db: Kysely<DB>, options: DatasetOptions): Promise<Dataset> {
  const random = prng(options.seed ?? 42)
  const userCount = options.users ?? 10_000
  const groupCount = options.groups ?? 1_000
  const n = options.models
  const now = 1_760_000_000
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T

  const named = { adminId: 'bench-admin', denseUserId: 'bench-dense', sparseUserId: 'bench-sparse', user1kId: 'bench-1k' }
  const userIds = [named.adminId, named.denseUserId, named.sparseUserId, named.user1kId]
  for (let i = userIds.length; i < userCount; i++) userIds.push(`u${i}`)
  const groupIds = ['g-most']
  for (let i = 1; i < groupCount; i++) groupIds.push(`g${i}`)

  await db.transaction().execute(async (trx) => {
    await insertBatches(
      userIds.map((id, i): Insertable<DB['users']> => ({
        id,
        email: `${id}@bench.example`,
        name: i === 0 ? 'Bench Admin' : `User ${id}`,
        role: i === 0 ? 'admin' : 'user',
        profile_image_url: '',
        created_at: now,
        updated_at: now,
      })),
      1000,
      (batch) => trx.insertInto('users').values(batch).execute(),
    )
    await insertBatches(
      groupIds.map((id) => ({
        id,
        user_id: named.adminId,
        name: `Group ${id}`,
        description: '',
        permissions: '{"workspace":{"models":true}}',
        created_at: now,
        updated_at: now,
      })),
      1000,
      (batch) => trx.insertInto('groups').values(batch).execute(),
    )
    // Each ordinary user is in 3 random groups; the dense user is in g-most only.
    function* memberships() {
      yield { group_id: 'g-most', user_id: named.denseUserId, created_at: now }
      for (let i = 4; i < userIds.length; i++) {
        const chosen = new Set<string>()
        while (chosen.size < 3) chosen.add(groupIds[1 + Math.floor(random() * (groupIds.length - 1))] as string)
        for (const group_id of chosen) yield { group_id, user_id: userIds[i] as string, created_at: now }
      }
    }
    await insertBatches(memberships(), 1000, (batch) => trx.insertInto('group_members').values(batch).execute())
  })

  // Models: mostly presets; every 200th an override row of nothing (not served), so /base has rows too.
  function* models() {
    for (let i = 0; i < n; i++) {
      const id = `m${String(i).padStart(7, '0')}`
      const tags = [pick(TAGS)]
      if (i % 100 === 7) tags.push('rare-tag')
      yield {
        id,
        user_id: userIds[4 + Math.floor(random() * (userIds.length - 4))] as string,
        base_model_id: i % 200 === 199 ? null : pick(BASE_MODELS),
        name: i % 100 === 7 ? `Needle helper ${i}` : `${pick(['SQL', 'Writer', 'Coder', 'Helper', 'Tutor', 'Analyst'])} ${i}`,
        params: JSON.stringify({ temperature: Math.round(random() * 200) / 100, system: `You are preset ${i}.` }),
        meta: JSON.stringify({ description: `Benchmark preset ${i}`, tags: tags.map((name) => ({ name })) }),
        is_active: 1,
        created_at: now + i,
        updated_at: now + Math.floor(random() * n),
        tags,
      }
    }
  }
  let grantSeq = 0
  await db.transaction().execute(async (trx) => {
    const tagRows: { model_id: string; tag_key: string; name: string }[] = []
    const grantRows: DB['model_grants'][] = []
    const flush = async (force: boolean) => {
      if (tagRows.length >= 1000 || (force && tagRows.length)) await trx.insertInto('model_tags').values(tagRows.splice(0)).execute()
      while (grantRows.length >= 1000 || (force && grantRows.length)) await trx.insertInto('model_grants').values(grantRows.splice(0, 1000)).execute()
    }
    await insertBatches(models(), 1000, async (batch) => {
      await trx
        .insertInto('models')
        .values(batch.map(({ tags: _tags, ...row }) => row))
        .execute()
      for (const model of batch) {
        for (const name of model.tags) tagRows.push({ model_id: model.id, tag_key: name.toLowerCase(), name })
        const i = Number(model.id.slice(1))
        const grant = (principal_type: 'user' | 'group', principal_id: string, permission: 'read' | 'write') =>
          grantRows.push({ id: `gr${grantSeq++}`, model_id: model.id, principal_type, principal_id, permission, created_at: now })
        if (i % 10 !== 0) grant('group', 'g-most', 'read') // ~90%: the dense user's reach
        const roll = random()
        if (roll < 0.6) grant('group', groupIds[1 + Math.floor(random() * (groupIds.length - 1))] as string, roll < 0.1 ? 'write' : 'read')
        else if (roll < 0.7) grant('user', userIds[4 + Math.floor(random() * (userIds.length - 4))] as string, 'read')
        // else: private (owner only), ~30%
        if (i < 5) grant('user', '*', 'read') // a handful of public models
        if (model.base_model_id !== null && i % Math.max(1, Math.floor(n / 10)) === 1) grant('user', named.sparseUserId, 'read')
        if (model.base_model_id !== null && i % Math.max(1, Math.floor(n / 1000)) === 2) grant('user', named.user1kId, 'read')
      }
      await flush(false)
    })
    await flush(true)
    await trx.updateTable('registry_state').set({ version: 1 }).where('key', '=', 'models').execute()
  })
  return { ...named, tag: 'rare-tag', query: 'needle', baseModels: BASE_MODELS }
}
