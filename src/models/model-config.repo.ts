/** SQL for the model configuration: one JSON value in `app_settings` (migration 0008), key `models.config`. */
import type { Executor } from '../db/executor.js'

export const MODEL_CONFIG_KEY = 'models.config'

export class ModelConfigRepo {
  constructor(private readonly db: Executor) {}

  /** The stored JSON text, or undefined when nothing was ever saved. */
  async read(): Promise<string | undefined> {
    const row = await this.db.selectFrom('app_settings').select('value').where('key', '=', MODEL_CONFIG_KEY).executeTakeFirst()
    return row?.value
  }

  async write(value: string, at: number): Promise<void> {
    await this.db
      .insertInto('app_settings')
      .values({ key: MODEL_CONFIG_KEY, value, updated_at: at })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: at }))
      .execute()
  }
}
