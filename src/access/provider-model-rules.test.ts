/**
 * The access decisions of issue #10, holes 1 and 2, as pure rules: who may override a provider model's
 * id, who may make a model reference a base, and who may use a raw base at call time.
 */
import { describe, expect, it } from 'vitest'
import { AccessRepo, PrincipalsRepo } from './access.repo.js'
import { AccessService } from './access.service.js'
import type { Actor } from './actor.js'

const defaults = {
  workspace: { models: false, models_import: false, models_export: false, templates: false },
  sharing: { models: false, public_models: false },
}
// The rules below never query: a repository is only needed to build the service.
const access = new AccessService(new AccessRepo(null as never), new PrincipalsRepo(null as never), defaults, true)
const admin: Actor = { id: 'a', role: 'admin' }
const user: Actor = { id: 'u', role: 'user' }
const pending: Actor = { id: 'p', role: 'pending' }

describe('provider model rules', () => {
  it('only a row whose owner is an admin now may override a provider model id', () => {
    expect(access.mayOverrideProviderModel('admin')).toBe(true)
    for (const role of ['user', 'pending', undefined] as const) expect(access.mayOverrideProviderModel(role)).toBe(false)
  })

  it('a base must be a readable row, or (no row) a model the actor may use unregistered', () => {
    for (const bypassModels of [false, true]) {
      for (const actor of [admin, user]) {
        expect(access.mayReferenceBaseModel(actor, 'readable row', bypassModels)).toBe(true)
        expect(access.mayReferenceBaseModel(actor, 'unreadable row', bypassModels)).toBe(false)
      }
      expect(access.mayReferenceBaseModel(admin, 'no row', bypassModels)).toBe(true)
      expect(access.mayReferenceBaseModel(user, 'no row', bypassModels)).toBe(bypassModels)
    }
  })

  it('a raw base at call time: the caller may use it, or the owner of the referencing preset may', () => {
    expect(access.mayUseRawBase(user, 'admin', false)).toBe(true) // an admin's preset exposes it
    expect(access.mayUseRawBase(user, 'user', false)).toBe(false) // a user's preset does not
    expect(access.mayUseRawBase(user, undefined, false)).toBe(false) // no referencing preset: the caller's own rule
    expect(access.mayUseRawBase(admin, 'user', false)).toBe(true)
    expect(access.mayUseRawBase(user, 'user', true)).toBe(true) // BYPASS_MODEL_ACCESS_CONTROL opens raw models to all
    expect(access.mayUseRawBase(pending, 'user', false)).toBe(false)
  })
})
