import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import { appKey, appScoped, appScopedIfAny } from './_scoped';

/** The Argo CD annotation that orders a sync: lower waves are applied (and healthy) first. */
export const SYNC_WAVE_ANNOTATION = 'argocd.argoproj.io/sync-wave';

/** Per app: reader -> the constructs whose output it reads. */
const PRODUCERS = appKey<WeakMap<IConstruct, Set<IConstruct>>>('syncWaveProducers');

/**
 * `reader` reads what `producer` writes (ModelSource.fromTrainingJob): Argo CD applies the reader's
 * objects in a later sync wave, so on a first sync the trainer (its Job and claim) runs before the
 * servers and batch jobs that mount its model, and on a sync that changes the trainer, the readers
 * are rolled once it has finished (Argo CD waits for a wave to be healthy; a Job is healthy when
 * complete). Waves come from the wiring, not from a number the user keeps in step: the producer's
 * wave + 1, after all of its producers. Objects without the annotation are in wave 0.
 * @internal
 */
export function syncAfter(reader: IConstruct, producer: IConstruct): void {
  const byReader = appScoped(reader, PRODUCERS, () => new WeakMap<IConstruct, Set<IConstruct>>());
  let producers = byReader.get(reader);
  if (!producers) {
    producers = new Set();
    byReader.set(reader, producers);
    // Annotate at synth, when every object of the reader exists (Chart.toJson validates first).
    reader.node.addValidation({
      validate: () => {
        annotate(reader);
        return [];
      },
    });
  }
  producers.add(producer);
}

/** 0 for a construct that reads no producer, else one more than the latest of its producers. */
export function syncWaveOf(c: IConstruct, visiting: Set<IConstruct> = new Set()): number {
  const producers = appScopedIfAny(c, PRODUCERS)?.get(c);
  if (!producers || visiting.has(c)) return 0;
  visiting.add(c);
  const wave = 1 + Math.max(...[...producers].map((p) => syncWaveOf(p, visiting)));
  visiting.delete(c);
  return wave;
}

function annotate(reader: IConstruct): void {
  const wave = String(syncWaveOf(reader));
  for (const c of reader.node.findAll()) {
    if (ApiObject.isApiObject(c)) c.metadata.addAnnotation(SYNC_WAVE_ANNOTATION, wave);
  }
}
