/**
 * Short messages ("Model deleted", "You do not have permission to edit this model") in a live region.
 * A notice survives the navigation it was raised with (a page that redirects still says why: raised in
 * the same task as the navigate), and goes with the next one; signing out removes every notice
 * (issue #16 item 7). They sit at the bottom left, and never cover a form field: the page gets room
 * below for them, and a focused field they would cover is scrolled above them.
 */
import { useLayoutEffect, useRef, useSyncExternalStore } from 'react'
import { onNavigate } from './router'

export type NoticeKind = 'info' | 'success' | 'error'
export interface Notice {
  id: number
  kind: NoticeKind
  message: string
}

let notices: Notice[] = []
let nextId = 1
/** Notices raised in the current task: the navigation that follows them does not remove them. */
const fresh = new Set<number>()
const listeners = new Set<() => void>()

function set(next: Notice[]): void {
  notices = next
  for (const listener of listeners) listener()
}

export function dismiss(id: number): void {
  set(notices.filter((notice) => notice.id !== id))
}

/** Removes every notice (sign-out). */
export function clearNotices(): void {
  if (notices.length > 0) set([])
}

export function notify(message: string, kind: NoticeKind = 'info'): void {
  const id = nextId++
  set([...notices.slice(-2), { id, kind, message }])
  fresh.add(id)
  window.setTimeout(() => fresh.delete(id), 0)
  window.setTimeout(() => dismiss(id), kind === 'error' ? 8000 : 4000)
}

/** What a navigation leaves of `list`: the notices raised with it (exported for the tests). */
export function afterNavigation(list: readonly Notice[], raisedNow: ReadonlySet<number>): Notice[] {
  return list.filter((notice) => raisedNow.has(notice.id))
}

if (typeof window !== 'undefined') {
  onNavigate(() => {
    if (notices.length > 0) set(afterNavigation(notices, fresh))
    // Kept once: the next navigation removes them.
    fresh.clear()
  })
}

const FIELD = 'input, textarea, select, [contenteditable="true"]'

export function Notices() {
  const list = useSyncExternalStore(
    (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    () => notices,
  )
  const box = useRef<HTMLDivElement>(null)

  // Room below the page for the notices, and the focused field kept above them.
  useLayoutEffect(() => {
    const element = box.current
    if (!element) return undefined
    const height = list.length > 0 ? element.offsetHeight : 0
    document.body.style.paddingBottom = height > 0 ? `${height + 24}px` : ''
    const uncover = (target: EventTarget | null) => {
      if (!(target instanceof HTMLElement) || !target.matches(FIELD) || list.length === 0) return
      const field = target.getBoundingClientRect()
      const notice = element.getBoundingClientRect()
      const overlaps = field.bottom > notice.top && field.top < notice.bottom && field.right > notice.left && field.left < notice.right
      if (overlaps) window.scrollBy({ top: field.bottom - notice.top + 12 })
    }
    uncover(document.activeElement)
    const onFocus = (event: FocusEvent) => uncover(event.target)
    document.addEventListener('focusin', onFocus)
    return () => document.removeEventListener('focusin', onFocus)
  }, [list])

  return (
    <div ref={box} className="notices" aria-live="polite" aria-relevant="additions">
      {list.map((notice) => (
        <div key={notice.id} className={`notice notice-${notice.kind}`} role={notice.kind === 'error' ? 'alert' : 'status'}>
          <span>{notice.message}</span>
          <button type="button" className="icon-button" aria-label="Dismiss message" onClick={() => dismiss(notice.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  )
}
