/**
 * Short messages ("Model deleted", "You do not have permission to edit this model") shown in a live
 * region that survives navigation, so a page can redirect and still say why.
 */
import { useSyncExternalStore } from 'react'

export type NoticeKind = 'info' | 'success' | 'error'
export interface Notice {
  id: number
  kind: NoticeKind
  message: string
}

let notices: Notice[] = []
let nextId = 1
const listeners = new Set<() => void>()

function set(next: Notice[]): void {
  notices = next
  for (const listener of listeners) listener()
}

export function dismiss(id: number): void {
  set(notices.filter((notice) => notice.id !== id))
}

export function notify(message: string, kind: NoticeKind = 'info'): void {
  const id = nextId++
  set([...notices.slice(-2), { id, kind, message }])
  window.setTimeout(() => dismiss(id), kind === 'error' ? 8000 : 4000)
}

export function Notices() {
  const list = useSyncExternalStore(
    (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    () => notices,
  )
  return (
    <div className="notices" aria-live="polite" aria-relevant="additions">
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
