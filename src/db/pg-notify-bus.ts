/**
 * The invalidation bus over PostgreSQL's LISTEN/NOTIFY, for several instances on one PostgreSQL without
 * REDIS_URL (the shape of src/providers/invalidation-bus.ts's InvalidationBus). One dedicated client
 * LISTENs and NOTIFYs; while it is down (connecting, reconnecting) `connected` is false, topics to send
 * are kept and sent once it is back, and it reconnects with a growing pause (up to 2 s).
 */
import { randomUUID } from 'node:crypto'
import pg from 'pg'

const CHANNEL = 'modelgate_invalidate'

export class PgNotifyBus {
  private readonly instanceId = randomUUID()
  private readonly handlers: ((topic: string) => void)[] = []
  private readonly stateHandlers: ((connected: boolean) => void)[] = []
  private readonly unsent = new Set<string>()
  private readonly queued = new Set<string>()
  private flushing = false
  private client: pg.Client | undefined
  private isConnected = false
  private isClosed = false
  private retryMs = 50
  private retryTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly url: string,
    private readonly onError: (error: Error) => void,
  ) {
    void this.connect()
  }

  get connected(): boolean {
    return this.isConnected
  }

  /** Resolves once LISTEN is in place, or rejects after `timeoutMs`. */
  async ready(timeoutMs = 5000): Promise<void> {
    if (this.isConnected) return
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        new Promise<void>((resolve) => this.onConnectedChange((up) => up && resolve())),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`LISTEN not ready within ${timeoutMs} ms`)), timeoutMs))),
      ])
    } finally {
      clearTimeout(timer)
    }
  }

  publish(topic: string): void {
    for (const handler of this.handlers) handler(topic)
    this.send(topic)
  }

  subscribe(handler: (topic: string) => void): void {
    this.handlers.push(handler)
  }

  onConnectedChange(handler: (connected: boolean) => void): void {
    this.stateHandlers.push(handler)
  }

  async close(): Promise<void> {
    this.isClosed = true
    clearTimeout(this.retryTimer)
    this.setConnected(false)
    const client = this.client
    this.client = undefined
    await client?.end().catch(() => undefined)
  }

  /**
   * Queues `topic` for NOTIFY. One query at a time on the listening client (node-postgres refuses to
   * overlap queries on one client); topics queued while one is in flight are sent once, not once per write.
   */
  private send(topic: string): void {
    if (!this.client || !this.isConnected) {
      this.unsent.add(topic)
      return
    }
    this.queued.add(topic)
    if (!this.flushing) void this.flush()
  }

  private async flush(): Promise<void> {
    this.flushing = true
    try {
      while (this.queued.size > 0) {
        const client = this.client
        const topics = [...this.queued]
        this.queued.clear()
        if (!client || !this.isConnected) {
          for (const topic of topics) this.unsent.add(topic)
          return
        }
        for (const topic of topics) {
          await client.query('select pg_notify($1, $2)', [CHANNEL, `${this.instanceId}|${topic}`]).catch(() => this.unsent.add(topic))
        }
      }
    } finally {
      this.flushing = false
    }
  }

  private async connect(): Promise<void> {
    if (this.isClosed) return
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5000 })
    const lost = (error?: Error) => {
      if (error) this.onError(error)
      if (this.client !== client) return
      this.client = undefined
      this.setConnected(false)
      void client.end().catch(() => undefined)
      this.scheduleReconnect()
    }
    client.on('error', lost)
    client.on('end', () => lost())
    client.on('notification', (message) => {
      if (message.channel !== CHANNEL || !message.payload) return
      const [sender, topic] = message.payload.split('|', 2)
      if (sender !== this.instanceId && topic) for (const handler of this.handlers) handler(topic)
    })
    try {
      await client.connect()
      await client.query(`listen ${CHANNEL}`)
    } catch (error) {
      this.onError(error as Error)
      void client.end().catch(() => undefined)
      this.scheduleReconnect()
      return
    }
    if (this.isClosed) {
      await client.end().catch(() => undefined)
      return
    }
    this.client = client
    this.retryMs = 50
    this.setConnected(true)
    const topics = [...this.unsent]
    this.unsent.clear()
    for (const topic of topics) this.send(topic)
  }

  private scheduleReconnect(): void {
    if (this.isClosed || this.retryTimer) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      void this.connect()
    }, this.retryMs)
    this.retryTimer.unref()
    this.retryMs = Math.min(this.retryMs * 2, 2000)
  }

  private setConnected(connected: boolean): void {
    if (connected === this.isConnected) return
    this.isConnected = connected
    for (const handler of this.stateHandlers) handler(connected)
  }
}
