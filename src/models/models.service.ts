/**
 * The model registry: presets and base-model overrides, their grants, import, export and sync. Every
 * decision about who may do what is asked of the access service; this file only applies the answers.
 */
import { createHash } from 'node:crypto'
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
import type {
  AccessUpdate,
  ListQuery,
  ModelAccessResponse,
  ModelForm,
  ModelResponse,
  ModelUpdate,
} from './models.schema.js'
import { ModelFormSchema, ModelIdSchema } from './models.schema.js'

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

export type ProfileImage =
  | { kind: 'inline'; contentType: string; body: Buffer; etag: string }
  | { kind: 'redirect'; location: string }

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
    const [rows, total] = await Promise.all([
      this.models.listPage(filters, plan, page),
      this.total(filters, plan),
    ])
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

  async profileImage(actor: Actor, id: string): Promise<ProfileImage> {
    const who = await this.access.principalsOf(actor)
    const { row } = await this.readable(who, id)
    const meta = JSON.parse(row.meta) as { profile_image_url?: unknown }
    return profileImageOf(typeof meta.profile_image_url === 'string' ? meta.profile_image_url : '')
  }

  // ─── Writing ───────────────────────────────────────────────────────────────────────────────────

  async create(actor: Actor, form: ModelForm): Promise<ModelResponse> {
    await this.access.requireFeature(actor, 'workspace.models')
    this.checkBaseModel(actor, form.id, form.base_model_id ?? null)
    // A create that names no access form makes a private model (secure by default).
    const grants = requestedGrants(form) ?? []
    await this.access.checkGrantChange(actor, [], grants)
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
      await this.inTransaction(async (models, grantsRepo) => {
        if (await models.findById(form.id)) throw modelIdTaken(form.id)
        await models.insert(row)
        await grantsRepo.replace(row.id, grants, now)
        await models.setTags(row.id, tagNames(form.meta))
      })
    } catch (error) {
      // Two creates of one id at once: the primary key decides, the loser gets 409.
      if (isUniqueViolation(error)) throw modelIdTaken(form.id)
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
    await this.inTransaction(async (models, grantsRepo, access) => {
      const { row, grants } = await this.writable(who, id, models, grantsRepo)
      const baseModelId = body.base_model_id === undefined ? row.base_model_id : body.base_model_id
      if (baseModelId !== row.base_model_id) this.checkBaseModel(actor, id, baseModelId)
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
    })
    return this.getModel(id)
  }

  async toggle(actor: Actor, id: string): Promise<ModelResponse> {
    const who = await this.access.principalsOf(actor)
    await this.inTransaction(async (models, grantsRepo) => {
      const { row } = await this.writable(who, id, models, grantsRepo)
      await models.update(id, { is_active: Number(row.is_active) === 1 ? 0 : 1, updated_at: epochSeconds() })
    })
    return this.getModel(id)
  }

  /**
   * Replaces a model's grants. An admin may name a provider model that has no row yet: a minimal
   * override row is created for it (owner: the admin), as Open WebUI does.
   */
  async updateAccess(actor: Actor, body: AccessUpdate): Promise<ModelResponse> {
    const requested = requestedGrants(body)
    if (!requested) throw new AppError('INVALID_ACCESS_CONTROL', 'Send access_grants or access_control.')
    const who = await this.access.principalsOf(actor)
    await this.inTransaction(async (models, grantsRepo, access) => {
      const now = epochSeconds()
      if (!(await models.findById(body.id)) && access.mayManageOverrides(actor)) {
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
      const { grants } = await this.writable(who, body.id, models, grantsRepo)
      await access.checkGrantChange(actor, grants, requested)
      await grantsRepo.replace(body.id, requested, now)
      await models.update(body.id, { updated_at: now })
    })
    return this.getModel(body.id)
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
      // 2. What exists already, in a few set-based reads instead of one per item.
      const existingRows = new Map((await models.findByIds([...seen])).map((row) => [row.id, row]))
      const existingGrants = await grantsRepo.grantsOf([...existingRows.keys()])

      // 3. Each item validated against what it would update.
      type Planned = { id: string; form: ModelForm; existing: ModelRow | undefined; before: GrantRow[]; requested: Grant[] | undefined }
      const planned: (Planned | { id: string; reason: string })[] = outcomes.map((outcome) => {
        if ('reason' in outcome) return outcome
        const { id, item } = outcome
        const existing = existingRows.get(id)
        const before = existingGrants.get(id) ?? []
        if (existing && !access.modelPermissions(who, existing, before).write) {
          return { id, reason: 'a model with this id exists and you may not change it' }
        }
        // An update keeps what the item leaves out (Open WebUI merges the item over the row).
        const parsed = ModelFormSchema.safeParse(existing ? { ...formOf(presentModel(existing, before)), ...item } : item)
        if (!parsed.success) return { id, reason: describeIssues(parsed.error.issues) }
        const form = parsed.data
        if (form.base_model_id === form.id) return { id, reason: 'base_model_id: a model cannot be its own base model' }
        if (form.base_model_id == null && !access.mayManageOverrides(actor)) {
          return { id, reason: 'base_model_id: only administrators may import base-model overrides (base_model_id null)' }
        }
        // `access_grants: null` means "not given", as on update; `access_control: null` means public.
        const hasAccessForm = Array.isArray(item['access_grants']) || 'access_control' in item
        return { id, form, existing, before, requested: hasAccessForm ? (requestedGrants(form) ?? []) : undefined }
      })

      // 4. Grants that cannot apply here are dropped with a warning (principals checked all at once).
      const allRequested = planned.flatMap((p) => ('form' in p ? (p.requested ?? []) : []))
      const grantContext = {
        unknown: new Set((await access.unknownPrincipals(allRequested)).map((g) => `${g.principal_type}:${g.principal_id}`)),
        mayPublish: allRequested.length > 0 && (await access.hasFeature(actor, 'sharing.public_models')),
        mayShare: allRequested.length > 0 && (await access.hasFeature(actor, 'sharing.models')),
      }

      // 5. Writes: new rows and grant and tag changes in multi-row statements; updates one by one.
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
        const grants = requested ? importableGrants(grantContext, { id, before: before.map(toGrant), requested, report }) : before.map(toGrant)
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
        const existing = existingIds.has(form.id) ? await models.findById(form.id) : undefined
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

  /** An account is being deleted: its models pass to the admin, grants naming it go. */
  async onUserDeleted(trx: Transaction<DB>, userId: string, adminId: string): Promise<void> {
    const models = new ModelsRepo(trx)
    await models.handOver(userId, adminId, epochSeconds())
    await new ModelGrantsRepo(trx).deleteByPrincipal('user', userId)
    await models.bumpVersion()
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

  private async writable(
    who: Principals,
    id: string,
    models: ModelsRepo,
    grantsRepo: ModelGrantsRepo,
  ): Promise<{ row: ModelRow; grants: Grant[] }> {
    const row = await models.findById(id)
    if (!row) throw modelNotFound(id)
    const grants = ((await grantsRepo.grantsOf([id])).get(id) ?? []).map(toGrant)
    this.access.requireModelWrite(who, row, grants)
    return { row, grants }
  }

  /**
   * Base-model overrides (rows without base_model_id) rename, hide or restrict a provider's model for
   * everyone, so only admins may create them; and no model may be its own base.
   */
  private checkBaseModel(actor: Actor, id: string, baseModelId: string | null): void {
    if (baseModelId === id) throw new AppError('VALIDATION_ERROR', 'base_model_id: a model cannot be its own base model.')
    if (baseModelId === null && !this.access.mayManageOverrides(actor)) {
      throw new AppError(
        'ACCESS_PROHIBITED',
        'Only administrators may create base-model overrides (base_model_id null); set base_model_id to make a preset.',
      )
    }
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
  private async withAccess(
    who: Principals,
    rows: readonly ModelRow[],
    options: { stripInlineImages: boolean },
  ): Promise<ModelAccessResponse[]> {
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

/** Grants of an imported item, minus those that cannot apply here, each dropped with a warning. */
function importableGrants(
  context: { unknown: ReadonlySet<string>; mayPublish: boolean; mayShare: boolean },
  item: { id: string; before: readonly Grant[]; requested: readonly Grant[]; report: ImportReport },
): Grant[] {
  const { id, before, requested, report } = item
  const had = new Set(before.map((g) => `${g.principal_type}:${g.principal_id}:${g.permission}`))
  const kept: Grant[] = []
  for (const grant of requested) {
    const principal = `${grant.principal_type}:${grant.principal_id}`
    const isNew = !had.has(`${principal}:${grant.permission}`)
    if (context.unknown.has(principal)) {
      report.warnings.push({ id, message: `grant to unknown ${grant.principal_type} "${grant.principal_id}" dropped` })
    } else if (isNew && grant.principal_id === EVERYONE && !context.mayPublish) {
      report.warnings.push({ id, message: 'public grant dropped: you lack the "sharing.public_models" permission' })
    } else if (isNew && grant.principal_id !== EVERYONE && !context.mayShare) {
      report.warnings.push({ id, message: `grant to ${principal} dropped: you lack the "sharing.models" permission` })
    } else {
      kept.push(grant)
    }
  }
  return kept
}

const modelIdTaken = (id: string) =>
  new AppError('MODEL_ID_TAKEN', `The model id "${id}" is already registered. Choose another id.`)

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

const DEFAULT_IMAGE = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="12" fill="#6b7280"/>' +
    '<circle cx="32" cy="26" r="10" fill="#e5e7eb"/><rect x="16" y="40" width="32" height="10" rx="5" fill="#e5e7eb"/></svg>',
)

/**
 * A data: URI with an image type is decoded and served; an http(s) URL is a redirect; anything else
 * (empty, a relative path of Open WebUI's static files, another data: type) gets the default picture.
 */
export function profileImageOf(url: string): ProfileImage {
  const match = /^data:(image\/[a-z0-9.+-]+)((?:;[a-z0-9-]+=[^;,]*)*)(;base64)?,(.*)$/is.exec(url)
  if (match?.[1]) {
    const body = match[3] ? Buffer.from(match[4] ?? '', 'base64') : Buffer.from(decodeURIComponent(match[4] ?? ''))
    return { kind: 'inline', contentType: match[1].toLowerCase(), body, etag: etagOf(body) }
  }
  if (/^https?:\/\//i.test(url)) return { kind: 'redirect', location: url }
  return { kind: 'inline', contentType: 'image/svg+xml', body: DEFAULT_IMAGE, etag: etagOf(DEFAULT_IMAGE) }
}

function etagOf(body: Buffer): string {
  return `"${createHash('sha1').update(body).digest('base64url')}"`
}
