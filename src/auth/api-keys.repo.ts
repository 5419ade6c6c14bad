/** SQL for API keys: one per user (as in Open WebUI), stored as a hash. */
import type { Selectable } from 'kysely'
import type { Executor } from '../db/executor.js'
import type { ApiKeysTable } from '../db/types.js'

export type ApiKeyRow = Selectable<ApiKeysTable>

export class ApiKeysRepo {
  constructor(private readonly db: Executor) {}

  findByUser(userId: string): Promise<ApiKeyRow | undefined> {
    return this.db.selectFrom('api_keys').selectAll().where('user_id', '=', userId).executeTakeFirst()
  }

  findByHash(keyHash: string): Promise<ApiKeyRow | undefined> {
    return this.db.selectFrom('api_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst()
  }

  /** Replaces the user's key: the old one stops working in the same statement. */
  async replace(row: ApiKeyRow): Promise<void> {
    await this.db
      .insertInto('api_keys')
      .values(row)
      .onConflict((oc) =>
        oc.column('user_id').doUpdateSet({
          id: row.id,
          key_hash: row.key_hash,
          key_hint: row.key_hint,
          created_at: row.created_at,
          last_used_at: null,
        }),
      )
      .execute()
  }

  async deleteByUser(userId: string): Promise<boolean> {
    const result = await this.db.deleteFrom('api_keys').where('user_id', '=', userId).executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }

  async touch(id: string, at: number): Promise<void> {
    await this.db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute()
  }
}
