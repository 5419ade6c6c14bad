/**
 * Admin sync: makes the table equal to a payload (create, update, delete) in one transaction, or
 * answers the plan (dry run). Set-based: whatever the payload's size, it reads the ids, the rows and
 * their grants in a few queries, and writes new rows, grants and tags in multi-row statements.
 */
import type { Actor } from '../access/actor.js'
import { requestedGrants, type Grant } from '../access/model-grants.js'
import { recordAudit } from '../audit/audit-log.js'
import { epochSeconds } from '../db/executor.js'
import { AppError } from '../errors/app-error.js'
import { describeIssues, rowFields, sameModel, unwrapItem } from './model-items.js'
import type { NewModelRow } from './models.repo.js'
import { ModelFormSchema, type ModelForm, type SyncPlan } from './models.schema.js'
import { tagNames, toGrant, type Registry, type RegistryTx } from './registry.js'

type SyncItem = { form: ModelForm; ownerId: string | undefined; grants: Grant[] }

export class ModelSync {
  constructor(private readonly registry: Registry) {}

  /**
   * The payload must be valid as a whole: any bad item, duplicate id or unknown principal refuses it
   * (400) before anything changes.
   */
  async sync(actor: Actor, items: readonly unknown[], dryRun: boolean): Promise<SyncPlan> {
    const forms: SyncItem[] = []
    const problems: string[] = []
    const seen = new Set<string>()
    for (const [index, raw] of items.entries()) {
      const parsed = ModelFormSchema.safeParse(unwrapItem(raw))
      if (!parsed.success) {
        problems.push(`models[${index}]: ${describeIssues(parsed.error.issues)}`)
        continue
      }
      const form = parsed.data
      if (seen.has(form.id)) problems.push(`models[${index}]: duplicate id "${form.id}"`)
      if (form.base_model_id === form.id) problems.push(`models[${index}]: a model cannot be its own base model`)
      seen.add(form.id)
      const ownerId = typeof (raw as { user_id?: unknown }).user_id === 'string' ? (raw as { user_id: string }).user_id : undefined
      forms.push({ form, ownerId, grants: requestedGrants(form) ?? [] })
    }
    const unknown = await this.registry.access.unknownPrincipals(forms.flatMap((f) => f.grants))
    if (unknown.length > 0) {
      problems.push(`unknown principals: ${[...new Set(unknown.map((g) => `${g.principal_type} "${g.principal_id}"`))].join(', ')}`)
    }
    if (problems.length > 0) throw new AppError('VALIDATION_ERROR', `Sync refused, nothing changed: ${problems.join('; ')}`)
    if (dryRun) return this.run(actor, forms, this.registry.root, true)
    return this.registry.inTransaction((tx) => this.run(actor, forms, tx, false))
  }

  private async run(actor: Actor, forms: readonly SyncItem[], tx: RegistryTx, dryRun: boolean): Promise<SyncPlan> {
    const { models, grants: grantsRepo, access } = tx
    const plan: SyncPlan = { dry_run: dryRun, create: [], update: [], delete: [], unchanged: [] }
    const existingIds = new Set(await models.allIds())
    const payloadIds = new Set(forms.map((f) => f.form.id))
    plan.delete = [...existingIds].filter((id) => !payloadIds.has(id)).sort()
    // The rows the payload names, locked (PostgreSQL) before their grants are read and replaced, as
    // every grant write does; then their grants and the owners the payload names, each in one read.
    const kept = [...payloadIds].filter((id) => existingIds.has(id))
    // The rows to delete are locked too (one statement, id order): a deletion's version is written
    // before its DELETE, which would otherwise deadlock with an update holding the row.
    const found = dryRun ? await models.findByIds(kept) : await models.findByIdsForUpdate([...kept, ...plan.delete], this.registry.database.dialect)
    const rows = found.filter((row) => payloadIds.has(row.id))
    const rowsById = new Map(rows.map((row) => [row.id, row]))
    const currentGrants = await grantsRepo.grantsOf(rows.map((row) => row.id))
    const owners = await access.unknownPrincipals(
      forms.flatMap((f) => (f.ownerId ? [{ principal_type: 'user' as const, principal_id: f.ownerId, permission: 'read' as const }] : [])),
    )
    const unknownOwners = new Set(owners.map((g) => g.principal_id))

    const now = epochSeconds()
    const inserts: NewModelRow[] = []
    const updates: { id: string; fields: Omit<NewModelRow, 'id' | 'created_at'> }[] = []
    const grantChanges: { modelId: string; grants: Grant[] }[] = []
    const tagChanges: { modelId: string; names: string[] }[] = []
    for (const { form, ownerId, grants } of forms) {
      const existing = rowsById.get(form.id)
      const fields = rowFields(form)
      // Owner: the payload's user_id when that account exists here, else the current owner, else the admin.
      const owner = ownerId && !unknownOwners.has(ownerId) ? ownerId : (existing?.user_id ?? actor.id)
      if (!existing) {
        plan.create.push(form.id)
        inserts.push({ id: form.id, user_id: owner, created_at: now, updated_at: now, ...fields })
      } else if (sameModel(existing, (currentGrants.get(form.id) ?? []).map(toGrant), { ...fields, user_id: owner }, grants)) {
        plan.unchanged.push(form.id)
        continue
      } else {
        plan.update.push(form.id)
        updates.push({ id: form.id, fields: { ...fields, user_id: owner, updated_at: now } })
      }
      grantChanges.push({ modelId: form.id, grants })
      tagChanges.push({ modelId: form.id, names: tagNames(form.meta) })
    }
    if (dryRun) return plan
    const change = { source: 'sync' as const, actorId: actor.id }
    await tx.versions.baseline(plan.update)
    const deleted = await tx.versions.recordDeletion(plan.delete, change)
    await models.insertMany(inserts)
    await models.updateFieldsMany(updates, now)
    const fresh = new Set(inserts.map((row) => row.id))
    await grantsRepo.replaceMany(grantChanges, now, fresh)
    await models.setTagsMany(tagChanges, fresh)
    await models.deleteMany(plan.delete)
    const created = await tx.versions.recordIds(plan.create, { ...change, action: 'create' })
    const updated = await tx.versions.recordIds(plan.update, { ...change, action: 'update' })
    await recordAudit(
      tx.executor,
      [
        {
          action: 'model.sync',
          actorId: actor.id,
          targetType: 'model',
          after: { created: Object.fromEntries(created), updated: Object.fromEntries(updated), deleted: Object.fromEntries(deleted) },
        },
      ],
      actor.origin,
    )
    return plan
  }
}
