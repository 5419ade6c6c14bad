/** The benchmark's fast fake provider, in a process of its own; prints its URL on the first line. */
import { startFakeProvider } from '../test/support/fake-provider.js'

const provider = await startFakeProvider({ models: ['llama3.1:8b', 'qwen2.5:7b', 'mistral:7b', 'gemma2:9b'], chunks: 3 })
console.log(provider.url)
process.on('SIGTERM', () => {
  void provider.close().then(() => process.exit(0))
})
