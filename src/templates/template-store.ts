/**
 * Templates as a resource (docs/templates.md): create (also from a model), read, list, update, delete,
 * and what the model registry asks of them (a model created from a template, locked parameters). Every
 * decision is the access service's: who may create (workspace.templates), read and change a template
 * (the models' rule on the template's own grants), whether its base model may be used and its access
 * section given (the caller's sharing permissions), and the locked-parameter rule.
 */
import { templateNotFound } from '../access/access.service.js'
import type { Actor } from '../access/actor.js'
import { addedGrants, requestedGrants, type Grant, type Principals } from '../access/model-grants.js'
import { TemplateGrantsRepo, type TemplateGrantRow } from '../access/template-grants.repo.js'
import { recordAudit } from '../audit/audit-log.js'
import { isUniqueViolation } from '../db/errors.js'
import { epochSeconds, type Executor } from '../db/executor.js'
import { AppError, fieldError } from '../errors/app-error.js'
import { MetaSchema, ParamsSchema, type ModelForm } from '../models/models.schema.js'
import { toGrant, type ModelTemplates, type Registry, type RegistryTx } from '../models/registry.js'
import { deepMerge, type TemplateSections } from './template-merge.js'
import { ownersOf, presentTemplate, sectionsOf } from './templates.presenter.js'
import { TemplatesRepo, type TemplateRow } from './templates.repo.js'
import type { TemplateCreate, TemplateList, TemplateListQuery, TemplateResponse, TemplateUpdate } from './templates.schema.js'

type Sections = Omit<TemplateSections, 'id'>

const plainGrant = (g: Grant): Grant => ({ principal_type: g.principal_type, principal_id: g.principal_id, permission: g.permission })

const idUnavailable = () => new AppError('CONFLICT', 'This template id is not available. Choose another id.')

export class TemplateStore implements ModelTemplates {
  constructor(private readonly registry: Registry) {}

  private repos(executor: Executor) {
    return { templates: new TemplatesRepo(executor), grants: new TemplateGrantsRepo(executor) }
  }

  async create(actor: Actor, body: TemplateCreate): Promise<TemplateResponse> {
    const { access } = this.registry
    await access.requireFeature(actor, 'workspace.templates')
    const who = await access.principalsOf(actor)
    const sections: Sections = {
      base_model_id: body.base_model_id ?? null,
      params: body.params ?? null,
      locked_params: body.locked_params ?? null,
      meta: body.meta ?? null,
      access_grants: requestedGrants(body) ?? null,
    }
    if (body.from_model_id !== undefined) {
      // A model the caller may read (404 otherwise); its grants only when the caller may write it.
      const { row, grants } = await this.registry.readable(who, body.from_model_id)
      if (body.base_model_id === undefined) sections.base_model_id = row.base_model_id
      if (body.params === undefined) sections.params = JSON.parse(row.params) as Record<string, unknown>
      if (body.meta === undefined) sections.meta = JSON.parse(row.meta) as Record<string, unknown>
      if (requestedGrants(body) === undefined && access.modelPermissions(who, row, grants).write) sections.access_grants = grants.map(toGrant)
    }
    const own = requestedGrants({ access_grants: body.template_access_grants ?? [] }) ?? []
    const served = await this.registry.served.servedIds()
    const now = epochSeconds()
    try {
      return await this.registry.inTransaction(async (tx) => {
        const { templates, grants } = this.repos(tx.executor)
        if (await templates.findById(body.id)) throw idUnavailable()
        await this.checkSections(actor, who, sections, null, tx, served)
        await tx.access.checkGrantChange(actor, [], own)
        const row: TemplateRow = {
          id: body.id,
          user_id: actor.id,
          name: body.name,
          description: body.description,
          ...stored(sections),
          created_at: now,
          updated_at: now,
        }
        await templates.insert(row)
        await grants.replace(row.id, own, now)
        await recordAudit(
          tx.executor,
          [
            {
              action: 'template.create',
              actorId: actor.id,
              targetType: 'template',
              targetId: row.id,
              after: { name: row.name, ...auditSections(sections), template_access_grants: own },
            },
          ],
          actor.origin,
        )
        const owners = await ownersOf(tx.models, [row])
        return presentTemplate(row, (await grants.grantsOf([row.id])).get(row.id) ?? [], true, owners.get(row.user_id) ?? null)
      })
    } catch (error) {
      // Two creates of one id at once: the primary key decides.
      if (isUniqueViolation(error)) throw idUnavailable()
      throw error
    }
  }

  async get(actor: Actor, id: string): Promise<TemplateResponse> {
    const who = await this.registry.access.principalsOf(actor)
    const { row, grants, write } = await this.readable(who, id, this.registry.database.db)
    const owners = await ownersOf(this.registry.models, [row])
    return presentTemplate(row, grants, write, owners.get(row.user_id) ?? null)
  }

  async list(actor: Actor, query: TemplateListQuery): Promise<TemplateList> {
    const who = await this.registry.access.principalsOf(actor)
    const { templates, grants } = this.repos(this.registry.database.db)
    const [rows, total] = await Promise.all([templates.page(who, query.query, (query.page - 1) * query.limit, query.limit), templates.count(who, query.query)])
    const [own, owners] = await Promise.all([grants.grantsOf(rows.map((row) => row.id)), ownersOf(this.registry.models, rows)])
    return {
      items: rows.map((row) => {
        const rowGrants = own.get(row.id) ?? []
        const write = this.registry.access.templatePermissions(who, row, rowGrants.map(plainGrant)).write
        return presentTemplate(row, rowGrants, write, owners.get(row.user_id) ?? null)
      }),
      total,
    }
  }

  async update(actor: Actor, body: TemplateUpdate): Promise<TemplateResponse> {
    const who = await this.registry.access.principalsOf(actor)
    const served = await this.registry.served.servedIds()
    return this.registry.inTransaction(async (tx) => {
      const { templates, grants } = this.repos(tx.executor)
      const row = await templates.findByIdForUpdate(body.id, this.registry.database.dialect)
      if (!row) throw templateNotFound(body.id)
      const ownBefore = ((await grants.grantsOf([row.id])).get(row.id) ?? []).map(plainGrant)
      tx.access.requireTemplateWrite(who, row, ownBefore)
      const before = sectionsOf(row)
      // Left out: kept; null: the section goes (access_grants null too, unless access_control is sent).
      const requested = requestedGrants(body)
      const sections: Sections = {
        base_model_id: body.base_model_id === undefined ? before.base_model_id : body.base_model_id,
        params: body.params === undefined ? before.params : body.params,
        locked_params: body.locked_params === undefined ? before.locked_params : body.locked_params,
        meta: body.meta === undefined ? before.meta : body.meta,
        access_grants: requested ?? (body.access_grants === null ? null : before.access_grants),
      }
      await this.checkSections(actor, who, sections, before, tx, served)
      const own = body.template_access_grants === undefined ? undefined : (requestedGrants({ access_grants: body.template_access_grants }) ?? [])
      if (own) await tx.access.checkGrantChange(actor, ownBefore, own)
      const now = epochSeconds()
      const patch = { name: body.name ?? row.name, description: body.description ?? row.description, ...stored(sections), updated_at: now }
      await templates.update(row.id, patch)
      if (own) await grants.replace(row.id, own, now)
      await recordAudit(
        tx.executor,
        [
          {
            action: 'template.update',
            actorId: actor.id,
            targetType: 'template',
            targetId: row.id,
            before: { name: row.name, ...auditSections(before), template_access_grants: ownBefore },
            after: { name: patch.name, ...auditSections(sections), ...(own && { template_access_grants: own }) },
          },
        ],
        actor.origin,
      )
      const updated = { ...row, ...patch }
      const ownAfter = (await grants.grantsOf([row.id])).get(row.id) ?? []
      const owners = await ownersOf(tx.models, [updated])
      return presentTemplate(
        updated,
        ownAfter,
        tx.access.templatePermissions(who, updated, ownAfter.map(plainGrant)).write,
        owners.get(updated.user_id) ?? null,
      )
    })
  }

  /** Deletes a template; the models made from it forget it (template_id null) in the same transaction. */
  async delete(actor: Actor, id: string): Promise<true> {
    const who = await this.registry.access.principalsOf(actor)
    await this.registry.inTransaction(async (tx) => {
      const { templates, grants } = this.repos(tx.executor)
      const row = await templates.findByIdForUpdate(id, this.registry.database.dialect)
      if (!row) throw templateNotFound(id)
      tx.access.requireTemplateWrite(who, row, ((await grants.grantsOf([id])).get(id) ?? []).map(plainGrant))
      const unlinked = await tx.models.unlinkTemplate(id)
      await templates.delete(id)
      await recordAudit(
        tx.executor,
        [
          {
            action: 'template.delete',
            actorId: actor.id,
            targetType: 'template',
            targetId: id,
            before: { name: row.name, ...auditSections(sectionsOf(row)) },
            after: { unlinked_models: unlinked },
          },
        ],
        actor.origin,
      )
    })
    return true
  }

  /** A template the caller may read, its own grants and whether they may change it (404 NOT_FOUND otherwise). */
  async readable(who: Principals, id: string, executor: Executor): Promise<{ row: TemplateRow; grants: TemplateGrantRow[]; write: boolean }> {
    const { templates, grants } = this.repos(executor)
    const row = await templates.findById(id)
    if (!row) throw templateNotFound(id)
    const own = (await grants.grantsOf([id])).get(id) ?? []
    const permissions = this.registry.access.requireTemplateRead(who, row, own.map(plainGrant))
    return { row, grants: own, write: permissions.write }
  }

  // ─── Deletion hooks (registered in services.ts; run inside the deleting transaction) ─────────────

  /**
   * An account is being deleted: template grants naming it go (the template's own sharing, and its
   * access section, so an apply is not refused for a grant to nobody), and its templates pass to the
   * deleting admin, as its models do.
   */
  async onUserDeleted(trx: Executor, userId: string, adminId: string): Promise<void> {
    await this.forgetPrincipal(trx, 'user', userId)
    await new TemplatesRepo(trx).handOver(userId, adminId, epochSeconds())
  }

  /** A group is being deleted: template grants naming it go (own sharing and access sections). */
  async onGroupDeleted(trx: Executor, groupId: string): Promise<void> {
    await this.forgetPrincipal(trx, 'group', groupId)
  }

  private async forgetPrincipal(trx: Executor, type: 'user' | 'group', principalId: string): Promise<void> {
    const { templates, grants } = this.repos(trx)
    await grants.deleteByPrincipal(type, principalId)
    const now = epochSeconds()
    for (const row of await templates.withAccessSection()) {
      const section = JSON.parse(row.access_grants ?? '[]') as Grant[]
      const kept = section.filter((g) => g.principal_type !== type || g.principal_id !== principalId)
      if (kept.length !== section.length) await templates.update(row.id, { access_grants: JSON.stringify(kept), updated_at: now })
    }
  }

  // ─── What the registry asks (ModelTemplates, wired in services.ts) ──────────────────────────────

  /**
   * A model created from a template: the template's sections fill what the body does not give; params
   * and meta are deep-merged with the body winning; the template's grants only when the body names no
   * access form. A non-admin may not give a locked key another value (409 PARAM_LOCKED). The create's
   * own rules (base usable, sharing permissions) then run on the result.
   */
  async fillForm(actor: Actor, form: ModelForm): Promise<ModelForm> {
    const who = await this.registry.access.principalsOf(actor)
    const { row } = await this.readable(who, form.template_id ?? '', this.registry.database.db)
    const template = sectionsOf(row)
    if (template.params && template.locked_params) {
      const given = template.locked_params.filter((key) => Object.hasOwn(form.params, key))
      const refusal = this.registry.access.lockedParamRefusal(actor, given, template.params, form.params)
      if (refusal) throw refusal
    }
    const params = ParamsSchema.safeParse(template.params ? deepMerge(template.params, form.params) : form.params)
    if (!params.success) throw fieldError('INVALID_PARAMS', 'body.params', `with the template's params: ${params.error.issues[0]?.message ?? 'invalid'}`)
    const meta = MetaSchema.safeParse(template.meta ? deepMerge(template.meta, form.meta) : form.meta)
    if (!meta.success) throw fieldError('VALIDATION_ERROR', 'body.meta', `with the template's meta: ${meta.error.issues[0]?.message ?? 'invalid'}`)
    const grants = requestedGrants(form) === undefined ? template.access_grants : null
    return {
      ...form,
      base_model_id: form.base_model_id === undefined ? (template.base_model_id ?? undefined) : form.base_model_id,
      params: params.data,
      meta: meta.data,
      ...(grants && { access_grants: grants.map((g) => ({ ...plainGrant(g) })) }),
    }
  }

  lockedParams(templateIds: readonly string[], tx: RegistryTx): Promise<Map<string, string[]>> {
    return this.repos(tx.executor).templates.lockedOf(templateIds)
  }

  /**
   * Read inside the transaction that links models to the template (a create from it, an apply) and held
   * until it ends: a delete that came first makes the write 404; one that comes later waits (PostgreSQL
   * FOR SHARE against the delete's FOR UPDATE; SQLite runs one transaction at a time) and then unlinks the
   * models the write linked.
   */
  async holdForLink(templateId: string, tx: RegistryTx): Promise<void> {
    if (!(await this.repos(tx.executor).templates.existsForShare(templateId, this.registry.database.dialect))) throw templateNotFound(templateId)
  }

  /**
   * The rules of a template's sections when it is saved: locked keys are keys of its params; its base
   * model is one the caller may use (as a model's base, checked when it changes); its access section
   * names existing principals, and what it adds needs the caller's sharing permissions.
   */
  private async checkSections(
    actor: Actor,
    who: Principals,
    sections: Sections,
    before: TemplateSections | null,
    tx: RegistryTx,
    served: ReadonlyMap<string, string>,
  ) {
    for (const key of sections.locked_params ?? []) {
      if (!sections.params || !Object.hasOwn(sections.params, key)) {
        throw fieldError('VALIDATION_ERROR', 'body.locked_params', `"${key}" is not a key of params (a locked key must have the template's value)`)
      }
    }
    if (sections.base_model_id !== null && sections.base_model_id !== before?.base_model_id) {
      await this.registry.checkBaseReference(actor, who, sections.base_model_id, tx, served)
    }
    if (sections.access_grants) {
      const previous = before?.access_grants ?? []
      const refusal = await tx.access.sharingRefusal(actor)(previous, sections.access_grants)
      if (refusal) throw refusal
      const unknown = await tx.access.unknownPrincipals(addedGrants(previous, sections.access_grants))
      if (unknown.length > 0) {
        throw new AppError('INVALID_ACCESS_CONTROL', `access_grants: ${unknown.map((g) => `no ${g.principal_type} with id "${g.principal_id}"`).join('; ')}`)
      }
    }
  }
}

/** The section columns of a template row. */
function stored(sections: Sections): Pick<TemplateRow, 'base_model_id' | 'params' | 'locked_params' | 'meta' | 'access_grants'> {
  const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value))
  return {
    base_model_id: sections.base_model_id,
    params: json(sections.params),
    locked_params: json(sections.locked_params),
    meta: json(sections.meta),
    access_grants: json(
      sections.access_grants?.map((g: Grant) => ({ principal_type: g.principal_type, principal_id: g.principal_id, permission: g.permission })),
    ),
  }
}

/** What an audit entry records of the sections (meta without an inline picture: it can weigh megabytes). */
function auditSections(sections: Sections) {
  const meta = sections.meta && typeof sections.meta['profile_image_url'] === 'string' ? { ...sections.meta, profile_image_url: '(image)' } : sections.meta
  return { base_model_id: sections.base_model_id, params: sections.params, locked_params: sections.locked_params, meta, access_grants: sections.access_grants }
}
