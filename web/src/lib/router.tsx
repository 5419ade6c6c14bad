/**
 * A tiny history-API router: the workspace has a handful of pages, so a dependency is not worth it.
 * `useLocation()` re-renders on navigation; `<Link>` is a real link (new tab, copy link work) that
 * navigates in place on a plain click.
 */
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react'

const listeners = new Set<() => void>()

function emit(): void {
  for (const listener of listeners) listener()
}

if (typeof window !== 'undefined') window.addEventListener('popstate', emit)

function subscribe(listener: () => void): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

/** Called after every navigation (links, navigate(), back and forward): notices use it (lib/notify.tsx). */
export function onNavigate(listener: () => void): () => void {
  return subscribe(listener)
}

const snapshot = () => window.location.pathname + window.location.search

/**
 * Where to go after signing in: `next` when it is a path of this site, else `fallback`. A path starts
 * with one `/`; `//host` and `/\host` (browsers read a backslash as a slash) name another site.
 */
export function safeNext(next: string | null, fallback: string): string {
  return next !== null && /^\/(?![/\\])/.test(next) ? next : fallback
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === snapshot()) return
  if (options.replace) window.history.replaceState(null, '', to)
  else window.history.pushState(null, '', to)
  window.scrollTo(0, 0)
  emit()
}

export interface Location {
  pathname: string
  search: URLSearchParams
  href: string
}

export function useLocation(): Location {
  const href = useSyncExternalStore(subscribe, snapshot)
  const url = new URL(href, window.location.origin)
  return { pathname: url.pathname, search: url.searchParams, href }
}

type LinkProps = Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> & { to: string }

export function Link({ to, onClick, ...props }: LinkProps) {
  const handle = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event)
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    event.preventDefault()
    navigate(to)
  }
  return <a href={to} onClick={handle} {...props} />
}
