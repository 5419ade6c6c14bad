/** A provider connection as the rest of the code sees it (database or environment). */
export interface Connection {
  id: string
  name: string
  kind: 'openai' | 'ollama'
  /** For OpenAI-compatible providers, the URL that `/models` and `/chat/completions` hang off (…/v1). */
  base_url: string
  /** Decrypted key, only in memory, only for calls to the provider. */
  apiKey: string | null
  key_hint: string | null
  prefix_id: string | null
  enabled: boolean
  source: 'api' | 'env'
  created_at: number
  updated_at: number
  /**
   * Open WebUI's `model_ids`: for the OpenAI kind the models served as listed, without asking the
   * provider; for Ollama an allowlist of what `/api/tags` answers. Empty: every model the provider lists.
   */
  model_ids: string[]
  /** Open WebUI's connection tags (`[{name, …}]`), added to every model of the connection in the runtime list. */
  tags: ConnectionTag[]
  /** What Open WebUI shows: `local` or `external` (defaults: Ollama local, OpenAI external). */
  connection_type: 'local' | 'external'
  /** Index among the connections of its kind, environment ones first: Open WebUI's `urlIdx`. */
  url_idx: number
  /** False when the kind's whole API is switched off (`ENABLE_OPENAI_API` / `ENABLE_OLLAMA_API`). */
  api_enabled: boolean
}

export type ConnectionTag = { name: string } & Record<string, unknown>

/** Open WebUI's default connection type of a kind. */
export const defaultConnectionType = (kind: 'openai' | 'ollama'): 'local' | 'external' => (kind === 'ollama' ? 'local' : 'external')

/** A model a provider serves, with the id clients use (prefixed when the connection has a prefix). */
export interface ProviderModel {
  id: string
  /** The id the provider knows it by. */
  upstream_id: string
  name: string
  owned_by: string
  created: number
  connection_id: string
}

/** The URL of the OpenAI-compatible API of a connection (Ollama serves one under /v1). */
export function openAiBase(connection: Pick<Connection, 'kind' | 'base_url'>): string {
  return connection.kind === 'ollama' ? joinUrl(connection.base_url, '/v1') : connection.base_url
}

/**
 * `path` appended to the path of `base`, before its query string (`https://h/v1?api-version=1` +
 * `/models` → `https://h/v1/models?api-version=1`): some providers want a key or a version there.
 */
export function joinUrl(base: string, path: string): string {
  const cut = base.search(/[?#]/)
  return cut < 0 ? `${base}${path}` : `${base.slice(0, cut).replace(/\/+$/, '')}${path}${base.slice(cut)}`
}
