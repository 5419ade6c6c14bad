/**
 * SQL for model grants, and the SQL form of the access rule (model-grants.ts holds the same rule for one
 * model). The models repository composes these filters into its list queries; it never writes its own.
 */
import { randomUUID } from 'node:crypto'
import { sql, type Expression, type ExpressionBuilder, type Selectable, type SqlBool } from 'kysely'
import type { Executor } from '../db/executor.js'
import { insertMany } from '../db/insert-many.js'
import { PreparedQuery } from '../db/prepared.js'
import type { DB, ModelGrantsTable } from '../db/types.js'
import { EVERYONE, type Grant, type GrantPermission, type Principals } from './model-grants.js'

export type GrantRow = Selectable<ModelGrantsTable>

type GrantsEb = ExpressionBuilder<DB, 'model_grants'>

/** The grants of one model, in grantsOf's order: read by every single-model write, so compiled once. */
const grantsOfOne = new PreparedQuery<[string], GrantRow>(1, (db, modelId) =>
  db.selectFrom('model_grants').selectAll().where('model_id', '=', modelId).orderBy('principal_type').orderBy('principal_id').orderBy('permission'),
)

/** `model_grants` rows that name one of the caller's principals (with `permission` when given). */
function principalMatch(eb: GrantsEb, who: Principals, permission?: GrantPermission): Expression<SqlBool> {
  const branches = [eb.and([eb('model_grants.principal_type', '=', 'user'), eb('model_grants.principal_id', 'in', [who.userId, EVERYONE])])]
  if (who.groupIds.length > 0) {
    branches.push(eb.and([eb('model_grants.principal_type', '=', 'group'), eb('model_grants.principal_id', 'in', [...who.groupIds])]))
  }
  const match = eb.or(branches)
  return permission === 'write' ? eb.and([match, eb('model_grants.permission', '=', 'write')]) : match
}

export class ModelGrantsRepo {
  constructor(private readonly db: Executor) {}

  /** Grants of each model in `modelIds` (one query per 500 ids), in a stable order. */
  /** The models with a grant naming this principal. */
  async modelIdsNaming(principalType: 'user' | 'group', principalId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('model_grants')
      .select('model_id')
      .distinct()
      .where('principal_type', '=', principalType)
      .where('principal_id', '=', principalId)
      .execute()
    return rows.map((row) => row.model_id)
  }

  async grantsOf(modelIds: readonly string[]): Promise<Map<string, GrantRow[]>> {
    const [only] = modelIds
    if (modelIds.length === 1 && only !== undefined) return new Map([[only, await grantsOfOne.execute(this.db, only)]])
    const result = new Map<string, GrantRow[]>(modelIds.map((id) => [id, []]))
    for (let i = 0; i < modelIds.length; i += 500) {
      const rows = await this.db
        .selectFrom('model_grants')
        .selectAll()
        .where('model_id', 'in', modelIds.slice(i, i + 500))
        .orderBy('model_id')
        .orderBy('principal_type')
        .orderBy('principal_id')
        .orderBy('permission')
        .execute()
      for (const row of rows) result.get(row.model_id)?.push(row)
    }
    return result
  }

  /**
   * Replaces the grants of many models at once with multi-row statements (import, sync); answers the rows
   * written. `fresh`: models inserted in this transaction, which have no grants to delete yet.
   */
  async replaceMany(entries: readonly { modelId: string; grants: readonly Grant[] }[], at: number, fresh?: ReadonlySet<string>): Promise<GrantRow[]> {
    const known = entries.flatMap((e) => (fresh?.has(e.modelId) ? [] : [e.modelId]))
    for (let i = 0; i < known.length; i += 500) {
      await this.db
        .deleteFrom('model_grants')
        .where('model_id', 'in', known.slice(i, i + 500))
        .execute()
    }
    const rows: GrantRow[] = entries.flatMap(({ modelId, grants }) =>
      grants.map((g) => ({
        id: randomUUID(),
        model_id: modelId,
        principal_type: g.principal_type,
        principal_id: g.principal_id,
        permission: g.permission,
        created_at: at,
      })),
    )
    await insertMany(this.db, 'model_grants', rows)
    return rows
  }

  /**
   * Removes and adds grants on many models with set-based statements (bulk access, template apply; call
   * inside the transaction that locked the models): removals by `(model_id, principal_type, principal_id,
   * permission) IN (VALUES …)`, additions as multi-row inserts, 500 a statement. The caller passes the
   * difference between the locked grants and the wanted ones, so no row is rewritten that stays.
   */
  async changeMany(removed: readonly { modelId: string; grant: Grant }[], added: readonly { modelId: string; grant: Grant }[], at: number): Promise<void> {
    for (let i = 0; i < removed.length; i += 500) {
      const batch = removed.slice(i, i + 500)
      const rows = sql.join(batch.map(({ modelId, grant }) => sql`(${modelId}, ${grant.principal_type}, ${grant.principal_id}, ${grant.permission})`))
      // `model_id IN (…)` lets the planner start from the grants index by model; the row-value IN (VALUES
      // …) is a hash semi-join on PostgreSQL (a list of row values would be planned as a long OR).
      await this.db
        .deleteFrom('model_grants')
        .where('model_id', 'in', [...new Set(batch.map((r) => r.modelId))])
        .where(sql<SqlBool>`(model_id, principal_type, principal_id, permission) in (values ${rows})`)
        .execute()
    }
    await insertMany(
      this.db,
      'model_grants',
      added.map(({ modelId, grant }) => ({
        id: randomUUID(),
        model_id: modelId,
        principal_type: grant.principal_type,
        principal_id: grant.principal_id,
        permission: grant.permission,
        created_at: at,
      })),
    )
  }

  /** Replaces a model's grants with `grants` (call inside a transaction); answers the rows written. */
  replace(modelId: string, grants: readonly Grant[], at: number): Promise<GrantRow[]> {
    return this.replaceMany([{ modelId, grants }], at)
  }

  /** Removes every grant naming a principal (an account or a group that is being deleted). */
  async deleteByPrincipal(type: 'user' | 'group', principalId: string): Promise<number> {
    const result = await this.db.deleteFrom('model_grants').where('principal_type', '=', type).where('principal_id', '=', principalId).executeTakeFirst()
    return Number(result.numDeletedRows)
  }

  /**
   * How many grants name the caller's principals, counted up to `cap` (the count stops there, so it
   * costs at most `cap` index entries). Chooses between the list plans.
   */
  async countMatchingGrants(who: Principals, cap: number, permission?: GrantPermission): Promise<number> {
    const row = await this.db
      .selectFrom((eb) =>
        eb
          .selectFrom('model_grants')
          .select(sql<number>`1`.as('one'))
          .where((inner) => principalMatch(inner, who, permission))
          .limit(cap)
          .as('capped'),
      )
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst()
    return Number(row?.n ?? 0)
  }
}

/**
 * Filters on `models` rows (alias `models`) that the caller may read or write, in the two shapes the
 * list chooses between (design.md §3, "Listing cost"):
 * - `exists`: per row, an index probe into grants by resource; right when most rows qualify, because
 *   the walk of the sort index stops after one page;
 * - `grantedIds`: the set of model ids granted to the caller, from the index by principal; right when
 *   few rows qualify, because the set is small and sorting it is cheap.
 */
export const modelAccessFilters = {
  /**
   * The bypass of the rule in SQL form: a bypassing admin reads and writes every row, so their queries
   * take no access filter at all (and the list walks the sort index unfiltered).
   */
  unrestricted(who: Principals): boolean {
    return who.bypass
  },

  exists(who: Principals, permission: GrantPermission = 'read') {
    return (eb: ExpressionBuilder<DB, 'models'>): Expression<SqlBool> =>
      eb.or([
        eb('models.user_id', '=', who.userId),
        eb.exists(
          eb
            .selectFrom('model_grants')
            .select(sql<number>`1`.as('one'))
            .whereRef('model_grants.model_id', '=', 'models.id')
            .where((inner) => principalMatch(inner as unknown as GrantsEb, who, permission))
            // OFFSET keeps PostgreSQL from turning this into a hashed subplan over every id granted to the
            // caller (measured: 33 ms a page at 100k models), so it probes the grants of each row instead;
            // PostgreSQL drops a bare constant LIMIT, and SQLite needs a LIMIT before an OFFSET.
            .limit(1)
            .offset(0),
        ),
      ])
  },

  /** Ids of the models the caller owns or is granted: a subquery to join the page against. */
  grantedIds(db: Executor, who: Principals, permission: GrantPermission = 'read') {
    return db
      .selectFrom('model_grants')
      .select('model_grants.model_id as model_id')
      .where((eb) => principalMatch(eb, who, permission))
      .union(db.selectFrom('models').select('models.id as model_id').where('models.user_id', '=', who.userId))
  },
}
