import * as path from 'path';
import { MlApp } from '../../lib';
import { buildReferenceApps } from '../../apps/main';
import { checkOutputDir } from '../_check';
import { synth, tempDir } from '../_util/synth';

describe('reference apps', () => {
  const out = synth(app => buildReferenceApps(app));

  test('every stack writes one manifest file, and each passes the shared check (done by synth)', () => {
    const manifests = [...out.files.keys()].filter(f => f.startsWith('manifests/'));
    expect(manifests).toEqual(expect.arrayContaining(['manifests/ml-model.k8s.yaml']));
  });

  test('the written output directory passes the output-directory check', () => {
    const outdir = path.join(tempDir(), 'dist');
    buildReferenceApps(new MlApp({ outdir })).synth();
    expect(checkOutputDir(outdir)).toEqual([]);
  });

  test('every image a manifest runs and the app builds is in the bake file, with the same tag, and nothing else', () => {
    const bake = JSON.parse(out.files.get('images/docker-bake.json')!);
    const built = Object.values<any>(bake.target).flatMap(t => t.tags);
    const used = new Set(out.objects.flatMap(o => {
      const spec = o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.spec : o.spec?.template?.spec;
      return spec ? [...(spec.initContainers ?? []), ...spec.containers].map((c: any) => c.image) : [];
    }));
    for (const tag of built) expect(used).toContain(tag);
    const dockerfiles = [...out.files.keys()].filter(f => f.endsWith('/Dockerfile')).map(f => f.split('/')[1]).sort();
    expect(Object.keys(bake.target).sort()).toEqual(dockerfiles);
  });

  test.each(['ml-model'])('%s manifests snapshot', stack => {
    expect(out.files.get(`manifests/${stack}.k8s.yaml`)).toMatchSnapshot();
  });
});
