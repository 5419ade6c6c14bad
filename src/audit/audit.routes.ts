/** `/api/v1/audit` (admin): filled in by the audit feature. */
import type { App, Guards } from '../http/route-kit.js'
import type { AuditQueries } from './audit-queries.js'

export function registerAuditRoutes(_app: App, _deps: { audit: AuditQueries; guards: Guards }): void {}
