import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'cdk8s';
import { IConstruct } from 'constructs';
import { AppOutputs, IOutputContributor, MANIFESTS_DIR, manifestFileOf, openAppOutputs, OutputPart } from '../stack/_output';
import { writeTreeStaged } from './_write-tree';
import { appCharts, chartObjects, endSynth, prepareSynth } from './_synth';
import { ComposeFile } from './_compose';
import { DiagramSources, diagramFileOf } from './_diagram';
import { joinYamlStreams, renderYaml, renderYamlPieces } from './_yaml';
import { collectedValidationError, fail, isInputError, MlInputError } from '../_errors';
import { checkObject, checkString, keysOf } from '../_validate';

const ML_APP = Symbol.for('cdk8s-ml.MlApp');

export interface MlAppProps {
  /**
   * Output directory: `manifests/` (what Argo CD points at), `images/` (Dockerfiles, bake file,
   * build script), `compose/` (local development) and `diagrams/` (a Mermaid diagram per stack, for review).
   * @default - $CDK8S_OUTDIR when `cdk8s synth` runs the app, else 'dist'
   */
  readonly outdir?: string;
}

const APP_KEYS = keysOf<MlAppProps>()(['outdir']);

/** The marker the MlApp constructor defines. */
function isMlApp(root: IConstruct): root is MlApp {
  return ML_APP in root;
}

/**
 * A cdk8s App whose synth writes, besides one manifest file per stack, the build files of every
 * image the manifests reference and every other registered artifact; atomically, so a failed synth
 * leaves the output directory as it was.
 */
export class MlApp extends App {
  /** The MlApp a construct belongs to, or undefined when its root is a plain cdk8s App. */
  public static tryOf(scope: IConstruct): MlApp | undefined {
    const root = scope.node.root;
    return isMlApp(root) ? root : undefined;
  }

  /** What the app's constructs and addOutput registered to write (lib/stack/_output.ts). */
  private readonly outputs: AppOutputs;
  /** How synthFiles makes a chart's manifest of its objects; synth() has them written as they render. */
  private renderManifest = renderInMemory;

  constructor(props: MlAppProps = {}) {
    const outdir = typeof props === 'object' && props !== null ? props.outdir : undefined;
    super({ outdir: typeof outdir === 'string' ? outdir : undefined });
    Object.defineProperty(this, ML_APP, { value: true });
    this.outputs = openAppOutputs(this);
    checkObject(this, 'props', props, "{ outdir: 'dist' }", APP_KEYS);
    if (outdir !== undefined) checkString(this, 'outdir', outdir, { example: "'dist'", maxLength: 4096 });
  }

  /** Register something that writes files into the output directory at synth time. */
  public addOutput(contributor: IOutputContributor): void {
    this.outputs.add(contributor);
  }

  /**
   * Everything one synth writes, as relative path -> content, sorted by path; nothing touches the
   * disk. Validation errors of any construct throw here.
   */
  public synthFiles(): Map<string, string> {
    const files = new Map<string, string>();
    // cdk8s lets an environment variable change key order; our output never depends on the environment.
    const disableSort = process.env.CDK8S_DISABLE_SORT;
    delete process.env.CDK8S_DISABLE_SORT;
    try {
      const charts = appCharts(this);
      // What chart.toJson() does first (resolve dependencies, validate the whole app), once; then each
      // chart's objects in its order, each rendered and written before the next (_synth.ts).
      try {
        prepareSynth(this);
      } catch (e) {
        // The library's late checks (node.addValidation) are bad input like any other: an MlValidationError.
        throw collectedValidationError(e) ?? e;
      }
      const diagrams = new DiagramSources();
      for (const chart of charts) {
        const objects = chartObjects(chart);
        if (objects.length === 0) continue;
        const file = manifestFileOf(chart);
        if (files.has(file)) {
          // MlStacks claim their file when constructed; this is for other charts of the app.
          const other = this.charts.find((c) => c !== chart && manifestFileOf(c) === file)!;
          fail(
            chart,
            'id',
            `gives the manifest file ${file}, which ${other.constructor.name} '${other.node.path}' writes too ` +
              "(a chart's file is named after its path, lowercased and '-'-joined)",
            chart.node.id,
            `give one of the two charts another id (here, or '${other.node.path}')`,
          );
        }
        files.set(file, this.renderManifest(file, diagrams.watch(chart, objects)));
      }
      // Each stack's review diagram, from what its objects rendered to and the policies' wiring records (_diagram.ts).
      for (const chart of diagrams.charts()) files.set(diagramFileOf(manifestFileOf(chart)), diagrams.render(chart));
    } finally {
      endSynth(this);
      if (disableSort !== undefined) process.env.CDK8S_DISABLE_SORT = disableSort;
    }
    const outdir = path.resolve(this.outdir);
    for (const part of this.outputs.parts) {
      for (const [rel, content] of Object.entries(outputFilesOf(part, outdir))) {
        if (files.has(rel) && files.get(rel) !== content) {
          throw new MlInputError(`Two parts of the app write different content to ${rel} in the output directory.`);
        }
        files.set(rel, content);
      }
    }
    return new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** Synthesize into `outdir`; all or nothing. */
  public synth(): void {
    writeTreeStaged(this.outdir, (stage) => {
      // Each manifest goes to the staging directory piece by piece as its objects render, never held
      // whole (npm run bench: 10,000 services with frontends peak at ~0.88 GB instead of ~1.07 GB).
      const streamed = new Set<string>();
      this.renderManifest = (file, objects) => {
        stage.writeFile(file, renderYamlPieces(objects));
        streamed.add(file);
        return '';
      };
      try {
        for (const [rel, content] of this.synthFiles()) if (!streamed.has(rel)) stage.writeFile(rel, content);
      } finally {
        this.renderManifest = renderInMemory;
      }
    });
  }

  /**
   * Every manifest of every stack as ONE valid multi-document YAML stream, in the order of the
   * files in manifests/ (`cdk8s synth --stdout` concatenates files without a separator between
   * them: cdk8s-cli#943). What an Argo CD config-management plugin prints.
   */
  public manifestStream(stack?: string): string {
    const files = [...this.synthFiles()].filter(([rel]) => rel.startsWith(`${MANIFESTS_DIR}/`));
    const selected = stack === undefined ? files : files.filter(([rel]) => rel === `${MANIFESTS_DIR}/${stack}.k8s.yaml`);
    if (selected.length === 0) {
      throw new MlInputError(`--stack ${stack}: no such stack; the stacks are ${files.map(([rel]) => stackOfManifest(rel)).join(', ')}.`);
    }
    return joinYamlStreams(selected.map(([, content]) => content));
  }

  /**
   * Command-line entry point for an app's main.ts: builds the app, then writes the output
   * directory, or with `--stdout` prints the manifest stream (`--stack <name>`: one stack's) and
   * writes nothing. On failure the process gets exit code 1 and stderr says what happened to the
   * output: bad input is its one-line message; any other error (a bug in the app's own code, say)
   * is printed with its stack trace so it can be found.
   */
  public static main(build: (app: MlApp) => void, argv: string[] = process.argv.slice(2), props: MlAppProps = {}): void {
    const stdout = argv.includes('--stdout');
    try {
      const app = new MlApp(props);
      build(app);
      const stackAt = argv.indexOf('--stack');
      if (stdout) process.stdout.write(app.manifestStream(stackAt >= 0 ? argv[stackAt + 1] : undefined));
      else app.synth();
    } catch (e) {
      const detail = isInputError(e) ? (e as Error).message : e instanceof Error ? (e.stack ?? e.message) : String(e);
      process.stderr.write(`cdk8s-ml: synth failed: ${failedOutputState(props, stdout)}.\n${detail}\n`);
      process.exitCode = 1;
    }
  }
}

/**
 * What a failed `main` did to the output, said truthfully however the app is run. MlApp.synth is
 * all or nothing, so a directory that exists is as it was before the app ran; but cdk8s-cli deletes
 * its output directory before it runs the app (cdk8s-cli lib/cli/cmds/synth.js: fs.rmSync(outdir))
 * and `cdk8s synth --stdout` points CDK8S_OUTDIR at a new empty temp directory.
 */
function failedOutputState(props: MlAppProps, stdout: boolean): string {
  if (stdout) return 'nothing was printed or written';
  const outdir = props.outdir ?? process.env.CDK8S_OUTDIR ?? 'dist';
  const existing = fs.existsSync(outdir) ? fs.readdirSync(outdir) : [];
  if (existing.length > 0) return `${outdir} was left unchanged`;
  const underCli = props.outdir === undefined && process.env.CDK8S_OUTDIR !== undefined;
  return underCli
    ? `nothing was written to ${outdir}, and cdk8s synth had removed the previous output before it ran the app ` +
        `(to keep the last good output on failure, run the app without cdk8s-cli: ${directCommand(outdir)})`
    : `nothing was written to ${outdir}`;
}

/**
 * The command that runs this app as cdk8s-cli just did, minus cdk8s-cli: node with this process's
 * options (the require hook) on its script. `npm run synth` is that in this repo but `cdk8s synth` in
 * a project `cdk8s-ml init` made, so the advice is read from the process, not named by a script.
 */
function directCommand(outdir: string): string {
  const script = process.argv[1];
  if (!script || /[\\/]node_modules[\\/]/.test(script)) return 'the `app` command of cdk8s.yaml, run directly';
  const quote = (arg: string): string => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
  const words = ['node', ...process.execArgv, path.relative(process.cwd(), script) || script].map(quote);
  // Run directly, MlApp writes to 'dist' unless CDK8S_OUTDIR says otherwise.
  if (path.resolve(outdir) !== path.resolve('dist')) words.unshift(`CDK8S_OUTDIR=${quote(outdir)}`);
  return `\`${words.join(' ')}\``;
}

/** The files one registered part writes: a contributor's, or a stack's compose file (lib/app/_compose.ts). */
function outputFilesOf(part: OutputPart, outdir: string): Record<string, string> {
  return 'contributor' in part ? part.contributor.outputFiles(outdir) : new ComposeFile(part.compose).outputFiles(outdir);
}

/** `manifests/<stack>.k8s.yaml` -> `<stack>`. */
function stackOfManifest(rel: string): string {
  return rel.slice(MANIFESTS_DIR.length + 1, -'.k8s.yaml'.length);
}

function renderInMemory(_file: string, objects: readonly { toJson(): unknown }[]): string {
  return renderYaml(objects);
}
