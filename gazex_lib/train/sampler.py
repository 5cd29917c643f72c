"""The data order of the training loop: a per-epoch permutation that is a pure function of
(seed, epoch)."""
from __future__ import annotations


class EpochSampler:
    """Indices ``0..n-1``, shuffled per epoch by ``torch.Generator().manual_seed(seed + epoch)``
    (or in order with ``shuffle=False``): the order in which :func:`~gazex_lib.train.train`
    visits its records (global batches of ``batch_size × num_processes`` consecutive indices).

    The loop itself no longer uses this class: it builds its loader with ``shuffle=`` and
    lets accelerate replace the ``RandomSampler`` by its ``SeedableRandomSampler``
    (``use_seedable_sampler=True, data_seed=seed``), which re-seeds its generator with
    ``seed + epoch`` each epoch and draws the same ``torch.randperm``; the switch left the
    seeded losses and weights bit for bit identical, exact resume included. This class stays
    as the plain-Python statement of that order, to predict which records a step saw (the
    tests check the loop against it). ``set_epoch`` selects the epoch."""

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
