import { describe, expect, it } from 'vitest'
import { databaseErrorMeaning } from './errors.js'

const driverError = (code: string, name = 'DatabaseError') => Object.assign(new Error(`driver text naming secret_table (${code})`), { code, name })

describe('databaseErrorMeaning: one mapping of database refusals for every table and dialect', () => {
  it.each([
    ['23505', 409, 'unique'],
    ['SQLITE_CONSTRAINT_UNIQUE', 409, 'unique'],
    ['SQLITE_CONSTRAINT_PRIMARYKEY', 409, 'unique'],
    ['23503', 409, 'foreign-key'],
    ['SQLITE_CONSTRAINT_FOREIGNKEY', 409, 'foreign-key'],
    ['40001', 409, 'serialization'],
    ['40P01', 409, 'serialization'],
    ['55P03', 409, 'serialization'],
    ['SQLITE_BUSY', 409, 'serialization'],
    ['SQLITE_BUSY_SNAPSHOT', 409, 'serialization'],
    ['SQLITE_LOCKED', 409, 'serialization'],
    ['23502', 400, 'not-null'],
    ['SQLITE_CONSTRAINT_NOTNULL', 400, 'not-null'],
    ['23514', 400, 'check'],
    ['SQLITE_CONSTRAINT_CHECK', 400, 'check'],
    ['22021', 400, 'data'],
    ['22P05', 400, 'data'],
    ['22003', 400, 'data'],
    ['SQLITE_TOOBIG', 400, 'data'],
  ])('%s → %i (%s), with a detail that never repeats the driver text', (code, status, kind) => {
    const name = code.startsWith('SQLITE') ? 'SqliteError' : 'DatabaseError'
    const meaning = databaseErrorMeaning(driverError(code, name))
    expect(meaning).toMatchObject({ status, kind })
    expect(meaning?.detail).not.toContain('secret_table')
  })

  it.each(['42P01', 'SQLITE_ERROR', 'SQLITE_CORRUPT', '08006', 'XX000'])('%s is a failure of the database (500): not mapped', (code) => {
    expect(databaseErrorMeaning(driverError(code, code.startsWith('SQLITE') ? 'SqliteError' : 'DatabaseError'))).toBeUndefined()
  })

  it("leaves errors that are not a driver's alone", () => {
    expect(databaseErrorMeaning(new Error('boom'))).toBeUndefined()
    expect(databaseErrorMeaning(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBeUndefined()
    expect(databaseErrorMeaning(null)).toBeUndefined()
    expect(databaseErrorMeaning('23505')).toBeUndefined()
  })
})
