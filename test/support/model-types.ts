/** The registry's response shapes for tests, from the sdk's types (generated from openapi.json: one definition). */
import type { Grant, GrantInput, Model, ModelList, ModelWithAccess, TemplateApplyReport } from '@modelgate/sdk'

export type GrantOut = Grant
export type AccessModelOut = ModelWithAccess
export type ModelOut = Model
export type Permission = GrantInput['permission']
export type GrantIn = GrantInput
export type ListOut = ModelList

/** The answer of a bulk run: template apply and bulk access answer the same shape. */
export type BulkReportOut = TemplateApplyReport
