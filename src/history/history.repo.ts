/**
 * The reads of model history (issue #12) and the one write of its own, pruning. Versions are written by
 * the registry's writers (src/models/model-versions.ts), in their transactions.
 */
import { sql, type Selectable } from 'kysely'
import type { Executor } from '../db/executor.js'
import type { ModelVersionsTable } from '../db/types.js'
import { AppError } from '../errors/app-error.js'
import type { ModelSnapshot } from '../models/model-versions.js'

export type VersionRow = Selectable<ModelVersionsTable>
/** A version without its snapshot (list pages never load snapshots: they may hold megabytes of images). */
export type VersionHead = Omit<VersionRow, 'snapshot' | 'owner_id'>

export const parseSnapshot = (row: Pick<VersionRow, 'snapshot'>): ModelSnapshot => JSON.parse(row.snapshot) as ModelSnapshot

export const versionNotFound = (id: string, version: number) => new AppError('VERSION_NOT_FOUND', `Model "${id}" has no version ${version}.`)

const HEAD = ['model_id', 'version', 'created_at', 'user_id', 'action', 'source', 'template_id'] as const

export class HistoryRepo {
  constructor(private readonly db: Executor) {}

  /** The newest version of an id (undefined: no history). */
  async latest(id: string): Promise<VersionRow | undefined> {
    return this.db.selectFrom('model_versions').selectAll().where('model_id', '=', id).orderBy('version', 'desc').limit(1).executeTakeFirst()
  }

  /** The newest version of an id with this action, below `below` when given (0: none). */
  async latestWithAction(id: string, action: VersionRow['action'], below?: number): Promise<VersionRow | undefined> {
    let query = this.db.selectFrom('model_versions').selectAll().where('model_id', '=', id).where('action', '=', action)
    if (below !== undefined) query = query.where('version', '<', below)
    return query.orderBy('version', 'desc').limit(1).executeTakeFirst()
  }

  /** The version number of the id's latest `create` (0 when there is none, e.g. history began with a baseline). */
  async lifeStart(id: string): Promise<number> {
    const row = await this.db
      .selectFrom('model_versions')
      .select((eb) => eb.fn.max('version').as('version'))
      .where('model_id', '=', id)
      .where('action', '=', 'create')
      .executeTakeFirst()
    return row?.version === null || row?.version === undefined ? 0 : Number(row.version)
  }

  async count(id: string, fromVersion: number): Promise<number> {
    const row = await this.db
      .selectFrom('model_versions')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('model_id', '=', id)
      .where('version', '>=', fromVersion)
      .executeTakeFirstOrThrow()
    return Number(row.n)
  }

  /** A page of versions from `fromVersion` on, newest first. */
  async page(id: string, fromVersion: number, offset: number, limit: number): Promise<VersionHead[]> {
    return this.db
      .selectFrom('model_versions')
      .select(HEAD)
      .where('model_id', '=', id)
      .where('version', '>=', fromVersion)
      .orderBy('version', 'desc')
      .limit(limit)
      .offset(offset)
      .execute()
  }

  async get(id: string, version: number): Promise<VersionRow | undefined> {
    return this.db.selectFrom('model_versions').selectAll().where('model_id', '=', id).where('version', '=', version).executeTakeFirst()
  }

  /** id → name of the accounts that exist among `ids`. */
  async userNames(ids: readonly string[]): Promise<Map<string, string>> {
    const unique = [...new Set(ids)]
    if (unique.length === 0) return new Map()
    const rows = await this.db.selectFrom('users').select(['id', 'name']).where('id', 'in', unique).execute()
    return new Map(rows.map((row) => [row.id, row.name]))
  }

  /**
   * One page of the trash, latest deletion first: ids whose latest version is a deletion and that have
   * no live row (their deletion version, snapshot included), of one owner or (null) of everybody.
   */
  async trashPage(ownerId: string | null, offset: number, limit: number): Promise<VersionRow[]> {
    return this.trashPageQuery(ownerId, offset, limit).execute()
  }

  /**
   * The query behind trashPage, unexecuted (its plan is checked by migrations.trash-order.test.ts). The
   * page's keys come from the trash index alone (0015: covering, in the page's order), so rows skipped by
   * the offset are never loaded; only the page's versions are read, by primary key.
   */
  trashPageQuery(ownerId: string | null, offset: number, limit: number) {
    const keys = this.trashQuery(ownerId)
      .select(['mv.model_id', 'mv.version', 'mv.created_at'])
      .orderBy('mv.created_at', 'desc')
      .orderBy('mv.model_id')
      .offset(offset)
      .limit(limit)
    return this.db
      .selectFrom(keys.as('page'))
      .innerJoin('model_versions as row', (join) => join.onRef('row.model_id', '=', 'page.model_id').onRef('row.version', '=', 'page.version'))
      .selectAll('row')
      .orderBy('page.created_at', 'desc')
      .orderBy('page.model_id')
  }

  async trashCount(ownerId: string | null): Promise<number> {
    const row = await this.trashQuery(ownerId)
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst()
    return Number(row?.n ?? 0)
  }

  private trashQuery(ownerId: string | null) {
    let query = this.db
      .selectFrom('model_versions as mv')
      // A literal, not a parameter: only then may either dialect use the partial trash indexes (0014, 0015).
      .where('mv.action', '=', sql.lit('delete'))
      .where((eb) =>
        eb(
          'mv.version',
          '=',
          eb
            .selectFrom('model_versions as newest')
            .select((inner) => inner.fn.max('newest.version').as('v'))
            .whereRef('newest.model_id', '=', 'mv.model_id'),
        ),
      )
      .where((eb) => eb.not(eb.exists(eb.selectFrom('models').select('models.id').whereRef('models.id', '=', 'mv.model_id'))))
    if (ownerId !== null) query = query.where('mv.owner_id', '=', ownerId)
    return query
  }

  /** Deletes all but the newest `keep` versions of each model (or of one); answers how many went. */
  async prune(keep: number, modelId?: string): Promise<number> {
    let query = this.db.deleteFrom('model_versions').where((eb) =>
      eb(
        'version',
        '<=',
        eb
          .selectFrom('model_versions as newest')
          .select((inner) => inner(inner.fn.max('newest.version'), '-', keep).as('bound'))
          .whereRef('newest.model_id', '=', 'model_versions.model_id'),
      ),
    )
    if (modelId !== undefined) query = query.where('model_id', '=', modelId)
    const result = await query.executeTakeFirst()
    return Number(result.numDeletedRows)
  }
}
