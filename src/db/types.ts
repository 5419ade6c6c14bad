/**
 * The database schema as Kysely sees it. Columns are snake_case, as in the API (Open WebUI's shapes),
 * so rows map to responses without renaming. Timestamps are epoch seconds; JSON columns hold text.
 */

export interface UsersTable {
  id: string
  email: string
  name: string
  role: 'pending' | 'user' | 'admin'
  profile_image_url: string
  created_at: number
  updated_at: number
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


export interface DB {
  users: UsersTable
  credentials: CredentialsTable
  api_keys: ApiKeysTable
  groups: GroupsTable
  group_members: GroupMembersTable
}
