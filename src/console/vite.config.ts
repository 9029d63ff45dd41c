import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The console is served by Fastify under /console/ from dist/console (src/http/console/static.ts).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../../dist/console', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1024,
  },
  server: { proxy: { '/v1': 'http://127.0.0.1:8025' } },
});
