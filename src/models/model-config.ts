/**
 * Open WebUI's model configuration (issue #14 item 4; docs/compat.md, "Model configuration"): read,
 * saved by admins (`config.update` in the audit log), and applied in two places:
 *
 * - the runtime list follows `MODEL_ORDER_LIST` (`orderByConfig`, used by the gateway): the ids listed
 *   come first in that order, every other model after in the list's own order. Ordering only moves what
 *   the caller already sees, so an id of a model the caller may not read never reaches their list.
 * - a new preset starts from `DEFAULT_MODEL_METADATA` / `DEFAULT_MODEL_PARAMS` (`withDefaults`): what
 *   the body (after a template's sections) does not give, objects merged key by key, the body winning.
 *
 * A save bumps the registry version in its transaction, so every cached runtime list, on every instance
 * sharing the database, is stale at once.
 */
import { recordAudit, type AuditActor } from '../audit/audit-log.js'
import { TopicCache } from '../cache/topic-cache.js'
import type { Database } from '../db/database.js'
import { epochSeconds, lockInTransaction, type Executor } from '../db/executor.js'
import { ModelConfigRepo, MODEL_CONFIG_KEY } from './model-config.repo.js'
import type { ModelDefaults, ModelsConfig, ModelsConfigUpdate } from './model-config.schema.js'
import type { ModelForm } from './models.schema.js'
import { ModelsRepo } from './models.repo.js'

const EMPTY: ModelsConfig = {
  DEFAULT_MODELS: null,
  DEFAULT_PINNED_MODELS: null,
  MODEL_ORDER_LIST: null,
  DEFAULT_MODEL_METADATA: null,
  DEFAULT_MODEL_PARAMS: null,
}

type Json = Record<string, unknown>
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

export class ModelConfigStore {
  /**
   * The stored configuration, read once and kept until a write of `app_settings` (topic `accounts` of the
   * write watch, on this instance or heard on the bus): every create of a preset reads its defaults, and
   * this read was one round trip of each (docs/performance.md, "Model writes, round trips").
   */
  private readonly cache: TopicCache<ModelsConfig>

  constructor(private readonly database: Database) {
    this.cache = new TopicCache(database.watch, 'accounts', 1)
  }

  /**
   * The configuration as stored (every key null until an admin sets it). Through `executor` (a
   * transaction) it is read there; otherwise from the cache. Callers must not change what they get.
   */
  async get(executor?: Executor): Promise<ModelsConfig> {
    if (executor) return parse(await new ModelConfigRepo(executor).read())
    return this.cache.get('', async () => parse(await new ModelConfigRepo(this.database.db).read()))
  }

  /** What a new preset starts from. */
  async defaults(): Promise<ModelDefaults> {
    const config = await this.get()
    return { DEFAULT_MODEL_METADATA: config.DEFAULT_MODEL_METADATA ?? {}, DEFAULT_MODEL_PARAMS: config.DEFAULT_MODEL_PARAMS ?? {} }
  }

  /**
   * Saves a change (keys left out keep their value; null clears one), bumps the registry version and
   * records `config.update` with the changed keys before and after (nothing when nothing changed).
   */
  async update(patch: ModelsConfigUpdate, by: AuditActor): Promise<ModelsConfig> {
    return this.database.db.transaction().execute(async (trx) => {
      await lockInTransaction(this.database, trx, 'modelgate:model-config')
      const repo = new ModelConfigRepo(trx)
      const before = parse(await repo.read())
      const after: ModelsConfig = { ...before }
      for (const key of Object.keys(EMPTY) as (keyof ModelsConfig)[]) {
        const value = patch[key]
        if (value !== undefined) (after as Record<string, unknown>)[key] = value
      }
      // Open WebUI's lists as it keeps them; an empty one is "none".
      after.DEFAULT_MODELS = normalizeIdList(after.DEFAULT_MODELS)
      after.DEFAULT_PINNED_MODELS = normalizeIdList(after.DEFAULT_PINNED_MODELS)
      if (after.MODEL_ORDER_LIST) after.MODEL_ORDER_LIST = [...new Set(after.MODEL_ORDER_LIST)]
      const change = changedKeys(before, after)
      if (!change) return before
      await repo.write(JSON.stringify(after), epochSeconds())
      await new ModelsRepo(trx).bumpVersion()
      await recordAudit(trx, [{ action: 'config.update', actorId: by.id, targetType: 'config', targetId: MODEL_CONFIG_KEY, ...change }], by.origin)
      return after
    })
  }

  /** The ids `MODEL_ORDER_LIST` puts first (read through `executor`). */
  async order(executor?: Executor): Promise<readonly string[]> {
    return (await this.get(executor)).MODEL_ORDER_LIST ?? []
  }

  /**
   * A create's form over the defaults: for a preset (a form with a base model), the default meta and
   * params fill what the form does not give (objects merged key by key, the form winning at every leaf).
   */
  async withDefaults(form: ModelForm): Promise<ModelForm> {
    if (!form.base_model_id) return form
    const config = await this.get()
    const meta = config.DEFAULT_MODEL_METADATA
    const params = config.DEFAULT_MODEL_PARAMS
    if (!meta && !params) return form
    return {
      ...form,
      meta: meta ? fill(meta, form.meta) : form.meta,
      params: params ? fill(params, form.params) : form.params,
    }
  }
}

/** `list` in `order`'s order first, then the rest in their own order. */
export function orderByConfig<T extends { id: string }>(list: readonly T[], order: readonly string[]): T[] {
  if (order.length === 0) return [...list]
  const rank = new Map(order.map((id, index) => [id, index]))
  const listed = list.filter((item) => rank.has(item.id)).sort((a, b) => (rank.get(a.id) ?? 0) - (rank.get(b.id) ?? 0))
  return [...listed, ...list.filter((item) => !rank.has(item.id))]
}

/** `given` over `defaults`: objects merged key by key, `given` winning at every leaf (arrays are leaves). */
function fill(defaults: Json, given: Json): Json {
  const result: Json = structuredClone(defaults)
  for (const [key, value] of Object.entries(given)) {
    const base = result[key]
    // defineProperty: a key named __proto__ stays a plain key.
    Object.defineProperty(result, key, {
      value: isObject(base) && isObject(value) ? fill(base, value) : value,
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  return result
}

function normalizeIdList(value: string | null): string | null {
  if (value === null) return null
  const ids = value
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '')
  return ids.length === 0 ? null : [...new Set(ids)].join(',')
}

/** The stored value over the empty configuration; a value that no longer parses counts as unset. */
function parse(text: string | undefined): ModelsConfig {
  if (text === undefined) return { ...EMPTY }
  try {
    const value: unknown = JSON.parse(text)
    if (!isObject(value)) return { ...EMPTY }
    return {
      DEFAULT_MODELS: typeof value['DEFAULT_MODELS'] === 'string' ? value['DEFAULT_MODELS'] : null,
      DEFAULT_PINNED_MODELS: typeof value['DEFAULT_PINNED_MODELS'] === 'string' ? value['DEFAULT_PINNED_MODELS'] : null,
      MODEL_ORDER_LIST: Array.isArray(value['MODEL_ORDER_LIST']) ? value['MODEL_ORDER_LIST'].filter((id): id is string => typeof id === 'string') : null,
      DEFAULT_MODEL_METADATA: isObject(value['DEFAULT_MODEL_METADATA']) ? value['DEFAULT_MODEL_METADATA'] : null,
      DEFAULT_MODEL_PARAMS: isObject(value['DEFAULT_MODEL_PARAMS']) ? value['DEFAULT_MODEL_PARAMS'] : null,
    }
  } catch {
    return { ...EMPTY }
  }
}

/** The keys whose values differ, before and after; undefined when none does. */
function changedKeys(before: ModelsConfig, after: ModelsConfig) {
  const b: Json = {}
  const a: Json = {}
  for (const key of Object.keys(EMPTY) as (keyof ModelsConfig)[]) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      b[key] = before[key]
      a[key] = after[key]
    }
  }
  return Object.keys(a).length === 0 ? undefined : { before: b, after: a }
}
