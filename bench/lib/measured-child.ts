/**
 * Runs a command as a child process and measures it from outside: wall time, peak resident
 * set size (from `/usr/bin/time -v` where present, else the kernel's VmHWM sampled from
 * /proc), and an RSS timeline sampled from /proc, to show whether memory stays flat.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** One RSS sample. */
export interface RssSample {
  readonly atMs: number;
  readonly rssKb: number;
}

/** What {@link runMeasured} observed. */
export interface MeasuredRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly wallMs: number;
  /** Peak RSS in KiB, `null` if it could not be observed. */
  readonly peakRssKb: number | null;
  readonly peakSource: '/usr/bin/time -v' | '/proc VmHWM' | 'none';
  readonly samples: readonly RssSample[];
}

const TIME = '/usr/bin/time';

function readStatus(pid: number): { rssKb: number; hwmKb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string): number =>
      Number(/^(\w+):\s+(\d+)/m.exec(status.slice(status.indexOf(`${name}:`)))?.[2] ?? 0);
    const rssKb = field('VmRSS');
    // A process that is exiting has no memory fields left: not a sample.
    return rssKb > 0 ? { rssKb, hwmKb: field('VmHWM') } : null;
  } catch {
    return null;
  }
}

/** The first child of `pid` (the command `/usr/bin/time` started), if any yet. */
function firstChild(pid: number): number | null {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return children.length ? Number(children[0]) : null;
  } catch {
    return null;
  }
}

/**
 * Runs `command args` with `env` and `cwd`, sampling its RSS every `sampleMs`.
 * @returns exit code, output, wall time, peak RSS and the samples
 */
export function runMeasured(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; sampleMs?: number } = {},
): Promise<MeasuredRun> {
  const useTime = existsSync(TIME);
  const child = useTime
    ? spawn(TIME, ['-v', command, ...args], { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(command, [...args], { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const started = performance.now();
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const samples: RssSample[] = [];
  let hwmKb = 0;
  let target: number | null = useTime ? null : (child.pid ?? null);
  const timer = setInterval(() => {
    if (target === null && child.pid !== undefined) target = firstChild(child.pid);
    if (target === null) return;
    const status = readStatus(target);
    if (!status) return;
    samples.push({ atMs: performance.now() - started, rssKb: status.rssKb });
    hwmKb = Math.max(hwmKb, status.hwmKb);
  }, options.sampleMs ?? 200);

  return new Promise((resolve, reject) => {
    child.on('error', (error) => {
      clearInterval(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearInterval(timer);
      const wallMs = performance.now() - started;
      const err = Buffer.concat(stderr).toString('utf8');
      const timed = useTime ? /Maximum resident set size \(kbytes\): (\d+)/.exec(err) : null;
      const peakRssKb = timed ? Number(timed[1]) : hwmKb || null;
      resolve({
        code,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: err,
        wallMs,
        peakRssKb,
        peakSource: timed ? '/usr/bin/time -v' : hwmKb ? '/proc VmHWM' : 'none',
        samples,
      });
    });
  });
}
