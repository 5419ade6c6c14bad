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
  /** sha256 (hex) of the one token the last own password change kept valid; null: none (migration 0008). */
  kept_token: Generated<string | null>
  /** The account's subject at the OpenID provider (`oidc@<sub>`), unique; null: never signed in through it (migration 0011). */
  oauth_sub: Generated<string | null>
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
  /** JSON text: Open WebUI's free `data` object (`data.config.share`); null: none (migration 0008). */
  data: Generated<string | null>
  created_at: number
  updated_at: number
  /** Who keeps the member list: `oidc` (the provider's groups claim, synced at sign-in); null: by hand (migration 0011). */
  managed_by: Generated<string | null>
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
  /** The template the model came from or was last applied from (docs/templates.md); null: none. */
  template_id: Generated<string | null>
}

/** One version of a model: a full snapshot, who made it, when and how (issue #12). */
export interface ModelVersionsTable {
  model_id: string
  version: number
  created_at: number
  /** The account that made the change; null for the system (e.g. a model handed over on account deletion). */
  user_id: string | null
  action: 'baseline' | 'create' | 'update' | 'toggle' | 'access_update' | 'delete' | 'restore'
  source: 'route' | 'import' | 'sync' | 'system' | 'bulk' | 'template'
  /** The model's owner at this version (the snapshot's user_id); null on rows written without it. */
  owner_id: string | null
  /** The template this version was written from (an apply); null otherwise (absent: null). */
  template_id?: string | null
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
  /** JSON text: Open WebUI's `model_ids` (OpenAI kind: served as listed; Ollama kind: an allowlist), or null. */
  model_ids: string | null
  /** JSON text: Open WebUI's connection `tags` (`[{name, …}]`), or null. */
  tags: string | null
  /** `local` | `external`, or null for the kind's default (OpenAI external, Ollama local). */
  connection_type: string | null
  /** Order of creation (ties of created_at broken exactly); null on rows older than it. */
  position: number | null
}

/** Open WebUI's `ENABLE_OPENAI_API` / `ENABLE_OLLAMA_API`, by kind (no row = enabled). */
export interface ProviderApisTable {
  kind: 'openai' | 'ollama'
  enabled: number
  updated_at: number
}

/**
 * A configuration template (docs/templates.md). Each section is null when the template does not hold
 * it; JSON sections are text.
 */
export interface TemplatesTable {
  id: string
  /** The owner. */
  user_id: string
  name: string
  description: string
  base_model_id: string | null
  /** JSON text: params (validated as a model's). */
  params: string | null
  /** JSON text: keys of `params` the template enforces. */
  locked_params: string | null
  /** JSON text: meta (validated as a model's). */
  meta: string | null
  /** JSON text: the grants the template applies to models (normal form). */
  access_grants: string | null
  created_at: number
  updated_at: number
}

/** A template's own sharing (who may read or change the template), like model_grants. */
export interface TemplateGrantsTable {
  id: string
  template_id: string
  principal_type: 'user' | 'group'
  principal_id: string
  permission: 'read' | 'write'
  created_at: number
}

/** Settings an admin changes at run time (migration 0008): one JSON value per key; no row: the environment's. */
export interface AppSettingsTable {
  key: string
  /** JSON text */
  value: string
  updated_at: number
}

/** An account the SCIM client provisioned or took over (migration 0012), with its `externalId`. */
export interface ScimUsersTable {
  user_id: string
  external_id: string | null
  created_at: number
}

/** A group the SCIM client provisioned or took over (migration 0012), with its `externalId`. */
export interface ScimGroupsTable {
  group_id: string
  external_id: string | null
  created_at: number
}

/** One gateway call (migration 0013, src/analytics): who called which model, tokens, latency, outcome. */
export interface UsageEventsTable {
  created_at: number
  user_id: string
  model_id: string
  base_model_id: string
  connection_id: string
  endpoint: string
  /** 1 for a streamed answer, else 0. */
  stream: number
  status: number
  error: string | null
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
  latency_ms: number
  first_chunk_ms: number | null
}

export interface DB {
  usage_events: UsageEventsTable
  scim_users: ScimUsersTable
  scim_groups: ScimGroupsTable
  app_settings: AppSettingsTable
  templates: TemplatesTable
  template_grants: TemplateGrantsTable
  connections: ConnectionsTable
  provider_apis: ProviderApisTable
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
