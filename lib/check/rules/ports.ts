/** Family `port-range`: ports outside 1..65535, named ports that are not IANA_SVC_NAMEs. */
import { isIanaSvcName } from '../../rules/dns';
import { asArray, containersOf, dig, isPlainObject, K8sObject, WorkloadPodTemplate, field } from '../k8s-common';
import { isString, ObjectInput, ObjectRule } from './rule';

function portIssue(value: unknown, at: string, allowNamed: boolean): string | undefined {
  if (value === undefined) return undefined;
  // A named port (resolved by service-target-port) is an IANA_SVC_NAME: pkg/apis/core/validation
  // ValidatePortNumOrName (Service targetPort, probes) and ValidateNetworkPolicyPort: IsValidPortName.
  if (typeof value === 'string' && allowNamed)
    return isIanaSvcName(value)
      ? undefined
      : `${at} "${value}" must be a port number or an IANA_SVC_NAME (<=15 chars, lowercase alphanumerics and '-', at least one letter, no '--')`;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535) return undefined;
  return `${at} must be an integer in 1..65535 (got ${JSON.stringify(value)})`;
}

const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;

function containerPortIssues(t: WorkloadPodTemplate): string[] {
  const out: string[] = [];
  for (const c of containersOf(t, ['initContainers', 'containers', 'ephemeralContainers'])) {
    asArray<{ containerPort?: unknown; hostPort?: unknown }>(c.container.ports).forEach((p, i) => {
      out.push(...[portIssue(p?.containerPort, `${c.path}.ports[${i}].containerPort`, false)].filter(isString));
      if (p?.hostPort !== undefined && p.hostPort !== 0)
        out.push(...[portIssue(p.hostPort, `${c.path}.ports[${i}].hostPort`, false)].filter(isString));
    });
    for (const probe of PROBES) {
      const pr: unknown = c.container[probe];
      if (!isPlainObject(pr)) continue;
      for (const handler of ['httpGet', 'tcpSocket', 'grpc']) {
        const h = pr[handler];
        if (isPlainObject(h)) out.push(...[portIssue(h.port, `${c.path}.${probe}.${handler}.port`, handler !== 'grpc')].filter(isString));
      }
    }
  }
  return out;
}

function servicePortIssues(obj: K8sObject): string[] {
  if (obj?.kind !== 'Service') return [];
  const out: string[] = [];
  asArray<Record<string, unknown>>(field(obj, 'spec', 'ports')).forEach((p, i) => {
    out.push(
      ...[
        portIssue(p?.port, `spec.ports[${i}].port`, false),
        portIssue(p?.targetPort, `spec.ports[${i}].targetPort`, true),
        portIssue(p?.nodePort, `spec.ports[${i}].nodePort`, false),
      ].filter(isString),
    );
  });
  return out;
}

function networkPolicyPortIssues(obj: K8sObject): string[] {
  if (obj?.kind !== 'NetworkPolicy') return [];
  const out: string[] = [];
  for (const dir of ['ingress', 'egress']) {
    asArray<Record<string, unknown>>(field(obj, 'spec', dir)).forEach((r, ri) => {
      asArray<Record<string, unknown>>(r?.ports).forEach((p, pi) => {
        const at = `spec.${dir}[${ri}].ports[${pi}]`;
        out.push(...[portIssue(p?.port, `${at}.port`, true), portIssue(p?.endPort, `${at}.endPort`, false)].filter(isString));
      });
    });
  }
  return out;
}

/** networking validateIngressBackend: a Service backend's port number is a port. */
function ingressPortIssues(obj: K8sObject): string[] {
  if (obj?.kind !== 'Ingress') return [];
  const backends: Array<[unknown, string]> = [[field(obj, 'spec', 'defaultBackend'), 'spec.defaultBackend']];
  asArray<unknown>(dig(obj, ['spec', 'rules'])).forEach((r, i) =>
    asArray<unknown>(dig(r, ['http', 'paths'])).forEach((p, j) => backends.push([dig(p, ['backend']), `spec.rules[${i}].http.paths[${j}].backend`])),
  );
  return backends.flatMap(([b, at]) => [portIssue(dig(b, ['service', 'port', 'number']), `${at}.service.port.number`, false)].filter(isString));
}

export const PORT_RANGE: ObjectRule = {
  id: 'port-range',
  summary: 'ports outside 1..65535, named ports that are not IANA_SVC_NAMEs',
  fix: "use a port number in 1..65535, or a port name of at most 15 lowercase alphanumerics and '-' with a letter",
  check: ({ obj, t }: ObjectInput): string[] => [
    ...(t ? containerPortIssues(t) : []),
    ...servicePortIssues(obj),
    ...networkPolicyPortIssues(obj),
    ...ingressPortIssues(obj),
  ],
};
