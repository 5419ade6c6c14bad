/** A list of short strings (tags, stop sequences) typed one by one: Enter or comma adds, × removes. */
import { useState, type KeyboardEvent } from 'react'

interface ChipsInputProps {
  id: string
  values: string[]
  onChange: (values: string[]) => void
  placeholder?: string
  /** What one chip is called, for the remove buttons' labels ("Remove tag sql"). */
  noun: string
  describedBy?: string
  /** Commas split input unless the values may contain them (stop sequences). */
  splitOnComma?: boolean
  invalid?: boolean
}

export function ChipsInput({ id, values, onChange, placeholder, noun, describedBy, splitOnComma = true, invalid }: ChipsInputProps) {
  const [text, setText] = useState('')

  const add = (raw: string) => {
    const parts = (splitOnComma ? raw.split(',') : [raw]).map((part) => (splitOnComma ? part.trim() : part)).filter((part) => part.length > 0)
    const next = [...values]
    for (const part of parts) if (!next.some((value) => value.toLowerCase() === part.toLowerCase())) next.push(part)
    if (next.length !== values.length) onChange(next)
    setText('')
  }

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Enter' || (splitOnComma && event.key === ',')) {
      event.preventDefault()
      if (text.length > 0) add(text)
    } else if (event.key === 'Backspace' && text === '' && values.length > 0) {
      onChange(values.slice(0, -1))
    }
  }

  return (
    <div className={`chips${invalid ? ' is-invalid' : ''}`}>
      {values.length > 0 ? (
        <ul className="chips-list" aria-label={`${noun}s`}>
          {values.map((value) => (
            <li key={value} className="chip">
              <span className="chip-text">{value}</span>
              <button type="button" className="chip-remove" aria-label={`Remove ${noun} ${value}`} onClick={() => onChange(values.filter((v) => v !== value))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <input
        id={id}
        className="chips-input"
        value={text}
        placeholder={placeholder}
        aria-describedby={describedBy}
        aria-invalid={invalid || undefined}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
        onBlur={() => {
          if (text.length > 0) add(text)
        }}
      />
    </div>
  )
}
