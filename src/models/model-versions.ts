/**
 * Model versions (issue #12): every change of a model's content or access writes a full snapshot in
 * the transaction that makes it. Version numbers are per model id and gapless: the live row's
 * `version` column is the current one (its ETag); a new row on an id with history continues its
 * numbering; a deletion is a version too (holding the last state), so a deleted model can be restored.
 *
 * Writers call, inside their transaction (through the ModelVersions of its executor):
 *   1. `baseline(ids)` before changing existing rows: a row older than history (version 0) first gets
 *      version 1 with its state as it was (action `baseline`), so its first change is never lost;
 *   2. `recordIds(ids, change)` after the write: reads the rows and grants as they are now and records
 *      them as the next version of each;
 *   or `recordDeletion(ids, change)` before deleting rows.
 * Reading, diffing and restoring versions is src/history's job; this module only writes them.
 */
import { isDeepStrictEqual } from 'node:util'
import type { GrantRow, ModelGrantsRepo } from '../access/model-grants.repo.js'
import type { Grant } from '../access/model-grants.js'
import { PostgresAdapter, type QueryCreator } from 'kysely'
import { auditSlots, buildAuditInsert, insertAuditRows, type AuditRow } from '../audit/audit-log.js'
import type { Executor } from '../db/executor.js'
import { insertMany } from '../db/insert-many.js'
import { PreparedQuery } from '../db/prepared.js'
import type { DB, ModelVersionsTable } from '../db/types.js'
import { chunks, nextVersionQuery, type ModelRow, type ModelsRepo } from './models.repo.js'

/** The one-version INSERT, built on `qc` from placeholders: alone, or before the write's audit entry in one statement. */
function buildVersionInsert(
  qc: QueryCreator<DB>,
  modelId: string,
  version: string,
  createdAt: string,
  userId: string,
  action: string,
  source: string,
  ownerId: string,
  snapshot: string,
) {
  return qc.insertInto('model_versions').values({
    model_id: modelId,
    version: slot<number>(version),
    created_at: slot<number>(createdAt),
    user_id: userId,
    action: slot<VersionAction>(action),
    source: slot<VersionSource>(source),
    owner_id: ownerId,
    snapshot,
  })
}

type VersionSlots = [string, number, number, string | null, VersionAction, VersionSource, string, string]

/** The one-version insert of every single-model write, compiled once (Kysely's builder costs more than SQLite's insert). */
const insertVersion = new PreparedQuery<VersionSlots, never>(8, (db, modelId, version, createdAt, userId, action, source, ownerId, snapshot) =>
  buildVersionInsert(db, modelId, version, createdAt, userId, action, source, ownerId, snapshot),
)
/**
 * PostgreSQL: the version and the write's audit entry in one statement (a data-modifying WITH), so one
 * round trip instead of two on every single-model write (docs/performance.md, "Model writes, round trips").
 * SQLite has no INSERT in WITH and no round trip to save: it runs the two inserts.
 */
const insertVersionAndAudit = new PreparedQuery<[...VersionSlots, ...ReturnType<typeof auditSlots>], never>(
  18,
  (db, modelId, version, createdAt, userId, action, source, ownerId, snapshot, id, at, actor, auditAction, type, target, ip, request, before, after) =>
    buildAuditInsert(
      // The audit insert does not read the CTE: typed as the plain creator it builds on.
      db.with('version_row', (qc) =>
        buildVersionInsert(qc, modelId, version, createdAt, userId, action, source, ownerId, snapshot),
      ) as unknown as QueryCreator<DB>,
      id,
      at,
      actor,
      auditAction,
      type,
      target,
      ip,
      request,
      before,
      after,
    ),
)
const nextVersion = new PreparedQuery<[string], { next: number | string }>(1, (db, modelId) => nextVersionQuery(db, modelId))
/** A PreparedQuery placeholder standing where a value of another type goes. */
const slot = <T>(placeholder: string): T => placeholder as unknown as T

export type VersionAction = ModelVersionsTable['action']
export type VersionSource = ModelVersionsTable['source']

/** What a version holds: everything a restore needs to put the model back as it was. */
export interface ModelSnapshot {
  id: string
  /** The owner. */
  user_id: string
  base_model_id: string | null
  name: string
  params: Record<string, unknown>
  meta: Record<string, unknown>
  is_active: boolean
  /** Sorted by principal type, principal id, permission (so equal sets give equal snapshots). */
  access_grants: Grant[]
}

export interface VersionChange {
  action: VersionAction
  source: VersionSource
  /** Who made the change; null for the system. */
  actorId: string | null
  /** The template the change came from (an apply, docs/templates.md); null or absent otherwise. */
  templateId?: string | null
}

export function snapshotOf(row: ModelRow, grants: readonly Grant[]): ModelSnapshot {
  return {
    id: row.id,
    user_id: row.user_id,
    base_model_id: row.base_model_id,
    name: row.name,
    params: JSON.parse(row.params) as Record<string, unknown>,
    meta: JSON.parse(row.meta) as Record<string, unknown>,
    is_active: Number(row.is_active) === 1,
    access_grants: grants
      .map((g) => ({ principal_type: g.principal_type, principal_id: g.principal_id, permission: g.permission }))
      .sort((a, b) => compare(a.principal_type, b.principal_type) || compare(a.principal_id, b.principal_id) || compare(a.permission, b.permission)),
  }
}

/** Whether two states of a model hold the same content and access (what a version would record). */
export function sameState(a: ModelRow, aGrants: readonly Grant[], b: ModelRow, bGrants: readonly Grant[]): boolean {
  const { id: _a, ...left } = snapshotOf(a, aGrants)
  const { id: _b, ...right } = snapshotOf(b, bGrants)
  return isDeepStrictEqual(left, right)
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

export class ModelVersions {
  constructor(
    private readonly db: Executor,
    private readonly models: ModelsRepo,
    private readonly grants: ModelGrantsRepo,
    /** MODEL_HISTORY_MAX_VERSIONS: older versions of a changed model are pruned; null keeps all. */
    private readonly maxVersions: number | null,
  ) {}

  /** Rows older than history among `ids` get version 1: their state before the change being made. */
  async baseline(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return
    const rows: ModelRow[] = []
    for (const chunk of chunks([...new Set(ids)])) {
      rows.push(...(await this.db.selectFrom('models').selectAll().where('id', 'in', chunk).where('version', '=', 0).execute()))
    }
    if (rows.length === 0) return
    // A row at version 0 may still have history on its id (deleted and re-created before this code).
    const last = await this.lastVersions(rows.map((row) => row.id))
    const grants = await this.grants.grantsOf(rows.map((row) => row.id))
    await this.write(
      rows.map((row) => ({ row, grants: grants.get(row.id) ?? [], version: (last.get(row.id) ?? 0) + 1 })),
      { action: 'baseline', source: 'system', actorId: null },
    )
  }

  /**
   * `baseline` for one row the writer has already read (and locked), with its grants: no query at all
   * unless the row is older than history. Answers the row's current version (the baseline's, if written).
   */
  async baselineKnown(row: ModelRow, grants: readonly Grant[]): Promise<number> {
    if (Number(row.version) !== 0) return Number(row.version)
    const version = await this.nextVersionOf(row.id)
    await this.write([{ row, grants, version }], { action: 'baseline', source: 'system', actorId: null })
    return version
  }

  /** The number the next version of `id` takes when its row is new (the id may have history). */
  async nextVersionOf(id: string): Promise<number> {
    return Number((await nextVersion.first(this.db, id))?.next ?? 1)
  }

  /**
   * Records a state the writer knows without reading it back: it has just written `row` and `grants`
   * and set the row's version column to `row.version` in the same statement. One INSERT.
   */
  async recordKnown(row: ModelRow, grants: readonly Grant[], change: VersionChange, audit?: AuditRow): Promise<void> {
    const version = [
      row.id,
      Number(row.version),
      Date.now(),
      change.actorId,
      change.action,
      change.source,
      row.user_id,
      JSON.stringify(snapshotOf(row, grants)),
    ] as const
    if (audit && this.db.getExecutor().adapter instanceof PostgresAdapter) {
      await insertVersionAndAudit.execute(this.db, ...version, ...auditSlots(audit))
    } else {
      await insertVersion.execute(this.db, ...version)
      if (audit) await insertAuditRows(this.db, [audit])
    }
    if (this.maxVersions !== null) await this.prune([row.id])
  }

  /**
   * `baseline` for rows the writer has already read (and locked), with their grants (a bulk writer's
   * chunk): rows at version 0 get their baseline version; no query unless one is older than history.
   * Answers each row's current version (the baseline's, if written).
   */
  async baselineRows(entries: readonly { row: ModelRow; grants: readonly Grant[] }[]): Promise<Map<string, number>> {
    const current = new Map(entries.map(({ row }) => [row.id, Number(row.version)]))
    const fresh = entries.filter(({ row }) => Number(row.version) === 0)
    if (fresh.length === 0) return current
    const last = await this.lastVersions(fresh.map(({ row }) => row.id))
    const baselined = fresh.map(({ row, grants }) => ({ row, grants, version: (last.get(row.id) ?? 0) + 1 }))
    await this.write(baselined, { action: 'baseline', source: 'system', actorId: null })
    for (const { row, version } of baselined) current.set(row.id, version)
    return current
  }

  /**
   * `recordKnown` for many rows (a bulk writer's chunk): each row as the writer has just written it, its
   * `version` column already set to `row.version` by the same statement. One multi-row INSERT a chunk.
   */
  async recordKnownMany(entries: readonly { row: ModelRow; grants: readonly Grant[] }[], change: VersionChange): Promise<void> {
    if (entries.length === 0) return
    const at = Date.now()
    const rows = entries.map(({ row, grants }) => ({
      model_id: row.id,
      version: Number(row.version),
      created_at: at,
      user_id: change.actorId,
      action: change.action,
      source: change.source,
      owner_id: row.user_id,
      snapshot: JSON.stringify(snapshotOf(row, grants)),
      template_id: change.templateId ?? null,
    }))
    await insertMany(this.db, 'model_versions', rows)
    if (this.maxVersions !== null) await this.prune(entries.map(({ row }) => row.id))
  }

  /** Records the current state of each id (rows that exist) as its next version; answers id → version. */
  async recordIds(ids: readonly string[], change: VersionChange): Promise<Map<string, number>> {
    const entries = await this.record(ids, change)
    return new Map(entries.map((entry) => [entry.row.id, entry.version]))
  }

  private async record(ids: readonly string[], change: VersionChange): Promise<{ row: ModelRow; grants: GrantRow[]; version: number }[]> {
    const unique = [...new Set(ids)]
    if (unique.length === 0) return []
    const rows = await this.models.findByIds(unique)
    const grants = await this.grants.grantsOf(rows.map((row) => row.id))
    // A new row (version 0) continues the numbering of its id's history, if it has one.
    const fresh = rows.filter((row) => Number(row.version) === 0).map((row) => row.id)
    const last = await this.lastVersions(fresh)
    const entries = rows.map((row) => ({
      row,
      grants: grants.get(row.id) ?? [],
      version: (Number(row.version) === 0 ? (last.get(row.id) ?? 0) : Number(row.version)) + 1,
    }))
    await this.write(entries, change)
    return entries
  }

  /** Before rows are deleted: their last state becomes a `delete` version (what the trash restores). */
  async recordDeletion(ids: readonly string[], change: Omit<VersionChange, 'action'>): Promise<Map<string, number>> {
    await this.baseline(ids)
    return this.recordIds(ids, { ...change, action: 'delete' })
  }

  /** The highest recorded version of each id (ids without history are absent). */
  async lastVersions(ids: readonly string[]): Promise<Map<string, number>> {
    const result = new Map<string, number>()
    for (const chunk of chunks([...new Set(ids)])) {
      const rows = await this.db
        .selectFrom('model_versions')
        .select(['model_id', (eb) => eb.fn.max('version').as('version')])
        .where('model_id', 'in', chunk)
        .groupBy('model_id')
        .execute()
      for (const row of rows) result.set(row.model_id, Number(row.version))
    }
    return result
  }

  private async write(entries: readonly { row: ModelRow; grants: readonly Grant[]; version: number }[], change: VersionChange): Promise<void> {
    const at = Date.now()
    const rows = entries.map(({ row, grants, version }) => ({
      model_id: row.id,
      version,
      created_at: at,
      user_id: change.actorId,
      action: change.action,
      source: change.source,
      owner_id: row.user_id,
      snapshot: JSON.stringify(snapshotOf(row, grants)),
      template_id: change.templateId ?? null,
    }))
    await insertMany(this.db, 'model_versions', rows)
    if (change.action !== 'delete') await this.setVersions(entries.map(({ row, version }) => ({ id: row.id, version })))
    if (this.maxVersions !== null) await this.prune(entries.map(({ row }) => row.id))
  }

  /** Sets the live rows' version: one statement per group of rows moving by the same step. */
  private async setVersions(entries: readonly { id: string; version: number }[]): Promise<void> {
    const byVersion = new Map<number, string[]>()
    for (const { id, version } of entries) {
      const ids = byVersion.get(version)
      if (ids) ids.push(id)
      else byVersion.set(version, [id])
    }
    for (const [version, ids] of byVersion) {
      for (const chunk of chunks(ids)) await this.db.updateTable('models').set({ version }).where('id', 'in', chunk).execute()
    }
  }

  /** Keeps the newest `maxVersions` versions of each id (the latest is always kept). */
  private async prune(ids: readonly string[]): Promise<void> {
    const keep = Math.max(1, this.maxVersions ?? 1)
    for (const chunk of chunks([...new Set(ids)])) {
      await this.db
        .deleteFrom('model_versions')
        .where('model_id', 'in', chunk)
        .where((eb) =>
          eb(
            'version',
            '<=',
            eb
              .selectFrom('model_versions as newest')
              .select((inner) => inner(inner.fn.max('newest.version'), '-', keep).as('bound'))
              .whereRef('newest.model_id', '=', 'model_versions.model_id'),
          ),
        )
        .execute()
    }
  }
}
