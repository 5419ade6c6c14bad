/**
 * The benchmark's reference gateway (issue #17): the least a pass-through proxy can do. A static
 * key → provider map, the body forwarded as received, the answer streamed back. No database, no
 * registry, no logs. Started by bench/run.ts as a process of its own with the provider's base URL as its
 * argument; prints its URL on the first line. The key is `bench-proxy-key`.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Agent, request } from 'undici'

const upstreams = new Map([['Bearer bench-proxy-key', process.argv[2] ?? 'http://127.0.0.1:1']])
const pool = new Agent({ keepAliveTimeout: 30_000, connections: 256 })

const server = createServer((req, res) => {
  const upstream = upstreams.get(req.headers.authorization ?? '')
  if (!upstream) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unknown key"}')
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    request(`${upstream}${req.url?.replace(/^\/v1/, '') ?? ''}`, {
      method: req.method as 'POST',
      headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
      body: Buffer.concat(chunks),
      dispatcher: pool,
    }).then(
      (answer) => {
        res.writeHead(answer.statusCode, { 'content-type': String(answer.headers['content-type'] ?? 'application/json') })
        answer.body.pipe(res)
      },
      () => res.writeHead(502).end(),
    )
  })
})
server.keepAliveTimeout = 72_000
server.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
