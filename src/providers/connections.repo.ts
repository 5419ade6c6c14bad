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
}
