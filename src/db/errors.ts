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
  return name === 'SqliteError' || (code !== undefined && /^(SQLITE_|[0-9A-Z]{5}$)/.test(code)) || name === 'DatabaseError'
}

/** What a driver error means for the client, or undefined for a real failure of the database. */
export interface DatabaseErrorMeaning {
  status: 400 | 409
  /** Why, for the person reading the answer (never the driver's own text, which names tables). */
  detail: string
  /** For the log: which class of error it was. */
  kind: 'unique' | 'foreign-key' | 'not-null' | 'check' | 'data' | 'serialization' | 'busy'
}

const RETRY = 'conflicts with a concurrent change or an existing record; retry'

/**
 * The one mapping of database errors that are the request's doing, not the database's, for every table
 * and both dialects (pg and PGlite report SQLSTATE codes, better-sqlite3 `SQLITE_*` codes):
 * - unique / primary key → 409: two writers raced for one id, or the record exists;
 * - foreign key → 409: the row referred to was deleted by a concurrent request (or is still referred to);
 *   retrying answers the precise 404 from the service's own check;
 * - serialization failure (40001), deadlock (40P01), lock not available (55P03), SQLITE_BUSY/LOCKED → 409;
 * - not null (23502), check (23514), data exceptions (class 22: a NUL byte, a value out of range or too
 *   long), SQLITE_CONSTRAINT_NOTNULL/CHECK, SQLITE_MISMATCH, SQLITE_TOOBIG → 400.
 * The error handler turns it into CONFLICT or VALIDATION_ERROR; callers that know better (MODEL_ID_TAKEN
 * on create) catch the error first and keep priority. docs/errors.md documents the mapping.
 */
export function databaseErrorMeaning(error: unknown): DatabaseErrorMeaning | undefined {
  const code = codeOf(error)
  if (code === undefined || !isDatabaseError(error)) return undefined
  if (isUniqueViolation(error)) return { status: 409, kind: 'unique', detail: `The request ${RETRY}.` }
  if (isForeignKeyViolation(error)) {
    return { status: 409, kind: 'foreign-key', detail: `The request refers to a record that a concurrent change removed (or removes one still in use); retry.` }
  }
  if (code === '40001' || code === '40P01' || code === '55P03' || /^SQLITE_(BUSY|LOCKED)/.test(code)) {
    return { status: 409, kind: 'serialization', detail: `The request ${RETRY}.` }
  }
  if (code === '23502' || code === 'SQLITE_CONSTRAINT_NOTNULL') return { status: 400, kind: 'not-null', detail: 'A required value is missing.' }
  if (code === '23514' || code === 'SQLITE_CONSTRAINT_CHECK') return { status: 400, kind: 'check', detail: 'A value is not allowed.' }
  if (code.startsWith('22') || code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG') {
    return { status: 400, kind: 'data', detail: 'A value cannot be stored (a NUL character, invalid text, or a number or text out of range).' }
  }
  return undefined
}
