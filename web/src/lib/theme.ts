/**
 * The colour theme (issue #16 item 1): light, dark, or the system's. modelgate keeps no per-user
 * settings on the server, so the choice lives in this browser's localStorage under `theme` (Open WebUI's
 * key and values), and is applied as `data-theme` on <html> (styles.css); "system" removes it and the
 * `prefers-color-scheme` query decides.
 */
export type Theme = 'light' | 'dark' | 'system'

export const THEME_KEY = 'theme'

/** A stored value as a theme (anything else, Open WebUI's `oled-dark` included, reads as its nearest). */
export function parseTheme(value: string | null | undefined): Theme {
  if (value === 'light') return 'light'
  if (value === 'dark' || value === 'oled-dark') return 'dark'
  return 'system'
}

export function storedTheme(): Theme {
  try {
    return parseTheme(localStorage.getItem(THEME_KEY))
  } catch {
    return 'system'
  }
}

export function applyTheme(theme: Theme): void {
  const root = document.documentElement
  if (theme === 'system') root.removeAttribute('data-theme')
  else root.setAttribute('data-theme', theme)
}

export function saveTheme(theme: Theme): void {
  try {
    localStorage.setItem(THEME_KEY, theme)
  } catch {
    // storage refused (private mode): the theme still applies to this page
  }
  applyTheme(theme)
}
