import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { MlApp, MlStack, MlStackProps } from '../../lib';
import { checkOutputFiles, parseYamlStream } from '../../lib/check';

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
 * (checkOutputFiles: layout, every object, Dockerfile, .dockerignore and compose file); throws
 * listing every problem. Every test that synthesizes goes through here.
 */
export function synth(build: (app: MlApp) => void, outdir = path.join(os.tmpdir(), 'cdk8s-ml-test-out')): Synthesized {
  const app = new MlApp({ outdir });
  build(app);
  return checked(app, app.synthFiles());
}

/** One stack in a fresh app: the usual set-up of a construct test. */
export function synthStack(build: (stack: MlStack) => void, props: MlStackProps = {}): Synthesized {
  return synth(app => build(new MlStack(app, 'test', props)));
}

export function checked(app: MlApp, files: Map<string, string>): Synthesized {
  const problems = checkOutputFiles(files);
  if (problems.length > 0) throw new Error(`shared output check failed:\n  ${problems.join('\n  ')}`);
  const objects: any[] = [...files].filter(([rel]) => rel.startsWith('manifests/')).flatMap(([, content]) => parseYamlStream(content));
  const find = (kind: string, name?: string) => {
    const found = objects.filter(o => o.kind === kind && (name === undefined || o.metadata?.name === name));
    if (found.length !== 1) throw new Error(`expected exactly one ${kind}${name ? ` named ${name}` : ''}, found ${found.length}: ${objects.map(o => `${o.kind}/${o.metadata?.name}`).join(', ')}`);
    return found[0];
  };
  return {
    app,
    files,
    objects,
    find,
    all: (kind: string) => objects.filter(o => o.kind === kind),
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
