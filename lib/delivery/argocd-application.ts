import { Construct } from 'constructs';
import { fail } from '../_errors';
import { checkName } from '../_names';
import {
  checkChildId,
  checkDnsLabel,
  checkDnsSubdomain,
  checkHttpUrl,
  checkNoUrlCredentials,
  checkObject,
  checkOneOf,
  checkOptionalBoolean,
  checkRelativePath,
  checkString,
  keysOf,
} from '../_validate';
import { MlStack } from '../stack/ml-stack';
import { KUEUE_QUEUE_LABEL } from '../training/_job';
import { Application, ApplicationSpecIgnoreDifferences } from '../../imports/argoproj.io';

/** The name of the config-management plugin in deploy/argocd/plugin.yaml (name-version). */
export const ARGOCD_PLUGIN_NAME = 'cdk8s-ml-v1';

export interface ArgoCdApplicationProps {
  /** The stack the Application deploys; its namespace is the destination. */
  readonly stack: MlStack;
  /** Git repository holding the app (and, with committedManifests, the synthesized output). */
  readonly repoURL: string;
  /**
   * With `render: 'plugin'` (default) the directory of cdk8s.yaml, rendered by the cdk8s-ml
   * config-management plugin on every refresh; with `'committed'`, the committed manifests directory.
   * @default '.'
   */
  readonly path?: string;
  /** @default 'HEAD' */
  readonly targetRevision?: string;
  /**
   * 'plugin': the repo server runs `apps/main.ts --stdout --stack <stack>` (deploy/argocd/plugin.yaml);
   * 'committed': Argo CD reads `<path>/<stack>.k8s.yaml` that CI committed.
   * @default 'plugin'
   */
  readonly render?: 'plugin' | 'committed';
  /** @default 'default' */
  readonly project?: string;
  /** Namespace Argo CD runs in (the Application object goes there). @default 'argocd' */
  readonly argoNamespace?: string;
  /** @default 'https://kubernetes.default.svc' (the cluster Argo CD runs in) */
  readonly destinationServer?: string;
  /** Sync automatically, pruning what left git and reverting drift. @default true */
  readonly automated?: boolean;
}

const ARGOCD_KEYS = keysOf<ArgoCdApplicationProps>()([
  'stack',
  'repoURL',
  'path',
  'targetRevision',
  'render',
  'project',
  'argoNamespace',
  'destinationServer',
  'automated',
]);

/**
 * The fields of a queued Job (TrainingJob/BatchInferenceJob `queue`) that Kueue writes when it admits
 * the Job, as Argo CD jq path expressions (docs/user-guide/diffing.md: jqPathExpressions are run as
 * `del(<expr>)` by gojq, util/argo/normalizers/diff_normalizer.go). kueue v0.19
 * pkg/controller/jobs/job/job_controller.go RunWithPodSetsInfo sets spec.suspend to false and calls
 * pkg/podset/podset.go Merge, which merges the ResourceFlavor's nodeLabels into nodeSelector, appends
 * its tolerations, TAS scheduling gates, and the labels/annotations of TAS and of admission checks'
 * PodSetUpdates into the pod template. (spec.parallelism/completions change only under partial
 * admission, `kueue.x-k8s.io/job-min-parallelism`, which the library never sets; PodSetInfo.Affinity is
 * not merged into the template.) Without these, the admitted Job is OutOfSync, and selfHeal with the
 * Jobs' Force=true,Replace=true deletes and re-creates a running training. `select` keeps the other
 * Jobs' template fields compared: only Jobs with the queue label are ever admitted by Kueue.
 */
export const KUEUE_ADMISSION_IGNORED_FIELDS: readonly string[] = [
  '.spec.template.metadata.labels',
  '.spec.template.metadata.annotations',
  '.spec.template.spec.nodeSelector',
  '.spec.template.spec.tolerations',
  '.spec.template.spec.schedulingGates',
].map((field) => `select(.metadata.labels["${KUEUE_QUEUE_LABEL}"] != null) | ${field}`);

/** What the Application ignores in the diff: Kueue's admission of queued batch Jobs. */
function jobIgnoreDifferences(): ApplicationSpecIgnoreDifferences {
  return {
    group: 'batch',
    kind: 'Job',
    // Kueue admits a queued Job by setting spec.suspend to false, a mutable field; ignored for every
    // Job, so suspending one by hand does not make selfHeal re-create (re-run) it either.
    jsonPointers: ['/spec/suspend'],
    jqPathExpressions: [...KUEUE_ADMISSION_IGNORED_FIELDS],
  };
}

// Argo CD reads a private repository's credentials from a repository Secret (argo-cd docs: declarative setup, Repositories).
const REPO_CREDENTIALS_FIX =
  'remove the user and token from repoURL; give Argo CD a Secret labelled argocd.argoproj.io/secret-type: repository with url, ' +
  'username and password';

/**
 * An Argo CD Application (typed bindings in imports/, generated offline with `cdk8s import` from the
 * CRD file kept in imports/crds) that deploys one stack's manifests.
 */
export class ArgoCdApplication extends Construct {
  public readonly applicationName: string;

  constructor(scope: Construct, id: string, props: ArgoCdApplicationProps) {
    super(scope, checkChildId(scope, id, 'ArgoCdApplication'));
    checkObject(this, 'props', props, "{ stack, repoURL: 'https://github.com/acme/ml-platform.git' }", ARGOCD_KEYS);
    if (!MlStack.isMlStack(props.stack)) fail(this, 'stack', 'must be an MlStack', props.stack, 'pass the stack object the Application deploys');
    checkNoUrlCredentials(this, 'repoURL', props.repoURL, REPO_CREDENTIALS_FIX);
    if (typeof props.repoURL !== 'string' || !/^(https?:\/\/|ssh:\/\/|git@)[^\s\u0000-\u001f\u007f]+$/.test(props.repoURL)) {
      fail(
        this,
        'repoURL',
        'must be a git URL (https://, ssh:// or git@host:org/repo)',
        props.repoURL,
        "use e.g. 'https://github.com/acme/ml-platform.git'",
      );
    }
    const path = props.path ?? '.';
    if (typeof path !== 'string' || path.startsWith('/') || path.split('/').includes('..'))
      fail(this, 'path', 'must be a relative path inside the repository', path, "use e.g. 'dist/manifests' or '.'");
    if (path !== '.') checkRelativePath(this, 'path', path, 'dist/manifests');
    const render = checkOneOf(this, 'render', props.render, ['plugin', 'committed']) ?? 'plugin';
    // A branch, tag or commit: one line, no spaces (git check-ref-format).
    if (props.targetRevision !== undefined) checkString(this, 'targetRevision', props.targetRevision, { example: "'main'" });
    if (props.targetRevision !== undefined && /\s/.test(props.targetRevision)) {
      fail(this, 'targetRevision', 'must be a branch, tag or commit (no spaces)', props.targetRevision, "use e.g. 'main', 'v1.2.0' or 'HEAD'");
    }
    if (props.project !== undefined) checkDnsSubdomain(this, 'project', props.project, 'an Argo CD AppProject name', 'default');
    if (props.argoNamespace !== undefined) checkDnsLabel(this, 'argoNamespace', props.argoNamespace, 'the namespace Argo CD runs in', 'argocd');
    if (props.destinationServer !== undefined) checkHttpUrl(this, 'destinationServer', props.destinationServer, 'https://kubernetes.default.svc');
    checkOptionalBoolean(this, 'automated', props.automated);
    this.applicationName = checkName(this, 'id', props.stack.stackName);
    const automated = props.automated ?? true;
    new Application(this, 'Resource', {
      metadata: { name: this.applicationName, namespace: props.argoNamespace ?? 'argocd' },
      spec: {
        project: props.project ?? 'default',
        source: {
          repoUrl: props.repoURL,
          path,
          targetRevision: props.targetRevision ?? 'HEAD',
          ...(render === 'plugin'
            ? { plugin: { name: ARGOCD_PLUGIN_NAME, env: [{ name: 'STACK', value: props.stack.stackName }] } }
            : { directory: { include: `${props.stack.stackName}.k8s.yaml` } }),
        },
        ignoreDifferences: [jobIgnoreDifferences()],
        destination: { server: props.destinationServer ?? 'https://kubernetes.default.svc', namespace: props.stack.namespaceName },
        syncPolicy: {
          ...(automated ? { automated: { prune: true, selfHeal: true } } : {}),
          // Namespaces come from the stack (with the Pod Security label); prune them last.
          // ApplyOutOfSyncOnly: Jobs are re-created when applied (Force=true,Replace=true, see
          // TrainingJob); applying only what changed keeps a finished training from running again.
          syncOptions: ['PruneLast=true', 'ApplyOutOfSyncOnly=true'],
        },
      },
    });
  }
}
