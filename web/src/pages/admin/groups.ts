/**
 * How the Groups page names who keeps a group's members (`managed_by`), apart from React (tested in Node:
 * groups.test.ts). Which edits are refused is the server's rule (`requireHandManagedGroup`); the page only
 * hides what would be refused and says where to make the change.
 */
import type { Group } from '../../api/client'

export interface ManagedText {
  /** The badge beside the group's name. */
  badge: string
  /** The badge's tooltip. */
  title: string
  /** Under the name field. */
  nameHint: string
  /** Under the member list, instead of the member picker. */
  membersHint: string
}

/** What the page says about a group an identity provider keeps; null for a group administered here. */
export function managedText(managedBy: Group['managed_by']): ManagedText | null {
  if (managedBy === 'scim') {
    return {
      badge: 'SCIM',
      title: 'Members come from the identity provider (SCIM provisioning)',
      nameHint:
        'Provisioned through SCIM: the name and the members come from the identity provider, which keeps them up to date. Permissions and model access are set here.',
      membersHint: 'Members are provisioned by the identity provider through SCIM; change them there.',
    }
  }
  if (managedBy === 'oidc') {
    return {
      badge: 'SSO',
      title: 'Members come from the identity provider (single sign-on)',
      nameHint:
        'Managed by single sign-on: the name and the members come from the identity provider and are synced at each sign-in. Permissions and model access are set here.',
      membersHint: 'Members are synced from the identity provider at each sign-in; change them there.',
    }
  }
  return null
}
