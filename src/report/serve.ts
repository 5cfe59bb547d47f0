#!/usr/bin/env node
/**
 * `npm run serve`: serves the built site over http on localhost, so the live demos can run (a
 * browser starts no Web Worker and fetches no model from a file:// page). Any static host works
 * the same way; this one only sets the right content types (application/wasm matters: it lets
 * the browser compile TensorFlow.js's wasm while it downloads).
 */
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { parseArgs } from 'util';

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

const HELP = `npm run serve -- [--port N] [--dir DIR]     (or: diffusion serve [options])

Serves the built site (default site/) at http://127.0.0.1:8080/ so its live demos run.
`;

/** npm run serve, diffusion serve: serves the site until stopped. */
export async function runServeCli(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { port: { type: 'string', default: '8080' }, dir: { type: 'string', default: 'site' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be an integer from 0 to 65535, got ${values.port}`);
  const { url } = await serveStatic(values.dir!, port);
  process.stdout.write(`Serving ${path.resolve(values.dir!)} at ${url} (try.html has the live demos). Ctrl-C stops.\n`);
}

if (require.main === module) {
  runServeCli(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
}
