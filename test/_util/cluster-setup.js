// jest globalSetup: marks this jest run, so that a local cluster a test file starts (test/_util/kube.ts)
// is stopped by the global teardown of the same run, and a cluster started by hand is left alone.
module.exports = async () => {
  process.env.CDK8S_ML_JEST_RUN = `${process.pid}-${Date.now()}`;
};
