import { ApiObject, App, Chart, DependencyGraph } from 'cdk8s';
import { IConstruct } from 'constructs';
import { beginSynthMemo, endSynthMemo } from '../stack/_scoped';

/**
 * What `chart.toJson()` does before it renders (cdk8s 2.x `App._synthChart`: resolve the app's
 * dependencies, then validate the whole app), written with cdk8s's public API so that MlApp can
 * render a chart's objects one at a time, each turned into YAML before the next is rendered, instead
 * of holding every object of a large stack as JSON at once (`npm run bench`: 10,000 services are
 * 80,000 objects, ~170 MB of JSON). Done once per synth; cdk8s does it again for every chart.
 * The order of objects is cdk8s's (chartObjects); a test holds the output equal to chart.toJson()'s.
 * @internal
 */
export function prepareSynth(app: App): void {
  const cache = new Map<IConstruct, IConstruct[]>();
  const findAll = (c: IConstruct): IConstruct[] => {
    let all = cache.get(c);
    if (!all) cache.set(c, (all = c.node.findAll()));
    return all;
  };
  resolveDependencies(app, findAll);
  validate(app, findAll);
  beginSynthMemo(app);
}

/** Ends what prepareSynth began: values perSynth computed are forgotten (the app may change before the next synth). @internal */
export function endSynth(app: App): void {
  endSynthMemo(app);
}

/**
 * `app.charts`: the charts in dependency order. Without a single dependency in the app, cdk8s's
 * DependencyGraph (a vertex and two Sets per construct of the app: ~55 MB at 10,000 services) makes
 * every construct a root of its own, in the order of an object keyed by path, which is findAll's
 * (children are kept in an object keyed by id too: ids that are array indices first, in both).
 * @internal
 */
export function appCharts(app: App): Chart[] {
  const all = app.node.findAll();
  return all.some((c) => c.node.dependencies.length > 0) ? app.charts : all.filter(Chart.isChart);
}

/** The ApiObjects `chart.toJson()` renders, in its order: dependencies first, each object in its closest chart only. @internal */
export function chartObjects(chart: Chart): ApiObject[] {
  const all = chart.node.findAll();
  // Without a single dependency, cdk8s's DependencyGraph orders the objects as findAll does (appCharts).
  const ordered = all.some((c) => c.node.dependencies.length > 0) ? new DependencyGraph(chart.node).topology() : all;
  return ordered.filter((c): c is ApiObject => ApiObject.isApiObject(c)).filter((o) => Chart.of(o) === chart);
}

type FindAll = (c: IConstruct) => IConstruct[];

function buildDependencies(app: App, findAll: FindAll): Array<{ source: IConstruct; target: IConstruct }> {
  const deps: Array<{ source: IConstruct; target: IConstruct }> = [];
  for (const source of findAll(app)) for (const target of source.node.dependencies) deps.push({ source, target });
  return deps;
}

/** cdk8s's resolveDependencies: nested and implicit chart dependencies, then object-level ones. */
function resolveDependencies(app: App, findAll: FindAll): void {
  for (const parent of findAll(app).filter(Chart.isChart)) {
    for (const child of parent.node.children.filter(Chart.isChart)) parent.node.addDependency(child);
  }
  for (const { source, target } of buildDependencies(app, findAll)) {
    const [sourceChart, targetChart] = [Chart.of(source), Chart.of(target)];
    if (sourceChart !== targetChart) sourceChart.node.addDependency(targetChart);
  }
  // Read again: the chart dependencies just added make every object of one chart depend on every object of the other.
  for (const { source, target } of buildDependencies(app, findAll)) {
    const [sourceChart, targetChart] = [Chart.of(source), Chart.of(target)];
    const targets = findAll(target)
      .filter(ApiObject.isApiObject)
      .filter((x) => Chart.of(x) === targetChart);
    const sources = findAll(source)
      .filter(ApiObject.isApiObject)
      .filter((x) => Chart.of(x) === sourceChart);
    for (const t of targets) for (const s of sources) if (t !== s) s.node.addDependency(t);
  }
}

/** cdk8s's validate, with its message. */
function validate(app: App, findAll: FindAll): void {
  const errors: string[] = [];
  for (const child of findAll(app)) for (const error of child.node.validate()) errors.push(`[${child.node.path}] ${error}`);
  if (errors.length > 0) throw new Error(`Validation failed with the following errors:\n  ${errors.join('\n  ')}`);
}
