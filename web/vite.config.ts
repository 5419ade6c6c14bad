import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

// Run from the repository root with `vite build --config web/vite.config.ts`: the root is this folder,
// whatever the working directory, and the build lands in web/dist, which the server serves at `/`.
const root = decodeURIComponent(new URL('.', import.meta.url).pathname)

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
  },
  server: {
    // `npx vite --config web/vite.config.ts` during development: the API comes from `npm run dev`.
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
})
