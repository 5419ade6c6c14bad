/**
 * A modal dialog on the native <dialog> element (top layer, the page behind it inert), with a focus
 * trap, Escape to close, and focus handed back to whatever opened it.
 */
import { useEffect, useId, useLayoutEffect, useRef, type FormEvent, type KeyboardEvent, type ReactNode } from 'react'

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])'

interface DialogProps {
  title: string
  onClose: () => void
  children: ReactNode
  /** Buttons at the bottom; a Close button when absent. */
  footer?: ReactNode
  size?: 'small' | 'medium' | 'large'
  /** A short line under the title, read out with it. */
  description?: ReactNode
  className?: string
}

export function Dialog({ title, onClose, children, footer, size = 'medium', description, className }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null)
  // The latest onClose for the key and backdrop handlers, updated after render (not during it).
  const onCloseRef = useRef(onClose)
  useLayoutEffect(() => {
    onCloseRef.current = onClose
  })
  const titleId = useId()
  const descriptionId = useId()

  useEffect(() => {
    const dialog = ref.current
    if (!dialog) return undefined
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null
    if (!dialog.open) dialog.showModal()
    const preferred = dialog.querySelector<HTMLElement>('[data-autofocus]') ?? dialog.querySelector<HTMLElement>(FOCUSABLE)
    preferred?.focus()
    return () => {
      if (dialog.open) dialog.close()
      if (opener?.isConnected) opener.focus()
    }
  }, [])

  const onKeyDown = (event: KeyboardEvent<HTMLDialogElement>) => {
    if (event.key === 'Escape') {
      event.preventDefault()
      event.stopPropagation()
      onCloseRef.current()
      return
    }
    if (event.key !== 'Tab' || !ref.current) return
    const items = [...ref.current.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.offsetParent !== null || el === document.activeElement)
    const first = items[0]
    const last = items[items.length - 1]
    if (!first || !last) {
      event.preventDefault()
      return
    }
    if (event.shiftKey && (document.activeElement === first || !ref.current.contains(document.activeElement))) {
      event.preventDefault()
      last.focus()
    } else if (!event.shiftKey && (document.activeElement === last || !ref.current.contains(document.activeElement))) {
      event.preventDefault()
      first.focus()
    }
  }

  return (
    <dialog
      ref={ref}
      className={`dialog dialog-${size}${className ? ` ${className}` : ''}`}
      aria-labelledby={titleId}
      aria-describedby={description ? descriptionId : undefined}
      onKeyDown={onKeyDown}
      onCancel={(event) => {
        event.preventDefault()
        onCloseRef.current()
      }}
      onMouseDown={(event) => {
        // A press on the backdrop (the dialog element itself, outside its inner box) closes it.
        if (event.target === ref.current) onCloseRef.current()
      }}
    >
      <div className="dialog-box">
        <header className="dialog-header">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="icon-button" aria-label="Close dialog" onClick={() => onCloseRef.current()}>
            ×
          </button>
        </header>
        {description ? (
          <p id={descriptionId} className="dialog-description">
            {description}
          </p>
        ) : null}
        <div className="dialog-body">{children}</div>
        <footer className="dialog-footer">
          {footer ?? (
            <button type="button" className="button" onClick={() => onCloseRef.current()}>
              Close
            </button>
          )}
        </footer>
      </div>
    </dialog>
  )
}

interface ConfirmProps {
  title: string
  children: ReactNode
  confirmLabel: string
  onConfirm: () => void | Promise<void>
  onCancel: () => void
  busy?: boolean
  danger?: boolean
}

/** "Delete X?" with Cancel focused first, so Enter on an accidental open does nothing harmful. */
export function ConfirmDialog({ title, children, confirmLabel, onConfirm, onCancel, busy, danger = true }: ConfirmProps) {
  return (
    <Dialog
      title={title}
      size="small"
      onClose={onCancel}
      footer={
        <>
          <button type="button" className="button" onClick={onCancel} data-autofocus>
            Cancel
          </button>
          <button type="button" className={danger ? 'button button-danger' : 'button button-primary'} disabled={busy} onClick={() => void onConfirm()}>
            {busy ? 'Working…' : confirmLabel}
          </button>
        </>
      }
    >
      {children}
    </Dialog>
  )
}

interface FormDialogProps {
  title: string
  onClose: () => void
  onSubmit: (event: FormEvent<HTMLFormElement>) => void
  /** The submit button's label, and its label while the request runs. */
  submitLabel: string
  busyLabel: string
  busy: boolean
  children: ReactNode
}

/** A dialog around one form, with Cancel and a submit button that shows when the request runs. */
export function FormDialog({ title, onClose, onSubmit, submitLabel, busyLabel, busy, children }: FormDialogProps) {
  const formId = useId()
  return (
    <Dialog
      title={title}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form={formId} className="button button-primary" disabled={busy}>
            {busy ? busyLabel : submitLabel}
          </button>
        </>
      }
    >
      <form id={formId} className="form" onSubmit={onSubmit}>
        {children}
      </form>
    </Dialog>
  )
}
