"""Pipeline diffing and A/B regression: what changed between two configs, and what it does.

:func:`config_diff` compares two pipeline configs structurally (operators aligned as
sequences); :class:`AB` runs both pipelines on the same samples and reports the
distribution of a per-sample metric, optionally through any :mod:`pipekit.parallel`
executor (the one executor contract, :class:`pipekit.parallel.Executor`; ``Mapper`` is
its old name, kept as an alias).

Example:
    >>> import pipekit as pk
    >>> from pipekit.diff import config_diff
    >>> old = {"_target_": "pipekit.Sequential", "ops": [{"_target_": "a.Clip", "p": 1}]}
    >>> new = {"_target_": "pipekit.Sequential", "ops": [{"_target_": "a.Clip", "p": 2}]}
    >>> print(config_diff(old, new))
    - Clip.p: 1
    + Clip.p: 2
"""

from ._ab import AB as AB, ABReport as ABReport, Mapper as Mapper, is_multimodal as is_multimodal
from ._config import Change as Change, ConfigDiff as ConfigDiff, config_diff as config_diff

__all__ = [
    # config diff
    "Change",
    "ConfigDiff",
    "config_diff",
    # A/B regression
    "AB",
    "ABReport",
    "Mapper",
    "is_multimodal",
]
