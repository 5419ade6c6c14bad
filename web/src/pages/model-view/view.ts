/** What the read-only model page shows of a model (pure, tested in Node). */
import { CAPABILITIES } from '../model-editor/form'

export interface ModelView {
  description: string
  tags: string[]
  system: string
  /** Parameters other than the system prompt and the lock list, as text, in the stored order. */
  params: [string, string][]
  locked: string[]
  /** Known capabilities by their label (those the model declares), then unknown keys by name. */
  capabilities: [string, boolean][]
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

export function viewOf(model: { params: Record<string, unknown>; meta: Record<string, unknown> }): ModelView {
  const { params, meta } = model
  const tags = Array.isArray(meta['tags'])
    ? meta['tags'].map((tag: unknown) => (typeof tag === 'string' ? tag : isRecord(tag) && typeof tag['name'] === 'string' ? tag['name'] : '')).filter(Boolean)
    : []
  const locked = Array.isArray(params['locked']) ? params['locked'].filter((key): key is string => typeof key === 'string') : []
  const shown = Object.entries(params).filter(([key, value]) => key !== 'system' && key !== 'locked' && value !== null && value !== undefined && value !== '')
  const declared = isRecord(meta['capabilities']) ? meta['capabilities'] : {}
  const known = new Set(CAPABILITIES.map((cap) => cap.key))
  const capabilities: [string, boolean][] = [
    ...CAPABILITIES.filter((cap) => typeof declared[cap.key] === 'boolean').map((cap): [string, boolean] => [cap.label, declared[cap.key] === true]),
    ...Object.entries(declared)
      .filter(([key, value]) => !known.has(key) && typeof value === 'boolean')
      .map(([key, value]): [string, boolean] => [key, value === true]),
  ]
  return {
    description: typeof meta['description'] === 'string' ? meta['description'] : '',
    tags,
    system: typeof params['system'] === 'string' ? params['system'] : '',
    params: shown.map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]),
    locked,
    capabilities,
  }
}
