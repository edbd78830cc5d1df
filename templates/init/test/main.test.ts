import { checkOutputFiles, MlApp, parseYamlStream } from 'cdk8s-ml';
import { build } from '../main';

function synth() {
  const app = new MlApp({ outdir: 'dist' });
  build(app);
  return app.synthFiles(); // in memory: nothing is written
}

test('the output passes the cdk8s-ml output check (schema, Pod Security restricted, Dockerfiles, compose)', () => {
  expect(checkOutputFiles(synth())).toEqual([]);
});

/** Every Kubernetes object of the manifests, parsed. */
function objects(): any[] {
  return [...synth()].filter(([file]) => file.startsWith('manifests/')).flatMap(([, text]) => parseYamlStream(text));
}

const selects = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

test("the web app's backend URL names an existing Service on a port reaching the server's REST port; policies let just that call through", () => {
  const all = objects();
  const web = all.find(o => o.kind === 'Deployment' && o.metadata.name === 'web');
  const env = web.spec.template.spec.containers[0].env;
  const url = new URL(env.find((e: any) => e.name === 'BACKEND_PREDICT_URL').value);
  // http://<service>.<namespace>.svc:<port>/v1/models/<name>:predict
  const [serviceName, namespace] = url.hostname.split('.');
  const service = all.find(o => o.kind === 'Service' && o.metadata.name === serviceName && o.metadata.namespace === namespace);
  expect(service).toBeDefined();
  const port = service.spec.ports.find((p: any) => p.port === Number(url.port));
  const server = all.find(o => o.kind === 'Deployment' && selects(service.spec.selector, o.spec.template.metadata.labels));
  expect(server.metadata.name).toBe('server');
  expect(server.spec.template.spec.containers[0].ports.map((p: any) => p.containerPort)).toContain(port.targetPort);

  // the server's ingress admits the web pods on that port, and the web pods may leave for it
  const serverPolicy = all.find(o => o.kind === 'NetworkPolicy' && o.metadata.name === 'server');
  const isWeb = (peer: any) => peer.podSelector && selects(peer.podSelector.matchLabels, web.spec.template.metadata.labels);
  const fromWeb = serverPolicy.spec.ingress.filter((r: any) => r.from.some(isWeb));
  expect(fromWeb.flatMap((r: any) => r.ports.map((p: any) => p.port))).toEqual([port.targetPort]);
  const webPolicy = all.find(o => o.kind === 'NetworkPolicy' && o.metadata.name === 'web');
  const isServer = (peer: any) => peer.podSelector && selects(peer.podSelector.matchLabels, server.spec.template.metadata.labels);
  const toServer = webPolicy.spec.egress.filter((r: any) => (r.to ?? []).some(isServer));
  expect(toServer.flatMap((r: any) => r.ports.map((p: any) => p.port))).toEqual([port.targetPort]);
});

test('the synthesized output matches the snapshot (review changes to the YAML here)', () => {
  expect(Object.fromEntries(synth())).toMatchSnapshot();
});
