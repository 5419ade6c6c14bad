/**
 * Every access decision of modelgate goes through here: route handlers and other services ask, they
 * never decide themselves.
 */
import type { PermissionDefaults } from '../config/env.js'
import { AppError } from '../errors/app-error.js'
import type { AccessRepo } from './access.repo.js'
import type { Actor } from './actor.js'
import {
  hasFeaturePermission,
  resolveFeaturePermissions,
  type FeaturePermission,
  type ResolvedPermissions,
} from './feature-permissions.js'

export class AccessService {
  constructor(
    private readonly repo: AccessRepo,
    private readonly defaults: PermissionDefaults,
  ) {}

  async featurePermissions(actor: Actor): Promise<ResolvedPermissions> {
    const trees = actor.role === 'user' ? await this.repo.permissionTreesOf(actor.id) : []
    return resolveFeaturePermissions(actor, trees, this.defaults)
  }

  async hasFeature(actor: Actor, path: FeaturePermission): Promise<boolean> {
    if (actor.role !== 'user') return actor.role === 'admin'
    return hasFeaturePermission(actor, path, await this.repo.permissionTreesOf(actor.id), this.defaults)
  }

  /** Throws 403 ACCESS_PROHIBITED naming the missing permission. */
  async requireFeature(actor: Actor, path: FeaturePermission): Promise<void> {
    if (!(await this.hasFeature(actor, path))) {
      throw new AppError('ACCESS_PROHIBITED', `You need the "${path}" permission to do this. Ask an administrator.`)
    }
  }

  /** Pending accounts may only use the auth endpoints; everything else answers 403. */
  requireVerified(actor: Actor): void {
    if (actor.role === 'pending') {
      throw new AppError('ACCESS_PROHIBITED', 'Your account is pending approval by an administrator.')
    }
  }

  requireAdmin(actor: Actor): void {
    this.requireVerified(actor)
    if (actor.role !== 'admin') throw new AppError('ACCESS_PROHIBITED', 'This action needs an administrator.')
  }
}
