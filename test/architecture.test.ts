/**
 * The dependency picture of ARCHITECTURE.md stays true (issue #11): every import between the units of
 * src/ (its folders, services.ts, main.ts; the HTTP layer is src/http plus every *.routes.ts) is an
 * arrow of the picture, every arrow is used by some import, and the graph has no cycle. ESLint reads the
 * same picture (eslint.config.js) to flag a forbidden import where it is written; this test also
 * catches what path patterns cannot: an arrow nobody uses any more, a cycle, an import out of src/.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '..')
const SRC = join(ROOT, 'src')

/** The unit a file of src/ belongs to. */
export function unitOf(file: string): string {
  const parts = relative(SRC, file).split(sep)
  if (parts.length === 1) return (parts[0] ?? '').replace(/\.(ts|js)$/, '')
  if (/\.routes\.(ts|js)$/.test(file)) return 'http'
  return parts[0] ?? ''
}

/** Relative module specifiers of a source text: static and dynamic imports, re-exports. */
export function importsOf(text: string): string[] {
  const found: string[] = []
  const pattern = /(?:^|[^\w$.])(?:(?:import|export)\s[^'";]*?\bfrom\s*|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]*)['"]/g
  for (const match of text.matchAll(pattern)) if (match[1]) found.push(match[1])
  return found
}

interface Graph {
  edges: Set<string>
  /** For each edge, the files that make it (for failure messages). */
  because: Map<string, Set<string>>
  outside: string[]
}

function actualGraph(): Graph {
  const files = (readdirSync(SRC, { recursive: true }) as string[])
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
    .map((name) => join(SRC, name))
  const graph: Graph = { edges: new Set(), because: new Map(), outside: [] }
  for (const file of files) {
    for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
      const target = resolve(dirname(file), specifier)
      if (!target.startsWith(SRC + sep)) {
        graph.outside.push(`${relative(ROOT, file)} imports ${specifier}`)
        continue
      }
      const from = unitOf(file)
      const to = unitOf(target)
      if (from === to) continue
      const edge = `${from} --> ${to}`
      graph.edges.add(edge)
      graph.because.set(edge, (graph.because.get(edge) ?? new Set()).add(relative(ROOT, file)))
    }
  }
  return graph
}

/** The arrows of the one mermaid `graph` block of ARCHITECTURE.md; any other line in it is an error. */
export function pictureOf(markdown: string): Set<string> {
  const blocks = [...markdown.matchAll(/```mermaid\n(graph\b[^\n]*)\n([\s\S]*?)```/g)]
  if (blocks.length !== 1) throw new Error(`ARCHITECTURE.md must hold exactly one mermaid graph, found ${blocks.length}`)
  const edges = new Set<string>()
  for (const line of (blocks[0]?.[2] ?? '').split('\n')) {
    if (line.trim() === '' || line.trim().startsWith('%%')) continue
    const arrow = /^\s*(\w+)\s*-->\s*(\w+)\s*$/.exec(line)
    if (!arrow) throw new Error(`ARCHITECTURE.md dependency picture: cannot read "${line}" (write "from --> to")`)
    edges.add(`${arrow[1]} --> ${arrow[2]}`)
  }
  return edges
}

/** A cycle of the graph as a path (first node repeated at the end), or undefined. */
export function findCycle(edges: Iterable<string>): string[] | undefined {
  const next = new Map<string, string[]>()
  for (const edge of edges) {
    const [from = '', to = ''] = edge.split(' --> ')
    next.set(from, [...(next.get(from) ?? []), to])
  }
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined
    if (state.get(node) === 'open') return [...stack.slice(stack.indexOf(node)), node]
    state.set(node, 'open')
    stack.push(node)
    for (const to of next.get(node) ?? []) {
      const cycle = visit(to)
      if (cycle) return cycle
    }
    stack.pop()
    state.set(node, 'done')
    return undefined
  }
  for (const node of [...next.keys()].sort()) {
    const cycle = visit(node)
    if (cycle) return cycle
  }
  return undefined
}

describe('the dependency picture (ARCHITECTURE.md)', () => {
  const actual = actualGraph()
  const picture = pictureOf(readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8'))

  it('has no import leaving src/', () => {
    expect(actual.outside).toEqual([])
  })

  it('shows every import between units', () => {
    const missing = [...actual.edges].filter((edge) => !picture.has(edge)).sort()
    expect(missing.map((edge) => `${edge} (${[...(actual.because.get(edge) ?? [])].join(', ')})`)).toEqual([])
  })

  it('shows no arrow that no import makes', () => {
    expect([...picture].filter((edge) => !actual.edges.has(edge)).sort()).toEqual([])
  })

  it('has no cycle between units (auth → users, never back)', () => {
    expect(findCycle(actual.edges)).toBeUndefined()
    expect(actual.edges.has('auth --> users')).toBe(true)
    expect(actual.edges.has('users --> auth')).toBe(false)
  })

  it('keeps src/access free of features', () => {
    const features = new Set(['auth', 'users', 'groups', 'models', 'providers', 'gateway', 'http', 'services', 'main'])
    expect([...actual.edges].filter((edge) => edge.startsWith('access --> ') && features.has(edge.slice('access --> '.length)))).toEqual([])
  })
})

describe('the checks themselves', () => {
  it('read static, dynamic, side-effect and multi-line imports and re-exports, not packages', () => {
    const text = [
      "import type { A } from '../a/a.js'",
      "import {\n  b,\n  c,\n} from './b.js'",
      "export { d } from '../d/d.js'",
      "export * from '../e/e.js'",
      "import '../f/f.js'",
      "const g = await import('../g/g.js')",
      "import { z } from 'zod'",
      'const s = \'from "../not/an-import.js"\'',
    ].join('\n')
    expect(importsOf(text)).toEqual(['../a/a.js', './b.js', '../d/d.js', '../e/e.js', '../f/f.js', '../g/g.js'])
  })

  it('put routes files in the HTTP layer and top-level files in units of their own', () => {
    expect(unitOf(join(SRC, 'users', 'users.routes.ts'))).toBe('http')
    expect(unitOf(join(SRC, 'users', 'users.service.ts'))).toBe('users')
    expect(unitOf(join(SRC, 'db', 'migrations', '0001_x.ts'))).toBe('db')
    expect(unitOf(join(SRC, 'services.ts'))).toBe('services')
  })

  it('find a cycle and accept a layered graph', () => {
    expect(findCycle(['a --> b', 'b --> c', 'c --> a'])).toEqual(['a', 'b', 'c', 'a'])
    expect(findCycle(['a --> b', 'a --> c', 'b --> c'])).toBeUndefined()
  })

  it('refuse a picture line they cannot read', () => {
    expect(() => pictureOf('```mermaid\ngraph TD\n  a --> b\n  a -> c\n```')).toThrow(/cannot read/)
    expect(pictureOf('```mermaid\ngraph TD\n  a --> b\n  %% note\n```')).toEqual(new Set(['a --> b']))
  })
})
