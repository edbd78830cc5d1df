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

test('the web app calls the model server through a Service that exists, on its REST port', () => {
  const objects = [...synth()]
    .filter(([file]) => file.startsWith('manifests/'))
    .flatMap(([, text]) => parseYamlStream(text));
  const web = objects.find(o => o.kind === 'Deployment' && o.metadata.name === 'web');
  const url = new URL(web.spec.template.spec.containers[0].env.find((e: any) => e.name === 'BACKEND_PREDICT_URL').value);
  const service = objects.find(o => o.kind === 'Service' && url.hostname.startsWith(`${o.metadata.name}.`));
  expect(service).toBeDefined();
  expect(service.spec.ports.map((p: any) => p.port)).toContain(Number(url.port));
});

test('the synthesized output matches the snapshot (review changes to the YAML here)', () => {
  expect(Object.fromEntries(synth())).toMatchSnapshot();
});
