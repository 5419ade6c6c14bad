/**
 * The JSON a bulk run answers (src/models/model-bulk-access.ts BulkReport: bulk access and template apply
 * write their report chunk by chunk as bytes and send them as is) is byte for byte what the route's schema
 * serializer wrote from the report object before: keys in the schema's order, strings escaped alike.
 */
import { describe, expect, it } from 'vitest'
import type { z } from 'zod'
import { AppError } from '../src/errors/app-error.js'
import { serializerCompiler } from '../src/http/serializer.js'
import { BulkReport, type BulkReportEntry } from '../src/models/model-bulk-access.js'
import { BulkAccessReportSchema } from '../src/models/models.schema.js'
import { TemplateApplyReportSchema } from '../src/templates/templates.schema.js'

const serializerFor = (schema: z.ZodType) => serializerCompiler({ schema, method: 'POST', url: '/x', httpStatus: '200' })

interface Plain {
  dry_run: boolean
  changed: BulkReportEntry[]
  unchanged: string[]
  refused: { id: string; reason: string; code: string }[]
}

/** The report written through BulkReport, `perChunk` changed entries at a time, as its text. */
function written(report: Plain, perChunk: number): string {
  const writer = new BulkReport(report.dry_run)
  for (let i = 0; i < report.changed.length; i += perChunk) writer.changed(report.changed.slice(i, i + perChunk))
  writer.changed([])
  for (const id of report.unchanged) writer.unchanged(id)
  for (const r of report.refused) writer.refuse(r.id, new AppError(r.code as 'MODEL_NOT_FOUND', r.reason))
  return writer.toJson<Plain>().toString('utf8')
}

const grant = (id: string) => ({ principal_type: 'group' as const, principal_id: id, permission: 'read' as const })
const odd = 'quote " backslash \\ newline \n tab \t control \u0001 unicode é 😀 lone \ud800 end'

describe('bulk report: the bytes of the schema serializer', () => {
  it('template apply: changes of any JSON value, versions and nulls, unchanged ids, refusals', () => {
    const report: Plain = {
      dry_run: false,
      changed: Array.from({ length: 7 }, (_, i) => ({
        id: `m-${i}-${odd}`,
        changes: [
          { path: 'params.system', op: 'added', old: null, new: `bot ${odd}` },
          { path: 'params.temperature', op: 'changed', old: 0.7, new: 0.3 },
          { path: 'meta.tags', op: 'changed', old: [{ name: 'a' }], new: [{ name: 'a' }, { name: odd }] },
          { path: 'meta.capabilities.vision', op: 'removed', old: { deep: { x: [1, true, null] } }, new: null },
          { path: `access_grants.group:g${i}:read`, op: 'added', old: null, new: grant(`g${i}`) },
          { path: 'template_id', op: 'changed', old: null, new: 'tpl' },
        ],
        version: i === 3 ? null : i + 2,
      })),
      unchanged: ['u-1', `u-${odd}`],
      refused: [
        { id: 'r-1', reason: 'No model with id "r-1".', code: 'MODEL_NOT_FOUND' },
        { id: `r-${odd}`, reason: `locked: ${odd}`, code: 'PARAM_LOCKED' },
      ],
    }
    const expected = serializerFor(TemplateApplyReportSchema)(report)
    for (const perChunk of [1, 3, 500]) expect(written(report, perChunk)).toBe(expected)
    expect(JSON.parse(expected)).toEqual(report)
  })

  it('bulk access: grant changes, a dry run (versions null), and an empty report', () => {
    const report: Plain = {
      dry_run: true,
      changed: ['b', 'c'].map((id) => ({
        id,
        changes: [
          { path: 'access_grants.group:g-most:read', op: 'removed', old: grant('g-most'), new: null },
          { path: 'access_grants.group:g2:read', op: 'added', old: null, new: grant('g2') },
        ],
        version: null,
      })),
      unchanged: ['a'],
      refused: [{ id: 'z', reason: 'You may not change this model.', code: 'ACCESS_PROHIBITED' }],
    }
    expect(written(report, 1)).toBe(serializerFor(BulkAccessReportSchema)(report))
    const empty: Plain = { dry_run: false, changed: [], unchanged: [], refused: [] }
    expect(written(empty, 500)).toBe(serializerFor(BulkAccessReportSchema)(empty))
    expect(written(empty, 500)).toBe('{"dry_run":false,"changed":[],"unchanged":[],"refused":[]}')
  })

  it('counts what it was given', () => {
    const writer = new BulkReport(false)
    writer.changed([{ id: 'a', changes: [], version: 1 }])
    writer.changed([
      { id: 'b', changes: [], version: 1 },
      { id: 'c', changes: [], version: 2 },
    ])
    writer.unchanged('d')
    writer.refuse('e', new AppError('MODEL_NOT_FOUND', 'No model with id "e".'))
    expect([writer.changedCount, writer.unchangedCount, writer.refusedCount]).toEqual([3, 1, 1])
    expect((JSON.parse(writer.toJson<Plain>().toString('utf8')) as Plain).changed.map((c) => c.id)).toEqual(['a', 'b', 'c'])
  })
})
