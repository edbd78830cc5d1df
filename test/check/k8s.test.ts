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
} from '../_check/k8s';
import { all, cronJobFrom, GoodSet, goodSet, resources } from './fixtures';

/** Pod spec / first container of the Deployment and the Job in a set. */
const depPod = (s: GoodSet): any => s.deployment.spec.template.spec;
const depC = (s: GoodSet): any => depPod(s).containers[0];
const jobPod = (s: GoodSet): any => s.job.spec.template.spec;
const jobC = (s: GoodSet): any => jobPod(s).containers[0];

const DEP_C = String.raw`spec\.template\.spec\.containers\[0\]`;

function problemsAfter(mutate: (s: GoodSet) => any[] | void): string[] {
  const s = goodSet();
  const extra = mutate(s) ?? [];
  return checkManifests([...all(s), ...extra]);
}

/** [description, mutation of a fresh good set (may return extra objects), expected problem]. */
type Case = [string, (s: GoodSet) => any[] | void, RegExp];

function expectCases(cases: Case[]): void {
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
    expect(() => expectValidManifests(all(s))).toThrow(/^2 manifest problem\(s\):\nDeployment\/ml\/web: image-tag: .*\nNetworkPolicy\/ml\/web: port-range: .*\(got 0\)$/);
    expect(() => expectValidManifests(all(goodSet()))).not.toThrow();
  });
});

describe('schema', () => {
  expectCases([
    ['wrong type', (s) => { depC(s).ports[0].containerPort = '8080'; }, new RegExp(`^Deployment/ml/web: schema: ${DEP_C}\\.ports\\[0\\]\\.containerPort must be integer`)],
    ['missing required field', (s) => { delete depC(s).name; }, new RegExp(`^Deployment/ml/web: schema: ${DEP_C} must have required property name$`)],
    ['missing selector', (s) => { delete s.pdb.spec.selector; s.deployment.spec.selector = undefined; delete s.deployment.spec.selector; }, /^Deployment\/ml\/web: schema: spec must have required property selector$/],
    ['boolean as string', (s) => { depPod(s).automountServiceAccountToken = 'false'; }, /^Deployment\/ml\/web: schema: spec\.template\.spec\.automountServiceAccountToken must be boolean/],
    ['missing metadata.name', (s) => { delete s.configMap.metadata.name; }, /^ConfigMap\/ml\/<no name>: schema: metadata\.name is required/],
    ['kind typo', (s) => { s.configMap.kind = 'Configmap'; }, /^Configmap\/ml\/web-config: schema: no Kubernetes model for apiVersion "v1" kind "Configmap"/],
    ['unknown CRD', () => [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'w' } }], /^Workflow\/-\/w: schema: no Kubernetes model .*KNOWN_CUSTOM_KINDS/],
    ['wrong apiVersion for kind', (s) => { s.deployment.apiVersion = 'extensions/v1beta1'; }, /^Deployment\/ml\/web: schema: apiVersion "extensions\/v1beta1" kind "Deployment" is not served by current Kubernetes/],
  ]);

  it('covers the kinds we synthesize', () => {
    const kinds: Array<[string, string, any]> = [
      ['v1', 'ServiceAccount', {}],
      ['v1', 'Secret', { stringData: { a: 'b' } }],
      ['v1', 'PersistentVolumeClaim', { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      ['autoscaling/v2', 'HorizontalPodAutoscaler', { spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 3, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }] } }],
      ['networking.k8s.io/v1', 'Ingress', { spec: { rules: [{ host: 'web.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] } }],
      ['rbac.authorization.k8s.io/v1', 'Role', { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] }],
      ['rbac.authorization.k8s.io/v1', 'RoleBinding', { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' }, subjects: [{ kind: 'ServiceAccount', name: 'web', namespace: 'ml' }] }],
    ];
    const objects = kinds.map(([apiVersion, kind, body]) => ({ apiVersion, kind, metadata: { name: 'x', namespace: 'ml' }, ...body }));
    expect(checkManifests(objects)).toEqual([]);
    // A typo inside each of them is still found: the HPA's metric target.
    objects[3].spec.metrics[0].resource.target.averageUtilisation = 70;
    expect(checkManifests(objects)).toEqual([
      'HorizontalPodAutoscaler/ml/x: unknown-field: spec.metrics[0].resource.target.averageUtilisation is not a field of autoscaling/v2 HorizontalPodAutoscaler',
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
  expectCases([
    ['typo in container securityContext', (s) => { depC(s).securityContext.runAsNonroot = true; }, new RegExp(`^Deployment/ml/web: unknown-field: ${DEP_C}\\.securityContext\\.runAsNonroot is not a field of apps/v1 Deployment$`)],
    ['typo at spec level', (s) => { s.deployment.spec.replica = 3; }, /^Deployment\/ml\/web: unknown-field: spec\.replica is not a field/],
    ['field of another type', (s) => { s.service.spec.containerPort = 80; }, /^Service\/ml\/web: unknown-field: spec\.containerPort /],
    ['in a map of objects', (s) => { s.configMap.metadata.annotation = { a: 'b' }; }, /^ConfigMap\/ml\/web-config: unknown-field: metadata\.annotation /],
    ['in a volume source', (s) => { depPod(s).volumes[1].configMap.nmae = 'x'; }, /unknown-field: spec\.template\.spec\.volumes\[1\]\.configMap\.nmae /],
    ['in a NetworkPolicy peer', (s) => { s.networkPolicy.spec.ingress[0].from[0].podSelectr = {}; }, /^NetworkPolicy\/ml\/web: unknown-field: spec\.ingress\[0\]\.from\[0\]\.podSelectr /],
    ['in a CronJob job template', (s) => { const c = cronJobFrom(s.job); c.spec.jobTemplate.spec.template.spec.containers[0].resources.limit = {}; return [c]; }, /^CronJob\/ml\/nightly-smoke: unknown-field: spec\.jobTemplate\.spec\.template\.spec\.containers\[0\]\.resources\.limit /],
  ]);

  it('does not flag keys of string maps (labels, data)', () => {
    const s = goodSet();
    s.configMap.data['Weird Key'] = 'x';
    expect(checkManifests(all(s))).toEqual([]);
  });
});

describe('dns-1123', () => {
  expectCases([
    ['object name with uppercase', (s) => { s.configMap.metadata.name = 'Web_Config'; }, /^ConfigMap\/ml\/Web_Config: dns-1123: metadata\.name "Web_Config" must be a DNS-1123 subdomain/],
    ['Service name starting with a digit', (s) => { s.service.metadata.name = '1web'; }, /^Service\/ml\/1web: dns-1123: metadata\.name "1web" must be a DNS-1035 label/],
    ['Service name with a dot', (s) => { s.service.metadata.name = 'web.v1'; }, /^Service\/ml\/web\.v1: dns-1123: metadata\.name "web\.v1" must be a DNS-1035 label/],
    ['Namespace name with a dot', (s) => { s.namespace.metadata.name = 'ml.prod'; }, /^Namespace\/-\/ml\.prod: dns-1123: metadata\.name "ml\.prod" must be a DNS-1123 label/],
    ['namespace field', (s) => { s.configMap.metadata.namespace = 'ML'; }, /^ConfigMap\/ML\/web-config: dns-1123: metadata\.namespace "ML" must be a DNS-1123 label/],
    ['name longer than 253', (s) => { s.configMap.metadata.name = 'a'.repeat(254); }, /dns-1123: metadata\.name "a+" must be a DNS-1123 subdomain/],
    ['container name', (s) => { depC(s).name = 'Web'; }, new RegExp(`^Deployment/ml/web: dns-1123: ${DEP_C}\\.name "Web" must be a DNS-1123 label`)],
    ['init container name', (s) => { jobPod(s).initContainers = [{ ...jobC(s), name: 'wait_for_web' }]; }, /^Job\/ml\/smoke-test: dns-1123: spec\.template\.spec\.initContainers\[0\]\.name "wait_for_web"/],
    ['volume name', (s) => { depPod(s).volumes[0].name = 'tmp_dir'; depC(s).volumeMounts[0].name = 'tmp_dir'; }, /dns-1123: spec\.template\.spec\.volumes\[0\]\.name "tmp_dir" must be a DNS-1123 label/],
    ['container port name too long', (s) => { depC(s).ports[0].name = 'http-metrics-long'; }, new RegExp(`dns-1123: container "web" \\(${DEP_C}\\): ${DEP_C}\\.ports\\[0\\]\\.name "http-metrics-long" must be an IANA_SVC_NAME`)],
    ['container port name only digits', (s) => { depC(s).ports[0].name = '8080'; }, /dns-1123: .*ports\[0\]\.name "8080" must be an IANA_SVC_NAME/],
    ['service port name with --', (s) => { s.service.spec.ports[0].name = 'http--api'; }, /^Service\/ml\/web: dns-1123: spec\.ports\[0\]\.name "http--api" must be an IANA_SVC_NAME/],
    ['label key with bad name part', (s) => { s.configMap.metadata.labels = { 'app.kubernetes.io/-name': 'x' }; }, /^ConfigMap\/ml\/web-config: dns-1123: label key metadata\.labels\["app\.kubernetes\.io\/-name"\]: name part "-name"/],
    ['label key with bad prefix', (s) => { s.configMap.metadata.labels = { 'Example.com/name': 'x' }; }, /dns-1123: label key metadata\.labels\["Example\.com\/name"\]: prefix "Example\.com" is not a DNS-1123 subdomain/],
    ['label value too long', (s) => { s.configMap.metadata.labels = { tier: 'v'.repeat(64) }; }, /dns-1123: label metadata\.labels\.tier: value "v{64}" must be at most 63 chars/],
    ['pod template label value', (s) => { s.deployment.spec.template.metadata.labels['app.kubernetes.io/version'] = '1.2.3+build'; }, /^Deployment\/ml\/web: dns-1123: label spec\.template\.metadata\.labels\["app\.kubernetes\.io\/version"\]: value "1\.2\.3\+build"/],
    ['selector label value', (s) => { s.networkPolicy.spec.ingress[0].from[0].podSelector.matchLabels['app.kubernetes.io/name'] = 'smoke test'; }, /^NetworkPolicy\/ml\/web: dns-1123: label spec\.ingress\[0\]\.from\[0\]\.podSelector\.matchLabels\["app\.kubernetes\.io\/name"\]: value "smoke test"/],
    ['Service selector key', (s) => { s.service.spec.selector['bad key'] = 'x'; }, /^Service\/ml\/web: dns-1123: label key spec\.selector\["bad key"\]/],
  ]);

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
  expectCases([
    ['containerPort above 65535', (s) => { depC(s).ports[0].containerPort = 70000; }, new RegExp(`^Deployment/ml/web: port-range: ${DEP_C}\\.ports\\[0\\]\\.containerPort must be an integer in 1\\.\\.65535 \\(got 70000\\)`)],
    ['Service port 0', (s) => { s.service.spec.ports[0].port = 0; }, /^Service\/ml\/web: port-range: spec\.ports\[0\]\.port must be an integer in 1\.\.65535 \(got 0\)/],
    ['numeric targetPort out of range', (s) => { s.service.spec.ports[0].targetPort = 65536; }, /^Service\/ml\/web: port-range: spec\.ports\[0\]\.targetPort .*\(got 65536\)/],
    ['nodePort out of range', (s) => { s.service.spec.type = 'NodePort'; s.service.spec.ports[0].nodePort = 99999; }, /^Service\/ml\/web: port-range: spec\.ports\[0\]\.nodePort .*\(got 99999\)/],
    ['probe port 0', (s) => { depC(s).livenessProbe.tcpSocket.port = 0; }, new RegExp(`port-range: ${DEP_C}\\.livenessProbe\\.tcpSocket\\.port .*\\(got 0\\)`)],
    ['fractional port', (s) => { depC(s).readinessProbe.httpGet.port = 80.5; }, new RegExp(`port-range: ${DEP_C}\\.readinessProbe\\.httpGet\\.port .*\\(got 80\\.5\\)`)],
    ['NetworkPolicy port', (s) => { s.networkPolicy.spec.ingress[0].ports[0].port = 123456; }, /^NetworkPolicy\/ml\/web: port-range: spec\.ingress\[0\]\.ports\[0\]\.port .*\(got 123456\)/],
  ]);
});

describe('service-selector and workload-selector', () => {
  expectCases([
    ['selects no pods', (s) => { s.service.spec.selector = { 'app.kubernetes.io/name': 'wbe' }; }, /^Service\/ml\/web: service-selector: spec\.selector app\.kubernetes\.io\/name=wbe selects no pods in namespace ml$/],
    ['workload in another namespace', (s) => { s.service.metadata.namespace = 'other'; }, /^Service\/other\/web: service-selector: .* selects no pods in namespace other/],
    ['selects two workloads', (s) => {
      const canary = JSON.parse(JSON.stringify(s.deployment));
      canary.metadata.name = 'web-canary';
      return [canary];
    }, /^Service\/ml\/web: service-selector: .* selects the pods of Deployment\/ml\/web but also selects the pods of Deployment\/ml\/web-canary$/],
    ['selects a Job as well', (s) => { jobPod(s); s.job.spec.template.metadata.labels = { ...s.deployment.spec.template.metadata.labels }; }, /service-selector: .*also selects the pods of Job\/ml\/smoke-test/],
    ['workload selector does not match its template', (s) => { s.deployment.spec.selector.matchLabels['app.kubernetes.io/name'] = 'api'; }, /^Deployment\/ml\/web: workload-selector: spec\.selector\.matchLabels .*app\.kubernetes\.io\/name=api.* does not match spec\.template\.metadata\.labels /],
    ['workload selector expression does not match', (s) => { s.deployment.spec.selector.matchExpressions = [{ key: 'tier', operator: 'Exists' }]; }, /^Deployment\/ml\/web: workload-selector: /],
  ]);

  it('skips selector-less and ExternalName Services', () => {
    const s = goodSet();
    const headless = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'external-db', namespace: 'ml' }, spec: { ports: [{ port: 5432 }] } };
    const ext = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: 'ml' }, spec: { type: 'ExternalName', externalName: 'api.example.com', selector: { x: 'y' } } };
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
  expectCases([
    ['numeric targetPort not exposed', (s) => { s.service.spec.ports[0].targetPort = 9090; }, /^Service\/ml\/web: service-target-port: spec\.ports\[0\]\.targetPort 9090\/TCP matches no container port of Deployment\/ml\/web \(it has web:8080\(http\)\/TCP\)$/],
    ['named targetPort not exposed', (s) => { s.service.spec.ports[0].targetPort = 'metrics'; }, /service-target-port: spec\.ports\[0\]\.targetPort "metrics"\/TCP matches no container port/],
    ['protocol mismatch', (s) => { s.service.spec.ports[0].protocol = 'UDP'; }, /service-target-port: spec\.ports\[0\]\.targetPort "http"\/UDP matches no container port/],
    ['no targetPort: port must be a container port', (s) => { delete s.service.spec.ports[0].targetPort; }, /service-target-port: spec\.ports\[0\]\.port 80\/TCP matches no container port/],
    ['container declares no ports', (s) => { delete depC(s).ports; depC(s).readinessProbe.httpGet.port = 8080; }, /service-target-port: .*\(it declares no container ports\)/],
  ]);

  it('accepts a numeric targetPort and a native sidecar port', () => {
    const s = goodSet();
    s.service.spec.ports[0].targetPort = 8080;
    s.service.spec.ports.push({ name: 'proxy', port: 9000, targetPort: 'proxy' });
    depPod(s).initContainers = [{ ...JSON.parse(JSON.stringify(depC(s))), name: 'proxy', restartPolicy: 'Always', ports: [{ name: 'proxy', containerPort: 9000 }], readinessProbe: undefined, livenessProbe: undefined }];
    delete depPod(s).initContainers[0].readinessProbe;
    delete depPod(s).initContainers[0].livenessProbe;
    expect(checkManifests(all(s))).toEqual([]);
  });

  it('is skipped when the selector already failed', () => {
    const problems = problemsAfter((s) => { s.service.spec.selector = { nope: 'x' }; s.service.spec.ports[0].targetPort = 1; });
    expect(problems.filter((p) => p.includes('service-target-port'))).toEqual([]);
  });
});

describe('env-url', () => {
  expectCases([
    ['Service that does not exist', (s) => { jobC(s).env[0].value = 'http://model.ml.svc.cluster.local:8501/v1/models/m:predict'; }, /^Job\/ml\/smoke-test: env-url: container "smoke" \(spec\.template\.spec\.containers\[0\]\): env TARGET_URL \(spec\.template\.spec\.containers\[0\]\.env\[0\]\.value\): http:\/\/model\.ml\.svc\.cluster\.local:8501\/v1\/models\/m:predict names Service ml\/model, which is not among the manifests$/],
    ['wrong port', (s) => { jobC(s).env[0].value = 'http://web.ml.svc:8080/predict'; }, /env-url: .*env TARGET_URL .*http:\/\/web\.ml\.svc:8080\/predict uses port 8080, but Service ml\/web exposes 80$/],
    ['https default port 443', (s) => { jobC(s).env[0].value = 'https://web.ml/predict'; }, /env-url: .*https:\/\/web\.ml\/predict uses port 443, but Service ml\/web exposes 80/],
    ['single label, pod namespace', (s) => { jobC(s).env[1].value = 'http://web:81/healthz'; }, /env-url: .*env SHORT_URL .*uses port 81, but Service ml\/web exposes 80/],
    ['single label, wrong name', (s) => { jobC(s).env[1].value = 'http://wbe/healthz'; }, /env-url: .*names Service ml\/wbe, which is not among the manifests/],
    ['Service in another namespace', (s) => { jobC(s).env[0].value = 'http://web.serving.svc/predict'; }, /env-url: .*names Service serving\/web, which is not among the manifests/],
    ['URL inside a longer value, init container', (s) => {
      jobPod(s).initContainers = [{ ...JSON.parse(JSON.stringify(jobC(s))), name: 'wait', env: [{ name: 'URLS', value: 'primary=http://web.ml:80,backup=http://web-backup.ml:80' }] }];
    }, /^Job\/ml\/smoke-test: env-url: container "wait" \(spec\.template\.spec\.initContainers\[0\]\): env URLS .*http:\/\/web-backup\.ml:80 names Service ml\/web-backup/],
  ]);

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
  const DEP = '^Deployment/ml/web: pss-restricted: ';
  const C = `container "web" \\(${DEP_C}\\): `;
  expectCases([
    ['hostNetwork', (s) => { depPod(s).hostNetwork = true; }, new RegExp(`${DEP}spec\\.template\\.spec\\.hostNetwork must not be true`)],
    ['hostPID', (s) => { depPod(s).hostPID = true; }, /pss-restricted: spec\.template\.spec\.hostPID must not be true/],
    ['hostIPC', (s) => { depPod(s).hostIPC = true; }, /pss-restricted: spec\.template\.spec\.hostIPC must not be true/],
    ['hostPath volume', (s) => { depPod(s).volumes.push({ name: 'host', hostPath: { path: '/var/run' } }); }, /pss-restricted: volume "host" \(spec\.template\.spec\.volumes\[2\]\) uses volume type hostPath/],
    ['non-restricted volume type', (s) => { depPod(s).volumes.push({ name: 'nfs', nfs: { server: 'nfs.example.com', path: '/data' } }); }, /pss-restricted: volume "nfs" .* uses volume type nfs/],
    ['hostPort', (s) => { depC(s).ports[0].hostPort = 8080; }, new RegExp(`${DEP}${C}${DEP_C}\\.ports\\[0\\]\\.hostPort must be unset \\(got 8080\\)`)],
    ['privileged', (s) => { depC(s).securityContext.privileged = true; }, new RegExp(`${DEP}${C}${DEP_C}\\.securityContext\\.privileged must not be true`)],
    ['capabilities.add', (s) => { depC(s).securityContext.capabilities.add = ['NET_BIND_SERVICE', 'SYS_ADMIN']; }, new RegExp(`${DEP}${C}.*capabilities\\.add may only contain NET_BIND_SERVICE \\(got SYS_ADMIN\\)`)],
    ['capabilities.drop without ALL', (s) => { depC(s).securityContext.capabilities.drop = ['NET_RAW']; }, new RegExp(`${DEP}${C}${DEP_C}\\.securityContext\\.capabilities\\.drop must include ALL`)],
    ['no capabilities at all', (s) => { delete depC(s).securityContext.capabilities; }, /pss-restricted: container "web" .*capabilities\.drop must include ALL/],
    ['allowPrivilegeEscalation unset', (s) => { delete jobC(s).securityContext.allowPrivilegeEscalation; }, /^Job\/ml\/smoke-test: pss-restricted: container "smoke" \(spec\.template\.spec\.containers\[0\]\): spec\.template\.spec\.containers\[0\]\.securityContext\.allowPrivilegeEscalation must be false \(got undefined\)/],
    ['allowPrivilegeEscalation on an init container', (s) => {
      jobPod(s).initContainers = [{ ...JSON.parse(JSON.stringify(jobC(s))), name: 'init' }];
      jobPod(s).initContainers[0].securityContext.allowPrivilegeEscalation = true;
    }, /pss-restricted: container "init" \(spec\.template\.spec\.initContainers\[0\]\): .*allowPrivilegeEscalation must be false \(got true\)/],
    ['runAsNonRoot false on a container', (s) => { depC(s).securityContext.runAsNonRoot = false; }, new RegExp(`${DEP}${C}runAsNonRoot must be true .* \\(got false\\)`)],
    ['runAsNonRoot missing everywhere', (s) => { delete depPod(s).securityContext.runAsNonRoot; delete depC(s).securityContext.runAsNonRoot; }, /pss-restricted: container "web" .*runAsNonRoot must be true in spec\.template\.spec\.securityContext\.runAsNonRoot or .* \(got undefined\)/],
    ['runAsUser 0 at pod level', (s) => { depPod(s).securityContext.runAsUser = 0; }, new RegExp(`${DEP}spec\\.template\\.spec\\.securityContext\\.runAsUser must not be 0`)],
    ['runAsUser 0 on a container', (s) => { depC(s).securityContext.runAsUser = 0; }, new RegExp(`${DEP}${C}${DEP_C}\\.securityContext\\.runAsUser must not be 0`)],
    ['seccompProfile missing', (s) => { delete depPod(s).securityContext.seccompProfile; }, new RegExp(`${DEP}${C}seccompProfile\\.type must be RuntimeDefault or Localhost .*\\(got undefined\\)`)],
    ['seccompProfile Unconfined at pod level', (s) => { depPod(s).securityContext.seccompProfile.type = 'Unconfined'; depC(s).securityContext.seccompProfile = { type: 'RuntimeDefault' }; }, new RegExp(`${DEP}spec\\.template\\.spec\\.securityContext\\.seccompProfile\\.type must not be Unconfined`)],
    ['seccompProfile Unconfined on a container', (s) => { depC(s).securityContext.seccompProfile = { type: 'Unconfined' }; }, new RegExp(`${DEP}${C}seccompProfile\\.type must be RuntimeDefault or Localhost .*\\(got Unconfined\\)`)],
    ['unsafe sysctl', (s) => { depPod(s).securityContext.sysctls = [{ name: 'net.ipv4.tcp_syncookies', value: '1' }, { name: 'kernel.msgmax', value: '65536' }]; }, new RegExp(`${DEP}spec\\.template\\.spec\\.securityContext\\.sysctls\\[1\\] sets unsafe sysctl kernel\\.msgmax`)],
    ['seLinux type', (s) => { depC(s).securityContext.seLinuxOptions = { type: 'spc_t' }; }, new RegExp(`${DEP}${C}${DEP_C}\\.securityContext\\.seLinuxOptions\\.type must be one of .* \\(got spc_t\\)`)],
    ['seLinux user at pod level', (s) => { depPod(s).securityContext.seLinuxOptions = { user: 'system_u' }; }, new RegExp(`${DEP}spec\\.template\\.spec\\.securityContext\\.seLinuxOptions\\.user must not be set`)],
    ['seLinux role', (s) => { depC(s).securityContext.seLinuxOptions = { role: 'sysadm_r' }; }, /pss-restricted: container "web" .*seLinuxOptions\.role must not be set \(got sysadm_r\)/],
    ['procMount Unmasked', (s) => { depC(s).securityContext.procMount = 'Unmasked'; }, new RegExp(`${DEP}${C}${DEP_C}\\.securityContext\\.procMount must be Default \\(got Unmasked\\)`)],
    ['appArmor Unconfined field', (s) => { depC(s).securityContext.appArmorProfile = { type: 'Unconfined' }; }, new RegExp(`${DEP}${C}${DEP_C}\\.securityContext\\.appArmorProfile\\.type must not be Unconfined`)],
    ['appArmor Unconfined at pod level', (s) => { depPod(s).securityContext.appArmorProfile = { type: 'Unconfined' }; }, /pss-restricted: spec\.template\.spec\.securityContext\.appArmorProfile\.type must not be Unconfined/],
    ['appArmor annotation', (s) => { s.deployment.spec.template.metadata.annotations = { 'container.apparmor.security.beta.kubernetes.io/web': 'unconfined' }; }, /pss-restricted: pod template annotation container\.apparmor\.security\.beta\.kubernetes\.io\/web must be runtime\/default or localhost\/\* \(got unconfined\)/],
    ['windows hostProcess', (s) => { depC(s).securityContext.windowsOptions = { hostProcess: true }; }, new RegExp(`${DEP}${C}${DEP_C}\\.securityContext\\.windowsOptions\\.hostProcess must not be true`)],
    ['windows hostProcess at pod level', (s) => { depPod(s).securityContext.windowsOptions = { hostProcess: true }; }, /pss-restricted: spec\.template\.spec\.securityContext\.windowsOptions\.hostProcess must not be true/],
    ['CronJob job template', (s) => {
      const c = cronJobFrom(s.job);
      c.spec.jobTemplate.spec.template.spec.containers[0].securityContext.privileged = true;
      return [c];
    }, /^CronJob\/ml\/nightly-smoke: pss-restricted: container "smoke" \(spec\.jobTemplate\.spec\.template\.spec\.containers\[0\]\): spec\.jobTemplate\.spec\.template\.spec\.containers\[0\]\.securityContext\.privileged must not be true/],
    ['bare Pod', () => [{
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'debug', namespace: 'ml' },
      spec: { containers: [{ name: 'sh', image: 'busybox:1.36', resources: resources() }] },
    }], /^Pod\/ml\/debug: pss-restricted: container "sh" \(spec\.containers\[0\]\): spec\.containers\[0\]\.securityContext\.allowPrivilegeEscalation must be false/],
  ]);

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
  expectCases([
    ['runAsNonRoot without runAsUser', (s) => { delete depPod(s).securityContext.runAsUser; }, /^Deployment\/ml\/web: starts-non-root: container "web" .*runAsNonRoot is true but no non-zero numeric runAsUser is set .*\(got undefined\); images without a numeric USER fail/],
    ['readOnlyRootFilesystem unset', (s) => { delete depC(s).securityContext.readOnlyRootFilesystem; }, new RegExp(`^Deployment/ml/web: read-only-root-fs: container "web" .*${DEP_C}\\.securityContext\\.readOnlyRootFilesystem must be true \\(got undefined\\)`)],
    ['readOnlyRootFilesystem false', (s) => { jobC(s).securityContext.readOnlyRootFilesystem = false; }, /^Job\/ml\/smoke-test: read-only-root-fs: .*readOnlyRootFilesystem must be true \(got false\)/],
    ['missing memory limit', (s) => { delete depC(s).resources.limits.memory; }, new RegExp(`^Deployment/ml/web: resources: container "web" .*${DEP_C}\\.resources\\.limits\\.memory must be set`)],
    ['missing cpu request', (s) => { delete depC(s).resources.requests.cpu; }, new RegExp(`resources: .*${DEP_C}\\.resources\\.requests\\.cpu must be set`)],
    ['init container without resources', (s) => {
      jobPod(s).initContainers = [{ ...JSON.parse(JSON.stringify(jobC(s))), name: 'init' }];
      delete jobPod(s).initContainers[0].resources;
    }, /^Job\/ml\/smoke-test: resources: container "init" .*spec\.template\.spec\.initContainers\[0\]\.resources\.requests\.cpu must be set/],
    ['image latest', (s) => { depC(s).image = 'registry.example.com/ml/web:latest'; }, new RegExp(`^Deployment/ml/web: image-tag: container "web" .*${DEP_C}\\.image: image registry\\.example\\.com/ml/web:latest uses tag "latest"`)],
    ['image without tag', (s) => { depC(s).image = 'tensorflow/serving'; }, /image-tag: .*image tensorflow\/serving has no tag/],
    ['registry port, no tag', (s) => { depC(s).image = 'registry.local:5000/ml/web'; }, /image-tag: .*image registry\.local:5000\/ml\/web has no tag/],
  ]);

  it('imageTagIssue accepts tags and digests', () => {
    expect(imageTagIssue('python:3.12.8-slim-bookworm')).toBeUndefined();
    expect(imageTagIssue('registry.local:5000/ml/web:1.0')).toBeUndefined();
    expect(imageTagIssue(`ghcr.io/x/y@sha256:${'0'.repeat(64)}`)).toBeUndefined();
    expect(imageTagIssue(undefined)).toBe('image must be set');
  });
});

describe('parseYamlStream', () => {
  it('reads multi-document YAML and drops empty documents', () => {
    const text = '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n---\n';
    expect(parseYamlStream(text).map((o) => o.metadata.name)).toEqual(['a', 'b']);
  });

  it('throws on YAML errors', () => {
    expect(() => parseYamlStream('a: [1, 2\n')).toThrow(/YAML error/);
  });
});
