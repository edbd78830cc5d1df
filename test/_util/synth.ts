import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Testing } from 'cdk8s';
import { MlApp, MlStack, MlStackProps } from '../../lib';
import { checkOutputFiles, isConnectionAllowed, NetworkConnection, parseYamlStream, unintendedIngress } from '../../lib/check';

/** What a test adds to the check of its output. */
export interface CheckOptions {
  /**
   * Connections the test means that the output cannot show (a client admitted on a gRPC port):
   * the strict network check expects the policies to allow them, and no longer flags them.
   */
  readonly intended?: readonly NetworkConnection[];
}

/** What one synth produced, already through the shared output check. */
export interface Synthesized {
  readonly app: MlApp;
  /** Relative path -> content. */
  readonly files: Map<string, string>;
  /** Every Kubernetes object of every manifest file, in file order. */
  readonly objects: any[];
  find(kind: string, name?: string): any;
  all(kind: string): any[];
  dockerfile(image: string): string;
}

/**
 * Synthesize an app in memory (nothing is written) and run the one shared output check
 * (checkOutputFiles: layout, every object, Dockerfile, .dockerignore and compose file) and the
 * strict network check (see checked); throws listing every problem. Every test that synthesizes
 * goes through here. `synth(build, { intended })` or `synth(build, outdir, { intended })`.
 */
export function synth(build: (app: MlApp) => void, outdirOrCheck?: string | CheckOptions, check: CheckOptions = {}): Synthesized {
  const outdir = typeof outdirOrCheck === 'string' ? outdirOrCheck : path.join(os.tmpdir(), 'cdk8s-ml-test-out');
  const app = new MlApp({ outdir });
  build(app);
  return checked(app, app.synthFiles(), typeof outdirOrCheck === 'object' ? outdirOrCheck : check);
}

/** One stack in a fresh app: the usual set-up of a construct test. */
export function synthStack(build: (stack: MlStack) => void, props: MlStackProps = {}, check: CheckOptions = {}): Synthesized {
  return synth((app) => build(new MlStack(app, 'test', props)), check);
}

const showConnection = (c: NetworkConnection) => `${c.from} -> ${c.to} port ${c.port}${c.protocol && c.protocol !== 'TCP' ? `/${c.protocol}` : ''}`;

/**
 * The strict network check of this repository's own output: every connection into a workload
 * with a NetworkPolicy that the policies allow must be one the output implies (intendedConnections)
 * or one the test declares in `check.intended`; and every declared one must be allowed.
 */
function strictNetworkProblems(objects: readonly any[], check: CheckOptions): string[] {
  const problems: string[] = [];
  for (const c of check.intended ?? []) {
    if (!isConnectionAllowed(objects, c.from, c.to, c.port, c.protocol))
      problems.push(`declared intended connection ${showConnection(c)} is denied by the NetworkPolicies`);
  }
  for (const c of unintendedIngress(objects, { intended: check.intended })) {
    problems.push(
      `${showConnection(c)} is ` +
        `admitted${c.admittedBy.length > 0 ? ` by NetworkPolicy ${c.admittedBy.join(', ')}` : ''} ` +
        `but not intended (declare it in { intended } if the test means it)`,
    );
  }
  return problems;
}

export function checked(app: MlApp, files: Map<string, string>, check: CheckOptions = {}): Synthesized {
  const problems = checkOutputFiles(files);
  if (problems.length > 0) throw new Error(`shared output check failed:\n  ${problems.join('\n  ')}`);
  const objects: any[] = [...files].filter(([rel]) => rel.startsWith('manifests/')).flatMap(([, content]) => parseYamlStream(content));
  const network = strictNetworkProblems(objects, check);
  if (network.length > 0) throw new Error(`strict network check failed:\n  ${network.join('\n  ')}`);
  const find = (kind: string, name?: string) => {
    const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
    if (found.length !== 1)
      throw new Error(
        `expected exactly one ${kind}${name ? ` named ${name}` : ''}, ` +
          `found ${found.length}: ${objects.map((o) => `${o.kind}/${o.metadata?.name}`).join(', ')}`,
      );
    return found[0];
  };
  return {
    app,
    files,
    objects,
    find,
    all: (kind: string) => objects.filter((o) => o.kind === kind),
    dockerfile: (image: string) => {
      const f = files.get(`images/${image}/Dockerfile`);
      if (f === undefined) throw new Error(`no images/${image}/Dockerfile among ${[...files.keys()].join(', ')}`);
      return f;
    },
  };
}

/** A throwaway directory (removed by the OS's tmp cleaning; tests that care remove it). */
export function tempDir(prefix = 'cdk8s-ml-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A Python build context with app.py and requirements.txt. */
export function pythonContext(files: Record<string, string> = {}): string {
  const dir = tempDir('cdk8s-ml-ctx-');
  const all = { 'app.py': 'from flask import Flask\napp = Flask(__name__)\n', 'requirements.txt': 'flask\ngunicorn\n', ...files };
  for (const [name, content] of Object.entries(all)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

/** The pod template spec of a workload object. */
export function podSpec(obj: any): any {
  if (obj.kind === 'CronJob') return obj.spec.jobTemplate.spec.template.spec;
  return obj.spec.template.spec;
}

export { Testing };
