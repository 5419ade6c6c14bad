/**
 * The model registry: presets and base-model overrides, their grants, import, export and sync. Every
 * decision about who may do what is asked of the access service; this file only applies the answers.
 */
import type { Transaction } from 'kysely'
import { modelNotFound, type AccessService } from '../access/access.service.js'
import type { Actor } from '../access/actor.js'
import { ModelGrantsRepo, type GrantRow } from '../access/model-grants.repo.js'
import { EVERYONE, principalKey, requestedGrants, type Grant, type Principals } from '../access/model-grants.js'
import type { Database } from '../db/database.js'
import { isUniqueViolation } from '../db/errors.js'
import { epochSeconds } from '../db/executor.js'
import type { DB } from '../db/types.js'
import { VersionedCache } from '../cache/versioned-cache.js'
import { AppError } from '../errors/app-error.js'
import { ModelsRepo, type ListPlan, type ModelRow } from './models.repo.js'
import { presentAccessModel, presentModel, withoutInlineImage } from './models.presenter.js'
import type { AccessUpdate, ListQuery, ModelAccessResponse, ModelForm, ModelResponse, ModelUpdate } from './models.schema.js'
import { ModelFormSchema, ModelIdSchema } from './models.schema.js'
import { conflictingIds } from './conflicts.js'
import { profileImageOf, type ProfileImage } from './profile-image.js'

const TOTALS_CACHE_SIZE = 5000
const EXPORT_BATCH = 500

export interface ImportReport {
  created: string[]
  updated: string[]
  skipped: { id: string; reason: string }[]
  warnings: { id: string; message: string }[]
}

export interface SyncPlan {
  dry_run: boolean
  create: string[]
  update: string[]
  delete: string[]
  unchanged: string[]
}

export type { ProfileImage } from './profile-image.js'

/**
 * What the providers serve now (the model catalog, wired in services.ts): model id → connection id.
 * The registry needs it for hole 1 of issue #10 (a provider's id is not free for everybody).
 */
export interface ServedModels {
  servedIds(): Promise<ReadonlyMap<string, string>>
}

/** A row whose id a provider serves but whose owner is not an admin: it is ignored at run time. */
export interface ModelConflict {
  id: string
  name: string
  user_id: string
  owner: { id: string; name: string; email: string } | null
  connection_id: string | null
}

/** Where a base model id points, as the write-time rule of hole 2 sees it. */
type BaseKind = 'readable row' | 'unreadable row' | 'no row'

export class ModelsService {
  private readonly models: ModelsRepo
  private readonly grants: ModelGrantsRepo
  /** Totals of dense lists, valid while the registry version is unchanged. */
  private readonly totals = new Map<string, { version: number; total: number }>()
  /** Serialized list pages and models, valid while the registry version is unchanged (see listJson). */
  private readonly pages = new VersionedCache<string>(2000, 60_000)

  constructor(
    private readonly database: Database,
    private readonly access: AccessService,
    private readonly served: ServedModels,
    private readonly bypassModelAccessControl: boolean,
  ) {
    this.models = new ModelsRepo(database.db)
    this.grants = new ModelGrantsRepo(database.db)
  }

  // ─── Reading ───────────────────────────────────────────────────────────────────────────────────

  /**
   * A list page as JSON text, from the page cache when the registry has not changed since it was built.
   * Pages depend on the caller (their grants, groups and write flags) and on the query, so that is the
   * key; every registry write (and every change of an account shown as owner) bumps the version and so
   * retires every cached page, on every instance sharing the database. `fresh` skips the cache.
   */
  async listJson(actor: Actor, query: ListQuery, options: { fresh: boolean }): Promise<string> {
    const who = await this.access.principalsOf(actor)
    const build = async () => JSON.stringify(await this.listFor(who, query))
    if (options.fresh) return build()
    const version = String(await this.models.version())
    return this.pages.get(JSON.stringify(['list', principalKey(who), query]), version, build)
  }

  private async listFor(who: Principals, query: ListQuery): Promise<{ items: ModelAccessResponse[]; total: number }> {
    const viewOption = query.view_option === 'created' || query.view_option === 'shared' ? query.view_option : undefined
    const filters = { who, query: query.query, viewOption, tag: query.tag }
    const plan = await this.models.planFor(who, viewOption)
    const page = { orderBy: query.order_by, direction: query.direction, offset: (query.page - 1) * query.limit, limit: query.limit }
    const [rows, total] = await Promise.all([this.models.listPage(filters, plan, page), this.total(filters, plan)])
    return { items: await this.withAccess(who, rows, { stripInlineImages: true }), total }
  }

  /** One model as the caller sees it (JSON text, cached like list pages). */
  async getJson(actor: Actor, id: string): Promise<string> {
    const who = await this.access.principalsOf(actor)
    const version = String(await this.models.version())
    return this.pages.get(JSON.stringify(['get', principalKey(who), id]), version, async () => JSON.stringify(await this.getFor(who, id)))
  }

  private async getFor(who: Principals, id: string): Promise<ModelAccessResponse> {
    const { row } = await this.readable(who, id)
    const [item] = await this.withAccess(who, [row], { stripInlineImages: false })
    if (!item) throw modelNotFound(id)
    return item
  }

  async tags(actor: Actor): Promise<string[]> {
    return this.models.tags(await this.access.principalsOf(actor))
  }

  /**
   * Admin: rows whose id a provider serves but whose owner is not an admin (hole 1). They never shadow
   * the provider model; this lists them so an admin can delete them or hand them to an admin.
   */
  async conflicts(): Promise<ModelConflict[]> {
    const served = await this.served.servedIds()
    const rows = await this.models.findByIds([...served.keys()])
    const conflicting = await conflictingIds(this.models, this.access, rows, served)
    const owners = await this.models.owners(rows.filter((row) => conflicting.has(row.id)).map((row) => row.user_id))
    return rows
      .filter((row) => conflicting.has(row.id))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((row) => {
        const owner = owners.get(row.user_id)
        return {
          id: row.id,
          name: row.name,
          user_id: row.user_id,
          owner: owner ? { id: owner.id, name: owner.name, email: owner.email } : null,
          connection_id: served.get(row.id) ?? null,
        }
      })
  }

  /** Admin: base-model override rows. */
  async overrides(): Promise<ModelResponse[]> {
    return this.present(await this.models.overrides())
  }

  /**
   * Everything the caller may write (admin with bypass: every row), complete, in id order. Checks run
   * before the first model is produced, so a refusal is a proper error answer, not a cut stream; the
   * models then come batch by batch, so memory does not grow with the table.
   */
  async exportModels(actor: Actor): Promise<AsyncGenerator<ModelResponse>> {
    await this.access.requireFeature(actor, 'workspace.models_export')
    return this.exportBatches(await this.access.principalsOf(actor))
  }

  private async *exportBatches(who: Principals): AsyncGenerator<ModelResponse> {
    let afterId: string | null = null
    for (;;) {
      const batch = await this.models.writableBatch(who, afterId, EXPORT_BATCH)
      for (const model of await this.present(batch)) yield model
      if (batch.length < EXPORT_BATCH) return
      afterId = batch[batch.length - 1]?.id ?? null
    }
  }

  /** `allowedHosts`: where a picture URL may redirect to (PROFILE_IMAGE_HOSTS); see profile-image.ts. */
  async profileImage(actor: Actor, id: string, allowedHosts: readonly string[] = []): Promise<ProfileImage> {
    const who = await this.access.principalsOf(actor)
    const { row } = await this.readable(who, id)
    const meta = JSON.parse(row.meta) as { profile_image_url?: unknown }
    return profileImageOf(typeof meta.profile_image_url === 'string' ? meta.profile_image_url : '', allowedHosts)
  }

  // ─── Writing ───────────────────────────────────────────────────────────────────────────────────

  async create(actor: Actor, form: ModelForm): Promise<ModelResponse> {
    await this.access.requireFeature(actor, 'workspace.models')
    this.checkBaseModel(actor, form.id, undefined, form.base_model_id ?? null)
    // A create that names no access form makes a private model (secure by default).
    const grants = requestedGrants(form) ?? []
    await this.access.checkGrantChange(actor, [], grants)
    const who = await this.access.principalsOf(actor)
    // Asked before the transaction: on SQLite the catalog's own queries would wait for it forever.
    const served = await this.served.servedIds()
    const now = epochSeconds()
    const row: ModelRow = {
      id: form.id,
      user_id: actor.id,
      base_model_id: form.base_model_id ?? null,
      name: form.name,
      params: JSON.stringify(form.params),
      meta: JSON.stringify(form.meta),
      is_active: form.is_active ? 1 : 0,
      created_at: now,
      updated_at: now,
    }
    try {
      await this.inTransaction(async (models, grantsRepo, access) => {
        // The id first, then the base: the order of checks never depends on which case applies.
        await this.checkIdFree(actor, who, form.id, models, grantsRepo, served)
        if (row.base_model_id !== null) await this.checkBaseReference(actor, who, row.base_model_id, { models, grantsRepo, access, served })
        await models.insert(row)
        await grantsRepo.replace(row.id, grants, now)
        await models.setTags(row.id, tagNames(form.meta))
      })
    } catch (error) {
      // Two creates of one id at once: the primary key decides, the loser gets 409 (TAKEN only when it
      // may read the winner's model: hole 13).
      if (isUniqueViolation(error)) {
        const winner = await this.models.findById(form.id)
        const readable = winner && this.access.modelPermissions(who, winner, (await this.grants.grantsOf([form.id])).get(form.id) ?? []).read
        throw readable ? modelIdTaken(form.id) : modelIdUnavailable()
      }
      throw error
    }
    return this.getModel(row.id)
  }

  async update(actor: Actor, queryId: string | undefined, body: ModelUpdate): Promise<ModelResponse> {
    if (queryId !== undefined && body.id !== undefined && queryId !== body.id) {
      throw new AppError('VALIDATION_ERROR', `The id in the query ("${queryId}") and in the body ("${body.id}") differ.`)
    }
    const id = body.id ?? queryId
    if (id === undefined) throw new AppError('VALIDATION_ERROR', 'body.id: required (or ?id= in the query)')
    const who = await this.access.principalsOf(actor)
    const served = await this.served.servedIds()
    return this.inTransaction(async (models, grantsRepo, access) => {
      const { row, grants } = await this.writable(who, id, models, grantsRepo)
      await this.refuseConflict(row, models, served)
      const baseModelId = body.base_model_id === undefined ? row.base_model_id : body.base_model_id
      if (baseModelId !== row.base_model_id) {
        this.checkBaseModel(actor, id, row.base_model_id, baseModelId)
        if (baseModelId !== null) await this.checkBaseReference(actor, who, baseModelId, { models, grantsRepo, access, served })
      }
      const now = epochSeconds()
      await models.update(id, {
        name: body.name ?? row.name,
        base_model_id: baseModelId,
        ...(body.meta !== undefined && { meta: JSON.stringify(body.meta) }),
        ...(body.params !== undefined && { params: JSON.stringify(body.params) }),
        ...(body.is_active !== undefined && { is_active: body.is_active ? 1 : 0 }),
        updated_at: now,
      })
      if (body.meta !== undefined) await models.setTags(id, tagNames(body.meta))
      // An update that names no access form keeps the grants.
      const requested = requestedGrants(body)
      if (requested) {
        await access.checkGrantChange(actor, grants, requested)
        await grantsRepo.replace(id, requested, now)
      }
      return this.presentIn(models, grantsRepo, id)
    })
  }

  async toggle(actor: Actor, id: string): Promise<ModelResponse> {
    const who = await this.access.principalsOf(actor)
    const served = await this.served.servedIds()
    return this.inTransaction(async (models, grantsRepo) => {
      const { row } = await this.writable(who, id, models, grantsRepo)
      await this.refuseConflict(row, models, served)
      await models.update(id, { is_active: Number(row.is_active) === 1 ? 0 : 1, updated_at: epochSeconds() })
      return this.presentIn(models, grantsRepo, id)
    })
  }

  /**
   * Replaces a model's grants. An admin may name a provider model that has no row yet: a minimal
   * override row is created for it (owner: the admin), as Open WebUI does.
   */
  async updateAccess(actor: Actor, body: AccessUpdate): Promise<ModelResponse> {
    const requested = requestedGrants(body)
    if (!requested) throw new AppError('INVALID_ACCESS_CONTROL', 'Send access_grants or access_control.')
    const who = await this.access.principalsOf(actor)
    const served = await this.served.servedIds()
    return this.inTransaction(async (models, grantsRepo, access) => {
      const now = epochSeconds()
      if (!(await models.findByIdForUpdate(body.id, this.database.dialect)) && access.mayManageOverrides(actor)) {
        await models.insert({
          id: body.id,
          user_id: actor.id,
          base_model_id: null,
          name: body.name ?? body.id,
          params: '{}',
          meta: '{}',
          is_active: 1,
          created_at: now,
          updated_at: now,
        })
      }
      const { row, grants } = await this.writable(who, body.id, models, grantsRepo)
      await this.refuseConflict(row, models, served)
      await access.checkGrantChange(actor, grants, requested)
      await grantsRepo.replace(body.id, requested, now)
      await models.update(body.id, { updated_at: now })
      return this.presentIn(models, grantsRepo, body.id)
    })
  }

  async delete(actor: Actor, id: string): Promise<true> {
    const who = await this.access.principalsOf(actor)
    await this.inTransaction(async (models, grantsRepo) => {
      await this.writable(who, id, models, grantsRepo)
      await models.delete(id)
    })
    return true
  }

  /** Admin: removes every model and grant. */
  async deleteAll(): Promise<true> {
    await this.inTransaction((models) => models.deleteAll())
    return true
  }

  // ─── Import and sync ───────────────────────────────────────────────────────────────────────────

  /**
   * Imports Open WebUI export files of every generation (bare array or `{models}`; `access_control` or
   * `access_grants`; items of Admin › Models exports that wrap the row in `info`). One transaction;
   * every item is created, updated or skipped with a reason. `strict` refuses the whole file (400,
   * nothing changed) when any item would be skipped.
   */
  async importModels(actor: Actor, payload: unknown, strict: boolean): Promise<ImportReport> {
    await this.access.requireFeature(actor, 'workspace.models_import')
    const items = importItems(payload)
    const who = await this.access.principalsOf(actor)
    const served = await this.served.servedIds()
    const report: ImportReport = { created: [], updated: [], skipped: [], warnings: [] }
    await this.inTransaction(async (models, grantsRepo, access) => {
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
      const existingRows = new Map((await models.findByIdsForUpdate([...seen], this.database.dialect)).map((row) => [row.id, row]))
      const existingGrants = await grantsRepo.grantsOf([...existingRows.keys()])
      const conflicts = await conflictingIds(models, access, [...existingRows.values()], served)
      const mayCreate = await access.hasFeature(actor, 'workspace.models')

      // 3. Each item checked as create or update would check it (holes 1, 3 and 13 of issue #10).
      type Planned = { id: string; form: ModelForm; existing: ModelRow | undefined; before: GrantRow[]; requested: Grant[] | undefined }
      type Skipped = { id: string; reason: string }
      const planned: (Planned | Skipped)[] = outcomes.map((outcome) => {
        if ('reason' in outcome) return outcome
        const { id, item } = outcome
        const existing = existingRows.get(id)
        const before = existingGrants.get(id) ?? []
        if (existing) {
          const permissions = access.modelPermissions(who, existing, before)
          // A model the caller cannot read is not said to exist: the reason is the one of a provider's id,
          // or, for a caller who may not create models, the one of a free id (hole 13).
          if (!permissions.read) return { id, reason: mayCreate ? ID_UNAVAILABLE_REASON : CREATE_NEEDS_REASON }
          if (!permissions.write) return { id, reason: 'a model with this id exists and you may not change it' }
          if (conflicts.has(id)) return { id, reason: ID_UNAVAILABLE_REASON }
        } else {
          // Checked first, as create checks the permission before the id: the answer says nothing of the id.
          if (!mayCreate) return { id, reason: CREATE_NEEDS_REASON }
          if (served.has(id) && !access.mayOverrideProviderModel(actor.role)) return { id, reason: ID_UNAVAILABLE_REASON }
        }
        // An update keeps what the item leaves out (Open WebUI merges the item over the row).
        const parsed = ModelFormSchema.safeParse(existing ? { ...formOf(presentModel(existing, before)), ...item } : item)
        if (!parsed.success) return { id, reason: describeIssues(parsed.error.issues) }
        const form = parsed.data
        if (form.base_model_id === form.id) return { id, reason: 'base_model_id: a model cannot be its own base model' }
        if (!access.maySetBaseModel(actor, existing ? existing.base_model_id : undefined, form.base_model_id ?? null)) {
          return {
            id,
            reason: 'base_model_id: only administrators may import base-model overrides (base_model_id null) or change a model between override and preset',
          }
        }
        // `access_grants: null` means "not given", as on update; `access_control: null` means public.
        const hasAccessForm = Array.isArray(item['access_grants']) || 'access_control' in item
        return { id, form, existing, before, requested: hasAccessForm ? (requestedGrants(form) ?? []) : undefined }
      })

      // 4. Access parts (hole 4): grants naming principals unknown here are dropped with a warning (files
      //    travel between instances); a grant the importer may not add refuses the whole item.
      const allRequested = planned.flatMap((p) => ('form' in p ? (p.requested ?? []) : []))
      const grantContext = {
        unknown: new Set((await access.unknownPrincipals(allRequested)).map((g) => `${g.principal_type}:${g.principal_id}`)),
        mayPublish: allRequested.length > 0 && (await access.hasFeature(actor, 'sharing.public_models')),
        mayShare: allRequested.length > 0 && (await access.hasFeature(actor, 'sharing.models')),
      }
      const itemGrants = new Map<string, { grants: Grant[]; warnings: string[] }>()
      for (const [index, p] of planned.entries()) {
        if (!('form' in p)) continue
        if (!p.requested) {
          itemGrants.set(p.id, { grants: p.before.map(toGrant), warnings: [] })
          continue
        }
        const checked = importableGrants(grantContext, { before: p.before.map(toGrant), requested: p.requested })
        if ('refused' in checked) planned[index] = { id: p.id, reason: checked.refused }
        else itemGrants.set(p.id, checked)
      }

      // 5. Bases (hole 2): a new item, or one whose base changes, needs a base the importer may use. An
      //    item of this file that is itself imported counts as readable (the importer owns or writes it);
      //    refusing one item can refuse the items based on it, so this runs until nothing changes.
      const needsBase = (p: Planned) => p.form.base_model_id != null && (!p.existing || p.existing.base_model_id !== p.form.base_model_id)
      const baseIds = planned.flatMap((p) => ('form' in p && needsBase(p) ? [p.form.base_model_id ?? ''] : []))
      const kinds = await this.baseKinds(who, baseIds, { models, grantsRepo, served })
      for (let changed = true; changed;) {
        changed = false
        const imported = new Set(planned.flatMap((p) => ('form' in p ? [p.id] : [])))
        for (const [index, p] of planned.entries()) {
          if (!('form' in p) || !needsBase(p)) continue
          const base = p.form.base_model_id ?? ''
          if (imported.has(base) || access.mayReferenceBaseModel(actor, kinds.get(base) ?? 'no row', this.bypassModelAccessControl)) continue
          planned[index] = { id: p.id, reason: BASE_UNAVAILABLE_REASON }
          changed = true
        }
      }

      // 6. Writes: new rows and grant and tag changes in multi-row statements; updates one by one.
      const now = epochSeconds()
      const inserts: ModelRow[] = []
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
        const fields = {
          base_model_id: form.base_model_id ?? null,
          name: form.name,
          params: JSON.stringify(form.params),
          meta: JSON.stringify(form.meta),
          is_active: form.is_active ? 1 : 0,
          updated_at: now,
        }
        if (existing) {
          await models.update(id, fields)
          report.updated.push(id)
        } else {
          inserts.push({ id, user_id: actor.id, created_at: now, ...fields })
          report.created.push(id)
        }
        // Grants are rewritten only when they change, so re-importing an export leaves them as they were.
        if (!existing || (requested && !sameGrants(before, grants))) grantChanges.push({ modelId: id, grants })
        tagChanges.push({ modelId: id, names: tagNames(form.meta) })
      }
      if (strict && report.skipped.length > 0) {
        const reasons = report.skipped.map((s) => `${s.id}: ${s.reason}`).join('; ')
        throw new AppError('VALIDATION_ERROR', `Import refused (strict): ${report.skipped.length} item(s) would be skipped: ${reasons}`)
      }
      await models.insertMany(inserts)
      await grantsRepo.replaceMany(grantChanges, now)
      await models.setTagsMany(tagChanges)
    })
    return report
  }

  /**
   * Admin: makes the table equal to the payload (create, update, delete) in one transaction, or with
   * `dryRun` answers the plan and changes nothing. The payload must be valid as a whole: any bad
   * item, duplicate id or unknown principal refuses it (400) before anything changes.
   */
  async sync(actor: Actor, items: readonly unknown[], dryRun: boolean): Promise<SyncPlan> {
    const forms: { form: ModelForm; ownerId: string | undefined; grants: Grant[] }[] = []
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
    const unknown = await this.access.unknownPrincipals(forms.flatMap((f) => f.grants))
    if (unknown.length > 0) {
      problems.push(`unknown principals: ${[...new Set(unknown.map((g) => `${g.principal_type} "${g.principal_id}"`))].join(', ')}`)
    }
    if (problems.length > 0) throw new AppError('VALIDATION_ERROR', `Sync refused, nothing changed: ${problems.join('; ')}`)

    const run = async (models: ModelsRepo, grantsRepo: ModelGrantsRepo, access: AccessService): Promise<SyncPlan> => {
      const plan: SyncPlan = { dry_run: dryRun, create: [], update: [], delete: [], unchanged: [] }
      const existingIds = new Set(await models.allIds())
      const payloadIds = new Set(forms.map((f) => f.form.id))
      plan.delete = [...existingIds].filter((id) => !payloadIds.has(id)).sort()
      const owners = await access.unknownPrincipals(
        forms.flatMap((f) => (f.ownerId ? [{ principal_type: 'user' as const, principal_id: f.ownerId, permission: 'read' as const }] : [])),
      )
      const unknownOwners = new Set(owners.map((g) => g.principal_id))
      const now = epochSeconds()
      for (const { form, ownerId, grants } of forms) {
        // Locked (PostgreSQL) before its grants are read and replaced, as every grant write does.
        const existing = !existingIds.has(form.id)
          ? undefined
          : dryRun
            ? await models.findById(form.id)
            : await models.findByIdForUpdate(form.id, this.database.dialect)
        const fields = {
          base_model_id: form.base_model_id ?? null,
          name: form.name,
          params: JSON.stringify(form.params),
          meta: JSON.stringify(form.meta),
          is_active: form.is_active ? 1 : 0,
        }
        // Owner: the payload's user_id when that account exists here, else the current owner, else the admin.
        const owner = ownerId && !unknownOwners.has(ownerId) ? ownerId : (existing?.user_id ?? actor.id)
        if (!existing) {
          plan.create.push(form.id)
          if (!dryRun) {
            await models.insert({ id: form.id, user_id: owner, created_at: now, updated_at: now, ...fields })
            await grantsRepo.replace(form.id, grants, now)
            await models.setTags(form.id, tagNames(form.meta))
          }
          continue
        }
        const current = (await grantsRepo.grantsOf([form.id])).get(form.id) ?? []
        if (sameModel(existing, current, { ...fields, user_id: owner }, grants)) {
          plan.unchanged.push(form.id)
          continue
        }
        plan.update.push(form.id)
        if (!dryRun) {
          await models.update(form.id, { ...fields, user_id: owner, updated_at: now })
          await grantsRepo.replace(form.id, grants, now)
          await models.setTags(form.id, tagNames(form.meta))
        }
      }
      if (!dryRun) await models.deleteMany(plan.delete)
      return plan
    }
    if (dryRun) return run(this.models, this.grants, this.access)
    return this.inTransaction(run)
  }

  // ─── Hooks for other features (registered in services.ts) ──────────────────────────────────────

  /** An account changed (name, email, role): pages showing it as owner must be rebuilt. */
  async onUserUpdated(trx: Transaction<DB>): Promise<void> {
    await new ModelsRepo(trx).bumpVersion()
  }

  /**
   * An account is about to be deleted: its models pass to the deleting admin, grants naming it go. A
   * row of the account on an id a provider serves is ignored while a user owns it; handed to an admin
   * as it is, it would start overriding the provider's model for everyone (a squat revived by the
   * deletion), so it is handed over switched off for the admin to review. The catalog is read here,
   * before the deleting transaction opens.
   */
  async prepareUserDeletion(): Promise<(trx: Transaction<DB>, userId: string, adminId: string) => Promise<void>> {
    const served = await this.served.servedIds()
    return async (trx, userId, adminId) => {
      const models = new ModelsRepo(trx)
      const now = epochSeconds()
      await models.deactivateOwnedAmong(userId, [...served.keys()], now)
      await models.handOver(userId, adminId, now)
      await new ModelGrantsRepo(trx).deleteByPrincipal('user', userId)
      await models.bumpVersion()
    }
  }

  /** A group is being deleted: grants naming it go. */
  async onGroupDeleted(trx: Transaction<DB>, groupId: string): Promise<void> {
    await new ModelGrantsRepo(trx).deleteByPrincipal('group', groupId)
    await new ModelsRepo(trx).bumpVersion()
  }

  // ─── Internals ─────────────────────────────────────────────────────────────────────────────────

  /**
   * Runs registry writes in one transaction and bumps the registry version with them. Every query of
   * the work, access checks included, must go through the repositories and access service it is given.
   */
  private inTransaction<T>(work: (models: ModelsRepo, grants: ModelGrantsRepo, access: AccessService) => Promise<T>): Promise<T> {
    return this.database.db.transaction().execute(async (trx) => {
      const models = new ModelsRepo(trx)
      const result = await work(models, new ModelGrantsRepo(trx), this.access.on(trx))
      await models.bumpVersion()
      return result
    })
  }

  private async readable(who: Principals, id: string): Promise<{ row: ModelRow; grants: GrantRow[] }> {
    const row = await this.models.findById(id)
    if (!row) throw modelNotFound(id)
    const grants = (await this.grants.grantsOf([id])).get(id) ?? []
    this.access.requireModelRead(who, row, grants)
    return { row, grants }
  }

  private async writable(who: Principals, id: string, models: ModelsRepo, grantsRepo: ModelGrantsRepo): Promise<{ row: ModelRow; grants: Grant[] }> {
    // Locked first: writers of one model (and its grants) take turns; after a delete there is no row.
    const row = await models.findByIdForUpdate(id, this.database.dialect)
    if (!row) throw modelNotFound(id)
    const grants = ((await grantsRepo.grantsOf([id])).get(id) ?? []).map(toGrant)
    this.access.requireModelWrite(who, row, grants)
    return { row, grants }
  }

  /**
   * Base-model overrides (rows without base_model_id) rename, hide or restrict a provider's model for
   * everyone, so only admins may create them or change a model between override and preset
   * (`before`: the current base, undefined on create); and no model may be its own base.
   */
  private checkBaseModel(actor: Actor, id: string, before: string | null | undefined, baseModelId: string | null): void {
    if (baseModelId === id) throw new AppError('VALIDATION_ERROR', 'base_model_id: a model cannot be its own base model.')
    if (!this.access.maySetBaseModel(actor, before, baseModelId)) {
      throw new AppError(
        'ACCESS_PROHIBITED',
        'Only administrators may create base-model overrides (base_model_id null) or change a model between override and preset.',
      )
    }
  }

  /**
   * Hole 1 and 13 on create: an id the caller can read is taken (MODEL_ID_TAKEN); one held by a model
   * they cannot read, or served by a provider while they may not override provider models, is
   * unavailable (MODEL_ID_UNAVAILABLE, one text for both: the answer tells nothing more).
   */
  private async checkIdFree(
    actor: Actor,
    who: Principals,
    id: string,
    models: ModelsRepo,
    grantsRepo: ModelGrantsRepo,
    served: ReadonlyMap<string, string>,
  ): Promise<void> {
    const existing = await models.findById(id)
    if (existing) {
      const grants = (await grantsRepo.grantsOf([id])).get(id) ?? []
      throw this.access.modelPermissions(who, existing, grants).read ? modelIdTaken(id) : modelIdUnavailable()
    }
    if (served.has(id) && !this.access.mayOverrideProviderModel(actor.role)) throw modelIdUnavailable()
  }

  /** A conflicting row (hole 1) can be read and deleted, not changed: 409 MODEL_ID_UNAVAILABLE. */
  private async refuseConflict(row: ModelRow, models: ModelsRepo, served: ReadonlyMap<string, string>): Promise<void> {
    if ((await conflictingIds(models, this.access, [row], served)).has(row.id)) {
      throw new AppError('MODEL_ID_UNAVAILABLE', 'This model id is not available any more: the model can be deleted, not changed.')
    }
  }

  /** Where each base id points for the caller; a conflicting row counts as no row (hole 1). */
  private async baseKinds(
    who: Principals,
    ids: readonly string[],
    tx: { models: ModelsRepo; grantsRepo: ModelGrantsRepo; served: ReadonlyMap<string, string> },
  ): Promise<Map<string, BaseKind>> {
    const result = new Map<string, BaseKind>(ids.map((id) => [id, 'no row']))
    const found = await tx.models.findByIds([...new Set(ids)])
    const conflicts = await conflictingIds(tx.models, this.access, found, tx.served)
    const rows = found.filter((row) => !conflicts.has(row.id))
    const grants = await tx.grantsRepo.grantsOf(rows.map((row) => row.id))
    for (const row of rows) {
      result.set(row.id, this.access.modelPermissions(who, row, grants.get(row.id) ?? []).read ? 'readable row' : 'unreadable row')
    }
    return result
  }

  /** Hole 2 at write time: 400 BASE_MODEL_UNAVAILABLE (one text for every refused case). */
  private async checkBaseReference(
    actor: Actor,
    who: Principals,
    baseModelId: string,
    tx: { models: ModelsRepo; grantsRepo: ModelGrantsRepo; access: AccessService; served: ReadonlyMap<string, string> },
  ): Promise<void> {
    const kind = (await this.baseKinds(who, [baseModelId], tx)).get(baseModelId) ?? 'no row'
    if (!tx.access.mayReferenceBaseModel(actor, kind, this.bypassModelAccessControl)) throw baseModelUnavailable()
  }

  /** One model as a write answers it, read through the transaction (a delete right after cannot 404 it). */
  private async presentIn(models: ModelsRepo, grantsRepo: ModelGrantsRepo, id: string): Promise<ModelResponse> {
    const row = await models.findById(id)
    if (!row) throw modelNotFound(id)
    return presentModel(row, (await grantsRepo.grantsOf([id])).get(id) ?? [])
  }

  private async getModel(id: string): Promise<ModelResponse> {
    const row = await this.models.findById(id)
    if (!row) throw modelNotFound(id)
    const [model] = await this.present([row])
    if (!model) throw modelNotFound(id)
    return model
  }

  private async present(rows: readonly ModelRow[]): Promise<ModelResponse[]> {
    const grants = await this.grants.grantsOf(rows.map((row) => row.id))
    return rows.map((row) => presentModel(row, grants.get(row.id) ?? []))
  }

  /** Rows → ModelAccessResponse: grants, owners and write flags for the whole page in three queries. */
  private async withAccess(who: Principals, rows: readonly ModelRow[], options: { stripInlineImages: boolean }): Promise<ModelAccessResponse[]> {
    const ids = rows.map((row) => row.id)
    const [grants, owners, writableByGrant] = await Promise.all([
      this.grants.grantsOf(ids),
      this.models.owners(rows.map((row) => row.user_id)),
      who.bypass ? Promise.resolve(new Set<string>()) : this.grants.writableByGrant(who, ids),
    ])
    return rows.map((row) => {
      const model = presentModel(row, grants.get(row.id) ?? [])
      const writeAccess = who.bypass || row.user_id === who.userId || writableByGrant.has(row.id)
      return presentAccessModel(options.stripInlineImages ? withoutInlineImage(model) : model, owners.get(row.user_id) ?? null, writeAccess)
    })
  }

  /**
   * The total of a list. Sparse lists count their small set directly; dense and admin lists would scan,
   * so their totals are cached against the registry version (any write invalidates them).
   */
  private async total(filters: Parameters<ModelsRepo['count']>[0], plan: ListPlan): Promise<number> {
    if (plan === 'grantedIds') return this.models.count(filters, plan)
    const { who } = filters
    const key = JSON.stringify([who.userId, who.bypass, [...who.groupIds].sort(), filters.query, filters.viewOption, filters.tag, plan])
    const version = await this.models.version()
    const cached = this.totals.get(key)
    if (cached && cached.version === version) return cached.total
    const total = await this.models.count(filters, plan)
    this.totals.delete(key)
    this.totals.set(key, { version, total })
    if (this.totals.size > TOTALS_CACHE_SIZE) this.totals.delete(this.totals.keys().next().value ?? '')
    return total
  }
}

/**
 * The grants of an imported item (hole 4 of issue #10): grants naming a user or group unknown here are
 * dropped with a warning (export files travel between instances); a new grant the importer may not add
 * (public without sharing.public_models, users or groups without sharing.models) refuses the item.
 */
function importableGrants(
  context: { unknown: ReadonlySet<string>; mayPublish: boolean; mayShare: boolean },
  item: { before: readonly Grant[]; requested: readonly Grant[] },
): { grants: Grant[]; warnings: string[] } | { refused: string } {
  const { before, requested } = item
  const had = new Set(before.map((g) => `${g.principal_type}:${g.principal_id}:${g.permission}`))
  const grants: Grant[] = []
  const warnings: string[] = []
  for (const grant of requested) {
    const principal = `${grant.principal_type}:${grant.principal_id}`
    const isNew = !had.has(`${principal}:${grant.permission}`)
    if (context.unknown.has(principal)) {
      warnings.push(`grant to unknown ${grant.principal_type} "${grant.principal_id}" dropped`)
    } else if (isNew && grant.principal_id === EVERYONE && !context.mayPublish) {
      return { refused: 'access: making a model public needs the "sharing.public_models" permission; nothing of this item was imported' }
    } else if (isNew && grant.principal_id !== EVERYONE && !context.mayShare) {
      return { refused: `access: a grant to ${principal} needs the "sharing.models" permission; nothing of this item was imported` }
    } else {
      grants.push(grant)
    }
  }
  return { grants, warnings }
}

const modelIdTaken = (id: string) => new AppError('MODEL_ID_TAKEN', `The model id "${id}" is already registered. Choose another id.`)

/**
 * Hole 1 and 13: one answer for an id a provider serves and an id held by a model the caller cannot
 * read. The text does not even repeat the id, so the two answers are the same bytes.
 */
const modelIdUnavailable = () => new AppError('MODEL_ID_UNAVAILABLE', 'This model id is not available. Choose another id.')

/** Hole 2: one answer (same bytes) for an unknown id, a raw provider model and a model the caller cannot read. */
const baseModelUnavailable = () => new AppError('BASE_MODEL_UNAVAILABLE', 'base_model_id: this base model is not available to you.')

/** Import's skip reasons for the same two rules (each one text for all of its cases). */
const ID_UNAVAILABLE_REASON = 'this model id is not available'
const BASE_UNAVAILABLE_REASON = 'base_model_id: the base model is not available to you'
const CREATE_NEEDS_REASON = 'creating a model needs the "workspace.models" permission'

const toGrant = (row: GrantRow): Grant => ({
  principal_type: row.principal_type,
  principal_id: row.principal_id,
  permission: row.permission,
})

function tagNames(meta: { tags?: { name: string }[] | undefined }): string[] {
  return (meta.tags ?? []).map((tag) => tag.name)
}

/** The fields of a stored model that an import item merges over. */
function formOf(model: ModelResponse): Record<string, unknown> {
  return { id: model.id, base_model_id: model.base_model_id, name: model.name, meta: model.meta, params: model.params, is_active: model.is_active }
}

function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => `${issue.path.map(String).join('.') || 'item'}: ${issue.message}`)
    .join('; ')
}

/** The items of an import payload: a bare array or `{models: [...]}`. */
function importItems(payload: unknown): unknown[] {
  if (Array.isArray(payload)) return payload
  const models = (payload as { models?: unknown } | null)?.models
  if (Array.isArray(models)) return models
  throw new AppError('VALIDATION_ERROR', 'body: expected an array of models or {"models": [...]}')
}

/** An import item as an object; Admin › Models exports wrap the row in `info`. */
function unwrapItem(raw: unknown): Record<string, unknown> | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined
  const item = raw as Record<string, unknown>
  const info = item['info']
  if (typeof info === 'object' && info !== null && !Array.isArray(info) && typeof (info as { id?: unknown }).id === 'string') {
    return { ...(info as Record<string, unknown>) }
  }
  return item
}

/** Same set of (principal, permission), whatever the order and row ids. */
function sameGrants(rows: readonly GrantRow[], grants: readonly Grant[]): boolean {
  const key = (g: Grant) => `${g.principal_type}:${g.principal_id}:${g.permission}`
  const a = new Set(rows.map((g) => key(toGrant(g))))
  const b = new Set(grants.map(key))
  return a.size === b.size && [...a].every((k) => b.has(k))
}

function sameModel(
  row: ModelRow,
  grants: readonly GrantRow[],
  next: { base_model_id: string | null; name: string; params: string; meta: string; is_active: number; user_id: string },
  nextGrants: readonly Grant[],
): boolean {
  return (
    row.base_model_id === next.base_model_id &&
    row.name === next.name &&
    row.params === next.params &&
    row.meta === next.meta &&
    Number(row.is_active) === next.is_active &&
    row.user_id === next.user_id &&
    sameGrants(grants, nextGrants)
  )
}
