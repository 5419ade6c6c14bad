/** The account page's pure rules (tested in Node): what the password form refuses before sending. */

/** The server's minimum (PASSWORD_MIN_LENGTH's default); the server's own answer is shown when it differs. */
export const PASSWORD_MIN = 8

/** Why the password form cannot be sent, or null. */
export function passwordProblem(current: string, next: string, again: string): string | null {
  if (!current) return 'Type your current password.'
  if (next.length < PASSWORD_MIN) return `The new password must have at least ${PASSWORD_MIN} characters.`
  if (next.length > 256) return 'The new password must have at most 256 characters.'
  if (next !== again) return 'The two new passwords differ.'
  if (next === current) return 'The new password is the same as the current one.'
  return null
}
