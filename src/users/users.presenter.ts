import type { UserRow } from './users.repo.js'
import type { UserResponse } from './users.schema.js'

/** The public view of an account row (the row has no secrets, but this keeps the shape explicit). */
export function presentUser(row: UserRow): UserResponse {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    role: row.role,
    profile_image_url: row.profile_image_url,
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
  }
}
