/** What the History tab shows of versions, apart from React (tested in Node: history.test.ts). */

/** How each recorded action reads in the list (the source column says route, import, sync or system). */
const ACTION_LABEL: Record<string, string> = {
  create: 'Created',
  update: 'Edited',
  toggle: 'Turned on or off',
  access_update: 'Access changed',
  delete: 'Deleted',
  restore: 'Restored',
  baseline: 'State before history',
}

export const actionLabel = (action: string) => ACTION_LABEL[action] ?? action

/** Ticking a version: unticks it when picked, else adds it, keeping the two picked last. */
export function nextPicks(current: readonly number[], version: number): number[] {
  return current.includes(version) ? current.filter((v) => v !== version) : [...current, version].slice(-2)
}
