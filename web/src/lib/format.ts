/** Small helpers for display and files. */

export function formatDate(epochSeconds: number | null | undefined): string {
  if (!epochSeconds) return '—'
  return new Date(epochSeconds * 1000).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}

export function timeAgo(epochSeconds: number | null | undefined): string {
  if (!epochSeconds) return 'never'
  const seconds = Math.round(Date.now() / 1000 - epochSeconds)
  if (seconds < 5) return 'just now'
  if (seconds < 60) return `${seconds} s ago`
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`
  return formatDate(epochSeconds)
}

/** The id a new model gets from its name: lowercase, spaces to `-`, other characters outside [a-z0-9-] dropped. */
export function slugify(name: string): string {
  return name
    .toLowerCase()
    .trim()
    .replace(/\s+/g, '-')
    .replace(/[^a-z0-9-]/g, '')
}

/** Offers `blob` as a download named `filename`. */
export function downloadBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = filename
  link.style.display = 'none'
  document.body.append(link)
  link.click()
  link.remove()
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

export function downloadJson(value: unknown, filename: string): void {
  downloadBlob(new Blob([JSON.stringify(value, null, 2)], { type: 'application/json' }), filename)
}

/** A file name fragment from any id (`meta-llama/Llama-3.1` → `meta-llama_Llama-3.1`). */
export function fileSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80) || 'model'
}

export function timestampForFile(date = new Date()): string {
  return date.toISOString().replace(/[:]/g, '-').replace(/\..+$/, '')
}

/** Reads an image file and scales it to fit in `max`×`max` pixels; answers a PNG data URI. */
export async function resizeImage(file: File, max = 128): Promise<string> {
  if (!file.type.startsWith('image/')) throw new Error('Choose an image file (PNG, JPEG, GIF, WebP or SVG).')
  const url = URL.createObjectURL(file)
  try {
    const image = new Image()
    image.src = url
    await image.decode()
    const width = image.naturalWidth || max
    const height = image.naturalHeight || max
    const scale = Math.min(1, max / width, max / height)
    const canvas = document.createElement('canvas')
    canvas.width = Math.max(1, Math.round(width * scale))
    canvas.height = Math.max(1, Math.round(height * scale))
    const context = canvas.getContext('2d')
    if (!context) throw new Error('This browser cannot resize images.')
    context.drawImage(image, 0, 0, canvas.width, canvas.height)
    return canvas.toDataURL('image/png')
  } catch (error) {
    throw error instanceof Error && error.message.startsWith('Choose') ? error : new Error('That file could not be read as an image.')
  } finally {
    URL.revokeObjectURL(url)
  }
}
