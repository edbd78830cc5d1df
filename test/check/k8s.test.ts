/* eslint-disable @typescript-eslint/no-explicit-any */
import {
  checkManifests,
  expectValidManifests,
  imageTagIssue,
  inClusterService,
  isIanaSvcName,
  KNOWN_CUSTOM_KINDS,
  parseYamlStream,
  servicesSelecting,
  workloadPodTemplates,
} from '../../lib/check/k8s';
import { all, caseObjects, cronJobFrom, depC, depPod, goodSet, jobC, K8S_CASES, K8sCase } from './fixtures';

function problemsAfter(mutate: K8sCase[1]): string[] {
  return checkManifests(caseObjects(mutate));
}

function expectCases(cases: K8sCase[]): void {
  it.each(cases)('%s', (_name, mutate, expected) => {
    expect(problemsAfter(mutate)).toContainEqual(expect.stringMatching(expected));
  });
}

describe('good set', () => {
  it('passes every rule', () => {
    expect(checkManifests(all(goodSet()))).toEqual([]);
  });

  it('passes with a CronJob built from the Job', () => {
    const s = goodSet();
    expect(checkManifests([...all(s), cronJobFrom(s.job)])).toEqual([]);
  });

  it('passes when many namespaces are checked together', () => {
    const objects = Array.from({ length: 100 }, (_, i) => all(goodSet(`ml-${i}`))).flat();
    expect(checkManifests(objects)).toEqual([]);
  });

  it('expectValidManifests throws with one problem per line', () => {
    const s = goodSet();
    depC(s).image = 'web:latest';
    s.networkPolicy.spec.ingress[0].ports[0].port = 0;
    expect(() => expectValidManifests(all(s))).toThrow(
      /^2 manifest problem\(s\):\nDeployment\/ml\/web: image-tag: .*\nNetworkPolicy\/ml\/web: port-range: .*\(got 0\)$/,
    );
    expect(() => expectValidManifests(all(goodSet()))).not.toThrow();
  });
});

describe('schema', () => {
  expectCases(K8S_CASES.schema);

  it('covers the kinds we synthesize', () => {
    const kinds: Array<[string, string, any]> = [
      ['v1', 'ServiceAccount', {}],
      ['v1', 'Secret', { stringData: { a: 'b' } }],
      ['v1', 'PersistentVolumeClaim', { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      [
        'autoscaling/v2',
        'HorizontalPodAutoscaler',
        {
          spec: {
            scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
            maxReplicas: 3,
            metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
          },
        },
      ],
      [
        'networking.k8s.io/v1',
        'Ingress',
        {
          spec: {
            rules: [
              {
                host: 'web.example.com',
                http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] },
              },
            ],
          },
        },
      ],
      ['rbac.authorization.k8s.io/v1', 'Role', { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] }],
      [
        'rbac.authorization.k8s.io/v1',
        'RoleBinding',
        {
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' },
          subjects: [{ kind: 'ServiceAccount', name: 'web', namespace: 'ml' }],
        },
      ],
    ];
    const objects = kinds.map(([apiVersion, kind, body]) => ({ apiVersion, kind, metadata: { name: 'x', namespace: 'ml' }, ...body }));
    expect(checkManifests(objects)).toEqual([]);
    // A typo inside each of them is still found: the HPA's metric target.
    objects[3].spec.metrics[0].resource.target.averageUtilisation = 70;
    expect(checkManifests(objects)).toEqual([
      'HorizontalPodAutoscaler/ml/x: unknown-field: ' +
        'spec.metrics[0].resource.target.averageUtilisation is not a field of autoscaling/v2 HorizontalPodAutoscaler',
    ]);
  });

  it('skips schema and unknown fields for KNOWN_CUSTOM_KINDS', () => {
    const app = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'web', namespace: 'argocd' }, spec: { anything: true } };
    expect(checkManifests([app])).toEqual([]);
    const custom = { apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 't' }, spec: {} };
    expect(checkManifests([custom])).toHaveLength(1);
    KNOWN_CUSTOM_KINDS.add('example.com/v1/Thing');
    try {
      expect(checkManifests([custom])).toEqual([]);
    } finally {
      KNOWN_CUSTOM_KINDS.delete('example.com/v1/Thing');
    }
  });
});

describe('unknown-field', () => {
  expectCases(K8S_CASES['unknown-field']);

  it('does not flag keys of string maps (labels, data)', () => {
    const s = goodSet();
    s.configMap.data['Weird_Key.conf'] = 'x'; // a valid ConfigMap key (IsConfigMapKey), not a field name
    expect(checkManifests(all(s))).toEqual([]);
  });
});

describe('dns-1123', () => {
  expectCases(K8S_CASES['dns-1123']);

  it('accepts an empty label value and RBAC names with colons', () => {
    const s = goodSet();
    s.configMap.metadata.labels = { 'example.com/flag': '' };
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'ml:reader' }, rules: [] };
    expect(checkManifests([...all(s), role])).toEqual([]);
  });

  it('isIanaSvcName', () => {
    expect(['http', 'grpc-api', 'h2c', 'metrics-15chars'].filter((n) => !isIanaSvcName(n))).toEqual([]);
    expect(['', 'HTTP', '-http', 'http-', 'a--b', '123', 'sixteen-chars-xx'].filter(isIanaSvcName)).toEqual([]);
  });
});

describe('port-range', () => {
  expectCases(K8S_CASES['port-range']);
});

describe('service-selector and workload-selector', () => {
  expectCases([...K8S_CASES['service-selector'], ...K8S_CASES['workload-selector']]);

  it('skips selector-less and ExternalName Services', () => {
    const s = goodSet();
    const headless = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'external-db', namespace: 'ml' }, spec: { ports: [{ port: 5432 }] } };
    const ext = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'api', namespace: 'ml' },
      spec: { type: 'ExternalName', externalName: 'api.example.com', selector: { x: 'y' } },
    };
    expect(checkManifests([...all(s), headless, ext])).toEqual([]);
  });

  it('helpers find pod templates and the Services selecting them', () => {
    const s = goodSet();
    const objects = [...all(s), cronJobFrom(s.job)];
    expect(workloadPodTemplates(objects).map((t) => `${t.ref} ${t.specPath}`)).toEqual([
      'Deployment/ml/web spec.template.spec',
      'Job/ml/smoke-test spec.template.spec',
      'CronJob/ml/nightly-smoke spec.jobTemplate.spec.template.spec',
    ]);
    expect(servicesSelecting(objects, s.deployment)).toEqual([s.service]);
    expect(servicesSelecting(objects, s.job)).toEqual([]);
  });
});

describe('service-target-port', () => {
  expectCases(K8S_CASES['service-target-port']);

  it('accepts a numeric targetPort and a native sidecar port', () => {
    const s = goodSet();
    s.service.spec.ports[0].targetPort = 8080;
    s.service.spec.ports.push({ name: 'proxy', port: 9000, targetPort: 'proxy' });
    depPod(s).initContainers = [
      {
        ...JSON.parse(JSON.stringify(depC(s))),
        name: 'proxy',
        restartPolicy: 'Always',
        ports: [{ name: 'proxy', containerPort: 9000 }],
        readinessProbe: undefined,
        livenessProbe: undefined,
      },
    ];
    delete depPod(s).initContainers[0].readinessProbe;
    delete depPod(s).initContainers[0].livenessProbe;
    expect(checkManifests(all(s))).toEqual([]);
  });

  it('is skipped when the selector already failed', () => {
    const problems = problemsAfter((s) => {
      s.service.spec.selector = { nope: 'x' };
      s.service.spec.ports[0].targetPort = 1;
    });
    expect(problems.filter((p) => p.includes('service-target-port'))).toEqual([]);
  });
});

describe('env-url', () => {
  expectCases(K8S_CASES['env-url']);

  it('leaves external hosts, localhost and plain values alone', () => {
    const s = goodSet();
    jobC(s).env.push(
      { name: 'A', value: 'https://example.com/x' },
      { name: 'B', value: 'http://localhost:9999' },
      { name: 'C', value: 'web:1234' },
      { name: 'D', value: 'https://huggingface.co/models' },
      { name: 'E', value: 'http://10.0.0.1:1234' },
    );
    expect(checkManifests(all(s))).toEqual([]);
  });

  it('inClusterService', () => {
    const ns = new Set(['ml']);
    expect(inClusterService('web', 'ml', ns)).toEqual({ namespace: 'ml', name: 'web' });
    expect(inClusterService('web.ml', 'x', ns)).toEqual({ namespace: 'ml', name: 'web' });
    expect(inClusterService('web.other.svc', 'x', ns)).toEqual({ namespace: 'other', name: 'web' });
    expect(inClusterService('web.other.svc.cluster.local', 'x', ns)).toEqual({ namespace: 'other', name: 'web' });
    expect(inClusterService('example.com', 'ml', ns)).toBeUndefined();
    expect(inClusterService('a.b.example.com', 'ml', ns)).toBeUndefined();
  });
});

describe('pss-restricted', () => {
  expectCases(K8S_CASES['pss-restricted']);

  it('accepts container-level runAsNonRoot/seccomp instead of pod-level', () => {
    const s = goodSet();
    delete depPod(s).securityContext.runAsNonRoot;
    delete depPod(s).securityContext.seccompProfile;
    depC(s).securityContext.seccompProfile = { type: 'Localhost', localhostProfile: 'profiles/web.json' };
    depC(s).securityContext.capabilities.add = ['NET_BIND_SERVICE'];
    depPod(s).securityContext.sysctls = [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }];
    depC(s).securityContext.seLinuxOptions = { type: 'container_t', level: 's0:c123,c456' };
    depC(s).securityContext.procMount = 'Default';
    expect(checkManifests(all(s))).toEqual([]);
  });
});

describe('starts-non-root, read-only-root-fs, resources, image-tag', () => {
  expectCases([...K8S_CASES['starts-non-root'], ...K8S_CASES['read-only-root-fs'], ...K8S_CASES.resources, ...K8S_CASES['image-tag']]);

  it('imageTagIssue accepts tags and digests', () => {
    expect(imageTagIssue('python:3.12.8-slim-bookworm')).toBeUndefined();
    expect(imageTagIssue('registry.local:5000/ml/web:1.0')).toBeUndefined();
    expect(imageTagIssue(`ghcr.io/x/y@sha256:${'0'.repeat(64)}`)).toBeUndefined();
    expect(imageTagIssue(undefined)).toBe('image must be set');
  });
});

describe('parseYamlStream', () => {
  it('reads multi-document YAML and drops empty documents', () => {
    const text =
      '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n# only a ' +
      'comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n---\n';
    expect(parseYamlStream(text).map((o: any) => o.metadata.name)).toEqual(['a', 'b']);
  });

  it('throws on YAML errors', () => {
    expect(() => parseYamlStream('a: [1, 2\n')).toThrow(/YAML error/);
  });
});
