/**
 * Known-good inputs for the checker's own tests. Every builder returns fresh
 * objects, so each test mutates one field of its own copy and asserts the one
 * problem that mutation must cause.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */

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
                image: 'registry.example.com/ml/smoke@sha256:' + 'a'.repeat(64),
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
