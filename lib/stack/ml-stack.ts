import { ApiObjectMetadata, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { fail, MlInputError } from '../_errors';
import { checkName, isDnsLabel, toDnsLabel } from '../_names';

const ML_STACK = Symbol.for('cdk8s-ml.MlStack');

export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const LABEL_PART_OF = 'app.kubernetes.io/part-of';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';

export interface MlStackProps {
  /**
   * Namespace of every object in the stack.
   * @default - the stack id
   */
  readonly namespace?: string;
  /**
   * Emit the Namespace object, labelled to enforce Pod Security "restricted". Turn off when the
   * namespace is managed elsewhere (for example by Argo CD's CreateNamespace=true).
   * @default true
   */
  readonly createNamespace?: boolean;
  /**
   * Extra labels for every object of the stack.
   * @default - only the recommended app.kubernetes.io labels
   */
  readonly labels?: Record<string, string>;
}

/**
 * One deployable unit: a namespace, the recommended `app.kubernetes.io/*` labels on every object,
 * and stable readable names (no hash suffixes), one manifest file in the output.
 */
export class MlStack extends Chart {
  public static isMlStack(x: unknown): x is MlStack {
    return typeof x === 'object' && x !== null && ML_STACK in x;
  }

  /** The MlStack a construct is defined in. */
  public static of(scope: IConstruct): MlStack {
    for (let c: IConstruct | undefined = scope; c; c = c.node.scope) {
      if (MlStack.isMlStack(c)) return c;
    }
    throw new MlInputError(`${scope.node.path || scope.node.id}: cdk8s-ml constructs must be defined inside an MlStack (new MlStack(app, 'my-stack')).`);
  }

  /** Namespace of every object in the stack. */
  public readonly namespaceName: string;
  /** The stack's name: its id, used as app.kubernetes.io/part-of and in file names. */
  public readonly stackName: string;

  constructor(scope: Construct, id: string, props: MlStackProps = {}) {
    const stackName = toDnsLabel(id);
    super(scope, id, {
      labels: { [LABEL_PART_OF]: stackName, [LABEL_MANAGED_BY]: 'cdk8s-ml', ...props.labels },
      disableResourceNameHashes: true,
    });
    Object.defineProperty(this, ML_STACK, { value: true });
    if (!isDnsLabel(stackName)) {
      fail(this, 'id', 'must give a DNS-1123 label (used as the part-of label and the manifest file name)', id, "use an id such as 'and-gate'");
    }
    this.stackName = stackName;
    this.namespaceName = checkName(this, 'namespace', props.namespace ?? stackName);
    for (const [k, v] of Object.entries(props.labels ?? {})) {
      if (!/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(k) || !/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/.test(v)) {
        fail(this, `labels.${k}`, 'must be a valid Kubernetes label (key: optional DNS prefix + name of at most 63 characters; value: at most 63 of [A-Za-z0-9._-])', v, 'rename the label or shorten its value');
      }
    }
    if (props.createNamespace ?? true) {
      new k8s.KubeNamespace(this, 'Namespace', {
        metadata: {
          name: this.namespaceName,
          // Enforce on the cluster what the library guarantees at synth: every pod passes "restricted".
          labels: {
            'pod-security.kubernetes.io/enforce': 'restricted',
            'pod-security.kubernetes.io/enforce-version': 'latest',
          },
        },
      });
    }
  }

  /**
   * Metadata for an object of this stack: name, namespace and the workload's recommended labels.
   * @internal
   */
  public _metadata(name: string, labels: Record<string, string> = {}, annotations?: Record<string, string>): ApiObjectMetadata {
    return {
      name,
      namespace: this.namespaceName,
      labels,
      ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
    };
  }

  /**
   * The recommended labels of one workload; the first two are its selector.
   * @internal
   */
  public _workloadLabels(name: string, component: string): { selector: Record<string, string>; labels: Record<string, string> } {
    const selector = { [LABEL_NAME]: name, [LABEL_INSTANCE]: `${this.stackName}-${name}`.slice(0, 63).replace(/-+$/, '') };
    return { selector, labels: { ...selector, [LABEL_COMPONENT]: component } };
  }
}

/**
 * The readable name of a construct's objects: its id path below the stack joined with '-'
 * (`web` in stack `and-gate` -> `web`; `serving/api` -> `serving-api`).
 */
export function defaultName(scope: IConstruct): string {
  const stack = MlStack.of(scope);
  const parts: string[] = [];
  for (let c: IConstruct | undefined = scope; c && c !== stack; c = c.node.scope) parts.unshift(c.node.id);
  return toDnsLabel(parts.join('-'));
}
