import * as yaml from 'js-yaml';
import { buildReferenceApps } from '../../apps/main';
import { Exposure } from '../../lib';
import { parseYamlStream } from '../_util/yaml';
import { diffOutputs, OutputDiff, renderDiffText } from '../../lib/diff';
import { synth } from '../_util/synth';
import { referenceWith, ReferenceEdits } from './_apps';

// Every reference stack, synthesized once; each test synthesizes the reference with one edit.
let base: Map<string, string>;
beforeAll(() => {
  base = synth(buildReferenceApps).files;
});

function diffWith(edits: ReferenceEdits, check = {}): { d: OutputDiff; text: string } {
  const head = synth(referenceWith(edits), check).files;
  const d = diffOutputs(base, head);
  return { d, text: renderDiffText(d) };
}

/** The head output with one object of a stack edited in place (what no construct would do). */
function editObject(files: Map<string, string>, stack: string, kind: string, name: string, edit: (o: any) => void, indent = 2): Map<string, string> {
  const file = `manifests/${stack}.k8s.yaml`;
  const objects = parseYamlStream(files.get(file)!);
  const target = objects.find((o) => o.kind === kind && o.metadata.name === name);
  edit(target);
  return new Map([...files, [file, objects.map((o) => yaml.dump(o, { noRefs: true, indent })).join('---\n')]]);
}

describe('diffOutputs on the reference stacks', () => {
  test('the edited copies are faithful: no edit, no change; a file re-formatted but equal, no change', () => {
    expect(diffWith({ andGate: {}, eegLetters: {}, canary: {} }).text).toBe('cdk8s-ml diff: no changes\n');
    const reformatted = editObject(base, 'and-gate', 'Service', 'web', () => undefined, 4);
    expect(reformatted.get('manifests/and-gate.k8s.yaml')).not.toBe(base.get('manifests/and-gate.k8s.yaml'));
    expect(diffOutputs(base, reformatted)).toEqual({ stacks: [], hazards: [], files: { added: [], removed: [], changed: [] } });
  });

  test('an image bump: the image line, no hazard, the bake file among the other files', () => {
    const { d, text } = diffWith({ andGate: { webTag: '1.1.0' } });
    expect(d.stacks.map((s) => s.stack)).toEqual(['and-gate']);
    expect(text).toContain('  ~ Deployment/and-gate/web (1 field)');
    expect(text).toContain('    image web: registry.example.com/and-gate-web:1.0.0 -> registry.example.com/and-gate-web:1.1.0');
    expect(d.hazards).toEqual([]);
    expect(d.files.changed).toEqual(expect.arrayContaining(['images/docker-bake.json']));
    // same requests before and after
    expect(d.stacks[0].totals!.before).toEqual(d.stacks[0].totals!.after);
  });

  test('replicas to autoscaling: the HPA added, the scale line, the totals at max scale grow', () => {
    const { d, text } = diffWith({ andGate: { webAutoscaling: { minReplicas: 2, maxReplicas: 6, cpuUtilization: 70 } } });
    expect(text).toContain('  + HorizontalPodAutoscaler/and-gate/web');
    expect(text).toContain('    scale: 3 replicas -> autoscaled 2..6 (HPA web)');
    const t = d.stacks[0].totals!;
    const web = 0.25; // FlaskFrontend's default CPU request per pod
    expect(t.after.min.cpu - t.before.min.cpu).toBeCloseTo(-1 * web);
    expect(t.after.max.cpu - t.before.max.cpu).toBeCloseTo(3 * web);
    expect(text).toMatch(/CPU at max scale +1500m -> 2250m \(\+750m\)/);
    expect(d.hazards).toEqual([]);
  });

  test('a new wiring between two servers: the connection newly allowed, nothing else on the network', () => {
    const explainer = { from: 'Deployment/and-gate/explainer', to: 'Deployment/and-gate/server', port: 8501 };
    const before = synth(referenceWith({ andGate: { explainer: true } })).files;
    const after = synth(referenceWith({ andGate: { explainerCallsServer: true } }), { intended: [explainer] }).files;
    const d = diffOutputs(before, after);
    const text = renderDiffText(d);
    expect(text).toContain('  + allowed: Deployment/and-gate/explainer -> Deployment/and-gate/server port 8501');
    expect(d.stacks[0].network.denied).toEqual([]);
    expect(d.stacks[0].network.allowed).toHaveLength(1);
    expect(text).toContain('  ~ NetworkPolicy/and-gate/server');
    expect(d.hazards).toEqual([]);
  });

  test('a new Ingress: a new way in, the LoadBalancer gone, outside (and every namespace) no longer allowed in', () => {
    const { d, text } = diffWith({ andGate: { webExposure: Exposure.ingress({ host: 'and-gate.example.com', className: 'nginx' }) } });
    expect(text).toContain('  + Ingress/and-gate/web');
    expect(text).toContain('  + way in: Ingress/and-gate/web: host and-gate.example.com path /');
    expect(text).toContain('  - way in: Service/and-gate/web: LoadBalancer port 80');
    // a LoadBalancer admits any address, so the pods of every namespace too; an Ingress only its controller's
    expect(text).toContain('  - no longer allowed: outside -> Deployment/and-gate/web port 8080');
    expect(text).toMatch(/ {2}- no longer allowed: probe:\{and-gate,canary,.*monitoring.*\} -> Deployment\/and-gate\/web port 8080\n/);
    expect(d.stacks[0].network.denied).toHaveLength(2);
    expect(d.stacks[0].network.allowed).toEqual([]);
    expect(d.hazards).toEqual([]);
  });

  test('a selector change is a hazard: the apiserver rejects it', () => {
    const head = editObject(base, 'and-gate', 'Deployment', 'server', (o) => {
      o.spec.selector.matchLabels.track = 'blue';
      o.spec.template.metadata.labels.track = 'blue';
    });
    const d = diffOutputs(base, head);
    expect(d.hazards.map((h) => h.id)).toEqual(['immutable']);
    expect(renderDiffText(d)).toContain(
      '  ! [immutable] Deployment/and-gate/server: spec.selector.matchLabels.track: (unset) -> "blue": field is immutable',
    );
  });

  test('a claim removed is data loss', () => {
    const { d, text } = diffWith({ eegLetters: { withoutBatchInference: true } });
    expect(text).toContain('  - PersistentVolumeClaim/eeg-letters/batch-inference-output');
    expect(d.hazards.filter((h) => h.id === 'data-loss').map((h) => h.object)).toEqual(['PersistentVolumeClaim/eeg-letters/batch-inference-output']);
    expect(text).toMatch(
      /! \[data-loss\] PersistentVolumeClaim\/eeg-letters\/batch-inference-output: metadata.name: removed: .*deleting a claim deletes its volume/,
    );
    expect(text).toContain('  ! [removed] Job/eeg-letters/batch-inference');
    expect(text).toContain('  Job/eeg-letters/batch-inference (removed)\n');
  });

  test("a training Job's command changed: Argo CD re-creates it, it runs again on merge (one hazard, not an apply failure)", () => {
    const { d, text } = diffWith({ eegLetters: { trainCommand: ['python', 'train.py', '--epochs', '20'] } });
    expect(d.hazards.map((h) => `${h.id} ${h.object}`)).toEqual(['job-rerun Job/eeg-letters/train']);
    expect(text).toContain(
      '  ! [job-rerun] Job/eeg-letters/train: the pod template changed (spec.template.spec.containers[trainer].command[2]: (unset) -> --epochs; ',
    );
    expect(text).toContain('Argo CD deletes and re-creates the Job: it runs again on merge');
  });

  test('a canary weight change: the HTTPRoute weights and the pod split, the replicas of both tracks', () => {
    const { d, text } = diffWith({ canary: { classifierWeight: 10, classifierReplicas: 9, scorerWeight: 50 } });
    expect(d.hazards.map((h) => `${h.id} ${h.object}`)).toEqual(
      expect.arrayContaining(['canary-weight HTTPRoute/canary/classifier', 'canary-weight Service/canary/scorer']),
    );
    expect(text).toContain(
      '  ! [canary-weight] HTTPRoute/canary/classifier: backend weights classifier-stable 80, ' +
        'classifier-canary 20 -> classifier-stable 90, classifier-canary 10',
    );
    expect(text).toContain(
      '  ! [canary-weight] Service/canary/scorer: traffic split scorer: 75% (3 pods), ' +
        'scorer-canary: 25% (1 pod) -> scorer: 50% (2 pods), scorer-canary: 50% (2 pods)',
    );
    expect(text).toContain('  Deployment/canary/scorer\n    scale: 3 replicas -> 2 replicas');
    expect(text).toContain('  Deployment/canary/scorer-canary\n    scale: 1 replica -> 2 replicas');
    expect(text).toContain('  Deployment/canary/classifier\n    scale: 4 replicas -> 9 replicas');
  });

  test('a Pod Security level loosened is a hazard', () => {
    const head = editObject(base, 'ml-model', 'Namespace', 'ml-model', (o) => {
      o.metadata.labels['pod-security.kubernetes.io/enforce'] = 'baseline';
    });
    const d = diffOutputs(base, head);
    expect(d.hazards.map((h) => h.message)).toEqual([
      'Namespace/-/ml-model: Pod Security enforce restricted -> baseline, loosened: pods the old level rejected are admitted',
    ]);
  });

  test('GPUs at min and max scale come from nvidia.com/gpu limits', () => {
    const head = editObject(base, 'image-classifier', 'Deployment', 'model-server', (o) => {
      o.spec.replicas = 4;
    });
    const t = diffOutputs(base, head).stacks[0].totals!;
    expect([t.before.min.gpu, t.after.min.gpu, t.after.max.gpu]).toEqual([2, 4, 4]);
    expect(renderDiffText(diffOutputs(base, head))).toContain('  GPUs at min scale      2 -> 4 (+2)');
  });
});
