/** SQL for connections managed through the API. */
import { sql, type Selectable } from 'kysely'
import type { Executor } from '../db/executor.js'
import type { ConnectionsTable } from '../db/types.js'

export type ConnectionRow = Selectable<ConnectionsTable>

export class ConnectionsRepo {
  constructor(private readonly db: Executor) {}

  list(): Promise<ConnectionRow[]> {
    return this.db
      .selectFrom('connections')
      .selectAll()
      .orderBy(sql`coalesce(position, 0)`)
      .orderBy('created_at')
      .orderBy('id')
      .execute()
  }

  findById(id: string): Promise<ConnectionRow | undefined> {
    return this.db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirst()
  }

  /** Inserts a row after every other (its `position` the next one). */
  async insert(row: Omit<ConnectionRow, 'position'>): Promise<void> {
    const last = await this.db
      .selectFrom('connections')
      .select((eb) => eb.fn.max('position').as('position'))
      .executeTakeFirst()
    await this.db
      .insertInto('connections')
      .values({ ...row, position: Number(last?.position ?? 0) + 1 })
      .execute()
  }

  async update(id: string, patch: Partial<Omit<ConnectionRow, 'id' | 'created_at'>>): Promise<void> {
    await this.db.updateTable('connections').set(patch).where('id', '=', id).execute()
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('connections').where('id', '=', id).executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }

  /** `ENABLE_OPENAI_API` / `ENABLE_OLLAMA_API` (no row: enabled). */
  async apiEnabled(): Promise<{ openai: boolean; ollama: boolean }> {
    const rows = await this.db.selectFrom('provider_apis').select(['kind', 'enabled']).execute()
    const off = new Set(rows.filter((r) => Number(r.enabled) !== 1).map((r) => r.kind))
    return { openai: !off.has('openai'), ollama: !off.has('ollama') }
  }

  async setApiEnabled(kind: 'openai' | 'ollama', enabled: boolean, now: number): Promise<void> {
    await this.db
      .insertInto('provider_apis')
      .values({ kind, enabled: enabled ? 1 : 0, updated_at: now })
      .onConflict((oc) => oc.column('kind').doUpdateSet({ enabled: enabled ? 1 : 0, updated_at: now }))
      .execute()
  }

  /** The connections version: every change bumps it in its transaction, so instances see it moved. */
  async version(): Promise<number> {
    const row = await this.db.selectFrom('settings_state').select('version').where('key', '=', 'connections').executeTakeFirst()
    return Number(row?.version ?? 0)
  }

  async bumpVersion(): Promise<void> {
    await this.db
      .updateTable('settings_state')
      .set((eb) => ({ version: eb('version', '+', 1) }))
      .where('key', '=', 'connections')
      .execute()
  }
}
