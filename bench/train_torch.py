"""PyTorch reference for bench/train.bench.ts: trains the same head (same shapes, dropout, class-weighted
cross-entropy, Adam, batch size, epochs, one validation pass per epoch) on the same cached features, and prints the
wall time as JSON. Usage: train_torch.py <dir> [threads] where <dir>/spec.json describes <dir>/features.f32 and labels."""
import json, os, sys, time

import torch
import torch.nn as nn

d = sys.argv[1]
torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else (os.cpu_count() or 1))
spec = json.load(open(os.path.join(d, 'spec.json')))
n, dim, k, hidden = spec['count'], spec['dim'], spec['classes'], spec['hidden']
x = torch.from_numpy(__import__('numpy').fromfile(os.path.join(d, 'features.f32'), dtype='float32').reshape(n, dim))
y = torch.tensor(spec['labels'], dtype=torch.long)
train, val = torch.tensor(spec['train']), torch.tensor(spec['val'])
torch.manual_seed(0)
if spec['mode'] == 'last':
    head = nn.Sequential(nn.Dropout(0.5), nn.Linear(dim, k))
else:
    head = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(True), nn.Dropout(0.5), nn.Linear(hidden, hidden),
                         nn.ReLU(True), nn.Dropout(0.5), nn.Linear(hidden, k))
counts = torch.bincount(y[train], minlength=k).float()
weights = torch.where(counts > 0, len(train) / ((counts > 0).sum() * counts.clamp(min=1)), torch.zeros(k))
loss_fn = nn.CrossEntropyLoss(weight=weights)
opt = torch.optim.Adam(head.parameters(), lr=spec['lr'], betas=(0.9, 0.999), eps=1e-8)
bs = spec['batch']
start = time.perf_counter()
for epoch in range(spec['epochs']):
    head.train()
    order = train[torch.randperm(len(train))]
    for i in range(0, len(order), bs):
        idx = order[i:i + bs]
        opt.zero_grad()
        loss = loss_fn(head(x[idx]), y[idx])
        loss.backward()
        opt.step()
        loss.item()
    head.eval()
    with torch.no_grad():
        for i in range(0, len(val), 256):
            idx = val[i:i + 256]
            loss_fn(head(x[idx]), y[idx]).item()
print(json.dumps({'ms': (time.perf_counter() - start) * 1000, 'threads': torch.get_num_threads(),
                  'torch': torch.__version__}))
