/** The account roles, in a module of their own so the web bundle can share them (no Node import here). */
export const USER_ROLES = ['pending', 'user', 'admin'] as const
export type UserRole = (typeof USER_ROLES)[number]
