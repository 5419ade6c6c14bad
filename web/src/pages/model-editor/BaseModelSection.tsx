/**
 * The base model: a list of what the providers serve (GET /api/models, presets left out) when the
 * server has it, with "Other…" for an id that is not listed; a plain text box when it does not.
 */
import { useState, type ReactNode } from 'react'
import { useController, useWatch } from 'react-hook-form'
import { describeError } from '../../api/client'
import { useRuntimeModels } from '../../lib/queries'
import { useUser } from '../../lib/session'
import { FieldMessage, useEditor, useField } from './fields'

const OTHER = '\u0000other'

export function BaseModelSection() {
  const { control } = useEditor()
  const {
    field: { value, onChange, onBlur, ref },
  } = useController({ control, name: 'base_model_id' })
  const selfId = useWatch({ control, name: 'id' })
  const field = useField('base_model_id')
  const runtime = useRuntimeModels()
  const isAdmin = useUser().role === 'admin'
  const [other, setOther] = useState(false)
  const options = (runtime.data?.data ?? []).filter((entry) => !entry.preset && entry.id !== selfId)
  const listed = options.some((entry) => entry.id === value)
  const showSelect = options.length > 0
  const showText = !showSelect || other || (value !== '' && !listed)
  const id = field.id
  let hint: ReactNode
  if (runtime.isPending) hint = 'Loading the models the providers serve…'
  else if (runtime.error) hint = `The list of served models is not available (${describeError(runtime.error).detail}). Type the id of the base model.`
  // Only admins see every provider model: for others an empty list means nothing was shared with them (issue #16 item 5).
  else if (!showSelect && !isAdmin) {
    hint = 'No models are shared with you yet: an administrator shares base models (Admin › Base models). You may type the id of a model shared with you.'
  } else if (!showSelect) hint = 'No provider serves a model yet. Type the id of the base model (for example llama3.1:8b).'
  else hint = 'The model this preset runs on, as a provider serves it.'

  return (
    <div className="field">
      {showSelect ? (
        <>
          <label htmlFor={id}>Base model</label>
          <select
            id={id}
            ref={showText ? undefined : ref}
            value={showText ? OTHER : value}
            {...field.aria}
            onBlur={onBlur}
            onChange={(event) => {
              if (event.target.value === OTHER) {
                setOther(true)
              } else {
                setOther(false)
                onChange(event.target.value)
              }
            }}
          >
            <option value="">Choose a base model…</option>
            {options.map((entry) => (
              <option key={entry.id} value={entry.id}>
                {entry.name && entry.name !== entry.id ? `${entry.name} (${entry.id})` : entry.id}
              </option>
            ))}
            <option value={OTHER}>Other (type an id)…</option>
          </select>
        </>
      ) : null}
      {showText ? (
        <>
          <label htmlFor={showSelect ? `${id}-text` : id} className={showSelect ? 'sub-label' : undefined}>
            {showSelect ? 'Base model id' : 'Base model'}
          </label>
          <input
            id={showSelect ? `${id}-text` : id}
            ref={ref}
            className="mono"
            value={value}
            spellCheck={false}
            placeholder="llama3.1:8b"
            {...field.aria}
            onBlur={onBlur}
            onChange={(event) => onChange(event.target.value)}
          />
        </>
      ) : null}
      <p className="hint" id={field.hintId}>
        {hint}
      </p>
      <FieldMessage field={field} />
    </div>
  )
}
