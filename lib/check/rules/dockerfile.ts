/** Family of the image build files, checked by ../dockerfile.ts (checkDockerfile, checkDockerignore). */
import { CheckRule } from './rule';

export const DOCKERFILE_RULES: readonly CheckRule[] = [
  {
    id: 'dockerfile-utils',
    summary: 'Dockerfile syntax (dockerfile-utils errors and warnings)',
    fix: 'correct the instruction the message names',
  },
  {
    id: 'base-image-arg',
    summary: 'FROM is a build ARG with a pinned default, so mirrors can override it',
    fix: 'declare ARG BASE_IMAGE=<image:tag> before FROM and use FROM ${BASE_IMAGE}',
  },
  { id: 'user', summary: 'the image runs as a numeric non-root USER', fix: 'end the Dockerfile with USER <uid>, a number other than 0' },
  { id: 'add-url', summary: 'no ADD of a URL (an unverified download)', fix: 'download in a RUN step that verifies a checksum, or COPY the file' },
  {
    id: 'copy-secret',
    summary: 'no COPY/ADD of keys, certificates or .env files',
    fix: 'mount secrets at run time (or a BuildKit secret at build time)',
  },
  {
    id: 'reserved-stage-name',
    summary: 'no build stage named context or scratch, which BuildKit reserves (ReservedStageName)',
    fix: 'rename the build stage',
  },
  {
    id: 'dockerignore',
    summary: '.dockerignore keeps .git, .env, keys, __pycache__ and virtualenvs out of the build context',
    fix: 'add the missing patterns to the Dockerfile.dockerignore',
  },
];
