/**
 * The benchmark's deterministic dataset (seeded): N models, 10k users, 1k groups, memberships, and
 * grants mixing private, public, group and user grants, loaded in bulk (batched multi-row inserts in
 * one transaction per table) on SQLite or PostgreSQL.
 *
 * Named callers (ids fixed, so the runner can sign their tokens):
 * - `bench-admin`: admin (bypass);
 * - `bench-dense`: member of `g-most`, which may read ~90% of the models (S2);
 * - `bench-sparse`: in no group, granted 10 models directly (S3);
 * - `bench-1k`: granted 1,000 presets directly (S8), owned by the admin so their raw bases are usable.
 *
 * History (issue #12, unless `history: false` for a build older than migration 0006): every model has
 * five versions with full snapshots (create as a private draft, update, access_update, toggle off,
 * toggle on; the last one is the live row and its grants, and `models.version` is 5), two audit entries
 * (model.create, model.update) plus one `auth.signin` per 100 models, and every 100th model a deleted twin `dNNNNNNN` (create + delete
 * versions, no live row: the trash).
 */
import type { Insertable, Kysely } from 'kysely'
import type { DB } from '../src/db/types.js'

export interface DatasetOptions {
  models: number
  users?: number
  groups?: number
  seed?: number
  /** Version and audit rows (needs migration 0006); default true. */
  history?: boolean
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
  /** Whether version and audit rows were generated; each live model then has versions 1..5. */
  history: boolean
  /** Ids of deleted models (their last version is `delete`, no live row). */
  deletedIds: string[]
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

/** Epoch seconds of the dataset's rows. */
const NOW = 1_760_000_000
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
  const now = NOW
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
  /** The models granted to the "1k" user (S8): 1,000 of them, spread over the registry. */
  const for1k = (i: number) => i % Math.max(1, Math.floor(n / 1000)) === 2

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
      const owner = userIds[4 + Math.floor(random() * (userIds.length - 4))] as string
      const base_model_id = i % 200 === 199 ? null : pick(BASE_MODELS)
      yield {
        id,
        // The 1k user's presets are the admin's: a user's preset does not expose its raw base to its
        // readers (access-control.md, hole 2), so S8's /v1/models would list none of them.
        user_id: base_model_id !== null && for1k(i) ? named.adminId : owner,
        base_model_id,
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
  const history = options.history ?? true
  const deletedIds: string[] = []
  let grantSeq = 0
  await db.transaction().execute(async (trx) => {
    const tagRows: { model_id: string; tag_key: string; name: string }[] = []
    const grantRows: DB['model_grants'][] = []
    const versionRows: DB['model_versions'][] = []
    const auditRows: DB['audit_log'][] = []
    const flush = async (force: boolean) => {
      if (tagRows.length >= 1000 || (force && tagRows.length)) await trx.insertInto('model_tags').values(tagRows.splice(0)).execute()
      while (grantRows.length >= 1000 || (force && grantRows.length)) await trx.insertInto('model_grants').values(grantRows.splice(0, 1000)).execute()
      while (versionRows.length >= 1000 || (force && versionRows.length)) await trx.insertInto('model_versions').values(versionRows.splice(0, 1000)).execute()
      while (auditRows.length >= 1000 || (force && auditRows.length)) await trx.insertInto('audit_log').values(auditRows.splice(0, 1000)).execute()
    }
    await insertBatches(models(), 1000, async (batch) => {
      await trx
        .insertInto('models')
        .values(batch.map(({ tags: _tags, ...row }) => (history ? { ...row, version: 5 } : row)))
        .execute()
      for (const model of batch) {
        for (const name of model.tags) tagRows.push({ model_id: model.id, tag_key: name.toLowerCase(), name })
        const i = Number(model.id.slice(1))
        const grants: Grant[] = []
        const grant = (principal_type: 'user' | 'group', principal_id: string, permission: 'read' | 'write') => {
          grants.push({ principal_type, principal_id, permission })
          grantRows.push({ id: `gr${grantSeq++}`, model_id: model.id, principal_type, principal_id, permission, created_at: now })
        }
        if (i % 10 !== 0) grant('group', 'g-most', 'read') // ~90%: the dense user's reach
        const roll = random()
        if (roll < 0.6) grant('group', groupIds[1 + Math.floor(random() * (groupIds.length - 1))] as string, roll < 0.1 ? 'write' : 'read')
        else if (roll < 0.7) grant('user', userIds[4 + Math.floor(random() * (userIds.length - 4))] as string, 'read')
        // else: private (owner only), ~30%
        if (i < 5) grant('user', '*', 'read') // a handful of public models
        if (model.base_model_id !== null && i % Math.max(1, Math.floor(n / 10)) === 1) grant('user', named.sparseUserId, 'read')
        if (model.base_model_id !== null && for1k(i)) grant('user', named.user1kId, 'read')
        if (history) {
          versionRows.push(...versionsOf(model, grants, i))
          auditRows.push(...auditOf(model.id, model.user_id, i, [1, 2]))
          if (i % 100 === 25) {
            // A rare action (1 per 100 models): what a filter on `auth.*` has to find among model entries.
            const at = (now + i) * 1000 + 30_000
            auditRows.push({
              id: `${String(at).padStart(13, '0')}-0000-${(0x61000000 + i).toString(16)}`,
              at,
              actor_id: model.user_id,
              action: 'auth.signin',
              target_type: 'user',
              target_id: model.user_id,
              ip: '127.0.0.1',
              request_id: `bench-signin-${i}`,
              before: null,
              after: null,
            })
          }
          if (i % 100 === 50) {
            // A deleted twin: created, then deleted (its last version holds the last state).
            const id = `d${model.id.slice(1)}`
            deletedIds.push(id)
            const deleted = { ...model, id }
            const snapshot = snapshotText(deleted, grants, {})
            const at = (now + i) * 1000
            versionRows.push(
              { model_id: id, version: 1, created_at: at, user_id: model.user_id, action: 'create', source: 'route', owner_id: model.user_id, snapshot },
              { model_id: id, version: 2, created_at: at + HOUR, user_id: model.user_id, action: 'delete', source: 'route', owner_id: model.user_id, snapshot },
            )
            auditRows.push(...auditOf(id, model.user_id, i, [1, 2], 'model.delete'))
          }
        }
      }
      await flush(false)
    })
    await flush(true)
    await trx.updateTable('registry_state').set({ version: 1 }).where('key', '=', 'models').execute()
  })
  return { ...named, tag: 'rare-tag', query: 'needle', baseModels: BASE_MODELS, history, deletedIds }

  /**
   * Five versions ending in the live state: a private draft (create), the final name and params
   * (update), the final grants (access_update), toggled off and on again.
   */
  function versionsOf(model: GeneratedModel, grants: readonly Grant[], i: number): DB['model_versions'][] {
    const at = (now + i) * 1000
    const draft = { name: `${model.name} (draft)`, params: JSON.stringify({ temperature: 0.7 }) }
    const steps: [DB['model_versions']['action'], string][] = [
      ['create', snapshotText({ ...model, ...draft }, [], {})],
      ['update', snapshotText(model, [], {})],
      ['access_update', snapshotText(model, grants, {})],
      ['toggle', snapshotText(model, grants, { is_active: false })],
      ['toggle', snapshotText(model, grants, {})],
    ]
    return steps.map(([action, snapshot], k) => ({
      model_id: model.id,
      version: k + 1,
      created_at: at + k * HOUR,
      user_id: model.user_id,
      action,
      source: 'route',
      owner_id: model.user_id,
      snapshot,
    }))
  }
}

const HOUR = 3_600_000

interface Grant {
  principal_type: 'user' | 'group'
  principal_id: string
  permission: 'read' | 'write'
}

interface GeneratedModel {
  id: string
  user_id: string
  base_model_id: string | null
  name: string
  params: string
  meta: string
  is_active: number
  created_at: number
}

const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/** A ModelSnapshot (src/models/model-versions.ts) as the server writes it: grants sorted, JSON text. */
function snapshotText(model: GeneratedModel, grants: readonly Grant[], change: { is_active?: boolean }): string {
  return JSON.stringify({
    id: model.id,
    user_id: model.user_id,
    base_model_id: model.base_model_id,
    name: model.name,
    params: JSON.parse(model.params) as unknown,
    meta: JSON.parse(model.meta) as unknown,
    is_active: change.is_active ?? model.is_active === 1,
    access_grants: [...grants].sort(
      (a, b) => order(a.principal_type, b.principal_type) || order(a.principal_id, b.principal_id) || order(a.permission, b.permission),
    ),
  })
}

/**
 * Audit entries of a model at the times of the given versions, with ids as src/audit/audit-log.ts
 * makes them (13 digits of milliseconds, a counter, 8 hex digits; here the model's index, so unique).
 */
function auditOf(id: string, actor: string, i: number, versions: readonly number[], lastAction = 'model.update'): DB['audit_log'][] {
  return versions.map((version, k) => {
    const at = (NOW + i) * 1000 + (version - 1) * HOUR
    return {
      id: `${String(at).padStart(13, '0')}-${String(k).padStart(4, '0')}-${(id.charCodeAt(0) * 0x1000000 + i).toString(16).padStart(8, '0').slice(-8)}`,
      at,
      actor_id: actor,
      action: k === 0 ? 'model.create' : lastAction,
      target_type: 'model',
      target_id: id,
      ip: '127.0.0.1',
      request_id: `bench-${id}-${version}`,
      before: null,
      after: JSON.stringify({ version }),
    }
  })
}
