import { sql, type Kysely } from 'kysely'

/**
 * The model registry (issue #3): models, their grants (one row each), their tags (one row each, so a
 * tag filter is an index lookup, not a scan of JSON text), and a version counter that every registry
 * write bumps so that cached list totals know when they are stale.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('models')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // Owner. No cascade: deleting an account first hands its models to the deleting admin.
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('base_model_id', 'text')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('meta', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('is_active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute()
  // Presets (base_model_id set) are what /list pages through: one ordered index per sort key, with the
  // id as the tie-break, so a page is an index walk that stops after `limit` rows.
  for (const key of ['updated_at', 'created_at', 'name'] as const) {
    await db.schema.createIndex(`models_presets_${key}_idx`).on('models').columns([key, 'id']).where(sql.ref('base_model_id'), 'is not', null).execute()
  }
  await db.schema.createIndex('models_owner_idx').on('models').columns(['user_id', 'updated_at', 'id']).execute()
  await db.schema.createIndex('models_base_model_idx').on('models').column('base_model_id').execute()

  await db.schema
    .createTable('model_grants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('model_id', 'text', (c) => c.notNull().references('models.id').onDelete('cascade'))
    .addColumn('principal_type', 'text', (c) => c.notNull())
    .addColumn('principal_id', 'text', (c) => c.notNull())
    .addColumn('permission', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    // By resource: "who may use this model" (and the per-row EXISTS of the dense list plan).
    .addUniqueConstraint('model_grants_unique', ['model_id', 'principal_type', 'principal_id', 'permission'])
    .execute()
  // By principal: "which models may this user or group use" (the sparse list plan).
  await db.schema.createIndex('model_grants_principal_idx').on('model_grants').columns(['principal_type', 'principal_id', 'permission', 'model_id']).execute()

  await db.schema
    .createTable('model_tags')
    .addColumn('model_id', 'text', (c) => c.notNull().references('models.id').onDelete('cascade'))
    // Lower-cased tag: matching is case-insensitive, as in Open WebUI.
    .addColumn('tag_key', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('model_tags_pk', ['model_id', 'tag_key'])
    .execute()
  await db.schema.createIndex('model_tags_tag_idx').on('model_tags').columns(['tag_key', 'model_id']).execute()

  await db.schema
    .createTable('registry_state')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .execute()
  await db
    .insertInto('registry_state' as never)
    .values({ key: 'models', version: 0 })
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['registry_state', 'model_tags', 'model_grants', 'models']) {
    await db.schema.dropTable(table).execute()
  }
}
