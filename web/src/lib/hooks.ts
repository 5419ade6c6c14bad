import { useCallback, useEffect, useRef, useState } from 'react'

/** `value`, once it has stopped changing for `ms` milliseconds. */
export function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value)
  useEffect(() => {
    const timer = window.setTimeout(() => setDebounced(value), ms)
    return () => window.clearTimeout(timer)
  }, [value, ms])
  return debounced
}

export interface Resource<T> {
  data: T | undefined
  error: unknown
  loading: boolean
  reload: () => void
  /** Replaces the data in place (after a write whose answer is the new state). */
  setData: (update: (current: T | undefined) => T | undefined) => void
}

/**
 * Loads `load()` when `deps` change (and on `reload()`); answers of superseded loads are dropped, so a
 * slow old search never overwrites a newer one.
 */
export function useResource<T>(load: () => Promise<T>, deps: readonly unknown[]): Resource<T> {
  const [data, setDataState] = useState<T | undefined>(undefined)
  const [error, setError] = useState<unknown>(undefined)
  const [loading, setLoading] = useState(true)
  const [nonce, setNonce] = useState(0)
  const loadRef = useRef(load)
  loadRef.current = load

  useEffect(() => {
    let current = true
    setLoading(true)
    loadRef.current().then(
      (value) => {
        if (!current) return
        setDataState(value)
        setError(undefined)
        setLoading(false)
      },
      (failure: unknown) => {
        if (!current) return
        setError(failure)
        setLoading(false)
      },
    )
    return () => {
      current = false
    }
  }, [...deps, nonce])

  const reload = useCallback(() => setNonce((n) => n + 1), [])
  const setData = useCallback((update: (current: T | undefined) => T | undefined) => setDataState(update), [])
  return { data, error, loading, reload, setData }
}

/** A stored preference (localStorage), falling back to `initial` when absent or not one of `allowed`. */
export function useStoredChoice<T extends string>(key: string, initial: T, allowed: readonly T[]): [T, (value: T) => void] {
  const [value, setValue] = useState<T>(() => {
    try {
      const stored = localStorage.getItem(key)
      return allowed.includes(stored as T) ? (stored as T) : initial
    } catch {
      return initial
    }
  })
  const update = useCallback(
    (next: T) => {
      setValue(next)
      try {
        localStorage.setItem(key, next)
      } catch {
        // Storage full or blocked: the choice lasts for this page only.
      }
    },
    [key],
  )
  return [value, update]
}
