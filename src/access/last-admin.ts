/**
 * The rule that keeps an instance administrable: the last administrator never loses the role, whether
 * an admin edits the account (users), the identity provider deactivates it (SCIM) or a sign-in's claims
 * would demote it (SSO). Each caller decides what follows (a 409, or keeping the role) and holds the
 * admins lock (`modelgate:admins`) while it counts, so two demotions cannot both see two admins.
 * `countAdmins` is called only when the change demotes an admin.
 */
export async function demotesLastAdmin(currentRole: string, nextRole: string | undefined, countAdmins: () => Promise<number>): Promise<boolean> {
  if (currentRole !== 'admin' || nextRole === undefined || nextRole === 'admin') return false
  return (await countAdmins()) <= 1
}
