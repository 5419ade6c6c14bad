/**
 * The benchmark's second gateway anchor (issue #17, docs/performance.md "Where the gateway's time goes"):
 * the bare proxy's work on Fastify, plus what any preset gateway does to a request: the body parsed, a
 * preset's params and system prompt merged in, the provider's JSON parsed and its `model` renamed (a
 * stream is piped as is). No accounts, no access rules, no usage or metrics: the floor a Fastify gateway
 * with presets cannot go below, between the bare proxy and modelgate. Started by bench/run.ts like the
 * proxy, with the provider's base URL as its argument; prints its URL; the key is `bench-proxy-key`.
 */
import Fastify from 'fastify'
import { Agent } from 'undici'

const upstream = new URL(process.argv[2] ?? 'http://127.0.0.1:1/v1')
const pool = new Agent({ keepAliveTimeout: 30_000, connections: 256 })
const preset = { params: { temperature: 0.5 }, system: 'Be brief.' }

interface ChatBody {
  model: string
  messages: unknown[]
  stream?: boolean
}

const app = Fastify({ logger: false })
app.post<{ Body: ChatBody }>('/v1/chat/completions', async (request, reply) => {
  if (request.headers.authorization !== 'Bearer bench-proxy-key') return reply.code(401).send({ detail: 'unknown key' })
  const body = { ...preset.params, ...request.body, messages: [{ role: 'system', content: preset.system }, ...request.body.messages] }
  const answer = await pool.request({
    origin: upstream.origin,
    path: `${upstream.pathname}/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const type = String(answer.headers['content-type'] ?? 'application/json')
  if (body.stream === true) return reply.status(answer.statusCode).type(type).send(answer.body)
  const json = JSON.parse(await answer.body.text()) as Record<string, unknown>
  return reply
    .status(answer.statusCode)
    .type('application/json; charset=utf-8')
    .send(JSON.stringify({ ...json, model: request.body.model }))
})

const address = await app.listen({ port: 0, host: '127.0.0.1' })
console.log(address)
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
