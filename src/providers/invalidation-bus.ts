/**
 * Tells every instance that something cached changed: provider data (a connection was added, edited,
 * removed or refreshed) and the database topics of the gateway caches (`accounts`, `registry`:
 * src/db/write-watch.ts). Without REDIS_URL on SQLite there is one instance and the bus is local; with
 * REDIS_URL messages travel over Redis pub/sub, on PostgreSQL without it over LISTEN/NOTIFY
 * (src/db/pg-notify-bus.ts), so that several instances behind a load balancer drop the same entries.
 * `connected` says whether other instances' messages are heard now: caches that revocation depends on
 * are bypassed while it is false (docs/performance.md, "Gateway caches").
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'

export interface InvalidationBus {
  /** Announces that `topic` changed; local subscribers hear it too. */
  publish(topic: string): void
  subscribe(handler: (topic: string) => void): void
  /** Whether messages of other instances are heard now (false while (re)connecting). */
  readonly connected: boolean
  /** Hears every change of `connected`. */
  onConnectedChange(handler: (connected: boolean) => void): void
  close(): Promise<void>
}

export class LocalBus implements InvalidationBus {
  private readonly handlers: ((topic: string) => void)[] = []
  /** One process: nothing to miss. */
  readonly connected = true
  onConnectedChange(): void {}
  publish(topic: string): void {
    for (const handler of this.handlers) handler(topic)
  }
  subscribe(handler: (topic: string) => void): void {
    this.handlers.push(handler)
  }
  close(): Promise<void> {
    return Promise.resolve()
  }
}

const CHANNEL = 'modelgate:invalidate'

export class RedisBus implements InvalidationBus {
  private readonly local = new LocalBus()
  private readonly instanceId = randomUUID()
  private readonly publisher: Redis
  private readonly subscriber: Redis
  private isConnected = false
  private readonly stateHandlers: ((connected: boolean) => void)[] = []
  /** Topics whose publication failed: sent again when the publisher is back. */
  private readonly unsent = new Set<string>()

  constructor(url: string, onError: (error: Error) => void) {
    // A Redis outage must not take the service down: caches that need the bus are bypassed meanwhile.
    const options = { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false }
    this.publisher = new Redis(url, options)
    this.subscriber = new Redis(url, options)
    this.publisher.on('error', onError)
    this.subscriber.on('error', onError)
    // Heard again only once SUBSCRIBE is acknowledged on the new connection (messages before it are lost).
    this.subscriber.on('ready', () => {
      this.subscriber.subscribe(CHANNEL).then(
        () => this.setConnected(this.subscriber.status === 'ready'),
        (error: unknown) => onError(error instanceof Error ? error : new Error(String(error))),
      )
    })
    for (const event of ['close', 'reconnecting', 'end']) this.subscriber.on(event, () => this.setConnected(false))
    this.publisher.on('ready', () => {
      const topics = [...this.unsent]
      this.unsent.clear()
      for (const topic of topics) this.send(topic)
    })
    this.subscriber.on('message', (_channel: string, message: string) => {
      const [sender, topic] = message.split('|', 2)
      if (sender !== this.instanceId && topic) this.local.publish(topic)
    })
  }

  get connected(): boolean {
    return this.isConnected
  }

  onConnectedChange(handler: (connected: boolean) => void): void {
    this.stateHandlers.push(handler)
  }

  private setConnected(connected: boolean): void {
    if (connected === this.isConnected) return
    this.isConnected = connected
    for (const handler of this.stateHandlers) handler(connected)
  }

  private send(topic: string): void {
    void this.publisher.publish(CHANNEL, `${this.instanceId}|${topic}`).catch(() => this.unsent.add(topic))
  }

  /** Resolves once both connections are ready, or rejects after `timeoutMs` (Redis unreachable). */
  async ready(timeoutMs = 5000): Promise<void> {
    const waitFor = (client: Redis) => (client.status === 'ready' ? Promise.resolve() : new Promise<void>((resolve) => client.once('ready', () => resolve())))
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis not ready within ${timeoutMs} ms`)), timeoutMs)
    })
    try {
      await Promise.race([Promise.all([waitFor(this.publisher), waitFor(this.subscriber)]), timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  publish(topic: string): void {
    this.local.publish(topic)
    this.send(topic)
  }

  subscribe(handler: (topic: string) => void): void {
    this.local.subscribe(handler)
  }

  async close(): Promise<void> {
    this.setConnected(false)
    this.publisher.disconnect()
    this.subscriber.disconnect()
    return Promise.resolve()
  }
}
