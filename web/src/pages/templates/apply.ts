/**
 * "Apply to models…" apart from React (tested in Node: templates.test.ts): the request body a draft
 * sends (models chosen by id, or a filter the server resolves to the models the caller may write), and
 * how a change of the report reads. Which models change, stay or are refused is the server's answer.
 */
import type { TemplateApplyBody } from '../../api/client'
import { grantOfPath, type PrincipalNamer } from '../history/DiffTable'

export interface ApplyFilter {
  query: string
  tag: string
  base_model_id: string
  user_id: string
  /** The template's own id: only the models that follow it (re-apply, e.g. to the drifted ones); '' for any. */
  template_id: string
}

export interface ApplyDraft {
  by: 'ids' | 'filter'
  /** Chosen models, id → name. */
  ids: ReadonlyMap<string, string>
  filter: ApplyFilter
  mode: 'merge' | 'replace'
}

export const emptyApplyDraft = (): ApplyDraft => ({
  by: 'filter',
  ids: new Map(),
  filter: { query: '', tag: '', base_model_id: '', user_id: '', template_id: '' },
  mode: 'merge',
})

/** The filter's fields that narrow (blank ones are not sent). */
export function filterOf(filter: ApplyFilter): Partial<ApplyFilter> {
  const out: Partial<ApplyFilter> = {}
  for (const key of ['query', 'tag', 'base_model_id', 'user_id', 'template_id'] as const) {
    const value = filter[key].trim()
    if (value !== '') out[key] = value
  }
  return out
}

/**
 * The body of `POST /templates/template/apply`, or why the draft cannot be sent yet: no model chosen, or
 * a filter without any field (which would pick every model the caller may write: refused here on purpose).
 */
export function applyBody(templateId: string, draft: ApplyDraft, dryRun: boolean): { body: TemplateApplyBody } | { problem: string } {
  const base = { id: templateId, mode: draft.mode, dry_run: dryRun }
  if (draft.by === 'ids') {
    if (draft.ids.size === 0) return { problem: 'Choose at least one model.' }
    return { body: { ...base, model_ids: [...draft.ids.keys()] } }
  }
  const filter = filterOf(draft.filter)
  if (Object.keys(filter).length === 0) {
    return { problem: 'Fill in at least one filter field (search, tag, base model, owner or the models that follow this template).' }
  }
  return { body: { ...base, filter } }
}

/** The groups and accounts (other than everyone, "*") that the access changes of a report name, each once. */
export function grantPrincipals(changes: readonly { path: string }[]): { groups: string[]; users: string[] } {
  const groups = new Set<string>()
  const users = new Set<string>()
  for (const change of changes) {
    const grant = grantOfPath(change.path)
    if (!grant || grant.id === '*') continue
    ;(grant.type === 'group' ? groups : users).add(grant.id)
  }
  return { groups: [...groups], users: [...users] }
}

/**
 * Names for the principals of access changes, from what the caller may read: the groups the groups API
 * gave them (admins every group, others their own), the accounts the users API gave them (admins), and
 * themselves. Anything else is undefined, and the diff shows the id.
 */
export function principalNamer(known: {
  groups: readonly { id: string; name: string }[]
  users: ReadonlyMap<string, string>
  self: { id: string; name: string }
}): PrincipalNamer {
  const groups = new Map(known.groups.map((group) => [group.id, group.name]))
  return (type, id) => {
    if (type === 'group') return groups.get(id)
    if (id === known.self.id) return `${known.self.name} (you)`
    return known.users.get(id)
  }
}
