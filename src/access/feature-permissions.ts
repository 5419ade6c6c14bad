/**
 * Feature permissions (design.md §2.4): dot paths such as `workspace.models`. A user has one when any of
 * their groups sets it true, else the environment default decides; admins have all of them.
 */
import { z } from 'zod'
import type { PermissionDefaults } from '../config/env.js'
import type { Actor } from './actor.js'

export const FEATURE_PERMISSIONS = [
  'workspace.models',
  'workspace.models_import',
  'workspace.models_export',
  'workspace.templates',
  'sharing.models',
  'sharing.public_models',
] as const
export type FeaturePermission = (typeof FEATURE_PERMISSIONS)[number]

/**
 * A group's permission tree, as Open WebUI stores it. Known keys must be booleans; unknown sections
 * and keys (Open WebUI has many: chat.*, features.*) are kept so its exports round-trip.
 */
export const PermissionTreeSchema = z
  .object({
    workspace: z
      .looseObject({
        models: z.boolean().optional().describe('Create and edit model presets.'),
        models_import: z.boolean().optional().describe('Import model files.'),
        models_export: z.boolean().optional().describe('Export models.'),
        templates: z.boolean().optional().describe('Create configuration templates (docs/templates.md).'),
      })
      .optional(),
    sharing: z
      .looseObject({
        models: z.boolean().optional().describe('Share models with groups and users.'),
        public_models: z.boolean().optional().describe('Make models public.'),
      })
      .optional(),
  })
  .catchall(z.unknown())
  .describe('Nested feature-permission tree, e.g. {"workspace": {"models": true}}.')
export type PermissionTree = z.infer<typeof PermissionTreeSchema>

/** The resolved permissions returned with the session user. */
export type ResolvedPermissions = PermissionDefaults

function valueAt(tree: unknown, path: FeaturePermission): unknown {
  let node: unknown = tree
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined
    node = (node as Record<string, unknown>)[part]
  }
  return node
}

function defaultAt(defaults: PermissionDefaults, path: FeaturePermission): boolean {
  return valueAt(defaults, path) === true
}

export function hasFeaturePermission(actor: Actor, path: FeaturePermission, groupTrees: readonly unknown[], defaults: PermissionDefaults): boolean {
  if (actor.role === 'admin') return true
  if (actor.role === 'pending') return false
  return groupTrees.some((tree) => valueAt(tree, path) === true) || defaultAt(defaults, path)
}

export function resolveFeaturePermissions(actor: Actor, groupTrees: readonly unknown[], defaults: PermissionDefaults): ResolvedPermissions {
  const has = (path: FeaturePermission) => hasFeaturePermission(actor, path, groupTrees, defaults)
  return {
    workspace: {
      models: has('workspace.models'),
      models_import: has('workspace.models_import'),
      models_export: has('workspace.models_export'),
      templates: has('workspace.templates'),
    },
    sharing: { models: has('sharing.models'), public_models: has('sharing.public_models') },
  }
}

/**
 * The default permissions a tree grants (Open WebUI's `USER_PERMISSIONS`, as `POST /users/default/permissions`
 * stores it): each known permission true exactly where the tree says true; unknown keys count for nothing.
 */
export function permissionDefaultsFrom(tree: unknown): PermissionDefaults {
  const resolved: Record<string, Record<string, boolean>> = {}
  for (const path of FEATURE_PERMISSIONS) {
    const [section = '', key = ''] = path.split('.')
    resolved[section] = { ...resolved[section], [key]: valueAt(tree, path) === true }
  }
  return resolved as unknown as PermissionDefaults
}
