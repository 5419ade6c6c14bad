/** What every section of the editor needs for its fields: ids, the error shown at a field, aria wiring. */
import { createContext, useContext } from 'react'
import { useFormContext, useFormState } from 'react-hook-form'
import { InlineError } from '../../components/States'
import type { EditorField, EditorValues } from './form'

/** The page's id prefix (useId), so two editors never share element ids. */
export const IdPrefix = createContext('editor')

export function useEditor() {
  return useFormContext<EditorValues>()
}

/** Ids, error and aria attributes of one field. */
export function useField(name: EditorField) {
  const prefix = useContext(IdPrefix)
  const { getFieldState } = useEditor()
  const { error } = getFieldState(name, useFormState<EditorValues>({ name }))
  const message = typeof error?.message === 'string' && error.message !== '' ? error.message : undefined
  const id = `${prefix}-${name.replace(/\W/g, '-')}`
  return {
    id,
    hintId: `${id}-hint`,
    errorId: `${id}-error`,
    message,
    aria: {
      'aria-invalid': message ? (true as const) : undefined,
      'aria-describedby': [message ? `${id}-error` : '', `${id}-hint`].filter(Boolean).join(' '),
    },
  }
}

/** The error under a field, if it has one. */
export function FieldMessage({ field }: { field: { errorId: string; message: string | undefined } }) {
  return <InlineError id={field.errorId}>{field.message}</InlineError>
}
