/** Rows → API shapes (Open WebUI's ModelModel and ModelAccessResponse, with both access forms). */
import type { GrantRow } from '../access/model-grants.repo.js'
import { grantsToAccessControl } from '../access/model-grants.js'
import type { ModelRow } from './models.repo.js'
import type { Abilities, GrantResponse, ModelAccessResponse, ModelResponse, ModelStatus } from './models.schema.js'

export function presentGrant(row: GrantRow): GrantResponse {
  return {
    id: row.id,
    resource_type: 'model',
    resource_id: row.model_id,
    principal_type: row.principal_type,
    principal_id: row.principal_id,
    permission: row.permission,
    created_at: Number(row.created_at),
  }
}

export function presentModel(row: ModelRow, grants: readonly GrantRow[]): ModelResponse {
  return {
    id: row.id,
    user_id: row.user_id,
    base_model_id: row.base_model_id,
    name: row.name,
    params: JSON.parse(row.params) as Record<string, unknown>,
    meta: JSON.parse(row.meta) as Record<string, unknown>,
    access_control: grantsToAccessControl(grants),
    access_grants: grants.map(presentGrant),
    is_active: Number(row.is_active) === 1,
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
    version: Number(row.version),
    template_id: row.template_id ?? null,
  }
}

/** A list item or single model: owner, abilities, Open WebUI's `write_access` (= can.write) and its status. */
export function presentAccessModel(model: ModelResponse, owner: ModelAccessResponse['user'], can: Abilities, status: ModelStatus): ModelAccessResponse {
  return { ...model, user: owner, write_access: can.write, can, status }
}

/**
 * List items leave out inline (data:) profile images, as Open WebUI's list does: a page of 30 could
 * otherwise weigh megabytes. Cards load the picture from /model/profile/image?id=.
 */
export function withoutInlineImage(model: ModelResponse): ModelResponse {
  const image = model.meta['profile_image_url']
  if (typeof image !== 'string' || !image.startsWith('data:')) return model
  const { profile_image_url: _dropped, ...meta } = model.meta
  return { ...model, meta }
}
