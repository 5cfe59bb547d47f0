/**
 * `npm run serve`: serves the built site over http on localhost, so the live demos can run (a
 * browser starts no Web Worker and fetches no model from a file:// page). Any static host works
 * the same way; this one only sets the right content types (application/wasm matters: it lets
 * the browser compile TensorFlow.js's wasm while it downloads).
 */
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { Command } from 'commander';
import { intOption, textOption } from '../cli/options';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.jpg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.safetensors': 'application/octet-stream',
};

/** Starts a static server for `root` on `port` (0 = any free port); resolves with its address. */
export function serveStatic(root: string, port: number, host = '127.0.0.1'): Promise<{ server: http.Server; url: string }> {
  const base = path.resolve(root);
  if (!fs.existsSync(path.join(base, 'index.html'))) {
    return Promise.reject(new Error(`${base} has no index.html: build the site first (npm run report).`));
  }
  const server = http.createServer((req, res) => {
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      res.writeHead(400).end('Bad request');
      return;
    }
    let file = path.join(base, pathname);
    // Never outside the site folder.
    if (file !== base && !file.startsWith(base + path.sep)) {
      res.writeHead(403).end('Forbidden');
      return;
    }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`Not found: ${pathname}`);
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      const actual = typeof address === 'object' && address ? address.port : port;
      resolve({ server, url: `http://${host}:${actual}/` });
    });
  });
}

/** `diffusion serve` (npm run serve): serves the built site until stopped, so its live demos run. */
export function serveCommand(): Command {
  return new Command('serve')
    .description('Serve the built site over http, for its live demos (npm run serve)')
    .addOption(intOption('--port <n>', 'the port (0: any free one)', 0, 65_535, 8080))
    .addOption(textOption('--dir <dir>', 'the site folder', 'site'))
    .action(async (opts: { port: number; dir: string }) => {
      const { url } = await serveStatic(opts.dir, opts.port);
      process.stdout.write(`Serving ${path.resolve(opts.dir)} at ${url} (try.html has the live demos). Ctrl-C stops.\n`);
    });
}
