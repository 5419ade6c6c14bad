/** Reading the audit log (admin pages and export): filled in by the audit feature. */
import type { Database } from '../db/database.js'

export class AuditQueries {
  constructor(readonly database: Database) {}
}
