/**
 * Applying a template to existing models (docs/templates.md), and the drift of a template's models.
 * The pattern of bulk access changes (src/models/model-bulk-access.ts):
 * - dry run and real run share one computation; the real run computes afresh from the locked rows, so a
 *   dry run followed by a real run after models changed reports what the real run found and did;
 * - a real run is ONE transaction (all or nothing), worked chunk by chunk (500 ids in id order): each
 *   chunk's rows are locked and read, planned, and written in set-based statements before the next chunk
 *   is read, so memory holds one chunk's rows and snapshots; the answer is written chunk by chunk as JSON
 *   bytes (BulkReport: the 10k-entry report object and the string serialized from it were the peak);
 * - a refused model is reported with the answer a single write would give, never touched; a model the
 *   caller cannot read is refused exactly as an unknown id (MODEL_NOT_FOUND, same text); a filter
 *   selects only models the caller may write (bulk's filter, with its cap).
 * Each changed model gets one version (source `template`, template_id on the version and on the model)
 * and one audit entry; the apply one summary entry `template.apply`.
 */
import { modelNotFound } from '../access/access.service.js'
import type { Actor } from '../access/actor.js'
import { type Grant, type Principals } from '../access/model-grants.js'
import { recordAudit, type AuditEvent } from '../audit/audit-log.js'
import { epochSeconds } from '../db/executor.js'
import { AppError } from '../errors/app-error.js'
import type { DiffChange } from '../history/history.schema.js'
import { diffSnapshots, sameJson } from '../history/model-diff.js'
import { conflictingIds } from '../models/conflicts.js'
import { grantDelta } from '../models/grant-diff.js'
import { BULK_CHUNK_SIZE, BulkReport, matchingWritable } from '../models/model-bulk-access.js'
import { snapshotOf, type ModelSnapshot } from '../models/model-versions.js'
import { chunks, type ModelRow } from '../models/models.repo.js'
import { tagNames, toGrant, type Registry, type RegistryTx } from '../models/registry.js'
import type { JsonText } from '../schema/json-text.js'
import { applyTemplate, type ApplyMode, type TemplateSections } from './template-merge.js'
import type { TemplateStore } from './template-store.js'
import { sectionsOf } from './templates.presenter.js'
import type { TemplateApply, TemplateApplyReport, TemplateModels } from './templates.schema.js'

/** A changed model of one chunk: its report entry, its state before and after, whether its grants change. */
interface PlannedWrite {
  entry: TemplateApplyReport['changed'][number]
  /** The row as read (locked in a real run). */
  row: ModelRow
  before: ModelSnapshot
  after: ModelSnapshot
  grantsChange: boolean
}

/** What every chunk of one run shares. */
interface Run {
  actor: Actor
  who: Principals
  template: TemplateSections
  mode: ApplyMode
  served: ReadonlyMap<string, string>
  tx: RegistryTx
  /** A real run: rows are locked and each chunk is written before the next is read. */
  real: boolean
  report: BulkReport
  sharing: ReturnType<RegistryTx['access']['sharingRefusal']>
  /** Whether the caller may use the template's base (asked once; null when it holds none or may). */
  baseRefusal: AppError | null
  now: number
}

export class TemplateApplier {
  /** Ids per chunk (tests set fewer, to cross chunk boundaries with few models). */
  chunkSize = BULK_CHUNK_SIZE

  constructor(
    private readonly registry: Registry,
    private readonly store: TemplateStore,
  ) {}

  /** The report as JSON text (sent as is: test/bulk-report.test.ts checks it is what the schema's serializer writes). */
  async apply(actor: Actor, body: TemplateApply): Promise<JsonText<TemplateApplyReport>> {
    const { access } = this.registry
    const who = await access.principalsOf(actor)
    const { row } = await this.store.readable(who, body.id, this.registry.database.db)
    const template = sectionsOf(row)
    // A group or account named by the template's access section may have been deleted since it was saved.
    await requireKnownPrincipals(this.registry, template.access_grants ?? [])
    // Asked before the transaction: on SQLite the catalog's own queries would wait for it forever.
    const served = await this.registry.served.servedIds()
    const select = (tx: RegistryTx) => (body.model_ids ? Promise.resolve([...new Set(body.model_ids)]) : matchingWritable(who, body.filter ?? {}, tx))
    if (body.dry_run) {
      const root = this.registry.root
      return (await this.run(actor, who, template, body, await select(root), served, root, false)).toJson()
    }
    const report = await this.registry.inTransaction(async (tx) => {
      // Held until the run commits: a delete of the template meanwhile waits, then unlinks what it linked.
      await this.store.holdForLink(template.id, tx)
      return this.run(actor, who, template, body, await select(tx), served, tx, true)
    })
    return report.toJson()
  }

  /**
   * The models of a template the caller may read (by name), each with what applying the template
   * (merge) would change: grants only on models the caller may write.
   */
  async models(actor: Actor, id: string, page: number, limit: number): Promise<TemplateModels> {
    const { access, models, grants: grantsRepo } = this.registry
    const who = await access.principalsOf(actor)
    const { row } = await this.store.readable(who, id, this.registry.database.db)
    const template = sectionsOf(row)
    const filters = { who, templateId: id }
    const plan = await models.planFor(who)
    const [rows, total] = await Promise.all([
      models.listPage(filters, plan, { orderBy: 'name', direction: 'asc', offset: (page - 1) * limit, limit }),
      models.count(filters, plan),
    ])
    const grants = await grantsRepo.grantsOf(rows.map((r) => r.id))
    return {
      items: rows.map((model) => {
        const modelGrants = (grants.get(model.id) ?? []).map(toGrant)
        const before = snapshotOf(model, modelGrants)
        const changes = diffSnapshots(before, applyTemplate(before, template, 'merge').after, access.modelPermissions(who, model, modelGrants).write)
        return { id: model.id, name: model.name, drifted: changes.length > 0, changes }
      }),
      total,
    }
  }

  /**
   * One run, chunk by chunk (500 ids in id order): each chunk is read (locked in a real run), planned,
   * and in a real run written — rows, tags, grants, versions, audit entries — before the next one is
   * read, then added to the report as JSON bytes, so only one chunk's rows, snapshots and report entries
   * are held at a time.
   */
  private async run(
    actor: Actor,
    who: Principals,
    template: TemplateSections,
    body: TemplateApply,
    ids: readonly string[],
    served: ReadonlyMap<string, string>,
    tx: RegistryTx,
    real: boolean,
  ): Promise<BulkReport> {
    const report = new BulkReport(!real)
    // The version each changed model got, for the summary entry (in id order, as the report). A Map: a
    // model id is any printable text, and `__proto__` assigned on a plain object would be dropped.
    const versions = new Map<string, number | null>()
    // The template's base is the same for every model: whether the caller may use it is asked once.
    const baseRefusal =
      template.base_model_id === null ? null : await refusalOf(this.registry.checkBaseReference(actor, who, template.base_model_id, tx, served))
    const run: Run = {
      actor,
      who,
      template,
      mode: body.mode,
      served,
      tx,
      real,
      report,
      sharing: tx.access.sharingRefusal(actor),
      baseRefusal,
      now: epochSeconds(),
    }
    for (const chunk of chunks([...ids].sort(), this.chunkSize)) {
      const writes = await this.planChunk(run, chunk)
      if (real && writes.length > 0) await this.writeChunk(run, writes)
      for (const { entry } of writes) versions.set(entry.id, entry.version)
      report.changed(writes.map(({ entry }) => entry))
    }
    if (real) {
      await recordAudit(
        tx.executor,
        [
          {
            action: 'template.apply',
            actorId: actor.id,
            targetType: 'template',
            targetId: template.id,
            after: {
              mode: body.mode,
              selection: body.model_ids ? { model_ids: body.model_ids.length } : { filter: body.filter },
              changed: Object.fromEntries(versions),
              unchanged: report.unchangedCount,
              refused: report.refusedCount,
            },
          },
        ],
        actor.origin,
      )
    }
    return report
  }

  /** What the apply does to each model of one chunk, read through the run's `tx` (locked rows in a real run). */
  private async planChunk(run: Run, chunk: readonly string[]): Promise<PlannedWrite[]> {
    const { actor, who, template, tx, report } = run
    const refuse = (id: string, error: AppError) => report.refuse(id, error)
    const rows: ModelRow[] = run.real ? await tx.models.findByIdsForUpdate(chunk, this.registry.database.dialect) : await tx.models.findByIds(chunk)
    const byId = new Map(rows.map((row) => [row.id, row]))
    const grants = await tx.grants.grantsOf(rows.map((row) => row.id))
    const conflicts = await conflictingIds(tx.models, tx.access, rows, run.served)
    // The locks of the templates these models follow now (other than this one): they hold on apply too.
    const others = [...new Set(rows.flatMap((row) => (row.template_id && row.template_id !== template.id ? [row.template_id] : [])))]
    const locks = others.length > 0 ? await this.registry.templates.lockedParams(others, tx) : new Map<string, string[]>()
    const writes: PlannedWrite[] = []
    for (const id of chunk) {
      const row = byId.get(id)
      const before = (grants.get(id) ?? []).map(toGrant)
      try {
        if (!row) throw modelNotFound(id)
        tx.access.requireModelWrite(who, row, before)
        if (conflicts.has(id)) throw new AppError('MODEL_ID_UNAVAILABLE', 'This model id is not available any more: the model can be deleted, not changed.')
        const lockRefusal = tx.access.templateApplyRefusal(actor, row, template, (row.template_id && locks.get(row.template_id)) || [])
        if (lockRefusal) throw lockRefusal
      } catch (error) {
        if (error instanceof AppError) {
          refuse(id, error)
          continue
        }
        throw error
      }
      const snapshot = snapshotOf(row, before)
      const applied = applyTemplate(snapshot, template, run.mode)
      if (applied.invalid !== null) {
        refuse(id, new AppError('VALIDATION_ERROR', applied.invalid))
        continue
      }
      const { after } = applied
      if (after.base_model_id !== snapshot.base_model_id) {
        const refusal =
          (await refusalOf(Promise.resolve().then(() => this.registry.checkBaseModel(actor, id, snapshot.base_model_id, after.base_model_id)))) ??
          run.baseRefusal
        if (refusal) {
          refuse(id, refusal)
          continue
        }
      }
      const changes: DiffChange[] = diffSnapshots(snapshot, after, true)
      const grantsChange = changes.some((change) => change.path.startsWith('access_grants.'))
      if (grantsChange) {
        const refusal = await run.sharing(before, after.access_grants)
        if (refusal) {
          refuse(id, refusal)
          continue
        }
      }
      if (row.template_id !== template.id) changes.push({ path: 'template_id', op: 'changed', old: row.template_id ?? null, new: template.id })
      if (changes.length === 0) {
        report.unchanged(id)
        continue
      }
      const entry = { id, changes, version: null }
      writes.push({ entry, row, before: snapshot, after, grantsChange })
    }
    return writes
  }

  /**
   * Writes one chunk's changes in set-based statements: a baseline for rows older than history, the rows
   * (one UPDATE … FROM (VALUES …), which also moves each version one up), tags, grants (only the rows
   * that change), the versions (one multi-row INSERT of the states written, not read back) and one
   * `model.update` audit entry per model.
   */
  private async writeChunk({ actor, tx, template, mode, now }: Run, writes: readonly PlannedWrite[]): Promise<void> {
    const current = await tx.versions.baselineRows(writes.map(({ row, before }) => ({ row, grants: before.access_grants })))
    // Each row as this chunk writes it: params and meta null where they stay (the UPDATE keeps them).
    const written = writes.map(({ entry, row, before, after }) => {
      const params = sameJson(before.params, after.params) ? null : JSON.stringify(after.params)
      const meta = sameJson(before.meta, after.meta) ? null : JSON.stringify(after.meta)
      entry.version = (current.get(entry.id) ?? 0) + 1
      const next = { ...row, base_model_id: after.base_model_id, params: params ?? row.params, meta: meta ?? row.meta }
      return { params, meta, after, row: { ...next, template_id: template.id, updated_at: now, version: entry.version } }
    })
    await tx.models.updateContentMany(
      written.map(({ row, params, meta }) => ({ id: row.id, base_model_id: row.base_model_id, params, meta })),
      { template_id: template.id, updated_at: now },
    )
    await tx.models.setTagsMany(written.flatMap(({ row, meta, after }) => (meta === null ? [] : [{ modelId: row.id, names: tagNames(metaTags(after.meta)) }])))
    const { removed, added } = grantDelta(
      writes.flatMap(({ entry, before, after, grantsChange }) =>
        grantsChange ? [{ modelId: entry.id, before: before.access_grants, after: after.access_grants }] : [],
      ),
    )
    await tx.grants.changeMany(removed, added, now)
    await tx.versions.recordKnownMany(
      written.map(({ row, after }) => ({ row, grants: after.access_grants })),
      { action: 'update', source: 'template', actorId: actor.id, templateId: template.id },
    )
    const events: AuditEvent[] = writes.map(({ entry }) => ({
      action: 'model.update',
      actorId: actor.id,
      targetType: 'model',
      targetId: entry.id,
      after: { version: entry.version, template_id: template.id, mode },
    }))
    await recordAudit(tx.executor, events, actor.origin)
  }
}

/** The AppError a check throws, or null when it passes (other errors propagate). */
async function refusalOf(check: Promise<void> | Promise<unknown>): Promise<AppError | null> {
  try {
    await check
    return null
  } catch (error) {
    if (error instanceof AppError) return error
    throw error
  }
}

async function requireKnownPrincipals(registry: Registry, grants: readonly Grant[]): Promise<void> {
  const unknown = await registry.access.unknownPrincipals(grants)
  if (unknown.length > 0) {
    throw new AppError(
      'INVALID_ACCESS_CONTROL',
      `The template's access_grants name ${unknown.map((g) => `no ${g.principal_type} with id "${g.principal_id}"`).join('; ')} (deleted since the template was saved?): update the template first.`,
    )
  }
}

const metaTags = (meta: Record<string, unknown> | undefined) => ({ tags: (meta?.['tags'] as { name: string }[] | undefined) ?? [] })
