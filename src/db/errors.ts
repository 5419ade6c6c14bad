/** Driver-independent checks on database errors (SQLite, pg and PGlite report them differently). */

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/** True for a UNIQUE or PRIMARY KEY violation. */
export function isUniqueViolation(error: unknown): boolean {
  const code = codeOf(error)
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
}

/** True for a FOREIGN KEY violation (a row pointing at a row that is gone). */
export function isForeignKeyViolation(error: unknown): boolean {
  const code = codeOf(error)
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY'
}

/** True for any error raised by a database driver, which the HTTP layer reports as DATABASE_ERROR. */
export function isDatabaseError(error: unknown): boolean {
  const code = codeOf(error)
  const name = (error as { name?: unknown } | null)?.name
  return (
    name === 'SqliteError' ||
    (code !== undefined && /^(SQLITE_|[0-9A-Z]{5}$)/.test(code)) ||
    name === 'DatabaseError'
  )
}
