/**
 * Tells every instance that provider data changed (a connection was added, edited, removed or
 * refreshed). Without REDIS_URL there is one instance and the bus is local; with it, messages travel
 * over Redis pub/sub so that several instances behind a load balancer drop the same cache entries.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'

export interface InvalidationBus {
  /** Announces that `topic` changed; local subscribers hear it too. */
  publish(topic: string): void
  subscribe(handler: (topic: string) => void): void
  close(): Promise<void>
}

export class LocalBus implements InvalidationBus {
  private readonly handlers: ((topic: string) => void)[] = []
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

  constructor(url: string, onError: (error: Error) => void) {
    // A Redis outage must not take the service down: caches then just expire by their TTL.
    const options = { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false }
    this.publisher = new Redis(url, options)
    this.subscriber = new Redis(url, options)
    this.publisher.on('error', onError)
    this.subscriber.on('error', onError)
    void this.subscriber.subscribe(CHANNEL).catch(onError)
    this.subscriber.on('message', (_channel: string, message: string) => {
      const [sender, topic] = message.split('|', 2)
      if (sender !== this.instanceId && topic) this.local.publish(topic)
    })
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
    void this.publisher.publish(CHANNEL, `${this.instanceId}|${topic}`).catch(() => undefined)
  }

  subscribe(handler: (topic: string) => void): void {
    this.local.subscribe(handler)
  }

  async close(): Promise<void> {
    this.publisher.disconnect()
    this.subscriber.disconnect()
    return Promise.resolve()
  }
}
