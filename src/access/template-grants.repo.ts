/**
 * SQL for templates' own grants (who may read or change a template, docs/templates.md), and the SQL
 * form of the template access rule. The rule is the models' one (model-grants.ts `modelPermissions`,
 * asked through `AccessService.templatePermissions`): owner, a matching grant (write implies read), or a
 * bypassing admin.
 */
import { randomUUID } from 'node:crypto'
import { sql, type Expression, type ExpressionBuilder, type Selectable, type SqlBool } from 'kysely'
import type { Executor } from '../db/executor.js'
import type { DB, TemplateGrantsTable } from '../db/types.js'
import { EVERYONE, type Grant, type Principals } from './model-grants.js'

export type TemplateGrantRow = Selectable<TemplateGrantsTable>

export class TemplateGrantsRepo {
  constructor(private readonly db: Executor) {}

  /** Grants of each template in `templateIds` (one query per 500 ids), in a stable order. */
  async grantsOf(templateIds: readonly string[]): Promise<Map<string, TemplateGrantRow[]>> {
    const result = new Map<string, TemplateGrantRow[]>(templateIds.map((id) => [id, []]))
    for (let i = 0; i < templateIds.length; i += 500) {
      const rows = await this.db
        .selectFrom('template_grants')
        .selectAll()
        .where('template_id', 'in', templateIds.slice(i, i + 500))
        .orderBy('template_id')
        .orderBy('principal_type')
        .orderBy('principal_id')
        .orderBy('permission')
        .execute()
      for (const row of rows) result.get(row.template_id)?.push(row)
    }
    return result
  }

  /** Removes every template grant naming a principal (an account or a group that is being deleted). */
  async deleteByPrincipal(type: 'user' | 'group', principalId: string): Promise<number> {
    const result = await this.db.deleteFrom('template_grants').where('principal_type', '=', type).where('principal_id', '=', principalId).executeTakeFirst()
    return Number(result.numDeletedRows)
  }

  /** Replaces a template's grants (call inside a transaction). */
  async replace(templateId: string, grants: readonly Grant[], at: number): Promise<void> {
    await this.db.deleteFrom('template_grants').where('template_id', '=', templateId).execute()
    if (grants.length === 0) return
    await this.db
      .insertInto('template_grants')
      .values(
        grants.map((g) => ({
          id: randomUUID(),
          template_id: templateId,
          principal_type: g.principal_type,
          principal_id: g.principal_id,
          permission: g.permission,
          created_at: at,
        })),
      )
      .execute()
  }
}

/** `templates` rows (alias `templates`) the caller may read: the SQL form of the rule (none for a bypassing admin). */
export function readableTemplates(who: Principals) {
  return (eb: ExpressionBuilder<DB, 'templates'>): Expression<SqlBool> => {
    if (who.bypass) return sql<SqlBool>`1 = 1`
    if (who.role === 'pending') return sql<SqlBool>`1 = 0`
    const grants = eb
      .selectFrom('template_grants')
      .select(sql<number>`1`.as('one'))
      .whereRef('template_grants.template_id', '=', 'templates.id')
      .where((inner) => {
        const branches = [
          inner.and([inner('template_grants.principal_type', '=', 'user'), inner('template_grants.principal_id', 'in', [who.userId, EVERYONE])]),
        ]
        if (who.groupIds.length > 0) {
          branches.push(inner.and([inner('template_grants.principal_type', '=', 'group'), inner('template_grants.principal_id', 'in', [...who.groupIds])]))
        }
        return inner.or(branches)
      })
    return eb.or([eb('templates.user_id', '=', who.userId), eb.exists(grants)])
  }
}
