"""The anvis domain model: instances, their validation, pools and file formats."""

from models.instance import Instance, Scores
from models.io import load, read_plan, save, write_plan
from models.plan import Plan
from models.pools import Pool, default_pool_id, pool_cap, pools, unit_pools
from models.schema import AREAS, FORMAT, KINDS
from models.validate import InstanceError, Problem, format_problems, from_dict, with_terms

__all__ = [
    "AREAS",
    "FORMAT",
    "KINDS",
    "Instance",
    "InstanceError",
    "Plan",
    "Pool",
    "Problem",
    "Scores",
    "default_pool_id",
    "format_problems",
    "from_dict",
    "load",
    "pool_cap",
    "pools",
    "read_plan",
    "save",
    "unit_pools",
    "with_terms",
    "write_plan",
]
