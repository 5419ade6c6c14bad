/**
 * The model registry's services, one job each, over one shared Registry (transactions, lookups, id and
 * base checks): queries (cached reads), writes, transfer (import and export) and sync.
 */
import type { AccessService } from '../access/access.service.js'
import type { Database } from '../db/database.js'
import { ModelBulkAccess } from './model-bulk-access.js'
import { ModelConfigStore } from './model-config.js'
import { ModelQueries } from './model-queries.js'
import { ModelSync } from './model-sync.js'
import { ModelTransfer } from './model-transfer.js'
import { ModelWrites } from './model-writes.js'
import { Registry, type ServedModels } from './registry.js'

export type { ServedModels } from './registry.js'

export interface Models {
  queries: ModelQueries
  writes: ModelWrites
  transfer: ModelTransfer
  sync: ModelSync
  /** Bulk access changes and the models of a group (issue #13). */
  bulkAccess: ModelBulkAccess
  /** Open WebUI's model configuration: default models, order, default meta and params (issue #14). */
  config: ModelConfigStore
  /** The shared internals, for the features built on the registry (history: restore, trash). */
  registry: Registry
}

export function createModels(
  database: Database,
  access: AccessService,
  served: ServedModels,
  options: { bypassModelAccessControl: boolean; historyMaxVersions: number | null },
): Models {
  const registry = new Registry(database, access, served, options.bypassModelAccessControl, options.historyMaxVersions)
  const config = new ModelConfigStore(database)
  return {
    queries: new ModelQueries(registry),
    writes: new ModelWrites(registry, config),
    transfer: new ModelTransfer(registry),
    sync: new ModelSync(registry),
    bulkAccess: new ModelBulkAccess(registry),
    config,
    registry,
  }
}
