/** The runner's version, printed by `sparse-learning --version` and in run headers. */
export const RUNNER_VERSION = '0.1.0';
