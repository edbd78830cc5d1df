/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * The Pod Security check gives Kubernetes' own verdict: every admission fixture of the
 * "restricted" profile (kubernetes/pod-security-admission test/testdata/restricted/<version>/,
 * one Pod a file, pass/ and fail/) goes through the PUBLIC check at that version.
 *
 * The fixtures are vendored unchanged in test/check/pod-security-fixtures (Apache-2.0, see its
 * README); PSS_FIXTURES points the test at another copy (e.g. a newer upstream checkout).
 *
 * Each fixture is checked as the bare Pod it is: the check reads the pod template of Pods as well
 * as of workloads, so no wrapping is needed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InferenceService, MlInputError, POD_SECURITY_VERSION } from '../../lib';
import { checkManifests, checkOutputFiles, NEWEST_POD_SECURITY_VERSION, parseYamlStream } from '../../lib/check';
import { joinRegExp } from '../_util/regexp';
import { synthStack } from '../_util/synth';

const FIXTURE_DIR = process.env.PSS_FIXTURES ?? path.resolve(__dirname, 'pod-security-fixtures');

interface Fixture {
  readonly version: string;
  readonly verdict: 'pass' | 'fail';
  readonly file: string;
  readonly pod: any;
}

function fixtures(version: string): Fixture[] {
  if (!fs.existsSync(path.join(FIXTURE_DIR, version))) throw new Error(`Pod Security fixtures for ${version} not found in ${FIXTURE_DIR}`);
  return (['pass', 'fail'] as const).flatMap((verdict) => {
    const dir = path.join(FIXTURE_DIR, version, verdict);
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((file) => {
        const docs = parseYamlStream(fs.readFileSync(path.join(dir, file), 'utf8'));
        if (docs.length !== 1 || docs[0]?.kind !== 'Pod') throw new Error(`${version}/${verdict}/${file} is not one Pod`);
        return { version, verdict, file, pod: docs[0] };
      });
  });
}

const PSS = ': pss-restricted: ';
const pssProblems = (objects: any[], options?: { podSecurityVersion?: string }): string[] =>
  checkManifests(objects, options).filter((p) => p.includes(PSS));
const agrees = (f: Fixture, problems: string[]): boolean => (f.verdict === 'pass' ? problems.length === 0 : problems.length > 0);

/** What Kubernetes' fixture directories hold: file counts per version (a partial copy fails here). */
const EXPECTED_COUNTS: Record<string, { pass: number; fail: number }> = {
  'v1.28': { pass: 17, fail: 69 },
  'v1.37': { pass: 23, fail: 76 },
};

describe.each(Object.keys(EXPECTED_COUNTS))('Kubernetes restricted fixtures %s through the public check', (version) => {
  const all = fixtures(version);

  it('holds every fixture file', () => {
    expect({ pass: all.filter((f) => f.verdict === 'pass').length, fail: all.filter((f) => f.verdict === 'fail').length }).toEqual(
      EXPECTED_COUNTS[version],
    );
  });

  it.each(all.map((f) => [`${f.verdict}/${f.file}`, f] as const))('%s', (_name, f) => {
    const problems = pssProblems([f.pod], { podSecurityVersion: version });
    if (f.verdict === 'pass') expect(problems).toEqual([]);
    else expect(problems.length).toBeGreaterThan(0);
  });

  it('agrees with Kubernetes on every fixture (totals)', () => {
    const agreeing = all.filter((f) => agrees(f, pssProblems([f.pod], { podSecurityVersion: version }))).length;
    console.log(`Pod Security restricted ${version}: the check gives Kubernetes' verdict on ${agreeing}/${all.length} fixtures`);
    expect(`${agreeing}/${all.length}`).toBe(`${all.length}/${all.length}`);
  });
});

describe('the version the namespaces enforce is the version the check applies', () => {
  it('MlStack labels its namespace with POD_SECURITY_VERSION, a pinned version', () => {
    const out = synthStack((stack) => new InferenceService(stack, 'api', { image: 'registry.example.com/api:1.0.0' }));
    expect(out.find('Namespace').metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': POD_SECURITY_VERSION,
    });
    expect(POD_SECURITY_VERSION).toMatch(/^v1\.\d+$/); // never 'latest': a different rule set on every cluster version
  });

  it('without options the check applies POD_SECURITY_VERSION: the fixtures of that version agree with no option given', () => {
    const all = fixtures(POD_SECURITY_VERSION);
    const disagreeing = all.filter((f) => !agrees(f, pssProblems([f.pod]))).map((f) => `${f.verdict}/${f.file}`);
    expect(disagreeing).toEqual([]);
  });

  it('the default is not the newest version: a v1.37 rule does not apply by default', () => {
    // hostProbesAndHostLifecycle starts at v1.34; the pinned v1.28 namespaces do not enforce it.
    const probeHost = fixtures('v1.37').find((f) => f.file === 'hostprobesandhostlifecycle0.yaml' && f.verdict === 'fail')!.pod;
    expect(pssProblems([probeHost])).toEqual([]);
    expect(pssProblems([probeHost], { podSecurityVersion: 'v1.37' })).toEqual([
      expect.stringMatching(
        joinRegExp(
          /^Pod\/-\/hostprobesandhostlifecycle0: pss-restricted: container "container1" /,
          /\(spec\.containers\[0\]\): spec\.containers\[0\]\.livenessProbe\.httpGet\.host must be /,
          /unset from Pod Security v1\.34 on \(got "bad\.host"\)/,
        ),
      ),
    ]);
  });
});

describe('a namespace in the output decides the version its pods are checked at', () => {
  const inNamespace = (pod: any, ns: string): any => ({
    ...pod,
    metadata: { ...pod.metadata, name: pod.metadata.name.replace(/_/g, '-'), namespace: ns },
  });
  const namespace = (name: string, labels: Record<string, string>): any => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  const probeHost = (): any => fixtures('v1.37').find((f) => f.file === 'hostprobesandhostlifecycle0.yaml' && f.verdict === 'fail')!.pod;
  const newSysctls = (): any => fixtures('v1.37').find((f) => f.file === 'sysctls1.yaml' && f.verdict === 'pass')!.pod;

  it('a fixture pod in a namespace labelled enforce-version v1.37 is checked at v1.37', () => {
    const objects = [
      namespace('ml', { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'v1.37' }),
      inNamespace(probeHost(), 'ml'),
    ];
    expect(pssProblems(objects)).toEqual([
      expect.stringMatching(
        /^Pod\/ml\/hostprobesandhostlifecycle0: pss-restricted: .*livenessProbe\.httpGet\.host must be unset from Pod Security v1\.34 on/,
      ),
    ]);
    // ...and the label wins over the option, as the cluster would.
    expect(pssProblems(objects, { podSecurityVersion: 'v1.28' })).toHaveLength(1);
    // The sysctls v1.37 allows are allowed there, and not in a v1.28 namespace.
    const sysctlPod = inNamespace(newSysctls(), 'ml');
    expect(pssProblems([objects[0], sysctlPod])).toEqual([]);
    const pinned = namespace('ml', { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'v1.28' });
    expect(pssProblems([pinned, sysctlPod])).toEqual([
      expect.stringMatching(
        joinRegExp(
          /^Pod\/ml\/sysctls1: pss-restricted: spec\.securityContext\.sysctls\[0\] sets sysctl /,
          /net\.ipv4\.tcp_slow_start_after_idle, which Pod Security v1\.28 does not allow/,
        ),
      ),
      expect.stringMatching(/sysctls\[1\] sets sysctl net\.ipv4\.tcp_notsent_lowat, which Pod Security v1\.28 does not allow/),
    ]);
  });

  it('a namespace labelled latest, or enforcing without a version (the cluster default is latest), gets the newest rules the check knows', () => {
    const labelSets: Array<Record<string, string>> = [
      { 'pod-security.kubernetes.io/enforce-version': 'latest' },
      { 'pod-security.kubernetes.io/enforce': 'restricted' },
    ];
    for (const labels of labelSets) {
      expect(pssProblems([namespace('ml', labels), inNamespace(probeHost(), 'ml')])).toHaveLength(1);
    }
    expect(NEWEST_POD_SECURITY_VERSION).toBe('v1.37');
  });

  it('a namespace without Pod Security labels leaves its pods at the default version', () => {
    expect(pssProblems([namespace('ml', { team: 'risk' }), inNamespace(probeHost(), 'ml')])).toEqual([]);
    expect(pssProblems([namespace('ml', { team: 'risk' }), inNamespace(probeHost(), 'ml')], { podSecurityVersion: 'v1.34' })).toHaveLength(1);
  });

  it('only pods of that namespace: another namespace keeps the default', () => {
    const objects = [namespace('new', { 'pod-security.kubernetes.io/enforce-version': 'v1.37' }), inNamespace(probeHost(), 'old')];
    expect(pssProblems(objects)).toEqual([]);
  });

  it('reports an enforce-version the apiserver rejects, or one older than the check models, on the Namespace', () => {
    const bad = checkManifests([namespace('ml', { 'pod-security.kubernetes.io/enforce-version': 'v1.028' }), inNamespace(probeHost(), 'ml')]);
    expect(bad).toContainEqual(
      expect.stringMatching(
        joinRegExp(
          /^Namespace\/-\/ml: pss-restricted: metadata\.labels\["pod-security\.kubernetes\.io\/enforce-version"\] "v1\.028" must be /,
          /"latest" or "v1\.<minor>": the apiserver rejects the Namespace/,
        ),
      ),
    );
    const old = checkManifests([namespace('ml', { 'pod-security.kubernetes.io/enforce-version': 'v1.25' })]);
    expect(old).toEqual([
      expect.stringMatching(/^Namespace\/-\/ml: pss-restricted: .*"v1\.25" is older than v1\.28, the oldest Pod Security version this check models/),
    ]);
  });

  it('a version newer than the check knows is checked with the newest rules it knows', () => {
    expect(pssProblems([namespace('ml', { 'pod-security.kubernetes.io/enforce-version': 'v1.40' }), inNamespace(probeHost(), 'ml')])).toHaveLength(1);
  });
});

describe('the podSecurityVersion option of the public entry points', () => {
  it('checkOutputFiles takes it too', () => {
    const files = {
      'manifests/a.yaml': JSON.stringify(fixtures('v1.37').find((f) => f.file === 'hostprobesandhostlifecycle0.yaml' && f.verdict === 'fail')!.pod),
    };
    expect(checkOutputFiles(files).filter((p) => p.includes(PSS))).toEqual([]);
    expect(checkOutputFiles(files, { podSecurityVersion: 'v1.37' }).filter((p) => p.includes(PSS))).toEqual([
      expect.stringMatching(/^manifests\/a\.yaml: Pod\/-\/hostprobesandhostlifecycle0: pss-restricted: .*host must be unset/),
    ]);
  });

  it.each([['v1.27'], ['1.28'], ['v1.x'], ['v1.028'], [''], [28]])('rejects podSecurityVersion %p with a message that says what is accepted', (v) => {
    const run = (): unknown => checkManifests([], { podSecurityVersion: v as any });
    expect(run).toThrow(MlInputError);
    expect(run).toThrow(
      /^check option podSecurityVersion must be "latest" or "v1\.<minor>" with minor from 28, got .*\. Fix: pass the version your namespaces enforce/,
    );
  });

  it('accepts latest and every version from v1.28 on', () => {
    for (const v of ['latest', 'v1.28', 'v1.33', 'v1.37', 'v1.99']) expect(checkManifests([], { podSecurityVersion: v })).toEqual([]);
  });
});

/** Rules that change between the two fixture versions, each at the version it starts (upstream policy/check_*.go). */
describe('versioned rules between v1.28 and v1.37', () => {
  const base = (): any => JSON.parse(JSON.stringify(fixtures('v1.28').find((f) => f.file === 'base.yaml')!.pod));
  const at = (pod: any, v: string): string[] => pssProblems([pod], { podSecurityVersion: v });

  it.each([
    ['net.ipv4.tcp_keepalive_time', 'v1.28', 'v1.29'],
    ['net.ipv4.tcp_rmem', 'v1.31', 'v1.32'],
    ['net.ipv4.tcp_notsent_lowat', 'v1.36', 'v1.37'],
  ])('sysctl %s is allowed from %s + 1 (%s)', (name, before, from) => {
    const pod = base();
    pod.spec.securityContext.sysctls = [{ name, value: '1' }];
    expect(at(pod, before)).toEqual([
      expect.stringMatching(new RegExp(`sets sysctl ${name.replace(/\./g, '\\.')}, which Pod Security ${before.replace('.', '\\.')} does not allow`)),
    ]);
    expect(at(pod, from)).toEqual([]);
  });

  it('SELinux type container_engine_t is allowed from v1.31', () => {
    const pod = base();
    pod.spec.containers[0].securityContext.seLinuxOptions = { type: 'container_engine_t' };
    expect(at(pod, 'v1.30')).toEqual([
      expect.stringMatching(/seLinuxOptions\.type must be one of container_t, container_init_t, container_kvm_t \(got container_engine_t\)/),
    ]);
    expect(at(pod, 'v1.31')).toEqual([]);
  });

  it('a probe or lifecycle host is forbidden from v1.34 (tcpSocket, preStop, ephemeral containers too)', () => {
    const pod = base();
    pod.spec.containers[0].startupProbe = { tcpSocket: { host: '10.0.0.1', port: 80 } };
    pod.spec.containers[0].lifecycle = { preStop: { httpGet: { host: 'metadata.internal', port: 80 } } };
    expect(at(pod, 'v1.33')).toEqual([]);
    expect(at(pod, 'v1.34')).toEqual([
      expect.stringMatching(/spec\.containers\[0\]\.startupProbe\.tcpSocket\.host must be unset from Pod Security v1\.34 on \(got "10\.0\.0\.1"\)/),
      expect.stringMatching(/spec\.containers\[0\]\.lifecycle\.preStop\.httpGet\.host must be unset/),
    ]);
    const empty = base();
    empty.spec.containers[0].livenessProbe = { httpGet: { host: '', port: 80 } };
    expect(at(empty, 'v1.37')).toEqual([]);
  });

  it('hostUsers: false relaxes runAsNonRoot and runAsUser from v1.35, never procMount', () => {
    const pod = base();
    pod.spec.hostUsers = false;
    delete pod.spec.securityContext.runAsNonRoot;
    pod.spec.containers[0].securityContext.runAsUser = 0;
    expect(at(pod, 'v1.34').length).toBeGreaterThanOrEqual(2);
    expect(at(pod, 'v1.35')).toEqual([]);
    pod.spec.containers[0].securityContext.procMount = 'Unmasked';
    expect(at(pod, 'v1.37')).toEqual([expect.stringMatching(/procMount must be Default \(got Unmasked\)/)]);
  });

  it('an image volume is allowed from v1.33 (the first release whose restricted profile admits it)', () => {
    const pod = base();
    pod.spec.volumes = [{ name: 'model', image: { reference: 'registry.example.com/model:1' } }];
    expect(at(pod, 'v1.32')).toEqual([expect.stringMatching(/volume "model" \(spec\.volumes\[0\]\) uses volume type image/)]);
    expect(at(pod, 'v1.33')).toEqual([]);
  });

  it('a Windows pod (spec.os.name windows) needs no capabilities, seccomp or allowPrivilegeEscalation, but hostProcess is still forbidden', () => {
    const pod = base();
    pod.spec.os = { name: 'windows' };
    for (const c of [...pod.spec.containers, ...pod.spec.initContainers]) delete c.securityContext;
    delete pod.spec.securityContext.seccompProfile;
    expect(at(pod, 'v1.28')).toEqual([]);
    pod.spec.securityContext.windowsOptions = { hostProcess: true };
    expect(at(pod, 'v1.28')).toEqual([expect.stringMatching(/windowsOptions\.hostProcess must not be true/)]);
    pod.spec.os = { name: 'linux' };
    delete pod.spec.securityContext.windowsOptions;
    expect(at(pod, 'v1.28').length).toBeGreaterThanOrEqual(3);
  });

  it('an AppArmor annotation may be empty (upstream allows "", runtime/default, localhost/*)', () => {
    const pod = base();
    pod.metadata.annotations = { 'container.apparmor.security.beta.kubernetes.io/container1': '' };
    expect(at(pod, 'v1.28')).toEqual([]);
  });
});
