/**
 * Rule `schema`, the part the OpenAPI schema does not carry: what the API server's validation of one
 * object refuses beyond types, enums and required fields. Each check names where Kubernetes writes it
 * (kubernetes/kubernetes v1.36, pkg/apis/<group>/validation unless said otherwise). Found by
 * test/cluster/check-agreement.test.ts, where the check passed what a real server refused.
 */
import * as net from 'node:net';
import { labelValueIssue } from '../rules/dns';
import { arrayAt, asArray, containersOf, field, isPlainObject, K8sObject, podTemplateOf, Problem } from './k8s-common';

interface ServerCheck {
  /** Kinds it applies to (`*` for any). */
  readonly kinds: readonly string[];
  readonly check: (obj: K8sObject) => string[];
}

const LABEL_SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];
/** Keys whose value is a metav1.LabelSelector (node selectors, with Gt and Lt, are not among them). */
const LABEL_SELECTOR_KEYS = new Set(['selector', 'podSelector', 'namespaceSelector', 'labelSelector', 'objectSelector', 'clusterRoleSelectors']);

/** apimachinery pkg/apis/meta/v1/validation ValidateLabelSelectorRequirement: the operator and its values. */
function labelSelectorIssues(obj: K8sObject): string[] {
  const out: string[] = [];
  const requirement = (r: unknown, at: string): void => {
    const op = field(r, 'operator');
    if (typeof op !== 'string') return;
    if (!LABEL_SELECTOR_OPERATORS.includes(op)) out.push(`${at}.operator "${op}" is not one of ${LABEL_SELECTOR_OPERATORS.join(', ')}`);
    const values = arrayAt(r, 'values');
    if ((op === 'In' || op === 'NotIn') && values.length === 0) out.push(`${at}.values must be given for operator ${op}`);
    if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0) out.push(`${at}.values must be empty for operator ${op}`);
  };
  const visit = (node: unknown, at: string, inSelector: boolean): void => {
    if (Array.isArray(node)) {
      node.forEach((v, i) => visit(v, `${at}[${i}]`, inSelector));
      return;
    }
    if (!isPlainObject(node)) return;
    for (const [k, v] of Object.entries(node)) {
      const p = at ? `${at}.${k}` : k;
      if (k === 'openAPIV3Schema') continue; // a CRD's schema describes fields, it selects nothing
      if (inSelector && k === 'matchExpressions') asArray(v).forEach((r, i) => requirement(r, `${p}[${i}]`));
      else visit(v, p, LABEL_SELECTOR_KEYS.has(k));
    }
  };
  visit(obj, '', false);
  return out;
}

/** core validateContainerCommon: every container names an image (the API leaves it optional for templates' sake). */
function containerImageIssues(obj: K8sObject): string[] {
  const t = podTemplateOf(obj);
  if (!t) return [];
  return containersOf(t, ['initContainers', 'containers', 'ephemeralContainers'])
    .filter((c) => typeof c.container.image !== 'string' || c.container.image.trim() === '')
    .map((c) => `${c.path}.image is required`);
}

/**
 * core validatePreferredSchedulingTerms and validateWeightedPodAffinityTerms (ValidateAffinity): every
 * preferred term of node affinity, pod affinity and pod anti-affinity weighs 1..100. Found by the
 * property tests' cases on the API server: the schema types the weight only as an integer.
 */
function affinityWeightIssues(obj: K8sObject): string[] {
  const t = podTemplateOf(obj);
  const affinity = t?.podSpec?.affinity;
  if (!t || !isPlainObject(affinity)) return [];
  const out: string[] = [];
  for (const kind of ['nodeAffinity', 'podAffinity', 'podAntiAffinity']) {
    arrayAt(affinity, kind, 'preferredDuringSchedulingIgnoredDuringExecution').forEach((term, i) => {
      const w = field(term, 'weight');
      if (typeof w === 'number' && (!Number.isInteger(w) || w < 1 || w > 100)) {
        out.push(`${t.specPath}.affinity.${kind}.preferredDuringSchedulingIgnoredDuringExecution[${i}].weight ${w} must be in the range 1-100`);
      }
    });
  }
  return out;
}

const NODE_SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'];

/**
 * core ValidateNodeSelectorRequirement (through ValidateNodeSelector and validatePreferredSchedulingTerms):
 * In and NotIn need values, Exists and DoesNotExist take none, Gt and Lt exactly one integer. Found by
 * the property tests' cases on the API server ("values: Required value: must be specified when
 * `operator` is 'In' or 'NotIn'").
 */
function nodeSelectorIssues(obj: K8sObject): string[] {
  const t = podTemplateOf(obj);
  const node = field(t?.podSpec?.affinity, 'nodeAffinity');
  if (!t || !isPlainObject(node)) return [];
  const out: string[] = [];
  const term = (nt: unknown, at: string) => {
    for (const key of ['matchExpressions', 'matchFields']) {
      arrayAt(nt, key).forEach((r, i) => {
        const p = `${at}.${key}[${i}]`;
        const op = field(r, 'operator');
        const values = arrayAt(r, 'values');
        if (typeof op !== 'string') return;
        if (!NODE_SELECTOR_OPERATORS.includes(op)) out.push(`${p}.operator "${op}" is not one of ${NODE_SELECTOR_OPERATORS.join(', ')}`);
        else if ((op === 'In' || op === 'NotIn') && values.length === 0) out.push(`${p}.values must be given for operator ${op}`);
        else if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0) out.push(`${p}.values must be empty for operator ${op}`);
        else if ((op === 'Gt' || op === 'Lt') && (values.length !== 1 || !/^-?\d+$/.test(String(values[0]))))
          out.push(`${p}.values must be one integer for operator ${op}`);
        // In and NotIn values of matchExpressions are label values (validateNodeSelectorRequirement).
        if (key === 'matchExpressions' && (op === 'In' || op === 'NotIn')) {
          values.forEach((v, j) => {
            const issue = typeof v === 'string' ? labelValueIssue(v) : undefined;
            if (issue) out.push(`${p}.values[${j}]: ${issue}`);
          });
        }
      });
    }
  };
  const base = `${t.specPath}.affinity.nodeAffinity`;
  arrayAt(node, 'requiredDuringSchedulingIgnoredDuringExecution', 'nodeSelectorTerms').forEach((nt, i) =>
    term(nt, `${base}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[${i}]`),
  );
  arrayAt(node, 'preferredDuringSchedulingIgnoredDuringExecution').forEach((pt, i) =>
    term(field(pt, 'preference'), `${base}.preferredDuringSchedulingIgnoredDuringExecution[${i}].preference`),
  );
  return out;
}

/** apps ValidateDeploymentSpec: progressDeadlineSeconds (default 600) must be greater than minReadySeconds. */
function deploymentIssues(obj: K8sObject): string[] {
  const given = field(obj, 'spec', 'progressDeadlineSeconds');
  const min = field(obj, 'spec', 'minReadySeconds');
  const deadline = given ?? 600;
  if (typeof min === 'number' && typeof deadline === 'number' && deadline <= min) {
    return [
      `spec.progressDeadlineSeconds (${deadline}${given === undefined ? ', the default' : ''}) must be greater ` + `than minReadySeconds (${min})`,
    ];
  }
  return [];
}

/** batch ValidateJobSpec (validateJobTemplate for a CronJob): a Job's pods restart OnFailure or Never. */
function jobRestartPolicyIssues(obj: K8sObject): string[] {
  const t = podTemplateOf(obj);
  const policy = t?.podSpec?.restartPolicy;
  if (!t || policy === 'OnFailure' || policy === 'Never') return [];
  return [`${t.specPath}.restartPolicy must be OnFailure or Never for a Job's pods (got ${JSON.stringify(policy ?? null)})`];
}

/** policy ValidatePodDisruptionBudgetSpec. */
function pdbIssues(obj: K8sObject): string[] {
  return field(obj, 'spec', 'minAvailable') !== undefined && field(obj, 'spec', 'maxUnavailable') !== undefined
    ? ['spec: minAvailable and maxUnavailable cannot both be set']
    : [];
}

/** core ValidateSecret: the keys each built-in type needs (stringData is merged into data first). */
const SECRET_TYPE_KEYS: Readonly<Record<string, readonly string[]>> = {
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
};

function secretIssues(obj: K8sObject): string[] {
  const needed = SECRET_TYPE_KEYS[String(obj?.type)] ?? [];
  const keys = new Set([
    ...Object.keys(isPlainObject(obj?.data) ? obj.data : {}),
    ...Object.keys(isPlainObject(obj?.stringData) ? obj.stringData : {}),
  ]);
  const out = needed.filter((k) => !keys.has(k)).map((k) => `data["${k}"] is required for a Secret of type ${obj.type}`);
  if (obj?.type === 'kubernetes.io/basic-auth' && !keys.has('username') && !keys.has('password'))
    out.push('data must hold username or password for a Secret of type kubernetes.io/basic-auth');
  return out;
}

/** core ValidateService: a port number+protocol once; names unique, and required when there are several ports. */
function servicePortIssues(obj: K8sObject): string[] {
  const out: string[] = [];
  const ports = arrayAt(obj, 'spec', 'ports');
  const seen = new Set<string>();
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const key = `${field(p, 'port')}/${field(p, 'protocol') ?? 'TCP'}`;
    if (seen.has(key)) out.push(`spec.ports[${i}]: port ${key} is listed twice`);
    seen.add(key);
    const name = field(p, 'name');
    if (ports.length > 1 && (typeof name !== 'string' || name === ''))
      out.push(`spec.ports[${i}].name is required when a Service has more than one port`);
    if (typeof name === 'string' && name !== '') {
      if (names.has(name)) out.push(`spec.ports[${i}].name "${name}" is listed twice`);
      names.add(name);
    }
  });
  return out;
}

/** core ValidatePersistentVolumeClaimSpec: a claim requests storage. */
function pvcIssues(obj: K8sObject): string[] {
  const requests = field(obj, 'spec', 'resources', 'requests');
  return isPlainObject(requests) && requests.storage !== undefined && requests.storage !== null
    ? []
    : ['spec.resources.requests.storage is required'];
}

const HPA_METRIC_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];

/** autoscaling validateMetricSpec (validMetricSourceTypes). */
function hpaIssues(obj: K8sObject): string[] {
  if (obj?.apiVersion !== 'autoscaling/v2') return [];
  return arrayAt(obj, 'spec', 'metrics')
    .map((m, i) => {
      const type = field(m, 'type');
      return typeof type === 'string' && !HPA_METRIC_TYPES.includes(type)
        ? `spec.metrics[${i}].type "${type}" is not one of ${HPA_METRIC_TYPES.join(', ')}`
        : undefined;
    })
    .filter((m): m is string => m !== undefined);
}

/**
 * apiextensions-apiserver pkg/apis/apiextensions/validation: ValidateCustomResourceDefinition (the name is
 * plural.group), ValidateCustomResourceDefinitionSpec (scope; every version has a schema in v1).
 */
function crdIssues(obj: K8sObject): string[] {
  const out: string[] = [];
  const required = `${field(obj, 'spec', 'names', 'plural')}.${field(obj, 'spec', 'group')}`;
  const name = field(obj, 'metadata', 'name');
  if (typeof name === 'string' && name !== required) out.push(`metadata.name "${name}" must be spec.names.plural+"."+spec.group ("${required}")`);
  const scope = field(obj, 'spec', 'scope');
  if (scope !== undefined && scope !== 'Cluster' && scope !== 'Namespaced') out.push(`spec.scope "${scope}" is not one of Cluster, Namespaced`);
  arrayAt(obj, 'spec', 'versions').forEach((v, i) => {
    if (!isPlainObject(field(v, 'schema', 'openAPIV3Schema'))) out.push(`spec.versions[${i}].schema.openAPIV3Schema is required`);
  });
  return out;
}

/** networking ValidateIPBlock (IsValidCIDRForLegacyField): cidr and except are CIDRs. */
function isCidr(s: unknown): boolean {
  if (typeof s !== 'string') return false;
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  if (!m) return false;
  const family = net.isIP(m[1]);
  return family !== 0 && Number(m[2]) <= (family === 4 ? 32 : 128);
}

function networkPolicyIssues(obj: K8sObject): string[] {
  const out: string[] = [];
  for (const dir of ['ingress', 'egress'] as const) {
    arrayAt(obj, 'spec', dir).forEach((rule, ri) => {
      arrayAt(rule, dir === 'ingress' ? 'from' : 'to').forEach((peer, pi) => {
        const block = field(peer, 'ipBlock');
        if (!isPlainObject(block)) return;
        const at = `spec.${dir}[${ri}].${dir === 'ingress' ? 'from' : 'to'}[${pi}].ipBlock`;
        if (!isCidr(block.cidr)) out.push(`${at}.cidr ${JSON.stringify(block.cidr)} must be a CIDR (e.g. 10.0.0.0/8)`);
        asArray(block.except).forEach((e, ei) => {
          if (!isCidr(e)) out.push(`${at}.except[${ei}] ${JSON.stringify(e)} must be a CIDR`);
        });
      });
    });
  }
  return out;
}

const SERVER_CHECKS: readonly ServerCheck[] = [
  { kinds: ['*'], check: labelSelectorIssues },
  { kinds: ['*'], check: containerImageIssues },
  { kinds: ['*'], check: affinityWeightIssues },
  { kinds: ['*'], check: nodeSelectorIssues },
  { kinds: ['Job', 'CronJob'], check: jobRestartPolicyIssues },
  { kinds: ['Deployment'], check: deploymentIssues },
  { kinds: ['PodDisruptionBudget'], check: pdbIssues },
  { kinds: ['Secret'], check: secretIssues },
  { kinds: ['Service'], check: servicePortIssues },
  { kinds: ['PersistentVolumeClaim'], check: pvcIssues },
  { kinds: ['HorizontalPodAutoscaler'], check: hpaIssues },
  { kinds: ['CustomResourceDefinition'], check: crdIssues },
  { kinds: ['NetworkPolicy'], check: networkPolicyIssues },
];

/** The server-side validation problems of one object, as rule `schema`. */
export function serverValidationProblems(obj: K8sObject): Problem[] {
  const kind = obj?.kind;
  return SERVER_CHECKS.filter((c) => c.kinds.includes('*') || (typeof kind === 'string' && c.kinds.includes(kind)))
    .flatMap((c) => c.check(obj))
    .map((message) => ({ obj, rule: 'schema', message }));
}
