/**
 * Fastify gives every request a child of the app's pino logger, bound to the request id. Building one
 * costs ~5 µs (pino serialises the bindings at once), paid by every request although most never write a
 * line (docs/performance.md, "Gateway hot path"). This child asks the parent whether a level is on and
 * builds the real child on the first line actually written; what it writes is what the real child writes.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { FastifyChildLoggerFactory } from 'fastify/types/logger.js'

type Bindings = Record<string, unknown>
type Options = Parameters<FastifyBaseLogger['child']>[1]
type LevelAware = FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean }
type LevelName = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'

class LazyChildLogger {
  private real: FastifyBaseLogger | undefined

  constructor(
    private readonly parent: LevelAware,
    private readonly ownBindings: Bindings,
    private readonly options: Options,
  ) {}

  private get logger(): FastifyBaseLogger {
    this.real ??= this.parent.child(this.ownBindings, this.options)
    return this.real
  }

  private write(level: LevelName, args: unknown[]): void {
    if (!this.real && !this.isLevelEnabled(level)) return
    // pino's LogFn overloads take (object, message, ...values): the caller's arguments, passed on as given.
    const write: (...line: unknown[]) => void = this.logger[level]
    write.apply(this.logger, args)
  }

  get level(): string {
    return this.real ? this.real.level : this.parent.level
  }

  set level(level: string) {
    this.logger.level = level
  }

  isLevelEnabled(level: string): boolean {
    const source = (this.real ?? this.parent) as LevelAware
    // A logger without the question (Fastify's silent one) is asked to write; it decides.
    return typeof source.isLevelEnabled === 'function' ? source.isLevelEnabled(level) : true
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args)
  }
  error(...args: unknown[]): void {
    this.write('error', args)
  }
  warn(...args: unknown[]): void {
    this.write('warn', args)
  }
  info(...args: unknown[]): void {
    this.write('info', args)
  }
  debug(...args: unknown[]): void {
    this.write('debug', args)
  }
  trace(...args: unknown[]): void {
    this.write('trace', args)
  }
  silent(): void {}

  child(bindings: Bindings, options?: Options): FastifyBaseLogger {
    return this.logger.child(bindings, options)
  }

  bindings(): Bindings {
    return (this.logger as FastifyBaseLogger & { bindings(): Bindings }).bindings()
  }
}

/** Fastify's `childLoggerFactory`: a request's logger, built when it first writes. A route's own log level gets the real child at once. */
export const lazyChildLoggerFactory: FastifyChildLoggerFactory = (logger, bindings, options) => {
  if (options.level !== undefined) return logger.child(bindings, options)
  return new LazyChildLogger(logger, bindings, options)
}
