/**
 * Configuration templates (issue #13 part 1, docs/templates.md): the resource (store) and applying it
 * (applier), over the model registry they change. services.ts wires the store into the registry
 * (`Registry.useTemplates`) for models created from a template and locked parameters.
 */
import type { Registry } from '../models/registry.js'
import { TemplateApplier } from './template-apply.js'
import { TemplateStore } from './template-store.js'

export interface Templates {
  store: TemplateStore
  applier: TemplateApplier
}

export function createTemplates(registry: Registry): Templates {
  const store = new TemplateStore(registry)
  registry.useTemplates(store)
  return { store, applier: new TemplateApplier(registry, store) }
}
