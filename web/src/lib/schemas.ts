/**
 * The server's own zod schemas, shared with the browser: forms validate with exactly the rules the API
 * applies. This is the only web module that imports from src/ (schema files only).
 */
export { ModelFormSchema, ModelUpdateSchema } from '../../../src/models/models.schema'
export { SigninSchema, SignupSchema, AddUserSchema } from '../../../src/auth/auth.schema'
export { GroupCreateSchema, GroupUpdateSchema } from '../../../src/groups/groups.schema'
export { ConnectionCreateSchema, ConnectionUpdateSchema } from '../../../src/providers/connections.schema'
export { TemplateCreateSchema, TemplateUpdateSchema } from '../../../src/templates/templates.schema'
