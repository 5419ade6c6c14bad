/**
 * SCIM filters (RFC 7644 §3.4.2.2), parsed by scim2-parse-filter (no hand-written parser), narrowed to
 * what the list endpoints answer: `eq` on a few attributes, joined with `and`. Anything else is refused
 * with 400 `invalidFilter` rather than ignored (an ignored filter would answer every resource).
 */
import { parse, type Filter } from 'scim2-parse-filter'
import { invalidFilter } from './scim-error.js'

/** One `attribute eq "value"` of a filter, with the attribute in this server's canonical name. */
export interface EqCondition<A extends string> {
  attribute: A
  value: string
}

/** Filterable attributes of Users and Groups: lower-cased SCIM path → canonical name. */
export const USER_FILTER_ATTRIBUTES = {
  id: 'id',
  username: 'userName',
  externalid: 'externalId',
  displayname: 'displayName',
  emails: 'emails',
  'emails.value': 'emails',
} as const
export const GROUP_FILTER_ATTRIBUTES = {
  id: 'id',
  displayname: 'displayName',
  externalid: 'externalId',
  'members.value': 'members',
  members: 'members',
} as const

const CORE_PREFIX = /^urn:ietf:params:scim:schemas:core:2\.0:(user|group):/i

/** The `eq` conditions of `filter` (none without one), or 400 invalidFilter naming what is not supported. */
export function parseEqFilter<M extends Record<string, string>>(filter: string | undefined, attributes: M): EqCondition<M[keyof M]>[] {
  if (filter === undefined || filter.trim() === '') return []
  let tree: Filter
  try {
    tree = parse(filter)
  } catch (error) {
    throw invalidFilter(`The filter is not valid SCIM filter syntax: ${(error as Error).message}`.trim())
  }
  const conditions: EqCondition<M[keyof M]>[] = []
  const visit = (node: Filter): void => {
    if (node.op === 'and') return node.filters.forEach(visit)
    if (node.op === '[]' && node.valFilter.op === 'eq' && node.valFilter.attrPath.toLowerCase() === 'value') {
      return visit({ op: 'eq', attrPath: `${node.attrPath}.value`, compValue: node.valFilter.compValue })
    }
    if (node.op === 'eq') {
      const key = node.attrPath.replace(CORE_PREFIX, '').toLowerCase()
      // Own keys only: `constructor eq "x"` must not find Object.prototype's and filter as something else.
      const name = Object.hasOwn(attributes, key) ? (attributes[key] as M[keyof M]) : undefined
      if (name === undefined) throw invalidFilter(`Filtering on "${node.attrPath}" is not supported; filter on ${supportedList(attributes)}.`)
      if (typeof node.compValue !== 'string') throw invalidFilter(`"${node.attrPath} eq" takes a string in double quotes.`)
      conditions.push({ attribute: name, value: node.compValue })
      return
    }
    throw invalidFilter(`The operator "${node.op}" is not supported; use "eq" on ${supportedList(attributes)}, joined with "and".`)
  }
  visit(tree)
  return conditions
}

const supportedList = (attributes: Record<string, string>) => [...new Set(Object.values(attributes))].join(', ')
