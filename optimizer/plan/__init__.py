"""The plan of a solve.

Built by :mod:`~optimizer.plan.build`; its use of every cap is counted in
:mod:`~optimizer.plan.usage`, and why each unhoused citizen is not housed is
worked out in :mod:`~optimizer.plan.reasons`.
"""
