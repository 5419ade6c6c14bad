/**
 * Export and import of model files (Open WebUI's formats). Import checks each item as create or update
 * would (holes 1 to 4 and 13 of issue #10), reading what it needs in a few set-based queries; every
 * decision is the access service's.
 */
import type { Actor } from '../access/actor.js'
import type { GrantRow } from '../access/model-grants.repo.js'
import { requestedGrants, requestedGrantsOnUpdate, type Grant, type Principals } from '../access/model-grants.js'
import { recordAudit } from '../audit/audit-log.js'
import { epochSeconds } from '../db/executor.js'
import { AppError, fieldError } from '../errors/app-error.js'
import { conflictingIds } from './conflicts.js'
import { describeIssues, rowFields, sameGrants, sameModel, unwrapItem } from './model-items.js'
import { presentModel } from './models.presenter.js'
import type { ModelRow, NewModelRow } from './models.repo.js'
import { ModelFormSchema, ModelIdSchema, type ImportReport, type ModelForm, type ModelResponse } from './models.schema.js'
import { tagNames, toGrant, type Registry } from './registry.js'

const EXPORT_BATCH = 500

/** Import's skip reasons for the id and base rules (each one text for all of its cases). */
const ID_UNAVAILABLE_REASON = 'this model id is not available'
const BASE_UNAVAILABLE_REASON = 'base_model_id: the base model is not available to you'
const CREATE_NEEDS_REASON = 'creating a model needs the "workspace.models" permission'
const READ_ONLY_REASON = 'a model with this id exists and you may not change it'

export class ModelTransfer {
  constructor(private readonly registry: Registry) {}

  /**
   * Everything the caller may write (admin with bypass: every row), complete, in id order. Checks run
   * before the first model is produced, so a refusal is a proper error answer, not a cut stream; the
   * models then come batch by batch, so memory does not grow with the table.
   */
  async exportModels(actor: Actor): Promise<AsyncGenerator<ModelResponse>> {
    await this.registry.access.requireFeature(actor, 'workspace.models_export')
    return this.exportBatches(await this.registry.access.principalsOf(actor))
  }

  private async *exportBatches(who: Principals): AsyncGenerator<ModelResponse> {
    let afterId: string | null = null
    for (;;) {
      const batch = await this.registry.models.writableBatch(who, afterId, EXPORT_BATCH)
      for (const model of await this.registry.present(batch)) yield model
      if (batch.length < EXPORT_BATCH) return
      afterId = batch[batch.length - 1]?.id ?? null
    }
  }

  /**
   * Imports Open WebUI export files of every generation (bare array or `{models}`; `access_control` or
   * `access_grants`; items of Admin › Models exports that wrap the row in `info`). One transaction;
   * every item is created, updated or skipped with a reason. `strict` refuses the whole file (400,
   * nothing changed) when any item would be skipped.
   */
  async importModels(actor: Actor, payload: unknown, strict: boolean): Promise<ImportReport> {
    const registry = this.registry
    await registry.access.requireFeature(actor, 'workspace.models_import')
    const items = importItems(payload)
    const who = await registry.access.principalsOf(actor)
    const served = await registry.served.servedIds()
    const report: ImportReport = { created: [], updated: [], skipped: [], warnings: [] }
    await registry.inTransaction(async (tx) => {
      const { models, grants: grantsRepo, access } = tx
      // 1. Ids, in memory: not an object, a bad id or a repeated id is skipped before anything is read.
      const outcomes: ({ id: string; reason: string } | { id: string; item: Record<string, unknown> })[] = []
      const seen = new Set<string>()
      for (const [index, raw] of items.entries()) {
        const item = unwrapItem(raw)
        const label = typeof item?.['id'] === 'string' ? item['id'] : `#${index}`
        const idCheck = item ? ModelIdSchema.safeParse(item['id']) : undefined
        if (!item || !idCheck) outcomes.push({ id: label, reason: 'not an object' })
        else if (!idCheck.success) outcomes.push({ id: label, reason: `id: ${idCheck.error.issues[0]?.message ?? 'invalid'}` })
        else if (seen.has(idCheck.data)) outcomes.push({ id: label, reason: 'duplicate id: an earlier item in the file has the same id' })
        else {
          seen.add(idCheck.data)
          outcomes.push({ id: idCheck.data, item })
        }
      }
      // 2. What exists already, in a few set-based reads instead of one per item. The rows are locked
      //    (PostgreSQL), so a concurrent writer of one of them waits for this import or this one for it.
      const existingRows = new Map((await models.findByIdsForUpdate([...seen], registry.database.dialect)).map((row) => [row.id, row]))
      const existingGrants = await grantsRepo.grantsOf([...existingRows.keys()])
      const conflicts = await conflictingIds(models, access, [...existingRows.values()], served)
      const mayCreate = await access.mayCreateModels(actor)
      // Locked parameters of the templates existing models came from (docs/templates.md).
      const templateIds = [...new Set([...existingRows.values()].flatMap((row) => (row.template_id ? [row.template_id] : [])))]
      const locks = templateIds.length > 0 && actor.role !== 'admin' ? await registry.templates.lockedParams(templateIds, tx) : new Map<string, string[]>()

      // 3. Each item checked as create or update would check it (holes 1, 3 and 13 of issue #10).
      type Planned = { id: string; form: ModelForm; existing: ModelRow | undefined; before: GrantRow[]; requested: Grant[] | undefined }
      type Skipped = { id: string; reason: string }
      const planned: (Planned | Skipped)[] = outcomes.map((outcome) => {
        if ('reason' in outcome) return outcome
        const { id, item } = outcome
        const existing = existingRows.get(id)
        const before = existingGrants.get(id) ?? []
        const status = access.idStatus(actor, who, {
          mayCreate,
          served: served.has(id),
          existing: existing && { row: existing, grants: before, conflicting: conflicts.has(id) },
        })
        if (status === 'create-refused') return { id, reason: CREATE_NEEDS_REASON }
        if (status === 'unavailable') return { id, reason: ID_UNAVAILABLE_REASON }
        if (status === 'read-only') return { id, reason: READ_ONLY_REASON }
        // An update keeps what the item leaves out (Open WebUI merges the item over the row).
        const parsed = ModelFormSchema.safeParse(existing ? { ...formOf(presentModel(existing, before)), ...item } : item)
        if (!parsed.success) return { id, reason: describeIssues(parsed.error.issues) }
        const form = parsed.data
        if (form.base_model_id === form.id) return { id, reason: 'base_model_id: a model cannot be its own base model' }
        const locked = existing?.template_id ? locks.get(existing.template_id) : undefined
        const lockRefusal = existing && locked && access.lockedParamRefusal(actor, locked, JSON.parse(existing.params) as Record<string, unknown>, form.params)
        if (lockRefusal) return { id, reason: `PARAM_LOCKED: ${lockRefusal.message}` }
        if (!access.maySetBaseModel(actor, existing ? existing.base_model_id : undefined, form.base_model_id ?? null)) {
          return {
            id,
            reason: 'base_model_id: only administrators may import base-model overrides (base_model_id null) or change a model between override and preset',
          }
        }
        // `access_grants: null` means "not given", as on update; `access_control: null` means public.
        const hasAccessForm = Array.isArray(item['access_grants']) || 'access_control' in item
        if (!hasAccessForm) return { id, form, existing, before, requested: undefined }
        // Over an existing model, as an update: with both forms, the one that differs from the stored access wins.
        const asked = existing ? requestedGrantsOnUpdate(form, before) : { grants: requestedGrants(form) }
        if ('conflict' in asked) return { id, reason: 'access_grants and access_control disagree, and both differ from the stored access: send only one form' }
        return { id, form, existing, before, requested: asked.grants ?? [] }
      })

      // 4. Access parts (hole 4): the access service's grant-change rule with import's outcome (unknown
      //    principals dropped with a warning, a grant the importer may not add refuses the whole item).
      const checkGrants = await access.importedGrantsChecker(
        actor,
        planned.flatMap((p) => ('form' in p ? (p.requested ?? []) : [])),
      )
      const itemGrants = new Map<string, { grants: Grant[]; warnings: string[] }>()
      for (const [index, p] of planned.entries()) {
        if (!('form' in p)) continue
        if (!p.requested) {
          itemGrants.set(p.id, { grants: p.before.map(toGrant), warnings: [] })
          continue
        }
        const checked = checkGrants({ before: p.before.map(toGrant), requested: p.requested })
        if ('refused' in checked) planned[index] = { id: p.id, reason: checked.refused }
        else itemGrants.set(p.id, checked)
      }

      // 5. Bases (hole 2): a new item, or one whose base changes, needs a base the importer may use. An
      //    item of this file that is itself imported counts as readable (the importer owns or writes it);
      //    refusing one item can refuse the items based on it, so this runs until nothing changes.
      const needsBase = (p: Planned) => p.form.base_model_id != null && (!p.existing || p.existing.base_model_id !== p.form.base_model_id)
      const baseIds = planned.flatMap((p) => ('form' in p && needsBase(p) ? [p.form.base_model_id ?? ''] : []))
      const kinds = await registry.baseKinds(who, baseIds, tx, served)
      for (let changed = true; changed;) {
        changed = false
        const imported = new Set(planned.flatMap((p) => ('form' in p ? [p.id] : [])))
        for (const [index, p] of planned.entries()) {
          if (!('form' in p) || !needsBase(p)) continue
          const base = p.form.base_model_id ?? ''
          const kind = imported.has(base) ? 'readable row' : (kinds.get(base) ?? 'no row')
          if (access.mayReferenceBaseModel(actor, kind, registry.bypassModelAccessControl)) continue
          planned[index] = { id: p.id, reason: BASE_UNAVAILABLE_REASON }
          changed = true
        }
      }

      // 6. Writes: new rows, updates, grant and tag changes in multi-row statements (a chunk of 500 each).
      const now = epochSeconds()
      const inserts: NewModelRow[] = []
      // Rows are updated after the baseline below: a row older than history must be recorded as it was.
      const updates: { id: string; fields: ReturnType<typeof rowFields> & { updated_at: number } }[] = []
      // Updated items whose content or grants differ: only those get a version (re-importing an export does not).
      const changed: string[] = []
      const grantChanges: { modelId: string; grants: Grant[] }[] = []
      const tagChanges: { modelId: string; names: string[] }[] = []
      for (const p of planned) {
        if (!('form' in p)) {
          report.skipped.push(p)
          continue
        }
        const { id, form, existing, before, requested } = p
        const { grants, warnings } = itemGrants.get(id) ?? { grants: before.map(toGrant), warnings: [] }
        for (const message of warnings) report.warnings.push({ id, message })
        const fields = { ...rowFields(form), updated_at: now }
        if (existing) {
          updates.push({ id, fields })
          report.updated.push(id)
          if (!sameModel(existing, before.map(toGrant), { ...fields, user_id: existing.user_id }, grants)) changed.push(id)
        } else {
          inserts.push({ id, user_id: actor.id, created_at: now, ...fields })
          report.created.push(id)
        }
        // Grants are rewritten only when they change, so re-importing an export leaves them as they were.
        if (!existing || (requested && !sameGrants(before.map(toGrant), grants))) grantChanges.push({ modelId: id, grants })
        tagChanges.push({ modelId: id, names: tagNames(form.meta) })
      }
      if (strict && report.skipped.length > 0) {
        const reasons = report.skipped.map((s) => `${s.id}: ${s.reason}`).join('; ')
        throw new AppError('VALIDATION_ERROR', `Import refused (strict): ${report.skipped.length} item(s) would be skipped: ${reasons}`)
      }
      await tx.versions.baseline(changed)
      await models.updateFieldsMany(updates, now)
      // A new row is inserted at its first version (an id with history continues its numbering), and that
      // version is recorded from the row and grants written here: nothing is read back or updated after.
      const lastVersions = await tx.versions.lastVersions(inserts.map((row) => row.id))
      const createdRows: ModelRow[] = inserts.map((row) => ({ base_model_id: null, template_id: null, ...row, version: (lastVersions.get(row.id) ?? 0) + 1 }))
      await models.insertMany(createdRows)
      const fresh = new Set(createdRows.map((row) => row.id))
      await grantsRepo.replaceMany(grantChanges, now, fresh)
      await models.setTagsMany(tagChanges, fresh)
      // Each created and updated model is a version (source import); the audit log gets one entry.
      const createdGrants = new Map(grantChanges.map((change) => [change.modelId, change.grants]))
      await tx.versions.recordKnownMany(
        createdRows.map((row) => ({ row, grants: createdGrants.get(row.id) ?? [] })),
        { action: 'create', source: 'import', actorId: actor.id },
      )
      const created = new Map(createdRows.map((row) => [row.id, Number(row.version)]))
      const updated = await tx.versions.recordIds(changed, { action: 'update', source: 'import', actorId: actor.id })
      await recordAudit(
        tx.executor,
        [
          {
            action: 'model.import',
            actorId: actor.id,
            targetType: 'model',
            after: { created: Object.fromEntries(created), updated: Object.fromEntries(updated), skipped: report.skipped.length },
          },
        ],
        actor.origin,
      )
    })
    return report
  }
}

/** The items of an import payload: a bare array or `{models: [...]}`. */
function importItems(payload: unknown): unknown[] {
  if (Array.isArray(payload)) return payload
  const models = (payload as { models?: unknown } | null)?.models
  if (Array.isArray(models)) return models
  throw fieldError('VALIDATION_ERROR', 'body', 'expected an array of models or {"models": [...]}')
}

/** The fields of a stored model that an import item merges over. */
function formOf(model: ModelResponse): Record<string, unknown> {
  return { id: model.id, base_model_id: model.base_model_id, name: model.name, meta: model.meta, params: model.params, is_active: model.is_active }
}
