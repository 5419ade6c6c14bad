/**
 * What the caller may do with a model, as the server decided it (`can`, computed in src/access): the web
 * never re-derives the rule from roles, owners or grants. An answer without `can` (a server older than
 * issue #11) falls back to its own `write_access` flag, still the server's word.
 */
import type { ModelAbilities } from '../api/client'

const NOTHING: ModelAbilities = { read: false, write: false, share: false, delete: false }

export function abilitiesOf(model: { can?: ModelAbilities; write_access?: boolean } | undefined): ModelAbilities {
  if (!model) return NOTHING
  if (model.can) return model.can
  const write = model.write_access === true
  return { read: true, write, share: write, delete: write }
}
