import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelImage, ModelSource, TfServingBackend } from '../../lib';
import { dockerfileFacts } from '../../lib/check/dockerfile';
import { synthStack, tempDir } from '../_util/synth';

/** A directory with `files` (relative path -> content). */
function modelDir(files: string[]): string {
  const dir = tempDir('cdk8s-ml-model-');
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), '');
  }
  return dir;
}

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

const serve = (dir: string, version?: number) =>
  synthStack(
    (stack) =>
      new TfServingBackend(stack, 'server', {
        modelName: 'm',
        model: ModelSource.fromImage(ModelImage.fromDirectory(dir, { repository: 'registry.example.com/m', tag: '1', modelName: 'm', version })),
      }),
  );

describe('ModelImage.fromDirectory', () => {
  test('a SavedModel directory is copied to /models/<name>/<version>', () => {
    const dir = modelDir(['saved_model.pb', 'variables/variables.index']);
    const facts = dockerfileFacts(serve(dir).dockerfile('m'));
    expect(facts.instructions.map((i) => `${i.keyword} ${i.args}`)).toContain('COPY . /models/m/1/');
  });

  test('an empty directory (the train script fills it before the build) is accepted', () => {
    expect(() => serve(modelDir([]))).not.toThrow();
  });

  test('a SavedModel with a numeric sub-directory of its own (assets/1 say) is still a SavedModel', () => {
    expect(() => serve(modelDir(['saved_model.pb', '1/saved_model.pb']))).not.toThrow();
  });

  test('a directory of version directories fails naming the version directory to pass instead', () => {
    // tf.saved_model.save(model, 'export/m/1'), then fromDirectory('export/m'): TF Serving would see /models/m/1/2/saved_model.pb.
    const dir = modelDir(['1/saved_model.pb', '1/variables/variables.index', '2/saved_model.pb', '10/notes.txt']);
    const message = errorOf(() => serve(dir));
    expect(message).toContain(
      "TfServingBackend 'test/server': model.image holds version directories (1, 2) with a SavedModel each, but it is copied to " +
        '/models/m/1: the model would be at /models/m/1/2/saved_model.pb, where TF Serving does not look',
    );
    expect(message).toContain(
      `got "${dir}". Fix: pass the SavedModel directory itself and its version: ` +
        `ModelImage.fromDirectory('${path.join(dir, '2')}', { ..., version: 2 })`,
    );
    // The fix works.
    expect(() => serve(path.join(dir, '2'), 2)).not.toThrow();
  });

  test('two image objects for one directory, two versions: the message names both servers, the directory and the difference', () => {
    const dir = modelDir(['saved_model.pb']);
    const image = (version: number) =>
      ModelSource.fromImage(ModelImage.fromDirectory(dir, { repository: 'registry.example.com/m', tag: '1', modelName: 'm', version }));
    const message = errorOf(() =>
      synthStack((stack) => {
        new TfServingBackend(stack, 'a', { modelName: 'm', model: image(1) });
        new TfServingBackend(stack, 'b', { modelName: 'm', model: image(2) });
      }),
    );
    expect(message).toBe(
      `TfServingBackend 'test/b': image clashes with the ModelImage TfServingBackend 'test/a' runs: two different images would be written ` +
        `to images/m, both from the directory ${dir}; they differ in the Dockerfile, "COPY . /models/m/1/" vs "COPY . /models/m/2/", ` +
        'got "registry.example.com/m:1". Fix: make the image once (const image = ModelImage.fromDirectory(...)) and pass that one object ' +
        'to both workloads; for two images, give them repositories whose last path segments differ (or a name option)',
    );
  });
});
