/**
 * The database schema as Kysely sees it. Columns are snake_case, as in the API (Open WebUI's shapes),
 * so rows map to responses without renaming. Timestamps are epoch seconds; JSON columns hold text.
 */
import type { Generated } from 'kysely'

export interface UsersTable {
  id: string
  email: string
  name: string
  role: 'pending' | 'user' | 'admin'
  profile_image_url: string
  created_at: number
  updated_at: number
  /** Bumped to revoke every session token issued before (they carry the version as claim `ver`). */
  token_version: Generated<number>
}

export interface CredentialsTable {
  user_id: string
  /** `scrypt$N$r$p$salt$hash`, see src/auth/passwords.ts */
  password_hash: string
}

export interface ApiKeysTable {
  id: string
  user_id: string
  /** sha256 of the key: API keys carry 256 bits of entropy, so a fast hash is enough and lookups stay indexed. */
  key_hash: string
  /** First and last characters of the key, to tell keys apart without revealing them. */
  key_hint: string
  created_at: number
  last_used_at: number | null
}

export interface GroupsTable {
  id: string
  /** The admin who created the group; null once that account is deleted. */
  user_id: string | null
  name: string
  description: string
  /** JSON text: the nested feature-permission tree (`{"workspace":{"models":true}}`). */
  permissions: string
  created_at: number
  updated_at: number
}

export interface GroupMembersTable {
  group_id: string
  user_id: string
  created_at: number
}

export interface ModelsTable {
  id: string
  user_id: string
  /** Null for a base-model override row; set for a preset. */
  base_model_id: string | null
  name: string
  /** JSON text */
  params: string
  /** JSON text */
  meta: string
  /** 0 or 1 (SQLite has no boolean type; one representation on both dialects). */
  is_active: number
  created_at: number
  updated_at: number
  /** The model's current version in model_versions (its ETag); 0 on a row older than history. */
  version: Generated<number>
}

/** One version of a model: a full snapshot, who made it, when and how (issue #12). */
export interface ModelVersionsTable {
  model_id: string
  version: number
  created_at: number
  /** The account that made the change; null for the system (e.g. a model handed over on account deletion). */
  user_id: string | null
  action: 'baseline' | 'create' | 'update' | 'toggle' | 'access_update' | 'delete' | 'restore'
  source: 'route' | 'import' | 'sync' | 'system' | 'bulk'
  /** The model's owner at this version (the snapshot's user_id); null on rows written without it. */
  owner_id: string | null
  /** JSON text of a ModelSnapshot */
  snapshot: string
}

/** The audit log: append-only (issue #12). */
export interface AuditLogTable {
  id: string
  at: number
  actor_id: string | null
  action: string
  target_type: string | null
  target_id: string | null
  ip: string | null
  request_id: string | null
  /** JSON text */
  before: string | null
  /** JSON text */
  after: string | null
}

export interface ModelGrantsTable {
  id: string
  model_id: string
  principal_type: 'user' | 'group'
  /** A user id, a group id, or `*` (with type user) for every verified user. */
  principal_id: string
  permission: 'read' | 'write'
  created_at: number
}

export interface ModelTagsTable {
  model_id: string
  tag_key: string
  name: string
}

export interface RegistryStateTable {
  key: string
  version: number
}

/** Versions of settings other than the registry (`connections`), bumped with every change of them. */
export interface SettingsStateTable {
  key: string
  version: number
}

export interface ConnectionsTable {
  id: string
  name: string
  kind: 'openai' | 'ollama'
  base_url: string
  api_key_enc: string | null
  key_hint: string | null
  /** Prepended to the provider's model ids as `<prefix>.<id>`, to tell connections apart. */
  prefix_id: string | null
  enabled: number
  created_at: number
  updated_at: number
}

export interface DB {
  connections: ConnectionsTable
  models: ModelsTable
  model_versions: ModelVersionsTable
  audit_log: AuditLogTable
  model_grants: ModelGrantsTable
  model_tags: ModelTagsTable
  registry_state: RegistryStateTable
  settings_state: SettingsStateTable
  users: UsersTable
  credentials: CredentialsTable
  api_keys: ApiKeysTable
  groups: GroupsTable
  group_members: GroupMembersTable
}
