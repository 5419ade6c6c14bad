import { builtinModules } from 'node:module'
import { defineConfig, type Plugin } from 'vite'
import react from '@vitejs/plugin-react'

// Run from the repository root with `vite build --config web/vite.config.ts`: the root is this folder,
// whatever the working directory, and the build lands in web/dist, which the server serves at `/`.
const root = decodeURIComponent(new URL('.', import.meta.url).pathname)
const repo = decodeURIComponent(new URL('..', import.meta.url).pathname)

const BUILTINS = new Set(builtinModules)

/** Fails the build when anything the browser loads imports a Node built-in (fs, net, …). */
function noNodeBuiltins(): Plugin {
  return {
    name: 'modelgate:no-node-builtins',
    enforce: 'pre',
    resolveId(source, importer) {
      const builtin = source.startsWith('node:') || BUILTINS.has(source.split('/')[0] ?? '')
      if (!builtin || !importer) return null
      const from = importer.startsWith(repo) ? importer.slice(repo.length) : importer
      this.error(`${from} imports the Node built-in "${source}": the web bundle must not (web/vite.config.ts)`)
      return null
    },
  }
}

export default defineConfig({
  root,
  base: '/',
  plugins: [noNodeBuiltins(), react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    rolldownOptions: {
      output: {
        // Libraries change less often than the app: their own chunks stay cached across releases.
        codeSplitting: {
          groups: [
            { name: 'react', test: /node_modules[\\/](react|react-dom|scheduler)[\\/]/ },
            { name: 'zod', test: /node_modules[\\/]zod[\\/]/ },
            { name: 'libs', test: /node_modules[\\/]/ },
          ],
        },
      },
    },
  },
  server: {
    // `npx vite --config web/vite.config.ts` during development: the API comes from `npm run dev`.
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
})
