import type { UserRole } from '../config/env.js'

/** Who is asking: every access decision takes one. */
export interface Actor {
  id: string
  role: UserRole
}
