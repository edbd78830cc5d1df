import { Chart } from 'cdk8s';
import { IConstruct } from 'constructs';
import { toDnsLabel } from '../_names';
import { ComposeServices } from './_compose-spec';
import { appKey, appScoped, appScopedIfAny } from './_scoped';

/**
 * Anything besides the manifests that one synth writes (image build files, compose files...).
 * This is the extension point for per-app and per-stack artifacts: register a contributor with
 * `MlApp.addOutput`, return paths relative to the output directory.
 */
export interface IOutputContributor {
  /**
   * @param outdir absolute output directory, so contributors can write paths relative to their files
   * @returns file path (relative to outdir, '/' separated) -> content
   */
  outputFiles(outdir: string): Record<string, string>;
}

/** The directory Argo CD points at: Kubernetes manifests only. */
export const MANIFESTS_DIR = 'manifests';
/** Dockerfiles, ignore files, the bake file and build script. */
export const IMAGES_DIR = 'images';
/** One compose file per stack for local development. */
export const COMPOSE_DIR = 'compose';
/** One Mermaid diagram per stack (`<stack>.md`), for review. */
export const DIAGRAMS_DIR = 'diagrams';

/**
 * The manifest file a stack writes: `manifests/<its path, lowercased and '-'-joined>.k8s.yaml`.
 * @internal
 */
export function manifestFileOf(chart: Chart): string {
  return `${MANIFESTS_DIR}/${chartFileName(chart)}.k8s.yaml`;
}

function chartFileName(chart: Chart): string {
  return toDnsLabel(chart.node.path.split('/').join('-')) || 'app';
}

/** Something registered to write files at synth: a contributor, or one stack's compose services. @internal */
export type OutputPart = { readonly contributor: IOutputContributor } | { readonly compose: ComposeServices };

/**
 * What an app writes besides its manifests, registered by the constructs that contribute it (image
 * builds, compose services) and read by the app at synth (lib/app/ml-app.ts): constructs never
 * import the app that writes the output.
 * @internal
 */
export class AppOutputs {
  /** In the order registered: the order the app asks them for their files. */
  public readonly parts: OutputPart[] = [];

  public add(contributor: IOutputContributor): void {
    this.parts.push({ contributor });
  }

  public addCompose(compose: ComposeServices): void {
    this.parts.push({ compose });
  }
}

const OUTPUTS = appKey<AppOutputs>('outputs');

/** Called by an app that writes an output directory (MlApp): its constructs' outputs are collected from now on. @internal */
export function openAppOutputs(app: IConstruct): AppOutputs {
  return appScoped(app, OUTPUTS, () => new AppOutputs());
}

/** The outputs of the app `scope` belongs to; undefined in an app that writes none (a plain cdk8s App). @internal */
export function appOutputsOf(scope: IConstruct): AppOutputs | undefined {
  return appScopedIfAny(scope, OUTPUTS);
}
