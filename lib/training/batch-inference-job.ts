import { Construct } from 'constructs';
import { fail } from '../_errors';
import { checkAbsolutePath, checkBrand, checkChildId, checkObject, keysOf } from '../_validate';
import { checkName } from '../_names';
import { ModelMount, ModelSource } from '../model/model-source';
import { IWorkload, WorkloadNetwork } from '../policy/_network';
import { composeModelDir } from '../workload/_compose-parts';
import { defaultName, MlStack } from '../stack/ml-stack';
import { checkJobWorkloadProps, JOB_KEYS, JobCore, JobSpecInput, JobWorkloadProps } from './_job';
import { BoundOutput, ModelOutput } from './model-output';

export interface BatchInferenceJobProps extends JobWorkloadProps {
  /** The model, mounted read-only at modelPath (MODEL_DIR); e.g. ModelSource.fromTrainingJob(train). */
  readonly model: ModelSource;
  /** Where the model is mounted. @default '/models' */
  readonly modelPath?: string;
  /**
   * Where predictions go: a claim the job creates or an existing one, mounted read-write at
   * outputDir (OUTPUT_DIR).
   * @default - no output volume (the code prints or uploads its results)
   */
  readonly output?: ModelOutput;
  /** Where the output claim is mounted. @default '/output' */
  readonly outputDir?: string;
}

const BATCH_JOB_KEYS = keysOf<BatchInferenceJobProps>()([...JOB_KEYS, 'model', 'modelPath', 'output', 'outputDir']);

/**
 * Scores a dataset with a model: a Job (or CronJob with `schedule`) that reads a ModelSource and
 * its inputs and writes predictions to an output volume. Shares the job machinery of TrainingJob.
 */
export class BatchInferenceJob extends Construct implements IWorkload {
  public readonly workloadName: string;
  public readonly namespaceName: string;
  public readonly podSelector: Record<string, string>;
  /** Name of the output claim, when there is one. */
  public readonly outputClaimName?: string;
  /** @internal */
  public readonly _network: WorkloadNetwork;
  /** @internal */
  public readonly _core: JobCore;

  constructor(scope: Construct, id: string, props: BatchInferenceJobProps) {
    super(scope, checkChildId(scope, id, 'BatchInferenceJob'));
    const example = "{ image: 'registry.example.com/score:1.0.0', model: ModelSource.fromTrainingJob(train) }";
    checkObject(this, 'props', props, example, BATCH_JOB_KEYS);
    const image = checkJobWorkloadProps(this, props);
    const name = checkName(this, 'name', props.name ?? defaultName(this), 52);
    const paths = this.checkBatchProps(props);
    const model = props.model._bind(this, paths.modelPath);
    const { labels } = MlStack.of(this)._workloadLabels(name, 'batch-inference');
    const output: BoundOutput | undefined = props.output?._bind(this, 'output', `${name}-output`, labels);
    this._core = new JobCore(name, this.jobSpec(props, image, name, paths, model, output));
    this.workloadName = name;
    this.namespaceName = this._core.namespaceName;
    this.podSelector = this._core.podSelector;
    this._network = this._core._network;
    this.outputClaimName = output?.claimName;
  }

  /** The model, the output, and their two directories (apart: the model is read-only). */
  private checkBatchProps(props: BatchInferenceJobProps): { modelPath: string; outputDir: string } {
    if (!ModelSource.isModelSource(props.model)) {
      fail(
        this,
        'model',
        'must be a ModelSource',
        props.model,
        'use ModelSource.fromTrainingJob(job), fromUri(...), fromVolume(...) or fromImage(...)',
      );
    }
    const modelPath = checkAbsolutePath(this, 'modelPath', props.modelPath ?? '/models', { example: '/models', reserved: ['/tmp'] });
    const outputDir = checkAbsolutePath(this, 'outputDir', props.outputDir ?? '/output', { example: '/output', reserved: ['/tmp'] });
    if (props.output !== undefined) {
      checkBrand(
        this,
        'output',
        props.output,
        ModelOutput.isModelOutput,
        'made with ModelOutput.newClaim() or ModelOutput.existingClaim()',
        "ModelOutput.newClaim({ size: '1Gi' })",
      );
    }
    if (props.output && (outputDir === modelPath || outputDir.startsWith(`${modelPath}/`) || modelPath.startsWith(`${outputDir}/`))) {
      fail(this, 'outputDir', `must not overlap modelPath (${modelPath}): the model is read-only`, outputDir, "use e.g. '/output'");
    }
    return { modelPath, outputDir };
  }

  /** MODEL_DIR (read-only) and OUTPUT_DIR (read-write); locally both are directories under MODELS_DIR. */
  private jobSpec(
    props: BatchInferenceJobProps,
    image: JobSpecInput['image'],
    name: string,
    { modelPath, outputDir }: { modelPath: string; outputDir: string },
    model: ModelMount,
    output: BoundOutput | undefined,
  ): JobSpecInput {
    return {
      owner: this,
      component: 'batch-inference',
      props,
      image,
      containerName: 'inference',
      env: [{ name: 'MODEL_DIR', value: modelPath }, ...(output ? [{ name: 'OUTPUT_DIR', value: outputDir }] : [])],
      volumes: [...model.volumes, ...(output ? [{ name: 'output', persistentVolumeClaim: { claimName: output.claimName } }] : [])],
      volumeMounts: [
        ...model.volumeMounts,
        ...(output ? [{ name: 'output', mountPath: outputDir, ...(output.subPath ? { subPath: output.subPath } : {}) }] : []),
      ],
      initContainers: model.initContainers,
      needsObjectStorage: model.needsObjectStorage,
      storageEndpoints: model.storageEndpoints,
      // Files the trainer wrote belong to its group: read them as that group.
      fsGroup: model.fsGroup,
      compose: {
        volumes: [
          // A model baked into the image needs no mount; any other is a directory under MODELS_DIR.
          ...(props.model.image ? [] : [{ source: composeModelDir(props.model._composeDir(name)), target: modelPath }]),
          ...(output
            ? [
                {
                  source: composeModelDir(output.subPath ? `${output.claimName}/${output.subPath}` : output.claimName),
                  target: outputDir,
                  readOnly: false,
                },
              ]
            : []),
        ],
      },
    };
  }
}
