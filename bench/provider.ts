/**
 * The benchmark's fast fake provider, in a process of its own; prints its URL on the first line. An optional
 * first argument, a JSON object of FakeProviderOptions, replaces the defaults it names (bench/analytics-day.ts
 * passes its models, a flaky one (`failEvery`), per-model speeds (`msPerToken`) and `countTokens`).
 */
import { startFakeProvider, type FakeProviderOptions } from '../test/support/fake-provider.js'

const overrides = process.argv[2] ? (JSON.parse(process.argv[2]) as FakeProviderOptions) : {}
const provider = await startFakeProvider({ models: ['llama3.1:8b', 'qwen2.5:7b', 'mistral:7b', 'gemma2:9b'], chunks: 3, ...overrides })
console.log(provider.url)
process.on('SIGTERM', () => {
  void provider.close().then(() => process.exit(0))
})
