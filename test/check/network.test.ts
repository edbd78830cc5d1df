/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * The NetworkPolicy reachability model: the examples of
 * https://kubernetes.io/docs/concepts/services-networking/network-policies/ with what the page says
 * they allow and deny, then the connections the output implies and the rules built on both.
 */
import { dump } from 'js-yaml';
import { buildReferenceApps } from '../../apps/main';
import { MlApp } from '../../lib';
import { allowedIngress, checkManifests, intendedConnections, isConnectionAllowed, parseYamlStream, unintendedIngress } from '../../lib/check';
import { joinRegExp } from '../_util/regexp';
import { checked } from '../_util/synth';
import { all, caseObjects, clientEgressPolicy, depC, goodSet, jobC, K8S_CASES } from './fixtures';

const pod = (name: string, namespace: string, labels: Record<string, string>, ports: any[] = [{ name: 'redis', containerPort: 6379 }]): any => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, labels },
  spec: { containers: [{ name: 'c', image: 'r.example.com/c:1', ports }] },
});
const namespace = (name: string, labels: Record<string, string>): any => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
const policy = (name: string, ns: string, spec: any): any => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace: ns },
  spec,
});

const db = pod('db', 'default', { role: 'db' });
const frontend = pod('frontend', 'default', { role: 'frontend' }, [{ name: 'http', containerPort: 8080 }]);
const DB = 'Pod/default/db';
const FRONTEND = 'Pod/default/frontend';

/** [from, to, port, protocol, allowed] */
type Case = [string, string, number, string, boolean];
function expectConnections(objects: any[], cases: Case[]): void {
  const got = cases.map(([from, to, port, protocol]) => [from, to, port, protocol, isConnectionAllowed(objects, from, to, port, protocol)]);
  expect(got).toEqual(cases);
}

describe('the examples of the Kubernetes NetworkPolicy page', () => {
  test('test-network-policy: ipBlock with except, namespaceSelector, podSelector on 6379; egress to 10.0.0.0/24:5978', () => {
    const objects = [
      namespace('myproject', { project: 'myproject' }),
      db,
      frontend,
      pod('frontend', 'other', { role: 'frontend' }),
      policy('test-network-policy', 'default', {
        podSelector: { matchLabels: { role: 'db' } },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          {
            from: [
              { ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } },
              { namespaceSelector: { matchLabels: { project: 'myproject' } } },
              { podSelector: { matchLabels: { role: 'frontend' } } },
            ],
            ports: [{ protocol: 'TCP', port: 6379 }],
          },
        ],
        egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }], ports: [{ protocol: 'TCP', port: 5978 }] }],
      }),
    ];
    expectConnections(objects, [
      [FRONTEND, DB, 6379, 'TCP', true], // role=frontend in the policy's namespace
      ['probe:myproject', DB, 6379, 'TCP', true], // any pod of a namespace labeled project=myproject
      ['ip:172.17.0.5', DB, 6379, 'TCP', true], // in the block
      ['ip:172.17.1.5', DB, 6379, 'TCP', false], // in the except
      ['ip:10.1.2.3', DB, 6379, 'TCP', false],
      [FRONTEND, DB, 6380, 'TCP', false], // only 6379
      [FRONTEND, DB, 6379, 'UDP', false], // only TCP
      ['Pod/other/frontend', DB, 6379, 'TCP', false], // role=frontend, but podSelector alone means the policy's namespace
      ['probe:default', DB, 6379, 'TCP', false],
      [DB, 'ip:10.0.0.7', 5978, 'TCP', true],
      [DB, 'ip:10.0.1.7', 5978, 'TCP', false],
      [DB, 'ip:10.0.0.7', 5979, 'TCP', false],
      [DB, FRONTEND, 8080, 'TCP', false], // db is isolated for egress
      [FRONTEND, 'outside', 443, 'TCP', true], // frontend is selected by no policy
    ]);
  });

  test('default deny all ingress: podSelector {} with policyTypes [Ingress]; egress untouched', () => {
    const objects = [db, frontend, policy('default-deny-ingress', 'default', { podSelector: {}, policyTypes: ['Ingress'] })];
    expectConnections(objects, [
      [FRONTEND, DB, 6379, 'TCP', false],
      ['probe:elsewhere', FRONTEND, 8080, 'TCP', false],
      ['outside', DB, 6379, 'TCP', false],
      [DB, 'outside', 443, 'TCP', true],
      [DB, 'probe:elsewhere', 8080, 'TCP', true],
    ]);
  });

  test('allow all ingress: ingress [{}], even next to a default deny (policies are additive)', () => {
    const allowAll = policy('allow-all-ingress', 'default', { podSelector: {}, ingress: [{}], policyTypes: ['Ingress'] });
    const deny = policy('default-deny-ingress', 'default', { podSelector: {}, policyTypes: ['Ingress'] });
    for (const objects of [
      [db, frontend, allowAll],
      [db, frontend, deny, allowAll],
    ]) {
      expectConnections(objects, [
        [FRONTEND, DB, 6379, 'TCP', true],
        ['outside', DB, 1234, 'UDP', true],
        ['probe:elsewhere', FRONTEND, 8080, 'TCP', true],
      ]);
    }
  });

  test('default deny all egress: policyTypes [Egress]; ingress untouched', () => {
    const objects = [db, frontend, policy('default-deny-egress', 'default', { podSelector: {}, policyTypes: ['Egress'] })];
    expectConnections(objects, [
      [FRONTEND, DB, 6379, 'TCP', false], // frontend may not send
      [DB, 'outside', 443, 'TCP', false],
      [DB, 'probe:kube-system', 53, 'UDP', false], // not even DNS
      ['probe:elsewhere', DB, 6379, 'TCP', true], // db still receives
    ]);
  });

  test('allow all egress: egress [{}], even next to a default deny', () => {
    const objects = [
      db,
      frontend,
      policy('default-deny-egress', 'default', { podSelector: {}, policyTypes: ['Egress'] }),
      policy('allow-all-egress', 'default', { podSelector: {}, egress: [{}], policyTypes: ['Egress'] }),
    ];
    expectConnections(objects, [
      [FRONTEND, DB, 6379, 'TCP', true],
      [DB, 'outside', 443, 'TCP', true],
      [DB, 'ip:10.0.0.1', 9, 'UDP', true],
    ]);
  });

  test('default deny all ingress and all egress', () => {
    const objects = [db, frontend, policy('default-deny-all', 'default', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })];
    expectConnections(objects, [
      [FRONTEND, DB, 6379, 'TCP', false],
      ['probe:elsewhere', DB, 6379, 'TCP', false],
      [DB, 'outside', 443, 'TCP', false],
      ['probe:elsewhere', 'outside', 443, 'TCP', true], // another namespace, no policy
    ]);
  });

  test('a range of ports: port 32000, endPort 32768', () => {
    const objects = [
      db,
      policy('multi-port-egress', 'default', {
        podSelector: { matchLabels: { role: 'db' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }], ports: [{ protocol: 'TCP', port: 32000, endPort: 32768 }] }],
      }),
    ];
    expectConnections(objects, [
      [DB, 'ip:10.0.0.1', 32000, 'TCP', true],
      [DB, 'ip:10.0.0.1', 32500, 'TCP', true],
      [DB, 'ip:10.0.0.1', 32768, 'TCP', true],
      [DB, 'ip:10.0.0.1', 31999, 'TCP', false],
      [DB, 'ip:10.0.0.1', 32769, 'TCP', false],
      [DB, 'ip:10.0.1.1', 32000, 'TCP', false],
    ]);
  });

  describe('namespaceSelector and podSelector: one element is AND, two elements are OR', () => {
    const peers = [
      namespace('alice', { user: 'alice' }),
      db,
      pod('client', 'alice', { role: 'client' }),
      pod('other', 'alice', { role: 'other' }),
      pod('client', 'default', { role: 'client' }),
      pod('client', 'bob', { role: 'client' }),
    ];
    const withFrom = (from: any[]) => [...peers, policy('db', 'default', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ from }] })];

    test('- namespaceSelector + podSelector in one element: role=client pods in namespaces labeled user=alice', () => {
      expectConnections(withFrom([{ namespaceSelector: { matchLabels: { user: 'alice' } }, podSelector: { matchLabels: { role: 'client' } } }]), [
        ['Pod/alice/client', DB, 6379, 'TCP', true],
        ['Pod/alice/other', DB, 6379, 'TCP', false],
        ['Pod/default/client', DB, 6379, 'TCP', false],
        ['Pod/bob/client', DB, 6379, 'TCP', false],
      ]);
    });

    test("- namespaceSelector, - podSelector: every pod of user=alice namespaces, or role=client pods of the policy's namespace", () => {
      expectConnections(withFrom([{ namespaceSelector: { matchLabels: { user: 'alice' } } }, { podSelector: { matchLabels: { role: 'client' } } }]), [
        ['Pod/alice/client', DB, 6379, 'TCP', true],
        ['Pod/alice/other', DB, 6379, 'TCP', true],
        ['probe:alice', DB, 6379, 'TCP', true],
        ['Pod/default/client', DB, 6379, 'TCP', true],
        ['Pod/bob/client', DB, 6379, 'TCP', false],
        ['probe:elsewhere', DB, 6379, 'TCP', false],
      ]);
    });
  });

  test('targeting a namespace by its name: kubernetes.io/metadata.name, with or without a Namespace object', () => {
    const spec = {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }] }],
    };
    for (const extra of [[], [namespace('monitoring', { team: 'sre' })]]) {
      expectConnections(
        [...extra, db, policy('from-monitoring', 'default', spec)],
        [
          ['probe:monitoring', DB, 6379, 'TCP', true],
          ['probe:elsewhere', DB, 6379, 'TCP', false],
          ['probe:default', DB, 6379, 'TCP', false],
        ],
      );
    }
  });
});

describe('the rest of the semantics', () => {
  test("named ports resolve against the destination pod's container ports, on ingress and on egress rules", () => {
    const cache = pod('cache', 'default', { role: 'cache' }, [{ name: 'http', containerPort: 6379 }]);
    const objects = [
      db,
      frontend,
      cache,
      policy('db', 'default', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ ports: [{ port: 'redis' }] }] }),
      policy('frontend', 'default', {
        podSelector: { matchLabels: { role: 'frontend' } },
        policyTypes: ['Egress'],
        egress: [{ ports: [{ port: 'redis', protocol: 'TCP' }] }],
      }),
    ];
    expectConnections(objects, [
      [FRONTEND, DB, 6379, 'TCP', true], // db's "redis" is 6379
      [FRONTEND, DB, 6380, 'TCP', false],
      [FRONTEND, 'Pod/default/cache', 6379, 'TCP', false], // the cache's 6379 is named http: the egress rule's "redis" is not it
      [FRONTEND, 'ip:10.0.0.1', 6379, 'TCP', false], // an IP has no named ports
    ]);
  });

  test('policyTypes omitted: Ingress always, Egress when there are egress rules (not for egress: [])', () => {
    const egressOnly = policy('db', 'default', {
      podSelector: { matchLabels: { role: 'db' } },
      egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }] }],
    });
    expectConnections(
      [db, frontend, egressOnly],
      [
        [DB, 'ip:10.0.0.1', 80, 'TCP', true],
        [DB, 'ip:8.8.8.8', 80, 'TCP', false],
        [FRONTEND, DB, 6379, 'TCP', false], // Ingress is implied, and there is no ingress rule
      ],
    );
    const emptyEgress = policy('db', 'default', {
      podSelector: { matchLabels: { role: 'db' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }] }],
      egress: [],
    });
    expectConnections(
      [db, frontend, emptyEgress],
      [
        [DB, 'ip:8.8.8.8', 80, 'TCP', true],
        [FRONTEND, DB, 6379, 'TCP', true],
        ['probe:default', DB, 6379, 'TCP', false],
      ],
    );
  });

  test('two policies selecting one pod are additive', () => {
    const objects = [
      db,
      frontend,
      policy('a', 'default', {
        podSelector: { matchLabels: { role: 'db' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }], ports: [{ port: 6379 }] }],
      }),
      policy('b', 'default', {
        podSelector: { matchLabels: { role: 'db' } },
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: [{ port: 9090 }] }],
      }),
    ];
    expectConnections(objects, [
      [FRONTEND, DB, 6379, 'TCP', true],
      ['probe:monitoring', DB, 9090, 'TCP', true],
      [FRONTEND, DB, 9090, 'TCP', false],
      ['probe:monitoring', DB, 6379, 'TCP', false],
    ]);
  });

  test('a connection needs both sides: egress allowed but ingress denied is denied, and the other way round', () => {
    const frontendEgress = policy('frontend', 'default', {
      podSelector: { matchLabels: { role: 'frontend' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: { role: 'db' } } }], ports: [{ port: 6379 }] }],
    });
    const dbIngress = (from: string) =>
      policy('db', 'default', {
        podSelector: { matchLabels: { role: 'db' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { role: from } } }] }],
      });
    expectConnections([db, frontend, frontendEgress, dbIngress('someone-else')], [[FRONTEND, DB, 6379, 'TCP', false]]);
    expectConnections(
      [
        db,
        frontend,
        policy('frontend', 'default', { ...frontendEgress.spec, egress: [{ ports: [{ port: 53, protocol: 'UDP' }] }] }),
        dbIngress('frontend'),
      ],
      [[FRONTEND, DB, 6379, 'TCP', false]],
    );
    expectConnections([db, frontend, frontendEgress, dbIngress('frontend')], [[FRONTEND, DB, 6379, 'TCP', true]]);
  });

  test('DNS: port 53 to any destination, what the library writes for every workload', () => {
    const objects = [
      db,
      policy('db', 'default', {
        podSelector: { matchLabels: { role: 'db' } },
        policyTypes: ['Ingress', 'Egress'],
        egress: [
          {
            ports: [
              { port: 53, protocol: 'UDP' },
              { port: 53, protocol: 'TCP' },
            ],
          },
        ],
      }),
    ];
    expectConnections(objects, [
      [DB, 'probe:kube-system', 53, 'UDP', true],
      [DB, 'probe:kube-system', 53, 'TCP', true],
      [DB, 'ip:169.254.20.10', 53, 'UDP', true], // a node-local cache
      [DB, 'ip:8.8.8.8', 443, 'TCP', false],
      [DB, 'probe:kube-system', 5353, 'UDP', false],
    ]);
  });

  test('an ipBlock matches addresses, never pods (pod IPs come and go)', () => {
    const objects = [
      db,
      frontend,
      policy('db', 'default', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] }),
    ];
    expectConnections(objects, [
      ['outside', DB, 6379, 'TCP', true],
      ['ip:10.0.0.1', DB, 6379, 'TCP', true],
      [FRONTEND, DB, 6379, 'TCP', false],
    ]);
  });

  test('an unknown endpoint is an error naming the endpoints there are', () => {
    expect(() => isConnectionAllowed([db], 'Pod/default/nope', DB, 1)).toThrow(
      joinRegExp(
        /unknown network endpoint "Pod\/default\/nope": use Kind\/namespace\/name of a workload /,
        /among the objects \(Pod\/default\/db\), probe:<namespace>, outside or ip:<IPv4 address>/,
      ),
    );
    expect(() => isConnectionAllowed([db], 'ip:10.0.0', DB, 1)).toThrow(/unknown network endpoint/);
  });
});

describe('intended connections, read off the output', () => {
  const ref = (c: any) => `${c.from} -> ${c.to}:${c.port}`;

  /** The good set without the web's external DOCS_URL (an egress of its own). */
  const quietSet = () => {
    const s = goodSet();
    depC(s).env = [];
    return s;
  };

  test('env URLs naming a Service: to its selected pods on the target port (named targetPort resolved); duplicates once', () => {
    expect(intendedConnections(all(goodSet()))).toEqual([
      {
        from: 'Job/ml/smoke-test',
        to: 'Deployment/ml/web',
        port: 8080,
        protocol: 'TCP',
        reason: 'env TARGET_URL calls Service web:80',
        declaredBy: 'Job/ml/smoke-test',
      },
      {
        from: 'Deployment/ml/web',
        to: 'outside',
        port: 443,
        protocol: 'TCP',
        reason: 'container "web" mentions https://example.com/docs in env DOCS_URL',
        declaredBy: 'Deployment/ml/web',
      },
    ]);
  });

  test('bare host:port forms count when the Service exposes that port; other values do not', () => {
    const s = quietSet();
    jobC(s).env = [
      { name: 'A', value: 'web:80' },
      { name: 'B', value: `web.${s.ns}.svc:80` },
      { name: 'C', value: 'web:1234' }, // not a port of the Service
      { name: 'D', value: 'nope:80' }, // no such Service
      { name: 'E', value: '10.0.0.1:80' },
    ];
    expect(intendedConnections(all(s)).map((c) => [c.reason, ref(c)])).toEqual([
      ['env A calls Service web:80', 'Job/ml/smoke-test -> Deployment/ml/web:8080'],
    ]);
    jobC(s).env = [{ name: 'B', value: `web.${s.ns}.svc.cluster.local:80` }];
    expect(intendedConnections(all(s)).map(ref)).toEqual(['Job/ml/smoke-test -> Deployment/ml/web:8080']);
  });

  test('Prometheus scrape annotations, an Ingress, a LoadBalancer and a NodePort Service', () => {
    const s = quietSet();
    jobC(s).env = [];
    s.deployment.spec.template.metadata.annotations = { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090' };
    const ingress = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'web', namespace: s.ns },
      spec: { defaultBackend: { service: { name: 'web', port: { name: 'http' } } } },
    };
    s.service.spec.type = 'LoadBalancer';
    const nodePort = {
      ...s.service,
      metadata: { name: 'web-np', namespace: s.ns },
      spec: { ...s.service.spec, type: 'NodePort', ports: [{ port: 81, targetPort: 8080 }] },
    };
    expect(intendedConnections([...all(s), ingress, nodePort]).map((c) => [c.declaredBy, ref(c)])).toEqual([
      ['Deployment/ml/web', 'probe:monitoring -> Deployment/ml/web:9090'],
      ['Ingress/ml/web', 'probe:ingress-nginx -> Deployment/ml/web:8080'],
      ['Service/ml/web', 'outside -> Deployment/ml/web:8080'],
      ['Service/ml/web-np', 'outside -> Deployment/ml/web:8080'],
    ]);
    expect(
      intendedConnections([...all(s), ingress], { prometheusNamespace: 'observability', ingressControllerNamespace: 'traefik' })
        .map(ref)
        .slice(0, 2),
    ).toEqual(['probe:observability -> Deployment/ml/web:9090', 'probe:traefik -> Deployment/ml/web:8080']);
  });

  test("Prometheus or the ingress controller elsewhere: a namespace the pod's policy admits by name does as well as the default", () => {
    const s = goodSet();
    s.deployment.spec.template.metadata.annotations = { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080' };
    s.networkPolicy.spec.ingress.push({
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'observability' } } }],
      ports: [{ port: 8080 }],
    });
    expect(checkManifests(all(s))).toEqual([]);
    expect(intendedConnections(all(s)).map(ref)).toContain('probe:observability -> Deployment/ml/web:8080');
    expect(unintendedIngress(all(s))).toEqual([]);
    // Named explicitly, the namespace is the only one that does.
    expect(intendedConnections(all(s), { prometheusNamespace: 'monitoring' }).map(ref)).toContain('probe:monitoring -> Deployment/ml/web:8080');
  });

  test('an Indexed Job with a headless Service: its pods reach each other on MASTER_PORT, the Service and container ports, a run-time port', () => {
    const objects = caseObjects(K8S_CASES['network-reachability'].find((c) => c[0].startsWith('Indexed Job'))![1]);
    expect(
      intendedConnections(objects)
        .filter((c) => c.from === 'Job/ml/smoke-test' && c.to === 'Job/ml/smoke-test')
        .map((c) => [c.port, c.reason]),
    ).toEqual([
      [29500, 'the pods of this Indexed Job reach each other through headless Service smoke-test on MASTER_PORT'],
      [40000, 'the pods of this Indexed Job reach each other through headless Service smoke-test on a port NCCL/gloo may open at run time'],
    ]);
    const one = objects.map((o: any) => (o.kind === 'Job' ? { ...o, spec: { ...o.spec, completions: 1, parallelism: 1 } } : o));
    expect(intendedConnections(one).filter((c) => c.to === 'Job/ml/smoke-test')).toEqual([]);
  });

  test("object storage and external hosts in command, args and env: egress out of the cluster, on 443, 80 or the URL's port", () => {
    const egressOf = (fields: any) => {
      const s = quietSet();
      Object.assign(jobC(s), { env: [], ...fields });
      return intendedConnections(all(s)).map((c) => [`${c.to}:${c.port}`, c.reason]);
    };
    expect(egressOf({ args: ['--model=s3://models/fraud'] })).toEqual([['outside:443', 'container "smoke" mentions s3://models/fraud in args']]);
    expect(egressOf({ command: ['serve', 'gs://bucket/model'] })).toEqual([
      ['outside:443', 'container "smoke" mentions gs://bucket/model in command'],
    ]);
    expect(egressOf({ command: ['rclone', 'copy', ':s3,provider=AWS,env_auth=true:models/fraud', '/models'] })).toEqual([
      ['outside:443', 'container "smoke" mentions :s3,provider=AWS,env_auth=true:models/fraud in command'],
    ]);
    // An rclone remote with an endpoint calls the endpoint, not the cloud's 443.
    expect(egressOf({ args: [":s3,provider=Other,env_auth=true,endpoint='http://10.1.2.3:9000':b/p"] })).toEqual([
      ['ip:10.1.2.3:9000', 'container "smoke" mentions http://10.1.2.3:9000 in args'],
    ]);
    expect(
      egressOf({
        env: [
          { name: 'HF', value: 'https://huggingface.co/models' },
          { name: 'MINIO', value: 'http://minio.example.com:9000' },
          { name: 'META', value: 'http://169.254.169.254/latest' },
          { name: 'LOCAL', value: 'http://localhost:8080' },
          { name: 'IN_CLUSTER', value: 'http://minio.storage.svc:9000' }, // a Service (not among these objects), not outside
        ],
      }),
    ).toEqual([
      ['outside:443', 'container "smoke" mentions https://huggingface.co/models in env HF'],
      ['outside:9000', 'container "smoke" mentions http://minio.example.com:9000 in env MINIO'],
      ['ip:169.254.169.254:80', 'container "smoke" mentions http://169.254.169.254/latest in env META'],
    ]);
  });

  test('options.intended are intended too', () => {
    const extra = { from: 'Job/ml/smoke-test', to: 'Deployment/ml/web', port: 9000 };
    expect(intendedConnections(all(goodSet()), { intended: [extra] })).toContainEqual({
      ...extra,
      protocol: 'TCP',
      reason: 'declared in options.intended',
      declaredBy: '-',
    });
  });
});

describe('network-reachability (checkManifests): an intended connection the policies deny, on the object that intends it', () => {
  it.each(K8S_CASES['network-reachability'])('%s', (_name, mutate, expected) => {
    expect(checkManifests(caseObjects(mutate))).toContainEqual(expect.stringMatching(expected));
  });

  test('both sides blocking are both named; several policies on one side are listed', () => {
    const s = goodSet();
    s.networkPolicy.spec.ingress[0].ports[0].port = 9090;
    const second = { ...s.networkPolicy, metadata: { name: 'web-extra', namespace: s.ns } };
    expect(checkManifests([...all(s), second, clientEgressPolicy(s)]).filter((p) => p.includes('network-reachability'))).toEqual([
      'Job/ml/smoke-test: network-reachability: env TARGET_URL calls Service web:80 (pods of ' +
        'Deployment/ml/web port 8080), but NetworkPolicy ml/smoke-test admits no egress to pods of ' +
        'Deployment/ml/web on 8080 and NetworkPolicies ml/web, ml/web-extra admit no ingress from these pods on 8080',
    ]);
  });

  test('quiet without NetworkPolicies, and when the blocking policy has a port out of range (port-range reports that)', () => {
    const s = goodSet();
    s.service.spec.type = 'LoadBalancer';
    expect(checkManifests(all(s).filter((o) => o.kind !== 'NetworkPolicy'))).toEqual([]);
    const bad = goodSet();
    bad.networkPolicy.spec.ingress[0].ports[0].port = 0;
    expect(checkManifests(all(bad))).toEqual([expect.stringMatching(/^NetworkPolicy\/ml\/web: port-range: /)]);
  });
});

describe('allowedIngress and unintendedIngress', () => {
  const show = (c: any) => `${c.from} -> ${c.to}:${c.port}`;

  test('allowedIngress: every source that gets into each TCP container port, isolated or not', () => {
    expect(allowedIngress(all(goodSet())).map(show)).toEqual(['Job/ml/smoke-test -> Deployment/ml/web:8080']);
    const open = all(goodSet()).filter((o) => o.kind !== 'NetworkPolicy');
    expect(allowedIngress(open).map(show)).toEqual([
      'Deployment/ml/web -> Deployment/ml/web:8080',
      'Job/ml/smoke-test -> Deployment/ml/web:8080',
      'outside -> Deployment/ml/web:8080',
      'probe:elsewhere -> Deployment/ml/web:8080',
      'probe:monitoring -> Deployment/ml/web:8080',
      'probe:ingress-nginx -> Deployment/ml/web:8080',
      'probe:ml -> Deployment/ml/web:8080',
    ]);
  });

  test('unintendedIngress: what a policy admits beyond the intended connections', () => {
    const s = goodSet();
    expect(unintendedIngress(all(s))).toEqual([]);
    // A rule for the whole namespace admits the unrelated pod next to the workloads.
    s.networkPolicy.spec.ingress[0].from.push({ podSelector: {} });
    expect(unintendedIngress(all(s))).toEqual([{ from: 'probe:ml', to: 'Deployment/ml/web', port: 8080, protocol: 'TCP', admittedBy: ['ml/web'] }]);
    // Monitoring admitted without a scrape annotation; declared, it is fine.
    const m = goodSet();
    m.networkPolicy.spec.ingress.push({
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
      ports: [{ port: 8080 }],
    });
    expect(unintendedIngress(all(m)).map(show)).toEqual(['probe:monitoring -> Deployment/ml/web:8080']);
    expect(unintendedIngress(all(m), { intended: [{ from: 'probe:monitoring', to: 'Deployment/ml/web', port: 8080 }] })).toEqual([]);
    // A namespace an option or a policy names gets a probe pod.
    const t = goodSet();
    t.networkPolicy.spec.ingress.push({ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'tools' } } }] });
    expect(unintendedIngress(all(t)).map(show)).toEqual(['probe:tools -> Deployment/ml/web:8080']);
    expect(() => unintendedIngress(all(t), { intended: [{ from: 'Deployment/ml/nope', to: 'Deployment/ml/web', port: 1 }] })).toThrow(
      /unknown network endpoint "Deployment\/ml\/nope"/,
    );
  });

  test("what outside may reach, anything may: a LoadBalancer's pods admit everyone on its target port, and nothing more", () => {
    const s = goodSet();
    s.service.spec.type = 'LoadBalancer';
    s.networkPolicy.spec.ingress.push({ ports: [{ port: 8080 }] });
    expect(unintendedIngress(all(s))).toEqual([]);
    depC(s).ports.push({ name: 'admin', containerPort: 9000 });
    s.networkPolicy.spec.ingress[1].ports.push({ port: 9000 });
    expect(unintendedIngress(all(s)).map(show)).toContain('outside -> Deployment/ml/web:9000');
  });

  test('checked(), what every synth of this repo runs: unintended ingress fails it, a declared connection must be allowed', () => {
    const files = (objects: any[]) => new Map([['manifests/x.k8s.yaml', objects.map((o) => dump(o, { noRefs: true })).join('---\n')]]);
    const app = new MlApp();
    expect(() => checked(app, files(all(goodSet())))).not.toThrow();
    const s = goodSet();
    s.networkPolicy.spec.ingress[0].from.push({ podSelector: {} });
    expect(() => checked(app, files(all(s)))).toThrow(
      /strict network check failed:\n {2}probe:ml -> Deployment\/ml\/web port 8080 is admitted by NetworkPolicy ml\/web but not intended/,
    );
    expect(() => checked(app, files(all(goodSet())), { intended: [{ from: 'probe:elsewhere', to: 'Deployment/ml/web', port: 8080 }] })).toThrow(
      /declared intended connection probe:elsewhere -> Deployment\/ml\/web port 8080 is denied by the NetworkPolicies/,
    );
  });
});

describe('the reference apps', () => {
  const files = buildReferenceApps(new MlApp()).synthFiles();
  const objects = [...files].filter(([f]) => f.startsWith('manifests/')).flatMap(([, text]) => parseYamlStream(text));

  test('every connection they imply is allowed, and nothing else gets in', () => {
    expect(intendedConnections(objects).map((c) => `${c.from} -> ${c.to}:${c.port} (${c.declaredBy})`)).toEqual([
      'Deployment/and-gate/web -> Deployment/and-gate/server:8501 (Deployment/and-gate/web)',
      // canary: the frontend reaches both tracks of both servers; Prometheus and the gateway both TF Serving tracks
      'Deployment/canary/web -> Deployment/canary/classifier:8501 (Deployment/canary/web)',
      'Deployment/canary/web -> Deployment/canary/classifier-canary:8501 (Deployment/canary/web)',
      'Deployment/canary/web -> Deployment/canary/scorer:8080 (Deployment/canary/web)',
      'Deployment/canary/web -> Deployment/canary/scorer-canary:8080 (Deployment/canary/web)',
      'Deployment/image-classifier/image-classifier -> Deployment/image-classifier/model-server:8501 (Deployment/image-classifier/image-classifier)',
      'Deployment/llm-chat/chat -> Deployment/llm-chat/llm:8000 (Deployment/llm-chat/chat)',
      'Deployment/llm-chat/llm -> outside:443 (Deployment/llm-chat/llm)',
      'probe:monitoring -> Deployment/and-gate/server:8501 (Deployment/and-gate/server)',
      'probe:monitoring -> Deployment/canary/classifier:8501 (Deployment/canary/classifier)',
      'probe:monitoring -> Deployment/canary/classifier-canary:8501 (Deployment/canary/classifier-canary)',
      'probe:monitoring -> Deployment/image-classifier/model-server:8501 (Deployment/image-classifier/model-server)',
      'probe:monitoring -> Deployment/llm-chat/llm:8000 (Deployment/llm-chat/llm)',
      'probe:ingress-nginx -> Deployment/eeg-letters/api:8080 (Ingress/eeg-letters/api)',
      'probe:ingress-nginx -> Deployment/image-classifier/image-classifier:8080 (Ingress/image-classifier/image-classifier)',
      'probe:ingress-nginx -> Deployment/llm-chat/chat:8080 (Ingress/llm-chat/chat)',
      'probe:gateway -> Deployment/canary/classifier:8501 (HTTPRoute/canary/classifier)',
      'probe:gateway -> Deployment/canary/classifier-canary:8501 (HTTPRoute/canary/classifier)',
      'outside -> Deployment/and-gate/web:8080 (Service/and-gate/web)',
    ]);
    for (const c of intendedConnections(objects)) expect(isConnectionAllowed(objects, c.from, c.to, c.port)).toBe(true);
    expect(unintendedIngress(objects)).toEqual([]);
    // TF Serving's gRPC port is wired to no one.
    expect(isConnectionAllowed(objects, 'Deployment/and-gate/web', 'Deployment/and-gate/server', 8500)).toBe(false);
  });
});
