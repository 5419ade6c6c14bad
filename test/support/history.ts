/**
 * Model history (issue #12) as the history tests drive it: request helpers for the history, restore,
 * trash and prune routes, bound to a harness, and what they read straight from the database.
 */
import { expect } from 'vitest'
import type { Harness, Reply, TestAccount } from './harness.js'
import { M } from './models.js'

export interface HistoryItemOut {
  version: number
  created_at: number
  user_id: string | null
  user: { id: string; name: string } | null
  action: string
  source: string
}
export interface SnapshotOut {
  id: string
  user_id: string
  base_model_id: string | null
  name: string
  params: Record<string, unknown>
  meta: Record<string, unknown>
  is_active: boolean
  access_grants: { principal_type: string; principal_id: string; permission: string }[] | null
}
export interface ChangeOut {
  path: string
  op: 'added' | 'removed' | 'changed'
  old: unknown
  new: unknown
}
export interface TrashItemOut {
  id: string
  name: string
  user_id: string
  deleted_at: number
  deleted_by: string | null
  version: number
}

export function historyApi(harness: () => Harness) {
  const send = (who: TestAccount | undefined, options: Parameters<Harness['send']>[1]) => harness().send(who, options)
  const q = (values: Record<string, string | number>) => Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]))
  const tryHistory = (who: TestAccount | undefined, id: string, query: Record<string, string | number> = {}) =>
    send(who, { method: 'GET', url: `${M}/model/history`, query: q({ id, ...query }) })
  const history = async (who: TestAccount, id: string, query: Record<string, string | number> = {}) => {
    const res = await tryHistory(who, id, query)
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ items: HistoryItemOut[]; total: number }>()
  }
  const tryVersion = (who: TestAccount | undefined, id: string, version: number | string) =>
    send(who, { method: 'GET', url: `${M}/model/history/version`, query: q({ id, version }) })
  const version = async (who: TestAccount, id: string, v: number) => {
    const res = await tryVersion(who, id, v)
    expect(res.statusCode, res.body).toBe(200)
    return res.json<HistoryItemOut & { snapshot: SnapshotOut }>()
  }
  const tryDiff = (who: TestAccount | undefined, id: string, from: number | string, to: number | string) =>
    send(who, { method: 'GET', url: `${M}/model/history/diff`, query: q({ id, from, to }) })
  const diff = async (who: TestAccount, id: string, from: number, to: number) => {
    const res = await tryDiff(who, id, from, to)
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ id: string; from: number; to: number; changes: ChangeOut[] }>()
  }
  const tryRestore = (who: TestAccount | undefined, body: unknown, ifMatch?: string) =>
    send(who, { method: 'POST', url: `${M}/model/history/restore`, payload: body, ...(ifMatch !== undefined && { headers: { 'if-match': ifMatch } }) })
  const tryTrash = (who: TestAccount | undefined, query: Record<string, string | number> = {}) =>
    send(who, { method: 'GET', url: `${M}/trash`, query: q(query) })
  const trash = async (who: TestAccount, query: Record<string, string | number> = {}) => {
    const res = await tryTrash(who, query)
    expect(res.statusCode, res.body).toBe(200)
    return res.json<{ items: TrashItemOut[]; total: number }>()
  }
  const tryPrune = (who: TestAccount | undefined, body: unknown) => send(who, { method: 'POST', url: `${M}/history/prune`, payload: body })
  const tryDelete = (who: TestAccount, id: string, ifMatch?: string) =>
    send(who, { method: 'POST', url: `${M}/model/delete`, payload: { id }, ...(ifMatch !== undefined && { headers: { 'if-match': ifMatch } }) })
  const deleteModel = async (who: TestAccount, id: string) => {
    const res = await tryDelete(who, id)
    expect(res.statusCode, res.body).toBe(200)
  }
  const db = () => harness().services.database.db
  /** `<version>:<action>` of every stored version of `id`, oldest first. */
  const stored = async (id: string): Promise<string[]> =>
    (await db().selectFrom('model_versions').select(['version', 'action']).where('model_id', '=', id).orderBy('version').execute()).map(
      (r) => `${Number(r.version)}:${r.action}`,
    )
  const auditActions = async (id: string): Promise<string[]> =>
    (await db().selectFrom('audit_log').select('action').where('target_id', '=', id).orderBy('id').execute()).map((r) => r.action)
  const lastAudit = async (id: string, action: string) =>
    db().selectFrom('audit_log').selectAll().where('target_id', '=', id).where('action', '=', action).orderBy('id', 'desc').executeTakeFirst()
  /** The parsed `after` of the latest audit entry of `action` on `id` (undefined: none). */
  const auditAfter = async (id: string, action: string): Promise<unknown> => {
    const entry = await lastAudit(id, action)
    return entry?.after ? JSON.parse(entry.after) : undefined
  }
  const liveRow = async (id: string) => db().selectFrom('models').selectAll().where('id', '=', id).executeTakeFirst()
  return {
    send,
    tryHistory,
    history,
    tryVersion,
    version,
    tryDiff,
    diff,
    tryRestore,
    tryTrash,
    trash,
    tryPrune,
    tryDelete,
    deleteModel,
    stored,
    auditActions,
    lastAudit,
    auditAfter,
    liveRow,
  }
}

/** The error body without what differs between two requests (the request id, and `id` in the detail). */
export function errorShape(res: Reply, id: string): { status: number; body: Record<string, unknown> } {
  const { request_id: _requestId, ...body } = res.json<Record<string, unknown>>()
  return { status: res.statusCode, body: { ...body, detail: String(body['detail']).replaceAll(id, '<id>') } }
}
