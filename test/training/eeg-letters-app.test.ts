import * as fs from 'node:fs';
import { eegLetters } from '../../apps/eeg-letters/main';
import { DATA_FILE, generateEegLetters } from '../../apps/eeg-letters/generate-data';
import * as path from 'node:path';
import { MlApp } from '../../lib';
import { checkOutput, intendedConnections, isConnectionAllowed } from '../../lib/check';
import { podSpec, synth, tempDir } from '../_util/synth';

describe('apps/eeg-letters', () => {
  const out = synth((app) => eegLetters(app));

  test('a training Job, a batch Job and the API share one image and one claim; no credential anywhere', () => {
    const train = out.find('Job', 'train');
    const batch = out.find('Job', 'batch-inference');
    const api = out.find('Deployment', 'api');
    const images = [train, batch, api].map((o) => podSpec(o).containers[0].image);
    expect(new Set(images)).toEqual(new Set(['registry.example.com/eeg-letters:1.0.0']));
    const claimOf = (o: any) => podSpec(o).volumes.find((v: any) => v.name === 'model').persistentVolumeClaim;
    expect(claimOf(train)).toEqual({ claimName: 'train-model' });
    expect(claimOf(batch)).toEqual({ claimName: 'train-model', readOnly: true });
    expect(claimOf(api)).toEqual({ claimName: 'train-model', readOnly: true });
    expect(out.find('PersistentVolumeClaim', 'train-model').spec.accessModes).toEqual(['ReadWriteMany']);
    expect(api.spec.replicas).toBe(2);
    expect(podSpec(train).containers[0].command).toEqual(['python', 'train.py']);
    expect(podSpec(batch).containers[0].command).toEqual(['python', 'inference.py']);
    // The classic copied a private key into the image and moved models over SSH. The image is the
    // Dockerfile's last stage; the first one deletes keys (its list names id_rsa and .ssh).
    const dockerfile = out.dockerfile('eeg-letters');
    const text = out.files.get('manifests/eeg-letters.k8s.yaml')! + dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(text).not.toMatch(/id_rsa|ssh|:latest/i);
    expect(out.dockerfile('eeg-letters')).toMatch(/^ARG PYTHON_IMAGE=python:3\.12\.8-slim-bookworm$/m);
    expect(out.files.get('images/eeg-letters/Dockerfile.dockerignore')).toContain('**/id_rsa*');
  });

  test('the API is reachable: its Ingress is an intended path into it, and the NetworkPolicies allow it', () => {
    const ingress = out.find('Ingress', 'api');
    expect(ingress.spec.rules[0].host).toBe('eeg-letters.example.com');
    const into = intendedConnections(out.objects).filter((c) => c.to === 'Deployment/eeg-letters/api');
    expect(into.map((c) => `${c.declaredBy}: ${c.from} -> ${c.to}:${c.port}`)).toEqual([
      'Ingress/eeg-letters/api: probe:ingress-nginx -> Deployment/eeg-letters/api:8080',
    ]);
    for (const c of into) expect(isConnectionAllowed(out.objects, c.from, c.to, c.port)).toBe(true);
  });

  test('the shipped training data is what the committed generator writes (deterministic, nothing downloaded)', () => {
    const csv = generateEegLetters();
    expect(fs.readFileSync(DATA_FILE, 'utf8')).toBe(csv);
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe('fp1,fp2,c3,c4,p3,p4,o1,o2,letter');
    expect(lines).toHaveLength(301);
  });

  test('the written output directory passes the output-directory check', () => {
    const outdir = path.join(tempDir(), 'dist');
    const app = new MlApp({ outdir });
    eegLetters(app);
    app.synth();
    expect(checkOutput(outdir)).toEqual([]);
  });

  test('manifests snapshot', () => {
    expect(out.files.get('manifests/eeg-letters.k8s.yaml')).toMatchSnapshot();
  });
});
