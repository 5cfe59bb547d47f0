import { ChildProcess, spawn } from 'child_process';
import { createHmac, randomBytes, randomUUID } from 'crypto';
import * as fs from 'fs';
import { removeLeftoversOfDeadProcesses } from '../lib/io/atomic';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as zmq from 'zeromq';
import { PROGRESS_LINE_PREFIX } from '../writeup/contract';

/**
 * A minimal Jupyter client in pure Node: it starts the project's tslab kernel, talks to it with
 * the Jupyter wire protocol over ZeroMQ (shell and control as DEALER, iopub as SUB) and runs code.
 * No Python and no Jupyter installation are needed.
 * Protocol: https://jupyter-client.readthedocs.io/en/latest/messaging.html
 */

const LAUNCHER_IN_REPO = path.join('kernel', 'tslab-diffusion', 'launch.js');

/**
 * The launcher committed in kernel/tslab-diffusion (it starts tslab at the repository root), found
 * by walking up from this file, which runs from dist/ or from a scratch build folder.
 */
export function defaultLauncher(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, LAUNCHER_IN_REPO);
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) {
      throw new Error(`No ${LAUNCHER_IN_REPO} above ${__dirname}. It is committed in the repository; restore it with git, or pass a launcher.`);
    }
  }
}

export interface MessageHeader {
  msg_id: string;
  msg_type: string;
  session: string;
  username: string;
  date: string;
  version: string;
}

export interface KernelMessage {
  header: MessageHeader;
  /** The header of the request this message answers, or {} when it answers none. */
  parent_header: Partial<MessageHeader>;
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
}

export interface KernelStartOptions {
  /** Working directory of the kernel (tslab's root for relative imports); default: the repository root. */
  cwd?: string;
  /** The launch.js to run; default: kernel/tslab-diffusion/launch.js of this repository. */
  launcher?: string;
  /** How long to wait for kernel_info_reply; default 60 s. */
  startTimeoutSec?: number;
  /** More environment variables for the kernel process. */
  env?: Record<string, string>;
}

/** What one execute_request produced: the reply's status and every iopub message it caused, in order. */
export interface ExecuteResult {
  status: 'ok' | 'error' | 'abort';
  executionCount: number | null;
  reply: KernelMessage;
  iopub: KernelMessage[];
}

/** Raised when code runs longer than its timeout; the kernel has been killed by then. */
export class KernelTimeoutError extends Error {}

/** Raised when the kernel process exits while the client is waiting for it. */
export class KernelDiedError extends Error {}

const DELIMITER = Buffer.from('<IDS|MSG>');
const PROTOCOL_VERSION = '5.3';

interface ConnectionInfo {
  transport: 'tcp';
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: 'hmac-sha256';
  kernel_name: string;
}

/** Asks the OS for `count` distinct free TCP ports on 127.0.0.1 (each briefly bound, then released). */
async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      ports.push((server.address() as net.AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** Resolves after `ms` without keeping the process alive (used to race timeouts). */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** A message still waiting for its shell reply and its iopub "idle". */
interface PendingRequest {
  msgId: string;
  iopub: KernelMessage[];
  reply: KernelMessage | null;
  idle: boolean;
  /** Called on every iopub message and on the reply; completes when both reply and idle arrived. */
  settle: () => void;
  fail: (err: Error) => void;
}

export class KernelClient {
  private readonly session = randomUUID();
  private readonly pending = new Map<string, PendingRequest>();
  private closed = false;
  private exitError: Error | null = null;
  private readonly exited: Promise<void>;
  /** The last lines the kernel process wrote outside cells, for error messages. */
  private processLog = '';
  /** kernel_info_reply content (language_info, implementation, ...). */
  kernelInfo: Record<string, unknown> = {};
  /** Called with each progress line the kernel writes to its stderr (notebook/run-info.ts), as it writes it. */
  onProgressLine: ((text: string) => void) | null = null;

  private constructor(
    private readonly child: ChildProcess,
    private readonly connection: ConnectionInfo,
    private readonly connectionDir: string,
    private readonly shell: zmq.Dealer,
    private readonly control: zmq.Dealer,
    private readonly iopub: zmq.Subscriber,
  ) {
    const keepLog = (text: string): void => {
      this.processLog = (this.processLog + text).slice(-4000);
    };
    let partialLine = '';
    child.stdout?.on('data', (chunk: Buffer) => keepLog(chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => {
      const lines = (partialLine + chunk.toString('utf8')).split('\n');
      partialLine = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith(PROGRESS_LINE_PREFIX)) this.onProgressLine?.(line.slice(PROGRESS_LINE_PREFIX.length));
        else keepLog(line + '\n');
      }
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        keepLog(partialLine);
        this.exitError = new KernelDiedError(
          `The tslab kernel (pid ${child.pid}) exited (${signal ? `signal ${signal}` : `code ${code}`}).` +
            (this.processLog.trim() ? ` Its last output:\n${this.processLog.trim()}` : '') +
            '\nCheck that `npm install` ran and that the kernel starts: node kernel/tslab-diffusion/launch.js <connection.json>.',
        );
        for (const p of this.pending.values()) p.fail(this.exitError);
        this.pending.clear();
        resolve();
      });
    });
    void this.readLoop(this.shell);
    void this.readLoop(this.control);
    void this.readLoop(this.iopub);
  }

  /** Process id of the kernel (also its process group id: it runs detached in its own group). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** The temporary folder of the kernel's connection file (removed at shutdown). */
  get connectionFolder(): string {
    return this.connectionDir;
  }

  /** Starts a kernel and waits until it answers kernel_info_request and its iopub is connected. */
  static async start(options: KernelStartOptions = {}): Promise<KernelClient> {
    const launcher = options.launcher ?? defaultLauncher();
    if (!fs.existsSync(launcher)) {
      throw new Error(`Kernel launcher ${launcher} is missing. It is committed as kernel/tslab-diffusion/launch.js; restore it with git.`);
    }
    const [shellPort, iopubPort, stdinPort, controlPort, hbPort] = await freePorts(5);
    const connection: ConnectionInfo = {
      transport: 'tcp',
      ip: '127.0.0.1',
      shell_port: shellPort,
      iopub_port: iopubPort,
      stdin_port: stdinPort,
      control_port: controlPort,
      hb_port: hbPort,
      key: randomBytes(32).toString('hex'),
      signature_scheme: 'hmac-sha256',
      kernel_name: 'tslab-diffusion',
    };
    // Connection folders of clients killed before they could remove them.
    removeLeftoversOfDeadProcesses(os.tmpdir(), /^diffusion-kernel-(\d+)-/);
    // Named after this process, so a folder a killed client left behind can be told from live ones.
    const connectionDir = fs.mkdtempSync(path.join(os.tmpdir(), `diffusion-kernel-${process.pid}-`));
    const connectionFile = path.join(connectionDir, 'connection.json');
    fs.writeFileSync(connectionFile, JSON.stringify(connection, null, 2), { mode: 0o600 });

    const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
    if (options.cwd) env.TSLAB_DIFFUSION_CWD = path.resolve(options.cwd);
    env.TSLAB_DIFFUSION_PARENT_PID = String(process.pid); // the kernel exits if this process dies
    // detached: the kernel leads its own process group, so a timeout can kill it with all its children.
    const child = spawn(process.execPath, [launcher, connectionFile], { detached: true, env, stdio: ['ignore', 'pipe', 'pipe'] });

    const url = (port: number): string => `tcp://127.0.0.1:${port}`;
    const shell = new zmq.Dealer({ linger: 0, routingId: randomUUID() });
    const control = new zmq.Dealer({ linger: 0, routingId: randomUUID() });
    // No high-water mark: a cell that floods display updates must not make zeromq drop outputs
    // (or the final idle status, which would leave the client waiting until the timeout).
    const iopub = new zmq.Subscriber({ linger: 0, receiveHighWaterMark: 0 });
    iopub.subscribe();
    shell.connect(url(shellPort));
    control.connect(url(controlPort));
    iopub.connect(url(iopubPort));

    const client = new KernelClient(child, connection, connectionDir, shell, control, iopub);
    try {
      await client.waitReady((options.startTimeoutSec ?? 60) * 1000);
    } catch (err) {
      await client.kill();
      throw err;
    }
    return client;
  }

  /**
   * Sends kernel_info_request until one is answered on shell AND its status messages arrive on
   * iopub: a SUB socket only receives what is published after it has joined, so outputs of the
   * first cell could otherwise be lost.
   */
  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exitError) throw this.exitError;
      const attempt = this.request(this.shell, 'kernel_info_request', {});
      const outcome = await Promise.race([
        attempt.then(
          (r) => r,
          (err: Error) => err,
        ),
        delay(Math.min(500, Math.max(1, deadline - Date.now()))).then(() => null),
      ]);
      if (outcome instanceof Error) throw outcome;
      if (outcome && outcome.iopub.length > 0) {
        this.kernelInfo = outcome.reply.content;
        return;
      }
      // Too early: forget this attempt (a late reply is then ignored) and ask again.
      this.pending.clear();
    }
    throw new KernelTimeoutError(
      `The tslab kernel did not answer kernel_info_request within ${Math.round(timeoutMs / 1000)} s.` +
        (this.processLog.trim() ? ` Its output:\n${this.processLog.trim()}` : '') +
        '\nCheck that `npm install` ran (tslab and zeromq must be installed), or raise the start timeout.',
    );
  }

  /**
   * Runs `code` and collects everything it publishes until the kernel is idle again.
   * After `timeoutMs` the kernel's whole process group is killed and KernelTimeoutError is thrown.
   */
  async execute(code: string, timeoutMs: number): Promise<ExecuteResult> {
    const content = { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new KernelTimeoutError(`did not finish within ${timeoutMs / 1000} s; the kernel (pid ${this.pid}) was killed`));
      }, timeoutMs);
    });
    try {
      const done = await Promise.race([this.request(this.shell, 'execute_request', content), timeout]);
      const status = done.reply.content.status;
      const count = done.reply.content.execution_count;
      return {
        status: status === 'ok' || status === 'abort' ? status : 'error',
        executionCount: typeof count === 'number' ? count : null,
        reply: done.reply,
        iopub: done.iopub,
      };
    } catch (err) {
      if (err instanceof KernelTimeoutError) await this.kill();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Asks the kernel to shut down (shutdown_request on control); kills it if it has not exited after `graceMs`. */
  async shutdown(graceMs = 3000): Promise<void> {
    if (!this.exitError && !this.closed) {
      try {
        await Promise.race([this.request(this.control, 'shutdown_request', { restart: false }), delay(graceMs)]);
      } catch {
        // The kernel may exit before its reply arrives; the exit check below decides.
      }
      await Promise.race([this.exited, delay(graceMs)]);
    }
    await this.kill();
  }

  /** Kills the kernel's process group at once (if still running) and releases sockets and files. */
  async kill(): Promise<void> {
    if (!this.exitError) {
      try {
        process.kill(-this.pid, 'SIGKILL');
      } catch {
        this.child.kill('SIGKILL');
      }
      await Promise.race([this.exited, delay(5000)]);
    }
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const socket of [this.shell, this.control, this.iopub]) socket.close();
    for (const p of this.pending.values()) p.fail(new KernelDiedError('The kernel client was closed while a request was running.'));
    this.pending.clear();
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
    fs.rmSync(this.connectionDir, { recursive: true, force: true });
  }

  /** Sends one request and resolves when its reply and its iopub status "idle" have both arrived. */
  private request(socket: zmq.Dealer, msgType: string, content: Record<string, unknown>): Promise<{ reply: KernelMessage; iopub: KernelMessage[] }> {
    if (this.exitError) return Promise.reject(this.exitError);
    if (this.closed) return Promise.reject(new KernelDiedError('The kernel client is closed.'));
    const header: MessageHeader = {
      msg_id: randomUUID(),
      msg_type: msgType,
      session: this.session,
      username: os.userInfo().username,
      date: new Date().toISOString(),
      version: PROTOCOL_VERSION,
    };
    return new Promise((resolve, reject) => {
      const entry: PendingRequest = {
        msgId: header.msg_id,
        iopub: [],
        reply: null,
        idle: false,
        settle: () => {
          if (entry.reply && entry.idle) {
            this.pending.delete(entry.msgId);
            resolve({ reply: entry.reply, iopub: entry.iopub });
          }
        },
        fail: reject,
      };
      this.pending.set(header.msg_id, entry);
      const parts = [header, {}, {}, content].map((part) => Buffer.from(JSON.stringify(part), 'utf8'));
      socket.send([DELIMITER, this.sign(parts), ...parts]).catch((err: Error) => {
        this.pending.delete(entry.msgId);
        reject(err);
      });
    });
  }

  private sign(parts: Buffer[]): string {
    const hmac = createHmac('sha256', this.connection.key);
    for (const part of parts) hmac.update(part);
    return hmac.digest('hex');
  }

  /** Reads one socket until it is closed, routing each message to the request it answers. */
  private async readLoop(socket: zmq.Dealer | zmq.Subscriber): Promise<void> {
    const isIopub = socket === this.iopub;
    try {
      for await (const frames of socket) {
        const message = this.decode(frames);
        if (!message) continue;
        const entry = this.pending.get(message.parent_header.msg_id ?? '');
        if (!entry) continue;
        if (isIopub) {
          entry.iopub.push(message);
          if (message.header.msg_type === 'status' && message.content.execution_state === 'idle') entry.idle = true;
        } else {
          entry.reply = message;
        }
        entry.settle();
      }
    } catch (err) {
      // Closing a socket ends its iterator with an error; anything else goes to the waiting requests.
      if (!this.closed) for (const p of this.pending.values()) p.fail(err as Error);
    }
  }

  /** Splits [identities..., <IDS|MSG>, hmac, header, parent, metadata, content, buffers...] and checks the signature. */
  private decode(frames: Buffer[]): KernelMessage | null {
    const at = frames.findIndex((f) => f.equals(DELIMITER));
    if (at < 0 || frames.length < at + 6) return null;
    const signature = frames[at + 1].toString('utf8');
    const parts = frames.slice(at + 2, at + 6);
    if (signature !== this.sign(parts)) return null; // not from our kernel: ignore
    const [header, parent, metadata, content] = parts.map((p) => JSON.parse(p.toString('utf8')) as Record<string, unknown>);
    return {
      header: header as unknown as MessageHeader,
      parent_header: parent as Partial<MessageHeader>,
      metadata,
      content,
    };
  }
}
