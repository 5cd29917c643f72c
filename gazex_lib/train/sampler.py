"""The data order of the training loop: a per-epoch permutation that is a pure function of
(seed, epoch)."""
from __future__ import annotations


class EpochSampler:
    """Indices ``0..n-1``, shuffled per epoch by ``torch.Generator().manual_seed(seed + epoch)``
    (or in order with ``shuffle=False``). ``set_epoch`` selects the epoch; accelerate calls it
    too. No ``generator`` attribute, on purpose: accelerate has nothing to synchronise."""

    def __init__(self, n: int, seed: int = 0, shuffle: bool = True):
        self.n, self.seed, self.shuffle, self.epoch = int(n), int(seed), shuffle, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def order(self, epoch: int | None = None) -> list[int]:
        import torch

        epoch = self.epoch if epoch is None else epoch
        if not self.shuffle:
            return list(range(self.n))
        g = torch.Generator().manual_seed(self.seed + epoch)
        return torch.randperm(self.n, generator=g).tolist()

    def __iter__(self):
        return iter(self.order())

    def __len__(self) -> int:
        return self.n
