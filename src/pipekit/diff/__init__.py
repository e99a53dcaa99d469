"""Pipeline diffing and A/B regression: what changed between two configs, and what it does.

:func:`config_diff` compares two pipeline configs structurally (operators aligned as
sequences); :class:`AB` runs both pipelines on the same samples (loading those that
``load()`` themselves, such as the rows of ``catalog.sample(100)``) and reports the
distribution of a per-sample metric (quantiles, histogram, a PNG of it), optionally
through any :mod:`pipekit.parallel` executor (the one executor contract,
:class:`pipekit.parallel.Executor`; ``Mapper`` is its old name, kept as an alias).

Example:
    >>> import pipekit as pk
    >>> from pipekit.diff import config_diff
    >>> old = {"_target_": "pipekit.Sequential", "ops": [{"_target_": "a.Clip", "p": 1}]}
    >>> new = {"_target_": "pipekit.Sequential", "ops": [{"_target_": "a.Clip", "p": 2}]}
    >>> print(config_diff(old, new))
    - Clip.p: 1
    + Clip.p: 2
"""

from ._ab import AB as AB, Loadable as Loadable, Mapper as Mapper, load_sample as load_sample
from ._config import Change as Change, ConfigDiff as ConfigDiff, config_diff as config_diff
from ._report import (
    ABReport as ABReport,
    count_clusters as count_clusters,
    is_multimodal as is_multimodal,
)

__all__ = [
    # config diff
    "Change",
    "ConfigDiff",
    "config_diff",
    # A/B regression
    "AB",
    "ABReport",
    "Loadable",
    "Mapper",
    "count_clusters",
    "is_multimodal",
    "load_sample",
]
