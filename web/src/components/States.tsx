/** Loading, error and empty states, the same everywhere. */
import type { ReactNode } from 'react'
import { describeError } from '../api/client'

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="state state-loading" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}
    </p>
  )
}

export function ErrorState({
  error,
  title = 'Something went wrong',
  onRetry,
  children,
}: {
  error: unknown
  title?: string
  onRetry?: () => void
  children?: ReactNode
}) {
  const { detail, code } = describeError(error)
  return (
    <div className="state state-error" role="alert">
      <p className="state-title">{title}</p>
      <p>
        {detail} <code className="error-code">{code}</code>
      </p>
      {children}
      {onRetry ? (
        <button type="button" className="button" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  )
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <p className="state-title">{title}</p>
      {children}
    </div>
  )
}

/** An inline error under a form or next to a field. */
export function InlineError({ id, children }: { id?: string; children: ReactNode }) {
  if (!children) return null
  return (
    <p className="field-error" id={id} role="alert">
      {children}
    </p>
  )
}
