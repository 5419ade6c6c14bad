/** Template rows → API shapes (both access forms, by the models' own conversion) and the sections apply reads. */
import type { TemplateGrantRow } from '../access/template-grants.repo.js'
import { grantsToAccessControl, type Grant } from '../access/model-grants.js'
import type { TemplateSections } from './template-merge.js'
import type { ModelsRepo } from '../models/models.repo.js'
import type { TemplateRow } from './templates.repo.js'
import type { TemplateResponse } from './templates.schema.js'

type TemplateOwner = NonNullable<TemplateResponse['user']>

const parsed = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T))

/** The sections a template holds (null: not held). */
export function sectionsOf(row: TemplateRow): TemplateSections {
  return {
    id: row.id,
    base_model_id: row.base_model_id,
    params: parsed<Record<string, unknown>>(row.params),
    locked_params: parsed<string[]>(row.locked_params),
    meta: parsed<Record<string, unknown>>(row.meta),
    access_grants: parsed<Grant[]>(row.access_grants),
  }
}

const plainGrant = (g: Grant): Grant => ({ principal_type: g.principal_type, principal_id: g.principal_id, permission: g.permission })

/** The owners of template rows as answers show them (id and name), from the models' one owner lookup. */
export async function ownersOf(models: ModelsRepo, rows: readonly TemplateRow[]): Promise<Map<string, TemplateOwner>> {
  const owners = await models.owners(rows.map((row) => row.user_id))
  return new Map([...owners].map(([id, owner]) => [id, { id: owner.id, name: owner.name }]))
}

export function presentTemplate(row: TemplateRow, own: readonly TemplateGrantRow[], writeAccess: boolean, owner: TemplateOwner | null): TemplateResponse {
  const sections = sectionsOf(row)
  return {
    id: row.id,
    user_id: row.user_id,
    user: owner,
    name: row.name,
    description: row.description,
    base_model_id: sections.base_model_id,
    params: sections.params,
    locked_params: sections.locked_params,
    meta: sections.meta,
    access_grants: sections.access_grants?.map(plainGrant) ?? null,
    ...(sections.access_grants && { access_control: grantsToAccessControl(sections.access_grants) }),
    template_access_grants: own.map(plainGrant),
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
    write_access: writeAccess,
  }
}
