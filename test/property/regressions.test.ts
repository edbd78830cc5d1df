/**
 * Bugs the property tests (valid.test.ts, corrupted.test.ts) found, each as a plain example that
 * failed before its fix. The issue's own findings are in test/catalog/findings.test.ts.
 */
import {
  BatchInferenceJob,
  EnvFrom,
  Exposure,
  FlaskFrontend,
  InferenceService,
  MlStack,
  MlValidationError,
  ModelOutput,
  ModelSource,
  PythonImage,
  TfServingBackend,
  TrainingJob,
} from '../../lib';
import { checkManifests } from '../../lib/check';
import { joinRegExp } from '../_util/regexp';
import { podSpec, pythonContext, synth, synthStack } from '../_util/synth';

const ctx = pythonContext();

/** What synthStack throws for this input (undefined when it synthesizes). */
function synthError(...args: Parameters<typeof synthStack>): unknown {
  try {
    synthStack(...args);
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('found by property 1 (valid configurations)', () => {
  test('PythonImage env values reach the image as written: $ is not expanded by the builder, quotes and backslashes survive', () => {
    // `ENV A="${x"` made the Dockerfile unparseable, `ENV A="$HOME"` baked the build's HOME into the image.
    const out = synthStack(
      (stack) =>
        new InferenceService(stack, 'api', {
          image: PythonImage.fromDirectory(ctx, {
            repository: 'registry.example.com/api',
            tag: '1.0.0',
            env: { A: '$HOME', B: '${x', C: 'say "hi" \\o/', D: "it's" },
          }),
        }),
    );
    const dockerfile = out.dockerfile('api');
    expect(dockerfile).toContain('A="\\$HOME"');
    expect(dockerfile).toContain('B="\\${x"');
    expect(dockerfile).toContain('C="say \\"hi\\" \\\\o/"');
    expect(dockerfile).toContain('D="it\'s"');
  });

  test('a LoadBalancer publishes every port of the Service, and the NetworkPolicy admits each of them from outside', () => {
    // The policy admitted only the main port: TF Serving's gRPC 8500 and extra ports were published but unreachable.
    const out = synthStack((stack) => {
      new TfServingBackend(stack, 'server', { modelName: 'm', model: ModelSource.fromUri('gs://models/m'), exposure: Exposure.loadBalancer() });
      new InferenceService(stack, 'api', {
        image: 'registry.example.com/api:1.0.0',
        extraPorts: [{ name: 'grpc', port: 9000 }],
        exposure: Exposure.loadBalancer({ port: 80 }),
      });
    });
    const fromAnywhere = (name: string) =>
      out
        .find('NetworkPolicy', name)
        .spec.ingress.filter((r: any) => r.from === undefined)
        .flatMap((r: any) => r.ports.map((p: any) => p.port));
    expect(fromAnywhere('server').sort()).toEqual([8500, 8501]);
    expect(fromAnywhere('api').sort()).toEqual([8080, 9000]);
    expect(podSpec(out.find('Deployment', 'api')).containers[0].ports.map((p: any) => p.containerPort)).toEqual([8080, 9000]);
  });

  test("ingress controller or Prometheus in the workload's own namespace is rejected: admitted by namespace, every pod of it could connect", () => {
    // Accepted before: the NetworkPolicy admitted namespace 'shop' as a whole, so any pod of the stack reached the server.
    const expectRejected = (build: Parameters<typeof synthStack>[0], prop: string) => {
      const error = synthError(build, { namespace: 'shop' });
      expect(error).toBeInstanceOf(MlValidationError);
      expect((error as MlValidationError).prop).toBe(prop);
      expect((error as Error).message).toMatch(
        new RegExp(
          `^\\w+ 'test/\\w+': ${prop.replace('.', '\\.')} is the workload's own namespace: .*every ` +
            `pod of 'shop' could connect.*, got "shop"\\. Fix: run .* in a namespace of its own`,
        ),
      );
    };
    expectRejected(
      (stack) =>
        new InferenceService(stack, 'api', {
          image: 'registry.example.com/api:1.0.0',
          exposure: Exposure.ingress({ host: 'api.example.com', controllerNamespace: 'shop' }),
        }),
      'exposure.controllerNamespace',
    );
    expectRejected(
      (stack) =>
        new FlaskFrontend(stack, 'web', {
          image: PythonImage.fromDirectory(ctx, { repository: 'registry.example.com/web', tag: '1.0.0' }),
          metrics: { namespace: 'shop' },
        }),
      'metrics.namespace',
    );
    expectRejected(
      (stack) => new TfServingBackend(stack, 'server', { modelName: 'm', model: ModelSource.fromUri('gs://models/m'), metricsNamespace: 'shop' }),
      'metricsNamespace',
    );
    // Another namespace is admitted, and only it.
    const out = synthStack(
      (stack) =>
        new InferenceService(stack, 'api', {
          image: 'registry.example.com/api:1.0.0',
          exposure: Exposure.ingress({ host: 'api.example.com', controllerNamespace: 'edge' }),
        }),
      { namespace: 'shop' },
      { intended: [{ from: 'probe:edge', to: 'Deployment/shop/api', port: 8080 }] },
    );
    expect(JSON.stringify(out.find('NetworkPolicy', 'api').spec.ingress)).toContain('"kubernetes.io/metadata.name":"edge"');
  });

  test('a CPU limit equal to the request is accepted however each is written (300m and 0.3 are one value)', () => {
    // '300m' parsed as 300 * 0.001 = 0.30000000000000004 and a limit of '0.3' was "less than the request".
    for (const [cpu, cpuLimit] of [
      ['300m', '0.3'],
      ['1017m', 1.017],
      ['0.7', '700m'],
    ] as const) {
      const out = synthStack(
        (stack) => new InferenceService(stack, 'api', { image: 'registry.example.com/api:1.0.0', resources: { cpu, cpuLimit } }),
      );
      expect(podSpec(out.find('Deployment', 'api')).containers[0].resources.limits.cpu).toBe(String(cpuLimit));
    }
  });

  test('TfServingBackend: a ReadWriteOncePod model among several claims limits the server to one replica', () => {
    // Only a ReadWriteOnce claim was looked for: with a ReadWriteMany claim first, two replicas passed and hit Multi-Attach.
    const models = [
      { name: 'a', source: ModelSource.fromVolume('shared', { accessMode: 'ReadWriteMany' }) },
      { name: 'b', source: ModelSource.fromVolume('private', { accessMode: 'ReadWriteOncePod' }) },
    ] as const;
    expect(() => synthStack((stack) => new TfServingBackend(stack, 'server', { models: [...models], replicas: 2 }))).toThrow(
      joinRegExp(
        /TfServingBackend 'test\/server': model reads PersistentVolumeClaim 'private' /,
        /\(ReadWriteOncePod\) from up to 2 replicas.*got "ReadWriteOncePod"\. Fix: /,
      ),
    );
    const one = synthStack((stack) => new TfServingBackend(stack, 'server', { models: [...models] }));
    expect(one.find('Deployment', 'server').spec.strategy.rollingUpdate).toEqual({ maxSurge: 0, maxUnavailable: 1 });
  });

  test('what command, args and env name outside the cluster the pods may reach; in-cluster names open nothing', () => {
    // Egress stayed isolated to DNS: a training script given s3:// or an external API could not reach it.
    const out = synthStack((stack) => {
      new TrainingJob(stack, 'train', { image: 'registry.example.com/train:1.0.0', args: ['--data', 's3://bucket/train.csv'] });
      new InferenceService(stack, 'api', {
        image: 'registry.example.com/api:1.0.0',
        env: { API: 'https://api.example.com:8443/v1', LOCAL: 'http://localhost:9000' },
      });
    });
    const egressPorts = (name: string) =>
      out
        .find('NetworkPolicy', name)
        .spec.egress.filter((r: any) => r.to?.some((t: any) => t.ipBlock?.cidr === '0.0.0.0/0'))
        .flatMap((r: any) => r.ports.map((p: any) => p.port))
        .sort();
    expect(egressPorts('train')).toEqual([443]);
    expect(egressPorts('api')).toEqual([8443]);
    const plain = synthStack(
      (stack) =>
        new TrainingJob(stack, 'train', {
          image: 'registry.example.com/train:1.0.0',
          args: ['--peer=http://other.test.svc:8080', 'http://localhost:9000', '$(DATA_URL)'],
        }),
    );
    expect(plain.find('NetworkPolicy', 'train').spec.egress.some((r: any) => r.to?.some((t: any) => t.ipBlock))).toBe(false);
  });
});

describe('found by property 2 (one value corrupted)', () => {
  test('a carriage return in a construct id stays inside the Dockerfile comment that names the construct', () => {
    // The CMD comment names the workload's path; a '\r' in the stack id ended the comment and began an "instruction".
    const out = synth((app) => {
      const stack = new MlStack(app, 'shop\r');
      new FlaskFrontend(stack, 'web', { image: PythonImage.fromDirectory(ctx, { repository: 'registry.example.com/web', tag: '1.0.0' }) });
    });
    const dockerfile = out.dockerfile('web');
    expect(dockerfile.split('\n').filter((l) => l.includes('FlaskFrontend'))).toEqual(["# CMD: the command of FlaskFrontend 'shop"]);
    expect(dockerfile).toContain("\n# /web' (the first server");
  });

  test('two constructs with one id in one scope: an MlValidationError naming the scope, the id and the construct that has it', () => {
    // constructs threw "There is already a Construct with name 'api' in MlStack [test]": no prop, no fix.
    const error = synthError((stack) => {
      new InferenceService(stack, 'api', { image: 'registry.example.com/api:1.0.0' });
      new TrainingJob(stack, 'api', { image: 'registry.example.com/train:1.0.0' });
    });
    expect(error).toBeInstanceOf(MlValidationError);
    expect((error as Error).message).toBe(
      "MlStack 'test': id of a new TrainingJob is already the id of InferenceService 'test/api' " +
        '(ids are unique among the children of one scope), got "api". Fix: give the new ' +
        "TrainingJob an id of its own, e.g. 'api-2'",
    );
  });

  test("an id every JavaScript object has ('valueOf', 'constructor') is an MlValidationError, not constructs' \"already a Construct\"", () => {
    for (const id of ['valueOf', 'constructor', '__proto__']) {
      const error = synthError((stack) => new InferenceService(stack, id, { image: 'registry.example.com/api:1.0.0' }));
      expect(error).toBeInstanceOf(MlValidationError);
      expect((error as Error).message).toMatch(
        new RegExp(`^MlStack 'test': id of a new InferenceService cannot be '${id}': .*, got "${id}"\\. Fix: use another id`),
      );
    }
  });

  test("the late checks (names that clash across workloads, a claim's readers) throw an MlValidationError too, listing every problem", () => {
    // They reached the caller as cdk8s's plain "Validation failed with the following errors" Error.
    const error = synthError((stack) => {
      const train = new TrainingJob(stack, 'train', {
        image: 'registry.example.com/train:1.0.0',
        modelOutput: ModelOutput.newClaim({ size: '1Gi' }),
      });
      new InferenceService(stack, 'a', { image: 'registry.example.com/api:1.0.0', model: ModelSource.fromTrainingJob(train) });
      new InferenceService(stack, 'b', { image: 'registry.example.com/api:1.0.0', model: ModelSource.fromTrainingJob(train), name: 'a' });
    });
    expect(error).toBeInstanceOf(MlValidationError);
    const lines = (error as Error).message.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^TrainingJob 'test\/train': modelOutput is a ReadWriteOnce claim read by up to 2 pods at once .*, got "ReadWriteOnce"\. Fix: /,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^InferenceService 'test\/b': name clashes with InferenceService 'test\/a' .*, got "a"\. Fix: /),
    );
    // The error is the first problem's: its construct and prop.
    const first = error as MlValidationError;
    expect(
      lines[0].startsWith(`${first.constructPath === 'test/b' ? 'InferenceService' : 'TrainingJob'} '${first.constructPath}': ${first.prop} `),
    ).toBe(true);
  });

  test("a map key 'constructor' (labels, annotations, node selector, affinity) is an MlValidationError: cdk8s's serializer cannot write it", () => {
    // It failed inside cdk8s ("can't render non-simple object of type 'undefined'"), naming no prop.
    const cases: Array<[string, (stack: MlStack) => void, string]> = [
      [
        'pod annotations',
        (stack) => new InferenceService(stack, 'api', { image: 'registry.example.com/api:1.0.0', podAnnotations: { constructor: 'x' } }),
        'podAnnotations',
      ],
      [
        'node selector',
        (stack) => new InferenceService(stack, 'api', { image: 'registry.example.com/api:1.0.0', nodeSelector: { constructor: 'x' } }),
        'nodeSelector',
      ],
      [
        'service account',
        (stack) =>
          new TrainingJob(stack, 'train', { image: 'registry.example.com/train:1.0.0', serviceAccount: { annotations: { constructor: 'x' } } }),
        'serviceAccount.annotations',
      ],
      [
        'affinity',
        (stack) =>
          new InferenceService(stack, 'api', {
            image: 'registry.example.com/api:1.0.0',
            affinity: { podAntiAffinity: JSON.parse('{"__proto__": []}') },
          }),
        'affinity',
      ],
      [
        'affinity',
        (stack) =>
          new InferenceService(stack, 'api', { image: 'registry.example.com/api:1.0.0', affinity: { nodeAffinity: { constructor: {} } as any } }),
        'affinity',
      ],
    ];
    for (const [, build, prop] of cases) {
      const error = synthError(build);
      expect(error).toBeInstanceOf(MlValidationError);
      expect((error as MlValidationError).prop).toBe(prop);
    }
    const stackError = synthError(() => undefined, { labels: { constructor: 'x' } });
    expect((stackError as Error).message).toBe(
      "MlStack 'test': labels has the key 'constructor', which cdk8s cannot write (its " +
        "serializer reads an object's constructor property to tell plain data from class " +
        'instances), got "constructor". Fix: use a prefixed key, e.g. \'example.com/constructor\'',
    );
  });

  test('an env URL of an in-cluster Service the app does not define, or on a port it does not expose, is an MlValidationError at synth', () => {
    // Accepted before; the output check then failed on it (env-url).
    const expectRejected = (build: Parameters<typeof synthStack>[0], message: RegExp) => {
      const error = synthError(build);
      expect(error).toBeInstanceOf(MlValidationError);
      expect((error as Error).message).toMatch(message);
    };
    expectRejected(
      (stack) => new TrainingJob(stack, 'train', { image: 'registry.example.com/train:1.0.0', env: { API: 'http://x' } }),
      joinRegExp(
        /^TrainingJob 'test\/train': env\.API names Service test\/x \(http:\/\/x\), which this /,
        /app does not define, got "http:\/\/x"\. Fix: wire the workload to the server by object/,
      ),
    );
    expectRejected(
      (stack) => {
        new InferenceService(stack, 'server', { image: 'registry.example.com/api:1.0.0' });
        new InferenceService(stack, 'client', { image: 'registry.example.com/api:1.0.0', env: { SERVER: 'http://server.test.svc:9999/predict' } });
      },
      joinRegExp(
        /^InferenceService 'test\/client': env\.SERVER uses port 9999 of Service test\/server /,
        /\(http:\/\/server\.test\.svc:9999\/predict\), which exposes 8080, got /,
      ),
    );
    // A Service of the app on its port, with the connection allowed, is fine; so are external hosts.
    const out = synthStack((stack) => {
      const server = new InferenceService(stack, 'server', { image: 'registry.example.com/api:1.0.0' });
      const client = new InferenceService(stack, 'client', {
        image: 'registry.example.com/api:1.0.0',
        env: { SERVER: server.url, DOCS: 'https://docs.example.com' },
      });
      server.allowFrom(client);
    });
    expect(podSpec(out.find('Deployment', 'client')).containers[0].env).toContainEqual({ name: 'SERVER', value: 'http://server.test.svc:8080' });
  });
});

describe('found by property 1, later', () => {
  test("a Service name or namespace starting with 'xn--' that is not punycode is rejected: clients' URLs would not parse", () => {
    // Accepted: BACKEND_URL http://xn---a1.test.svc:8080 then failed every URL parser (and the output check).
    expect(() => new URL('http://xn---a1.test.svc:8080')).toThrow();
    const error = synthError((stack) => new InferenceService(stack, 'api', { image: 'registry.example.com/api:1.0.0', name: 'xn---a1' }));
    expect(error).toBeInstanceOf(MlValidationError);
    expect((error as Error).message).toMatch(
      /^InferenceService 'test\/api': name starts with 'xn--' but is not valid punycode: .*, got "xn---a1"\. Fix: pass name: 'xn-a1'/,
    );
    expect(() => synthStack(() => undefined, { namespace: 'xn--zz' })).toThrow(
      /^MlStack 'test': namespace starts with 'xn--' but is not valid punycode: .*, got "xn--zz"/,
    );
    // Valid punycode is a host like any other.
    const out = synthStack((stack) => new InferenceService(stack, 'api', { image: 'registry.example.com/api:1.0.0', name: 'xn--mnchen-3ya' }));
    expect(out.find('Service', 'xn--mnchen-3ya').metadata.name).toBe('xn--mnchen-3ya');
  });

  test('an extra port without a number is an MlValidationError, not a crash inside cdk8s', () => {
    // { name: 'grpc' } (or any object with a name and no port) failed in cdk8s: "can't render non-simple object of type 'IntOrString'".
    const extraPort = (extra: unknown) =>
      synthError((stack) => new InferenceService(stack, 'api', { image: 'registry.example.com/api:1.0.0', extraPorts: [extra as any] }));
    const error = extraPort({ name: 'grpc' });
    expect(error).toBeInstanceOf(MlValidationError);
    expect((error as Error).message).toBe(
      "InferenceService 'test/api': extraPorts[0].port is required (an extra port needs its " +
        "number), got undefined. Fix: give it one, e.g. { name: 'grpc', port: 9000 }",
    );
    // Another object in its place (an EnvFrom) is refused by its keys first (issue 22: unknown keys are errors).
    const other = extraPort(EnvFrom.secret('grpc'));
    expect(other).toBeInstanceOf(MlValidationError);
    expect((other as Error).message).toMatch(/^InferenceService 'test\/api': extraPorts\[0\]\.kind is not a known key, .* Known keys: name, port$/);
  });
});

describe('found by the API server (property 1 cases sent with strict server-side dry run)', () => {
  test('DEL and C1 control characters in annotation and env values are an MlValidationError: server-side apply refuses them', () => {
    // kube-apiserver v1.36: "error decoding YAML: error converting YAML to JSON: yaml: control characters are
    // not allowed" for a pod annotation "~$\u0006i\u007f..." sent as kubectl apply --server-side sends it.
    for (const bad of ['a\u007fb', 'a\u0090b', 'a\u009fb', 'a\uffffb']) {
      const annotation = synthError(
        (stack) => new InferenceService(stack, 'api', { image: 'registry.example.com/api:1.0.0', podAnnotations: { 'example.com/a': bad } }),
      );
      expect(annotation).toBeInstanceOf(MlValidationError);
      expect((annotation as Error).message).toMatch(
        /^InferenceService 'test\/api': podAnnotations\.example\.com\/a must not contain DEL, C1 control characters .*server-side apply/,
      );
      const env = synthError((stack) => new InferenceService(stack, 'api', { image: 'registry.example.com/api:1.0.0', env: { A: bad } }));
      expect(env).toBeInstanceOf(MlValidationError);
    }
    // What the server accepts stays accepted: newlines, tabs, the C0 controls JSON escapes, NEL, any other Unicode.
    for (const good of ['a\nb', 'a\tb', 'a\u0006b', 'a\u0085b', '🟎ഝ']) {
      expect(
        synthError(
          (stack) =>
            new InferenceService(stack, 'api', {
              image: 'registry.example.com/api:1.0.0',
              podAnnotations: { 'example.com/a': good },
              env: { A: good },
            }),
        ),
      ).toBeUndefined();
    }
  });
});

describe('found by the API server (property 2 cases sent with strict server-side dry run)', () => {
  test('an affinity weight outside 1..100 is an MlValidationError, and the output check reports it in YAML from elsewhere', () => {
    // kube-apiserver v1.36: "...preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 65536: must be in the range 1-100".
    for (const weight of [0, 101, 65536]) {
      const affinity = {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight, podAffinityTerm: { topologyKey: 'topology.kubernetes.io/zone', labelSelector: { matchLabels: { a: 'b' } } } },
          ],
        },
      };
      const error = synthError((stack) => new TrainingJob(stack, 'train', { image: 'registry.example.com/train:1.0.0', affinity }));
      expect(error).toBeInstanceOf(MlValidationError);
      expect((error as Error).message).toMatch(
        new RegExp(`^TrainingJob 'test/train': affinity is not a Kubernetes v1 Affinity \\(.*weight ${weight} must be in the range 1-100\\)`),
      );
    }
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'shop' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [{ name: 'web', image: 'registry.example.com/web:1' }],
            affinity: {
              nodeAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  { weight: 0, preference: { matchExpressions: [{ key: 'gpu', operator: 'Exists' }] } },
                ],
              },
            },
          },
        },
      },
    };
    expect(checkManifests([deployment]).join('\n')).toMatch(
      joinRegExp(
        /Deployment\/shop\/web: schema: /,
        /spec\.template\.spec\.affinity\.nodeAffinity\.preferredDuringSchedulingIgnoredDuringExecution\[0\]\.weight 0 must be in the range 1-100/,
      ),
    );
    const nodeAffinity = {
      nodeAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: [{ key: 'gpu', operator: 'Exists' }] } }],
      },
    };
    expect(
      synthError((stack) => new TrainingJob(stack, 'train', { image: 'registry.example.com/train:1.0.0', affinity: nodeAffinity })),
    ).toBeUndefined();
  });

  test('a node selector requirement with In and no values (or Gt with a non-integer) is an MlValidationError', () => {
    // kube-apiserver v1.36: "...nodeSelectorTerms[0].matchExpressions[0].values: Required value:
    // must be specified when `operator` is 'In' or 'NotIn'".
    const required = (expr: object) => ({
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [expr] }] } },
    });
    for (const [expr, problem] of [
      [{ key: 'gpu', operator: 'In', values: [] }, 'values must be given for operator In'],
      [{ key: 'gpu', operator: 'Exists', values: ['a'] }, 'values must be empty for operator Exists'],
      [{ key: 'gpu-count', operator: 'Gt', values: ['two'] }, 'values must be one integer for operator Gt'],
      [{ key: 'pool', operator: 'In', values: ['x'.repeat(64)] }, 'values[0]: value "xxxx'],
    ] as const) {
      const error = synthError(
        (stack) => new InferenceService(stack, 'api', { image: 'registry.example.com/api:1.0.0', affinity: required(expr) as any }),
      );
      expect(error).toBeInstanceOf(MlValidationError);
      expect((error as Error).message).toContain(problem);
    }
    expect(
      synthError(
        (stack) =>
          new InferenceService(stack, 'api', {
            image: 'registry.example.com/api:1.0.0',
            affinity: required({ key: 'gpu-count', operator: 'Gt', values: ['1'] }) as any,
          }),
      ),
    ).toBeUndefined();
  });

  test('a pod (anti-)affinity term without a labelSelector is an MlValidationError: it matches no pod (the server warns)', () => {
    // kube-apiserver v1.36 warning: "...podAffinityTerm.labelSelector: a null labelSelector results in matching no pod".
    const affinity = {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname' } }],
      },
    };
    const error = synthError(
      (stack) =>
        new BatchInferenceJob(stack, 'score', { image: 'registry.example.com/score:1.0.0', model: ModelSource.fromUri('s3://models/m'), affinity }),
    );
    expect(error).toBeInstanceOf(MlValidationError);
    expect((error as Error).message).toMatch(
      joinRegExp(
        /^BatchInferenceJob 'test\/score': /,
        /affinity\.podAntiAffinity\.preferredDuringSchedulingIgnoredDuringExecution\[0\]\.podAffinityTerm\.labelSelector /,
        /is required: .*matches no pod/,
      ),
    );
    const required = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname' }] } };
    expect(synthError((stack) => new InferenceService(stack, 'api', { image: 'registry.example.com/api:1.0.0', affinity: required }))).toBeInstanceOf(
      MlValidationError,
    );
  });

  test('rollout.minReadySeconds >= the progress deadline (600 s) is an MlValidationError; the check reports it in YAML from elsewhere', () => {
    // kube-apiserver v1.36: 'spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds'.
    const error = synthError(
      (stack) => new InferenceService(stack, 'api', { image: 'registry.example.com/api:1.0.0', rollout: { minReadySeconds: 600 } }),
    );
    expect(error).toBeInstanceOf(MlValidationError);
    expect((error as Error).message).toMatch(
      /^InferenceService 'test\/api': rollout\.minReadySeconds must be less than the Deployment's progressDeadlineSeconds \(600/,
    );
    expect(
      synthError((stack) => new InferenceService(stack, 'api', { image: 'registry.example.com/api:1.0.0', rollout: { minReadySeconds: 599 } })),
    ).toBeUndefined();
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'shop' },
      spec: {
        minReadySeconds: 1023,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'registry.example.com/web:1' }] } },
      },
    };
    expect(checkManifests([deployment]).join('\n')).toMatch(
      /Deployment\/shop\/web: schema: spec\.progressDeadlineSeconds \(600, the default\) must be greater than minReadySeconds \(1023\)/,
    );
  });
});
