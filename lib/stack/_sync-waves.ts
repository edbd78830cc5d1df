import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';

/** The Argo CD annotation that orders a sync: lower waves are applied (and healthy) first. */
export const SYNC_WAVE_ANNOTATION = 'argocd.argoproj.io/sync-wave';

const PRODUCERS = Symbol.for('cdk8s-ml.SyncWaveProducers');

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
  let producers: Set<IConstruct> | undefined = (reader as any)[PRODUCERS];
  if (!producers) {
    producers = new Set();
    Object.defineProperty(reader, PRODUCERS, { value: producers });
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
  const producers: Set<IConstruct> | undefined = (c as any)[PRODUCERS];
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
