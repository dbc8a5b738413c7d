/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and ranks functions by self time and by
 * total (inclusive) time, so the hot spots can be written down next to the numbers.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { REPO_ROOT } from './environment';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

/** One function's share of the profile. */
export interface HotSpot {
  /** `name (file)`, file relative to the repository. */
  readonly where: string;
  readonly selfMs: number;
  readonly totalMs: number;
  /** Share of all sampled time, 0..1. */
  readonly selfShare: number;
  readonly totalShare: number;
}

function label(node: ProfileNode): string {
  // Line numbers are left out: under tsx they point into transpiled code, not the source.
  const { functionName, url } = node.callFrame;
  const file = (url.startsWith('file://') ? relative(REPO_ROOT, url.slice('file://'.length)) : url).replace(
    /node_modules\/\.pnpm\/[^/]+\/node_modules\//,
    'node_modules/',
  ); // pnpm's store path says nothing more
  const name = functionName || '(anonymous)';
  return file ? `${name} (${file})` : name;
}

/**
 * Self and total time per function (by name and location), heaviest first.
 * @param source - a `.cpuprofile` path, or the profile object itself
 * @param filter - keep only functions whose label matches (e.g. `/packages\//`)
 */
export function hotSpots(source: string | object, filter?: RegExp): HotSpot[] {
  const profile = (typeof source === 'string' ? JSON.parse(readFileSync(source, 'utf8')) : source) as CpuProfile;
  const totalSamples = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
  const msPerSample = totalSamples ? (profile.endTime - profile.startTime) / 1000 / totalSamples : 0;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  const total = new Map<string, number>();

  // Inclusive hits: a node's own plus its subtree's, counted once per function on each path
  // (so recursion does not count a sample twice).
  const walk = (node: ProfileNode, onPath: Set<string>): number => {
    const key = label(node);
    let hits = node.hitCount ?? 0;
    self.set(key, (self.get(key) ?? 0) + hits);
    const fresh = !onPath.has(key);
    if (fresh) onPath.add(key);
    for (const child of node.children ?? []) hits += walk(byId.get(child) as ProfileNode, onPath);
    if (fresh) {
      onPath.delete(key);
      total.set(key, (total.get(key) ?? 0) + hits);
    }
    return hits;
  };
  walk(profile.nodes[0], new Set());

  return [...self.keys()]
    .filter((key) => !filter || filter.test(key))
    .map((key) => ({
      where: key,
      selfMs: (self.get(key) ?? 0) * msPerSample,
      totalMs: (total.get(key) ?? 0) * msPerSample,
      selfShare: totalSamples ? (self.get(key) ?? 0) / totalSamples : 0,
      totalShare: totalSamples ? (total.get(key) ?? 0) / totalSamples : 0,
    }))
    .sort((a, b) => b.selfMs - a.selfMs);
}
