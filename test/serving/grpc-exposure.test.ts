import { Exposure, InferenceService, isConnectionAllowed, ModelSource, TfServingBackend } from '../../lib';
import { synthStack } from '../_util/synth';

const IMAGE = 'registry.example.com/api:1.0.0';
const GRPC_PORTS = { extraPorts: [{ name: 'grpc', port: 9000 }] };
const GATEWAY = { gateway: { name: 'public', namespace: 'gateway' }, hostnames: ['api.example.com'] };
const api = (exposure: Exposure, extra: Record<string, unknown> = GRPC_PORTS) =>
  synthStack((stack) => new InferenceService(stack, 'api', { image: IMAGE, exposure, ...extra }));

describe('gRPC exposure through a Gateway: a GRPCRoute beside the HTTPRoute', () => {
  test("an extra port named grpc: the route to the Service's gRPC port, the gateway's pods admitted on it", () => {
    const out = api(Exposure.gateway({ ...GATEWAY, grpc: { hostnames: ['grpc.api.example.com'] } }));
    const route = out.find('GRPCRoute', 'api');
    expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(route.spec).toEqual({
      parentRefs: [{ name: 'public', namespace: 'gateway' }],
      hostnames: ['grpc.api.example.com'],
      rules: [{ backendRefs: [{ name: 'api', port: 9000 }] }],
    });
    expect(out.find('HTTPRoute', 'api').spec.rules[0].backendRefs).toEqual([{ name: 'api', port: 8080 }]);
    expect(isConnectionAllowed(out.objects, 'probe:gateway', 'Deployment/test/api', 9000)).toBe(true);
    expect(isConnectionAllowed(out.objects, 'probe:gateway', 'Deployment/test/api', 8080)).toBe(true);
    expect(isConnectionAllowed(out.objects, 'probe:elsewhere', 'Deployment/test/api', 9000)).toBe(false);
  });

  test("TF Serving's gRPC (8500), split by the canary's weight like the HTTPRoute", () => {
    const out = synthStack(
      (stack) =>
        new TfServingBackend(stack, 'tf', {
          modelName: 'm',
          model: ModelSource.fromUri('gs://models/m'),
          replicas: 4,
          exposure: Exposure.gateway({ ...GATEWAY, grpc: { hostnames: ['grpc.api.example.com'] } }),
          canary: { weight: 20, version: '2.21.0' },
        }),
    );
    expect(out.find('GRPCRoute', 'tf').spec.rules[0].backendRefs).toEqual([
      { name: 'tf-stable', port: 8500, weight: 80 },
      { name: 'tf-canary', port: 8500, weight: 20 },
    ]);
    expect(isConnectionAllowed(out.objects, 'probe:gateway', 'Deployment/test/tf-canary', 8500)).toBe(true);
  });

  test.each([
    [
      'host names that meet the HTTPRoute',
      Exposure.gateway({ ...GATEWAY, hostnames: ['*.example.com'], grpc: { hostnames: ['grpc.example.com'] } }),
      GRPC_PORTS,
      "exposure.grpc.hostnames meet the HTTPRoute's host names: the Gateway accepts only one of an HTTPRoute and a GRPCRoute",
    ],
    [
      'an HTTPRoute without host names',
      Exposure.gateway({ gateway: GATEWAY.gateway, grpc: { hostnames: ['grpc.example.com'] } }),
      GRPC_PORTS,
      'exposure.hostnames must be set with exposure.grpc',
    ],
    ['no host names', Exposure.gateway({ ...GATEWAY, grpc: { hostnames: [] } }), GRPC_PORTS, 'exposure.grpc.hostnames must name at least one host'],
    [
      'no gRPC port on the server',
      Exposure.gateway({ ...GATEWAY, grpc: { hostnames: ['grpc.api.example.com'] } }),
      {},
      'exposure.grpc.port names a port this server does not have, got "grpc". Fix: declare the gRPC port, e.g. extraPorts: [{ name: ' +
        "'grpc', port: 9000 }]",
    ],
    [
      'the main port',
      Exposure.gateway({ ...GATEWAY, grpc: { hostnames: ['grpc.api.example.com'], port: 'http' } }),
      GRPC_PORTS,
      'exposure.grpc.port names the main HTTP port; gRPC needs a port of its own, got "http". Fix: use one of \'grpc\'',
    ],
    ['a misspelled key', Exposure.gateway({ ...GATEWAY, grpc: { hostname: ['grpc.api.example.com'] } as any }), GRPC_PORTS, 'exposure.grpc'],
  ])('refused: %s', (_n, exposure, extra, message) => {
    expect(() => api(exposure, extra)).toThrow(`InferenceService 'test/api': ${message}`);
  });
});

describe('gRPC exposure through ingress-nginx: a second Ingress with backend-protocol GRPC', () => {
  test("its own host and TLS secret, to the Service's gRPC port; the controller admitted on it", () => {
    const out = api(Exposure.ingress({ host: 'api.example.com', className: 'nginx', grpc: { host: 'grpc.api.example.com' } }));
    const ing = out.find('Ingress', 'api-grpc');
    expect(ing.metadata.annotations).toEqual({ 'nginx.ingress.kubernetes.io/backend-protocol': 'GRPC' });
    expect(ing.spec).toEqual({
      ingressClassName: 'nginx',
      tls: [{ hosts: ['grpc.api.example.com'], secretName: 'api-grpc-tls' }],
      rules: [
        {
          host: 'grpc.api.example.com',
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'api', port: { number: 9000 } } } }] },
        },
      ],
    });
    // The HTTP Ingress is as it was.
    expect(out.find('Ingress', 'api').metadata.annotations).toBeUndefined();
    expect(isConnectionAllowed(out.objects, 'probe:ingress-nginx', 'Deployment/test/api', 9000)).toBe(true);
  });

  test.each([
    ['the HTTP host', { host: 'api.example.com', grpc: { host: 'api.example.com' } }, 'exposure.grpc.host is the HTTP host'],
    [
      'without TLS',
      { host: 'api.example.com', disableTls: true, grpc: { host: 'grpc.api.example.com' } },
      'exposure.disableTls cannot go with exposure.grpc: ingress-nginx speaks HTTP/2',
    ],
    ['a bad host', { host: 'api.example.com', grpc: { host: 'grpc' } }, 'exposure.grpc.host must be a fully qualified DNS name'],
  ])('refused: %s', (_n, options, message) => {
    expect(() => api(Exposure.ingress(options as any))).toThrow(`InferenceService 'test/api': ${message}`);
  });
});
