/** SQL for the settings an admin changes at run time (`app_settings`, migration 0008). */
import type { Executor } from '../db/executor.js'

export class SettingsRepo {
  constructor(private readonly db: Executor) {}

  /** Every stored setting, key → JSON text. */
  async all(): Promise<Map<string, string>> {
    const rows = await this.db.selectFrom('app_settings').select(['key', 'value']).execute()
    return new Map(rows.map((row) => [row.key, row.value]))
  }

  async get(key: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('app_settings').select('value').where('key', '=', key).executeTakeFirst()
    return row?.value
  }

  async put(key: string, value: string, at: number): Promise<void> {
    await this.db
      .insertInto('app_settings')
      .values({ key, value, updated_at: at })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: at }))
      .execute()
  }
}
