/**
 * The history tables of issue #12 as the tests read them, straight from the database of a harness:
 * model_versions rows (snapshot parsed), the live row's version, the model.* audit entries of an id.
 */
import { expect } from 'vitest'
import type { Harness } from './harness.js'

export interface VersionRow {
  model_id: string
  version: number
  created_at: number
  user_id: string | null
  action: string
  source: string
  snapshot: {
    id: string
    user_id: string
    base_model_id: string | null
    name: string
    params: Record<string, unknown>
    meta: Record<string, unknown>
    is_active: boolean
    access_grants: { principal_type: string; principal_id: string; permission: string }[]
  }
}

export function versionsApi(harness: () => Harness) {
  const db = () => harness().services.database.db
  /** Every version of `id`, oldest first. */
  const versionsOf = async (id: string): Promise<VersionRow[]> => {
    const rows = await db().selectFrom('model_versions').selectAll().where('model_id', '=', id).orderBy('version').execute()
    return rows.map((row) => ({
      ...row,
      version: Number(row.version),
      created_at: Number(row.created_at),
      snapshot: JSON.parse(row.snapshot) as VersionRow['snapshot'],
    }))
  }
  /** `<version>:<action>:<source>` of every version of `id`, oldest first. */
  const historyOf = async (id: string): Promise<string[]> => (await versionsOf(id)).map((v) => `${v.version}:${v.action}:${v.source}`)
  /** The live row's version column (undefined: no row). */
  const liveVersion = async (id: string): Promise<number | undefined> => {
    const row = await db().selectFrom('models').select('version').where('id', '=', id).executeTakeFirst()
    return row === undefined ? undefined : Number(row.version)
  }
  /** The audit entries naming `id` as target, oldest first (id sorts by time). */
  const auditOf = async (id: string) => db().selectFrom('audit_log').selectAll().where('target_id', '=', id).orderBy('id').execute()
  const countVersions = async (): Promise<number> =>
    Number(
      (
        await db()
          .selectFrom('model_versions')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    )
  const countAudit = async (): Promise<number> =>
    Number(
      (
        await db()
          .selectFrom('audit_log')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    )
  /** Versions 1..n without a gap or a repeat, and the live row (if any) at the last one. */
  const expectGapless = async (id: string): Promise<VersionRow[]> => {
    const versions = await versionsOf(id)
    expect(
      versions.map((v) => v.version),
      id,
    ).toEqual(versions.map((_, i) => i + 1))
    const live = await liveVersion(id)
    if (live !== undefined) expect(live, `${id}: live version`).toBe(versions.length)
    return versions
  }
  return { versionsOf, historyOf, liveVersion, auditOf, countVersions, countAudit, expectGapless }
}
