/** SQL for connections managed through the API. */
import type { Selectable } from 'kysely'
import type { Executor } from '../db/executor.js'
import type { ConnectionsTable } from '../db/types.js'

export type ConnectionRow = Selectable<ConnectionsTable>

export class ConnectionsRepo {
  constructor(private readonly db: Executor) {}

  list(): Promise<ConnectionRow[]> {
    return this.db.selectFrom('connections').selectAll().orderBy('created_at').orderBy('id').execute()
  }

  findById(id: string): Promise<ConnectionRow | undefined> {
    return this.db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirst()
  }

  async insert(row: ConnectionRow): Promise<void> {
    await this.db.insertInto('connections').values(row).execute()
  }

  async update(id: string, patch: Partial<Omit<ConnectionRow, 'id' | 'created_at'>>): Promise<void> {
    await this.db.updateTable('connections').set(patch).where('id', '=', id).execute()
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('connections').where('id', '=', id).executeTakeFirst()
    return Number(result.numDeletedRows) > 0
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
