"""Explanations of a plan.

Why a citizen got their unit or not (:mod:`~optimizer.explain.citizen`), on an
instance and plan compiled once (:mod:`~optimizer.explain.context`), and the
smallest change that would house them (:mod:`~optimizer.explain.counterfactual`).
"""
