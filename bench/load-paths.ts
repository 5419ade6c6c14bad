/**
 * autocannon over many paths of one server (S10's random model ids), in a process of its own like
 * `load()`: reads `{url, paths, connections, seconds, headers}` as JSON on stdin, sends the paths in
 * turn (the caller shuffles them), and prints autocannon's JSON report on one line.
 */
import { readFileSync } from 'node:fs'
import autocannon from 'autocannon'

interface Config {
  url: string
  paths: string[]
  connections: number
  seconds: number
  headers?: Record<string, string>
}

const config = JSON.parse(readFileSync(0, 'utf8')) as Config
if (config.paths.length === 0) throw new Error('no paths')
let next = 0
const result = await autocannon({
  url: config.url,
  connections: config.connections,
  duration: config.seconds,
  headers: config.headers ?? {},
  requests: [{ setupRequest: (request) => ({ ...request, path: config.paths[next++ % config.paths.length] ?? '/' }) }],
})
console.log(JSON.stringify(result))
