#!/usr/bin/python3
"""PyTorch reference for bench/vision.bench.ts: torchvision's VGG on the same images and weights, CPU, eval mode,
no_grad, PIL decode + torchvision's eval transform included in the timing. Prints one JSON line.

usage: vision_torch.py ARCH WEIGHTS.safetensors IMAGE_LIST BATCH THREADS
"""
import json
import struct
import sys
import time

import numpy as np
import torch
import torchvision
from PIL import Image
from torchvision import transforms


def read_safetensors(path):
    """F32 only (what the benchmark writes); the `safetensors` package is not a Debian package."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        base = 8 + length
        tensors = {}
        for name, entry in header.items():
            if name == "__metadata__":
                continue
            begin, end = entry["data_offsets"]
            f.seek(base + begin)
            data = np.frombuffer(f.read(end - begin), dtype="<f4").reshape(entry["shape"])
            tensors[name] = torch.from_numpy(data.copy())
    return tensors


def main():
    arch, weights, image_list, batch, threads = sys.argv[1:6]
    batch, threads = int(batch), int(threads)
    torch.set_num_threads(threads)
    model = getattr(torchvision.models, arch)(weights=None)
    model.load_state_dict(read_safetensors(weights), strict=False)
    model.eval()
    transform = transforms.Compose(
        [
            transforms.Resize(256),
            transforms.CenterCrop(224),
            transforms.ToTensor(),
            transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
        ]
    )
    files = open(image_list).read().split("\n")
    files = [f for f in files if f]

    def run(paths):
        for i in range(0, len(paths), batch):
            x = torch.stack([transform(Image.open(p).convert("RGB")) for p in paths[i : i + batch]])
            with torch.no_grad():
                model(x)

    run(files[:batch])  # warm-up
    start = time.perf_counter()
    run(files)
    elapsed = time.perf_counter() - start
    print(json.dumps({"images": len(files), "seconds": elapsed, "threads": threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
