/**
 * Compose files that every compose tool runs the same way (issue 12, defect 4). What docker-compose
 * 1.29 and podman-compose 1.0.3 really do with them is in test/e2e/compose.e2e.test.ts.
 */
import { EnvValue, FlaskFrontend, InferenceService, ModelSource, PythonImage, TfServingBackend } from '../../lib';
import { parseYamlStream } from '../../lib/check';
import { pythonContext, synthStack } from '../_util/synth';

const GS = ModelSource.fromUri('gs://models/and-gate');
const web = () => PythonImage.fromDirectory(pythonContext(), { repository: 'registry.example.com/web', tag: '1.0.0' });

function composeOf(out: { files: Map<string, string> }): any {
  return parseYamlStream(out.files.get('compose/test.compose.yml')!)[0];
}

describe('compose', () => {
  test("TF Serving's config files are bind mounts where the server reads them, not top-level configs (ignored by docker-compose 1.29, dropped by podman-compose 1.0.3)", () => {
    const out = synthStack(stack => new TfServingBackend(stack, 'server', { modelName: 'm', model: GS }));
    const compose = composeOf(out);
    expect(compose.configs).toBeUndefined();
    expect(compose.services.server.configs).toBeUndefined();
    const args: string[] = compose.services.server.command;
    for (const flag of ['--model_config_file=', '--monitoring_config_file=']) {
      const target = args.find(a => a.startsWith(flag))!.slice(flag.length);
      const mount = compose.services.server.volumes.find((v: any) => v.target === target);
      expect(mount).toMatchObject({ type: 'bind', read_only: true });
      // relative to the compose file, which sits in compose/: the file synth wrote there
      expect(out.files.has(`compose/${mount.source.replace(/^\.\//, '')}`)).toBe(true);
    }
  });

  test('a literal $ is written $$ (compose would interpolate it); values from the shell stay ${...}', () => {
    const out = synthStack(stack => new InferenceService(stack, 'api', {
      image: 'registry.example.com/api:1.0.0',
      command: ['sh', '-c', 'echo $HOME'],
      env: { PRICE: '5$', TEMPLATE: '${X}', TOKEN: EnvValue.fromSecret('s', 'k') },
    }));
    const api = composeOf(out).services.api;
    expect(api.environment).toEqual({ PRICE: '5$$', TEMPLATE: '$${X}', TOKEN: '${TOKEN:?set TOKEN in your shell}' });
    expect(api.entrypoint).toEqual(['sh', '-c', 'echo $$HOME']);
  });

  test('a GPU server reserves its GPUs (compose-spec device reservations)', () => {
    const out = synthStack(stack => new TfServingBackend(stack, 'server', { modelName: 'm', model: GS, resources: { gpu: 2 } }));
    expect(composeOf(out).services.server.deploy).toEqual({ resources: { reservations: { devices: [{ driver: 'nvidia', count: 2, capabilities: ['gpu'] }] } } });
  });

  test('depends_on waits for the backend to be healthy: a healthcheck from its readiness probe, with a tool its image has', () => {
    const out = synthStack(stack => {
      const server = new TfServingBackend(stack, 'server', { modelName: 'm', model: GS });
      new FlaskFrontend(stack, 'web', { image: web(), backend: server });
      new InferenceService(stack, 'plain', { image: 'registry.example.com/api:1.0.0', healthCheck: { path: '/healthz' } });
    });
    const services = composeOf(out).services;
    expect(services.web.depends_on).toEqual({ server: { condition: 'service_healthy' } });
    // tensorflow/serving has no curl or wget; its ports open once the models are loaded
    expect(services.server.healthcheck).toMatchObject({ test: ['CMD', 'bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/8501'], start_period: '600s' });
    expect(services.web.healthcheck.test).toEqual(['CMD', 'python', '-c', "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]);
    // an image we do not build: no tool we know of, so no healthcheck (dependents only wait for the start)
    expect(services.plain.healthcheck).toBeUndefined();
  });

  test('ports are published on 127.0.0.1, movable from the shell when busy', () => {
    const out = synthStack(stack => new TfServingBackend(stack, 'server', { modelName: 'm', model: GS }));
    expect(composeOf(out).services.server.ports).toEqual(['127.0.0.1:${SERVER_PORT:-8501}:8501', '127.0.0.1:${SERVER_GRPC_PORT:-8500}:8500']);
  });
});
