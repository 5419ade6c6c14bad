/**
 * "Start from a template" in the model editor (create only): the templates the account may read. Picking
 * one fills the form's fields from the template's sections, except fields already edited (the editor
 * does that with `fillFromTemplate`); the model is created with `template_id`, so the server merges the
 * template too (the body's fields win) and links the model to it.
 */
import { useId } from 'react'
import type { Template } from '../../api/client'
import { useTemplateList } from '../../lib/queries'

export function TemplatePicker({ selected, onPick }: { selected: Template | null; onPick: (template: Template | null) => void }) {
  const templates = useTemplateList({ limit: 100 })
  const id = useId()
  const items = templates.data?.items ?? []
  // Nothing to offer (none readable, or the list failed): the editor is the plain one.
  if (items.length === 0 && !selected) return null
  const locked = selected?.locked_params ?? []
  return (
    <div className="field template-picker">
      <label htmlFor={id}>Start from a template</label>
      <select
        id={id}
        value={selected?.id ?? ''}
        aria-describedby={`${id}-hint`}
        onChange={(event) => onPick(items.find((item) => item.id === event.target.value) ?? null)}
      >
        <option value="">No template</option>
        {items.map((item) => (
          <option key={item.id} value={item.id}>
            {item.name}
          </option>
        ))}
      </select>
      <p className="hint" id={`${id}-hint`}>
        {selected
          ? `The template's sections fill the fields you have not edited; what you type wins. The model stays linked to ${selected.name}.`
          : 'Its parameters, meta, base model and access fill the form; you can still change everything.'}
        {locked.length > 0 ? ` Locked by the template: ${locked.join(', ')} (only administrators may give them other values).` : ''}
      </p>
    </div>
  )
}
