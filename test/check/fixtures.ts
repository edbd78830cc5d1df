/**
 * Known-good inputs for the checker's own tests. Every builder returns fresh
 * objects, so each test mutates one field of its own copy and asserts the one
 * problem that mutation must cause.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import { joinRegExp } from '../_util/regexp';

export const NS = 'ml';

export function hardenedContainerSecurityContext(): any {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
  };
}

export function podSecurityContext(): any {
  return {
    runAsNonRoot: true,
    runAsUser: 10001,
    runAsGroup: 10001,
    fsGroup: 10001,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export function resources(): any {
  return { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } };
}

export interface GoodSet {
  /** The namespace every object of the set is in. */
  ns: string;
  namespace: any;
  configMap: any;
  deployment: any;
  service: any;
  networkPolicy: any;
  pdb: any;
  job: any;
}

const WEB_LABELS = { 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/instance': 'web-prod' };

export function goodSet(ns: string = NS): GoodSet {
  return {
    ns,
    namespace: {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
    },
    configMap: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'web-config', namespace: ns },
      data: { 'gunicorn.conf.py': 'workers = 2\n' },
    },
    deployment: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: ns, labels: { ...WEB_LABELS } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { ...WEB_LABELS } },
        template: {
          metadata: { labels: { ...WEB_LABELS, 'app.kubernetes.io/version': '1.2.3' } },
          spec: {
            automountServiceAccountToken: false,
            securityContext: podSecurityContext(),
            containers: [
              {
                name: 'web',
                image: 'registry.example.com/ml/web:1.2.3',
                ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
                env: [
                  { name: 'PYTHONUNBUFFERED', value: '1' },
                  { name: 'DOCS_URL', value: 'https://example.com/docs' },
                ],
                readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 },
                livenessProbe: { tcpSocket: { port: 8080 } },
                resources: resources(),
                securityContext: hardenedContainerSecurityContext(),
                volumeMounts: [
                  { name: 'tmp', mountPath: '/tmp' },
                  { name: 'config', mountPath: '/app/config', readOnly: true },
                ],
              },
            ],
            volumes: [
              { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
              { name: 'config', configMap: { name: 'web-config' } },
            ],
          },
        },
      },
    },
    service: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: ns, labels: { ...WEB_LABELS } },
      spec: {
        type: 'ClusterIP',
        selector: { ...WEB_LABELS },
        ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
      },
    },
    networkPolicy: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'web', namespace: ns },
      spec: {
        podSelector: { matchLabels: { ...WEB_LABELS } },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'smoke-test' } } }],
            ports: [{ port: 8080, protocol: 'TCP' }],
          },
        ],
      },
    },
    pdb: {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'web', namespace: ns },
      spec: { minAvailable: 1, selector: { matchLabels: { ...WEB_LABELS } } },
    },
    job: {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'smoke-test', namespace: ns },
      spec: {
        backoffLimit: 2,
        template: {
          metadata: { labels: { 'app.kubernetes.io/name': 'smoke-test' } },
          spec: {
            restartPolicy: 'Never',
            securityContext: podSecurityContext(),
            containers: [
              {
                name: 'smoke',
                image: `registry.example.com/ml/smoke@sha256:${'a'.repeat(64)}`,
                args: ['--expect', '200'],
                env: [
                  { name: 'TARGET_URL', value: `http://web.${ns}.svc.cluster.local/predict` },
                  { name: 'SHORT_URL', value: 'http://web:80/healthz' },
                ],
                resources: resources(),
                securityContext: hardenedContainerSecurityContext(),
              },
            ],
          },
        },
      },
    },
  };
}

export function all(set: GoodSet): any[] {
  return [set.namespace, set.configMap, set.deployment, set.service, set.networkPolicy, set.pdb, set.job];
}

/** The Job's pod template wrapped into a CronJob, for the jobTemplate path. */
export function cronJobFrom(job: any): any {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'nightly-smoke', namespace: job.metadata.namespace },
    spec: { schedule: '0 3 * * *', jobTemplate: { spec: job.spec } },
  };
}

export const GOOD_DOCKERFILE = `ARG PYTHON_IMAGE=python:3.12.8-slim-bookworm
FROM \${PYTHON_IMAGE}
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
COPY requirements.txt ./
RUN python -m pip install --no-cache-dir -r requirements.txt
COPY . .
USER 10001:10001
EXPOSE 8080
CMD ["gunicorn", "--bind", "0.0.0.0:8080", "app:app"]
`;

export const GOOD_DOCKERIGNORE = `.git
.env
**/*.pem
**/id_rsa*
**/__pycache__
.venv
`;

export function goodCompose(): any {
  return {
    services: {
      web: {
        build: { context: '../images/web', dockerfile: 'Dockerfile' },
        image: 'registry.example.com/ml/web:1.2.3',
        ports: ['8080:8080'],
        environment: { MODEL_URL: 'http://model:8501' },
        read_only: true,
        user: '10001:10001',
        healthcheck: { test: ['CMD', 'python', '-c', 'print(1)'], interval: '10s', timeout: '3s', retries: 3 },
        depends_on: ['model'],
      },
      model: {
        image: 'tensorflow/serving:2.16.1',
        expose: ['8501'],
      },
    },
  };
}

// ---------------------------------------------------------------------------
// Bad cases: one mutation of the good inputs per case, with the problem it must cause. The
// checker's tests run each through its function; the command's tests run them all through
// `cdk8s-ml check`. Mutations name the set's own namespace as `s.ns`, so sets in different
// namespaces can be checked together without one case's objects answering another's.
// ---------------------------------------------------------------------------

/** Pod spec / first container of the Deployment and the Job in a set. */
export const depPod = (s: GoodSet): any => s.deployment.spec.template.spec;
export const depC = (s: GoodSet): any => depPod(s).containers[0];
export const jobPod = (s: GoodSet): any => s.job.spec.template.spec;
export const jobC = (s: GoodSet): any => jobPod(s).containers[0];

export const DEP_C = String.raw`spec\.template\.spec\.containers\[0\]`;
const PSS_DEP = '^Deployment/ml/web: pss-restricted: ';
const PSS_C = `container "web" \\(${DEP_C}\\): `;

/** [description, mutation of a fresh good set (may return extra objects), expected problem (for namespace ml)]. */
// biome-ignore lint/suspicious/noConfusingVoidType: most mutations return nothing
export type K8sCase = [string, (s: GoodSet) => any[] | void, RegExp];

/** The objects of one case: a fresh good set in namespace ns, mutated, plus what the mutation adds. */
export function caseObjects(mutate: K8sCase[1], ns: string = NS): any[] {
  const s = goodSet(ns);
  const extra = mutate(s) ?? [];
  return [...all(s), ...extra];
}

/** Every Kubernetes bad case, by the rule it breaks. */
export const K8S_CASES: Record<string, K8sCase[]> = {
  schema: [
    [
      'wrong type',
      (s) => {
        depC(s).ports[0].containerPort = '8080';
      },
      new RegExp(`^Deployment/ml/web: schema: ${DEP_C}\\.ports\\[0\\]\\.containerPort must be integer`),
    ],
    [
      'missing required field',
      (s) => {
        delete depC(s).name;
      },
      new RegExp(`^Deployment/ml/web: schema: ${DEP_C} must have required property name$`),
    ],
    [
      'missing selector',
      (s) => {
        delete s.pdb.spec.selector;
        s.deployment.spec.selector = undefined;
        delete s.deployment.spec.selector;
      },
      /^Deployment\/ml\/web: schema: spec must have required property selector$/,
    ],
    [
      'boolean as string',
      (s) => {
        depPod(s).automountServiceAccountToken = 'false';
      },
      /^Deployment\/ml\/web: schema: spec\.template\.spec\.automountServiceAccountToken must be boolean/,
    ],
    [
      'missing metadata.name',
      (s) => {
        delete s.configMap.metadata.name;
      },
      /^ConfigMap\/ml\/<no name>: schema: metadata\.name is required/,
    ],
    [
      'kind typo',
      (s) => {
        s.configMap.kind = 'Configmap';
      },
      /^Configmap\/ml\/web-config: schema: no Kubernetes model for apiVersion "v1" kind "Configmap"/,
    ],
    [
      'unknown CRD',
      () => [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'w' } }],
      /^Workflow\/-\/w: schema: no Kubernetes model .*--crd FILE/,
    ],
    [
      'wrong apiVersion for kind',
      (s) => {
        s.deployment.apiVersion = 'extensions/v1beta1';
      },
      /^Deployment\/ml\/web: schema: apiVersion "extensions\/v1beta1" kind "Deployment" is not served by Kubernetes 1.36/,
    ],
  ],
  'unknown-field': [
    [
      'typo in container securityContext',
      (s) => {
        depC(s).securityContext.runAsNonroot = true;
      },
      new RegExp(`^Deployment/ml/web: unknown-field: ${DEP_C}\\.securityContext\\.runAsNonroot is not a field of apps/v1 Deployment$`),
    ],
    [
      'typo at spec level',
      (s) => {
        s.deployment.spec.replica = 3;
      },
      /^Deployment\/ml\/web: unknown-field: spec\.replica is not a field/,
    ],
    [
      'field of another type',
      (s) => {
        s.service.spec.containerPort = 80;
      },
      /^Service\/ml\/web: unknown-field: spec\.containerPort /,
    ],
    [
      'in a map of objects',
      (s) => {
        s.configMap.metadata.annotation = { a: 'b' };
      },
      /^ConfigMap\/ml\/web-config: unknown-field: metadata\.annotation /,
    ],
    [
      'in a volume source',
      (s) => {
        depPod(s).volumes[1].configMap.nmae = 'x';
      },
      /unknown-field: spec\.template\.spec\.volumes\[1\]\.configMap\.nmae /,
    ],
    [
      'in a NetworkPolicy peer',
      (s) => {
        s.networkPolicy.spec.ingress[0].from[0].podSelectr = {};
      },
      /^NetworkPolicy\/ml\/web: unknown-field: spec\.ingress\[0\]\.from\[0\]\.podSelectr /,
    ],
    [
      'in a CronJob job template',
      (s) => {
        const c = cronJobFrom(s.job);
        c.spec.jobTemplate.spec.template.spec.containers[0].resources.limit = {};
        return [c];
      },
      /^CronJob\/ml\/nightly-smoke: unknown-field: spec\.jobTemplate\.spec\.template\.spec\.containers\[0\]\.resources\.limit /,
    ],
  ],
  'dns-1123': [
    [
      'object name with uppercase',
      (s) => {
        s.configMap.metadata.name = 'Web_Config';
      },
      /^ConfigMap\/ml\/Web_Config: dns-1123: metadata\.name "Web_Config" must be a DNS-1123 subdomain/,
    ],
    [
      'Service name starting with a digit',
      (s) => {
        s.service.metadata.name = '1web';
      },
      /^Service\/ml\/1web: dns-1123: metadata\.name "1web" must be a DNS-1035 label/,
    ],
    [
      'Service name with a dot',
      (s) => {
        s.service.metadata.name = 'web.v1';
      },
      /^Service\/ml\/web\.v1: dns-1123: metadata\.name "web\.v1" must be a DNS-1035 label/,
    ],
    [
      'Namespace name with a dot',
      (s) => {
        s.namespace.metadata.name = `${s.ns}.prod`;
      },
      /^Namespace\/-\/ml\.prod: dns-1123: metadata\.name "ml\.prod" must be a DNS-1123 label/,
    ],
    [
      'namespace field',
      (s) => {
        s.configMap.metadata.namespace = 'ML';
      },
      /^ConfigMap\/ML\/web-config: dns-1123: metadata\.namespace "ML" must be a DNS-1123 label/,
    ],
    [
      'name longer than 253',
      (s) => {
        s.configMap.metadata.name = 'a'.repeat(254);
      },
      /dns-1123: metadata\.name "a+" must be a DNS-1123 subdomain/,
    ],
    [
      'container name',
      (s) => {
        depC(s).name = 'Web';
      },
      new RegExp(`^Deployment/ml/web: dns-1123: ${DEP_C}\\.name "Web" must be a DNS-1123 label`),
    ],
    [
      'init container name',
      (s) => {
        jobPod(s).initContainers = [{ ...jobC(s), name: 'wait_for_web' }];
      },
      /^Job\/ml\/smoke-test: dns-1123: spec\.template\.spec\.initContainers\[0\]\.name "wait_for_web"/,
    ],
    [
      'volume name',
      (s) => {
        depPod(s).volumes[0].name = 'tmp_dir';
        depC(s).volumeMounts[0].name = 'tmp_dir';
      },
      /dns-1123: spec\.template\.spec\.volumes\[0\]\.name "tmp_dir" must be a DNS-1123 label/,
    ],
    [
      'container port name too long',
      (s) => {
        depC(s).ports[0].name = 'http-metrics-long';
      },
      new RegExp(`dns-1123: container "web" \\(${DEP_C}\\): ${DEP_C}\\.ports\\[0\\]\\.name "http-metrics-long" must be an IANA_SVC_NAME`),
    ],
    [
      'container port name only digits',
      (s) => {
        depC(s).ports[0].name = '8080';
      },
      /dns-1123: .*ports\[0\]\.name "8080" must be an IANA_SVC_NAME/,
    ],
    // A Service port name is a DNS-1123 label (ValidateService), not an IANA_SVC_NAME: `http--api` or `80` are fine there.
    [
      'service port name with _',
      (s) => {
        s.service.spec.ports[0].name = 'http_api';
      },
      /^Service\/ml\/web: dns-1123: spec\.ports\[0\]\.name "http_api" must be a DNS-1123 label/,
    ],
    [
      'label key with bad name part',
      (s) => {
        s.configMap.metadata.labels = { 'app.kubernetes.io/-name': 'x' };
      },
      /^ConfigMap\/ml\/web-config: dns-1123: label key metadata\.labels\["app\.kubernetes\.io\/-name"\]: name part "-name"/,
    ],
    [
      'label key with bad prefix',
      (s) => {
        s.configMap.metadata.labels = { 'Example.com/name': 'x' };
      },
      /dns-1123: label key metadata\.labels\["Example\.com\/name"\]: prefix "Example\.com" is not a DNS-1123 subdomain/,
    ],
    [
      'label value too long',
      (s) => {
        s.configMap.metadata.labels = { tier: 'v'.repeat(64) };
      },
      /dns-1123: label metadata\.labels\.tier: value "v{64}" must be at most 63 chars/,
    ],
    [
      'pod template label value',
      (s) => {
        s.deployment.spec.template.metadata.labels['app.kubernetes.io/version'] = '1.2.3+build';
      },
      /^Deployment\/ml\/web: dns-1123: label spec\.template\.metadata\.labels\["app\.kubernetes\.io\/version"\]: value "1\.2\.3\+build"/,
    ],
    [
      'selector label value',
      (s) => {
        s.networkPolicy.spec.ingress[0].from[0].podSelector.matchLabels['app.kubernetes.io/name'] = 'smoke test';
      },
      joinRegExp(
        /^NetworkPolicy\/ml\/web: dns-1123: label /,
        /spec\.ingress\[0\]\.from\[0\]\.podSelector\.matchLabels\["app\.kubernetes\.io\/name"\]: value "smoke test"/,
      ),
    ],
    [
      'Service selector key',
      (s) => {
        s.service.spec.selector['bad key'] = 'x';
      },
      /^Service\/ml\/web: dns-1123: label key spec\.selector\["bad key"\]/,
    ],
  ],
  'port-range': [
    [
      'containerPort above 65535',
      (s) => {
        depC(s).ports[0].containerPort = 70000;
      },
      new RegExp(`^Deployment/ml/web: port-range: ${DEP_C}\\.ports\\[0\\]\\.containerPort must be an integer in 1\\.\\.65535 \\(got 70000\\)`),
    ],
    [
      'Service port 0',
      (s) => {
        s.service.spec.ports[0].port = 0;
      },
      /^Service\/ml\/web: port-range: spec\.ports\[0\]\.port must be an integer in 1\.\.65535 \(got 0\)/,
    ],
    [
      'numeric targetPort out of range',
      (s) => {
        s.service.spec.ports[0].targetPort = 65536;
      },
      /^Service\/ml\/web: port-range: spec\.ports\[0\]\.targetPort .*\(got 65536\)/,
    ],
    [
      'nodePort out of range',
      (s) => {
        s.service.spec.type = 'NodePort';
        s.service.spec.ports[0].nodePort = 99999;
      },
      /^Service\/ml\/web: port-range: spec\.ports\[0\]\.nodePort .*\(got 99999\)/,
    ],
    [
      'probe port 0',
      (s) => {
        depC(s).livenessProbe.tcpSocket.port = 0;
      },
      new RegExp(`port-range: ${DEP_C}\\.livenessProbe\\.tcpSocket\\.port .*\\(got 0\\)`),
    ],
    [
      'fractional port',
      (s) => {
        depC(s).readinessProbe.httpGet.port = 80.5;
      },
      new RegExp(`port-range: ${DEP_C}\\.readinessProbe\\.httpGet\\.port .*\\(got 80\\.5\\)`),
    ],
    [
      'NetworkPolicy port',
      (s) => {
        s.networkPolicy.spec.ingress[0].ports[0].port = 123456;
      },
      /^NetworkPolicy\/ml\/web: port-range: spec\.ingress\[0\]\.ports\[0\]\.port .*\(got 123456\)/,
    ],
  ],
  'service-selector': [
    [
      'selects no pods',
      (s) => {
        s.service.spec.selector = { 'app.kubernetes.io/name': 'wbe' };
      },
      /^Service\/ml\/web: service-selector: spec\.selector app\.kubernetes\.io\/name=wbe selects no pods in namespace ml$/,
    ],
    [
      'workload in another namespace',
      (s) => {
        s.service.metadata.namespace = 'other';
      },
      /^Service\/other\/web: service-selector: .* selects no pods in namespace other/,
    ],
    [
      'selects two workloads',
      (s) => {
        const canary = JSON.parse(JSON.stringify(s.deployment));
        canary.metadata.name = 'web-canary';
        return [canary];
      },
      /^Service\/ml\/web: service-selector: .* selects the pods of Deployment\/ml\/web but also selects the pods of Deployment\/ml\/web-canary$/,
    ],
    [
      'selects a Job as well',
      (s) => {
        jobPod(s);
        s.job.spec.template.metadata.labels = { ...s.deployment.spec.template.metadata.labels };
      },
      /service-selector: .*also selects the pods of Job\/ml\/smoke-test/,
    ],
  ],
  'workload-selector': [
    [
      'workload selector does not match its template',
      (s) => {
        s.deployment.spec.selector.matchLabels['app.kubernetes.io/name'] = 'api';
      },
      joinRegExp(
        /^Deployment\/ml\/web: workload-selector: spec\.selector\.matchLabels /,
        /.*app\.kubernetes\.io\/name=api.* does not match spec\.template\.metadata\.labels /,
      ),
    ],
    [
      'workload selector expression does not match',
      (s) => {
        s.deployment.spec.selector.matchExpressions = [{ key: 'tier', operator: 'Exists' }];
      },
      /^Deployment\/ml\/web: workload-selector: /,
    ],
  ],
  'service-target-port': [
    [
      'numeric targetPort not exposed',
      (s) => {
        s.service.spec.ports[0].targetPort = 9090;
      },
      joinRegExp(
        /^Service\/ml\/web: service-target-port: spec\.ports\[0\]\.targetPort 9090\/TCP matches /,
        /no container port of Deployment\/ml\/web \(it has web:8080\(http\)\/TCP\)$/,
      ),
    ],
    [
      'named targetPort not exposed',
      (s) => {
        s.service.spec.ports[0].targetPort = 'metrics';
      },
      /service-target-port: spec\.ports\[0\]\.targetPort "metrics"\/TCP matches no container port/,
    ],
    [
      'protocol mismatch',
      (s) => {
        s.service.spec.ports[0].protocol = 'UDP';
      },
      /service-target-port: spec\.ports\[0\]\.targetPort "http"\/UDP matches no container port/,
    ],
    [
      'no targetPort: port must be a container port',
      (s) => {
        delete s.service.spec.ports[0].targetPort;
      },
      /service-target-port: spec\.ports\[0\]\.port 80\/TCP matches no container port/,
    ],
    [
      'container declares no ports',
      (s) => {
        delete depC(s).ports;
        depC(s).readinessProbe.httpGet.port = 8080;
      },
      /service-target-port: .*\(it declares no container ports\)/,
    ],
  ],
  'env-url': [
    [
      'Service that does not exist',
      (s) => {
        jobC(s).env[0].value = `http://model.${s.ns}.svc.cluster.local:8501/v1/models/m:predict`;
      },
      joinRegExp(
        /^Job\/ml\/smoke-test: env-url: container "smoke" \(spec\.template\.spec\.containers\[0\]\): env TARGET_URL /,
        /\(spec\.template\.spec\.containers\[0\]\.env\[0\]\.value\): /,
        /http:\/\/model\.ml\.svc\.cluster\.local:8501\/v1\/models\/m:predict names Service ml\/model, which is not among the manifests$/,
      ),
    ],
    [
      'wrong port',
      (s) => {
        jobC(s).env[0].value = `http://web.${s.ns}.svc:8080/predict`;
      },
      /env-url: .*env TARGET_URL .*http:\/\/web\.ml\.svc:8080\/predict uses port 8080, but Service ml\/web exposes 80$/,
    ],
    [
      'https default port 443',
      (s) => {
        jobC(s).env[0].value = `https://web.${s.ns}/predict`;
      },
      /env-url: .*https:\/\/web\.ml\/predict uses port 443, but Service ml\/web exposes 80/,
    ],
    [
      'single label, pod namespace',
      (s) => {
        jobC(s).env[1].value = 'http://web:81/healthz';
      },
      /env-url: .*env SHORT_URL .*uses port 81, but Service ml\/web exposes 80/,
    ],
    [
      'single label, wrong name',
      (s) => {
        jobC(s).env[1].value = 'http://wbe/healthz';
      },
      /env-url: .*names Service ml\/wbe, which is not among the manifests/,
    ],
    [
      'Service in another namespace',
      (s) => {
        jobC(s).env[0].value = 'http://web.serving.svc/predict';
      },
      /env-url: .*names Service serving\/web, which is not among the manifests/,
    ],
    [
      'URL inside a longer value, init container',
      (s) => {
        jobPod(s).initContainers = [
          {
            ...JSON.parse(JSON.stringify(jobC(s))),
            name: 'wait',
            env: [{ name: 'URLS', value: `primary=http://web.${s.ns}:80,backup=http://web-backup.${s.ns}:80` }],
          },
        ];
      },
      joinRegExp(
        /^Job\/ml\/smoke-test: env-url: container "wait" \(spec\.template\.spec\.initContainers\[0\]\): env URLS .*http:\/\/web-backup\.ml:80 /,
        /names Service ml\/web-backup/,
      ),
    ],
  ],
  'duplicate-env': [
    [
      'variable listed twice',
      (s) => {
        depC(s).env.push({ name: 'PYTHONUNBUFFERED', value: '0' });
      },
      new RegExp(
        `^Deployment/ml/web: duplicate-env: container "web" \\(${DEP_C}\\): env PYTHONUNBUFFERED ` +
          `is listed twice \\(${DEP_C}\\.env\\[0\\] and env\\[2\\]\\)`,
      ),
    ],
    [
      'secret ref redefining a literal, init container',
      (s) => {
        jobPod(s).initContainers = [{ ...JSON.parse(JSON.stringify(jobC(s))), name: 'wait' }];
        jobPod(s).initContainers[0].env.push({ name: 'TARGET_URL', valueFrom: { secretKeyRef: { name: 'target', key: 'url' } } });
      },
      /^Job\/ml\/smoke-test: duplicate-env: container "wait" \(spec\.template\.spec\.initContainers\[0\]\): env TARGET_URL is listed twice/,
    ],
  ],
  'inline-credentials': [
    [
      'a literal value under a credential name',
      (s) => {
        depC(s).env.push({ name: 'HF_TOKEN', value: 'hf_literal0123456789' });
      },
      new RegExp(`^Deployment/ml/web: inline-credentials: container "web" \\(${DEP_C}\\): env HF_TOKEN .* \\*\\*\\* \\(20 characters, masked\\)$`),
    ],
  ],
  'pss-restricted': [
    [
      'hostNetwork',
      (s) => {
        depPod(s).hostNetwork = true;
      },
      new RegExp(`${PSS_DEP}spec\\.template\\.spec\\.hostNetwork must not be true`),
    ],
    [
      'hostPID',
      (s) => {
        depPod(s).hostPID = true;
      },
      /pss-restricted: spec\.template\.spec\.hostPID must not be true/,
    ],
    [
      'hostIPC',
      (s) => {
        depPod(s).hostIPC = true;
      },
      /pss-restricted: spec\.template\.spec\.hostIPC must not be true/,
    ],
    [
      'hostPath volume',
      (s) => {
        depPod(s).volumes.push({ name: 'host', hostPath: { path: '/var/run' } });
      },
      /pss-restricted: volume "host" \(spec\.template\.spec\.volumes\[2\]\) uses volume type hostPath/,
    ],
    [
      'non-restricted volume type',
      (s) => {
        depPod(s).volumes.push({ name: 'nfs', nfs: { server: 'nfs.example.com', path: '/data' } });
      },
      /pss-restricted: volume "nfs" .* uses volume type nfs/,
    ],
    [
      'hostPort',
      (s) => {
        depC(s).ports[0].hostPort = 8080;
      },
      new RegExp(`${PSS_DEP}${PSS_C}${DEP_C}\\.ports\\[0\\]\\.hostPort must be unset \\(got 8080\\)`),
    ],
    [
      'privileged',
      (s) => {
        depC(s).securityContext.privileged = true;
      },
      new RegExp(`${PSS_DEP}${PSS_C}${DEP_C}\\.securityContext\\.privileged must not be true`),
    ],
    [
      'capabilities.add',
      (s) => {
        depC(s).securityContext.capabilities.add = ['NET_BIND_SERVICE', 'SYS_ADMIN'];
      },
      new RegExp(`${PSS_DEP}${PSS_C}.*capabilities\\.add may only contain NET_BIND_SERVICE \\(got SYS_ADMIN\\)`),
    ],
    [
      'capabilities.drop without ALL',
      (s) => {
        depC(s).securityContext.capabilities.drop = ['NET_RAW'];
      },
      new RegExp(`${PSS_DEP}${PSS_C}${DEP_C}\\.securityContext\\.capabilities\\.drop must include ALL`),
    ],
    [
      'no capabilities at all',
      (s) => {
        delete depC(s).securityContext.capabilities;
      },
      /pss-restricted: container "web" .*capabilities\.drop must include ALL/,
    ],
    [
      'allowPrivilegeEscalation unset',
      (s) => {
        delete jobC(s).securityContext.allowPrivilegeEscalation;
      },
      joinRegExp(
        /^Job\/ml\/smoke-test: pss-restricted: container "smoke" \(spec\.template\.spec\.containers\[0\]\): /,
        /spec\.template\.spec\.containers\[0\]\.securityContext\.allowPrivilegeEscalation must be false \(got undefined\)/,
      ),
    ],
    [
      'allowPrivilegeEscalation on an init container',
      (s) => {
        jobPod(s).initContainers = [{ ...JSON.parse(JSON.stringify(jobC(s))), name: 'init' }];
        jobPod(s).initContainers[0].securityContext.allowPrivilegeEscalation = true;
      },
      /pss-restricted: container "init" \(spec\.template\.spec\.initContainers\[0\]\): .*allowPrivilegeEscalation must be false \(got true\)/,
    ],
    [
      'runAsNonRoot false on a container',
      (s) => {
        depC(s).securityContext.runAsNonRoot = false;
      },
      new RegExp(`${PSS_DEP}${PSS_C}runAsNonRoot must be true .* \\(got false\\)`),
    ],
    [
      'runAsNonRoot missing everywhere',
      (s) => {
        delete depPod(s).securityContext.runAsNonRoot;
        delete depC(s).securityContext.runAsNonRoot;
      },
      /pss-restricted: container "web" .*runAsNonRoot must be true in spec\.template\.spec\.securityContext\.runAsNonRoot or .* \(got undefined\)/,
    ],
    [
      'runAsUser 0 at pod level',
      (s) => {
        depPod(s).securityContext.runAsUser = 0;
      },
      new RegExp(`${PSS_DEP}spec\\.template\\.spec\\.securityContext\\.runAsUser must not be 0`),
    ],
    [
      'runAsUser 0 on a container',
      (s) => {
        depC(s).securityContext.runAsUser = 0;
      },
      new RegExp(`${PSS_DEP}${PSS_C}${DEP_C}\\.securityContext\\.runAsUser must not be 0`),
    ],
    [
      'seccompProfile missing',
      (s) => {
        delete depPod(s).securityContext.seccompProfile;
      },
      new RegExp(`${PSS_DEP}${PSS_C}seccompProfile\\.type must be RuntimeDefault or Localhost .*\\(got undefined\\)`),
    ],
    [
      'seccompProfile Unconfined at pod level',
      (s) => {
        depPod(s).securityContext.seccompProfile.type = 'Unconfined';
        depC(s).securityContext.seccompProfile = { type: 'RuntimeDefault' };
      },
      new RegExp(`${PSS_DEP}spec\\.template\\.spec\\.securityContext\\.seccompProfile\\.type must not be Unconfined`),
    ],
    [
      'seccompProfile Unconfined on a container',
      (s) => {
        depC(s).securityContext.seccompProfile = { type: 'Unconfined' };
      },
      new RegExp(`${PSS_DEP}${PSS_C}seccompProfile\\.type must be RuntimeDefault or Localhost .*\\(got Unconfined\\)`),
    ],
    [
      'unsafe sysctl',
      (s) => {
        depPod(s).securityContext.sysctls = [
          { name: 'net.ipv4.tcp_syncookies', value: '1' },
          { name: 'kernel.msgmax', value: '65536' },
        ];
      },
      new RegExp(`${PSS_DEP}spec\\.template\\.spec\\.securityContext\\.sysctls\\[1\\] sets unsafe sysctl kernel\\.msgmax`),
    ],
    [
      'seLinux type',
      (s) => {
        depC(s).securityContext.seLinuxOptions = { type: 'spc_t' };
      },
      new RegExp(`${PSS_DEP}${PSS_C}${DEP_C}\\.securityContext\\.seLinuxOptions\\.type must be one of .* \\(got spc_t\\)`),
    ],
    [
      'seLinux user at pod level',
      (s) => {
        depPod(s).securityContext.seLinuxOptions = { user: 'system_u' };
      },
      new RegExp(`${PSS_DEP}spec\\.template\\.spec\\.securityContext\\.seLinuxOptions\\.user must not be set`),
    ],
    [
      'seLinux role',
      (s) => {
        depC(s).securityContext.seLinuxOptions = { role: 'sysadm_r' };
      },
      /pss-restricted: container "web" .*seLinuxOptions\.role must not be set \(got sysadm_r\)/,
    ],
    [
      'procMount Unmasked',
      (s) => {
        depC(s).securityContext.procMount = 'Unmasked';
      },
      new RegExp(`${PSS_DEP}${PSS_C}${DEP_C}\\.securityContext\\.procMount must be Default \\(got Unmasked\\)`),
    ],
    [
      'appArmor Unconfined field',
      (s) => {
        depC(s).securityContext.appArmorProfile = { type: 'Unconfined' };
      },
      new RegExp(`${PSS_DEP}${PSS_C}${DEP_C}\\.securityContext\\.appArmorProfile\\.type must not be Unconfined`),
    ],
    [
      'appArmor Unconfined at pod level',
      (s) => {
        depPod(s).securityContext.appArmorProfile = { type: 'Unconfined' };
      },
      /pss-restricted: spec\.template\.spec\.securityContext\.appArmorProfile\.type must not be Unconfined/,
    ],
    [
      'appArmor annotation',
      (s) => {
        s.deployment.spec.template.metadata.annotations = { 'container.apparmor.security.beta.kubernetes.io/web': 'unconfined' };
      },
      joinRegExp(
        /pss-restricted: pod template annotation container\.apparmor\.security\.beta\.kubernetes\.io\/web must be runtime\/default or /,
        /localhost\/\* \(got unconfined\)/,
      ),
    ],
    [
      'windows hostProcess',
      (s) => {
        depC(s).securityContext.windowsOptions = { hostProcess: true };
      },
      new RegExp(`${PSS_DEP}${PSS_C}${DEP_C}\\.securityContext\\.windowsOptions\\.hostProcess must not be true`),
    ],
    [
      'windows hostProcess at pod level',
      (s) => {
        depPod(s).securityContext.windowsOptions = { hostProcess: true };
      },
      /pss-restricted: spec\.template\.spec\.securityContext\.windowsOptions\.hostProcess must not be true/,
    ],
    [
      'CronJob job template',
      (s) => {
        const c = cronJobFrom(s.job);
        c.spec.jobTemplate.spec.template.spec.containers[0].securityContext.privileged = true;
        return [c];
      },
      joinRegExp(
        /^CronJob\/ml\/nightly-smoke: pss-restricted: container "smoke" \(spec\.jobTemplate\.spec\.template\.spec\.containers\[0\]\): /,
        /spec\.jobTemplate\.spec\.template\.spec\.containers\[0\]\.securityContext\.privileged must not be true/,
      ),
    ],
    [
      'bare Pod',
      (s) => [
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'debug', namespace: s.ns },
          spec: { containers: [{ name: 'sh', image: 'busybox:1.36', resources: resources() }] },
        },
      ],
      joinRegExp(
        /^Pod\/ml\/debug: pss-restricted: container "sh" \(spec\.containers\[0\]\): /,
        /spec\.containers\[0\]\.securityContext\.allowPrivilegeEscalation must be false/,
      ),
    ],
  ],
  'starts-non-root': [
    [
      'runAsNonRoot without runAsUser',
      (s) => {
        delete depPod(s).securityContext.runAsUser;
      },
      joinRegExp(
        /^Deployment\/ml\/web: starts-non-root: container "web" .*runAsNonRoot is true but no /,
        /non-zero numeric runAsUser is set .*\(got undefined\); images without a numeric USER fail/,
      ),
    ],
  ],
  'read-only-root-fs': [
    [
      'readOnlyRootFilesystem unset',
      (s) => {
        delete depC(s).securityContext.readOnlyRootFilesystem;
      },
      new RegExp(
        `^Deployment/ml/web: read-only-root-fs: container "web" ` +
          `.*${DEP_C}\\.securityContext\\.readOnlyRootFilesystem must be true \\(got undefined\\)`,
      ),
    ],
    [
      'readOnlyRootFilesystem false',
      (s) => {
        jobC(s).securityContext.readOnlyRootFilesystem = false;
      },
      /^Job\/ml\/smoke-test: read-only-root-fs: .*readOnlyRootFilesystem must be true \(got false\)/,
    ],
  ],
  resources: [
    [
      'missing memory limit',
      (s) => {
        delete depC(s).resources.limits.memory;
      },
      new RegExp(`^Deployment/ml/web: resources: container "web" .*${DEP_C}\\.resources\\.limits\\.memory must be set`),
    ],
    [
      'missing cpu request',
      (s) => {
        delete depC(s).resources.requests.cpu;
      },
      new RegExp(`resources: .*${DEP_C}\\.resources\\.requests\\.cpu must be set`),
    ],
    [
      'init container without resources',
      (s) => {
        jobPod(s).initContainers = [{ ...JSON.parse(JSON.stringify(jobC(s))), name: 'init' }];
        delete jobPod(s).initContainers[0].resources;
      },
      /^Job\/ml\/smoke-test: resources: container "init" .*spec\.template\.spec\.initContainers\[0\]\.resources\.requests\.cpu must be set/,
    ],
  ],
  'image-tag': [
    [
      'image latest',
      (s) => {
        depC(s).image = 'registry.example.com/ml/web:latest';
      },
      new RegExp(`^Deployment/ml/web: image-tag: container "web" .*${DEP_C}\\.image: image registry\\.example\\.com/ml/web:latest uses tag "latest"`),
    ],
    [
      'image without tag',
      (s) => {
        depC(s).image = 'tensorflow/serving';
      },
      /image-tag: .*image tensorflow\/serving has no tag/,
    ],
    [
      'registry port, no tag',
      (s) => {
        depC(s).image = 'registry.local:5000/ml/web';
      },
      /image-tag: .*image registry\.local:5000\/ml\/web has no tag/,
    ],
  ],
  'rwo-claim-replicas': [
    [
      'a ReadWriteOnce claim mounted by 2 replicas',
      (s) => {
        depPod(s).volumes.push({ name: 'models', persistentVolumeClaim: { claimName: 'models' } });
        const claim = { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } };
        return [{ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'models', namespace: s.ns }, spec: claim }];
      },
      /^Deployment\/[a-z0-9-]+\/web: rwo-claim-replicas: mounts PersistentVolumeClaim "models" \(ReadWriteOnce\) with 2 replicas/,
    ],
  ],
  'hpa-fixed-replicas': [
    [
      'an HPA beside spec.replicas',
      (s) => [
        {
          apiVersion: 'autoscaling/v2',
          kind: 'HorizontalPodAutoscaler',
          metadata: { name: 'web', namespace: s.ns },
          spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 2, maxReplicas: 4 },
        },
      ],
      /^Deployment\/[a-z0-9-]+\/web: hpa-fixed-replicas: sets spec\.replicas \(2\) and HorizontalPodAutoscaler "web" scales it/,
    ],
  ],
  'gpu-toleration': [
    [
      'a GPU request without the toleration',
      (s) => {
        depC(s).resources.limits['nvidia.com/gpu'] = 1;
      },
      /^Deployment\/[a-z0-9-]+\/web: gpu-toleration: spec\.template\.spec requests NVIDIA GPUs but does not tolerate the taint nvidia\.com\/gpu/,
    ],
  ],
  'readiness-probe': [
    [
      'a server without a readiness probe',
      (s) => {
        delete depC(s).readinessProbe;
      },
      new RegExp(`^Deployment/[a-z0-9-]+/web: readiness-probe: container "web" \\(${DEP_C}\\) serves a port and has no readinessProbe`),
    ],
  ],
  'network-reachability': [
    [
      'the server admits its client on another port',
      (s) => {
        s.networkPolicy.spec.ingress[0].ports[0].port = 9090;
      },
      joinRegExp(
        /^Job\/ml\/smoke-test: network-reachability: env TARGET_URL calls Service web:80 \(pods /,
        /of Deployment\/ml\/web port 8080\), but NetworkPolicy ml\/web admits no ingress from these pods on 8080$/,
      ),
    ],
    [
      'namespaceSelector and podSelector in one element: the client is in the wrong namespace',
      (s) => {
        s.networkPolicy.spec.ingress[0].from[0].namespaceSelector = { matchLabels: { 'kubernetes.io/metadata.name': 'clients' } };
      },
      joinRegExp(
        /^Job\/ml\/smoke-test: network-reachability: env TARGET_URL calls Service web:80 .*, but /,
        /NetworkPolicy ml\/web admits no ingress from these pods on 8080$/,
      ),
    ],
    [
      'the client is isolated for egress',
      (s) => [clientEgressPolicy(s)],
      joinRegExp(
        /^Job\/ml\/smoke-test: network-reachability: env TARGET_URL calls Service web:80 \(pods /,
        /of Deployment\/ml\/web port 8080\), but NetworkPolicy ml\/smoke-test admits no egress to pods of Deployment\/ml\/web on 8080$/,
      ),
    ],
    [
      'Prometheus scrapes a port the policy does not admit',
      (s) => {
        s.deployment.spec.template.metadata.annotations = { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080' };
      },
      joinRegExp(
        /^Deployment\/ml\/web: network-reachability: annotation prometheus\.io\/scrape: /,
        /Prometheus scrapes port 8080 \(pods of Deployment\/ml\/web port 8080\), but NetworkPolicy /,
        /ml\/web admits no ingress from pods in namespace monitoring on 8080$/,
      ),
    ],
    [
      'an Ingress whose backend does not admit the ingress controller',
      (s) => [
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'Ingress',
          metadata: { name: 'web', namespace: s.ns },
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
      joinRegExp(
        /^Ingress\/ml\/web: network-reachability: routes to Service web:80 through the ingress /,
        /controller \(pods of Deployment\/ml\/web port 8080\), but NetworkPolicy ml\/web admits no /,
        /ingress from pods in namespace ingress-nginx on 8080$/,
      ),
    ],
    [
      'a LoadBalancer in front of pods that admit only the smoke test',
      (s) => {
        s.service.spec.type = 'LoadBalancer';
      },
      joinRegExp(
        /^Service\/ml\/web: network-reachability: type LoadBalancer exposes port 80 to clients /,
        /outside the cluster \(pods of Deployment\/ml\/web port 8080\), but NetworkPolicy ml\/web /,
        /admits no ingress from outside the cluster on 8080$/,
      ),
    ],
    [
      'object storage behind an egress policy without 443',
      (s) => {
        jobC(s).args.push('--model=s3://models/fraud');
        return [clientEgressPolicy(s)];
      },
      joinRegExp(
        /^Job\/ml\/smoke-test: network-reachability: container "smoke" mentions /,
        /s3:\/\/models\/fraud in args \(outside the cluster \(203\.0\.113\.10\) port 443\), but /,
        /NetworkPolicy ml\/smoke-test admits no egress to outside the cluster on 443$/,
      ),
    ],
    [
      'an S3 endpoint on another port than the policy opens',
      (s) => {
        jobC(s).env.push({ name: 'AWS_ENDPOINT_URL', value: 'http://minio.example.com:9000' });
        const p = clientEgressPolicy(s);
        p.spec.egress.push({ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443, protocol: 'TCP' }] });
        return [p];
      },
      joinRegExp(
        /^Job\/ml\/smoke-test: network-reachability: container "smoke" mentions /,
        /http:\/\/minio\.example\.com:9000 in env AWS_ENDPOINT_URL \(outside the cluster /,
        /\(203\.0\.113\.10\) port 9000\), but NetworkPolicy ml\/smoke-test admits no egress to outside the cluster on 9000$/,
      ),
    ],
    [
      'Indexed Job peers without a policy between them',
      (s) => {
        Object.assign(s.job.spec, { completionMode: 'Indexed', completions: 2, parallelism: 2 });
        jobC(s).env.push({ name: 'MASTER_PORT', value: '29500' });
        return [
          {
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name: 'smoke-test', namespace: s.ns },
            spec: { clusterIP: 'None', selector: { 'app.kubernetes.io/name': 'smoke-test' }, ports: [{ name: 'rendezvous', port: 29500 }] },
          },
          {
            apiVersion: 'networking.k8s.io/v1',
            kind: 'NetworkPolicy',
            metadata: { name: 'smoke-test', namespace: s.ns },
            spec: { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'smoke-test' } }, policyTypes: ['Ingress'] },
          },
        ];
      },
      joinRegExp(
        /^Job\/ml\/smoke-test: network-reachability: the pods of this Indexed Job reach each /,
        /other through headless Service smoke-test on MASTER_PORT \(pods of Job\/ml\/smoke-test /,
        /port 29500\), but NetworkPolicy ml\/smoke-test admits no ingress from these pods on 29500$/,
      ),
    ],
  ],
};

/** A NetworkPolicy isolating the set's Job for egress, with DNS only. */
export function clientEgressPolicy(s: GoodSet): any {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'smoke-test', namespace: s.ns },
    spec: {
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'smoke-test' } },
      policyTypes: ['Egress'],
      egress: [
        {
          ports: [
            { port: 53, protocol: 'UDP' },
            { port: 53, protocol: 'TCP' },
          ],
        },
      ],
    },
  };
}

/** The good Dockerfile with one line replaced (or removed when `to` is empty). */
export function withLine(from: string, to: string): string {
  if (!GOOD_DOCKERFILE.includes(`${from}\n`)) throw new Error(`the good Dockerfile has no line ${from}`);
  return GOOD_DOCKERFILE.replace(`${from}\n`, to === '' ? '' : `${to}\n`);
}

/** [description, Dockerfile text, expected problem]. */
export type TextCase = [string, string, RegExp];

/** Every Dockerfile bad case, by the rule it breaks. */
export const DOCKERFILE_CASES: Record<string, TextCase[]> = {
  'base-image-arg': [
    [
      'FROM not from an ARG',
      withLine('FROM ${PYTHON_IMAGE}', 'FROM python:3.12.8-slim-bookworm'),
      /^line 2: base-image-arg: FROM python:3\.12\.8-slim-bookworm must reference a build ARG declared before the first FROM/,
    ],
    [
      'ARG declared after FROM',
      withLine('ARG PYTHON_IMAGE=python:3.12.8-slim-bookworm', '').replace(
        'FROM ${PYTHON_IMAGE}\n',
        'FROM ${PYTHON_IMAGE}\nARG PYTHON_IMAGE=python:3.12\n',
      ),
      /base-image-arg: FROM \$\{PYTHON_IMAGE\} uses ARG PYTHON_IMAGE, which is not declared before the first FROM/,
    ],
    [
      'ARG without default',
      withLine('ARG PYTHON_IMAGE=python:3.12.8-slim-bookworm', 'ARG PYTHON_IMAGE'),
      /base-image-arg: ARG PYTHON_IMAGE used by FROM has no default image/,
    ],
    [
      'ARG default latest',
      withLine('ARG PYTHON_IMAGE=python:3.12.8-slim-bookworm', 'ARG PYTHON_IMAGE=python:latest'),
      /base-image-arg: ARG PYTHON_IMAGE default: image python:latest uses tag "latest"/,
    ],
    [
      'ARG default untagged',
      withLine('ARG PYTHON_IMAGE=python:3.12.8-slim-bookworm', 'ARG PYTHON_IMAGE=python'),
      /base-image-arg: ARG PYTHON_IMAGE default: image python has no tag/,
    ],
  ],
  user: [
    ['root USER', withLine('USER 10001:10001', 'USER 0:0'), /^line 8: user: USER 0:0 runs as root \(uid 0\)$/],
    ['no USER', withLine('USER 10001:10001', ''), /^user: the final stage has no USER instruction/],
    [
      'USER only in the build stage',
      GOOD_DOCKERFILE.replace('WORKDIR /app\n', 'USER 10001\nWORKDIR /app\n').replace('USER 10001:10001\n', 'FROM ${PYTHON_IMAGE}\n'),
      /^user: the final stage has no USER instruction/,
    ],
    ['non-numeric USER', withLine('USER 10001:10001', 'USER app'), /^line 8: user: USER app must be numeric \(uid or uid:gid\)/],
  ],
  'dockerfile-utils': [
    ['unknown instruction', withLine('WORKDIR /app', 'WORKDIRR /app'), /^line 4: dockerfile-utils: Unknown instruction: WORKDIRR$/],
    ['missing argument', withLine('WORKDIR /app', 'WORKDIR'), /^line 4: dockerfile-utils: /],
    ['invalid EXPOSE port', withLine('EXPOSE 8080', 'EXPOSE http'), /^line 9: dockerfile-utils: .*/],
  ],
  'add-url': [
    [
      'ADD of a URL',
      withLine('COPY requirements.txt ./', 'ADD https://example.com/requirements.txt ./'),
      /^line 5: add-url: ADD https:\/\/example\.com\/requirements\.txt downloads without checksum verification/,
    ],
  ],
  'copy-secret': [
    [
      'COPY id_rsa',
      withLine('COPY requirements.txt ./', 'COPY id_rsa /root/.ssh/id_rsa'),
      /^line 5: copy-secret: COPY id_rsa copies a secret into the image$/,
    ],
    [
      'COPY a .pem among several sources',
      withLine('COPY requirements.txt ./', 'COPY requirements.txt certs/server.pem ./'),
      /^line 5: copy-secret: COPY certs\/server\.pem copies a secret/,
    ],
    ['COPY .env in JSON form', withLine('COPY requirements.txt ./', 'COPY [".env", "./"]'), /^line 5: copy-secret: COPY \.env copies a secret/],
  ],
  'reserved-stage-name': [
    [
      'a stage named context',
      withLine('FROM ${PYTHON_IMAGE}', 'FROM ${PYTHON_IMAGE} AS context'),
      /^line 2: reserved-stage-name: 'context' is reserved by BuildKit/,
    ],
    [
      'a stage named Scratch (any case)',
      withLine('FROM ${PYTHON_IMAGE}', 'FROM ${PYTHON_IMAGE} AS Scratch'),
      /^line 2: reserved-stage-name: 'Scratch' is reserved by BuildKit/,
    ],
  ],
};

/** [what is missing, the line of the good .dockerignore removed, expected message after `dockerignore: `]. */
export const DOCKERIGNORE_CASES: TextCase[] = [
  ['.git', '.git\n', /must exclude \.git; not excluded: \.git, \.git\/config/],
  ['.env', '.env\n', /must exclude \.env;/],
  ['*.pem', '**/*.pem\n', /must exclude \*\.pem \(also nested\); not excluded: server\.pem, certs\/server\.pem/],
  ['id_rsa', '**/id_rsa*\n', /must exclude id_rsa \(also nested\)/],
  ['__pycache__', '**/__pycache__\n', /must exclude __pycache__;/],
  ['venv', '.venv\n', /must exclude a virtualenv \(\.venv or venv\)/],
];

/** [description, mutation of a fresh good compose document, expected problem]. */
export type ComposeCase = [string, (doc: Record<string, any>) => unknown, RegExp];

export const COMPOSE_CASES: ComposeCase[] = [
  ['missing services', (doc) => ({ volumes: doc.volumes ?? {} }), /^compose-schema: services is required/],
  ['services of the wrong type', (doc) => ({ ...doc, services: ['web'] }), /^compose-schema: services must be object$/],
  [
    'image not a string',
    (doc) => {
      doc.services.web.image = 42;
      return doc;
    },
    /^compose-schema: services\.web\.image must be string$/,
  ],
  [
    'unknown service key',
    (doc) => {
      doc.services.web.envirnoment = {};
      return doc;
    },
    /^compose-schema: services\.web must NOT have additional properties \(envirnoment\)$/,
  ],
  [
    'bad duration',
    (doc) => {
      doc.services.web.healthcheck.interval = '10 seconds';
      return doc;
    },
    /^compose-schema: services\.web\.healthcheck\.interval must match format "duration"$/,
  ],
  [
    'wrong restart type',
    (doc) => {
      doc.services.model.read_only = 'yes';
      return doc;
    },
    /^compose-schema: services\.model\.read_only must be boolean$/,
  ],
];
