import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { lazyChildLoggerFactory } from './lazy-child-logger.js'

function capture(level: string) {
  const lines: Record<string, unknown>[] = []
  const logger = pino({ level }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) })
  return { logger, lines }
}

describe('lazyChildLoggerFactory', () => {
  it('writes what the real child writes (bindings included), and nothing below the level', () => {
    const { logger, lines } = capture('info')
    const child = lazyChildLoggerFactory.call(undefined as never, logger, { reqId: 'r-1' }, {}, undefined as never)
    child.debug({ a: 1 }, 'below the level')
    expect(lines).toEqual([])
    child.warn({ a: 2 }, 'a warning')
    child.info('plain')
    expect(lines.map(({ reqId, a, msg, level }) => ({ reqId, a, msg, level }))).toEqual([
      { reqId: 'r-1', a: 2, msg: 'a warning', level: 40 },
      { reqId: 'r-1', a: undefined, msg: 'plain', level: 30 },
    ])
    expect(child.level).toBe('info')
    expect((child as unknown as { isLevelEnabled(level: string): boolean }).isLevelEnabled('debug')).toBe(false)
  })

  it("follows a level set on the child, and a route's own level gets a real child", () => {
    const { logger, lines } = capture('warn')
    const child = lazyChildLoggerFactory.call(undefined as never, logger, { reqId: 'r-2' }, {}, undefined as never)
    child.level = 'debug'
    child.debug('now written')
    expect(lines.map((line) => [line['reqId'], line['msg']])).toEqual([['r-2', 'now written']])
    const routeChild = lazyChildLoggerFactory.call(undefined as never, logger, { reqId: 'r-3' }, { level: 'trace' }, undefined as never)
    routeChild.trace('traced')
    expect(lines.at(-1)).toMatchObject({ reqId: 'r-3', msg: 'traced' })
    child.child({ part: 'x' }).error('from a grandchild')
    expect(lines.at(-1)).toMatchObject({ reqId: 'r-2', part: 'x', msg: 'from a grandchild' })
  })
})
