// One scale run in its own process: N inference services (Deployment, Service, PDB, NetworkPolicy)
// built with cdk8s-ml, or the same objects written directly with cdk8s-plus-28. Prints JSON with the
// time to build + synthesize in memory and the process's peak RSS.
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { InferenceService, MlApp, MlStack } from '../lib';

const [mode, nArg] = process.argv.slice(2);
const n = Number(nArg);
const started = process.hrtime.bigint();
let bytes = 0;
if (mode === 'cdk8s-ml') {
  const app = new MlApp({ outdir: '/nonexistent' });
  const stack = new MlStack(app, 'bench');
  const client = new InferenceService(stack, 'client', { image: 'registry.example.com/client:1.0.0' });
  for (let i = 0; i < n; i++) {
    const s = new InferenceService(stack, `svc-${i}`, { image: `registry.example.com/model-${i}:1.0.0`, replicas: 2, healthCheck: { path: '/healthz' } });
    s.allowFrom(client);
  }
  for (const content of app.synthFiles().values()) bytes += content.length;
} else if (mode === 'cdk8s-plus') {
  const app = new App({ outdir: '/nonexistent' });
  const chart = new Chart(app, 'bench', { namespace: 'bench', disableResourceNameHashes: true });
  const client = new kplus.Deployment(chart, 'client', { containers: [{ image: 'registry.example.com/client:1.0.0' }] });
  for (let i = 0; i < n; i++) {
    const d = new kplus.Deployment(chart, `svc-${i}`, {
      replicas: 2,
      securityContext: { user: 10001, group: 10001, fsGroup: 10001, ensureNonRoot: true },
      containers: [{
        image: `registry.example.com/model-${i}:1.0.0`,
        portNumber: 8080,
        readiness: kplus.Probe.fromHttpGet('/healthz'),
        liveness: kplus.Probe.fromHttpGet('/healthz'),
        startup: kplus.Probe.fromHttpGet('/healthz'),
        securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, user: 10001, group: 10001 },
        resources: { cpu: { request: kplus.Cpu.millis(500), limit: kplus.Cpu.units(2) } },
      }],
    });
    d.exposeViaService({ ports: [{ port: 8080 }] });
    new kplus.k8s.KubePodDisruptionBudget(chart, `svc-${i}-pdb`, { spec: { maxUnavailable: kplus.k8s.IntOrString.fromNumber(1), selector: { matchLabels: { app: `svc-${i}` } } } });
    d.connections.allowFrom(client, { ports: [kplus.NetworkPolicyPort.tcp(8080)] });
  }
  bytes = app.synthYaml().length;
} else {
  throw new Error(`usage: _scale.ts cdk8s-ml|cdk8s-plus N`);
}
const ms = Number(process.hrtime.bigint() - started) / 1e6;
process.stdout.write(JSON.stringify({ mode, n, ms, peakRssMb: process.resourceUsage().maxRSS / 1024, bytes }) + '\n');
