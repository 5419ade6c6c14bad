/**
 * What chat clients show and offer about the model: description and tags (above the prompt), then
 * capabilities, suggestion prompts and whether it is active.
 */
import { useController, useFieldArray } from 'react-hook-form'
import { ChipsInput } from '../../components/ChipsInput'
import { CAPABILITIES } from './form'
import { FieldMessage, useEditor, useField } from './fields'

export function DescriptionSection() {
  const { register, control } = useEditor()
  const description = useField('meta.description')
  const tags = useField('meta.tags')
  const { field: tagsInput } = useController({ control, name: 'meta.tags' })
  return (
    <>
      <div className="field">
        <label htmlFor={description.id}>Description</label>
        <textarea id={description.id} rows={2} {...description.aria} {...register('meta.description')} />
        <p className="hint" id={description.hintId}>
          What this model is for, shown on its card.
        </p>
        <FieldMessage field={description} />
      </div>

      <div className="field">
        <label htmlFor={tags.id}>Tags</label>
        <ChipsInput
          id={tags.id}
          noun="tag"
          values={tagsInput.value}
          onChange={tagsInput.onChange}
          placeholder="Type a tag, then Enter"
          describedBy={tags.hintId}
          invalid={Boolean(tags.message)}
        />
        <p className="hint" id={tags.hintId}>
          Enter or comma adds a tag; Backspace in the empty box removes the last one.
        </p>
        <FieldMessage field={tags} />
      </div>
    </>
  )
}

export function CapabilitiesSection() {
  const { register, control } = useEditor()
  const capabilities = useField('meta.capabilities')
  const suggestions = useField('meta.suggestion_prompts')
  const prompts = useFieldArray({ control, name: 'meta.suggestion_prompts' })
  return (
    <>
      <fieldset className="fieldset">
        <legend>Capabilities</legend>
        <div className="checkbox-grid">
          {CAPABILITIES.map((cap) => (
            <label key={cap.key} className="checkbox">
              <input type="checkbox" {...register(`meta.capabilities.${cap.key}`)} />
              {cap.label}
            </label>
          ))}
        </div>
        <FieldMessage field={capabilities} />
      </fieldset>

      <fieldset className="fieldset">
        <legend>Suggestion prompts</legend>
        <p className="hint">Shown as starters when a chat with this model begins.</p>
        {prompts.fields.length === 0 ? <p className="muted">No suggestions.</p> : null}
        <ol className="suggestions">
          {prompts.fields.map((item, index) => (
            <li key={item.id} className="row">
              <label className="visually-hidden" htmlFor={`${suggestions.id}-${index}`}>
                Suggestion {index + 1}
              </label>
              <input id={`${suggestions.id}-${index}`} className="grow" {...register(`meta.suggestion_prompts.${index}.content`)} />
              <button type="button" className="button button-small" aria-label={`Remove suggestion ${index + 1}`} onClick={() => prompts.remove(index)}>
                Remove
              </button>
            </li>
          ))}
        </ol>
        <button type="button" className="button button-small" onClick={() => prompts.append({ content: '', extra: {} })}>
          Add suggestion
        </button>
        <FieldMessage field={suggestions} />
      </fieldset>

      <label className="checkbox">
        <input type="checkbox" {...register('is_active')} />
        Active (offered to chat clients)
      </label>
    </>
  )
}
