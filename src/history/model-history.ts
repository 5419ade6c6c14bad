/**
 * Reading and comparing model versions, the trash and pruning (issue #12, docs/history.md); restoring
 * is model-restore.ts. Who sees what is the access service's decision (`historyAccess`); this gathers
 * the rows it needs and shapes the answers.
 */
import type { Actor } from '../access/actor.js'
import type { HistoryAccess } from '../access/access.service.js'
import { recordAudit } from '../audit/audit-log.js'
import { VersionedCache } from '../cache/versioned-cache.js'
import type { ExpectedVersion } from '../models/if-match.js'
import type { Models } from '../models/models.feature.js'
import type { ModelWriteResponse } from '../models/models.schema.js'
import { HistoryRepo, parseSnapshot, versionNotFound, type VersionHead, type VersionRow } from './history.repo.js'
import type { HistoryItem, HistoryListQuery, HistoryPage, ModelDiff, PruneBody, RestoreBody, TrashItem, TrashPage, VersionDetail } from './history.schema.js'
import { diffSnapshots } from './model-diff.js'
import { ModelRestore } from './model-restore.js'

/** What the reads of one model's history share: what the caller may see, from which version on, the owner. */
interface HistoryView {
  id: string
  access: HistoryAccess
  /** The first version the caller may see (the latest `create` for non-admins; 1 for admins). */
  from: number
  /** The live owner, or the owner the deletion recorded. */
  ownerId: string | null
}

export class ModelHistory {
  private readonly restorer: ModelRestore
  /**
   * Trash totals per scope (everyone's, or one owner's), valid while the registry version is unchanged:
   * every change that moves a model in or out of the trash (delete, create of a deleted id, restore,
   * prune) is a registry write and bumps it. Counting checks each deletion for a newer version and a live
   * row: ~67 ms for 10k deletions at 1M models on PostgreSQL (docs/performance.md, "History and audit").
   */
  private readonly trashTotals = new VersionedCache<number>(1000, 60_000, 'trash_totals')

  constructor(readonly models: Models) {
    this.restorer = new ModelRestore(models.registry)
  }

  private get repo(): HistoryRepo {
    return new HistoryRepo(this.models.registry.database.db)
  }

  /** The caller's view of one id's history (404 MODEL_NOT_FOUND when they may not see it). */
  private async view(actor: Actor, id: string): Promise<HistoryView> {
    const { registry } = this
    const who = await registry.access.principalsOf(actor)
    const row = await registry.models.findById(id)
    let access: HistoryAccess
    let ownerId: string | null
    if (row) {
      const grants = (await registry.grants.grantsOf([id])).get(id) ?? []
      access = registry.access.historyAccess(actor, who, id, { live: row, grants })
      ownerId = row.user_id
    } else {
      const last = await this.repo.latest(id)
      ownerId = last?.action === 'delete' ? parseSnapshot(last).user_id : null
      access = registry.access.historyAccess(actor, who, id, { live: null, deletedOwnerId: ownerId })
    }
    const from = access.allLives ? 1 : Math.max(1, await this.repo.lifeStart(id))
    return { id, access, from, ownerId }
  }

  private get registry() {
    return this.models.registry
  }

  async list(actor: Actor, query: HistoryListQuery): Promise<HistoryPage> {
    const view = await this.view(actor, query.id)
    const [total, heads] = [await this.repo.count(query.id, view.from), await this.repo.page(query.id, view.from, (query.page - 1) * query.limit, query.limit)]
    const names = await this.repo.userNames(heads.flatMap((h) => (h.user_id ? [h.user_id] : [])))
    return { items: heads.map((head) => this.item(actor, view, head, names)), total }
  }

  async version(actor: Actor, id: string, version: number): Promise<VersionDetail> {
    const view = await this.view(actor, id)
    const row = await this.visibleVersion(view, version)
    const names = await this.repo.userNames(row.user_id ? [row.user_id] : [])
    const snapshot = parseSnapshot(row)
    return { ...this.item(actor, view, row, names), snapshot: { ...snapshot, access_grants: view.access.level === 'full' ? snapshot.access_grants : null } }
  }

  async diff(actor: Actor, id: string, from: number, to: number): Promise<ModelDiff> {
    const view = await this.view(actor, id)
    const older = parseSnapshot(await this.visibleVersion(view, from))
    const newer = parseSnapshot(await this.visibleVersion(view, to))
    return { id, from, to, changes: diffSnapshots(older, newer, view.access.level === 'full') }
  }

  restore(actor: Actor, body: RestoreBody, expected: ExpectedVersion): Promise<ModelWriteResponse> {
    return this.restorer.restore(actor, body, expected)
  }

  /**
   * Deleted models (the latest version of the id is its deletion, and no row holds the id): admins see
   * all, others the ones they owned (the version's owner_id). A page's keys come from the trash indexes
   * (migrations 0014, 0015), its rows by primary key (history.repo.ts).
   */
  async trash(actor: Actor, page: number, limit: number): Promise<TrashPage> {
    const ownerId = this.registry.access.trashScope(actor) === 'all' ? null : actor.id
    const rows = await this.repo.trashPage(ownerId, (page - 1) * limit, limit)
    const items: TrashItem[] = rows.map((row) => {
      const snapshot = parseSnapshot(row)
      return {
        id: row.model_id,
        name: snapshot.name,
        user_id: snapshot.user_id,
        deleted_at: Math.floor(Number(row.created_at) / 1000),
        deleted_by: row.user_id,
        version: Number(row.version),
      }
    })
    const version = String(await this.registry.version())
    const total = await this.trashTotals.get(ownerId === null ? 'all' : `owner:${ownerId}`, version, () => this.repo.trashCount(ownerId))
    return { items, total }
  }

  /** Admin: keeps the newest `keep` versions of each model (or of one), in one transaction with its audit entry. */
  async prune(actor: Actor, body: PruneBody): Promise<{ deleted: number }> {
    this.registry.access.requireHistoryPrune(actor)
    return this.registry.inTransaction(async (tx) => {
      const deleted = await new HistoryRepo(tx.executor).prune(body.keep, body.model_id)
      await recordAudit(
        tx.executor,
        [
          {
            action: 'model.history_prune',
            actorId: actor.id,
            targetType: 'model',
            targetId: body.model_id,
            after: { keep: body.keep, model_id: body.model_id ?? null, deleted },
          },
        ],
        actor.origin,
      )
      return { deleted }
    })
  }

  /** A version the view includes (404 VERSION_NOT_FOUND otherwise: never recorded, pruned, or of an earlier life). */
  private async visibleVersion(view: HistoryView, version: number): Promise<VersionRow> {
    const row = version >= view.from ? await this.repo.get(view.id, version) : undefined
    if (!row) throw versionNotFound(view.id, version)
    return row
  }

  private item(actor: Actor, view: HistoryView, head: VersionHead, names: ReadonlyMap<string, string>): HistoryItem {
    const visible = this.registry.access.historyAuthorVisible(actor, view.access, head.user_id, view.ownerId)
    const name = visible && head.user_id ? names.get(head.user_id) : undefined
    return {
      version: Number(head.version),
      created_at: Math.floor(Number(head.created_at) / 1000),
      user_id: visible ? head.user_id : null,
      user: name !== undefined && head.user_id ? { id: head.user_id, name } : null,
      action: head.action,
      source: head.source,
      template_id: head.template_id ?? null,
    }
  }
}
