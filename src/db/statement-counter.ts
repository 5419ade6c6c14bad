/**
 * How many SQL statements this process has sent to its databases (every dialect, transactions' BEGIN and
 * COMMIT excluded). Counted by the driver wrapper of write-watch.ts, so nothing can run SQL around it:
 * tests read it to prove a path runs none, /metrics exports it.
 */
let statements = 0

export function countStatement(): void {
  statements += 1
}

export function statementCount(): number {
  return statements
}
