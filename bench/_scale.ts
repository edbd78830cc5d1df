// One scale run in its own process. Prints one line of JSON: the in-process time (ms), the
// process's peak RSS and the bytes written.
//   _scale.ts cdk8s-ml|cdk8s-plus N             N inference services (Deployment, Service, PDB,
//                                                NetworkPolicy), one client admitted to each:
//                                                with cdk8s-ml, or the same objects with cdk8s-plus-28
//   _scale.ts cdk8s-ml-web|cdk8s-plus-web N [DIR] N inference services, each with a FlaskFrontend wired
//                                                to it (backend URL in env, NetworkPolicies for the
//                                                call); cdk8s-ml synthesizes into DIR when given
//                                                (MlApp.synth, what `npm run synth` runs), else in memory
//   _scale.ts check DIR [WARMDIR]                `cdk8s-ml check DIR` (the command, in process; after an
//                                                untimed check of WARMDIR, so loading the schemas is not
//                                                counted), then the strict unintended-ingress analysis
//                                                (test/_util/synth.ts checked()) on its manifests
//   _scale.ts objects N DIR                      writes N objects as YAML from elsewhere would hold them
//                                                (Deployment, Service, ConfigMap in turn, wired by env
//                                                URLs, 20 namespaces with a NetworkPolicy each) into
//                                                DIR/objects-<k>.yaml, 4 files: what part (i) checks
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { FlaskFrontend, InferenceService, MlApp, MlStack, PythonImage } from '../lib';
import { parseYamlStream, unintendedIngress } from '../lib/check';
import { main as cli } from '../lib/cli/main';
import { listFiles } from '../lib/check/files';

const [mode, arg, outdir] = process.argv.slice(2);
const n = Number(arg);
const started = process.hrtime.bigint();
const elapsedMs = (since = started) => Number(process.hrtime.bigint() - since) / 1e6;
let bytes = 0;
const extra: Record<string, number> = {};

/** A small Flask build context, as a user's web/ directory would be. */
function flaskContext(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ml-bench-web-'));
  fs.writeFileSync(path.join(dir, 'app.py'), 'from flask import Flask\napp = Flask(__name__)\n');
  fs.writeFileSync(path.join(dir, 'requirements.txt'), 'flask\ngunicorn\n');
  return dir;
}

/** What cdk8s-ml writes for every model server: uid, read-only root, probes, resources. */
const serverSecurity: kplus.DeploymentProps['securityContext'] = { user: 10001, group: 10001, fsGroup: 10001, ensureNonRoot: true };
const containerSecurity: kplus.ContainerProps['securityContext'] = {
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  user: 10001,
  group: 10001,
};

function plusPdb(chart: Chart, name: string): void {
  new kplus.k8s.KubePodDisruptionBudget(chart, `${name}-pdb`, {
    spec: { maxUnavailable: kplus.k8s.IntOrString.fromNumber(1), selector: { matchLabels: { app: name } } },
  });
}

function plusServer(chart: Chart, i: number): kplus.Deployment {
  const d = new kplus.Deployment(chart, `svc-${i}`, {
    replicas: 2,
    securityContext: serverSecurity,
    containers: [
      {
        image: `registry.example.com/model-${i}:1.0.0`,
        portNumber: 8080,
        readiness: kplus.Probe.fromHttpGet('/healthz'),
        liveness: kplus.Probe.fromHttpGet('/healthz'),
        startup: kplus.Probe.fromHttpGet('/healthz'),
        securityContext: containerSecurity,
        resources: { cpu: { request: kplus.Cpu.millis(500), limit: kplus.Cpu.units(2) } },
      },
    ],
  });
  d.exposeViaService({ ports: [{ port: 8080 }] });
  plusPdb(chart, `svc-${i}`);
  return d;
}

/** One app of objects(): a Deployment calling the previous app's Service, its Service, its ConfigMap. */
function objectsApp(i: number, prevIndex: number, ns: string): string {
  const name = `app-${i}`;
  const prev = `app-${prevIndex}`;
  const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${ns}, labels: {app: ${name}}}
spec:
  replicas: 2
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: main
          image: registry.example.com/${name}:1.0.0
          ports: [{name: http, containerPort: 8080}]
          env:
            - {name: UPSTREAM_URL, value: "http://${prev}.${ns}.svc:80/"}
          envFrom: [{configMapRef: {name: ${name}}}]
          resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: "1", memory: 256Mi}}
          securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`;
  const service = `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${ns}}
spec:
  selector: {app: ${name}}
  ports: [{name: http, port: 80, targetPort: http}]
`;
  const configMap = `apiVersion: v1
kind: ConfigMap
metadata: {name: ${name}, namespace: ${ns}}
data: {LOG_LEVEL: info, WORKERS: "4"}
`;
  return [deployment, service, configMap].join('---\n');
}

/** objects N DIR: N objects (apps of three, plus a Namespace and a NetworkPolicy per namespace) in 4 files. */
function writeObjects(count: number, dir: string): number {
  const NAMESPACES = 20;
  const FILES = 4;
  fs.mkdirSync(dir, { recursive: true });
  const apps = Math.max(1, Math.floor((count - 2 * NAMESPACES) / 3));
  const perNs = Math.ceil(apps / NAMESPACES);
  const chunks: string[][] = Array.from({ length: FILES }, () => []);
  for (let k = 0; k < NAMESPACES; k++) {
    const ns = `team-${k}`;
    const policy = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-same-namespace, namespace: ${ns}}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {}}]}]
`;
    chunks[k % FILES].push(`apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`, policy);
  }
  for (let i = 0; i < apps; i++) chunks[i % FILES].push(objectsApp(i, i % perNs === 0 ? i : i - 1, `team-${Math.floor(i / perNs)}`));
  let written = 0;
  chunks.forEach((docs, k) => {
    const text = docs.join('---\n');
    fs.writeFileSync(path.join(dir, `objects-${k}.yaml`), text);
    written += text.length;
  });
  return written;
}

if (mode === 'cdk8s-ml') {
  const app = new MlApp({ outdir: '/nonexistent' });
  const stack = new MlStack(app, 'bench');
  const client = new InferenceService(stack, 'client', { image: 'registry.example.com/client:1.0.0' });
  for (let i = 0; i < n; i++) {
    const s = new InferenceService(stack, `svc-${i}`, {
      image: `registry.example.com/model-${i}:1.0.0`,
      replicas: 2,
      healthCheck: { path: '/healthz' },
    });
    s.allowFrom(client);
  }
  for (const content of app.synthFiles().values()) bytes += content.length;
} else if (mode === 'cdk8s-plus') {
  const app = new App({ outdir: '/nonexistent' });
  const chart = new Chart(app, 'bench', { namespace: 'bench', disableResourceNameHashes: true });
  const client = new kplus.Deployment(chart, 'client', { containers: [{ image: 'registry.example.com/client:1.0.0' }] });
  for (let i = 0; i < n; i++) {
    const d = plusServer(chart, i);
    d.connections.allowFrom(client, { ports: [kplus.NetworkPolicyPort.tcp(8080)] });
  }
  bytes = app.synthYaml().length;
} else if (mode === 'cdk8s-ml-web') {
  const app = new MlApp({ outdir: outdir ?? '/nonexistent' });
  const stack = new MlStack(app, 'bench');
  // One image for every frontend, as a fleet of one web app per model would share it.
  const image = PythonImage.fromDirectory(flaskContext(), { repository: 'registry.example.com/web', tag: '1.0.0' });
  for (let i = 0; i < n; i++) {
    const backend = new InferenceService(stack, `svc-${i}`, {
      image: `registry.example.com/model-${i}:1.0.0`,
      replicas: 2,
      healthCheck: { path: '/healthz' },
    });
    new FlaskFrontend(stack, `web-${i}`, { image, backend, replicas: 2 });
  }
  if (outdir) {
    // What `npm run synth` runs: MlApp.synth writes the directory (atomically), which `check` then reads.
    app.synth();
    bytes = listFiles(outdir).reduce((sum, rel) => sum + fs.statSync(path.join(outdir, rel)).size, 0);
  } else {
    for (const content of app.synthFiles().values()) bytes += content.length;
  }
} else if (mode === 'cdk8s-plus-web') {
  const app = new App({ outdir: '/nonexistent' });
  const chart = new Chart(app, 'bench', { namespace: 'bench', disableResourceNameHashes: true });
  for (let i = 0; i < n; i++) {
    const server = plusServer(chart, i);
    const web = new kplus.Deployment(chart, `web-${i}`, {
      replicas: 2,
      securityContext: serverSecurity,
      containers: [
        {
          image: 'registry.example.com/web:1.0.0',
          command: [
            'gunicorn',
            '--bind',
            '0.0.0.0:8080',
            '--workers',
            '2',
            '--threads',
            '4',
            '--timeout',
            '60',
            '--worker-tmp-dir',
            '/tmp',
            '--access-logfile',
            '-',
            'app:app',
          ],
          portNumber: 8080,
          envVariables: { BACKEND_URL: kplus.EnvValue.fromValue(`http://svc-${i}.bench.svc:8080`) },
          readiness: kplus.Probe.fromHttpGet('/healthz'),
          liveness: kplus.Probe.fromHttpGet('/healthz'),
          startup: kplus.Probe.fromHttpGet('/healthz'),
          securityContext: containerSecurity,
          resources: { cpu: { request: kplus.Cpu.millis(250), limit: kplus.Cpu.units(1) } },
        },
      ],
    });
    web.exposeViaService({ ports: [{ port: 8080 }] });
    plusPdb(chart, `web-${i}`);
    // One policy on each side: the frontend's egress to the server, the server's ingress from it.
    server.connections.allowFrom(web, { ports: [kplus.NetworkPolicyPort.tcp(8080)] });
  }
  bytes = app.synthYaml().length;
} else if (mode === 'check') {
  let out = '';
  const io = {
    cwd: process.cwd(),
    stdout: (t: string) => {
      out += t;
    },
    stderr: () => undefined,
    readStdin: () => '',
  };
  const check = (dir: string) => {
    const code = cli(['check', dir], io);
    if (code !== 0) throw new Error(`cdk8s-ml check ${dir} exited ${code}:\n${out.slice(0, 4000)}`);
  };
  if (outdir) check(outdir);
  const checking = process.hrtime.bigint();
  check(arg);
  extra.checkMs = elapsedMs(checking);
  const strict = process.hrtime.bigint();
  const dir = path.join(arg, 'manifests');
  const objects = fs.readdirSync(dir).flatMap((f) => parseYamlStream(fs.readFileSync(path.join(dir, f), 'utf8')));
  const unintended = unintendedIngress(objects);
  if (unintended.length > 0)
    throw new Error(
      `unintended ingress: ${unintended
        .slice(0, 5)
        .map((c) => `${c.from} -> ${c.to}:${c.port}`)
        .join(', ')}`,
    );
  extra.unintendedMs = elapsedMs(strict);
  extra.objects = objects.length;
} else if (mode === 'objects') {
  bytes = writeObjects(n, outdir);
} else {
  throw new Error('usage: _scale.ts cdk8s-ml|cdk8s-plus|cdk8s-ml-web|cdk8s-plus-web N [DIR] | check DIR | objects N DIR');
}
const ms = elapsedMs();
process.stdout.write(`${JSON.stringify({ mode, n, ms, peakRssMb: process.resourceUsage().maxRSS / 1024, bytes, ...extra })}\n`);
