/**
 * eeg-letters on a real node, from its manifest as written: the readers (the API Deployment and the batch
 * Job) start first and wait in their model-wait init containers; the training Job writes the models to the
 * shared claim and completes; the batch Job then completes and writes its predictions to its own claim; the
 * API serves predictions of the trained model. And its NetworkPolicies, tried for real, equal the model's.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { testNode, TestNode } from '../../_util/kube';
import { clearStack, deploy, Deployed, expectPoliciesAsModeled } from './_deploy';
import { podLogs, referenceOutput, request, serviceUrl, stackManifest } from './_stack';

jest.setTimeout(20 * 60_000);

const NS = 'eeg-letters';
let node: TestNode;
let deployed: Deployed;
const dist = () => referenceOutput();

beforeAll(async () => {
  node = await testNode();
  deployed = await deploy(node, dist(), stackManifest(dist(), 'eeg-letters'), { timeoutMs: 600_000 });
  // eslint-disable-next-line no-console
  console.log(`eeg-letters: ready in ${deployed.totalMs} ms after apply (${JSON.stringify(deployed.readyMs)}); images ${deployed.imageMs} ms`);
});

const podOf = async (selector: string) => {
  const pods = await node.cluster.kube.list('v1', 'Pod', NS, selector);
  expect(pods.length).toBeGreaterThan(0);
  return pods[0];
};

afterAll(async () => {
  if (deployed) await clearStack(node, deployed.manifest);
});

test('the readers started first and waited for the trainer; the training Job completed before their waits ended', async () => {
  const train = await node.cluster.kube.get('batch/v1', 'Job', 'train', NS);
  const trainedAt = Date.parse(train.status.completionTime);
  for (const selector of ['app.kubernetes.io/name=api', 'batch.kubernetes.io/job-name=batch-inference']) {
    const pod = await podOf(selector);
    const wait = pod.status.initContainerStatuses.find((c: any) => c.name === 'model-wait');
    expect(wait.state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    // started before the model existed, ended after it did
    expect(Date.parse(wait.state.terminated.startedAt)).toBeLessThan(trainedAt);
    expect(Date.parse(wait.state.terminated.finishedAt) + 1000).toBeGreaterThanOrEqual(trainedAt);
    const logs = podLogs(node, NS, pod.metadata.name);
    expect(logs).toMatch(/waiting for model from TrainingJob eeg-letters\/train at train-model \(until metadata\.json exists\)/);
    expect(logs).toContain('model from TrainingJob eeg-letters/train found at train-model');
  }
});

test('the training Job wrote the models to its claim; the batch Job wrote its predictions to its own', () => {
  const volumes = path.join(node.node.dir, 'volumes', NS);
  expect(fs.readdirSync(path.join(volumes, 'train-model')).sort()).toEqual(['clf_lda.joblib', 'clf_nn.joblib', 'metadata.json']);
  const meta = JSON.parse(fs.readFileSync(path.join(volumes, 'train-model', 'metadata.json'), 'utf8'));
  expect(meta.models.lda.cv_accuracy).toBeGreaterThan(0.6);
  const predictions = fs
    .readFileSync(path.join(volumes, 'batch-inference-output', 'predictions.csv'), 'utf8')
    .trim()
    .split('\n');
  expect(predictions[0]).toBe('letter,lda,nn');
  expect(predictions).toHaveLength(301);
  const scores = JSON.parse(fs.readFileSync(path.join(volumes, 'batch-inference-output', 'scores.json'), 'utf8'));
  expect(scores).toMatchObject({ rows: 300, model_trained_at: meta.trained_at });
  expect(scores.lda_accuracy).toBeGreaterThan(0.6);
});

test('the API answers with the trained model', async () => {
  const api = await serviceUrl(node, NS, 'api');
  const row = fs.readFileSync(path.join(__dirname, '../../../apps/eeg-letters/src/data/eeg-letters.csv'), 'utf8').split('\n')[1].split(',');
  const answer = await request(`${api}/predict`, {
    method: 'POST',
    body: JSON.stringify({ instances: [row.slice(0, 8).map(Number)] }),
    headers: { 'content-type': 'application/json' },
  });
  expect(answer.status).toBe(200);
  const body = JSON.parse(answer.body);
  const meta = JSON.parse(fs.readFileSync(path.join(node.node.dir, 'volumes', NS, 'train-model', 'metadata.json'), 'utf8'));
  expect(body.model.trained_at).toBe(meta.trained_at);
  expect(meta.classes).toContain(body.predictions.lda[0]);
  // eslint-disable-next-line no-console
  console.log(`eeg-letters: POST ${api}/predict one row -> ${answer.status} ${answer.body.slice(0, 200)}`);
});

test('the NetworkPolicies admit exactly what the reachability model says', async () => {
  await expectPoliciesAsModeled(node, dist(), deployed.manifest, 'eeg-letters');
});
