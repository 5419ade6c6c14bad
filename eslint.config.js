// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import reactHooks from 'eslint-plugin-react-hooks'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Import boundaries from the dependency picture of ARCHITECTURE.md (its mermaid graph): a unit of src/
 * (a folder, services.ts, main.ts; the HTTP layer is src/http plus every *.routes.ts) may import only
 * the units it has an arrow to. test/architecture.test.ts checks that the picture equals the real graph.
 */
const picture = new Map()
for (const [, from, to] of (/```mermaid\n(graph[\s\S]*?)```/.exec(readFileSync(join(import.meta.dirname, 'ARCHITECTURE.md'), 'utf8'))?.[1] ?? '').matchAll(
  /^\s*(\w+)\s*-->\s*(\w+)\s*$/gm,
)) {
  picture.set(from, [...(picture.get(from) ?? []), to])
}
const folders = readdirSync(join(import.meta.dirname, 'src'), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
const units = [...new Set([...folders, 'http', 'services', 'main'])]
const FRAMEWORK = { group: ['fastify', 'fastify/*', '@fastify/*'], message: 'Only src/http and *.routes.ts may import the web framework.' }
/** How a file of `unit` would name unit `target`: `../target/…` from a folder, `./target/…` from src/. */
function importOf(unit, target) {
  const up = unit === 'services' || unit === 'main' ? '\\./' : '(\\.\\./)+'
  if (target === 'services' || target === 'main') return `^${up}${target}(\\.js)?$`
  if (target === 'http') return `(^${up}http/)|(\\.routes(\\.js)?$)`
  return `^${up}${target}/`
}
const boundaries = units.map((unit) => {
  const allowed = new Set([unit, ...(picture.get(unit) ?? [])])
  const patterns = units
    .filter((target) => !allowed.has(target))
    .map((target) => ({
      regex: importOf(unit, target),
      message: `"${unit}" may not import "${target}": no such arrow in the dependency picture of ARCHITECTURE.md.`,
    }))
  if (unit !== 'http') patterns.push(FRAMEWORK)
  const files =
    unit === 'http' ? ['src/http/**/*.ts', 'src/**/*.routes.ts'] : unit === 'services' || unit === 'main' ? [`src/${unit}.ts`] : [`src/${unit}/**/*.ts`]
  return {
    files,
    ignores: ['src/**/*.test.ts', ...(unit === 'http' ? [] : ['src/**/*.routes.ts'])],
    rules: { 'no-restricted-imports': ['error', { patterns }] },
  }
})
/** web/src shares only the zod schemas of src (*.schema.ts, src/schema/): one `../` per folder level, plus two. */
const webBoundaries = [0, 1, 2, 3, 4, 5].map((depth) => ({
  files: [`web/src/${'*/'.repeat(depth)}*.{ts,tsx}`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            regex: `^(\\.\\./){${depth + 2}}src/(?!schema/)(?!.*\\.schema(\\.(js|ts))?$)`,
            message: 'The web imports only the zod schemas of src (*.schema.ts, src/schema/).',
          },
        ],
      },
    ],
  },
}))

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'web/dist/**', 'coverage/**', 'test-artifacts/**', 'sdk/src/generated/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      curly: ['error', 'multi-line'],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  // The import boundaries, and the web framework inside src/http and the *.routes.ts files (ARCHITECTURE.md).
  ...boundaries,
  ...webBoundaries,
  {
    files: ['**/*.test.ts', 'test/**/*.ts'],
    // Tests read JSON answers loosely and assert on them; `any` there is the honest type.
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    // The rules of hooks and the React Compiler's checks (issue #11): the web runs with zero warnings.
    ...reactHooks.configs.flat.recommended,
    files: ['web/**/*.ts', 'web/**/*.tsx'],
  },
  { files: ['eslint.config.js', 'scripts/*.mjs'], ...tseslint.configs.disableTypeChecked },
)
