/**
 * Reviewing a change: `diffOutputs(base, head)` compares two synthesized outputs stack by stack
 * (objects, workloads and their resource totals, network, hazards, diagrams); the renderers print it
 * for a terminal, a pull-request comment or a program. What `cdk8s-ml diff` runs.
 */
import { readOutputDir } from '../check/files';
import { diffOutputs, type OutputDiff } from './diff';

export { diffOutputs } from './diff';
export type { ObjectChange, OutputDiff, StackDiff, StackNetworkDiff } from './diff';
export type { FieldChange } from './_fields';
export { HAZARD_RULES } from './hazards';
export type { ChangedObjects, Hazard, HazardId, HazardRule } from './hazards';
export type { ConnectionChange } from './network';
export type { ContainerSummary, ResourceAmounts, ScaleTotals, WorkloadChange, WorkloadSummary } from './workloads';
export { MARKDOWN_MARKER, renderDiffJson, renderDiffMarkdown, renderDiffText } from './render';

/** `diffOutputs` of two output directories on disk (as MlApp writes them). */
export function diffOutputDirs(baseDir: string, headDir: string): OutputDiff {
  return diffOutputs(readOutputDir(baseDir), readOutputDir(headDir));
}
