/** SQL for the model registry. Access filters come from src/access; this file only composes them. */
import { sql, type ExpressionBuilder, type Insertable, type QueryCreator, type Selectable, type SelectQueryBuilder } from 'kysely'
import { ModelGrantsRepo, modelAccessFilters } from '../access/model-grants.repo.js'
import type { Principals } from '../access/model-grants.js'
import type { DialectName } from '../db/database.js'
import { containsText, forUpdate, type Executor } from '../db/executor.js'
import type { DB, ModelsTable } from '../db/types.js'
import { insertMany } from '../db/insert-many.js'
import { PreparedQuery } from '../db/prepared.js'

const registryVersion = new PreparedQuery<[], { version: number | string }>(0, (db) =>
  db.selectFrom('registry_state').select('version').where('key', '=', 'models'),
)

/** Run by every registry write: compiled once. */
const bumpRegistryVersion = new PreparedQuery<[], never>(0, (db) =>
  db
    .updateTable('registry_state')
    .set((eb) => ({ version: eb('version', '+', 1) }))
    .where('key', '=', 'models'),
)

/**
 * The single-model write path's statements (a create's id-and-base read, its insert, a write's locked
 * read), compiled once: Kysely's builder and compiler cost more per write than SQLite spends running
 * them (profiled: docs/performance.md, "History and audit").
 */
const rowById = new PreparedQuery<[string], ModelRow>(1, (db, id) => db.selectFrom('models').selectAll().where('id', '=', id))
const rowsByTwoIds = new PreparedQuery<[string, string], ModelRow>(2, (db, a, b) => db.selectFrom('models').selectAll().where('id', 'in', [a, b]))
const rowByIdForUpdate = {
  sqlite: rowById,
  postgres: new PreparedQuery<[string], ModelRow>(1, (db, id) => db.selectFrom('models').selectAll().where('id', '=', id).forUpdate()),
} satisfies Record<DialectName, PreparedQuery<[string], ModelRow>>
/** One tag row: a preset's usual count (more go through the builder). */
const insertOneTag = new PreparedQuery<[string, string, string], never>(3, (db, modelId, tagKey, name) =>
  db.insertInto('model_tags').values({ model_id: modelId, tag_key: tagKey, name }),
)

/** ModelsRepo.update's statements, by the columns they set. */
const updateByShape = new Map<string, PreparedQuery<unknown[], never>>()

/** The values of insertAtNextVersion's statement, in its placeholders' order. */
type InsertSlots = [string, string, string | null, string, string, string, number, number, number, string | null]
const insertAtNext = new PreparedQuery<InsertSlots, { version: number | string }>(
  10,
  (db, id, userId, baseModelId, name, params, meta, isActive, createdAt, updatedAt, templateId) =>
    db
      .insertInto('models')
      .values({
        id,
        user_id: userId,
        base_model_id: baseModelId,
        name,
        params,
        meta,
        is_active: isActive as unknown as number,
        created_at: createdAt as unknown as number,
        updated_at: updatedAt as unknown as number,
        template_id: templateId,
        // The same placeholder twice: both take the id's value.
        version: nextVersionQuery(db, id),
      })
      .returning('version'),
)

export type ModelRow = Selectable<ModelsTable>
/** A row to insert: `version` is set by the history (src/models/model-versions.ts) in the same transaction. */
export type NewModelRow = Insertable<ModelsTable>

/**
 * How a list page finds its rows (design.md §3): `all` walks the sort index unfiltered (admin bypass,
 * or "created by me" through the owner index); `exists` walks the sort index and probes grants per row
 * (most rows readable); `grantedIds` starts from the ids granted to the caller (few rows readable).
 */
export type ListPlan = 'all' | 'exists' | 'grantedIds'

/**
 * A caller holding at most this many matching grants is served from the granted ids (sparse plan);
 * above it, by walking the sort index (dense plan). Counting stops at the threshold, so choosing costs
 * at most this many index entries.
 */
const SPARSE_PLAN_MAX_CANDIDATES = 2000

export interface ListFilters {
  who: Principals
  query?: string | undefined
  viewOption?: 'created' | 'shared' | undefined
  tag?: string | undefined
  /** Bulk access filters (issue #13): only presets on this base, only models of this owner. */
  baseModelId?: string | undefined
  ownerId?: string | undefined
  /** 'write': only the models the caller may write (bulk changes select nothing else). */
  permission?: 'write' | undefined
  /** Only the models whose template_id is this (docs/templates.md). */
  templateId?: string | undefined
}

export interface PageOptions {
  orderBy: 'name' | 'created_at' | 'updated_at'
  direction: 'asc' | 'desc'
  offset: number
  limit: number
  /**
   * Keyset: start after this row (its sort key and id) instead of at the top; `offset` then counts from
   * there. A deep page seeks the sort index rather than walking every row before it.
   */
  after?: PageBoundary | undefined
}

/** Where a page ends: its last row's sort key and id. */
export interface PageBoundary {
  key: string | number
  id: string
}

type ModelsQuery = SelectQueryBuilder<DB, 'models', object>

/** The version the next write of `modelId` takes when its row is new: after its history's last, if it has one. */
export function nextVersionQuery(qc: Pick<QueryCreator<DB>, 'selectFrom'>, modelId: string) {
  return qc
    .selectFrom('model_versions')
    .select(sql<number>`coalesce(max(${sql.ref('model_versions.version')}), 0) + 1`.as('next'))
    .where('model_versions.model_id', '=', modelId)
}

/** Splits a list for IN lists and multi-row inserts (500 rows × ≤ 10 columns stays under every limit). */
export function chunks<T>(items: readonly T[], size = 500): T[][] {
  const result: T[][] = []
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size))
  return result
}

export class ModelsRepo {
  constructor(private readonly db: Executor) {}

  findById(id: string): Promise<ModelRow | undefined> {
    return rowById.first(this.db, id)
  }

  /**
   * The row, locked until the transaction ends (`FOR UPDATE` on PostgreSQL; see db/executor.ts): every
   * read-check-write of a model and its grants starts here, so concurrent writers of one model run one
   * after the other, and one that comes after a delete finds no row (404, never a constraint error).
   */
  findByIdForUpdate(id: string, dialect: DialectName): Promise<ModelRow | undefined> {
    return rowByIdForUpdate[dialect].first(this.db, id)
  }

  /** Rows for `ids`, locked like findByIdForUpdate, in id order (so two writers never lock crosswise). */
  async findByIdsForUpdate(ids: readonly string[], dialect: DialectName): Promise<ModelRow[]> {
    const rows: ModelRow[] = []
    for (const chunk of chunks([...ids].sort())) {
      rows.push(...(await forUpdate(this.db.selectFrom('models').selectAll().where('id', 'in', chunk).orderBy('id'), dialect).execute()))
    }
    return rows
  }

  /** Rows for `ids` (any number: queried in chunks that stay under every driver's parameter limit). */
  async findByIds(ids: readonly string[]): Promise<ModelRow[]> {
    const [a, b] = ids
    if (ids.length === 1 && a !== undefined) return rowById.execute(this.db, a)
    if (ids.length === 2 && a !== undefined && b !== undefined) return rowsByTwoIds.execute(this.db, a, b)
    const rows: ModelRow[] = []
    for (const chunk of chunks(ids)) rows.push(...(await this.db.selectFrom('models').selectAll().where('id', 'in', chunk).execute()))
    return rows
  }

  async insert(row: NewModelRow): Promise<void> {
    await this.db.insertInto('models').values(row).execute()
  }

  /**
   * Inserts a new row at the next version of its id (the id may have history: a model deleted before;
   * model-versions.ts) and answers that version: the version is read in the INSERT, one statement
   * instead of two (a round trip less per create on PostgreSQL). The row lock of the INSERT orders two
   * creates of one id: the second fails on the primary key, as before.
   */
  async insertAtNextVersion(row: Omit<ModelRow, 'version'>): Promise<number> {
    const [inserted] = await insertAtNext.execute(
      this.db,
      row.id,
      row.user_id,
      row.base_model_id,
      row.name,
      row.params,
      row.meta,
      Number(row.is_active),
      Number(row.created_at),
      Number(row.updated_at),
      row.template_id,
    )
    if (!inserted) throw new Error('insertAtNextVersion: the INSERT returned no row')
    return Number(inserted.version)
  }

  /** Inserts many rows (import; src/db/insert-many.ts). */
  async insertMany(rows: readonly NewModelRow[]): Promise<void> {
    await insertMany(this.db, 'models', rows)
  }

  /** The tag rows of a model just inserted (it has none yet: one INSERT, or nothing). */
  async insertTags(modelId: string, names: readonly string[]): Promise<void> {
    const rows = [...new Map(names.map((name) => [name.toLowerCase(), name]))].map(([tag_key, name]) => ({ model_id: modelId, tag_key, name }))
    const [only] = rows
    if (rows.length === 1 && only) await insertOneTag.execute(this.db, modelId, only.tag_key, only.name)
    else if (rows.length > 0) await this.db.insertInto('model_tags').values(rows).execute()
  }

  /** Replaces the tag rows of many models at once (import, sync, apply); `fresh`: models inserted in this transaction (no tags yet). */
  async setTagsMany(entries: readonly { modelId: string; names: readonly string[] }[], fresh?: ReadonlySet<string>): Promise<void> {
    for (const chunk of chunks(entries.flatMap((e) => (fresh?.has(e.modelId) ? [] : [e.modelId])))) {
      await this.db.deleteFrom('model_tags').where('model_id', 'in', chunk).execute()
    }
    const rows = entries.flatMap(({ modelId, names }) =>
      [...new Map(names.map((name) => [name.toLowerCase(), name]))].map(([tag_key, name]) => ({ model_id: modelId, tag_key, name })),
    )
    await insertMany(this.db, 'model_tags', rows)
  }

  async update(id: string, patch: Partial<Omit<ModelRow, 'id' | 'created_at'>>): Promise<void> {
    // A column whose value is undefined is left as it is (as Kysely's builder does), never set to NULL.
    const columns = (Object.keys(patch) as (keyof typeof patch)[]).filter((column) => patch[column] !== undefined)
    const shape = columns.join(',')
    let statement = updateByShape.get(shape)
    if (!statement) {
      // One compiled UPDATE per set of columns (at most 2^9 of them; a handful in practice).
      statement = new PreparedQuery<unknown[], never>(columns.length + 1, (db, ...slots) =>
        db
          .updateTable('models')
          .set(Object.fromEntries(columns.map((column, i) => [column, slots[i]])))
          .where('id', '=', slots[columns.length] ?? ''),
      )
      updateByShape.set(shape, statement)
    }
    await statement.execute(this.db, ...columns.map((column) => patch[column]), id)
  }

  /**
   * Sets base, params and meta (each row its own; params or meta null: kept as it is), one template id
   * and updated_at on many rows, and moves each row's version one up (the version the writer then records
   * with ModelVersions.recordKnownMany): one set-based statement per chunk of 500 (a template's apply),
   * `UPDATE models … FROM (VALUES …)`, the same SQL on both dialects (SQLite ≥ 3.33; the columns of
   * VALUES are column1…columnN on both, all text).
   */
  async updateContentMany(
    entries: readonly { id: string; base_model_id: string | null; params: string | null; meta: string | null }[],
    common: { template_id: string | null; updated_at: number },
  ): Promise<void> {
    for (const chunk of chunks(entries)) {
      const values = sql.join(chunk.map((e) => sql`(${e.id}, ${e.base_model_id}, ${e.params}, ${e.meta})`))
      await sql`update models set base_model_id = v.column2, params = coalesce(v.column3, models.params), meta = coalesce(v.column4, models.meta),
        template_id = ${common.template_id}, updated_at = ${common.updated_at}, version = models.version + 1
        from (values ${values}) as v where models.id = v.column1`.execute(this.db)
    }
  }

  /**
   * Sets base, name, params, meta, is_active and (when given) the owner, each row its own, and one
   * updated_at on many rows (an import's or a sync's updates): one `UPDATE models … FROM (VALUES …)` per chunk of 500 instead of a round trip
   * per row, the same SQL on both dialects (VALUES columns are text: is_active is cast back).
   */
  async updateFieldsMany(
    entries: readonly {
      id: string
      fields: { base_model_id?: string | null | undefined; name: string; params: string; meta: string; is_active: number; user_id?: string | undefined }
    }[],
    updatedAt: number,
  ): Promise<void> {
    for (const chunk of chunks(entries)) {
      const values = sql.join(
        chunk.map(
          ({ id, fields: f }) => sql`(${id}, ${f.base_model_id ?? null}, ${f.name}, ${f.params}, ${f.meta}, ${String(f.is_active)}, ${f.user_id ?? null})`,
        ),
      )
      await sql`update models set base_model_id = v.column2, name = v.column3, params = v.column4, meta = v.column5,
        is_active = cast(v.column6 as integer), user_id = coalesce(v.column7, models.user_id), updated_at = ${updatedAt}
        from (values ${values}) as v where models.id = v.column1`.execute(this.db)
    }
  }

  /** Deletes a model; its grants and tags go with it (ON DELETE CASCADE). */
  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('models').where('id', '=', id).executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }

  async deleteAll(): Promise<number> {
    const result = await this.db.deleteFrom('models').executeTakeFirst()
    return Number(result.numDeletedRows)
  }

  async deleteMany(ids: readonly string[]): Promise<void> {
    for (const chunk of chunks(ids)) await this.db.deleteFrom('models').where('id', 'in', chunk).execute()
  }

  /** The ids of the models one account owns. */
  async idsOwnedBy(userId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('models').select('id').where('user_id', '=', userId).execute()
    return rows.map((row) => row.id)
  }

  /** Switches off the models of one account whose ids are among `ids`. */
  async deactivateOwnedAmong(userId: string, ids: readonly string[], at: number): Promise<void> {
    for (const chunk of chunks(ids)) {
      await this.db.updateTable('models').set({ is_active: 0, updated_at: at }).where('user_id', '=', userId).where('id', 'in', chunk).execute()
    }
  }

  /** Hands every model of one account to another (the deleting admin). */
  async handOver(fromUserId: string, toUserId: string, at: number): Promise<number> {
    const result = await this.db.updateTable('models').set({ user_id: toUserId, updated_at: at }).where('user_id', '=', fromUserId).executeTakeFirst()
    return Number(result.numUpdatedRows)
  }

  /** Replaces a model's tag rows (the searchable copy of `meta.tags[].name`). */
  setTags(modelId: string, names: readonly string[]): Promise<void> {
    return this.setTagsMany([{ modelId, names }])
  }

  /** The registry version: every write bumps it, so a total cached at an older version is stale. */
  async version(): Promise<number> {
    // Read on every list and model request: prepared once.
    const row = await registryVersion.first(this.db)
    return Number(row?.version ?? 0)
  }

  async bumpVersion(): Promise<void> {
    await bumpRegistryVersion.execute(this.db)
  }

  /** The plan for a listing by this caller (see ListPlan). */
  async planFor(who: Principals, viewOption?: 'created' | 'shared'): Promise<ListPlan> {
    if (modelAccessFilters.unrestricted(who) || viewOption === 'created') return 'all'
    const candidates = await new ModelGrantsRepo(this.db).countMatchingGrants(who, SPARSE_PLAN_MAX_CANDIDATES + 1)
    return candidates > SPARSE_PLAN_MAX_CANDIDATES ? 'exists' : 'grantedIds'
  }

  /** Every active preset the caller may read, unordered (the runtime model list). */
  readableActivePresets(who: Principals, plan: ListPlan): Promise<ModelRow[]> {
    return this.filtered({ who }, plan).selectAll('models').where('models.is_active', '=', 1).execute()
  }

  /** One page of presets the caller may read, in a deterministic order (sort key, then id). */
  listPage(filters: ListFilters, plan: ListPlan, page: PageOptions): Promise<ModelRow[]> {
    return this.listPageQuery(filters, plan, page).execute()
  }

  /** The query behind listPage, unexecuted (its plan is checked by models.list-plans.test.ts). */
  listPageQuery(filters: ListFilters, plan: ListPlan, page: PageOptions) {
    const column = `models.${page.orderBy}` as const
    let query = this.filtered(filters, plan)
    const after = page.after
    // A row-value comparison on (sort key, id): both dialects range-scan the (key, id) index with it.
    if (after) query = query.where((eb) => eb(eb.refTuple(column, 'models.id'), page.direction === 'desc' ? '<' : '>', eb.tuple(after.key, after.id)))
    return query.selectAll('models').orderBy(column, page.direction).orderBy('models.id', page.direction).offset(page.offset).limit(page.limit)
  }

  async count(filters: ListFilters, plan: ListPlan): Promise<number> {
    const row = await this.countQuery(filters, plan).executeTakeFirst()
    return Number(row?.n ?? 0)
  }

  /** The query behind `count`, unexecuted (its plan is checked in test/models.list-plans.test.ts). */
  countQuery(filters: ListFilters, plan: ListPlan) {
    return this.filtered(filters, plan, true).select((eb) => eb.fn.countAll<number>().as('n'))
  }

  /** Sorted unique tag names over the presets the caller may read. */
  async tags(who: Principals): Promise<string[]> {
    let query = this.db.selectFrom('model_tags').innerJoin('models', 'models.id', 'model_tags.model_id').where('models.base_model_id', 'is not', null)
    if (!modelAccessFilters.unrestricted(who)) query = query.where((eb) => modelAccessFilters.exists(who)(eb as unknown as ExpressionBuilder<DB, 'models'>))
    const rows = await query
      .select((eb) => eb.fn.min<string>('model_tags.name').as('name'))
      .groupBy('model_tags.tag_key')
      .execute()
    return rows.map((row) => row.name).sort((a, b) => a.localeCompare(b))
  }

  /**
   * The ids (sorted) of the presets matching a bulk filter, at most `cap` of them (a caller asks for one
   * more than it accepts, to tell "too many" without counting them all).
   */
  async matchingIds(filters: ListFilters, plan: ListPlan, cap: number): Promise<string[]> {
    const rows = await this.filtered(filters, plan).select('models.id').orderBy('models.id').limit(cap).execute()
    return rows.map((row) => row.id)
  }

  /** Models made from a template that is being deleted forget it (template_id null; no version: it is not content). */
  async unlinkTemplate(templateId: string): Promise<number> {
    const result = await this.db.updateTable('models').set({ template_id: null }).where('template_id', '=', templateId).executeTakeFirst()
    return Number(result.numUpdatedRows)
  }

  /** Sets updated_at of many models and moves their version one up (a bulk access change; see updateContentMany). */
  async touchAndBumpMany(ids: readonly string[], at: number): Promise<void> {
    for (const chunk of chunks(ids)) {
      await this.db
        .updateTable('models')
        .set((eb) => ({ updated_at: at, version: eb('version', '+', 1) }))
        .where('id', 'in', chunk)
        .execute()
    }
  }

  /** A page of the models with a grant naming one group (by name, then id), with the strongest permission given. */
  groupModelsPage(groupId: string, offset: number, limit: number): Promise<{ id: string; name: string; permission: string }[]> {
    return (
      this.db
        .selectFrom('model_grants')
        .innerJoin('models', 'models.id', 'model_grants.model_id')
        .where('model_grants.principal_type', '=', 'group')
        .where('model_grants.principal_id', '=', groupId)
        // 'write' sorts after 'read': the maximum is the strongest grant.
        .select(['models.id as id', 'models.name as name', (eb) => eb.fn.max<string>('model_grants.permission').as('permission')])
        .groupBy(['models.id', 'models.name'])
        .orderBy('models.name')
        .orderBy('models.id')
        .offset(offset)
        .limit(limit)
        .execute()
    )
  }

  /** How many models have a grant naming one group. */
  async countGroupModels(groupId: string): Promise<number> {
    const row = await this.db
      .selectFrom('model_grants')
      .where('principal_type', '=', 'group')
      .where('principal_id', '=', groupId)
      .select((eb) => eb.fn.count<number>('model_id').distinct().as('n'))
      .executeTakeFirst()
    return Number(row?.n ?? 0)
  }

  /** Base-model override rows (`base_model_id` null), by id. */
  overrides(): Promise<ModelRow[]> {
    return this.db.selectFrom('models').selectAll().where('base_model_id', 'is', null).orderBy('id').execute()
  }

  /**
   * The next batch (by id, after `afterId`) of models the caller may write: every model for a bypassing
   * admin, else owned ones and those with a write grant. Used by export, which streams batch by batch.
   */
  writableBatch(who: Principals, afterId: string | null, size: number): Promise<ModelRow[]> {
    let query = this.db.selectFrom('models').selectAll()
    if (afterId !== null) query = query.where('id', '>', afterId)
    if (!modelAccessFilters.unrestricted(who)) query = query.where(modelAccessFilters.exists(who, 'write'))
    return query.orderBy('id').limit(size).execute()
  }

  /** Every id (sync computes the rows to delete from it). */
  async allIds(): Promise<string[]> {
    const rows = await this.db.selectFrom('models').select('id').execute()
    return rows.map((row) => row.id)
  }

  /** Owners shown with list items: id, name, email, role. */
  async owners(userIds: readonly string[]) {
    const result = new Map<string, { id: string; name: string; email: string; role: 'pending' | 'user' | 'admin' }>()
    for (const chunk of chunks([...new Set(userIds)])) {
      const rows = await this.db.selectFrom('users').select(['id', 'name', 'email', 'role']).where('id', 'in', chunk).execute()
      for (const row of rows) result.set(row.id, row)
    }
    return result
  }

  /** The current role of each owner in `userIds` (a missing account has none). */
  async ownerRoles(userIds: readonly string[]): Promise<Map<string, 'pending' | 'user' | 'admin'>> {
    const owners = await this.owners(userIds)
    return new Map([...owners].map(([id, owner]) => [id, owner.role]))
  }

  /**
   * The presets matching the filters, shaped by the plan; no ordering, no columns chosen yet. `counting`:
   * a count with a tag starts from the tag's rows (its index) and probes models by primary key — walking
   * every preset in an index's order for the tag check took ~1.1 s at 1M models (S4's first total),
   * the tag's rows ~77 ms; a page keeps the order's index, which stops after the page.
   */
  private filtered(filters: ListFilters, plan: ListPlan, counting = false): ModelsQuery {
    const { who } = filters
    const tagKey = filters.tag ? filters.tag.trim().toLowerCase() : undefined
    const fromTag = counting && tagKey !== undefined && plan !== 'grantedIds'
    let query: ModelsQuery =
      plan === 'grantedIds'
        ? // Start from the granted ids: the join order makes SQLite probe models by primary key.
          this.db.selectFrom(modelAccessFilters.grantedIds(this.db, who).as('granted')).crossJoin('models').whereRef('models.id', '=', 'granted.model_id')
        : fromTag
          ? this.db.selectFrom('model_tags as tagged').crossJoin('models').where('tagged.tag_key', '=', tagKey).whereRef('models.id', '=', 'tagged.model_id')
          : this.db.selectFrom('models')
    query = query.where('models.base_model_id', 'is not', null)
    if (plan === 'exists') query = query.where(modelAccessFilters.exists(who))
    if (filters.permission === 'write' && !modelAccessFilters.unrestricted(who)) query = query.where(modelAccessFilters.exists(who, 'write'))
    if (filters.baseModelId !== undefined) query = query.where('models.base_model_id', '=', filters.baseModelId)
    if (filters.ownerId !== undefined) query = query.where('models.user_id', '=', filters.ownerId)
    if (filters.templateId !== undefined) query = query.where('models.template_id', '=', filters.templateId)
    if (filters.viewOption === 'created') query = query.where('models.user_id', '=', who.userId)
    if (filters.viewOption === 'shared') query = query.where('models.user_id', '!=', who.userId)
    if (tagKey !== undefined && !fromTag) {
      query = query.where((eb) =>
        eb.exists(
          eb.selectFrom('model_tags').select('model_tags.model_id').whereRef('model_tags.model_id', '=', 'models.id').where('model_tags.tag_key', '=', tagKey),
        ),
      )
    }
    const text = filters.query?.trim()
    if (text) {
      query = query.where((eb) =>
        eb.or([
          containsText('models.name', text),
          containsText('models.id', text),
          containsText('models.base_model_id', text),
          eb(
            'models.user_id',
            'in',
            eb
              .selectFrom('users')
              .select('users.id')
              .where((u) => u.or([containsText('users.name', text), containsText('users.email', text)])),
          ),
        ]),
      )
    }
    return query
  }
}
