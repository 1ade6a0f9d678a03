"""Reference values for binary cross-entropy after a saturated sigmoid (issue 13).

A model `input x: 1 -> dense 1 -> sigmoid` with weight 1 and bias 0 turns each input into its own
logit; PyTorch's binary_cross_entropy_with_logits (float64) gives the loss and the gradients of the
weight and bias. Run with /usr/bin/python3; writes test/fixtures/bce/saturated.json.
"""
import json
import os

import torch

logits = [20.0, -20.0, 0.5, 30.0, -3.0, 0.0, 16.0, -40.0]
targets = [1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.3, 1.0]

x = torch.tensor(logits, dtype=torch.float64).reshape(-1, 1)
t = torch.tensor(targets, dtype=torch.float64).reshape(-1, 1)
w = torch.ones(1, 1, dtype=torch.float64, requires_grad=True)
b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
z = torch.nn.functional.linear(x, w, b)
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, t)
loss.backward()
per_example = torch.nn.functional.binary_cross_entropy_with_logits(z, t, reduction="none").reshape(-1)

out = {
    "torch": torch.__version__,
    "logits": logits,
    "targets": targets,
    "loss": loss.item(),
    "perExample": per_example.tolist(),
    "gradWeight": w.grad.reshape(-1).tolist(),
    "gradBias": b.grad.reshape(-1).tolist(),
}
path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "bce", "saturated.json")
with open(path, "w") as f:
    json.dump(out, f, indent=2)
    f.write("\n")
print(json.dumps(out))
