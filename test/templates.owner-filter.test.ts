/**
 * Issue #13 follow-up (docs/templates.md): template answers carry the owner's id and name, never an
 * email (templates are shared with non-admins); the apply filter and the bulk access filter take
 * `template_id` (the models that follow a template), under the listing's rules: only models the caller
 * may write are selected, whoever else's models follow the template.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './support/databases.js'
import { grantKeys, preset, token } from './support/factories.js'
import type { Harness, TestAccount } from './support/harness.js'
import { createModelsWorld, M, modelsApi } from './support/models.js'

const T = '/api/v1/templates'

interface TemplateOut {
  id: string
  user_id: string
  user: { id: string; name: string } | null
  [key: string]: unknown
}
interface Report {
  dry_run: boolean
  changed: { id: string; changes: { path: string }[]; version: number | null }[]
  unchanged: string[]
  refused: { id: string; code: string }[]
}

const user = (id: string, permission: 'read' | 'write' = 'read') => ({ principal_type: 'user', principal_id: id, permission })

describe.each(DIALECTS)('templates: owner in answers, template_id filters on %s', (dialect) => {
  let h: Harness
  let author: TestAccount
  let reader: TestAccount
  let plain: TestAccount
  const { send, create, getModel, tryUpdate, createGroup } = modelsApi(() => h)

  const createTemplate = async (who: TestAccount, body: Record<string, unknown>): Promise<TemplateOut> => {
    const res = await send(who, { method: 'POST', url: `${T}/create`, payload: body })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<TemplateOut>()
  }
  const getTemplate = async (who: TestAccount, id: string): Promise<TemplateOut> => {
    const res = await send(who, { method: 'GET', url: `${T}/template`, query: { id } })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<TemplateOut>()
  }
  const listTemplates = async (who: TestAccount, query: string): Promise<TemplateOut[]> => {
    const res = await send(who, { method: 'GET', url: `${T}/list`, query: { query } })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ items: TemplateOut[] }>().items
  }
  const tryApply = (who: TestAccount, body: unknown) => send(who, { method: 'POST', url: `${T}/template/apply`, payload: body })
  const apply = async (who: TestAccount, body: Record<string, unknown>): Promise<Report> => {
    const res = await tryApply(who, body)
    expect(res.statusCode, res.body).toBe(200)
    return res.json<Report>()
  }
  const bulk = async (who: TestAccount, body: Record<string, unknown>): Promise<Report> => {
    const res = await send(who, { method: 'POST', url: `${M}/access/bulk`, payload: body })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<Report>()
  }

  beforeAll(async () => {
    ;({ h, plain } = await createModelsWorld(dialect))
    author = await h.createUser('user', `Author ${token()}`)
    reader = await h.createUser('user', `Reader ${token()}`)
    await createGroup('Template authors', { workspace: { templates: true, models: true }, sharing: { models: true } }, [author.id, reader.id])
  })
  afterAll(async () => h?.close())

  describe("the owner's name, never an email", () => {
    it('create, get, list and update answer user {id, name}; a reader the template is shared with learns no email', async () => {
      const word = `own${token()}`
      const created = await createTemplate(author, {
        id: `tpl-${word}`,
        name: `Owned ${word}`,
        params: { temperature: 0.2 },
        template_access_grants: [user(reader.id), user(plain.id, 'write')],
      })
      expect(created.user).toEqual({ id: author.id, name: author.name })

      for (const who of [author, reader, plain, h.admin]) {
        const got = await getTemplate(who, created.id)
        expect(got.user).toEqual({ id: author.id, name: author.name })
        const listed = await listTemplates(who, word)
        expect(listed.map((t) => t.user)).toEqual([{ id: author.id, name: author.name }])
      }
      // Nothing in a reader's answers names the owner's email.
      const readerGet = await send(reader, { method: 'GET', url: `${T}/template`, query: { id: created.id } })
      const readerList = await send(reader, { method: 'GET', url: `${T}/list`, query: { query: word } })
      for (const body of [readerGet.body, readerList.body]) {
        expect(body).not.toContain(author.email)
        expect(body).not.toContain('"email"')
      }

      // An update by another writer keeps the owner, and answers the owner's name.
      const updated = await send(plain, { method: 'POST', url: `${T}/template/update`, payload: { id: created.id, description: 'changed by a writer' } })
      expect(updated.statusCode, updated.body).toBe(200)
      expect(updated.json<TemplateOut>().user).toEqual({ id: author.id, name: author.name })
      expect(updated.body).not.toContain(author.email)

      // A renamed owner: the next answer carries the new name.
      const renamed = `Renamed ${token()}`
      const rename = await h.request({ method: 'POST', url: `/api/v1/users/${author.id}/update`, headers: h.admin.auth, payload: { name: renamed } })
      expect(rename.statusCode, rename.body).toBe(200)
      expect((await getTemplate(reader, created.id)).user).toEqual({ id: author.id, name: renamed })
      expect((await listTemplates(reader, word)).map((t) => t.user?.name)).toEqual([renamed])
      author = { ...author, name: renamed }
    })

    it('a deleted owner: the template passes to the deleting admin, and answers name the admin', async () => {
      const leaving = await h.createUser('user', `Leaving ${token()}`)
      await createGroup(`Leavers ${token()}`, { workspace: { templates: true } }, [leaving.id])
      const tpl = await createTemplate(leaving, { id: `tpl-gone-${token()}`, name: 'Orphan' })
      expect(tpl.user).toEqual({ id: leaving.id, name: leaving.name })
      const removed = await h.request({ method: 'DELETE', url: `/api/v1/users/${leaving.id}`, headers: h.admin.auth })
      expect(removed.statusCode, removed.body).toBe(200)
      const after = await getTemplate(h.admin, tpl.id)
      expect(after.user_id).toBe(h.admin.id)
      expect(after.user).toEqual({ id: h.admin.id, name: h.admin.name })
    })
  })

  describe('filter.template_id: the models that follow a template', () => {
    it('apply re-applies the template to its own models the caller may write: drifted ones change, the others stay, no other model is touched', async () => {
      const tpl = await createTemplate(author, {
        id: `tpl-follow-${token()}`,
        name: 'Followed',
        params: { temperature: 0.3 },
        meta: { tags: ['followed'] },
        template_access_grants: [user(reader.id), user(plain.id)],
      })
      const drifted = await create(author, { ...preset(`m-drift-${token()}`), template_id: tpl.id })
      const inLine = await create(author, { ...preset(`m-line-${token()}`), template_id: tpl.id })
      const unlinked = await create(author, preset(`m-unlinked-${token()}`, { params: { temperature: 1 } }))
      // A model of someone else that follows the template, readable by the author but not writable.
      const othersModel = await create(reader, { ...preset(`m-other-${token()}`), template_id: tpl.id, access_grants: [user(author.id)] })
      expect((await getModel(author, othersModel.id)).can.write).toBe(false)
      const res = await tryUpdate(author, { ...preset(drifted.id), params: { temperature: 0.9 }, meta: { tags: ['followed'] } })
      expect(res.statusCode, res.body).toBe(200)

      const preview = await apply(author, { id: tpl.id, filter: { template_id: tpl.id }, dry_run: true })
      expect(preview.changed.map((c) => c.id)).toEqual([drifted.id])
      expect(preview.changed[0]?.changes.map((c) => c.path)).toEqual(['params.temperature'])
      expect(preview.unchanged).toEqual([inLine.id])
      expect(preview.refused).toEqual([])

      const done = await apply(author, { id: tpl.id, filter: { template_id: tpl.id } })
      expect(done.changed.map((c) => c.id)).toEqual([drifted.id])
      expect((await getModel(author, drifted.id)).params).toMatchObject({ temperature: 0.3 })
      expect((await getModel(author, unlinked.id)).params).toEqual({ temperature: 1 })
      expect((await getModel(reader, othersModel.id)).version).toBe(othersModel.version)

      // Every field narrows: with a tag no follower has, nothing is selected.
      const none = await apply(author, { id: tpl.id, filter: { template_id: tpl.id, tag: `nothing-${token()}` }, dry_run: true })
      expect(none).toEqual({ dry_run: true, changed: [], unchanged: [], refused: [] })

      // The model's owner re-applies to theirs; the least-privileged reader of the template writes none of them.
      const byReader = await apply(reader, { id: tpl.id, filter: { template_id: tpl.id }, dry_run: true })
      expect([...byReader.changed.map((c) => c.id), ...byReader.unchanged]).toEqual([othersModel.id])
      const byPlain = await apply(plain, { id: tpl.id, filter: { template_id: tpl.id } })
      expect(byPlain).toEqual({ dry_run: false, changed: [], unchanged: [], refused: [] })
    })

    it('bulk access takes the same filter: only the followers the caller may write change', async () => {
      const tpl = await createTemplate(author, { id: `tpl-bulk-${token()}`, name: 'Bulk followed', template_access_grants: [user(reader.id)] })
      const mine = await create(author, { ...preset(`m-bulk-${token()}`), template_id: tpl.id })
      const notFollowing = await create(author, preset(`m-bulk-none-${token()}`))
      const theirs = await create(reader, { ...preset(`m-bulk-theirs-${token()}`), template_id: tpl.id, access_grants: [user(author.id)] })

      const report = await bulk(author, { filter: { template_id: tpl.id }, add: [user(plain.id)] })
      expect(report.changed.map((c) => c.id)).toEqual([mine.id])
      expect(report.refused).toEqual([])
      expect(grantKeys(await getModel(author, mine.id))).toContain(`user:${plain.id}:read`)
      expect(grantKeys(await getModel(author, notFollowing.id))).not.toContain(`user:${plain.id}:read`)
      expect(grantKeys(await getModel(reader, theirs.id))).not.toContain(`user:${plain.id}:read`)

      // A template id the caller cannot read selects nothing more than the models they may write anyway.
      const plainReport = await bulk(plain, { filter: { template_id: tpl.id }, add: [user(reader.id)], dry_run: true })
      expect(plainReport).toMatchObject({ changed: [], unchanged: [], refused: [] })
    })

    it('a bad template_id in a filter is a 400 naming it, never a 500', async () => {
      const tpl = await createTemplate(author, { id: `tpl-bad-${token()}`, name: 'Bad filter' })
      const expectNamed = (res: { statusCode: number; body: string; json: () => unknown }, code: string) => {
        expect(res.statusCode, res.body).toBe(400)
        const body = res.json() as { code: string; errors?: { loc?: unknown[]; field?: string }[] }
        expect(body.code).toBe(code)
        expect(res.body).toContain('template_id')
      }
      const cases: [unknown, string][] = [
        ['', 'MODEL_ID_TOO_LONG'],
        ['a'.repeat(300), 'MODEL_ID_TOO_LONG'],
        ['bad\u0000id', 'INVALID_MODEL_ID'],
        [42, 'VALIDATION_ERROR'],
      ]
      for (const [bad, code] of cases) {
        expectNamed(await tryApply(author, { id: tpl.id, filter: { template_id: bad } }), code)
        expectNamed(await send(author, { method: 'POST', url: `${M}/access/bulk`, payload: { filter: { template_id: bad }, add: [user(plain.id)] } }), code)
      }
    })
  })
})
