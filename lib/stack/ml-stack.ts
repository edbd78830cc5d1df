import { ApiObject, ApiObjectMetadata, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { fail, MlInputError, problem } from '../_errors';
import { checkName, isDnsLabel, isUrlHostLabel, serviceNameProblem, serviceNameSuggestion, toDnsLabel } from '../_names';
import { checkChildId, checkLabels, checkObject, checkOptionalBoolean, isPlainObject, keysOf } from '../_validate';
import { appOutputsOf, manifestFileOf } from './_output';
import { appKey, appScoped } from './_scoped';
import { POD_SECURITY_VERSION } from '../check/k8s-pss';

const ML_STACK = Symbol.for('cdk8s-ml.MlStack');

/** Per app (root construct): manifest file -> the stack that writes it. */
const MANIFEST_FILES = appKey<Map<string, MlStack>>('manifestFiles');

/** Per app (root construct): namespace -> the stack that emits its Namespace object. */
const NAMESPACE_OWNERS = appKey<Map<string, MlStack>>('namespaceOwners');

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

const STACK_KEYS = keysOf<MlStackProps>()(['namespace', 'createNamespace', 'labels']);

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
    throw new MlInputError(
      `${scope.node.path || scope.node.id}: cdk8s-ml constructs must be defined inside an MlStack (new MlStack(app, 'my-stack')).`,
    );
  }

  /** Namespace of every object in the stack. */
  public readonly namespaceName: string;
  /** The stack's name: its id, used as app.kubernetes.io/part-of and in file names. */
  public readonly stackName: string;

  constructor(scope: Construct, id: string, props: MlStackProps = {}) {
    const stackName = toDnsLabel(checkChildId(scope, id, 'MlStack'));
    // Checked once `this` exists (the errors name the stack); until then, only what is an object.
    const given = isPlainObject(props) ? props : {};
    super(scope, id, {
      labels: { [LABEL_PART_OF]: stackName, [LABEL_MANAGED_BY]: 'cdk8s-ml', ...(isPlainObject(given.labels) ? given.labels : {}) },
      disableResourceNameHashes: true,
    });
    Object.defineProperty(this, ML_STACK, { value: true });
    checkObject(this, 'props', props, "{ namespace: 'and-gate' }", STACK_KEYS);
    if (!isDnsLabel(stackName)) {
      fail(this, 'id', 'must give a DNS-1123 label (used as the part-of label and the manifest file name)', id, "use an id such as 'and-gate'");
    }
    this.stackName = stackName;
    this.namespaceName = checkName(this, 'namespace', props.namespace ?? stackName);
    if (!isUrlHostLabel(this.namespaceName)) {
      fail(
        this,
        'namespace',
        "starts with 'xn--' but is not valid punycode: it is part of every Service URL of the stack " +
          '(http://<service>.<namespace>.svc), which URL parsers then reject',
        this.namespaceName,
        "use a namespace that does not start with 'xn--'",
      );
    }
    checkLabels(this, 'labels', props.labels, "{ 'team': 'ml-platform' }");
    checkOptionalBoolean(this, 'createNamespace', props.createNamespace);
    this.claimManifestFile();
    if (props.createNamespace ?? true) {
      this.claimNamespace();
      new k8s.KubeNamespace(this, 'Namespace', {
        metadata: {
          name: this.namespaceName,
          // Enforce on the cluster what the library guarantees at synth: every pod passes "restricted",
          // at the pinned version the check applies ('latest' would be a different rule set on every cluster).
          labels: {
            'pod-security.kubernetes.io/enforce': 'restricted',
            'pod-security.kubernetes.io/enforce-version': POD_SECURITY_VERSION,
          },
        },
      });
    }
    this.node.addValidation({ validate: () => [...this.serviceNameProblems(), ...this.duplicateObjectProblems()] });
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
   * MlApp writes one manifest file per stack, named after its path lowercased and '-'-joined: two
   * stacks whose ids differ only there ('aa' and 'AA') would write the same file.
   */
  private claimManifestFile(): void {
    if (!appOutputsOf(this)) return;
    const files = appScoped(this, MANIFEST_FILES, () => new Map<string, MlStack>());
    const file = manifestFileOf(this);
    const other = files.get(file);
    if (other) {
      fail(
        this,
        'id',
        `gives the manifest file ${file}, which ${other.constructor.name} '${other.node.path}' writes too ` +
          "(a stack's file is named after its id, lowercased and '-'-joined)",
        this.node.id,
        `give one of the two stacks another id (here, or '${other.node.path}')`,
      );
    }
    files.set(file, this);
  }

  /** One stack per app emits a namespace's Namespace object; stacks can share the namespace itself. */
  private claimNamespace(): void {
    const owners = appScoped(this, NAMESPACE_OWNERS, () => new Map<string, MlStack>());
    const other = owners.get(this.namespaceName);
    if (other) {
      fail(
        this,
        'createNamespace',
        `would emit Namespace '${this.namespaceName}', which ${other.constructor.name} '${other.node.path}' emits too: ` +
          'their two Argo CD applications would both own it (a SharedResourceWarning, ' +
          'and deleting either application deletes the namespace with everything in it)',
        true,
        `set createNamespace: false on every stack of namespace '${this.namespaceName}' but one (here, or on '${other.node.path}')`,
      );
    }
    owners.set(this.namespaceName, this);
  }

  /**
   * Every Service of the stack has a DNS-1035 name. The workloads that create Services check their
   * names too; this covers every Service object, whoever made it.
   */
  private serviceNameProblems(): string[] {
    return objectsOf(this)
      .filter((o) => o.kind === 'Service')
      .flatMap((o) => {
        const why = serviceNameProblem(o.name);
        const owner = ownerOf(o);
        return why
          ? [
              problem(
                owner,
                'name',
                why,
                o.name,
                `pass name: '${serviceNameSuggestion(o.name)}', or give the construct an id that starts with a letter`,
              ),
            ]
          : [];
      });
  }

  /**
   * Two objects of one kind, name and namespace anywhere in the app (workloads whose ids or names
   * resolve to one name, in one stack or in two stacks of the same namespace) would silently replace
   * each other on apply. Each clash is reported once, by the stack of the object that comes later.
   */
  private duplicateObjectProblems(): string[] {
    const first = new Map<string, ApiObject>();
    const clashes = new Map<IConstruct, Map<IConstruct, { name: string; namespace: string; kinds: string[] }>>();
    for (const o of this.node.root.node.findAll().filter(ApiObject.isApiObject)) {
      const namespace = o.metadata.namespace ?? '';
      const key = `${o.kind}/${namespace}/${o.name}`;
      const earlier = first.get(key);
      if (!earlier) {
        first.set(key, o);
        continue;
      }
      if (stackOf(o) !== this) continue;
      const [later, before] = [ownerOf(o), ownerOf(earlier)];
      const byOwner = clashes.get(later) ?? new Map();
      clashes.set(later, byOwner);
      const clash = byOwner.get(before) ?? { name: o.name, namespace, kinds: [] };
      byOwner.set(before, clash);
      clash.kinds.push(o.kind);
    }
    return [...clashes].flatMap(([later, byOwner]) =>
      [...byOwner].map(([before, c]) => {
        const isWorkloadName = (later as { workloadName?: string }).workloadName === c.name;
        const kinds = c.kinds.length > 1 ? `${c.kinds.slice(0, -1).join(', ')} and ${c.kinds[c.kinds.length - 1]}` : c.kinds[0];
        return problem(
          later,
          isWorkloadName ? 'name' : `${c.kinds[0]} name`,
          `clashes with ${before.constructor?.name ?? 'Construct'} '${before.node.path}'` +
            `${c.namespace ? ` in namespace '${c.namespace}'` : ''}: both emit ${kinds} named "${c.name}", ` +
            'and Kubernetes keeps one object per kind and name, so one would silently replace the other',
          c.name,
          `give one of the two another id or name (an id becomes a name lowercased and '-'-joined: 'IrisAPI' and 'iris-api' are both "iris-api")`,
        );
      }),
    );
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

/** The nearest MlStack of a construct, if any. */
function stackOf(c: IConstruct): MlStack | undefined {
  for (let x: IConstruct | undefined = c; x; x = x.node.scope) if (MlStack.isMlStack(x)) return x;
  return undefined;
}

/** The ApiObjects whose nearest stack is this one. */
function objectsOf(stack: MlStack): ApiObject[] {
  return stack.node
    .findAll()
    .filter(ApiObject.isApiObject)
    .filter((o) => stackOf(o) === stack);
}

/** The construct whose props made an object: the workload it belongs to, else its parent, else itself. */
function ownerOf(o: ApiObject): IConstruct {
  for (let c = o.node.scope; c && !Chart.isChart(c); c = c.node.scope) if ('workloadName' in c) return c;
  const parent = o.node.scope;
  return parent && !Chart.isChart(parent) ? parent : o;
}
