/** The registry's response shapes for tests, taken from the route schemas (one definition). */
export type { GrantResponse as GrantOut, ModelAccessResponse as AccessModelOut, ModelResponse as ModelOut } from '../../src/models/models.schema.js'
import type { GrantInput, ModelAccessResponse } from '../../src/models/models.schema.js'

export type Permission = 'read' | 'write'
export type GrantIn = GrantInput
export interface ListOut {
  items: ModelAccessResponse[]
  total: number
}
