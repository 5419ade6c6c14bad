/**
 * Optional peers for S9 (`--peers`): Portkey's open-source gateway (npm `@portkey-ai/gateway`),
 * installed on demand into bench/.peers (git-ignored, never the project's package.json) and started
 * in front of the same fake provider. When it cannot be installed or started, the caller prints why
 * and the run goes on without it.
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { freePort } from '../test/support/timing.js'

export interface Peer {
  name: string
  chatUrl: string
  headers: Record<string, string>
  stop(): void
}

const PEERS = fileURLToPath(new URL('./.peers', import.meta.url))
const PORTKEY = `${PEERS}/node_modules/@portkey-ai/gateway`

export async function startPortkey(providerUrl: string): Promise<Peer | { why: string }> {
  if (!existsSync(`${PORTKEY}/package.json`)) {
    mkdirSync(PEERS, { recursive: true })
    writeFileSync(`${PEERS}/.gitignore`, '*\n')
    try {
      execFileSync('npm', ['install', '--prefix', PEERS, '--no-audit', '--no-fund', '--loglevel=error', '@portkey-ai/gateway'], {
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: 300_000,
      })
    } catch (error) {
      return {
        why: `npm install @portkey-ai/gateway failed: ${String((error as { stderr?: Buffer }).stderr ?? (error as Error).message)
          .trim()
          .slice(0, 300)}`,
      }
    }
  }
  const pkg = JSON.parse(readFileSync(`${PORTKEY}/package.json`, 'utf8')) as { version?: string; bin?: string | Record<string, string> }
  const bin = typeof pkg.bin === 'string' ? pkg.bin : Object.values(pkg.bin ?? {})[0]
  if (!bin) return { why: `@portkey-ai/gateway ${pkg.version ?? ''} has no bin entry to start` }
  const port = await freePort()
  const child = spawn(process.execPath, [`${PORTKEY}/${bin}`, `--port=${port}`], { stdio: ['ignore', 'ignore', 'pipe'], cwd: PEERS })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-500)))
  const stop = () => void child.kill('SIGTERM')
  const peer: Peer = {
    name: `Portkey gateway ${pkg.version ?? ''}`.trim(),
    chatUrl: `http://127.0.0.1:${port}/v1/chat/completions`,
    // Portkey's way to reach an OpenAI-compatible server of one's own: the provider and its base URL as headers.
    headers: { authorization: 'Bearer sk-bench', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${providerUrl}/v1` },
    stop,
  }
  const body = JSON.stringify({ model: 'llama3.1:8b', messages: [{ role: 'user', content: 'hello' }] })
  let last = 'no answer'
  for (let i = 0; i < 100 && child.exitCode === null; i++) {
    try {
      const response = await fetch(peer.chatUrl, { method: 'POST', headers: { ...peer.headers, 'content-type': 'application/json' }, body })
      if (response.ok) return peer
      last = `HTTP ${response.status} ${(await response.text()).slice(0, 200)}`
    } catch (error) {
      last = (error as Error).message
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  stop()
  return { why: `it did not answer a chat request through it (${last}${stderr ? `; stderr: ${stderr.trim()}` : ''})` }
}
