/**
 * The two properties as a draw step (a configuration from fast-check's values) and a check step
 * (throws when the configuration breaks the property), so that a failing configuration can be
 * checked again while it is minimized (./_minimize) and replayed by a debugging script.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as fc from 'fast-check';
import { InferenceService, MlApp, MlStack, MlValidationError } from '../../lib';
import { readOutputDir } from '../../lib/check/files';
import { checked } from '../_util/synth';
import { Contexts, drawApp, has, int, pick } from './_arbitraries';
import { constructKeys, corruptValue, scalarsOf } from './_corrupt';
import { AppSpec, build, Built, describePath, getAt, render, replaceAt, Val, valuePaths } from './_spec';

/** A drawn configuration, and what the report should say about how it was made. */
export interface Drawn {
  readonly spec: AppSpec;
  readonly note?: string;
}

// ---------------------------------------------------------------------------------------------
// Property 1: a valid configuration synthesizes, deterministically, into output that passes every check.

export function drawValid(g: fc.GeneratorValue, dirs: Contexts): Drawn {
  return { spec: drawApp(g, dirs) };
}

function synthOnce(spec: AppSpec, outdir: string): { built: Built; files: Map<string, string> } {
  const built = build(spec, new MlApp({ outdir }));
  return { built, files: built.app.synthFiles() };
}

/** What a case's output is also shown to (the API server's dry run, ./_server); throws to fail the case. */
export type OutputJudge = (objects: readonly any[]) => void;

/** Synthesize twice, compare byte for byte, check; returns the objects and files it made. */
export function checkValid(spec: AppSpec, outdir: string, judge?: OutputJudge): { objects: number; files: number } {
  const first = synthOnce(spec, outdir);
  const second = synthOnce(spec, outdir);
  const names = [...new Set([...first.files.keys(), ...second.files.keys()])];
  const differ = names.filter((f) => first.files.get(f) !== second.files.get(f));
  if (differ.length > 0) throw new Error(`synth is not deterministic: ${differ.join(', ')} differ between two synths of the same configuration`);
  const out = checked(first.built.app, first.files, { intended: first.built.intended });
  judge?.(out.objects);
  return { objects: out.objects.length, files: first.files.size };
}

// ---------------------------------------------------------------------------------------------
// Property 2: one value corrupted is rejected the library's way, or the output passes every check.

/** Sometimes, for a construct id, the id of another construct of the same scope (two constructs, one id). */
function siblingId(g: fc.GeneratorValue, spec: AppSpec, at: readonly (string | number)[]): Val | undefined {
  if (at.length !== 3 || at[0] !== 'nodes' || at[2] !== 'id') return undefined;
  const node = spec.nodes[at[1] as number];
  const siblings = spec.nodes.filter((n) => n !== node && n.scope === node.scope && typeof n.id === 'string');
  return siblings.length > 0 && has(g, 30) ? pick(g, siblings).id : undefined;
}

/** A valid configuration with one value (any of valuePaths) replaced by a corruption. */
export function drawCorrupted(g: fc.GeneratorValue, dirs: Contexts): Drawn {
  const valid = drawApp(g, dirs);
  const paths = valuePaths(valid);
  const at = paths[int(g, 0, paths.length - 1)];
  const original = getAt(valid, at);
  const bad = siblingId(g, valid, at) ?? corruptValue(g, original, constructKeys(valid), scalarsOf(valid));
  return { spec: replaceAt(valid, at, bad), note: `corrupted ${describePath(valid, at)} = ${render(bad)} (valid: ${render(original)})` };
}

/** What the output directory held before the failed synth: a previous good output of another app. */
let previous: Map<string, string> | undefined;
function previousOutput(): Map<string, string> {
  if (!previous) {
    const app = new MlApp({ outdir: 'unused' });
    new InferenceService(new MlStack(app, 'previous'), 'api', { image: 'registry.example.com/api:1.0.0' });
    previous = app.synthFiles();
  }
  return previous;
}

function writePrevious(outdir: string): void {
  for (const [rel, content] of previousOutput()) {
    fs.mkdirSync(path.dirname(path.join(outdir, rel)), { recursive: true });
    fs.writeFileSync(path.join(outdir, rel), content);
  }
}

/** The error is bad input reported the library's way: construct path and prop first, then value and fix. */
function expectValidationError(e: unknown, app: MlApp): MlValidationError {
  if (!(e instanceof MlValidationError)) {
    throw new Error(
      `expected an MlValidationError naming the construct and the prop, ` +
        `got ${(e as Error)?.constructor?.name ?? typeof e}: ${(e as Error)?.stack ?? String(e)}`,
    );
  }
  const paths = new Set(app.node.findAll().map((c) => c.node.path || '<app>'));
  if (!paths.has(e.constructPath))
    throw new Error(`the error names construct '${e.constructPath}', which is not in the app (${[...paths].join(', ')}): ${e.message}`);
  if (e.prop.trim() === '') throw new Error(`the error names no prop: ${e.message}`);
  if (!e.message.includes(`'${e.constructPath}': ${e.prop} `))
    throw new Error(`the message does not start with the construct path and the prop: ${e.message}`);
  if (!/, got [\s\S]*\. Fix: \S/.test(e.message)) throw new Error(`the message does not show the value and a fix: ${e.message}`);
  return e;
}

function expectUntouched(parent: string, outdir: string): void {
  const before = previousOutput();
  const now = readOutputDir(outdir);
  const changed = [...new Set([...before.keys(), ...now.keys()])].filter((f) => before.get(f) !== now.get(f));
  if (changed.length > 0) throw new Error(`the failed synth changed the existing output directory: ${changed.join(', ')}`);
  const left = fs.readdirSync(parent).filter((f) => f !== 'dist');
  if (left.length > 0) throw new Error(`the failed synth left ${left.join(', ')} beside the output directory`);
}

/**
 * Synthesize through MlApp into a directory that holds a previous output. Returns 'rejected' (an
 * MlValidationError, directory untouched) or 'accepted' (the output on disk passed every check);
 * throws otherwise.
 */
export function checkCorrupted(spec: AppSpec, casesDir: string, judge?: OutputJudge): 'rejected' | 'accepted' {
  const parent = fs.mkdtempSync(path.join(casesDir, 'case-'));
  const outdir = path.join(parent, 'dist');
  try {
    writePrevious(outdir);
    const app = new MlApp({ outdir });
    let built: Built | undefined;
    let error: unknown;
    try {
      built = build(spec, app);
      app.synth();
    } catch (e) {
      error = e;
    }
    if (error !== undefined) {
      expectValidationError(error, app);
      expectUntouched(parent, outdir);
      return 'rejected';
    }
    judge?.(checked(app, readOutputDir(outdir), { intended: built!.intended }).objects);
    return 'accepted';
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
}
