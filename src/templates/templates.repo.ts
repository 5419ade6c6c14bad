/** SQL for templates. The access filter comes from src/access (template-grants.repo.ts); this file only composes it. */
import type { Insertable, Selectable } from 'kysely'
import { readableTemplates } from '../access/template-grants.repo.js'
import type { Principals } from '../access/model-grants.js'
import type { DialectName } from '../db/database.js'
import { containsText, forShare, forUpdate, type Executor } from '../db/executor.js'
import type { TemplatesTable } from '../db/types.js'

export type TemplateRow = Selectable<TemplatesTable>
export type NewTemplateRow = Insertable<TemplatesTable>

export class TemplatesRepo {
  constructor(private readonly db: Executor) {}

  findById(id: string): Promise<TemplateRow | undefined> {
    return this.db.selectFrom('templates').selectAll().where('id', '=', id).executeTakeFirst()
  }

  /** The row, locked until the transaction ends (PostgreSQL; SQLite runs one transaction at a time). */
  findByIdForUpdate(id: string, dialect: DialectName): Promise<TemplateRow | undefined> {
    return forUpdate(this.db.selectFrom('templates').selectAll().where('id', '=', id), dialect).executeTakeFirst()
  }

  /** Whether the template exists, holding it against deletion until the transaction ends (FOR SHARE on PostgreSQL). */
  async existsForShare(id: string, dialect: DialectName): Promise<boolean> {
    return (await forShare(this.db.selectFrom('templates').select('id').where('id', '=', id), dialect).executeTakeFirst()) !== undefined
  }

  async insert(row: NewTemplateRow): Promise<void> {
    await this.db.insertInto('templates').values(row).execute()
  }

  async update(id: string, patch: Partial<Omit<TemplateRow, 'id' | 'created_at' | 'user_id'>>): Promise<void> {
    await this.db.updateTable('templates').set(patch).where('id', '=', id).execute()
  }

  /** Every template that holds an access section (id and section): few rows, read when a principal is deleted. */
  withAccessSection(): Promise<{ id: string; access_grants: string | null }[]> {
    return this.db.selectFrom('templates').select(['id', 'access_grants']).where('access_grants', 'is not', null).orderBy('id').execute()
  }

  /** The templates of a deleted account pass to the deleting admin (as its models do). */
  async handOver(fromUserId: string, toUserId: string, at: number): Promise<number> {
    const result = await this.db.updateTable('templates').set({ user_id: toUserId, updated_at: at }).where('user_id', '=', fromUserId).executeTakeFirst()
    return Number(result.numUpdatedRows)
  }

  /** Deletes a template; its own grants go with it (ON DELETE CASCADE). */
  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('templates').where('id', '=', id).execute()
  }

  /** A page of the templates the caller may read, by name then id. */
  page(who: Principals, query: string | undefined, offset: number, limit: number): Promise<TemplateRow[]> {
    return this.filtered(who, query).selectAll('templates').orderBy('templates.name').orderBy('templates.id').offset(offset).limit(limit).execute()
  }

  async count(who: Principals, query: string | undefined): Promise<number> {
    const row = await this.filtered(who, query)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst()
    return Number(row?.n ?? 0)
  }

  /** The locked parameter keys of each template among `ids` that has some. */
  async lockedOf(ids: readonly string[]): Promise<Map<string, string[]>> {
    const result = new Map<string, string[]>()
    if (ids.length === 0) return result
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.db
        .selectFrom('templates')
        .select(['id', 'locked_params'])
        .where('id', 'in', ids.slice(i, i + 500))
        .where('locked_params', 'is not', null)
        .execute()
      for (const row of rows) {
        const keys = JSON.parse(row.locked_params ?? '[]') as string[]
        if (keys.length > 0) result.set(row.id, keys)
      }
    }
    return result
  }

  private filtered(who: Principals, query: string | undefined) {
    let select = this.db.selectFrom('templates').where(readableTemplates(who))
    const text = query?.trim()
    if (text) {
      select = select.where((eb) =>
        eb.or([containsText('templates.name', text), containsText('templates.id', text), containsText('templates.description', text)]),
      )
    }
    return select
  }
}
