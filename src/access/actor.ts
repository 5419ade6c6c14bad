import type { UserRole } from '../config/env.js'

/** Where a request came from, for the audit log: the client address and the request id (its log lines' reqId). */
export interface RequestOrigin {
  ip: string | null
  requestId: string | null
}

/** Who is asking: every access decision takes one. */
export interface Actor {
  id: string
  role: UserRole
  /**
   * The request the actor is acting through (set by `accountOf`), recorded with its audit entries. Passed
   * along explicitly rather than through AsyncLocalStorage, which on Node 20 slows every request.
   */
  origin?: RequestOrigin
}
