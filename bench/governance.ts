/**
 * S12's requests (issue #13 at scale), shared by the benchmark (run.ts) and the memory probe
 * (memory.ts): the template both create, then the template applied to the first 10k models and a bulk
 * access change on the same 10k, each one request.
 */

/** How many models S12a and S12b change in one request (the routes' cap of model_ids). */
export const S12_MODELS = 10_000

/** The first `min(size, S12_MODELS)` ids of the benchmark's dataset. */
export const s12Ids = (size: number): string[] => Array.from({ length: Math.min(size, S12_MODELS) }, (_, i) => `m${String(i).padStart(7, '0')}`)

/** `POST /api/v1/templates/create`'s body: params, a locked system prompt, meta and a grant. */
export const S12_TEMPLATE = {
  id: 'bench-template',
  name: 'Bench template',
  params: { system: 'You are the benchmark bot.', temperature: 0.3, top_p: 0.9 },
  locked_params: ['system'],
  meta: { tags: [{ name: 'templated' }], capabilities: { vision: false } },
  access_grants: [{ principal_type: 'group', principal_id: 'g1', permission: 'read' }],
}

/** S12a and S12b: scenario name, route and body, in the order they run. */
export const s12Requests = (ids: readonly string[]): { scenario: string; path: string; body: unknown }[] => [
  {
    scenario: 'S12a template apply to 10k models (merge, real run)',
    path: '/api/v1/templates/template/apply',
    body: { id: S12_TEMPLATE.id, model_ids: ids, mode: 'merge' },
  },
  {
    scenario: 'S12b bulk access change on 10k models',
    path: '/api/v1/models/access/bulk',
    body: {
      model_ids: ids,
      add: [{ principal_type: 'group', principal_id: 'g2', permission: 'read' }],
      remove: [{ principal_type: 'group', principal_id: 'g-most', permission: 'read' }],
    },
  },
]
