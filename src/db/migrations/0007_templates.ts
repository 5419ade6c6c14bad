import type { Kysely } from 'kysely'

/**
 * Configuration templates (issue #13 part 1, docs/templates.md).
 *
 * - `templates`: one row per template; each section it may hold (`base_model_id`, `params`,
 *   `locked_params`, `meta`, `access_grants`) is null when the template does not hold it. JSON as text.
 * - `template_grants`: the template's own sharing (who may read or change the template), one row per
 *   grant, like `model_grants`.
 * - `models.template_id`: the template a model came from or was last applied from (null: none). No
 *   foreign key: deleting a template sets it to null in the deleting transaction.
 * - `model_versions.template_id`: the template a version was written from (an apply), else null.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('templates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('base_model_id', 'text')
    .addColumn('params', 'text')
    .addColumn('locked_params', 'text')
    .addColumn('meta', 'text')
    .addColumn('access_grants', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('templates_owner_idx').on('templates').columns(['user_id', 'id']).execute()
  await db.schema.createIndex('templates_name_idx').on('templates').columns(['name', 'id']).execute()

  await db.schema
    .createTable('template_grants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('template_id', 'text', (c) => c.notNull().references('templates.id').onDelete('cascade'))
    .addColumn('principal_type', 'text', (c) => c.notNull())
    .addColumn('principal_id', 'text', (c) => c.notNull())
    .addColumn('permission', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('template_grants_unique', ['template_id', 'principal_type', 'principal_id', 'permission'])
    .execute()
  await db.schema
    .createIndex('template_grants_principal_idx')
    .on('template_grants')
    .columns(['principal_type', 'principal_id', 'permission', 'template_id'])
    .execute()

  await db.schema.alterTable('models').addColumn('template_id', 'text').execute()
  await db.schema.createIndex('models_template_idx').on('models').columns(['template_id', 'id']).execute()
  await db.schema.alterTable('model_versions').addColumn('template_id', 'text').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('model_versions').dropColumn('template_id').execute()
  // SQLite refuses to drop a column an index names: the index goes first.
  await db.schema.dropIndex('models_template_idx').execute()
  await db.schema.alterTable('models').dropColumn('template_id').execute()
  await db.schema.dropTable('template_grants').execute()
  await db.schema.dropTable('templates').execute()
}
