/**
 * Where `cdk8s-ml check` disagreed with a real API server (v1.36, strict server-side dry-run create of the
 * file as kubectl reads it; test/cluster/check-agreement.test.ts), each fix pinned without a cluster.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import { checkManifests, parseYamlStream } from '../../lib/check/k8s';
import { checkManifestFiles } from '../../lib/check/files';
import { loadYamlDocument } from '../../lib/check/_yaml';
import { toYaml } from '../../lib/app/_yaml';

const RULES = /: (schema|unknown-field|dns-1123|port-range): /;
/** The problems of the rules the agreement test compares, for one file's text, as `cdk8s-ml check` reads it. */
function serverRuleProblems(text: string): string[] {
  return checkManifestFiles([{ file: 'f.yaml', text }]).filter((p) => RULES.test(p));
}

const pod = (metadata: Record<string, unknown>, container: Record<string, unknown> = {}): any => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata,
  spec: { containers: [{ name: 'app', image: 'nginx:1.27', ...container }] },
});

describe('metadata.generateName without a name (kubectl create makes the name)', () => {
  test('a Pod, a Service, a Namespace with only generateName pass', () => {
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { generateName: 'web-' }, spec: { ports: [{ port: 80 }] } };
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { generateName: 'team-' } };
    expect(checkManifests([pod({ generateName: 'worker-' }), svc, ns]).filter((p) => RULES.test(p))).toEqual([]);
  });

  test('neither name nor generateName is still refused', () => {
    expect(checkManifests([pod({ labels: { app: 'x' } })])).toContainEqual(
      expect.stringMatching(/schema: metadata.name is required \(or metadata.generateName/),
    );
  });

  test("generateName is a name prefix: validated as the kind's name with its trailing dash masked", () => {
    expect(checkManifests([pod({ generateName: 'Worker-' })])).toContainEqual(expect.stringMatching(/dns-1123: metadata.generateName "Worker-"/));
    expect(checkManifests([pod({ generateName: 'worker.' })])).toContainEqual(expect.stringMatching(/dns-1123: metadata.generateName "worker\."/));
  });
});

describe('Service port names are DNS-1123 labels, container port names IANA_SVC_NAMEs', () => {
  const svc = (name: string): any => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ name, port: 80 }] } });

  test.each(['80', 'http--alt', 'prometheus-metrics-endpoint'])('Service port name %s passes', (name) => {
    expect(checkManifests([svc(name)]).filter((p) => RULES.test(p))).toEqual([]);
  });

  test.each(['HTTP', 'http_alt', 'a'.repeat(64), '-http'])('Service port name %s is refused', (name) => {
    expect(checkManifests([svc(name)])).toContainEqual(expect.stringMatching(/dns-1123: spec.ports\[0\].name .* must be a DNS-1123 label/));
  });

  test('a container port named "8080" is still refused (IANA_SVC_NAME needs a letter)', () => {
    expect(checkManifests([pod({ name: 'p' }, { ports: [{ name: '8080', containerPort: 8080 }] })])).toContainEqual(
      expect.stringMatching(/dns-1123: .*ports\[0\].name "8080" must be an IANA_SVC_NAME/),
    );
  });

  test('a named targetPort must be an IANA_SVC_NAME (16 characters is one too many)', () => {
    const s = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 80, targetPort: 'http-metrics-long' }] } };
    expect(checkManifests([s])).toContainEqual(
      expect.stringMatching(/port-range: spec.ports\[0\].targetPort "http-metrics-long" must be a port number or an IANA_SVC_NAME/),
    );
  });
});

describe('a CRD schema is not a label map', () => {
  const crd = (labels: Record<string, string>): any => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'groups.example.com', labels },
    spec: {
      group: 'example.com',
      names: { kind: 'Group', plural: 'groups' },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                selector: {
                  type: 'object',
                  properties: {
                    matchLabels: {
                      description: 'matchLabels is a map of {key,value} pairs.',
                      type: 'object',
                      additionalProperties: { type: 'string' },
                    },
                  },
                },
              },
            },
          },
        },
      ],
    },
  });

  test('a matchLabels property described in the schema passes', () => {
    expect(checkManifests([crd({})]).filter((p) => RULES.test(p))).toEqual([]);
  });

  test("the CRD's own labels are still checked", () => {
    expect(checkManifests([crd({ team: 'a b' })])).toContainEqual(expect.stringMatching(/dns-1123: label metadata.labels.team/));
  });
});

describe('manifests are read as kubectl reads them: YAML 1.1 (go-yaml v2 resolve.go)', () => {
  // Seen with kubectl v1.36.3 (`kubectl create --dry-run=client -o json`): each resolves as below.
  const cases: Array<[string, unknown]> = [
    ['y', true],
    ['Y', true],
    ['yes', true],
    ['Yes', true],
    ['YES', true],
    ['on', true],
    ['On', true],
    ['ON', true],
    ['n', false],
    ['N', false],
    ['no', false],
    ['No', false],
    ['NO', false],
    ['off', false],
    ['Off', false],
    ['OFF', false],
    ['true', true],
    ['False', false],
    ['1_000', 1000],
    ['0777', 511],
    ['0o17', 15],
    ['0x1F', 31],
    ['0b101', 5],
    ['-0b11', -3],
    ['1e3', 1000],
    ['.5', 0.5],
    ['1.', 1],
    ['0.1_0', 0.1],
    ['1_0.5', 10.5],
    ['08', 8],
    ['0x_1', 1],
    ['0_', 0],
    ['.5_0', 0.5],
    ['2024-01-02', '2024-01-02'],
    ['12:30', '12:30'],
    ['_1', '_1'],
    ['._5', '._5'],
    ['yesterday', 'yesterday'],
    ['3:4', '3:4'],
    ['~', null],
    ['null', null],
  ];
  test.each(cases)('%s', (scalar, expected) => {
    expect(parseYamlStream(`a: ${scalar}\n`)[0].a).toEqual(expected);
    expect(parseYamlStream(`a: "${scalar}"\n`)[0].a).toBe(scalar); // quoted: always a string
  });

  test('an unquoted yes in an env value or on in an annotation is refused, with why', () => {
    const text = [
      'apiVersion: v1',
      'kind: Pod',
      'metadata:',
      '  name: p',
      '  annotations:',
      '    example.com/inject: on',
      'spec:',
      '  containers:',
      '  - name: app',
      '    image: nginx:1.27',
      '    env:',
      '    - name: A',
      '      value: yes',
      '',
    ].join('\n');
    const problems = serverRuleProblems(text);
    expect(problems).toContainEqual(
      expect.stringMatching(/schema: spec.containers\[0\].env\[0\].value must be string \(got true: kubectl reads an unquoted yes/),
    );
    expect(problems).toContainEqual(expect.stringMatching(/schema: metadata.annotations\["example.com\/inject"\] must be string \(got true/));
  });

  test('a YAML 1.1 boolean where the API wants a boolean passes (suspend: yes)', () => {
    const text = 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\nautomountServiceAccountToken: no\n';
    expect(serverRuleProblems(text)).toEqual([]);
  });

  test('compose files stay YAML 1.2 (compose-go reads them with go-yaml v3)', () => {
    expect(loadYamlDocument('a: yes\nb: on\nc: 1_000\n')).toEqual({ a: 'yes', b: 'on', c: '1_000' });
  });

  test("the library's own YAML quotes 0.1_0 and .5_0 (go-yaml v2 drops the underscores: 0.1 and 0.5 to kubectl)", () => {
    expect(toYaml([{ a: '0.1_0', b: '.5_0', c: '1_0.5' }])).toBe("a: '0.1_0'\nb: '.5_0'\nc: '1_0.5'\n");
  });

  test("the library's own YAML quotes every string kubectl would read as something else", () => {
    const strings = [...cases.map(([s]) => s), '+.inf', '-.INF', '.NaN', '', '190:20:30', '0o777', '+12'];
    const doc = {
      metadata: {
        annotations: Object.fromEntries(strings.map((s, i) => [`k${i}`, s])),
        labels: Object.fromEntries(strings.filter((s) => /^\w+$/.test(s)).map((s) => [s, s])),
      },
    };
    expect(parseYamlStream(toYaml([doc]))[0]).toEqual(doc);
  });
});

describe('what the API server validates beyond the OpenAPI schema', () => {
  const meta = { name: 'x' };
  const podSpec = (extra: Record<string, unknown> = {}): any => ({ containers: [{ name: 'app', image: 'nginx:1.27' }], ...extra });
  const tpl = (labels: Record<string, string>, extra: Record<string, unknown> = {}): any => ({ metadata: { labels }, spec: podSpec(extra) });
  const deployment = (selector: any): any => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta,
    spec: { selector, template: tpl({ app: 'web' }) },
  });
  const job = (restartPolicy?: string): any => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta,
    spec: { template: { spec: podSpec(restartPolicy ? { restartPolicy } : {}) } },
  });
  const svc = (ports: any[]): any => ({ apiVersion: 'v1', kind: 'Service', metadata: meta, spec: { ports } });
  const ingress = (spec: any): any => ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: meta, spec });
  const backend = (number: number): any => ({ service: { name: 'web', port: { number } } });
  const crd = (name: string, scope: string, schema?: any): any => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name },
    spec: {
      group: 'example.com',
      names: { kind: 'Thing', plural: 'things' },
      scope,
      versions: [{ name: 'v1', served: true, storage: true, ...(schema ? { schema } : {}) }],
    },
  });
  const anySchema = { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } };
  const netpol = (cidr: string): any => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta,
    spec: { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr } }] }] },
  });

  // [case, object, the problem expected (undefined: none of the compared rules)]
  const cases: Array<[string, any, RegExp | undefined]> = [
    [
      'a null annotation value (Go decodes it as "")',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', annotations: { 'example.com/owner': null } } },
      undefined,
    ],
    [
      'a NetworkPolicy without podSelector (optional, defaults to all pods)',
      { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta, spec: { policyTypes: ['Ingress'] } },
      undefined,
    ],
    ['a PriorityClass without value (an int32: 0)', { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: meta }, undefined],
    [
      'an annotation key with a space',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', annotations: { 'example.com/bad key': 'v' } } },
      /dns-1123: annotation key metadata.annotations\["example.com\/bad key"\]/,
    ],
    [
      'an upper-case annotation prefix (case does not matter)',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', annotations: { 'Example.com/Owner': 'v' } } },
      undefined,
    ],
    [
      'a ConfigMap key with a slash',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta, data: { 'conf/app.ini': 'x' } },
      /dns-1123: data key "conf\/app.ini"/,
    ],
    [
      'a Secret stringData key ".."',
      { apiVersion: 'v1', kind: 'Secret', metadata: meta, stringData: { '..': 'x' } },
      /dns-1123: stringData key "\.\."/,
    ],
    ['an Ingress host in upper case', ingress({ rules: [{ host: 'API.example.com' }] }), /dns-1123: spec.rules\[0\].host "API.example.com"/],
    ['an Ingress wildcard host', ingress({ rules: [{ host: '*.example.com' }] }), undefined],
    ['an Ingress host that is an IP', ingress({ rules: [{ host: '10.0.0.1' }] }), /dns-1123: spec.rules\[0\].host "10.0.0.1"/],
    [
      'an Ingress backend port 70000',
      ingress({ defaultBackend: backend(70000) }),
      /port-range: spec.defaultBackend.service.port.number must be an integer in 1..65535/,
    ],
    [
      'a StatefulSet claim template named in upper case',
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: meta,
        spec: {
          selector: { matchLabels: { app: 'db' } },
          template: tpl({ app: 'db' }),
          volumeClaimTemplates: [
            { metadata: { name: 'Data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
          ],
        },
      },
      /dns-1123: spec.volumeClaimTemplates\[0\].metadata.name "Data"/,
    ],
    [
      'a container without image',
      { apiVersion: 'v1', kind: 'Pod', metadata: meta, spec: { containers: [{ name: 'app' }] } },
      /schema: spec.containers\[0\].image is required/,
    ],
    [
      'a selector operator Contains',
      deployment({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'app', operator: 'Contains', values: ['web'] }] }),
      /schema: spec.selector.matchExpressions\[0\].operator "Contains"/,
    ],
    [
      'a selector In without values',
      deployment({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'app', operator: 'In' }] }),
      /schema: spec.selector.matchExpressions\[0\].values must be given/,
    ],
    [
      'a node selector Gt (not a label selector)',
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: meta,
        spec: podSpec({
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchExpressions: [{ key: 'gpus', operator: 'Gt', values: ['1'] }] }],
              },
            },
          },
        }),
      },
      undefined,
    ],
    ['a Job with restartPolicy Always', job('Always'), /schema: spec.template.spec.restartPolicy must be OnFailure or Never/],
    ['a Job without restartPolicy', job(), /schema: spec.template.spec.restartPolicy must be OnFailure or Never/],
    ['a Job with restartPolicy Never', job('Never'), undefined],
    [
      'a PDB with minAvailable and maxUnavailable',
      {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: meta,
        spec: { minAvailable: 1, maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } },
      },
      /schema: spec: minAvailable and maxUnavailable cannot both be set/,
    ],
    [
      'a TLS Secret without tls.key',
      { apiVersion: 'v1', kind: 'Secret', metadata: meta, type: 'kubernetes.io/tls', stringData: { 'tls.crt': 'x' } },
      /schema: data\["tls.key"\] is required/,
    ],
    [
      'a Service port listed twice',
      svc([
        { name: 'a', port: 80 },
        { name: 'b', port: 80 },
      ]),
      /schema: spec.ports\[1\]: port 80\/TCP is listed twice/,
    ],
    [
      'a Service with two unnamed ports',
      svc([{ port: 80 }, { port: 81 }]),
      /schema: spec.ports\[0\].name is required when a Service has more than one port/,
    ],
    [
      'a PVC without a storage request',
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta, spec: { accessModes: ['ReadWriteOnce'] } },
      /schema: spec.resources.requests.storage is required/,
    ],
    [
      'an HPA metric of type Cpu',
      {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: meta,
        spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 3, metrics: [{ type: 'Cpu' }] },
      },
      /schema: spec.metrics\[0\].type "Cpu"/,
    ],
    [
      'a CRD named other than plural.group',
      crd('thing.example.com', 'Namespaced', anySchema),
      /schema: metadata.name "thing.example.com" must be spec.names.plural/,
    ],
    ['a CRD of scope Global', crd('things.example.com', 'Global', anySchema), /schema: spec.scope "Global"/],
    ['a CRD version without schema', crd('things.example.com', 'Namespaced'), /schema: spec.versions\[0\].schema.openAPIV3Schema is required/],
    ['a CRD as the server wants it', crd('things.example.com', 'Cluster', anySchema), undefined],
    ['an ipBlock /33', netpol('10.0.0.0/33'), /schema: spec.egress\[0\].to\[0\].ipBlock.cidr "10.0.0.0\/33" must be a CIDR/],
    ['an IPv6 ipBlock', netpol('2001:db8::/64'), undefined],
  ];
  test.each(cases)('%s', (_name, obj, expected) => {
    const problems = checkManifests([obj]).filter((p) => RULES.test(p));
    if (expected) expect(problems).toContainEqual(expect.stringMatching(expected));
    else expect(problems).toEqual([]);
  });
});
