/**
 * The V8 flags the server is started with, everywhere it is started as deployed (`npm start`, the
 * Dockerfile, the benchmark). Under load V8's defaults let garbage grow the heap to 130–200 MB before a
 * full collection while the live heap stays at 40–55 MB; a smaller young generation and slower heap
 * growth keep peak RSS under 200 MB at a cost within the benchmark's noise (docs/performance.md, "Memory").
 * No `--max-old-space-size`: a hard limit turns a large import into a crash. Flags set after start-up
 * (v8.setFlagsFromString) do not move heap limits, so they must be on the command line.
 * test/deploy-files.test.ts checks that package.json and the Dockerfile use exactly these.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--heap-growing-percent=25']
