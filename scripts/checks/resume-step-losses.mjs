// A check behind results/README.md ('LeNet-5-Caffe at 1 % starts at chance'): resumes a COPY of one of our run
// directories from its latest checkpoint (optionally on another backend) and prints the loss of every step up to
// <last-step>, or until training stops on a non-finite loss (E_NON_FINITE).
//   npm run build && node scripts/checks/resume-step-losses.mjs <copy-of-run-dir> <last-step> [native|wasm|cpu]
const r = await import('../../packages/runner/dist/index.js');
const [dir, lastStep, backend] = process.argv.slice(2);
const point = await r.loadResumePoint(dir);
const { config } = r.resumeConfig(point.config, {}, (f) => f);
const events = {
  emit: (e) => {
    if (e.type !== 'step') return;
    console.log(e.step, e.loss);
    if (e.step >= Number(lastStep)) process.exit(0);
  },
};
try {
  await r.runExperiment({ config: { ...config, ...(backend ? { backend } : {}) }, outDir: dir, events, resume: point.checkpoint, plugins: [] });
} catch (error) {
  console.log(`stopped: ${error.code ?? ''} ${error.message}`);
}
