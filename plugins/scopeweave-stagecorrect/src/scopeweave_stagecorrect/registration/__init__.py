"""Tile registration: phase correlation around priors, global least squares, optional m2stitch."""

from scopeweave_stagecorrect.registration.pairwise import PairShift, register_pair
from scopeweave_stagecorrect.registration.register import PairRecord, Registration, find_pairs, register_tiles
from scopeweave_stagecorrect.registration.solve import Link, Solution, solve_positions

__all__ = [
    "Link",
    "PairRecord",
    "PairShift",
    "Registration",
    "Solution",
    "find_pairs",
    "register_pair",
    "register_tiles",
    "solve_positions",
]
