"""Splitting an amount of minor units over weights, exactly: the largest-remainder rule.

Every share is ``amount * weight // total weight`` rounded down; the minor units left over go one
each to the shares with the largest remainders, ties to the earlier share. The shares always add
up to the amount, no share moves by more than one minor unit from its exact value, and the
result depends only on the amount and the weights in their order (docs/payouts.md).
"""

from __future__ import annotations

from collections.abc import Sequence


def split(amount: int, weights: Sequence[int]) -> list[int]:
    """``amount`` over ``weights`` (integers ≥ 0) by largest remainder. Weights all zero split
    evenly; a negative amount is split as its magnitude, each share negated."""
    if not weights:
        if amount:
            raise ValueError(f"cannot split {amount} over no shares")
        return []
    if any(w < 0 for w in weights):
        raise ValueError("weights are never negative")
    if amount < 0:
        return [-share for share in split(-amount, weights)]
    total = sum(weights)
    if total == 0:
        weights = [1] * len(weights)
        total = len(weights)
    shares = [amount * w // total for w in weights]
    remainders = [amount * w % total for w in weights]
    left = amount - sum(shares)
    # Largest remainder first; among equal remainders the earlier share (stable sort).
    for index in sorted(range(len(weights)), key=lambda i: -remainders[i])[:left]:
        shares[index] += 1
    return shares
